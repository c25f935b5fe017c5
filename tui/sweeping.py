"""The app's part that sweeps k, picks another k, compares two and switches the engine."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from segscope.core import ENGINES
from segscope.core.errors import DataError
from segscope.core.locations import display_name
from segscope.core.text import one_line
from segscope.tui import jobs
from segscope.tui.base import SessionAppBase
from segscope.tui.messages import (
    CancelSweep,
    ChooseK,
    Compared,
    CompareK,
    RunSweep,
    Segmented,
    SweepStarted,
    SweepStep,
    SweepStopped,
    SwitchEngine,
)
from segscope.tui.screens.dialogs import CompareScreen
from segscope.tui.state import SweepRun


class Sweeping(SessionAppBase):
    """RunSweep, CancelSweep, ChooseK, CompareK and SwitchEngine in; the sweep's steps back."""

    _pending_k: int | None = None  # a k picked while a sweep was still finishing

    def on_run_sweep(self, msg: RunSweep) -> None:
        s = self.session
        if s.loading or s.preparing:  # asked for early: it starts when the data is ready
            s.queued = msg.settings
            self.notify(f"The sweep starts when {display_name(s.loading or s.name)} is ready.")
            return
        if s.prepared is None or s.source is None or s.location is None:
            self.notify("Load a file first (screen 1).", severity="warning")
            return
        if s.sweeping:
            self.notify("A sweep is already running; Esc cancels it.", severity="warning")
            return
        try:
            engine = self.engine()
        except DataError as exc:
            self.failed("sweep", exc)
            return
        s.settings = msg.settings
        s.forget_results()
        s.run, s.sweeping, s.problem, s.stage = SweepRun(engine, s.prepared), True, "", ""
        self._pending_k = None
        self.changed()
        job = partial(
            jobs.sweep,
            engine,
            s.location,
            s.source,
            s.prepared,
            s.choices,
            msg.settings,
            self.post_message,
        )
        self.work(job, "sweep")

    def on_cancel_sweep(self, _: CancelSweep) -> None:
        if self.session.sweeping:
            self.workers.cancel_group(self, "sweep")
            self.notify("Cancelling: the sweep stops after the current k.")

    def on_choose_k(self, msg: ChooseK) -> None:
        s = self.session
        if s.run is None or msg.k not in [r.k for r in s.results]:
            return
        if s.sweeping:
            self._pending_k = msg.k  # applied as soon as the sweep has finished or stopped
            return
        settings = replace(s.settings, k=msg.k)
        self.work(partial(jobs.fit, s.run, settings, self.post_message), "fit")

    def on_compare_k(self, msg: CompareK) -> None:
        run = self.session.run
        if run is not None and not self.session.sweeping:
            self.work(partial(jobs.compare, run, msg.a, msg.b, self.post_message), "compare")

    def on_switch_engine(self, _: SwitchEngine) -> None:
        s = self.session
        if s.sweeping:
            self.notify("Cancel the sweep first (Esc).", severity="warning")
            return
        name = ENGINES[(ENGINES.index(s.engine_settings.engine) + 1) % len(ENGINES)]
        where = replace(s.engine_settings, engine=name)
        from segscope.core.engines.interface import engine_for

        try:
            engine_for(where)
        except DataError as exc:
            self.failed("engine", exc)
            return
        s.engine_settings = where
        self.notify(f"Sweeps now run on the {name} engine. Press r to run.")
        self.changed()

    def on_sweep_started(self, msg: SweepStarted) -> None:
        s = self.session
        if s.run is not None:
            s.run.setup, s.run.prepared = msg.setup, msg.prepared
        for w in msg.setup.warnings:
            self.notify(one_line(w), severity="warning", markup=False)
        self.changed()

    def on_sweep_step(self, msg: SweepStep) -> None:
        if self.session.run is not None:
            self.session.run.results.append(msg.result)
        self.changed()

    def on_sweep_stopped(self, _: SweepStopped) -> None:
        s = self.session
        s.sweeping, s.cancelled = False, True
        self.notify(f"Sweep cancelled after {len(s.results)} k value(s); the finished rows stay.")
        self.changed()
        self._pick_pending()

    def on_segmented(self, msg: Segmented) -> None:
        s = self.session
        s.sweeping, s.segmentation, s.exported = False, msg.segmentation, []
        self.changed()
        self._pick_pending()

    def _pick_pending(self) -> None:
        k, self._pending_k = self._pending_k, None
        seg = self.session.segmentation
        if k is not None and (seg is None or seg.choice.k != k):
            self.post_message(ChooseK(k))

    def on_compared(self, msg: Compared) -> None:
        self.push_screen(CompareScreen(msg.table))
