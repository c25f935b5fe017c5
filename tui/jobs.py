"""The app's long work, run in thread workers: each job reads its inputs, calls the engine and
posts its result as a message (tui.messages); none touches the session or a widget. The engine
and the writers are imported by the jobs, in their threads: the first screen never waits for
pandas or scikit-learn."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import get_current_worker

from segscope.core.errors import Cancelled
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.timings import stages_to
from segscope.tui.messages import (
    Compared,
    Exported,
    LikeLoaded,
    Opened,
    PreviousLoaded,
    Reprepared,
    Scored,
    Segmented,
    StageStarted,
    SweepStarted,
    SweepStep,
    SweepStopped,
)
from segscope.tui.state import SweepRun

if TYPE_CHECKING:
    from segscope.core.engines.interface import Engine
    from segscope.core.engines.results import Prepared, Segmentation
    from segscope.core.sources.reading import Source

Post = Callable[[Message], object]


def said(post: Post, stage: str) -> None:
    """Tell the app that a stage of the work began."""
    post(StageStarted(stage))


def open_file(
    make_engine: Callable[[], Engine], location: str, choices: DataChoices, post: Post
) -> None:
    """Read a file (or open a database) and prepare its customer table (on the engine made
    here, off the UI thread)."""
    with stages_to(partial(said, post)):
        engine = make_engine()
        source = engine.open(location)
        prepared = engine.prepare(source, choices)
    post(Opened(location, source, prepared))


def reprepare(engine: Engine, source: Source, choices: DataChoices, post: Post) -> None:
    """Prepare the loaded tables again with other choices."""
    with stages_to(partial(said, post)):
        prepared = engine.prepare(source, choices)
    post(Reprepared(prepared))


def sweep(
    engine: Engine,
    location: str,
    source: Source,
    prepared: Prepared,
    choices: DataChoices,
    settings: SweepSettings,
    post: Post,
) -> None:
    """Sweep k on `engine` (preparing there first if the data was prepared elsewhere), then
    segment with the best k; the worker's cancellation stops it between steps."""
    from segscope.core.engines.interface import Ready, Started, stream
    from segscope.core.engines.results import Segmentation

    worker = get_current_worker()

    def stop() -> bool:  # asked from this thread and from the engine's own watcher threads
        return worker.is_cancelled

    steps = stream(
        engine, location, choices, settings, source=source, prepared=prepared, should_stop=stop
    )
    try:
        with stages_to(partial(said, post)):
            for step in steps:
                if isinstance(step, Ready):
                    post(Reprepared(step.prepared, step.source))
                elif isinstance(step, Started):
                    post(SweepStarted(step.setup, step.prepared))
                elif isinstance(step, Segmentation):
                    post(Segmented(step))
                else:
                    post(SweepStep(step))
    except Cancelled:
        post(SweepStopped())


def fit(run: SweepRun, settings: SweepSettings, post: Post) -> None:
    """Segment with another k of a finished (or cancelled) sweep."""
    assert run.setup is not None
    with stages_to(partial(said, post)):
        segmentation = run.engine.segment(run.prepared, run.setup, list(run.results), settings)
    post(Segmented(segmentation))


def compare(run: SweepRun, a: int, b: int, post: Post) -> None:
    """How the segments of k=a split or merge at k=b, counted by the sweep's engine."""
    post(Compared(run.engine.compare(run.prepared, list(run.results), a, b)))


def export(seg: Segmentation, target: Path, force: bool, inputs: list[Path], post: Post) -> None:
    """Write the output folder."""
    from segscope.core.outputs.folders import write_outputs

    post(Exported(write_outputs(seg, target, force, inputs)))


def score(model_path: Path, data: Path, target: Path, previous: Path | None, post: Post) -> None:
    """Label a file with a saved model and write the scoring outputs (with who moved since
    `previous`, an earlier run's labels)."""
    from segscope.core.models.movement import read_earlier
    from segscope.core.models.scoring import score_file
    from segscope.core.outputs.folders import write_score_outputs

    inputs = [data, model_path, *([previous] if previous else [])]
    earlier = read_earlier(previous) if previous else None
    model, result = score_file(model_path, data, earlier)
    written = write_score_outputs(model, result, str(data), target, inputs=inputs)
    post(Scored(model, result, written))


def load_previous(path: Path, post: Post) -> None:
    """Read an earlier run's labels to say who moved since."""
    from segscope.core.models.movement import read_earlier

    post(PreviousLoaded(read_earlier(path), path))


def load_like(path: Path, post: Post) -> None:
    """Read a saved model to number segments like it."""
    from segscope.core.models.model import load_model

    model, warnings = load_model(path)
    post(LikeLoaded(model, path, warnings))
