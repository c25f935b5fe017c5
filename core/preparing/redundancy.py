"""Features that repeat others: exact linear dependencies and near-duplicates (|r| >= 0.95).

Kept, they count twice: on the user's coupon workbook `transactions` is exactly the sum of the
burned and subscribed counts, so activity volume weighed several times what anything else did.
By default one feature of each group is kept (the first, in the table's order); the user can
keep any other by choosing its role."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from segscope.core.limits import MAX_FEATURES
from segscope.core.sampling import row_sample
from segscope.core.text import names

CLOSE = 0.95  # |correlation| from which two features carry the same information
EXACT = 1e-9  # unexplained variance under this: an exact linear combination
SAMPLE_ROWS = 20_000  # the check runs on at most this many rows
CHECKED = MAX_FEATURES  # features checked at most (those the words rest on first, then in order)
WORK = 2_000_000_000  # multiply-adds at most: sampled rows x checked features^2 (a few seconds)
MIN_ROWS = 2_000  # rows the check keeps however many features it checks


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

    Its cost is bounded by construction, whatever the table within the input limits: at most
    CHECKED features are checked (core.limits.MAX_FEATURES: no more are segmented on), on at
    most SAMPLE_ROWS rows, fewer when many features are checked (rows x checked^2 <= WORK, at
    least MIN_ROWS rows). Each feature
    is compared with the kept ones through an orthonormal basis of them, grown one feature at a
    time: rows x kept work per feature, not a least-squares fit against all of them.
    """
    order = [c for c in numbers.columns if c in keep or c in prefer]
    order += [c for c in numbers.columns if c not in order]
    order = order[:CHECKED]
    rows = min(SAMPLE_ROWS, max(MIN_ROWS, WORK // max(1, len(order)) ** 2))
    if len(numbers) > rows:
        numbers = numbers.iloc[row_sample(len(numbers), rows, seed)]
    z = _standardised(numbers[order])
    order = [c for c in order if c in z.columns]
    values = z[order].to_numpy()
    m = len(values)
    kept = np.empty((m, len(order)))  # the kept features' values, in their order
    width = min(m, len(order))
    basis = np.empty((m, width))  # an orthonormal basis of the kept features (Q) ...
    tri = np.zeros((width, width))  # ... and R: the features that made it are basis @ R
    kept_names: list[str] = []
    spanning: list[str] = []  # the kept features that made the basis, in its order
    rank = 0
    out: dict[str, str] = {}
    for j, col in enumerate(order):
        v = values[:, j]
        k = len(kept_names)
        residual = _residual(v, basis[:, :rank])
        if col not in keep and k:
            reason = _repeats(v, residual, kept[:, :k], kept_names)
            if not reason and float(np.mean(residual**2)) < EXACT:
                reason = _combination(v, basis[:, :rank], tri[:rank, :rank], spanning)
            if reason:
                out[col] = reason
                continue
        kept[:, k] = v
        kept_names.append(col)
        norm = float(np.linalg.norm(residual))
        if rank < width and norm > 1e-6 * np.sqrt(m):
            tri[:rank, rank] = basis[:, :rank].T @ v
            tri[rank, rank] = norm
            basis[:, rank] = residual / norm
            spanning.append(col)
            rank += 1
    return out


def _residual(v: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """What of `v` the basis does not explain (projected out twice: numerically orthogonal)."""
    if basis.shape[1] == 0:
        return v.copy()
    residual = v - basis @ (basis.T @ v)
    return residual - basis @ (basis.T @ residual)


def _standardised(numbers: pd.DataFrame) -> pd.DataFrame:
    x = numbers.astype("float64").replace([np.inf, -np.inf], np.nan)
    x = x.fillna(x.median())
    sd = x.std(ddof=0)
    varying = sd[sd > 0].index
    return (x[varying] - x[varying].mean()) / sd[varying]


def _repeats(z: np.ndarray, residual: np.ndarray, kept: np.ndarray, names_: list[str]) -> str:
    """Why `z` repeats one kept column closely, or '' when it does not."""
    r = kept.T @ z / len(z)
    closest = int(np.argmax(np.abs(r)))
    if abs(r[closest]) >= CLOSE:
        return (
            f"repeats {names_[closest]} (correlation {r[closest]:+.2f}): left out so the "
            "same information does not count twice"
        )
    return ""


def _combination(z: np.ndarray, basis: np.ndarray, tri: np.ndarray, spanning: list[str]) -> str:
    """`z`, which the kept columns explain whole: of which of them it is a combination (its
    coefficients from R, a triangular solve)."""
    from scipy.linalg import solve_triangular

    coef = solve_triangular(tri, basis.T @ z)
    parts = [c for c, w in zip(spanning, coef, strict=True) if abs(w) > 1e-6]
    return (
        f"an exact combination of {names(parts, 3, 30)}: left out so the same information "
        "does not count twice"
    )
