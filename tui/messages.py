"""Messages: what the screens ask the app for (intents), and what its workers report (results).

Screens never call the app: they post an intent, which bubbles up to the app. Workers never
touch the session or a widget: they post a result, which the app applies on its own thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    import pandas as pd

    from segscope.core.clustering.sweep import KResult, SweepSetup
    from segscope.core.engines.results import Prepared, Segmentation
    from segscope.core.models.model import SegmentModel
    from segscope.core.models.movement import EarlierLabels
    from segscope.core.models.scoring import ScoreResult
    from segscope.core.settings import DataChoices, SweepSettings
    from segscope.core.sources.reading import Source


# --- intents (screens -> app) ------------------------------------------------------------------


class OpenPath(Message):
    """Open a file or a database (a path, or a URL)."""

    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location


class ChangeChoices(Message):
    """Prepare the loaded data again with other sheets, roles or weights."""

    def __init__(self, choices: DataChoices) -> None:
        super().__init__()
        self.choices = choices


class RunSweep(Message):
    """Sweep k with these settings."""

    def __init__(self, settings: SweepSettings) -> None:
        super().__init__()
        self.settings = settings


class CancelSweep(Message):
    """Stop the running sweep after the current k."""


class ChooseK(Message):
    """Fit the segments of another k of the sweep."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k


class CompareK(Message):
    """Show how the segments of k=a split or merge at k=b."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__()
        self.a, self.b = a, b


class SwitchEngine(Message):
    """Run later sweeps on the next engine."""


class ExportTo(Message):
    """Write the output folder."""

    def __init__(self, target: Path, force: bool) -> None:
        super().__init__()
        self.target, self.force = target, force


class CopySegments(Message):
    """Copy the segment table to the clipboard."""


class ScoreWith(Message):
    """Label a file's customers with a saved model (and say who moved since `previous`, an
    earlier run's labels)."""

    def __init__(self, model: Path, data: Path, target: Path, previous: Path | None = None) -> None:
        super().__init__()
        self.model, self.data, self.target, self.previous = model, data, target, previous


# --- results (workers -> app) ------------------------------------------------------------------


class StageStarted(Message):
    """A stage of the work began (core.timings.STAGES: load, features, ... write)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class Opened(Message):
    """A file was read and prepared."""

    def __init__(self, location: str, source: Source, prepared: Prepared) -> None:
        super().__init__()
        self.location, self.source, self.prepared = location, source, prepared


class Reprepared(Message):
    """The loaded data was prepared again."""

    def __init__(self, prepared: Prepared, source: Source | None = None) -> None:
        super().__init__()
        self.prepared, self.source = prepared, source


class SweepStarted(Message):
    """The sweep's setup is made, on the data the engine prepared."""

    def __init__(self, setup: SweepSetup, prepared: Prepared) -> None:
        super().__init__()
        self.setup, self.prepared = setup, prepared


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


class Compared(Message):
    """Customers per pair of segments of two k."""

    def __init__(self, table: pd.DataFrame) -> None:
        super().__init__()
        self.table = table


class Exported(Message):
    """The output folder was written."""

    def __init__(self, files: list[Path | str]) -> None:
        super().__init__()
        self.files = files


class Scored(Message):
    """A file's customers were labelled with a saved model."""

    def __init__(self, model: SegmentModel, result: ScoreResult, written: list[Path]) -> None:
        super().__init__()
        self.model, self.result, self.written = model, result, written


class PreviousLoaded(Message):
    """An earlier run's labels to say who moved since were read."""

    def __init__(self, earlier: EarlierLabels, path: Path) -> None:
        super().__init__()
        self.earlier, self.path = earlier, path


class LikeLoaded(Message):
    """A saved model to number segments like was read."""

    def __init__(self, model: SegmentModel, path: Path, warnings: list[str]) -> None:
        super().__init__()
        self.model, self.path, self.warnings = model, path, warnings
