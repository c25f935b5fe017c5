"""The app's part that opens files and prepares them again when the user changes a choice."""

from __future__ import annotations

from functools import partial

from segscope.core.settings import DataChoices
from segscope.tui import jobs
from segscope.tui.base import SessionAppBase
from segscope.tui.messages import ChangeChoices, Opened, OpenPath, Reprepared, RunSweep


class Loading(SessionAppBase):
    """OpenPath and ChangeChoices in; Opened and Reprepared back."""

    def on_open_path(self, msg: OpenPath) -> None:
        s = self.session
        s.loading, s.problem, s.stage = msg.location, "", ""
        self.changed()
        self.work(
            partial(jobs.open_file, self.engine, msg.location, DataChoices(), self.post_message),
            "load",
        )

    def on_change_choices(self, msg: ChangeChoices) -> None:
        s = self.session
        if s.source is None or s.sweeping:
            return
        s.preparing, s.problem, s.stage = True, "", ""
        self.changed()
        engine = self.engine(s.source.engine)
        self.work(
            partial(jobs.reprepare, engine, s.source, msg.choices, self.post_message), "choices"
        )

    def on_opened(self, msg: Opened) -> None:
        s = self.session
        s.location, s.source, s.prepared = msg.location, msg.source, msg.prepared
        s.loading = None
        s.choices = msg.prepared.choices
        s.forget_results()
        if s.queued is None:
            self.notify(f"{msg.prepared.rows:,} customers loaded. Press 2, then r.", timeout=4)
        self.changed()
        self.run_queued()

    def on_reprepared(self, msg: Reprepared) -> None:
        s = self.session
        s.prepared, s.choices, s.preparing = msg.prepared, msg.prepared.choices, False
        if msg.source is not None:
            s.source = msg.source
        if s.sweeping and s.run is not None:
            s.run.prepared = msg.prepared
        else:
            s.forget_results()
        self.changed()
        self.run_queued()

    def run_queued(self) -> None:
        """The sweep asked for while the data was loading, now that it is ready."""
        settings, self.session.queued = self.session.queued, None
        if settings is not None:
            self.post_message(RunSweep(settings))
