"""The seam between the UIs and where the work runs: one interface, a local and a Spark engine.

The CLI and the TUI ask `engine_for(settings)` and call `open`, `prepare`, `start_sweep` and
`segment`; they never know whether scikit-learn on this machine or a Spark cluster does the
work. A Prepared data set is bound to the engine that prepared it (`identity`) and to the
choices it was prepared with: `needs_preparing` says when it must be prepared again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pandas as pd

from segscope.core import ENGINES, LOCAL
from segscope.core.clustering.sweep import KResult, SweepPlan
from segscope.core.engines.local import LocalEngine
from segscope.core.engines.results import Prepared, Segmentation
from segscope.core.errors import DataError
from segscope.core.files import OutputFolder
from segscope.core.locations import about
from segscope.core.settings import DataChoices, EngineSettings, SweepSettings
from segscope.core.sources.reading import Source
from segscope.core.text import quoted


class Engine(Protocol):
    """Read, prepare, sweep k, fit and profile the chosen segments."""

    name: str

    @property
    def identity(self) -> str:
        """The engine and where it runs: what a Prepared data set is bound to."""
        ...

    def open(self, location: str) -> Source:
        """The tables at `location` (read, or opened where the engine reads them)."""
        ...

    def prepare(self, source: Source, choices: DataChoices) -> Prepared:
        """The customer table, roles and transformed matrix, as `choices` say."""
        ...

    def start_sweep(
        self,
        prepared: Prepared,
        settings: SweepSettings,
        should_stop: Callable[[], bool] | None = None,
    ) -> tuple[SweepPlan, Iterator[KResult]]:
        """The plan and an iterator yielding each k as it finishes (Cancelled when stopped)."""
        ...

    def segment(
        self, prepared: Prepared, plan: SweepPlan, results: list[KResult], settings: SweepSettings
    ) -> Segmentation:
        """Choose k (or take settings.k), fit, label and profile every customer."""
        ...

    def compare(self, prepared: Prepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
        """Customers in each pair of segments of k=a and k=b of the sweep."""
        ...

    def check_outputs(self, folder: OutputFolder) -> None:
        """Refuse, before any work, outputs that may not be written (OutputExists)."""
        ...


def engine_for(settings: EngineSettings) -> Engine:
    """The engine `settings` ask for; the Spark one says how to install it when it is missing."""
    if settings.engine == LOCAL:
        return LocalEngine()
    if settings.engine == "spark":
        from segscope.core.engines.spark import spark_engine

        return spark_engine(settings.spark_master, settings.labels_uri)
    raise DataError(f"unknown engine {quoted(settings.engine)}: use one of {', '.join(ENGINES)}.")


def needs_preparing(prepared: Prepared | None, engine: Engine, choices: DataChoices) -> bool:
    """Whether `prepared` cannot be swept by `engine` with `choices` as it is."""
    return prepared is None or prepared.engine != engine.identity or prepared.choices != choices


def analyse(
    location: str | Path,
    choices: DataChoices | None = None,
    settings: SweepSettings | None = None,
    engine: Engine | None = None,
    *,
    on_prepared: Callable[[Prepared], None] | None = None,
    on_result: Callable[[KResult, SweepPlan], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    opened: Callable[[], Source] | None = None,
) -> Segmentation:
    """Read, prepare, sweep and segment in one call (the headless command); `opened`: the
    location already being read (sources.reading.read_ahead), for the local engine."""
    settings = settings or SweepSettings()
    engine = engine or LocalEngine()
    with about(location):
        source = opened() if opened else engine.open(str(location))
        prepared = engine.prepare(source, choices or DataChoices())
        if on_prepared:
            on_prepared(prepared)
        plan, results_iter = engine.start_sweep(prepared, settings, should_stop)
        results = []
        for r in results_iter:
            results.append(r)
            if on_result:
                on_result(r, plan)
        return engine.segment(prepared, plan, results, settings)
