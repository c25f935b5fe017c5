"""Two k of one sweep side by side: how the segments of one split or merge in the other."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segscope.core.clustering.final import inverse_order, size_order
from segscope.core.clustering.sweep import KResult
from segscope.core.errors import DataError


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
