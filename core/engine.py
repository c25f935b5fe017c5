"""The seam between the app and where the work runs: one interface, a local and a Spark engine.

The CLI and the TUI ask `engine_for(options)` and call `prepare`, `start_sweep` and `segment`;
they never know whether scikit-learn on this machine or a Spark cluster does the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pandas as pd

from segscope.core import ENGINES
from segscope.core.analysis import (
    Options,
    Prepared,
    Segmentation,
    prepare_data,
    segment,
    start_sweep,
)
from segscope.core.compare import compare_k
from segscope.core.errors import DataError
from segscope.core.io import Tables, check_output_dir, load_tables
from segscope.core.model import SegmentModel
from segscope.core.sweep import KResult, SweepPlan


class Engine(Protocol):
    """Prepare the customer table, sweep k, fit and profile the chosen segments."""

    name: str

    def prepare(
        self, source: str | Path, options: Options, tables: Tables | None = None
    ) -> Prepared:
        """Read `source` (or use `tables` already read from it) into prepared features."""
        ...

    def ready(
        self, prepared: Prepared, source: str | Path, options: Options, tables: Tables | None
    ) -> Prepared:
        """What this engine sweeps: `prepared` when it is already this engine's, for these
        options; else `source` prepared anew."""
        ...

    def start_sweep(
        self,
        prepared: Prepared,
        ks: Sequence[int],
        seed: int,
        should_stop: Callable[[], bool] | None = None,
    ) -> tuple[SweepPlan, Iterator[KResult]]:
        """The plan and an iterator yielding each k as it finishes (Cancelled when stopped)."""
        ...

    def segment(
        self,
        prepared: Prepared,
        plan: SweepPlan,
        results: list[KResult],
        k: int | None = None,
        like: SegmentModel | None = None,
        compare: tuple[int, int] | None = None,
    ) -> Segmentation:
        """Choose k (or take `k`), fit, label and profile every customer."""
        ...

    def compare(self, prepared: Prepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
        """Customers in each pair of segments of k=a and k=b of the sweep."""
        ...

    def check_outputs(self, target: Path, force: bool) -> None:
        """Refuse, before any work, outputs that exist (unless `force`): OutputExists."""
        ...


class LocalEngine:
    """pandas and scikit-learn on this machine."""

    name = "local"

    def prepare(
        self, source: str | Path, options: Options, tables: Tables | None = None
    ) -> Prepared:
        return prepare_data(load_tables(source) if tables is None else tables, options, str(source))

    def ready(
        self, prepared: Prepared, source: str | Path, options: Options, tables: Tables | None
    ) -> Prepared:
        if type(prepared) is Prepared:
            return prepared
        return self.prepare(source, options, tables)

    start_sweep = staticmethod(start_sweep)  # core.analysis's, as they are
    segment = staticmethod(segment)

    def compare(self, prepared: Prepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
        return compare_k(results, a, b)

    def check_outputs(self, target: Path, force: bool) -> None:
        check_output_dir(target, force)


def engine_for(options: Options) -> Engine:
    """The engine `options` ask for; the Spark one says how to install it when it is missing."""
    if options.engine == "local":
        return LocalEngine()
    if options.engine == "spark":
        from segscope.core.spark import spark_engine

        return spark_engine(options.spark_master, options.labels_uri)
    raise DataError(f"unknown engine '{options.engine}': use one of {', '.join(ENGINES)}.")


def analyse(
    path: str | Path,
    options: Options,
    on_result: Callable[[KResult, SweepPlan], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Segmentation:
    """Load, prepare, sweep and segment in one call (the headless command)."""
    engine = engine_for(options)
    prepared = engine.prepare(path, options)
    plan, results_iter = engine.start_sweep(prepared, options.ks, options.seed, should_stop)
    results = []
    for r in results_iter:
        results.append(r)
        if on_result:
            on_result(r, plan)
    return engine.segment(prepared, plan, results, options.k, options.like, options.compare)
