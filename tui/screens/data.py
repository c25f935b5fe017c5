"""Screen 1: open a file, choose the sheets, see and change every column's role."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import (
    DirectoryTree,
    Footer,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from segscope.core.describing.views import preview_view, roles_view
from segscope.core.locations import database_kind, display_name, masked
from segscope.core.roles import Role
from segscope.core.text import one_line, visible
from segscope.tui.messages import ChangeChoices, OpenPath
from segscope.tui.screens.base import SessionScreen
from segscope.tui.widgets.bar import AppBar
from segscope.tui.widgets.files import DataFileTree, PathInput
from segscope.tui.widgets.tables import ViewTable

if TYPE_CHECKING:
    from segscope.core.engines.results import Prepared

PREVIEW_ROWS = 50
NONE = "(none)"


ROLE_FILTERS = {
    "all columns": None,
    "features": ("numeric", "categorical", "datetime"),
    "numbers": ("numeric", "datetime"),
    "categories": ("categorical",),
    "left out": ("ignored", "key"),
}


class RolesTable(ViewTable):
    """Every column with its role and reason; keys change the role of the highlighted one."""

    BINDINGS = [  # the role keys are spelt out on the line above the table
        Binding("n", "role('numeric')", "Numeric", show=False),
        Binding("c", "role('categorical')", "Categorical", show=False),
        Binding("x", "role('ignored')", "Exclude", show=False),
        Binding("k", "role('key')", "Key", show=False),
        Binding("a", "role('auto')", "Auto", show=False),
        Binding("w", "weight", "Weight", show=False),
        Binding("f", "filter", "Filter"),
    ]

    def action_filter(self) -> None:
        if isinstance(self.screen, DataScreen):
            self.screen.next_filter()

    def action_weight(self) -> None:
        column = self.current_key()
        if column is not None and isinstance(self.screen, DataScreen):
            self.screen.cycle_weight(column)

    def action_role(self, role: str) -> None:
        column = self.current_key()
        if column is not None and isinstance(self.screen, DataScreen):
            self.screen.set_role(column, role)


class DataScreen(SessionScreen):
    """Load a file and check what will be used as features."""

    HOME = "#roles"
    BINDINGS = [
        Binding("o", "focus_path", "Open"),
        Binding("t", "toggle_tree", "Files"),
        Binding("l", "focus_roles", "Columns", show=False),
        Binding("p", "preview", "Preview"),
        Binding("s", "steps", "Steps"),
        SessionScreen.LEAVE_INPUT,
    ]

    def compose(self) -> ComposeResult:
        yield AppBar()
        with Horizontal(id="data-body"):
            yield DataFileTree(Path.cwd(), id="tree")
            with Vertical(id="data-main"):
                yield PathInput(
                    placeholder="a CSV, TSV, Parquet or .xlsx file, a .duckdb file or a "
                    "postgresql:// URL; Enter opens it",
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
                        yield Static("", id="roles-hint", classes="hint")
                        yield RolesTable(id="roles")
                    with TabPane("Preview", id="tab-preview"):
                        yield ViewTable(id="preview")
                    with TabPane("Steps", id="tab-steps"):
                        yield Static("", id="steps")
        yield Footer(compact=True)

    _shown: Prepared | None = None  # the prepared table the widgets show
    _filter = "all columns"  # which columns the roles table shows (f cycles)
    _focus_before: Widget | None = None  # where the focus was when work covered the tabs

    def on_mount(self) -> None:
        super().on_mount()
        if self.state.initial_path is None:
            self.query_one("#tree").focus()
        else:
            self.query_one("#data-body").add_class("-tree-hidden")
            self.query_one("#roles").focus()

    # --- actions -------------------------------------------------------------------------------

    def action_focus_path(self) -> None:
        self.query_one("#path", Input).focus()

    def action_toggle_tree(self) -> None:
        """Show the file tree and go to it; from the tree itself, hide it."""
        body, tree = self.query_one("#data-body"), self.query_one("#tree")
        if tree.has_focus:
            body.add_class("-tree-hidden")
            self.query_one("#roles").focus()
        else:
            body.remove_class("-tree-hidden")
            tree.focus()

    def action_focus_roles(self) -> None:
        self.query_one("#data-tabs", TabbedContent).active = "tab-roles"
        self.query_one("#roles").focus()

    def action_preview(self) -> None:
        self.query_one("#data-tabs", TabbedContent).active = "tab-preview"
        self.query_one("#preview").focus()

    def action_steps(self) -> None:
        self.query_one("#data-tabs", TabbedContent).active = "tab-steps"

    def _open(self, location: str) -> None:
        self.post_message(OpenPath(location))
        self.query_one("#data-body").add_class("-tree-hidden")
        self.query_one("#roles").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if event.input.id == "path" and value:
            self._open(value if database_kind(value) else str(Path(value).expanduser()))

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#path", Input).value = visible(str(event.path))
        self._open(str(event.path))

    def on_select_changed(self, event: Select.Changed) -> None:
        s = self.session
        if s.prepared is None:
            return
        value = None if event.value is Select.NULL else str(event.value)
        plan, choices = s.prepared.frame.plan, s.prepared.choices
        current = plan.customers if event.select.id == "customers" else plan.transactions
        if value == current:
            return
        if event.select.id == "customers":
            choices = choices.with_customers(value)
        else:
            choices = choices.with_transactions(value, plan.customers)
        if choices.customers is None and choices.transactions is None:
            self.notify("Choose a customers or a transactions sheet.", severity="warning")
            return
        self.post_message(ChangeChoices(choices))

    def next_filter(self) -> None:
        """Show the next group of columns: all, features, numbers, categories, left out."""
        names = list(ROLE_FILTERS)
        self._filter = names[(names.index(self._filter) + 1) % len(names)]
        if self.session.prepared is not None:
            self._show_roles(self.session.prepared)

    def _show_roles(self, prepared: Prepared) -> None:
        view = roles_view(prepared.schema, prepared.weights, prepared.gaps)
        wanted = ROLE_FILTERS[self._filter]
        if wanted is not None:
            shown = {c.name for c in prepared.schema.columns if c.role.value in wanted}
            kept = [i for i, key in enumerate(view.keys) if key in shown]
            view.rows = [view.rows[i] for i in kept]
            view.keys = [view.keys[i] for i in kept]
        self.query_one("#roles", RolesTable).show(view)
        hint = (
            f"n number · c category · k key · x exclude · a auto · w weight · f: "
            f"{self._filter} · ?=guess *=yours"
        )
        self.query_one("#roles-hint", Static).update(hint)

    def cycle_weight(self, column: str) -> None:
        """Step a feature's weight through 1, 0.5, 0.25, 2 (a weight of 0 is 'exclude')."""
        s = self.session
        if s.prepared is None:
            return
        if column not in s.prepared.schema.features:
            self.notify(
                f"{one_line(column, 40)} is not a feature: only features have a weight.",
                severity="warning",
                markup=False,
            )
            return
        self.post_message(ChangeChoices(s.prepared.choices.next_weight(column)))

    def set_role(self, column: str, role: str) -> None:
        """Override one column's role ('auto' returns it to the guess) and prepare again."""
        s = self.session
        if s.prepared is not None:  # the last choices that worked
            chosen = None if role == "auto" else Role(role)
            self.post_message(ChangeChoices(s.prepared.choices.with_role(column, chosen)))

    # --- drawing -------------------------------------------------------------------------------

    def sync(self) -> None:
        s = self.session
        tabs = self.query_one("#data-tabs")
        was_loading = tabs.loading
        if not was_loading:
            self._focus_before = self.focused
        tabs.loading = s.loading is not None or s.preparing  # a spinner while working
        if was_loading and not tabs.loading:  # the focus goes back where it was
            before = self._focus_before
            if before is None or not before.is_attached:
                before = self.query_one("#roles")
            before.focus()
        summary = self.query_one("#data-summary", Static)
        if s.loading is not None:
            stage = f": {s.stage}" if s.stage else ""
            summary.update(Text(f"Opening {one_line(display_name(s.loading), 60)}{stage}…"))
        elif s.problem:
            summary.update(Text(s.problem, style="bold red"))
        elif s.prepared is not None and s.location is not None:
            summary.update(self._summary())
        if s.prepared is None or s.location is None or s.prepared is self._shown:
            return  # nothing new to show (the sweep also bumps the session's version)
        self._shown = s.prepared
        self._fill(s.prepared, s.location)

    def _summary(self) -> Text:
        s = self.session
        assert s.prepared is not None and s.location is not None
        schema = s.prepared.schema
        return Text.assemble(
            (one_line(s.name, 60), "bold"),
            f": {s.prepared.rows:,} customers · {len(schema.numeric)} numeric + "
            f"{len(schema.categorical)} categorical features ({len(s.prepared.columns)} columns "
            f"after one-hot) · key {one_line(s.prepared.frame.key or '(row number)', 40)}",
        )

    def _fill(self, prepared: Prepared, location: str) -> None:
        path_input = self.query_one("#path", Input)
        if not path_input.has_focus:
            path_input.value = visible(masked(location))  # no password, no control characters
        plan = prepared.frame.plan
        for sid, current in (("customers", plan.customers), ("transactions", plan.transactions)):
            select = self.query_one(f"#{sid}", Select)
            with select.prevent(Select.Changed):
                select.set_options([(one_line(n, 40), n) for n in prepared.tables])
                select.value = current if current is not None else Select.NULL
            select.disabled = len(prepared.tables) < 2
        self._show_roles(prepared)
        self.query_one("#preview", ViewTable).show(preview_view(prepared.frame.data))
        steps = "\n".join(f"• {one_line(d)}" for d in prepared.frame.decisions)
        self.query_one("#steps", Static).update(Text(steps))
