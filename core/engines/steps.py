"""The steps after the final fit that every engine shares: the saved model, profiles, words,
stability of each segment, the relevance of each feature, a rule per segment and RFM cells.

Every step here works on the customers this machine holds: every customer with the local
engine, the driver sample with Spark (whose labels for every customer Spark writes); figures
computed on a sample say so (in the rules' and the RFM cells' notes)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from segscope.core.clustering.choice import Choice
from segscope.core.clustering.final import distance_p99
from segscope.core.clustering.stability import segment_stability, stability_sample
from segscope.core.clustering.sweep import (
    KResult,
    SweepSetup,
)
from segscope.core.describing.profiles import (
    SegmentStats,
    profile_segments,
)
from segscope.core.describing.relevance import feature_relevance, relevance_advice
from segscope.core.describing.rfm import Rfm, rfm_cells
from segscope.core.describing.rules import Rules, learn_rules, own_units
from segscope.core.describing.words import describe, recommend
from segscope.core.engines.results import Prepared, Segmentation
from segscope.core.models.model import SegmentModel
from segscope.core.preparing.matrix import Matrix
from segscope.core.timings import Timings


def sweep_timings(prepared: Prepared, setup: SweepSetup, results: list[KResult]) -> Timings:
    """The preparation's timings with the sweep's: from its setup to its last k."""
    timings = prepared.timings.then(setup.threads)
    if results:
        timings.add("sweep", max(r.finished for r in results) - setup.started)
    return timings


def segment_model(
    prepared: Prepared,
    setup: SweepSetup,
    results: list[KResult],
    k: int,
    km: KMeans,
    X: Matrix,
    stats: SegmentStats,
) -> SegmentModel:
    """The saved model: the preprocessing and `km` in one pipeline, with what scoring checks
    against (the base's figures from `stats`, the 99th percentile distance of `X`)."""
    frame, schema = prepared.frame, prepared.schema
    return SegmentModel(
        pipeline=Pipeline([("preprocess", prepared.preprocessor), ("kmeans", km)]),
        schema=schema,
        k=k,
        seed=setup.seed,
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


def finish_segmentation(
    prepared: Prepared,
    setup: SweepSetup,
    results: list[KResult],
    choice: Choice,
    model: SegmentModel,
    clusters: np.ndarray,
    stats: SegmentStats,
    comparison: pd.DataFrame | None = None,
    timings: Timings | None = None,
    found: Callable[[], tuple[Rules, Rfm | str]] | None = None,
) -> Segmentation:
    """Profiles and words from `stats`; stability and relevance from `clusters` (0-based, one
    per row of prepared.typed: every customer, or the Spark engine's driver sample); the rules
    and RFM cells from `found()` (the local engine's: found beside, in a helper, or when asked),
    else from rules_and_cells."""
    frame, schema = prepared.frame, prepared.schema
    timings = timings or sweep_timings(prepared, setup, results)
    profiles = profile_segments(stats, schema, frame.titles, prepared.shares)
    result = next(r for r in results if r.k == choice.k)
    with timings.stage("stability"):
        stab_idx = stability_sample(len(clusters), setup.seed)
        per_segment = segment_stability(clusters[stab_idx], result.resamples, choice.k)
    continuum = bool(choice.no_segments)  # slices of a continuum, not kinds of customer
    for p in profiles:
        p.stability = per_segment[p.segment - 1]
        p.description = describe(p, prepared.meanings, continuum)
        p.action, p.recommendation = recommend(p, prepared.meanings, continuum)
    with timings.stage("relevance"):
        relevance = feature_relevance(prepared.typed, clusters, schema, frame.titles)
        advice = relevance_advice(
            prepared.typed, prepared.X, prepared.owners, setup, results, relevance
        )
    labels = clusters.astype(np.int64) + 1
    with timings.stage("rules"):  # the wait for them, when they were found beside
        rules, rfm = found() if found else rules_and_cells(prepared, clusters, setup.seed)
    mixes = {} if isinstance(rfm, str) else rfm.mixes(labels, choice.k)
    for p in profiles:
        p.rule = rules.rule(p.segment)
        p.rfm = mixes.get(p.segment, p.rfm)
    model.actions = [p.action for p in profiles]
    seg = Segmentation(
        prepared,
        setup,
        results,
        choice,
        model,
        labels,
        profiles,
        relevance,
        advice,
        comparison,
        timings=timings,
        rules=rules,
    )
    if isinstance(rfm, str):
        seg.rfm_missing = rfm
    else:
        seg.rfm = rfm
    return seg


def rules_and_cells(
    prepared: Prepared, clusters: np.ndarray, seed: int, cells: Rfm | str | None = None
) -> tuple[Rules, Rfm | str]:
    """A rule per segment and the RFM cells (or why there are none), on the customers of
    prepared.typed, labelled by `clusters` (0-based); `cells`: the cells, already found."""
    features = own_units(prepared.typed, prepared.frame.data, prepared.schema)
    notes = _sample_notes(prepared)
    rules = learn_rules(features, clusters.astype(np.int64) + 1, prepared.frame.titles, seed, notes)
    return rules, customer_cells(prepared) if cells is None else cells


def customer_cells(prepared: Prepared) -> Rfm | str:
    """Each customer's RFM cell (whoever the segments are), or why there are none."""
    frame = prepared.frame
    rfm = rfm_cells(frame.data, frame.meanings, frame.titles)
    if not isinstance(rfm, str):
        rfm.notes = _sample_notes(prepared)
    return rfm


def _sample_notes(prepared: Prepared) -> tuple[str, ...]:
    """What the rules and cells say when they were found on the driver sample alone."""
    held = len(prepared.typed)
    if held < prepared.rows:
        return (f"on the {held:,} customers of the driver sample, not all {prepared.rows:,}",)
    return ()
