"""scikit-learn doing by hand the work segscope's defaults do, end to end: the same-work baseline.

`python -m benchmarks.same_work FILE OUT.csv [--key COLUMN] [--drop COLUMN ...]`: the analyst's
matrix of benchmarks/baseline.py, then for each k = 2..10 `KMeans(n_init=10)`, the exact
silhouette on up to 5,000 rows, Calinski-Harabasz and Davies-Bouldin, and stability as the mean
adjusted Rand index of 5 refits (10 starts each) on bootstrap resamples of up to 2,000 rows; the
best-silhouette k's labels written to OUT.csv. Prints one JSON object: seconds, k, peak memory.
"""
# ruff: noqa: I001  (the baseline is imported first: its clock starts before the imports)

from __future__ import annotations

import sys

from benchmarks import baseline  # first: its clock starts before the imports

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

SILHOUETTE_ROWS, STABILITY_ROWS, RESAMPLES, STARTS = 5_000, 2_000, 5, 10


def stability(X: np.ndarray, labels: np.ndarray, k: int, rng: np.random.Generator) -> float:
    """Mean adjusted Rand index between the labels and refits on bootstrap resamples."""
    scores = []
    for seed in range(RESAMPLES):
        resample = X[rng.integers(0, len(X), len(X))]
        refit = KMeans(n_clusters=k, n_init=STARTS, random_state=seed).fit(resample)
        scores.append(adjusted_rand_score(labels, refit.predict(X)))
    return float(np.mean(scores))


def main() -> None:
    a = baseline.arguments()
    keys, X = baseline.matrix(a)
    rng = np.random.default_rng(0)
    sil = rng.choice(len(X), min(SILHOUETTE_ROWS, len(X)), replace=False)
    stab = rng.choice(len(X), min(STABILITY_ROWS, len(X)), replace=False)
    best_k, best_score, best_labels = 0, -2.0, np.empty(0)
    for k in baseline.KS:
        labels = KMeans(n_clusters=k, n_init=STARTS, random_state=0).fit_predict(X)
        score = silhouette_score(X[sil], labels[sil])
        calinski_harabasz_score(X[sil], labels[sil])
        davies_bouldin_score(X[sil], labels[sil])
        stability(X[stab], labels[stab], k, rng)
        if score > best_score:
            best_k, best_score, best_labels = k, score, labels
    baseline.finish(keys, best_labels, a.out, best_k)


if __name__ == "__main__":
    sys.exit(main())
