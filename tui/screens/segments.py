"""Screen 3: the segment table; Enter opens a segment's detail (its rule, its RFM cells), m who
moved since an earlier run."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from segscope.core.describing.views import segments_view
from segscope.core.text import agreement, one_line, percent
from segscope.tui.messages import CopySegments
from segscope.tui.screens.base import SessionScreen
from segscope.tui.screens.dialogs import MovementScreen, SegmentDetailScreen, WhyScreen
from segscope.tui.widgets.bar import AppBar
from segscope.tui.widgets.tables import ViewTable


class SegmentsScreen(SessionScreen):
    """Who is in each segment and what sets it apart."""

    HOME = "#segments"
    BINDINGS = [
        Binding("enter", "detail", "Detail", show=True, priority=False),
        Binding("c", "copy", "Copy"),
        Binding("i", "why", "Why"),
        Binding("m", "moved", "Moved"),
    ]

    def compose(self) -> ComposeResult:
        yield AppBar()
        yield Static("", id="seg-title")
        yield ViewTable(id="segments")
        yield Static("", id="seg-warnings")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#segments").focus()

    def action_detail(self) -> None:
        seg = self.session.segmentation
        key = self.query_one("#segments", ViewTable).current_key()
        if seg is None or key is None:
            return
        profile = next(p for p in seg.profiles if str(p.segment) == key)
        note = seg.rfm_missing
        if seg.rfm is not None and "monetary" not in seg.rfm.measures:
            note = "on recency and frequency only: the data holds no amount spent"
        self.app.push_screen(SegmentDetailScreen(profile, seg.choice.k, note))

    def on_view_table_picked(self, event: ViewTable.Picked) -> None:
        self.action_detail()

    def action_why(self) -> None:
        seg = self.session.segmentation
        if seg is not None:
            self.app.push_screen(WhyScreen(seg))

    def action_moved(self) -> None:
        seg = self.session.segmentation
        if seg is not None and seg.movement is not None:
            self.app.push_screen(MovementScreen(seg.movement))
        elif seg is not None:
            self.notify(
                "To see who moved since an earlier run, give its labels.csv: ctrl+p, "
                "'Who moved since an earlier run'."
            )

    def action_copy(self) -> None:
        self.post_message(CopySegments())

    def sync(self) -> None:
        s = self.session
        seg = s.segmentation
        table = self.query_one("#segments", ViewTable)
        title = self.query_one("#seg-title", Static)
        if seg is None:
            table.clear()
            if s.sweeping:
                message = "The sweep is running (2 shows it)…"
            elif s.results:
                message = "No k chosen yet: pick one on the Sweep screen (2, then Enter on a row)."
            elif s.prepared is not None:
                message = "No segments yet: run the sweep (2, then r)."
            else:
                message = "No segments yet: load a file (1), then run the sweep (2, then r)."
            title.update(message)
            self.query_one("#seg-warnings", Static).update("")
            return
        headline = seg.choice.headline
        title.update(
            Text.assemble(
                (f"{one_line(headline)}\n", "bold yellow") if headline else "",
                (f"{seg.choice.k} segments", "bold"),
                f" of {seg.prepared.rows:,} customers · seed {seg.setup.seed} · "
                f"{one_line(seg.choice.reason)} · Enter: detail",
            )
        )
        table.show(segments_view(seg.profiles))
        strong = [
            f"{one_line(r.feature, 30)} {agreement(r.score)}" for r in seg.relevance if not r.weak
        ]
        text = Text.assemble(("Separates most: ", "bold"), ", ".join(strong[:5]) or "nothing")
        if seg.rules is not None:
            good = sum(r.good for r in seg.rules.rules)
            text.append("\nRules agree with K-Means on ", style="bold")
            text.append(f"{percent(seg.rules.agreement)}", style="bold")
            text.append(
                f" of customers ({good} of {len(seg.rules.rules)} segments have one; "
                "Enter shows it)"
            )
        if seg.movement is not None:
            m = seg.movement
            same = percent(m.same / m.matched) if m.matched else "–"
            text.append("\nMoved: ", style="bold")
            text.append(
                f"{same} of {m.matched:,} in both runs kept their segment; "
                f"{int(m.new.sum()):,} new, {int(m.gone.sum()):,} gone (m: who moved)"
            )
        count = len(seg.warnings)
        if count:
            text.append(f"\n⚠ {count} warning{'s' if count > 1 else ''}", style="yellow")
            text.append(f": {one_line(seg.warnings[0], 200)}", style="yellow")
        text.append("\ni: why this k, every warning, what the words rest on", style="dim")
        self.query_one("#seg-warnings", Static).update(text)
