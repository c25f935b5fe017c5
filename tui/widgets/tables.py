"""Tables in the app: a core View laid out in a DataTable, every cell plain text (never markup)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from segscope.core.views import View


def cells(view: View) -> list[list[Text]]:
    """The view's cells as Text, right-aligned where they hold numbers, marked as it says."""
    out = []
    for key, row in zip(view.keys or [str(i) for i in range(len(view.rows))], view.cells(),
                        strict=True):  # fmt: skip
        style = "bold" if key == view.highlight else "dim" if key in view.dim else ""
        out.append(
            [
                Text(value, style=style, justify="right" if column.right else "left")
                for value, column in zip(row, view.columns, strict=True)
            ]
        )
    return out


class ViewTable(DataTable[Text]):
    """A DataTable that shows a core View and keeps the cursor on the same row across redraws
    (it moves to the view's highlighted row when that changes)."""

    _highlight: str | None = None

    def show(self, view: View) -> None:
        """Replace the table's contents with `view`."""
        keys = view.keys or [str(i) for i in range(len(view.rows))]
        current = self._current_key()
        headers = [Text(c.header, justify="right" if c.right else "left") for c in view.columns]
        if [str(c.label) for c in self.columns.values()] != [h.plain for h in headers]:
            self.clear(columns=True)
            for column, header in zip(view.columns, headers, strict=True):
                self.add_column(header, key=column.key)
        else:
            self.clear()
        for key, row in zip(keys, cells(view), strict=True):
            self.add_row(*row, key=key)
        moved = view.highlight != self._highlight and view.highlight in keys
        self._highlight = view.highlight
        target = view.highlight if moved else current
        if target in keys:
            self.move_cursor(row=keys.index(target))

    def _current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def current_key(self) -> str | None:
        """The key of the row under the cursor."""
        return self._current_key()
