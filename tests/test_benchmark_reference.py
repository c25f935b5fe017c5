"""The benchmark's reference silhouette (chunked, exact) agrees with scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from benchmarks.measure import exact_silhouettes


def test_exact_silhouettes_match_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(700, 5)).astype(np.float32)
    labels = {k: rng.integers(0, k, len(X)) for k in (2, 3, 6)}
    got = exact_silhouettes(X, labels, chunk=128)
    for k, y in labels.items():
        assert got[k] == pytest.approx(silhouette_score(X.astype(np.float64), y), abs=1e-9)
