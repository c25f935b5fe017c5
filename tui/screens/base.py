"""What every main screen shares: header, footer and redrawing when the session changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from segscope.tui.state import Session

if TYPE_CHECKING:
    from segscope.tui.app import SegscopeApp


class SessionScreen(Screen[None]):
    """A screen that shows part of the Session and redraws when it changes.

    Text inputs are left with Esc (or Enter) for the screen's HOME widget, so that single-key
    bindings such as 1-4 and q work again.
    """

    HOME: ClassVar[str] = ""  # selector of the widget that has focus when no input is edited
    LEAVE_INPUT = Binding("escape", "leave_input", "Done editing", show=False)

    @property
    def seg_app(self) -> SegscopeApp:
        from segscope.tui.app import SegscopeApp

        return cast(SegscopeApp, self.app)

    @property
    def session(self) -> Session:
        return self.seg_app.session

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
