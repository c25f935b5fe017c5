"""The bar at the top of every screen: what is loaded, and the keys that always work."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from segscope.core.text import one_line
from segscope.tui.modes import SCREENS


class AppBar(Static):
    """One line: segscope and the loaded file on the left; the screens (the current one marked),
    help and quit on the right."""

    DEFAULT_CSS = """
    AppBar { height: 1; background: $panel; color: $text; }
    """

    def show(self, mode: str, loaded: str, width: int) -> None:
        """Draw for the screen `mode`, with `loaded` (a file name, or '') shown."""
        keys = Text()
        for key, title, name in SCREENS:
            style = "reverse bold" if name == mode else ""
            keys.append(f" {key} ", style="bold")
            keys.append(title, style=style)
        keys.append("  ? ", style="bold")
        keys.append("help")
        keys.append("  q ", style="bold")
        keys.append("quit ")
        room = max(0, width - len(keys.plain) - 12)
        left = Text.assemble((" segscope", "bold"), f" {one_line(loaded, room)}" if loaded else "")
        gap = max(1, width - len(left.plain) - len(keys.plain))
        self.update(Text.assemble(left, " " * gap, keys))
