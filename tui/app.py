"""The Textual app: four screens over one Session; screens post intents, workers post results.

Its parts: tui.base (session, workers, failures), tui.loading, tui.sweeping and
tui.handing_over (the intents and results of each), tui.commands (the palette).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from pathlib import Path
from typing import cast

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from segscope.tui.commands import palette_commands
from segscope.tui.handing_over import HandingOver
from segscope.tui.loading import Loading
from segscope.tui.messages import OpenPath
from segscope.tui.modes import SCREENS
from segscope.tui.screens.data import DataScreen
from segscope.tui.screens.dialogs import ConfirmScreen, HelpScreen
from segscope.tui.sweeping import Sweeping


def later(module: str, name: str) -> Callable[[], Screen]:
    """A screen made when first shown: its module (charts, tables) is imported then, so that
    the first screen does not wait for it."""

    def make() -> Screen:
        return cast(Screen, getattr(import_module(f"segscope.tui.screens.{module}"), name)())

    return make


class SegscopeApp(Loading, Sweeping, HandingOver):
    """Customer segmentation with K-Means, from the keyboard."""

    TITLE = "segscope"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it
    MODES = {
        "data": DataScreen,
        "sweep": later("sweep", "SweepScreen"),
        "segments": later("segments", "SegmentsScreen"),
        "export": later("export", "ExportScreen"),
    }
    DEFAULT_MODE = "data"
    BINDINGS = [  # shown in every screen's top bar (tui.widgets.bar), not in the footer
        *(
            Binding(m.key, f"switch_mode('{m.name}')", m.title, show=False, id=f"screen.{m.name}")
            for m in SCREENS
        ),
        Binding("question_mark,f1", "help", "Help", key_display="?", show=False, id="app.help"),
        Binding("q,ctrl+q", "quit_app", "Quit", key_display="q", show=False, id="app.quit"),
    ]

    def on_mount(self) -> None:
        if self.initial_path is not None:
            self.post_message(OpenPath(self.initial_path))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from palette_commands(
            self.session,
            self.post_message,
            self.switch_mode,
            self.ask_score,
            self.ask_like,
            self.ask_previous,
        )

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_quit_app(self) -> None:
        if not self.session.sweeping:
            self.exit()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.workers.cancel_all()
                self.exit()

        self.push_screen(ConfirmScreen("A sweep is running. Quit anyway?"), answer)
