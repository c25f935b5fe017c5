"""Choosing a file from the keyboard: a filtered directory tree and a path input that completes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.text import Text, TextType
from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import DirectoryTree, Input

from segscope.core.locations import DATA_SUFFIXES
from segscope.core.text import visible


def is_data_file(path: Path) -> bool:
    return path.suffix.lower() in DATA_SUFFIXES


class DataFileTree(DirectoryTree):
    """A directory tree that lists folders and the files segscope can read; names are shown
    literally (control characters made visible). Backspace goes up a folder."""

    BINDINGS = [Binding("backspace", "up", "Up a folder", key_display="⌫")]

    def action_up(self) -> None:
        parent = Path(self.path).resolve().parent
        if parent != Path(self.path).resolve():
            self.path = parent

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or is_data_file(p))]

    def process_label(self, label: TextType) -> Text:
        plain = label if isinstance(label, str) else label.plain
        return super().process_label(Text(visible(plain)))


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (folders end with '/')."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        path = Path(value).expanduser()
        folder, prefix = (path, "") if value.endswith("/") else (path.parent, path.name)
        try:
            names = sorted(p for p in folder.iterdir() if p.name.startswith(prefix))
        except OSError:
            return None
        for p in names:
            if p.name.startswith(".") and not prefix.startswith(".") or visible(p.name) != p.name:
                continue  # hidden, or a name no one can type
            if p.is_dir() or is_data_file(p):
                return value + p.name[len(prefix) :] + ("/" if p.is_dir() else "")
        return None


class PathInput(Input):
    """A path input: Tab takes the suggested completion (Right does too); with nothing to
    complete, Tab moves on as usual. The path already there stays when it gets the focus."""

    BINDINGS = [Binding("tab", "complete", "Complete", show=False)]

    def __init__(self, value: str = "", **kwargs: Any) -> None:
        super().__init__(value, suggester=PathSuggester(), select_on_focus=False, **kwargs)

    def action_complete(self) -> None:
        suggestion = self._suggestion
        if suggestion and suggestion != self.value and suggestion.startswith(self.value):
            self.value = suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()
