"""The seam between the UIs and where the work runs: one interface, a local and a Spark engine.

The CLI and the TUI ask `engine_for(settings)` and call `open`, `prepare`, `start_sweep` and
`segment`; they never know whether scikit-learn on this machine or a Spark cluster does the
work. A Prepared data set is bound to the engine that prepared it (`identity`) and to the
choices it was prepared with: `needs_preparing` says when it must be prepared again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from segscope.core import ENGINES, LOCAL
from segscope.core.clustering.sweep import KResult, SweepSetup
from segscope.core.engines.local import LocalEngine
from segscope.core.engines.results import Prepared, Segmentation
from segscope.core.errors import Cancelled, DataError
from segscope.core.files import OutputFolder
from segscope.core.locations import about, display_name
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
    ) -> tuple[SweepSetup, Iterator[KResult]]:
        """The setup and an iterator yielding each k as it finishes (Cancelled when stopped)."""
        ...

    def segment(
        self, prepared: Prepared, setup: SweepSetup, results: list[KResult], settings: SweepSettings
    ) -> Segmentation:
        """Choose k (or take settings.k), fit, label and profile every customer."""
        ...

    def compare(self, prepared: Prepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
        """Customers in each pair of segments of k=a and k=b of the sweep."""
        ...

    def check_outputs(self, folder: OutputFolder) -> bool:
        """Refuse, before any work, outputs that may not be written (OutputExists); whether
        writing them replaces an earlier segscope output."""
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


@dataclass(frozen=True)
class Ready:
    """The data is prepared (on the engine that will sweep it)."""

    source: Source
    prepared: Prepared


@dataclass(frozen=True)
class Started:
    """The sweep is set up (its k values clamped, its samples decided)."""

    setup: SweepSetup
    prepared: Prepared


Step = Ready | Started | KResult | Segmentation


def stream(
    engine: Engine,
    location: str,
    choices: DataChoices,
    settings: SweepSettings,
    *,
    source: Source | None = None,
    prepared: Prepared | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Step]:
    """Read, prepare, sweep and segment, yielding each step as it is done: Ready (unless
    `prepared` can be swept as it is), Started, a KResult per k, and last the Segmentation.
    `source`: the location already read (opened again when another engine read it). Cancelled
    when `should_stop()` says so between two steps."""
    if prepared is None or needs_preparing(prepared, engine, choices):
        given = source
        if source is None or source.engine != engine.identity:
            source = engine.open(location)
        try:
            prepared = engine.prepare(source, choices)
        except BaseException:
            if source is not given:  # opened here, never handed over: let go of its database
                source.close()
            raise
        yield Ready(source, prepared)
    check_previous(prepared, settings)
    setup, results = engine.start_sweep(prepared, settings, should_stop)
    yield Started(setup, prepared)
    done = []
    for result in results:
        done.append(result)
        yield result
        if should_stop and should_stop():
            raise Cancelled()
    yield engine.segment(prepared, setup, done, settings)


def check_previous(prepared: Prepared, settings: SweepSettings) -> None:
    """Before the sweep: earlier labels to say who moved since need a customer key here too."""
    earlier = settings.previous
    if earlier is not None and prepared.frame.key is None:
        raise DataError(
            f"{display_name(prepared.source) or 'the data'} has no customer key, so its "
            f"customers cannot be matched with {earlier.location} (which has "
            f"{quoted(earlier.key, 40)}). Choose the key column (--key)."
        )


def analyse(
    location: str | Path,
    choices: DataChoices | None = None,
    settings: SweepSettings | None = None,
    engine: Engine | None = None,
    *,
    on_prepared: Callable[[Prepared], None] | None = None,
    on_result: Callable[[KResult, SweepSetup], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    opened: Callable[[], Source] | None = None,
) -> Segmentation:
    """Read, prepare, sweep and segment in one call (the headless command); `opened`: the
    location already being read (sources.reading.read_ahead), for the local engine."""
    engine = engine or LocalEngine()
    setup: SweepSetup | None = None
    read: Source | None = None
    with about(location):
        try:
            read = opened() if opened else None
            for step in stream(
                engine,
                str(location),
                choices or DataChoices(),
                settings or SweepSettings(),
                source=read,
                should_stop=should_stop,
            ):
                if isinstance(step, Ready):
                    if read is not None and read is not step.source:
                        read.close()  # read again by another engine
                    read = step.source
                    if on_prepared:
                        on_prepared(step.prepared)
                elif isinstance(step, Started):
                    setup = step.setup
                elif isinstance(step, KResult) and on_result and setup is not None:
                    on_result(step, setup)
                elif isinstance(step, Segmentation):
                    return step
        finally:
            if read is not None:
                read.close()  # the run is over: its database is let go of
    raise AssertionError("a stream ends with its segmentation")
