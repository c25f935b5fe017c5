"""Features that repeat others: exact linear dependencies and near-duplicates (|r| >= 0.95).

Kept, they count twice: on the user's coupon workbook `transactions` is exactly the sum of the
burned and subscribed counts, so activity volume weighed several times what anything else did.
By default one feature of each group is kept (the first, in the table's order); the user can
keep any other by choosing its role."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from segscope.core.sampling import row_sample
from segscope.core.text import names

CLOSE = 0.95  # |correlation| from which two features carry the same information
EXACT = 1e-9  # unexplained variance under this: an exact linear combination
SAMPLE_ROWS = 20_000  # the check runs on at most this many rows


def redundant_features(
    numbers: pd.DataFrame,
    keep: Collection[str] = (),
    prefer: Collection[str] = (),
    seed: int = 0,
) -> dict[str, str]:
    """Numeric features that repeat others, each with the reason (column -> reason).

    Columns in `keep` are never left out (they still count as kept for the others); columns in
    `prefer` (those the words rest on: spend, recency, ...) are kept before the rest, which are
    taken in the table's order.
    """
    if len(numbers) > SAMPLE_ROWS:
        numbers = numbers.iloc[row_sample(len(numbers), SAMPLE_ROWS, seed)]
    z = _standardised(numbers)
    order = [c for c in z.columns if c in keep or c in prefer]
    order += [c for c in z.columns if c not in order]
    kept: list[str] = []
    out: dict[str, str] = {}
    for col in order:
        if col not in keep and kept:
            reason = _repeats(z[col].to_numpy(), z[kept])
            if reason:
                out[col] = reason
                continue
        kept.append(col)
    return out


def _standardised(numbers: pd.DataFrame) -> pd.DataFrame:
    x = numbers.astype("float64").replace([np.inf, -np.inf], np.nan)
    x = x.fillna(x.median())
    sd = x.std(ddof=0)
    varying = sd[sd > 0].index
    return (x[varying] - x[varying].mean()) / sd[varying]


def _repeats(z: np.ndarray, kept: pd.DataFrame) -> str:
    """Why `z` repeats the kept columns, or '' when it does not."""
    r = kept.to_numpy().T @ z / len(z)
    closest = int(np.argmax(np.abs(r)))
    if abs(r[closest]) >= CLOSE:
        return (
            f"repeats {kept.columns[closest]} (correlation {r[closest]:+.2f}): left out so the "
            "same information does not count twice"
        )
    coef, *_ = np.linalg.lstsq(kept.to_numpy(), z, rcond=None)
    unexplained = float(np.mean((z - kept.to_numpy() @ coef) ** 2))
    if unexplained < EXACT:
        parts = [c for c, w in zip(kept.columns, coef, strict=True) if abs(w) > 1e-6]
        return (
            f"an exact combination of {names(parts, 3, 30)}: left out so the same information "
            "does not count twice"
        )
    return ""
