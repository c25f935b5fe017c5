"""What the app's parts share: the session, running jobs in workers, and saying what failed."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import termios
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.reactive import reactive
from textual.worker import Worker, WorkerState

from segscope.core.errors import DataError
from segscope.core.settings import EngineSettings
from segscope.core.text import one_line
from segscope.tui.messages import StageStarted
from segscope.tui.state import Session

if TYPE_CHECKING:
    from segscope.core.engines.interface import Engine

ERROR_TITLES = {
    "load": "Cannot open this file",
    "choices": "Cannot make that change",
    "sweep": "Sweep stopped",
    "fit": "Cannot fit that k",
    "export": "Nothing written",
    "score": "Cannot score",
    "like": "Cannot use that model",
    "previous": "Cannot use those labels",
    "compare": "Cannot compare",
    "engine": "Cannot switch engine",
}


TERMINAL_CHECK = 1.0  # seconds between checks that the terminal is still there


def _terminal_there() -> bool:
    """Whether the app's terminal answers (a hung-up one fails with an input/output error)."""
    try:
        termios.tcgetattr(sys.__stdin__.fileno())  # type: ignore[union-attr]
    except (termios.error, OSError, AttributeError, ValueError):
        return False
    return True


class SessionAppBase(App[None]):
    """An app over one Session: jobs run in thread workers, failures are said, never raised."""

    version: reactive[int] = reactive(0)  # bumped whenever the session changes

    def __init__(
        self, path: str | Path | None = None, engine_settings: EngineSettings | None = None
    ) -> None:
        super().__init__()
        self.session = Session(engine_settings=engine_settings or EngineSettings())
        self.initial_path = str(path) if path else None

    def on_load(self) -> None:
        """SIGTERM and SIGHUP end the app as quitting does, so the terminal is given back (the
        alternate screen left, the cursor shown, mouse reporting off) and the exit code says the
        signal (143, 129); Ctrl-C is the app's own key. Not in a headless test."""
        if self.is_headless:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.stopped_by, sig)
        if _terminal_there():
            self.set_interval(TERMINAL_CHECK, self._check_terminal)

    def _check_terminal(self) -> None:
        """A terminal that hung up without a signal reaching the app (a tmux pane closed under
        `make run`: make keeps the SIGHUP) ends it as SIGHUP does; else Textual's input thread
        would spin on the end of its input, a core busy for nothing on a shared server."""
        if not _terminal_there():
            self.stopped_by(signal.SIGHUP)

    def stopped_by(self, signum: int) -> None:
        """A signal asks the app to stop: it exits at once, as quitting does."""
        self.workers.cancel_all()
        self.exit(return_code=128 + signum)

    def changed(self) -> None:
        """Tell every screen that the session changed."""
        self.version += 1

    def work(self, job: Callable[[], None], group: str) -> None:
        """Run `job` in a thread worker of `group` (a newer job of a group replaces an older)."""
        self.run_worker(job, thread=True, group=group, exclusive=True, exit_on_error=False)

    def engine(self, identity: str | None = None) -> Engine:
        """The engine the session's settings ask for (or the local one, when it is asked for).

        It imports the engines (pandas, scikit-learn): the first call belongs in a worker."""
        from segscope.core.engines.interface import engine_for
        from segscope.core.engines.local import LocalEngine

        if identity == LocalEngine.identity:
            return LocalEngine()
        return engine_for(self.session.engine_settings)

    def on_stage_started(self, msg: StageStarted) -> None:
        self.session.stage = msg.name
        self.changed()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.failed(event.worker.group, event.worker.error)

    def failed(self, group: str, error: BaseException) -> None:
        """Say what failed, in the session (shown until the next action) and in a toast."""
        s = self.session
        s.loading, s.preparing, s.queued = None, False, None
        if group == "sweep":
            s.sweeping = False
        if isinstance(error, DataError):
            message = one_line(error, 400)
            title = ERROR_TITLES.get(group, "Cannot do that")
        else:
            message = one_line(f"{type(error).__name__}: {error}", 400)
            title = "Unexpected error (the app keeps running)"
        s.problem = f"{title}: {message}"
        self.changed()
        self.notify(message, title=title, severity="error", timeout=12, markup=False)
