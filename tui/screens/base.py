"""What every main screen shares: header, footer and redrawing when the session changes."""

from __future__ import annotations

from typing import ClassVar, cast

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from segscope.tui.state import Session, SessionApp
from segscope.tui.widgets.bar import AppBar


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
        self.watch(self.app, "version", lambda _: self._redraw(), init=False)
        self._redraw()

    def on_screen_resume(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._show_bar()

    def _redraw(self) -> None:
        self._show_bar()
        self.sync()

    def _show_bar(self) -> None:
        for bar in self.query(AppBar):
            bar.show(self.app.current_mode, self.session.name, self.size.width)

    def sync(self) -> None:
        """Redraw from the session."""

    def action_leave_input(self) -> None:
        if isinstance(self.focused, Input) and self.HOME:
            self.query_one(self.HOME).focus()
