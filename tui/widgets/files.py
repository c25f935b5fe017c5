"""Choosing a file from the keyboard: a filtered directory tree and a path input that completes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.text import Text, TextType
from textual.suggester import Suggester
from textual.widgets import DirectoryTree

from segscope.core.readers import DATA_SUFFIXES
from segscope.core.text import visible


def is_data_file(path: Path) -> bool:
    return path.suffix.lower() in DATA_SUFFIXES


class DataFileTree(DirectoryTree):
    """A directory tree that lists folders and the files segscope can read; names are shown
    literally (control characters made visible)."""

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
