"""The Textual app: four screens over one Session, long work in thread workers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from segscope.core.analysis import Options, prepare_data
from segscope.core.engine import engine_for
from segscope.core.errors import Cancelled, DataError
from segscope.core.io import check_output_dir, load_tables
from segscope.core.model import SegmentModel, load_model
from segscope.core.report import write_outputs, write_score_outputs
from segscope.core.scoring import score_file
from segscope.core.segments import profiles_frame
from segscope.tui.screens.data import DataScreen
from segscope.tui.screens.dialogs import CompareScreen, ConfirmScreen, HelpScreen
from segscope.tui.screens.export import ExportScreen
from segscope.tui.screens.score import PathPrompt, ScoreScreen
from segscope.tui.screens.segments import SegmentsScreen
from segscope.tui.screens.sweep import SweepScreen
from segscope.tui.state import (
    Exported,
    Loaded,
    Reprepared,
    Segmented,
    Session,
    SweepStarted,
    SweepStep,
    SweepStopped,
)

ERROR_TITLES = {
    "load": "Cannot use this file",
    "sweep": "Sweep stopped",
    "fit": "Cannot fit that k",
    "export": "Nothing written",
    "score": "Cannot score",
    "like": "Cannot use that model",
    "compare": "Cannot compare",
}
SCREENS = {"data": "Data", "sweep": "Sweep", "segments": "Segments", "export": "Export"}


class SegscopeApp(App[None]):
    """Customer segmentation with K-Means, from the keyboard."""

    TITLE = "segscope"
    CSS_PATH = "app.tcss"
    MODES = {
        "data": DataScreen,
        "sweep": SweepScreen,
        "segments": SegmentsScreen,
        "export": ExportScreen,
    }
    DEFAULT_MODE = "data"
    BINDINGS = [
        Binding("1", "switch_mode('data')", "Data", id="screen.data"),
        Binding("2", "switch_mode('sweep')", "Sweep", id="screen.sweep"),
        Binding("3", "switch_mode('segments')", "Segments", id="screen.segments"),
        Binding("4", "switch_mode('export')", "Export", id="screen.export"),
        Binding("question_mark,f1", "help", "Help", key_display="?", id="app.help"),
        Binding("q,ctrl+q", "quit_app", "Quit", key_display="q", id="app.quit"),
    ]

    version: reactive[int] = reactive(0)  # bumped whenever the session changes

    def __init__(self, path: str | Path | None = None, options: Options | None = None) -> None:
        super().__init__()
        self.session = Session(options=options or Options())
        self.initial_path = Path(path) if path else None

    def on_mount(self) -> None:
        if self.initial_path is not None:
            self.load_file(self.initial_path)

    def changed(self) -> None:
        """Tell every screen that the session changed."""
        self.version += 1

    # --- commands ------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, title in SCREENS.items():
            yield SystemCommand(
                f"Go to {title}", f"Show the {title} screen", lambda m=mode: self.switch_mode(m)
            )
        yield SystemCommand("Run sweep", "Sweep k with the current settings", self.start_sweep)
        if self.session.sweeping:
            yield SystemCommand("Cancel sweep", "Stop after the current k", self.cancel_sweep)
        yield SystemCommand(
            "Score new customers", "Label a file with a saved model", self._open_score
        )
        yield SystemCommand(
            "Number segments like a saved model",
            "Keep segment numbers stable across re-runs (match by centre)",
            self._ask_like,
        )
        if self.session.segmentation:
            yield SystemCommand(
                "Export", "Write labels, profiles, report and model", self._go_export
            )
            yield SystemCommand(
                "Copy segment table", "Copy to the clipboard (OSC 52)", self.copy_segments
            )

    def _go_export(self) -> None:
        self.switch_mode("export")

    def _open_score(self) -> None:
        self.push_screen(ScoreScreen())

    def _ask_like(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self._load_like(path)

        self.push_screen(PathPrompt("Saved model whose segment numbers to keep:"), chosen)

    @work(thread=True, exclusive=True, group="like", exit_on_error=False)
    def _load_like(self, path: Path) -> None:
        model, warnings = load_model(path)
        for w in warnings:
            self.call_from_thread(self.notify, w, severity="warning")
        self.call_from_thread(self._set_like, model, path)

    def _set_like(self, model: SegmentModel, path: Path) -> None:
        self.session.options = replace(self.session.options, like=model)
        self.notify(f"Segments will be numbered like {path.name}.")
        seg = self.session.segmentation
        if seg is not None:
            self.choose_k(seg.choice.k)

    def score(self, model: Path, data: Path, target: Path, screen: ScoreScreen) -> None:
        """Score `data` with the model at `model` into `target` (worker), then show it."""
        self._score(model, data, target, screen)

    @work(thread=True, exclusive=True, group="score", exit_on_error=False)
    def _score(self, model_path: Path, data: Path, target: Path, screen: ScoreScreen) -> None:
        check_output_dir(target, force=False)
        model, result = score_file(model_path, data)
        written = write_score_outputs(model, result, str(data), target)
        self.call_from_thread(screen.show, model, result, written)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_quit_app(self) -> None:
        if not self.session.sweeping:
            self.exit()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.workers.cancel_all()
                self.exit()

        self.push_screen(ConfirmScreen("A sweep is running. Quit anyway?"), answer)

    # --- loading and preparing ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_file(self, path: Path) -> None:
        """Read a file and prepare its customer table (worker)."""
        self.session.loading = path
        self.call_from_thread(self.changed)
        tables = load_tables(path)
        prepared = prepare_data(tables, Options(seed=self.session.options.seed), str(path))
        self.post_message(Loaded(path, tables, prepared))

    def on_loaded(self, msg: Loaded) -> None:
        s = self.session
        s.path, s.tables, s.prepared, s.loading = msg.path, msg.tables, msg.prepared, None
        s.options = Options(
            customers=msg.prepared.frame.customers_sheet,
            transactions=msg.prepared.frame.transactions_sheet,
            key=msg.prepared.frame.key,
            ks=s.options.ks,
            seed=s.options.seed,
            engine=s.options.engine,
            spark_master=s.options.spark_master,
            labels_uri=s.options.labels_uri,
        )
        s.reset_results()
        self.notify(f"{msg.prepared.rows:,} customers loaded. Press 2, then r.", timeout=4)
        self.changed()

    def reprepare(self, options: Options) -> None:
        """Apply new sheet or role choices."""
        self.session.options = options
        self._reprepare(options)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _reprepare(self, options: Options) -> None:
        s = self.session
        assert s.tables is not None
        self.post_message(Reprepared(prepare_data(s.tables, options, str(s.path))))

    def on_reprepared(self, msg: Reprepared) -> None:
        self.session.prepared = msg.prepared
        self.session.reset_results()
        self.changed()

    # --- sweep and segments --------------------------------------------------------------------

    def start_sweep(self) -> None:
        if self.session.prepared is None:
            self.notify("Load a file first (screen 1).", severity="warning")
            return
        if self.session.sweeping:
            self.notify("A sweep is already running; Esc cancels it.", severity="warning")
            return
        self.session.reset_results()
        self.session.sweeping = True
        self.changed()
        self._sweep(self.session.options.ks, self.session.options.seed)

    @work(thread=True, exclusive=True, group="sweep", exit_on_error=False)
    def _sweep(self, ks: list[int], seed: int) -> None:
        worker = get_current_worker()
        s = self.session
        assert s.prepared is not None and s.path is not None
        engine = engine_for(s.options)
        prepared = engine.ready(s.prepared, s.path, s.options, s.tables)
        if worker.is_cancelled:
            self.post_message(SweepStopped())
            return
        plan, results = engine.start_sweep(prepared, ks, seed, lambda: worker.is_cancelled)
        self.post_message(SweepStarted(plan, prepared))
        done = []
        try:
            for r in results:
                done.append(r)
                self.post_message(SweepStep(r))
                if worker.is_cancelled:
                    raise Cancelled()
        except Cancelled:
            self.post_message(SweepStopped())
            return
        self.post_message(Segmented(engine.segment(prepared, plan, done, None, s.options.like)))

    def cancel_sweep(self) -> None:
        if self.session.sweeping:
            self.workers.cancel_group(self, "sweep")
            self.notify("Cancelling: the sweep stops after the current k.")

    def on_sweep_started(self, msg: SweepStarted) -> None:
        self.session.plan, self.session.prepared = msg.plan, msg.prepared
        for w in msg.plan.warnings:
            self.notify(w, severity="warning")
        self.changed()

    def on_sweep_step(self, msg: SweepStep) -> None:
        self.session.results.append(msg.result)
        self.changed()

    def on_sweep_stopped(self, _: SweepStopped) -> None:
        self.session.sweeping, self.session.cancelled = False, True
        n = len(self.session.results)
        self.notify(f"Sweep cancelled after {n} k value(s); the finished rows stay.")
        self.changed()

    def choose_k(self, k: int) -> None:
        """Fit the segments for another k of the sweep."""
        s = self.session
        if s.sweeping or not s.results or s.plan is None or s.prepared is None:
            return
        if k not in [r.k for r in s.results]:
            return
        self._fit(k)

    @work(thread=True, exclusive=True, group="fit", exit_on_error=False)
    def _fit(self, k: int) -> None:
        s = self.session
        assert s.prepared is not None and s.plan is not None
        engine = engine_for(s.options)
        segmented = engine.segment(s.prepared, s.plan, list(s.results), k, s.options.like)
        self.post_message(Segmented(segmented))

    def compare(self, a: int, b: int) -> None:
        """Show how the segments of k=a split or merge at k=b (counted by the engine)."""
        self._compare(a, b)

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _compare(self, a: int, b: int) -> None:
        s = self.session
        assert s.prepared is not None
        table = engine_for(s.options).compare(s.prepared, list(s.results), a, b)
        self.call_from_thread(self.push_screen, CompareScreen(table))

    def set_engine(self, name: str) -> bool:
        """Run later sweeps with engine `name`; False (and says why) when it cannot be used."""
        options = replace(self.session.options, engine=name)
        try:
            engine_for(options)
        except DataError as exc:
            self.notify(str(exc), title="Cannot switch engine", severity="error", timeout=10)
            return False
        self.session.options = options
        self.notify(f"Sweeps now run on the {name} engine. Press r to run.")
        self.changed()
        return True

    def on_segmented(self, msg: Segmented) -> None:
        self.session.sweeping = False
        self.session.segmentation = msg.segmentation
        self.session.exported = []
        self.changed()

    # --- export --------------------------------------------------------------------------------

    def export(self, target: Path, force: bool) -> None:
        if self.session.segmentation is None:
            self.notify("Nothing to export yet: run a sweep (screen 2).", severity="warning")
            return
        self._export(target, force)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, target: Path, force: bool) -> None:
        seg = self.session.segmentation
        assert seg is not None
        self.post_message(Exported(write_outputs(seg, target, force)))

    def on_exported(self, msg: Exported) -> None:
        self.session.exported = msg.files
        self.notify(f"Wrote {len(msg.files)} outputs to {Path(msg.files[0]).parent}")
        self.changed()

    def copy_segments(self) -> None:
        seg = self.session.segmentation
        if seg is None:
            self.notify("No segments yet.", severity="warning")
            return
        columns = ["segment", "customers", "share", "action_heuristic", "description",
                   "recommendation_heuristic"]  # fmt: skip
        self.copy_to_clipboard(profiles_frame(seg.profiles)[columns].to_csv(sep="\t", index=False))
        self.notify(f"Copied {len(seg.profiles)} segments to the clipboard.")

    # --- errors --------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        self.session.sweeping = self.session.sweeping and event.worker.group != "sweep"
        self.session.loading = None
        self.changed()
        if isinstance(error, DataError):
            title = ERROR_TITLES.get(event.worker.group, "Cannot do that")
            self.notify(str(error), title=title, severity="error", timeout=10)
        else:
            self.notify(
                f"{type(error).__name__}: {error}",
                title="Unexpected error (the app keeps running)",
                severity="error",
                timeout=15,
            )
