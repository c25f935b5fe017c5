"""What every main screen shares: header, footer and redrawing when the session changes."""

from __future__ import annotations

from typing import ClassVar, cast

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from segscope.tui.state import Session, SessionApp


class SessionScreen(Screen[None]):
    """A screen that shows part of the Session and redraws when it changes.

    It reads the session and posts intents (segscope.tui.messages); it never calls the app.
    Text inputs are left with Esc (or Enter) for the screen's HOME widget, so that single-key
    bindings such as 1-4 and q work again.
    """

    HOME: ClassVar[str] = ""  # selector of the widget that has focus when no input is edited
    LEAVE_INPUT = Binding("escape", "leave_input", "Done editing", show=False)

    @property
    def state(self) -> SessionApp:
        return cast(SessionApp, self.app)

    @property
    def session(self) -> Session:
        return self.state.session

    def on_mount(self) -> None:
        self.watch(self.app, "version", lambda _: self.sync(), init=False)
        self.sync()

    def on_screen_resume(self) -> None:
        self.sync()

    def sync(self) -> None:
        """Redraw from the session."""

    def action_leave_input(self) -> None:
        if isinstance(self.focused, Input) and self.HOME:
            self.query_one(self.HOME).focus()
