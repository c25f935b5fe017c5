"""A one-line prompt for a table's search, at the bottom of the screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class SearchPrompt(ModalScreen[str | None]):
    """Ask what to find; Enter finds it, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    SearchPrompt { align: left bottom; background: $background 30%; }
    SearchPrompt > #search-box { height: 1; width: 100%; background: $panel; }
    SearchPrompt Label { width: auto; padding: 0 1; }
    SearchPrompt Input { width: 1fr; border: none; height: 1; padding: 0; }
    """

    def __init__(self, value: str = "") -> None:
        super().__init__()
        self.value = value

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        with Horizontal(id="search-box"):
            yield Label("find:")
            yield Input(self.value, id="needle", select_on_focus=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
