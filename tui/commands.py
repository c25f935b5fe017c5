"""The command palette's entries (ctrl+p): every action by name, as the session allows."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import SystemCommand
from textual.message import Message

from segscope.tui.messages import CancelSweep, CopySegments, RunSweep
from segscope.tui.modes import SCREENS
from segscope.tui.state import Session


def palette_commands(
    session: Session,
    post: Callable[[Message], object],
    switch: Callable[[str], object],
    ask_score: Callable[[], object],
    ask_like: Callable[[], object],
    ask_previous: Callable[[], object],
) -> Iterable[SystemCommand]:
    """segscope's own commands for the palette."""
    for mode in SCREENS:
        yield SystemCommand(
            f"Go to {mode.title}", f"Show the {mode.title} screen", lambda m=mode.name: switch(m)
        )
    yield SystemCommand(
        "Run sweep", "Sweep k with the current settings", lambda: post(RunSweep(session.settings))
    )
    if session.sweeping:
        yield SystemCommand("Cancel sweep", "Stop after the current k", lambda: post(CancelSweep()))
    yield SystemCommand("Score new customers", "Label a file with a saved model", ask_score)
    yield SystemCommand(
        "Number segments like a saved model",
        "Keep segment numbers stable across re-runs (match by who is in which segment)",
        ask_like,
    )
    yield SystemCommand(
        "Who moved since an earlier run",
        "Match customers with an earlier run's labels.csv by key: who changed segment",
        ask_previous,
    )
    if session.segmentation is not None:
        yield SystemCommand(
            "Export", "Write labels, profiles, report and model", lambda: switch("export")
        )
        yield SystemCommand(
            "Copy segment table", "Copy to the clipboard (OSC 52)", lambda: post(CopySegments())
        )
