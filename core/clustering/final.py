"""The final fit: the chosen k on every row (refined from the sweep's centres where it fitted on a
sample), segments numbered by size, the sweep's row of that k replaced by the final figures, and
the distance beyond which scoring calls a customer far from every segment."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from sklearn.cluster import KMeans

from segscope.core.clustering.centres import BLOCK_ROWS, assign, refine
from segscope.core.clustering.sweep import (
    KResult,
    SweepSetup,
    pairwise_euclidean,
    sample_rows,
    silhouette_values,
)
from segscope.core.preparing.matrix import Matrix
from segscope.core.sampling import row_sample
from segscope.core.threads import in_parallel, row_blocks


def final_model(X: Matrix, result: KResult, seed: int) -> tuple[KMeans, np.ndarray]:
    """The K-Means for the chosen k on all rows, segments renumbered 0.. by size (largest first).

    A sweep that fitted on a sample is refined on all rows from its centres (clustering.centres).
    """
    km = result.model
    if len(result.labels) != getattr(km, "labels_", np.empty(0)).shape[0]:
        km = refine(X, km.cluster_centers_, seed)
    renumber(km, by_size(km.labels_, result.k))
    return km, km.labels_


def by_size(labels: np.ndarray, k: int) -> np.ndarray:
    """order[i] = the cluster that becomes segment i (largest first)."""
    return size_order(np.bincount(labels, minlength=k))


def size_order(sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """order[i] = the cluster that becomes segment i, given each cluster's size."""
    return np.argsort(-np.asarray(sizes), kind="stable")


def inverse_order(order: np.ndarray) -> np.ndarray:
    """remap[c] = the segment (0-based) that cluster c becomes, for order[i] = cluster of i."""
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    return remap


def renumber(km: KMeans, order: np.ndarray) -> None:
    """Reorder a fitted K-Means so that cluster order[i] becomes cluster i."""
    km.cluster_centers_ = km.cluster_centers_[order]
    km.labels_ = inverse_order(order)[km.labels_].astype(np.int32)


def refined(
    X: Matrix, setup: SweepSetup, results: list[KResult], km: KMeans
) -> tuple[SweepSetup, list[KResult]]:
    """The sweep with the chosen k's row replaced by the final fit's figures on every row (its
    silhouette measured again only when the final fit splits the silhouette's rows otherwise
    than the sweep did: the same groups have the same silhouette, whatever their numbers)."""
    k = km.n_clusters
    _, rows = sample_rows(setup)
    swept = next(r for r in results if r.k == k)
    silhouette, values = swept.silhouette, swept.silhouettes
    if len(swept.labels) != len(km.labels_) or not same_groups(
        swept.labels[rows], km.labels_[rows]
    ):
        measured = silhouette_values(pairwise_euclidean(X[rows]), km.labels_[rows])
        silhouette, values = float(measured.mean()), measured.astype(np.float32)
    final = dataclasses.replace(
        swept,
        inertia=float(km.inertia_),
        sizes=np.bincount(km.labels_, minlength=k).tolist(),
        labels=km.labels_,
        model=km,
        silhouette=silhouette,
        silhouettes=values,
    )
    refreshed = [final if r.k == k else r for r in results]
    return dataclasses.replace(setup, refined=k), refreshed


def same_groups(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings of the same rows make the same groups (numbered alike or not)."""
    pairs = np.unique(a.astype(np.int64) * (int(b.max(initial=0)) + 1) + b)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


P99_ROWS = 1_000_000  # the 99th percentile distance is measured on at most this many rows


def distance_p99(X: Matrix, centres: np.ndarray) -> float:
    """The 99th percentile of the rows' distances to their nearest centre (on a fixed random
    sample of P99_ROWS rows in larger tables): what scoring calls far from every segment."""
    if len(X) <= P99_ROWS:
        return float(np.percentile(assign(X, centres).distances, 99))
    rows = row_sample(len(X), P99_ROWS, 0)

    def block(part: slice) -> np.ndarray:  # the sample's rows written out a block at a time
        return assign(X[rows[part]], centres, threads=1).distances

    blocks = row_blocks(len(rows), BLOCK_ROWS)  # assign's own blocks: the same numbers
    return float(np.percentile(np.concatenate(list(in_parallel(block, blocks))), 99))
