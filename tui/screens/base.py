"""What every main screen shares: header, footer and redrawing when the session changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from tui.state import Session

if TYPE_CHECKING:
    from tui.app import SegscopeApp


class SessionScreen(Screen[None]):
    """A screen that shows part of the Session and redraws when it changes."""

    @property
    def seg_app(self) -> SegscopeApp:
        from tui.app import SegscopeApp

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
