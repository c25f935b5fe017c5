"""Screen 2: the k-sweep with live progress, charts and a row per k; choose k here."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Static

from segscope.core import ENGINES
from segscope.core.errors import DataError
from segscope.core.sweep import KResult, parse_ks
from segscope.tui.render import fmt
from segscope.tui.screens.base import SessionScreen
from segscope.tui.widgets.charts import SweepChart


class SweepScreen(SessionScreen):
    """Run the sweep, watch it, pick k."""

    HOME = "#ktable"
    BINDINGS = [
        Binding("r", "run", "Run sweep"),
        Binding("escape", "cancel", "Cancel"),
        Binding("plus,equals_sign,right_square_bracket", "step(1)", "k+1", key_display="+"),
        Binding("minus,left_square_bracket", "step(-1)", "k-1", key_display="-"),
        Binding("e", "edit", "Edit k/seed"),
        Binding("x", "compare", "Compare k"),
        Binding("s", "switch_engine", "Engine"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="sweep-controls"):
            yield Label("k", classes="field-label")
            yield Input(id="ks", classes="small")
            yield Label("seed", classes="field-label")
            yield Input(id="seed", classes="small", type="integer")
            yield Static("", id="engine")
            yield Static("", id="sweep-status")
        yield ProgressBar(id="progress", show_eta=False)
        with Horizontal(id="charts"):
            yield SweepChart("elbow", id="elbow")
            yield SweepChart("silhouette", id="silhouette")
        yield DataTable(id="ktable", cursor_type="row", zebra_stripes=True)
        yield Static("", id="choice")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#ktable", DataTable)
        columns = ("k", "inertia", "silhouette", "stability", "Calinski-H.", "Davies-B.", "sizes",
                   "seconds")  # fmt: skip
        for label in columns:
            table.add_column(label, key=label)
        opts = self.session.options
        ks = list(opts.ks)
        self.query_one("#ks", Input).value = (
            f"{ks[0]}-{ks[-1]}" if ks == list(range(ks[0], ks[-1] + 1)) else ",".join(map(str, ks))
        )
        self.query_one("#seed", Input).value = str(opts.seed)
        super().on_mount()
        table.focus()

    # --- actions -------------------------------------------------------------------------------

    def action_run(self) -> None:
        try:
            ks = parse_ks(self.query_one("#ks", Input).value)
            seed = int(self.query_one("#seed", Input).value or 0)
        except (DataError, ValueError) as exc:
            self.notify(str(exc), severity="error")
            return
        self.seg_app.session.options = replace(self.session.options, ks=ks, seed=seed)
        self.seg_app.start_sweep()
        self.query_one("#ktable").focus()

    def action_cancel(self) -> None:
        if self.session.sweeping:
            self.seg_app.cancel_sweep()
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
            self.seg_app.choose_k(target)

    def action_compare(self) -> None:
        seg = self.session.segmentation
        table = self.query_one("#ktable", DataTable)
        if seg is None or table.row_count == 0:
            self.notify("Run the sweep first (r).", severity="warning")
            return
        other = int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
        if other == seg.choice.k:
            self.notify("Move to another k's row, then press x to compare it with the chosen k.")
            return
        self.seg_app.compare(seg.choice.k, other)

    def action_switch_engine(self) -> None:
        if self.session.sweeping:
            self.notify("Cancel the sweep first (Esc).", severity="warning")
            return
        current = self.session.options.engine
        self.seg_app.set_engine(ENGINES[(ENGINES.index(current) + 1) % len(ENGINES)])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_run()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "ktable" and event.row_key.value is not None:
            self.seg_app.choose_k(int(event.row_key.value))

    # --- drawing -------------------------------------------------------------------------------

    def sync(self) -> None:
        s = self.session
        results, plan, seg = s.results, s.plan, s.segmentation
        chosen = seg.choice.k if seg else None
        knee = seg.choice.knee if seg else None
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=len(plan.ks) if plan else None, progress=len(results))
        self.query_one("#sweep-status", Static).update(self._status())
        opts = s.options
        where = f" {opts.spark_master or 'local[*]'}" if opts.engine == "spark" else ""
        self.query_one("#engine", Static).update(f"engine [b]{opts.engine}[/b]{where}")
        self._fill_table(results, chosen)
        with self.app.batch_update():
            self.query_one("#elbow", SweepChart).show(results, knee)
            self.query_one("#silhouette", SweepChart).show(results, chosen)
        self.query_one("#choice", Static).update(self._choice_text())

    def _status(self) -> str:
        s = self.session
        if s.prepared is None:
            return "Load a file first (1)."
        if s.sweeping and s.plan is None:
            return f"preparing the data on the {s.options.engine} engine… (Esc cancels)"
        if s.sweeping:
            done = len(s.results)
            total = len(s.plan.ks) if s.plan else 0
            if total and done == total:
                return f"profiling the segments of all {s.prepared.rows:,} customers…"
            return f"sweeping… {done}/{total} (Esc cancels)"
        if s.cancelled:
            return f"cancelled after {len(s.results)} k; r runs again"
        if not s.results:
            return f"{s.prepared.rows:,} customers ready · r runs"
        notes = s.plan.notes() if s.plan else []
        return "done" + (" · sampled (see below)" if notes else "")

    def _fill_table(self, results: list[KResult], chosen: int | None) -> None:
        table = self.query_one("#ktable", DataTable)
        rows = self.session.prepared.rows if self.session.prepared else 0
        shown = {str(k.value) for k in table.rows}
        if len(shown) > len(results):
            table.clear()
            shown = set()
        for r in results:
            sil = fmt(r.silhouette)
            if r.silhouette_sample_size < rows:
                sil += f" n={r.silhouette_sample_size:,}"
            cells = (
                f"▶ {r.k}" if r.k == chosen else f"  {r.k}",
                fmt(r.inertia, 1),
                sil,
                fmt(r.stability, 2),
                fmt(r.calinski_harabasz, 1),
                fmt(r.davies_bouldin),
                "/".join(map(str, sorted(r.sizes, reverse=True)))[:28],
                fmt(r.seconds, 2),
            )
            if str(r.k) in shown:
                table.update_cell(str(r.k), "k", cells[0])
            else:
                table.add_row(*cells, key=str(r.k))
        if chosen is not None and str(chosen) in {str(k.value) for k in table.rows}:
            table.move_cursor(row=table.get_row_index(str(chosen)))

    def _choice_text(self) -> str:
        s = self.session
        seg = s.segmentation
        lines = []
        if seg is not None:
            lines.append(
                f"[b]k = {seg.choice.k}[/b]: {seg.choice.reason}. "
                "Enter on a row or +/- picks another k."
            )
            lines += [f"[yellow]⚠ {w}[/]" for w in seg.warnings]
        if s.plan is not None:
            lines += [f"[dim]ℹ {n}[/]" for n in s.plan.notes()]
        return "\n".join(lines)
