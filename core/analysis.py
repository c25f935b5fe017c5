"""The flow's values (Prepared, Segmentation) and the local engine's steps.

prepare_tables -> Prepared (customers, roles, the transformed matrix) -> start_sweep -> KResult
per k -> segment -> Segmentation (model, labels, profiles, the sweep behind the choice).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from segscope.core import LOCAL
from segscope.core.centres import assign
from segscope.core.choice import Choice, choose_k
from segscope.core.compare import (
    LikeReport,
    compare_k,
    earlier_space,
    like_report,
    match_to_model,
)
from segscope.core.customers import source_frame
from segscope.core.errors import DataError
from segscope.core.features import CustomerFrame
from segscope.core.locations import display_name
from segscope.core.model import SegmentModel
from segscope.core.outputs import write_csv_atomic
from segscope.core.preprocess import (
    Gap,
    fit_preprocessor,
    gaps_of,
    missing_shares,
    transform,
    typed_features,
)
from segscope.core.readers import Source
from segscope.core.redundancy import redundant_features
from segscope.core.relevance import Relevance, feature_relevance, relevance_advice
from segscope.core.roles import Role, Schema
from segscope.core.sampling import row_sample
from segscope.core.schema import infer_schema
from segscope.core.segments import (
    SegmentProfile,
    SegmentStats,
    final_model,
    profile_segments,
    renumber,
    segment_stats,
)
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.stability import segment_stability, stability_sample
from segscope.core.sweep import (
    KResult,
    SweepPlan,
    pairwise_euclidean,
    plan_sweep,
    run_sweep,
    sample_rows,
    silhouette_values,
)
from segscope.core.text import names, quoted
from segscope.core.timings import Timings
from segscope.core.words import describe, recommend

PREPARE_SEED = 0  # the preprocessing's own sample (above 50,000 rows) is the same every run


@dataclass
class Prepared:
    """Customers, their roles and the transformed matrix, bound to the engine that prepared
    them and the choices they were prepared with."""

    source: str
    engine: str  # the engine (and where it runs) that prepared it: see Engine.identity
    choices: DataChoices
    tables: tuple[str, ...]  # the source's tables (a workbook's sheets)
    frame: CustomerFrame
    schema: Schema
    features: pd.DataFrame  # typed features (an engine working elsewhere: of its sample)
    preprocessor: ColumnTransformer
    X: np.ndarray
    rows: int  # customers
    columns: list[str]  # the transformed matrix's columns
    gaps: dict[str, Gap] = field(default_factory=dict)  # features with missing values
    full: Any = None  # the engine's own handle on the whole table (Spark: SparkData)
    timings: Timings = field(default_factory=Timings)  # reading and preparing it

    @property
    def weights(self) -> dict[str, float]:
        return {c: w for c, w in self.choices.weights.items() if c in self.schema.features}


class LabelsOut(Protocol):
    """Where a segmentation's labels are written."""

    def write(self, seg: Segmentation, folder: Path, target: Path, force: bool) -> list[str]:
        """Write every customer's segment; returns where they went (files or URLs)."""
        ...


class CsvLabels:
    """labels.csv in the output folder: the key (or a row number) and the segment."""

    def write(self, seg: Segmentation, folder: Path, target: Path, force: bool) -> list[str]:
        write_csv_atomic(folder / "labels.csv", seg.labels_frame())
        return [str(target / "labels.csv")]


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
    labels_out: LabelsOut = field(default_factory=CsvLabels)
    like: LikeReport | None = None  # how the segments were numbered like an earlier model's
    timings: Timings = field(default_factory=Timings)  # every stage from reading to labels

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


def prepare_tables(
    source: Source | dict[str, pd.DataFrame], choices: DataChoices | None = None
) -> Prepared:
    """The local engine's preparation: customers frame, roles, fitted preprocessing, matrix."""
    if not isinstance(source, Source):
        source = Source("", dict(source))
    choices = choices or DataChoices()
    timings = source.timings.then()
    with timings.stage("features"):
        frame, unusable_in = source_frame(source, choices)
        where = f"{display_name(source.location)}: " if source.location else ""
        if len(frame.data) < 3:
            raise DataError(
                f"{where}only {len(frame.data)} customer(s): segmenting needs at least 3 rows."
            )
        unusable = unusable_in.get(frame.plan.customers or "", {})
        schema, features = decide_features(frame, choices, unusable)
    with timings.stage("preprocess"):
        missing = missing_shares(features, schema, frame.data)
        pre = fit_preprocessor(schema, features, PREPARE_SEED, choices.weights, missing)
        X = transform(pre, features)
        gaps = gaps_of(pre, schema, missing, len(features))
    return Prepared(
        source.location,
        LOCAL,
        choices,
        tuple(source.tables),
        frame,
        schema,
        features,
        pre,
        X,
        len(features),
        [str(n) for n in pre.get_feature_names_out()],
        gaps,
        timings=timings,
    )


def decide_features(
    frame: CustomerFrame, choices: DataChoices, unusable: dict[str, str] | None = None
) -> tuple[Schema, pd.DataFrame]:
    """The roles of the customer table's columns and its typed features: inferred, the user's
    choices applied, and numbers that repeat others left out (unless kept)."""
    schema = resolve_schema(frame, choices, unusable)
    features = typed_features(frame.data, schema, frame.reference_date)
    if choices.keep_redundant:
        return schema, features
    prefer = [c for c in frame.meanings.values() if c in schema.numeric]
    repeated = redundant_features(features[schema.numeric], choices.roles, prefer)
    if not repeated:
        return schema, features
    schema = resolve_schema(frame, choices, {**(unusable or {}), **repeated})
    return schema, features[[c for c in features.columns if c in schema.features]]


def resolve_schema(
    frame: CustomerFrame, choices: DataChoices, unusable: dict[str, str] | None = None
) -> Schema:
    """The roles of `frame`'s columns: inferred, then the user's roles, weights and features."""
    roles = dict(choices.roles)
    columns = set(map(str, frame.data.columns))
    coded = frame.plan.coded
    built = {m.name: m.title for m in frame.plan.measures}
    for name, weight in choices.weights.items():
        if name not in columns:
            raise DataError(f"the weight names an unknown column {quoted(name)}.")
        if weight == 0:
            roles[name] = Role.IGNORED
    if choices.features is not None:
        unknown = [c for c in choices.features if c not in columns]
        if unknown:
            raise DataError(
                f"unknown feature column(s) {names(unknown)}. Columns are: "
                f"{names(map(str, frame.data.columns), 3)}."
            )
        auto = infer_schema(frame.data, frame.key, roles, coded, unusable, built)
        for col in auto.columns:
            if col.name not in choices.features and col.role is not Role.KEY:
                roles.setdefault(col.name, Role.IGNORED)
            elif col.name in choices.features and col.role is Role.IGNORED:
                roles.setdefault(col.name, _forced_feature_role(frame.data[col.name]))
    schema = infer_schema(frame.data, frame.key, roles, coded, unusable, built)
    for name, weight in choices.weights.items():
        if weight and name not in schema.features:
            instead = (
                f"weight {quoted(coded[name])} instead" if name in coded else "weight a feature"
            )
            raise DataError(
                f"the weight is for {quoted(name)}, which is not a feature "
                f"({schema[name].reason}): {instead}, or make it a feature first."
            )
    return schema


def _forced_feature_role(s: pd.Series) -> Role:
    return Role.NUMERIC if pd.api.types.is_numeric_dtype(s) else Role.CATEGORICAL


def start_sweep(
    prepared: Prepared,
    settings: SweepSettings | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[SweepPlan, Iterator[KResult]]:
    """The plan (k clamped, sampling decided) and an iterator yielding each k as it finishes."""
    settings = settings or SweepSettings()
    plan = plan_sweep(prepared.X, settings.ks, settings.seed)
    return plan, run_sweep(prepared.X, plan, should_stop)


def segment(
    prepared: Prepared,
    plan: SweepPlan,
    results: list[KResult],
    settings: SweepSettings | None = None,
) -> Segmentation:
    """Choose k (or take settings.k), fit the final model, label and profile every customer.

    With settings.like, segments are numbered to match that earlier model's (by nearest
    centre); with settings.compare, the segments of those two k are cross-tabulated.
    """
    settings = settings or SweepSettings()
    timings = sweep_timings(prepared, plan, results)
    choice = choose_k(results, settings.k)
    comparison = compare_k(results, *settings.compare) if settings.compare else None
    result = next(r for r in results if r.k == choice.k)
    frame = prepared.frame
    with timings.stage("final fit"):
        km, labels0 = final_model(prepared.X, result, plan.seed)
        if km is not result.model:  # refined on every row: show the final fit's figures
            plan, results = refined(prepared.X, plan, results, km)
        like = None
        if settings.like is not None:
            X_old = earlier_space(frame.data, frame.reference_date, settings.like)
            renumber(km, match_to_model(X_old, labels0, choice.k, settings.like))
            labels0 = km.labels_
            where = settings.like_path or "an earlier model"
            like = like_report(X_old, labels0, choice.k, settings.like, where)
    with timings.stage("profiles"):
        stats = segment_stats(prepared.features, labels0, prepared.schema)
        model = segment_model(prepared, plan, results, choice.k, km, prepared.X, stats)
    seg = finish_segmentation(
        prepared, plan, results, choice, model, labels0, stats, comparison, timings
    )
    seg.like = like
    return seg


def sweep_timings(prepared: Prepared, plan: SweepPlan, results: list[KResult]) -> Timings:
    """The preparation's timings with the sweep's: from its plan to its last k."""
    timings = prepared.timings.then(plan.threads)
    if results:
        timings.add("sweep", max(r.finished for r in results) - plan.started)
    return timings


def refined(
    X: np.ndarray, plan: SweepPlan, results: list[KResult], km: KMeans
) -> tuple[SweepPlan, list[KResult]]:
    """The sweep with the chosen k's row replaced by the final fit's figures on every row."""
    k = km.n_clusters
    _, rows = sample_rows(plan)
    values = silhouette_values(pairwise_euclidean(X[rows]), km.labels_[rows])
    final = dataclasses.replace(
        next(r for r in results if r.k == k),
        inertia=float(km.inertia_),
        sizes=np.bincount(km.labels_, minlength=k).tolist(),
        labels=km.labels_,
        model=km,
        silhouette=float(values.mean()),
        silhouettes=values.astype(np.float32),
    )
    refreshed = [final if r.k == k else r for r in results]
    return dataclasses.replace(plan, refined=k), refreshed


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
        customers_sheet=frame.plan.customers,
        transactions_sheet=frame.plan.transactions,
        segment_sizes=[stats.sizes.get(s, 0) for s in range(1, k + 1)],
        numeric_summary={
            c: {"mean": float(stats.base_mean[c]), "std": float(stats.base_std[c])}
            for c in schema.numeric
        },
        category_shares={
            c: {str(v): float(s) for v, s in stats.base_shares[c].items()}
            for c in schema.categorical
        },
        distance_p99=distance_p99(X, km.cluster_centers_),
        weights=dict(prepared.weights),
        metrics=[r.to_dict() for r in results],
    )


P99_ROWS = 1_000_000  # the 99th percentile distance is measured on at most this many rows


def distance_p99(X: np.ndarray, centres: np.ndarray) -> float:
    """The 99th percentile of the rows' distances to their nearest centre (on a fixed random
    sample of P99_ROWS rows in larger tables): what scoring calls far from every segment."""
    sample = X if len(X) <= P99_ROWS else X[row_sample(len(X), P99_ROWS, 0)]
    return float(np.percentile(assign(sample, centres).distances, 99))


def finish_segmentation(
    prepared: Prepared,
    plan: SweepPlan,
    results: list[KResult],
    choice: Choice,
    model: SegmentModel,
    labels0: np.ndarray,
    stats: SegmentStats,
    comparison: pd.DataFrame | None = None,
    timings: Timings | None = None,
) -> Segmentation:
    """Profiles and words from `stats`; stability and relevance from `labels0` (0-based, one
    per row of prepared.features: every customer, or the Spark engine's driver sample)."""
    frame, schema = prepared.frame, prepared.schema
    timings = timings or sweep_timings(prepared, plan, results)
    profiles = profile_segments(stats, schema, frame.titles)
    result = next(r for r in results if r.k == choice.k)
    with timings.stage("stability"):
        stab_idx = stability_sample(len(labels0), plan.seed)
        per_segment = segment_stability(labels0[stab_idx], result.resamples, choice.k)
    for p in profiles:
        p.stability = per_segment[p.segment - 1]
        p.description = describe(p, frame.meanings)
        p.action, p.recommendation = recommend(p, frame.meanings)
    with timings.stage("relevance"):
        relevance = feature_relevance(prepared.features, labels0, schema, frame.titles)
        advice = relevance_advice(prepared.features, schema, plan, results, relevance)
    labels = labels0.astype(np.int64) + 1
    return Segmentation(
        prepared,
        plan,
        results,
        choice,
        model,
        labels,
        profiles,
        relevance,
        advice,
        comparison,
        timings=timings,
    )
