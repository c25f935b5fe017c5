"""Running the real command in a subprocess, as a user would, with its peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
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


# the command, run so that it reports its own peak memory (ru_maxrss, KiB) into a file at exit
WRAPPER = """
import atexit, resource, runpy, sys
peak = sys.argv.pop(1)
usage = lambda: str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
atexit.register(lambda: open(peak, "w").write(usage()))
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


def in_process(*args: object, env: dict[str, str] | None = None) -> Ran:
    """`segscope ARGS` through the same entry point, in this process (fast; no peak memory). What
    a run sets for its process (the environment given, the thread cap of --threads, the signal
    handlers of the command) is put back after it."""
    import contextlib
    import io
    import signal

    from segscope.core import threads
    from segscope.tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    env = {"COLUMNS": "160", **(env or {})}
    saved = {k: os.environ.get(k) for k in env}
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    cap = threads._cap
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args])
    finally:
        threads._cap = cap
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Ran(code, out.getvalue(), err.getvalue(), float("nan"))
