"""The app's long work, run in thread workers: each job reads its inputs, calls the engine and
posts its result as a message (tui.messages); none touches the session or a widget."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.message import Message
from textual.worker import get_current_worker

from segscope.core.analysis import Prepared, Segmentation
from segscope.core.engine import Engine, needs_preparing
from segscope.core.errors import Cancelled
from segscope.core.model import load_model
from segscope.core.readers import Source
from segscope.core.report import write_outputs, write_score_outputs
from segscope.core.scoring import score_file
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.sweep import KResult
from segscope.tui.messages import (
    Compared,
    Exported,
    LikeLoaded,
    Opened,
    Reprepared,
    Scored,
    Segmented,
    SweepStarted,
    SweepStep,
    SweepStopped,
)
from segscope.tui.state import SweepRun

Post = Callable[[Message], object]


def open_file(engine: Engine, path: Path, choices: DataChoices, post: Post) -> None:
    """Read a file and prepare its customer table."""
    source = engine.open(str(path))
    post(Opened(path, source, engine.prepare(source, choices)))


def reprepare(engine: Engine, source: Source, choices: DataChoices, post: Post) -> None:
    """Prepare the loaded tables again with other choices."""
    post(Reprepared(engine.prepare(source, choices)))


def sweep(
    engine: Engine,
    path: Path,
    source: Source,
    prepared: Prepared,
    choices: DataChoices,
    settings: SweepSettings,
    post: Post,
) -> None:
    """Sweep k on `engine` (preparing there first if the data was prepared elsewhere), then
    segment with the best k; the worker's cancellation stops it between steps."""
    worker = get_current_worker()

    def stop() -> bool:  # asked from this thread and from the engine's own watcher threads
        return worker.is_cancelled

    if needs_preparing(prepared, engine, choices):
        if source.engine != engine.identity:
            source = engine.open(str(path))
        prepared = engine.prepare(source, choices)
        post(Reprepared(prepared, source))
    if stop():
        post(SweepStopped())
        return
    plan, results = engine.start_sweep(prepared, settings, stop)
    post(SweepStarted(plan, prepared))
    done: list[KResult] = []
    try:
        for r in results:
            done.append(r)
            post(SweepStep(r))
            if stop():
                raise Cancelled()
    except Cancelled:
        post(SweepStopped())
        return
    post(Segmented(engine.segment(prepared, plan, done, settings)))


def fit(run: SweepRun, settings: SweepSettings, post: Post) -> None:
    """Segment with another k of a finished (or cancelled) sweep."""
    assert run.plan is not None
    post(Segmented(run.engine.segment(run.prepared, run.plan, list(run.results), settings)))


def compare(run: SweepRun, a: int, b: int, post: Post) -> None:
    """How the segments of k=a split or merge at k=b, counted by the sweep's engine."""
    post(Compared(run.engine.compare(run.prepared, list(run.results), a, b)))


def export(seg: Segmentation, target: Path, force: bool, inputs: list[Path], post: Post) -> None:
    """Write the output folder."""
    post(Exported(write_outputs(seg, target, force, inputs)))


def score(model_path: Path, data: Path, target: Path, post: Post) -> None:
    """Label a file with a saved model and write the scoring outputs."""
    model, result = score_file(model_path, data)
    written = write_score_outputs(model, result, str(data), target, inputs=[data, model_path])
    post(Scored(model, result, written))


def load_like(path: Path, post: Post) -> None:
    """Read a saved model to number segments like it."""
    model, warnings = load_model(path)
    post(LikeLoaded(model, path, warnings))
