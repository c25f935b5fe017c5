"""Which features separate the segments, and which do not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segscope.core.preprocess import fit_preprocessor, transform
from segscope.core.schema import ColumnRole, Role, Schema
from segscope.core.sweep import (
    KResult,
    SweepPlan,
    fit_kmeans,
    pairwise_euclidean,
    silhouette_from_distances,
)

WEAK = 0.05  # a feature whose segments explain less than this share of it separates nothing


@dataclass(frozen=True)
class Relevance:
    """How much one feature differs between segments (0 = the same everywhere, 1 = fully)."""

    feature: str
    label: str
    kind: str  # "numeric": share of variance explained (eta squared); "categorical": Cramér's V
    score: float

    @property
    def weak(self) -> bool:
        return self.score < WEAK


def feature_relevance(
    features: pd.DataFrame, labels: np.ndarray, schema: Schema, names: dict[str, str] | None = None
) -> list[Relevance]:
    """Every feature scored by how well the segments separate it, strongest first."""
    names = names or {}
    seg = pd.Series(labels, index=features.index)
    out = []
    for col in schema.numeric:
        x = features[col].astype("float64")
        x = x.fillna(x.median())
        total = float(((x - x.mean()) ** 2).sum())
        means = x.groupby(seg).transform("mean")
        between = float(((means - x.mean()) ** 2).sum())
        score = between / total if total > 0 else 0.0
        out.append(Relevance(col, names.get(col, col), "numeric", score))
    for col in schema.categorical:
        table = pd.crosstab(seg, features[col].fillna("(missing)")).to_numpy(dtype=float)
        out.append(Relevance(col, names.get(col, col), "categorical", _cramers_v(table)))
    return sorted(out, key=lambda r: -r.score)


def _cramers_v(table: np.ndarray) -> float:
    """Cramér's V with Bergsma's bias correction (many categories alone do not score)."""
    n = table.sum()
    r, c = table.shape
    if n <= 1 or min(r, c) < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / np.where(expected > 0, expected, 1)).sum())
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    rows, cols = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    denom = min(rows - 1, cols - 1)
    return float(np.sqrt(phi2 / denom)) if denom > 0 else 0.0


def weak_features_text(relevance: list[Relevance]) -> str:
    """One sentence naming the features that separate nothing."""
    weak = [r for r in relevance if r.weak]
    names = ", ".join(r.feature for r in weak)
    verb = "is" if len(weak) == 1 else "are"
    return (
        f"{names} {verb} spread the same way in every segment (relevance under {WEAK}): "
        "consider leaving them out or giving them less weight"
    )


def silhouette_without(
    features: pd.DataFrame,
    schema: Schema,
    drop: list[str],
    ks: list[int],
    seed: int,
    rows: int = 4_000,
) -> tuple[int, float] | None:
    """The best-silhouette k (and its silhouette) when `drop` is left out, on a sample."""
    kept = Schema(
        [
            ColumnRole(c.name, Role.IGNORED, "left out") if c.name in drop else c
            for c in schema.columns
        ]
    )
    if not kept.features:
        return None
    sample = features.sample(min(rows, len(features)), random_state=seed)
    X = transform(fit_preprocessor(kept, sample, seed), sample)
    distances = pairwise_euclidean(X)
    distinct = len(np.unique(X, axis=0))
    scored = [
        (k, silhouette_from_distances(distances, fit_kmeans(X, k, seed, 4).labels_))
        for k in ks
        if k < distinct
    ]
    return max(scored, key=lambda kv: kv[1]) if scored else None


def relevance_advice(
    features: pd.DataFrame,
    schema: Schema,
    plan: SweepPlan,
    results: list[KResult],
    relevance: list[Relevance],
) -> list[str]:
    """Name the features that separate nothing, and what leaving them out would change."""
    weak = [r for r in relevance if r.weak]
    if not weak or len(weak) == len(relevance):
        return []
    advice = [weak_features_text(weak)]
    names = [r.feature for r in weak]
    alt = silhouette_without(features, schema, names, plan.ks, plan.seed)
    best = max(results, key=lambda r: r.silhouette)
    if alt is not None and alt[0] != best.k:
        advice.append(
            f"without {', '.join(names)} the best silhouette is at k={alt[0]} ({alt[1]:.3f}, on a "
            f"sample) instead of k={best.k} ({best.silhouette:.3f}): they may be hiding structure"
        )
    return advice
