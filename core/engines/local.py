"""The local engine: pandas and scikit-learn on this machine.

prepare_tables -> Prepared -> start_sweep -> a KResult per k -> segment -> Segmentation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
import pandas as pd

from segscope.core import LOCAL
from segscope.core.clustering.choice import choose_k
from segscope.core.clustering.crosstab import compare_k
from segscope.core.clustering.final import final_model, refined, renumber
from segscope.core.clustering.sweep import (
    KResult,
    SweepSetup,
    run_sweep,
    set_up_sweep,
)
from segscope.core.describing.profiles import (
    segment_stats,
)
from segscope.core.engines.results import Labelled, Prepared, Segmentation
from segscope.core.engines.steps import (
    customer_cells,
    finish_segmentation,
    rules_and_cells,
    segment_model,
    sweep_timings,
)
from segscope.core.errors import DataError
from segscope.core.features.executors import source_frame
from segscope.core.files import OutputFolder
from segscope.core.locations import about, display_name
from segscope.core.models.movement import Movement, who_moved
from segscope.core.models.numbering import earlier_space, like_report, match_to_model
from segscope.core.preparing.choosing import decide_features
from segscope.core.preparing.preprocess import (
    column_owners,
    fit_and_hold,
    gaps_of,
    missing_shares,
)
from segscope.core.processes import beside, spare_core
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.sources.reading import Source, read_source

PREPARE_SEED = 0  # the preprocessing's own sample (above 50,000 rows) is the same every run


def prepare_tables(
    source: Source | dict[str, pd.DataFrame], choices: DataChoices | None = None
) -> Prepared:
    """The local engine's preparation: customers frame, roles, fitted preprocessing, matrix."""
    if not isinstance(source, Source):
        source = Source("", dict(source))
    choices = choices or DataChoices()
    timings = source.timings.then()
    with timings.stage("features"):
        frame, left_out_in = source_frame(source, choices)
        where = f"{display_name(source.location)}: " if source.location else ""
        if len(frame.data) < 3:
            raise DataError(
                f"{where}only {len(frame.data)} customer(s): segmenting needs at least 3 rows."
            )
        left_out = left_out_in.get(frame.plan.customers or "", {})
        schema, features = decide_features(frame, choices, left_out)
    with timings.stage("preprocess"):
        missing = missing_shares(features, schema, frame.data)
        pre, X = fit_and_hold(schema, features, PREPARE_SEED, choices.weights, missing)
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
        column_owners(pre),
        gaps,
        timings=timings,
    )


def start_sweep(
    prepared: Prepared,
    settings: SweepSettings | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[SweepSetup, Iterator[KResult]]:
    """The setup (k clamped, sampling decided) and an iterator yielding each k as it finishes."""
    settings = settings or SweepSettings()
    setup = set_up_sweep(prepared.X, settings.ks, settings.seed)
    return setup, run_sweep(prepared.X, setup, should_stop)


def segment(
    prepared: Prepared,
    setup: SweepSetup,
    results: list[KResult],
    settings: SweepSettings | None = None,
) -> Segmentation:
    """Choose k (or take settings.k), fit the final model, label and profile every customer.

    With settings.like, segments are numbered to match that earlier model's (by nearest
    centre); with settings.compare, the segments of those two k are cross-tabulated.
    """
    settings = settings or SweepSettings()
    timings = sweep_timings(prepared, setup, results)
    choice = choose_k(results, settings.k, setup.one)
    comparison = compare_k(results, *settings.compare) if settings.compare else None
    result = next(r for r in results if r.k == choice.k)
    frame = prepared.frame
    with timings.stage("final fit"):
        km, clusters = final_model(prepared.X, result, setup.seed)
        if km is not result.model:  # refined on every row: show the final fit's figures
            setup, results = refined(prepared.X, setup, results, km)
        like = None
        if settings.like is not None:
            X_old = earlier_space(frame.data, frame.reference_date, settings.like)
            renumber(km, match_to_model(X_old, clusters, choice.k, settings.like))
            clusters = km.labels_
            where = settings.like_path or "an earlier model"
            like = like_report(X_old, clusters, choice.k, settings.like, where)
    # work beside this on the core the sweep was given besides this one: in a helper process
    # (core.processes.beside) the rules, which need only the final labels, while the profiles
    # and the relevance check run here, and the model's bytes; on more rows than helpers take,
    # the per-customer outputs (settings.ahead), which need only the labels and the RFM cells,
    # on a thread (Arrow's work, which leaves the interpreter lock)
    spare = spare_core(setup.threads, prepared.rows)
    cells = None
    if settings.ahead is not None and setup.threads > 1 and not spare:
        with timings.stage("rules"):
            cells = customer_cells(prepared)
        rfm = None if isinstance(cells, str) else cells
        # the segments as the smallest integers (a byte each for ten million customers)
        labels = (clusters + 1).astype(np.min_scalar_type(choice.k))
        settings.ahead(Labelled(prepared, labels, rfm))
    if spare:
        found = beside(rules_and_cells, prepared, clusters, setup.seed, cells)
    else:
        found = partial(rules_and_cells, prepared, clusters, setup.seed, cells)
    with timings.stage("profiles"):
        stats = segment_stats(prepared.typed, clusters, prepared.schema)
        model = segment_model(prepared, setup, results, choice.k, km, prepared.X, stats)
        if settings.saving:
            model.dump_ahead(settings.standby, spare)
    seg = finish_segmentation(
        prepared, setup, results, choice, model, clusters, stats, comparison, timings, found
    )
    seg.like = like
    if settings.previous is not None:
        seg.movement = moved_since(seg, settings)
    return seg


def moved_since(seg: Segmentation, settings: SweepSettings) -> Movement:
    """Who moved since the earlier labels `settings.previous`, matched by the key."""
    assert settings.previous is not None
    return who_moved(
        settings.previous,
        seg.labels_frame(),
        seg.choice.k,
        {p.segment: p.action for p in seg.profiles},
        seg.numbered_like(),
        settings.like_path or "the model this run was numbered like",
        display_name(seg.prepared.source) or "this run's data",
    )


class LocalEngine:
    """pandas and scikit-learn on this machine."""

    name = LOCAL
    identity = LOCAL

    def open(self, location: str) -> Source:
        return read_source(location)

    def prepare(self, source: Source, choices: DataChoices) -> Prepared:
        with about(source.location):
            return prepare_tables(source, choices)

    def start_sweep(
        self,
        prepared: Prepared,
        settings: SweepSettings,
        should_stop: Callable[[], bool] | None = None,
    ) -> tuple[SweepSetup, Iterator[KResult]]:
        return start_sweep(prepared, settings, should_stop)

    def segment(
        self, prepared: Prepared, setup: SweepSetup, results: list[KResult], settings: SweepSettings
    ) -> Segmentation:
        return segment(prepared, setup, results, settings)

    def compare(self, prepared: Prepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
        return compare_k(results, a, b)

    def check_outputs(self, folder: OutputFolder) -> bool:
        return folder.check()
