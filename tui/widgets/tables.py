"""Tables in the app: a core View in a DataTable you can work in.

Every cell is plain text (never markup). `[` and `]` sort by the column under the cursor
(ascending, descending; again: back to the view's own order), `/` searches every cell and `>`
goes to the next match. Enter on any cell selects its row.
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from segscope.core.describing.views import View
from segscope.tui.widgets.prompts import SearchPrompt


def cells(view: View) -> list[list[Text]]:
    """The view's cells as Text, right-aligned where they hold numbers, marked as it says."""
    out = []
    for key, row in zip(_keys(view), view.cells(), strict=True):
        style = "bold" if key == view.highlight else "dim" if key in view.dim else ""
        out.append(
            [
                Text(value, style=style, justify="right" if column.right else "left")
                for value, column in zip(row, view.columns, strict=True)
            ]
        )
    return out


def _keys(view: View) -> list[str]:
    return view.keys or [str(i) for i in range(len(view.rows))]


MISSING = (2, 0)


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text, missing values last, whatever the column holds."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, list | tuple):
        return (0, len(value))
    return (1, str(value).lower())


class ViewTable(DataTable[Text]):
    """A DataTable showing a core View: sortable, searchable, and keeping its cursor's row."""

    BINDINGS = [
        Binding("left_square_bracket", "sort(False)", "Sort", key_display="[ ]"),
        Binding("right_square_bracket", "sort(True)", "Sort down", show=False),
        Binding("slash", "search", "Find", key_display="/"),
        Binding("greater_than_sign,f3", "next_match", "Next match", show=False),
    ]

    class Picked(Message):
        """Enter on a row (any of its cells)."""

        def __init__(self, table: ViewTable, key: str) -> None:
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> ViewTable:
            return self.table

    def __init__(self, *, id: str | None = None, zebra_stripes: bool = True) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="cell", zebra_stripes=zebra_stripes)
        self._view: View | None = None
        self._highlight: str | None = None
        self._order: tuple[int, bool] | None = None  # column, descending
        self._needle = ""

    # --- showing ------------------------------------------------------------------------------

    def show(self, view: View) -> None:
        """Replace the table's contents with `view` (sorted as the user last asked)."""
        current = self.current_key()
        self._view = view
        headers = [Text(c.header, justify="right" if c.right else "left") for c in view.columns]
        if [str(c.label) for c in self.columns.values()] != [h.plain for h in headers]:
            self.clear(columns=True)
            for column, header in zip(view.columns, headers, strict=True):
                self.add_column(header, key=column.key)
            self._order = None
        else:
            self.clear()
        keys = self._fill(view)
        moved = view.highlight != self._highlight and view.highlight in keys
        self._highlight = view.highlight
        target = view.highlight if moved else current
        if target is None:  # a fresh table
            target = view.start
        if target in keys:
            self.move_cursor(row=keys.index(target), column=self.cursor_column)

    def _fill(self, view: View) -> list[str]:
        rows = list(zip(_keys(view), cells(view), view.rows, strict=True))
        if self._order is not None:
            column, descending = self._order
            rows.sort(key=lambda r: _sort_key(r[2][column]), reverse=descending)
            if descending:  # missing values last in either direction
                rows.sort(key=lambda r: _sort_key(r[2][column])[0] == MISSING[0])
        for key, row, _ in rows:
            self.add_row(*row, key=key)
        return [key for key, _, _ in rows]

    def current_key(self) -> str | None:
        """The key of the row under the cursor."""
        if self.row_count == 0:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    # --- working in it -------------------------------------------------------------------------

    def action_sort(self, descending: bool) -> None:
        if self._view is None or not self._view.rows:
            return
        order = (self.cursor_column, descending)
        self._order = None if self._order == order else order
        key, column = self.current_key(), self.cursor_column
        self.clear()
        keys = self._fill(self._view)
        if key in keys:
            self.move_cursor(row=keys.index(key), column=column)

    def action_search(self) -> None:
        def found(needle: str | None) -> None:
            if needle:
                self._needle = needle.lower()
                self._find(start=self.cursor_row)

        self.app.push_screen(SearchPrompt(self._needle), found)

    def action_next_match(self) -> None:
        if not self._needle:
            self.notify("Search first (/).", severity="warning")
            return
        self._find(start=self.cursor_row + 1)

    def _find(self, start: int) -> None:
        """The first row from `start` (wrapping round) holding the search text in any cell."""
        rows = self.row_count
        for step in range(rows):
            row = (start + step) % rows
            texts = [str(cell).lower() for cell in self.get_row_at(row)]
            hit = next((i for i, t in enumerate(texts) if self._needle in t), None)
            if hit is not None:
                self.move_cursor(row=row, column=hit)
                return
        self.notify(f"No cell holds {self._needle!r}.", severity="warning", markup=False)

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.post_message(self.Picked(self, str(event.cell_key.row_key.value)))
