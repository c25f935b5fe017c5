"""Running the real command in a subprocess, as a user would, with its peak memory."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTROLS = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]]


@dataclass
class Ran:
    code: int
    out: str
    err: str
    peak_mib: float

    @property
    def text(self) -> str:
        return self.out + self.err


# the command, run so that it reports its own peak memory (KiB) into a file at exit: the peak of
# this process's memory (VmHWM), not ru_maxrss, which carries over the parent's (at the fork, or
# its peak through a vfork): a test worker's gigabyte would read as the command's
WRAPPER = """
import atexit, runpy, sys
from pathlib import Path
peak = Path(sys.argv.pop(1))
usage = lambda: Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]
atexit.register(lambda: peak.write_text(usage()))
sys.argv[0] = "segscope"
runpy.run_module("segscope.tui.cli", run_name="__main__")
"""


def start(
    *args: object, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """`segscope ARGS` started in a fresh process of its own group (stdout, stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "segscope.tui.cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "160", **(env or {})},
        start_new_session=True,
    )


def segscope(
    *args: object, env: dict[str, str] | None = None, umask: int | None = None, cwd: Path = ROOT
) -> Ran:
    """`segscope ARGS` in a fresh process; its exit code, stdout, stderr and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"

        def setup() -> None:
            if umask is not None:
                os.umask(umask)

        proc = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(peak), *map(str, args)],
            capture_output=True,
            cwd=cwd,
            env={**os.environ, "COLUMNS": "160", **(env or {})},
            preexec_fn=setup,
            timeout=600,
        )
        kib = float(peak.read_text()) if peak.exists() else float("nan")
    return Ran(
        proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace"),
        kib / 1024,
    )  # fmt: skip


# several commands one after another in one fresh process, each through in_process; each run's
# result, with its peak memory (the process's, reset before the run), a JSON line in a file
EACH = """
import dataclasses, json, sys
from tests.hostile.cli import in_process, peak_mib, reset_peak
with open(sys.argv[1], "w") as results:
    for line in sys.stdin:
        reset_peak()
        ran = in_process(*json.loads(line))
        ran.peak_mib = peak_mib()
        results.write(json.dumps(dataclasses.asdict(ran)) + "\\n")
        results.flush()
"""


def peak_mib() -> float:
    """This process's peak resident memory since it started or was last reset (Linux: VmHWM);
    not ru_maxrss, which carries over the parent's when a child is forked."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def reset_peak() -> None:
    """Start this process's peak afresh from its present size (heap freed by earlier runs given
    back first, so that a run cannot reuse it unseen)."""
    ctypes.CDLL(None).malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")


def segscope_each(*commands: Sequence[object], env: dict[str, str] | None = None) -> list[Ran]:
    """Each command's `segscope ARGS`, one after another in one fresh process (one start of the
    interpreter for many runs): a run's peak_mib is the process's peak during it (its size after
    the imports, as a fresh process's, and what the run added)."""
    lines = "".join(json.dumps([str(a) for a in command]) + "\n" for command in commands)
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results"
        proc = subprocess.run(
            [sys.executable, "-c", EACH, str(results)],
            input=lines,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "160", **(env or {})},
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        ran = [Ran(**json.loads(line)) for line in results.read_text().splitlines()]
    assert len(ran) == len(commands), proc.stderr[-2000:]
    return ran


def has_control(text: str) -> bool:
    """Whether raw control characters (but newline, tab and the CR of a CSV line end) remain."""
    return any(c in text for c in CONTROLS if c != "\r")


def assert_refused(ran: Ran, *needles: str) -> None:
    """Exit 3, a short message naming what it should, no traceback."""
    assert ran.code == 3, (ran.code, ran.err[-2000:])
    assert "Traceback" not in ran.text
    lines = ran.err.strip().splitlines()
    assert lines and lines[-1].startswith("segscope: "), ran.err  # the refusal, said last
    assert len(lines) <= 3, ran.err
    for needle in needles:
        assert needle in ran.err, (needle, ran.err)


IN_PROCESS_LIMIT = 120  # seconds: a run in this process that hangs ends the worker, saying where


def in_process(*args: object, env: dict[str, str] | None = None) -> Ran:
    """`segscope ARGS` through the same entry point, in this process (fast; no peak memory).

    What a process of its own would show on stderr is in `err`: what the command writes there,
    the warnings Python would print, log records of WARNING and above (Python's last-resort
    handler), and whatever a library writes to file descriptor 2. A run that hangs past
    IN_PROCESS_LIMIT ends the process with every thread's traceback (faulthandler). What a run
    sets for its process (the environment, the thread cap of --threads, the signal handlers of
    the command) is put back after it."""
    import contextlib
    import faulthandler
    import io
    import logging
    import signal
    import tempfile
    import warnings

    from segscope.core.threads import NATIVE_POOLS, set_thread_cap, thread_cap
    from segscope.tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    env = {"COLUMNS": "160", **(env or {})}
    saved = {k: os.environ.get(k) for k in [*env, *NATIVE_POOLS]}
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    cap = thread_cap()
    logged = logging.StreamHandler(err)
    logged.setLevel(logging.WARNING)
    os.environ.update(env)
    sys.stderr.flush()
    stderr_fd = os.dup(2)
    with tempfile.TemporaryFile() as native, warnings.catch_warnings(record=True) as warned:
        warnings.resetwarnings()  # a new process's filters: shown once per place, but these
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        os.dup2(native.fileno(), 2)
        logging.getLogger().addHandler(logged)
        faulthandler.dump_traceback_later(IN_PROCESS_LIMIT, exit=True, file=stderr_fd)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main([os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args])
        finally:
            faulthandler.cancel_dump_traceback_later()
            logging.getLogger().removeHandler(logged)
            os.dup2(stderr_fd, 2)
            os.close(stderr_fd)
            set_thread_cap(cap)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        native.seek(0)
        err.write(native.read().decode(errors="replace"))
    for w in warned:
        err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    return Ran(code, out.getvalue(), err.getvalue(), float("nan"))
