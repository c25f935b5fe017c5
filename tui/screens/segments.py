"""Screen 3: the segment table; Enter opens a segment's detail."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from segscope.tui.render import fmt
from segscope.tui.screens.base import SessionScreen
from segscope.tui.screens.dialogs import SegmentDetailScreen


class SegmentsScreen(SessionScreen):
    """Who is in each segment and what sets it apart."""

    BINDINGS = [
        Binding("enter", "detail", "Detail", show=True, priority=False),
        Binding("c", "copy", "Copy table"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="seg-title")
        yield DataTable(id="segments", cursor_type="row", zebra_stripes=True)
        yield Static("", id="seg-warnings")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#segments", DataTable)
        columns = ("seg", "customers", "share", "stab.", "action (heuristic)", "what sets it apart")
        for label in columns:
            table.add_column(label, key=label)
        super().on_mount()
        table.focus()

    def action_detail(self) -> None:
        seg = self.session.segmentation
        table = self.query_one("#segments", DataTable)
        if seg is None or table.row_count == 0:
            return
        profile = seg.profiles[table.cursor_row]
        self.app.push_screen(SegmentDetailScreen(profile, seg.choice.k))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_detail()

    def action_copy(self) -> None:
        self.seg_app.copy_segments()

    def sync(self) -> None:
        seg = self.session.segmentation
        table = self.query_one("#segments", DataTable)
        title = self.query_one("#seg-title", Static)
        cursor = table.cursor_row
        table.clear()
        if seg is None:
            title.update(
                "No segments yet: load a file (1), then run the sweep (2, then r)."
                if not self.session.sweeping
                else "The sweep is running (2 shows it)…"
            )
            self.query_one("#seg-warnings", Static).update("")
            return
        rows = seg.prepared.rows
        title.update(
            f"[b]{seg.choice.k} segments[/b] of {rows:,} customers · seed {seg.plan.seed} · "
            f"{seg.choice.reason} · Enter: detail"
        )
        for p in seg.profiles:
            table.add_row(
                str(p.segment),
                f"{p.size:,}",
                f"{p.share:.1%}",
                fmt(p.stability, 2),
                p.action,
                "; ".join(p.standouts(2)) or "average on every feature",
                key=str(p.segment),
            )
        table.move_cursor(row=min(cursor, table.row_count - 1))
        strong = [f"{r.feature} {r.score:.2f}" for r in seg.relevance if not r.weak]
        lines = [f"[b]Separates the segments most:[/b] {', '.join(strong[:5]) or 'nothing'}"]
        lines += [f"[yellow]⚠ {w}[/]" for w in seg.warnings]
        self.query_one("#seg-warnings", Static).update("\n".join(lines))
