"""Rows to their nearest centre, and centres refined over every row, in fixed blocks of rows.

Large tables are fitted on a sample (clustering.sweep); these passes carry the result to every row.
Blocks have fixed bounds, each is computed with one native thread, and the per-block sums are
added in block order: the labels and centres are the same whatever the number of threads
segscope's pool runs them on."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from sklearn.cluster import KMeans

from segscope.core.preparing.matrix import CodedMatrix, Matrix, closest, segment_sums
from segscope.core.threads import in_blocks, in_parallel, row_blocks

BLOCK_ROWS = 65_536  # rows per block: a block's distances stay in the CPU's cache-friendly range
MAX_PASSES = 20  # Lloyd passes over every row at most, after the warm start
TOL = 1e-4  # stop when centres move less than this (scikit-learn's, relative to the variance)


@dataclass
class Assignment:
    """Every row's nearest centre and the sum of squared distances to it (the inertia)."""

    labels: np.ndarray  # int32, one per row
    squared: np.ndarray = field(repr=False)  # float32: each row's squared distance to its centre
    inertia: float
    sizes: np.ndarray  # rows per centre

    @property
    def distances(self) -> np.ndarray:
        """Each row's distance to its centre (float32)."""
        return np.sqrt(self.squared)


def _blocks(n: int) -> list[slice]:
    return row_blocks(n, BLOCK_ROWS)


def row_squares(X: Matrix, rows: slice = slice(None)) -> np.ndarray:
    """The rows' squared norms (float64): the part of their distances no centre changes."""
    if isinstance(X, CodedMatrix):
        return X.row_squares(rows)
    return np.einsum("ij,ij->i", X[rows], X[rows], dtype=np.float64)


def every_row_square(X: Matrix, threads: int | None = None) -> np.ndarray:
    """row_squares of all of X's rows, block by block on `threads` threads (None: as many as
    core.threads allows)."""
    out = np.empty(len(X))

    def block(rows: slice) -> None:
        out[rows] = row_squares(X, rows)

    in_blocks(block, len(X), BLOCK_ROWS, threads)
    return out


def _nearest(
    X: Matrix, rows: slice, centres: np.ndarray, squares: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and squared distances (float64) of one block's rows (their `squares`) to the
    nearest centre: |x|² + |c|² - 2x·c, the centre-dependent part as one matrix product."""
    if isinstance(X, CodedMatrix):
        return X.nearest(rows, centres, squares)
    d2 = (-2.0 * centres) @ X[rows].T
    d2 += np.einsum("ij,ij->i", centres, centres)[:, None]
    labels, best = closest(d2)
    best = best + squares
    return labels, np.maximum(best, 0.0, out=best)


def assign(
    X: Matrix,
    centres: np.ndarray,
    threads: int | None = None,
    squares: np.ndarray | None = None,
) -> Assignment:
    """Every row of X to its nearest centre (blocks on `threads` threads; None: as many as
    core.threads allows). `squares`: X's row_squares, when they are known already."""
    c = centres.astype(X.dtype)
    labels = np.empty(len(X), dtype=np.int32)
    squared = np.empty(len(X), dtype=np.float32)

    def block(rows: slice) -> tuple[float, np.ndarray]:
        sq = row_squares(X, rows) if squares is None else squares[rows]
        near, best = _nearest(X, rows, c, sq)
        labels[rows], squared[rows] = near, best
        return float(best.sum()), np.bincount(near, minlength=len(c))

    parts = list(in_parallel(block, _blocks(len(X)), threads))
    sizes = np.sum([counts for _, counts in parts], axis=0) if parts else np.zeros(len(c), int)
    return Assignment(labels, squared, math.fsum(inertia for inertia, _ in parts), sizes)


def _block_sums(
    X: Matrix, centres: np.ndarray, rows: slice
) -> tuple[np.ndarray, np.ndarray, float]:
    """One block's per-centre sums of its rows and counts, for Lloyd's update."""
    labels, d2 = _nearest(X, rows, centres, row_squares(X, rows))
    k = len(centres)
    sums = (
        X.sums(rows, labels, k) if isinstance(X, CodedMatrix) else segment_sums(X[rows], labels, k)
    )
    return sums, np.bincount(labels, minlength=k), float(d2.sum(dtype=np.float64))


def _passes(X: Matrix, centres: np.ndarray, threads: int | None) -> Iterator[np.ndarray]:
    """Lloyd's passes from `centres`: each yields the centres it moved to (an empty segment
    keeps its centre)."""
    blocks = _blocks(len(X))
    while True:
        parts = list(in_parallel(partial(_block_sums, X, centres.astype(X.dtype)), blocks, threads))
        sums = np.sum([p[0] for p in parts], axis=0)
        counts = np.sum([p[1] for p in parts], axis=0)
        moved = centres.copy()
        filled = counts > 0
        moved[filled] = sums[filled] / counts[filled, None]
        centres = moved
        yield centres


def refine(X: Matrix, centres: np.ndarray, seed: int, threads: int | None = None) -> KMeans:
    """A K-Means over every row of X, warm-started at `centres` (the sweep's, fitted on a
    sample): Lloyd's passes until the centres settle (at most MAX_PASSES), then every row
    assigned to the final centres. Returns a fitted scikit-learn KMeans (for the pipeline)."""
    tol = TOL * float(np.mean(np.var(X[:: max(1, len(X) // 100_000)], axis=0)))
    current = centres.astype(np.float64)
    passes = 0
    for passes, moved in enumerate(_passes(X, current, threads), start=1):
        shift = float(((moved - current) ** 2).sum())
        current = moved
        if shift <= tol or passes >= MAX_PASSES:
            break
    final = assign(X, current, threads)
    return fitted_kmeans(current, final, seed, passes)


def fitted_kmeans(centres: np.ndarray, assignment: Assignment, seed: int, passes: int) -> KMeans:
    """A scikit-learn KMeans holding `centres` and their assignment, as if it had fitted them."""
    c = centres.astype(np.float32)
    km = KMeans(n_clusters=len(c), init=c, n_init=1, max_iter=1, random_state=seed)
    km.fit(c)  # sets every fitted attribute scikit-learn checks; then ours replace them
    km.cluster_centers_ = c
    km.labels_ = assignment.labels
    km.inertia_ = assignment.inertia
    km.n_iter_ = passes
    return km
