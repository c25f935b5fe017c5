"""Comparing segmentations: two k of one sweep, or a new run against a saved model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segscope.core.errors import DataError
from segscope.core.model import SegmentModel
from segscope.core.preprocess import transform, typed_features
from segscope.core.segments import inverse_order, size_order
from segscope.core.sweep import KResult


def numbered(result: KResult) -> np.ndarray:
    """A sweep result's labels as segment numbers 1..k, largest first."""
    return inverse_order(size_order(result.sizes))[result.labels] + 1


def results_for(results: list[KResult], *ks: int) -> list[KResult]:
    """The sweep's results for `ks`, in that order; DataError naming a k the sweep lacks."""
    by_k = {r.k: r for r in results}
    missing = [k for k in ks if k not in by_k]
    if missing:
        raise DataError(f"k={missing[0]} was not in the sweep (k = {min(by_k)}..{max(by_k)}).")
    return [by_k[k] for k in ks]


def compare_k(results: list[KResult], a: int, b: int) -> pd.DataFrame:
    """How the segments at k=a split or merge at k=b: customers in each pair of segments."""
    ra, rb = results_for(results, a, b)
    return pd.crosstab(
        pd.Series(numbered(ra), name=f"k={a}"), pd.Series(numbered(rb), name=f"k={b}")
    )


def compare_text(table: pd.DataFrame) -> list[str]:
    """Plain sentences: which segments split, which merge."""
    a, b = table.index.name, table.columns.name
    lines = []
    for seg, row in table.iterrows():
        parts = row[row > 0.1 * row.sum()]
        if len(parts) > 1:
            into = ", ".join(f"{b} segment {c} ({n:,})" for c, n in parts.items())
            lines.append(f"{a} segment {seg} splits into {into}")
    for seg, col in table.items():
        parts = col[col > 0.1 * col.sum()]
        if len(parts) > 1:
            lines.append(
                f"{b} segment {seg} merges {', '.join(f'{a} segment {r}' for r in parts.index)}"
            )
    return lines or [f"the segments of {a} and {b} match one to one"]


def match_to_model(
    data: pd.DataFrame,
    reference_date: pd.Timestamp | None,
    labels: np.ndarray,
    k: int,
    old: SegmentModel,
) -> np.ndarray:
    """order[i] = the new cluster that takes number i, matching the old model's centres.

    New segments are placed in the old model's feature space, paired with old segments by
    nearest centre (Hungarian assignment); new segments beyond the old k follow, by size.
    """
    try:
        features = typed_features(data, old.schema, reference_date)
    except DataError as exc:
        raise DataError(f"cannot match to the earlier model: {exc}") from exc
    X = transform(old.pipeline.named_steps["preprocess"], features)
    old_centres = old.pipeline.named_steps["kmeans"].cluster_centers_
    sizes = np.bincount(labels, minlength=k)
    new_centres = np.vstack(
        [X[labels == c].mean(axis=0) if sizes[c] else np.full(X.shape[1], np.inf) for c in range(k)]
    )
    diff = new_centres[:, None, :].astype(np.float64) - old_centres[None, :, :]
    cost = (diff**2).sum(axis=2)
    new_idx, old_idx = linear_sum_assignment(np.nan_to_num(cost, posinf=1e300))
    order = np.full(max(k, len(old_centres)), -1)
    order[old_idx] = new_idx
    rest = [c for c in np.argsort(-sizes, kind="stable") if c not in set(new_idx)]
    slots = [i for i in range(len(order)) if order[i] == -1]
    order[slots[: len(rest)]] = rest
    return order[order >= 0]
