"""k-means++ seeding that picks the rows scikit-learn's picks, with less work per centre.

On a float32 matrix (segscope's), scikit-learn's seeding computes each new centre's distances
to every row in float64 chunks, converting the rows and their squared norms to float64 again for
every centre. `plus_plus` converts them once per start and otherwise does the same arithmetic in
the same order on the same random draws, so a K-Means given it as its `init` makes the same
starts, labels and centres as one given "k-means++" (tests/test_speed.py checks the picks against
`sklearn.cluster.kmeans_plusplus`, and the fits against scikit-learn's own).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.utils import gen_batches


def plus_plus(X: np.ndarray, n_clusters: int, random_state: np.random.RandomState) -> np.ndarray:
    """`n_clusters` starting centres picked from X's rows by k-means++ with local trials
    (scikit-learn's `kmeans_plusplus` with unit weights, as K-Means gives a callable `init` no
    weights and segscope fits none: the same draws, the same rows)."""
    if not (isinstance(X, np.ndarray) and X.dtype == np.float32 and X.ndim == 2):
        return kmeans_plusplus(X, n_clusters, random_state=random_state)[0]
    n = X.shape[0]
    weight = np.ones(n, dtype=X.dtype)
    wide = X.astype(np.float64)  # distances are taken in float64, kept in float32
    squares = np.einsum("ij,ij->i", wide, wide)
    trials = 2 + int(np.log(n_clusters))
    picked = np.empty(n_clusters, dtype=np.intp)
    picked[0] = random_state.choice(n, p=weight / weight.sum())
    closest = _squared_distances(wide[picked[:1]], wide, squares)
    potential = closest @ weight
    for c in range(1, n_clusters):
        draws = random_state.uniform(size=trials) * potential
        candidates = np.searchsorted(np.cumsum(weight * closest), draws)
        np.clip(candidates, None, closest.size - 1, out=candidates)
        distances = _squared_distances(wide[candidates], wide, squares)
        np.minimum(closest, distances, out=distances)
        potentials = distances @ weight.reshape(-1, 1)
        best = np.argmin(potentials)
        potential, closest = potentials[best], distances[best]
        picked[c] = candidates[best]
    return X[picked]


def _squared_distances(A: np.ndarray, X: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Squared distances (float32) from A's rows to X's, both float64 (`squares`: X's squared
    norms): scikit-learn's |a|² - 2a·x + |x|², floored at 0, over the same chunks of X's rows
    (a product's last bit can depend on its shape when BLAS runs several threads)."""
    out = np.empty((len(A), len(X)), dtype=np.float32)
    batch = _batch_rows(len(A), len(X), X.shape[1])
    for near in gen_batches(len(A), batch):
        own = np.einsum("ij,ij->i", A[near], A[near])[:, None]
        for rows in gen_batches(len(X), batch):
            distances = -2 * (A[near] @ X[rows].T)
            distances += own
            distances += squares[None, rows]
            out[near, rows] = distances
    return np.maximum(out, 0, out=out)


def _batch_rows(a: int, x: int, columns: int) -> int:
    """The rows per chunk scikit-learn's float32 distances take (10% more memory than the two
    matrices and their distances, at least 10 MiB)."""
    most = max(((a + x) * columns + a * x) / 10, 10 * 2**17)
    both = 2 * columns
    return max(int((-both + math.sqrt(both**2 + 4 * most)) / 2), 1)


def fit_plus_plus(X: np.ndarray, k: int, seed: int, n_init: int) -> KMeans:
    """K-Means on X keeping the best of `n_init` k-means++ starts (seeded by `plus_plus`: the
    fit scikit-learn's "k-means++" makes). Its `init` then says "k-means++", so that a model
    file holds scikit-learn's own setting and no function of segscope's."""
    km = KMeans(n_clusters=k, init=plus_plus, n_init=n_init, random_state=seed).fit(X)
    km.init = "k-means++"
    return km
