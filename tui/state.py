"""What the app knows: one Session, changed only on the app's own thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from segscope.core.locations import database_kind, display_name
from segscope.core.settings import DataChoices, EngineSettings, SweepSettings

if TYPE_CHECKING:
    from segscope.core.clustering.sweep import KResult, SweepSetup
    from segscope.core.engines.interface import Engine
    from segscope.core.engines.results import Prepared, Segmentation
    from segscope.core.sources.reading import Source


@dataclass
class SweepRun:
    """A sweep: the engine that ran it, on what data, and the k values finished so far."""

    engine: Engine
    prepared: Prepared
    setup: SweepSetup | None = None
    results: list[KResult] = field(default_factory=list)


@dataclass
class Session:
    """The loaded data, the sweep so far and the segments: the single source of truth."""

    engine_settings: EngineSettings = field(default_factory=EngineSettings)
    choices: DataChoices = field(default_factory=DataChoices)
    settings: SweepSettings = field(default_factory=SweepSettings)
    location: str | None = None  # what is loaded: a file's path or a database's URL
    source: Source | None = None
    prepared: Prepared | None = None
    loading: str | None = None  # a location being opened
    problem: str = ""  # what failed last (shown until the next action)
    stage: str = ""  # the stage of the work running now (core.timings.STAGES)
    preparing: bool = False
    queued: SweepSettings | None = None  # a sweep asked for while the data was still loading
    run: SweepRun | None = None
    sweeping: bool = False
    cancelled: bool = False
    segmentation: Segmentation | None = None
    exported: list[Path | str] = field(default_factory=list)  # files, or a labels URL

    @property
    def name(self) -> str:
        """What is loaded, as it is shown (a URL's password masked)."""
        return display_name(self.location) if self.location else ""

    @property
    def inputs(self) -> list[Path]:
        """The loaded file (outputs never replace it); a database is not a file."""
        return [Path(self.location)] if self.location and not database_kind(self.location) else []

    @property
    def results(self) -> list[KResult]:
        return self.run.results if self.run else []

    @property
    def setup(self) -> SweepSetup | None:
        return self.run.setup if self.run else None

    def forget_results(self) -> None:
        """Forget the sweep and segments (the data or its roles changed)."""
        self.run, self.segmentation, self.cancelled, self.exported = None, None, False, []


class SessionApp(Protocol):
    """What the screens need of the app: the session and its change counter."""

    session: Session
    version: int
    initial_path: str | None  # the location the app was started with
