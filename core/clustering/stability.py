"""How far to believe the segments: agreement across seeds and bootstrap resamples."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from segscope.core.clustering.seeding import fit_plus_plus
from segscope.core.sampling import row_sample

STABILITY_ROWS = 2_000  # resampling runs on at most this many rows
RESAMPLES = 5  # fits per k: each on a bootstrap resample, with its own seed
UNSTABLE = 0.8  # mean adjusted Rand index below this reads as unstable


def stability_sample(n: int, seed: int, rows: int = STABILITY_ROWS) -> np.ndarray:
    """The rows every stability check of a run is measured on (the same for every k)."""
    return row_sample(n, rows, seed + 7919)


def resample_labels(
    X: np.ndarray, k: int, seed: int, resamples: int = RESAMPLES
) -> list[np.ndarray]:
    """The labels that K-Means fitted on bootstrap resamples of X (each its own seed) give X."""
    rng = np.random.default_rng(seed + 104729)
    out = []
    with warnings.catch_warnings():  # a resample repeats rows: fewer distinct points is expected
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i in range(resamples):
            boot = X[rng.integers(0, len(X), len(X))]
            km = fit_plus_plus(boot, k, seed + 1 + i, 2)
            out.append(km.predict(X))
    return out


def stability(ref: np.ndarray, others: list[np.ndarray]) -> float:
    """Mean adjusted Rand index between the reference labels and each resample's."""
    return float(np.mean([adjusted_rand_score(ref, o) for o in others]))


def segment_stability(ref: np.ndarray, others: list[np.ndarray], k: int) -> list[float]:
    """Per segment 0..k-1 of `ref`: mean Jaccard with its best match in each resample."""
    out = []
    for seg in range(k):
        members = ref == seg
        if not members.any():
            out.append(float("nan"))
            continue
        scores = []
        for o in others:
            best = 0.0
            for c in np.unique(o[members]):
                other = o == c
                best = max(
                    best, np.count_nonzero(members & other) / np.count_nonzero(members | other)
                )
            scores.append(best)
        out.append(float(np.mean(scores)))
    return out
