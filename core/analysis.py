"""The whole flow as a few calls shared by the CLI, the TUI and the tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from segscope.core import DEFAULT_SEED
from segscope.core.compare import compare_k, match_to_model
from segscope.core.errors import DataError
from segscope.core.features import CustomerFrame, build_customer_frame
from segscope.core.io import Tables, write_csv_atomic
from segscope.core.model import SegmentModel
from segscope.core.preprocess import fit_preprocessor, prepare, transform
from segscope.core.relevance import (
    Relevance,
    feature_relevance,
    silhouette_without,
    weak_features_text,
)
from segscope.core.schema import Role, Schema, infer_schema
from segscope.core.segments import (
    SegmentProfile,
    SegmentStats,
    final_model,
    profile_segments,
    renumber,
    segment_stats,
)
from segscope.core.stability import segment_stability, stability_sample
from segscope.core.sweep import (
    DEFAULT_KS,
    Choice,
    KResult,
    SweepPlan,
    choose_k,
    plan_sweep,
    run_sweep,
)


@dataclass
class Options:
    """What the user chose; everything else is inferred."""

    customers: str | None = None
    transactions: str | None = None
    use_transactions: bool = True
    key: str | None = None
    features: list[str] | None = None  # keep only these features
    roles: dict[str, Role] = field(default_factory=dict)  # column -> role overrides
    ks: Sequence[int] = DEFAULT_KS
    seed: int = DEFAULT_SEED
    k: int | None = None  # override the chosen k
    weights: dict[str, float] = field(default_factory=dict)  # feature -> weight (default 1)
    like: SegmentModel | None = None  # number segments to match this earlier model
    compare: tuple[int, int] | None = None  # also cross-tabulate the segments of these two k
    engine: str = "local"  # "local" (scikit-learn) or "spark"
    spark_master: str | None = None  # Spark master URL (default: local[*])
    labels_uri: str | None = None  # Spark: where to write the labels (default: beside the output)


@dataclass
class Prepared:
    """Customers, their roles and the transformed matrix."""

    source: str
    frame: CustomerFrame
    schema: Schema
    features: pd.DataFrame
    preprocessor: ColumnTransformer
    X: np.ndarray
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.features)

    def feature_names(self) -> list[str]:
        return [str(n) for n in self.preprocessor.get_feature_names_out()]


@dataclass
class Segmentation:
    """The final result: model, labels, profiles, and the sweep behind the choice."""

    prepared: Prepared
    plan: SweepPlan
    results: list[KResult]
    choice: Choice
    model: SegmentModel
    labels: np.ndarray  # 1..k per row of prepared.features (Spark: of its driver sample)
    profiles: list[SegmentProfile]
    relevance: list[Relevance] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)  # what the relevance check suggests
    comparison: pd.DataFrame | None = None  # customers per pair of segments of two k

    @property
    def warnings(self) -> list[str]:
        return [*self.plan.warnings, *self.choice.warnings, *self.advice]

    def labels_frame(self) -> pd.DataFrame:
        """The key column (or a row number) and the segment of every customer."""
        frame = self.prepared.frame
        if frame.key:
            keys = frame.data[frame.key]
        else:
            keys = pd.Series(np.arange(1, len(self.labels) + 1), name="row")
        return pd.DataFrame({keys.name: keys.to_numpy(), "segment": self.labels})

    def write_labels(self, folder: Path, target: Path, force: bool = False) -> list[str]:
        """Write every customer's segment (labels.csv in `folder`, the output being built
        for `target`); returns where the labels went."""
        write_csv_atomic(folder / "labels.csv", self.labels_frame())
        return [str(target.resolve() / "labels.csv")]


def prepare_data(tables: Tables, options: Options, source: str = "") -> Prepared:
    """Customers frame, schema, and the fitted preprocessing with its transformed matrix."""
    frame = build_customer_frame(
        tables,
        options.customers,
        options.transactions,
        options.key,
        use_transactions=options.use_transactions,
    )
    if len(frame.data) < 3:
        where = f"{Path(source).name}: " if source else ""
        raise DataError(
            f"{where}only {len(frame.data)} customer(s): segmenting needs at least 3 rows."
        )
    schema = resolve_schema(frame, options)
    features = prepare(frame.data, schema, frame.reference_date)
    pre = fit_preprocessor(schema, features, options.seed, options.weights)
    weights = {c: w for c, w in options.weights.items() if c in schema.features}
    return Prepared(source, frame, schema, features, pre, transform(pre, features), weights)


def resolve_schema(frame: CustomerFrame, options: Options) -> Schema:
    """The roles of `frame`'s columns: inferred, then the user's roles, weights and features."""
    roles = dict(options.roles)
    for name, weight in options.weights.items():
        if name not in frame.data.columns:
            raise DataError(f"--weight names an unknown column '{name}'.")
        if weight < 0:
            raise DataError(f"the weight of '{name}' must be 0 or more, got {weight}.")
        if weight == 0:
            roles[name] = Role.IGNORED
    if options.features is not None:
        wanted = set(options.features)
        unknown = sorted(wanted - set(map(str, frame.data.columns)))
        if unknown:
            raise DataError(
                f"unknown feature column(s) {', '.join(unknown)}. "
                f"Columns are: {', '.join(map(str, frame.data.columns))}."
            )
        auto = infer_schema(frame.data, frame.key, roles, frame.coded)
        for col in auto.columns:
            if col.name not in wanted and col.role is not Role.KEY:
                roles.setdefault(col.name, Role.IGNORED)
            elif col.name in wanted and col.role is Role.IGNORED and col.name not in roles:
                roles[col.name] = _forced_feature_role(frame.data[col.name])
    return infer_schema(frame.data, frame.key, roles, frame.coded)


def _forced_feature_role(s: pd.Series) -> Role:
    return Role.NUMERIC if pd.api.types.is_numeric_dtype(s) else Role.CATEGORICAL


def start_sweep(
    prepared: Prepared,
    ks: Sequence[int] = DEFAULT_KS,
    seed: int = DEFAULT_SEED,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[SweepPlan, Iterator[KResult]]:
    """The plan (k clamped, sampling decided) and an iterator yielding each k as it finishes."""
    plan = plan_sweep(prepared.X, ks, seed)
    return plan, run_sweep(prepared.X, plan, should_stop)


def segment(
    prepared: Prepared,
    plan: SweepPlan,
    results: list[KResult],
    k: int | None = None,
    like: SegmentModel | None = None,
    compare: tuple[int, int] | None = None,
) -> Segmentation:
    """Choose k (or take `k`), fit the final model, label and profile every customer.

    With `like`, segments are numbered to match that earlier model's (by nearest centre);
    with `compare`, the segments of those two k are cross-tabulated.
    """
    choice = choose_k(results, k)
    comparison = compare_k(results, *compare) if compare else None
    result = next(r for r in results if r.k == choice.k)
    frame = prepared.frame
    km, labels0 = final_model(prepared.X, result, plan.seed)
    if like is not None:
        renumber(km, match_to_model(frame.data, frame.reference_date, labels0, choice.k, like))
        labels0 = km.labels_
    stats = segment_stats(prepared.features, labels0, prepared.schema)
    model = segment_model(prepared, plan, results, choice.k, km, prepared.X, stats)
    return finish_segmentation(prepared, plan, results, choice, model, labels0, stats, comparison)


def segment_model(
    prepared: Prepared,
    plan: SweepPlan,
    results: list[KResult],
    k: int,
    km: KMeans,
    X: np.ndarray,
    stats: SegmentStats,
) -> SegmentModel:
    """The saved model: the preprocessing and `km` in one pipeline, with what scoring checks
    against (the base's figures from `stats`, the 99th percentile distance of `X`)."""
    frame, schema = prepared.frame, prepared.schema
    return SegmentModel(
        pipeline=Pipeline([("preprocess", prepared.preprocessor), ("kmeans", km)]),
        schema=schema,
        k=k,
        seed=plan.seed,
        key=frame.key,
        customers_sheet=frame.customers_sheet,
        transactions_sheet=frame.transactions_sheet,
        segment_sizes=[stats.sizes.get(s, 0) for s in range(1, k + 1)],
        numeric_summary={
            c: {"mean": float(stats.base_mean[c]), "std": float(stats.base_std[c])}
            for c in schema.numeric
        },
        category_shares={
            c: {str(v): float(s) for v, s in stats.base_shares[c].items()}
            for c in schema.categorical
        },
        distance_p99=float(np.percentile(km.transform(X).min(axis=1), 99)),
        weights=dict(prepared.weights),
        metrics=[r.to_dict() for r in results],
    )


def finish_segmentation(
    prepared: Prepared,
    plan: SweepPlan,
    results: list[KResult],
    choice: Choice,
    model: SegmentModel,
    labels0: np.ndarray,
    stats: SegmentStats,
    comparison: pd.DataFrame | None = None,
) -> Segmentation:
    """Profiles from `stats`; stability and relevance from `labels0` (0-based, one per row of
    prepared.features: every customer, or the Spark engine's driver sample)."""
    frame, schema = prepared.frame, prepared.schema
    profiles = profile_segments(stats, schema, frame.labels, frame.semantics)
    result = next(r for r in results if r.k == choice.k)
    stab_idx = stability_sample(len(labels0), plan.seed)
    per_segment = segment_stability(labels0[stab_idx], result.resamples, choice.k)
    for p in profiles:
        p.stability = per_segment[p.segment - 1]
    relevance = feature_relevance(prepared.features, labels0, schema, frame.labels)
    advice = _relevance_advice(prepared, plan, results, relevance)
    labels = labels0.astype(np.int64) + 1
    return Segmentation(
        prepared, plan, results, choice, model, labels, profiles, relevance, advice, comparison
    )


def _relevance_advice(
    prepared: Prepared, plan: SweepPlan, results: list[KResult], relevance: list[Relevance]
) -> list[str]:
    """Name the features that separate nothing, and what leaving them out would change."""
    weak = [r for r in relevance if r.weak]
    if not weak or len(weak) == len(relevance):
        return []
    advice = [weak_features_text(weak)]
    names = [r.feature for r in weak]
    alt = silhouette_without(prepared.features, prepared.schema, names, plan.ks, plan.seed)
    best = max(results, key=lambda r: r.silhouette)
    if alt is not None and alt[0] != best.k:
        advice.append(
            f"without {', '.join(names)} the best silhouette is at k={alt[0]} ({alt[1]:.3f}, on a "
            f"sample) instead of k={best.k} ({best.silhouette:.3f}): they may be hiding structure"
        )
    return advice
