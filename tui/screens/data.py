"""Screen 1: open a file, choose the sheets, see and change every column's role."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    DataTable,
    DirectoryTree,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from segscope.core.analysis import Prepared
from segscope.core.schema import FEATURE_ROLES, Role
from segscope.tui.screens.base import SessionScreen
from segscope.tui.widgets.files import DataFileTree, PathSuggester

PREVIEW_ROWS = 50
WEIGHT_STEPS = [1.0, 0.5, 0.25, 2.0]
NONE = "(none)"


class RolesTable(DataTable[str]):
    """Every column with its role and reason; keys change the role of the highlighted one."""

    BINDINGS = [
        Binding("n", "role('numeric')", "Numeric"),
        Binding("c", "role('categorical')", "Categorical"),
        Binding("x", "role('ignored')", "Exclude"),
        Binding("k", "role('key')", "Key"),
        Binding("a", "role('auto')", "Auto"),
        Binding("w", "weight", "Weight"),
    ]

    def action_weight(self) -> None:
        if self.row_count == 0:
            return
        column = str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        screen = self.screen
        assert isinstance(screen, DataScreen)
        screen.cycle_weight(column)

    def action_role(self, role: str) -> None:
        if self.row_count == 0:
            return
        column = str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        screen = self.screen
        assert isinstance(screen, DataScreen)
        screen.set_role(column, role)


class DataScreen(SessionScreen):
    """Load a file and check what will be used as features."""

    HOME = "#roles"
    BINDINGS = [
        Binding("o", "focus_path", "Open"),
        Binding("t", "toggle_tree", "Files"),
        Binding("r", "focus_roles", "Roles"),
        Binding("p", "preview", "Preview"),
        SessionScreen.LEAVE_INPUT,
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="data-body"):
            yield DataFileTree(Path.cwd(), id="tree")
            with Vertical(id="data-main"):
                yield Input(
                    placeholder="path to a CSV, TSV, Parquet or .xlsx file; Enter opens it",
                    suggester=PathSuggester(),
                    id="path",
                )
                with Horizontal(id="sheets"):
                    yield Label("customers", classes="field-label")
                    yield Select[str]([], prompt=NONE, id="customers", allow_blank=True)
                    yield Label("transactions", classes="field-label")
                    yield Select[str]([], prompt=NONE, id="transactions", allow_blank=True)
                yield Static(
                    "No file loaded: pick one in the tree, or press o and type a path.",
                    id="data-summary",
                )
                with TabbedContent(id="data-tabs"):
                    with TabPane("Columns", id="tab-roles"):
                        yield RolesTable(id="roles", cursor_type="row", zebra_stripes=True)
                    with TabPane("Preview", id="tab-preview"):
                        yield DataTable(id="preview", zebra_stripes=True)
                    with TabPane("Steps", id="tab-steps"):
                        yield Static("", id="steps")
        yield Footer()

    _shown: Prepared | None = None  # the prepared table the widgets show

    def on_mount(self) -> None:
        roles = self.query_one("#roles", DataTable)
        roles.add_column("column", key="column")
        roles.add_column("role", key="role")
        roles.add_column("weight", key="weight")
        roles.add_column("why", key="why")
        super().on_mount()
        if self.seg_app.initial_path is None:
            self.query_one("#tree").focus()
        else:
            self.query_one("#data-body").add_class("-tree-hidden")
            self.query_one("#roles").focus()

    # --- actions -------------------------------------------------------------------------------

    def action_focus_path(self) -> None:
        self.query_one("#path", Input).focus()

    def action_toggle_tree(self) -> None:
        body = self.query_one("#data-body")
        body.toggle_class("-tree-hidden")
        if body.has_class("-tree-hidden"):
            self.query_one("#roles").focus()
        else:
            self.query_one("#tree").focus()

    def action_focus_roles(self) -> None:
        self.query_one("#data-tabs", TabbedContent).active = "tab-roles"
        self.query_one("#roles").focus()

    def action_preview(self) -> None:
        self.query_one("#data-tabs", TabbedContent).active = "tab-preview"
        self.query_one("#preview").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "path" and event.value.strip():
            self.seg_app.load_file(Path(event.value.strip()).expanduser())
            self.query_one("#data-body").add_class("-tree-hidden")
            self.action_leave_input()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#path", Input).value = str(event.path)
        self.seg_app.load_file(event.path)
        self.query_one("#data-body").add_class("-tree-hidden")
        self.query_one("#roles").focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        s = self.session
        if s.tables is None or s.prepared is None:
            return
        value = None if event.value is Select.NULL else str(event.value)
        frame = s.prepared.frame
        current = (
            frame.customers_sheet if event.select.id == "customers" else frame.transactions_sheet
        )
        if value == current:
            return
        if event.select.id == "customers":
            options = replace(s.options, customers=value, key=None, roles={})
        else:
            options = replace(
                s.options, transactions=value, use_transactions=value is not None, roles={}
            )
        if options.customers is None and options.transactions is None:
            self.notify("Choose a customers or a transactions sheet.", severity="warning")
            return
        self.seg_app.reprepare(options)

    def cycle_weight(self, column: str) -> None:
        """Step a feature's weight through 1, 0.5, 0.25, 2 (a weight of 0 is 'exclude')."""
        s = self.session
        if s.prepared is None or column not in s.prepared.schema.features:
            self.notify("Only features have a weight.", severity="warning")
            return
        weights = dict(s.options.weights)
        now = weights.get(column, 1.0)
        steps = WEIGHT_STEPS
        weights[column] = steps[(steps.index(now) + 1) % len(steps)] if now in steps else 1.0
        if weights[column] == 1.0:
            weights.pop(column)
        self.seg_app.reprepare(replace(s.options, weights=weights))

    def set_role(self, column: str, role: str) -> None:
        """Override one column's role ('auto' returns it to the guess) and prepare again."""
        s = self.session
        if s.prepared is None:
            return
        roles = dict(s.options.roles)
        if role == "auto":
            roles.pop(column, None)
        else:
            roles[column] = Role(role)
        key = column if role == "key" else s.options.key
        if role != "key" and column == s.options.key:
            key = None
        self.seg_app.reprepare(replace(s.options, roles=roles, key=key, features=None))

    # --- drawing -------------------------------------------------------------------------------

    def sync(self) -> None:
        s = self.session
        tabs = self.query_one("#data-tabs")
        was_loading, tabs.loading = tabs.loading, s.loading is not None  # a spinner while loading
        if was_loading and not tabs.loading and self.focused is None:
            self.query_one("#roles").focus()
        if s.loading is not None:
            self.query_one("#data-summary", Static).update(f"Loading {s.loading.name}…")
        if s.prepared is None or s.tables is None or s.path is None or s.prepared is self._shown:
            return  # nothing new to show (the sweep also bumps the session's version)
        self._shown = s.prepared
        path_input = self.query_one("#path", Input)
        if not path_input.has_focus:
            path_input.value = str(s.path)
        frame, schema = s.prepared.frame, s.prepared.schema
        sheets = list(s.tables)
        for sid, current in (
            ("customers", frame.customers_sheet),
            ("transactions", frame.transactions_sheet),
        ):
            select = self.query_one(f"#{sid}", Select)
            with select.prevent(Select.Changed):
                select.set_options([(n, n) for n in sheets])
                select.value = current if current is not None else Select.NULL
            select.disabled = len(sheets) < 2
        summary = (
            f"[b]{s.path.name}[/]: {s.prepared.rows:,} customers · "
            f"{len(schema.numeric)} numeric + {len(schema.categorical)} categorical features "
            f"({len(s.prepared.feature_names())} columns after one-hot) · key "
            f"{frame.key or '(row number)'}"
        )
        self.query_one("#data-summary", Static).update(summary)
        roles = self.query_one("#roles", DataTable)
        cursor = roles.cursor_row
        roles.clear()
        for col in schema.columns:
            mark = "*" if col.overridden else ""
            weight = s.prepared.weights.get(col.name, 1.0) if col.role in FEATURE_ROLES else None
            shown = "" if weight is None else f"{weight:g}"
            roles.add_row(col.name, col.role.value + mark, shown, col.reason, key=col.name)
        if roles.row_count:
            roles.move_cursor(row=min(cursor, roles.row_count - 1))
        self._fill_preview(frame.data)
        self.query_one("#steps", Static).update("\n".join(f"• {d}" for d in frame.decisions))

    def _fill_preview(self, data: pd.DataFrame) -> None:
        table = self.query_one("#preview", DataTable)
        table.clear(columns=True)
        head = data.head(PREVIEW_ROWS)
        table.add_columns(*map(str, head.columns))
        for row in head.itertuples(index=False):
            table.add_row(*("" if pd.isna(v) else str(v)[:24] for v in row))
