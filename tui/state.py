"""What the app knows (one Session) and the messages its workers send."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from segscope.core.analysis import Options, Prepared, Segmentation
from segscope.core.io import Tables
from segscope.core.sweep import KResult, SweepPlan


@dataclass
class Session:
    """The loaded data, the sweep so far and the segments: the single source of truth."""

    path: Path | None = None
    loading: Path | None = None  # a file being read
    tables: Tables | None = None
    options: Options = field(default_factory=Options)
    prepared: Prepared | None = None
    plan: SweepPlan | None = None
    results: list[KResult] = field(default_factory=list)
    segmentation: Segmentation | None = None
    sweeping: bool = False
    cancelled: bool = False
    exported: list[Path | str] = field(default_factory=list)  # files, or a labels URL

    def reset_results(self) -> None:
        """Forget the sweep and segments (the data or its roles changed)."""
        self.plan, self.results, self.segmentation = None, [], None
        self.cancelled, self.exported = False, []


class Loaded(Message):
    """A file was read and prepared."""

    def __init__(self, path: Path, tables: Tables, prepared: Prepared) -> None:
        super().__init__()
        self.path, self.tables, self.prepared = path, tables, prepared


class Reprepared(Message):
    """The customer table was prepared again (sheet or role change)."""

    def __init__(self, prepared: Prepared) -> None:
        super().__init__()
        self.prepared = prepared


class SweepStarted(Message):
    """The sweep's plan is made, on the data the engine prepared."""

    def __init__(self, plan: SweepPlan, prepared: Prepared) -> None:
        super().__init__()
        self.plan, self.prepared = plan, prepared


class SweepStep(Message):
    """One k of the sweep finished."""

    def __init__(self, result: KResult) -> None:
        super().__init__()
        self.result = result


class SweepStopped(Message):
    """The sweep was cancelled; finished rows stay."""


class Segmented(Message):
    """The final model was fitted and the segments profiled."""

    def __init__(self, segmentation: Segmentation) -> None:
        super().__init__()
        self.segmentation = segmentation


class Exported(Message):
    def __init__(self, files: list[Path | str]) -> None:
        super().__init__()
        self.files = files
