"""Screen 2: the k-sweep with live progress, charts and a row per k; choose k here."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Label, ProgressBar, Static

from segscope.core.describing.views import sweep_view
from segscope.core.errors import UsageError
from segscope.core.settings import check_seed, parse_ks
from segscope.core.text import one_line
from segscope.tui.messages import CancelSweep, ChooseK, CompareK, RunSweep, SwitchEngine
from segscope.tui.screens.base import SessionScreen
from segscope.tui.screens.dialogs import WhyScreen
from segscope.tui.widgets.bar import AppBar
from segscope.tui.widgets.charts import SweepChart
from segscope.tui.widgets.tables import ViewTable

ONE = "1"  # the key of the sweep table's row of one segment (the gap statistic's k = 1)
ONE_SEGMENT = "k=1 is one segment: only the gap statistic is measured there; pick k from 2."


def ks_text(ks: tuple[int, ...]) -> str:
    """k values as the user would type them: 2-10, or 3,5,8."""
    if list(ks) == list(range(ks[0], ks[-1] + 1)):
        return f"{ks[0]}-{ks[-1]}"
    return ",".join(map(str, ks))


class SweepScreen(SessionScreen):
    """Run the sweep, watch it, pick k."""

    HOME = "#ktable"
    BINDINGS = [
        Binding("r", "run", "Run"),
        Binding("escape", "cancel", "Cancel", show=False),  # the status line says Esc cancels
        Binding("plus,equals_sign", "step(1)", "k", key_display="+ -"),
        Binding("minus", "step(-1)", "k-1", show=False),
        Binding("e", "edit", "Edit k"),
        Binding("x", "compare", "Compare"),
        Binding("i", "why", "Why"),
        Binding("s", "switch_engine", "Engine"),
    ]

    def compose(self) -> ComposeResult:
        yield AppBar()
        with Horizontal(id="sweep-controls"):
            yield Label("k", classes="field-label")
            yield Input(id="ks", classes="small")
            yield Label("seed", classes="field-label")
            yield Input(id="seed", classes="small", type="integer")
            yield Static("", id="engine")
            yield Static("", id="sweep-status")
        yield Static("", id="no-segments")
        yield ProgressBar(id="progress", show_eta=False)
        with Horizontal(id="charts"):
            yield SweepChart("elbow", id="elbow")
            yield SweepChart("silhouette", id="silhouette")
        yield ViewTable(id="ktable")
        yield Static("", id="choice")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        settings = self.session.settings
        self.query_one("#ks", Input).value = ks_text(settings.ks)
        self.query_one("#seed", Input).value = str(settings.seed)
        super().on_mount()
        self.query_one("#ktable").focus()

    # --- actions -------------------------------------------------------------------------------

    def action_run(self) -> None:
        try:
            ks = parse_ks(self.query_one("#ks", Input).value)
            seed = check_seed(int(self.query_one("#seed", Input).value or 0))
        except (UsageError, ValueError) as exc:
            self.notify(one_line(exc), severity="error", markup=False)
            return
        self.post_message(RunSweep(replace(self.session.settings, ks=ks, seed=seed, k=None)))
        self.query_one("#ktable").focus()

    def action_cancel(self) -> None:
        if self.session.sweeping:
            self.post_message(CancelSweep())
        else:
            self.action_leave_input()

    def action_edit(self) -> None:
        self.query_one("#ks", Input).focus()

    def action_step(self, delta: int) -> None:
        seg = self.session.segmentation
        ks = [r.k for r in self.session.results]
        if not ks:
            return
        current = seg.choice.k if seg else ks[0]
        i = ks.index(current) if current in ks else 0
        target = ks[max(0, min(len(ks) - 1, i + delta))]
        if target != current or seg is None:
            self.post_message(ChooseK(target))

    def action_compare(self) -> None:
        seg = self.session.segmentation
        other = self.query_one("#ktable", ViewTable).current_key()
        if seg is None or other is None:
            self.notify("Run the sweep first (r).", severity="warning")
            return
        if other == ONE:
            self.notify(ONE_SEGMENT)
            return
        if int(other) == seg.choice.k:
            self.notify("Move to another k's row, then press x to compare it with the chosen k.")
            return
        self.post_message(CompareK(seg.choice.k, int(other)))

    def action_switch_engine(self) -> None:
        self.post_message(SwitchEngine())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_run()

    def on_view_table_picked(self, event: ViewTable.Picked) -> None:
        if event.key == ONE:
            self.notify(ONE_SEGMENT)
            return
        self.post_message(ChooseK(int(event.key)))

    def action_why(self) -> None:
        seg = self.session.segmentation
        if seg is None:
            self.notify("Run the sweep first (r).", severity="warning")
            return
        self.app.push_screen(WhyScreen(seg))

    # --- drawing -------------------------------------------------------------------------------

    def sync(self) -> None:
        s = self.session
        results, setup, seg = s.results, s.setup, s.segmentation
        chosen = seg.choice.k if seg else None
        knee = seg.choice.knee if seg else None
        bar = self.query_one("#progress", ProgressBar)
        bar.display = s.sweeping or bool(results)  # no idle animation before the first run
        if setup is not None:
            bar.update(total=len(setup.ks), progress=len(results))
        self.query_one("#sweep-status", Static).update(Text(self._status()))
        where = s.engine_settings
        master = f" {where.master}" if where.engine == "spark" else ""
        engine = Text.assemble("engine ", (where.engine, "bold"), one_line(master, 40))
        self.query_one("#engine", Static).update(engine)
        rows = s.prepared.rows if s.prepared else 0
        one = setup.one if setup is not None else None
        self.query_one("#ktable", ViewTable).show(sweep_view(results, rows, chosen, one))
        headline = self.query_one("#no-segments", Static)
        headline.display = bool(seg and seg.choice.headline)
        headline.update(Text(one_line(seg.choice.headline) if seg else ""))
        with self.app.batch_update():
            self.query_one("#elbow", SweepChart).show(results, knee)
            self.query_one("#silhouette", SweepChart).show(results, chosen)
        self.query_one("#choice", Static).update(self._choice_text())

    def _status(self) -> str:
        s = self.session
        if s.prepared is None:
            return "Load a file first (1)."
        if s.sweeping and s.setup is None:
            return (
                f"{s.stage or 'preparing'} on the {s.engine_settings.engine} engine… (Esc cancels)"
            )
        if s.sweeping:
            done = len(s.results)
            total = len(s.setup.ks) if s.setup else 0
            if total and done == total:
                return f"{s.stage or 'final fit'}: segments of all {s.prepared.rows:,} customers…"
            return f"sweeping… {done}/{total} (Esc cancels)"
        if s.cancelled:
            return f"cancelled after {len(s.results)} k; r runs again"
        if not s.results:
            return f"{s.prepared.rows:,} customers ready · r runs"
        notes = s.setup.notes() if s.setup else []
        return "done" + (" · sampled (i says what)" if notes else "")

    def _choice_text(self) -> Text:
        """One line: the chosen k and why, and how many warnings (i shows them all)."""
        seg = self.session.segmentation
        if seg is None:
            return Text("Enter on a row or +/- picks a k; i explains the choice.", style="dim")
        text = Text.assemble((f"k = {seg.choice.k}", "bold"), f": {one_line(seg.choice.reason)}")
        count = len(seg.warnings)
        if count:
            text.append(f" · ⚠ {count} warning{'s' if count > 1 else ''} (i)", style="yellow")
        return text
