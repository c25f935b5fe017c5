"""Issue 25, section 5: signals are acted on at once. SIGTERM, SIGHUP and Ctrl-C (SIGINT) during a
long PostgreSQL query (a view or a --query that sleeps on the real server) stop the command
promptly with 143, 129 or 130, cancel the query on the server and leave nothing behind; the app
killed by SIGTERM in a terminal (a pty) gives the terminal back: the alternate screen left,
the cursor shown, mouse reporting off."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..databases import Server, load_postgres, run_sql
from .cli import ROOT, start
from .corpus import base_table, write_csv
from .harness import hidden, pg_rows, postgres

STOPPED_WITHIN = 15  # seconds from the signal to the exit
SLEEP = "SELECT c.* FROM customers c, (SELECT pg_sleep(120)) AS nap"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from postgres()


@pytest.fixture(scope="module")
def slow(server: Server) -> str:
    url = server.create("slow")
    load_postgres(url, {"customers": base_table(60)})
    run_sql(url, f"CREATE VIEW slow_customers AS {SLEEP}")
    return url


def _sleeping(server: Server) -> int:
    """How many sessions of the 'slow' database are inside pg_sleep now."""
    rows = pg_rows(
        server.url("postgres"),
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = 'slow' "
        "AND wait_event = 'PgSleep'",
    )
    return int(rows[0]["n"])


def _end_sleepers(server: Server) -> None:
    """End every session of the 'slow' database and wait until the server has let them go (a
    session ended a moment ago must not pass for the next test's query)."""
    for _ in range(100):
        rows = pg_rows(
            server.url("postgres"),
            "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity "
            "WHERE datname = 'slow' AND pid <> pg_backend_pid()",
        )
        if not rows:
            return
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("how", "sig", "code"),
    [
        ("view", signal.SIGTERM, 143),
        ("view", signal.SIGHUP, 129),
        ("view", signal.SIGINT, 130),
        ("query", signal.SIGTERM, 143),
    ],
    ids=["view-SIGTERM", "view-SIGHUP", "view-SIGINT", "query-SIGTERM"],
)
def test_a_signal_during_a_long_postgres_query_stops_at_once(
    server: Server, slow: str, tmp_path: Path, how: str, sig: signal.Signals, code: int
) -> None:
    out = tmp_path / "out"
    args = ["--sheet", "slow_customers"] if how == "view" else ["--query", SLEEP]
    _end_sleepers(server)
    proc = start("sweep", slow, *args, "--k", "3", "--out", out)
    try:
        for _ in range(300):  # until the query sleeps on the server (at most 30 s)
            if _sleeping(server) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
        assert _sleeping(server), "the query never reached the server"
        signalled = time.monotonic()
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=STOPPED_WITHIN)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"{sig.name} was not acted on within {STOPPED_WITHIN} s")
        took = time.monotonic() - signalled
        assert proc.returncode == code, (proc.returncode, err.decode()[-1500:])
        assert took < STOPPED_WITHIN
        text = err.decode()
        assert "Traceback" not in text and len(text.strip().splitlines()) <= 3, text[-1500:]
        assert not out.exists() and hidden(tmp_path) == []
        for _ in range(50):  # the query was cancelled, not left to sleep on the server
            if not _sleeping(server):
                break
            time.sleep(0.1)
        assert not _sleeping(server), "the query still runs on the server"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _end_sleepers(server)


# --- the app in a terminal ----------------------------------------------------------------------

MOUSE_MODES = ("1000", "1002", "1003", "1005", "1006", "1015")


def _read(fd: int, until: float, stop: bytes | None = None) -> bytes:
    """What the terminal receives until `until` (a monotonic time), the end, or `stop`."""
    data = b""
    while time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end closed: the app is gone
            break
        if not chunk:
            break
        data += chunk
        if stop is not None and stop in data:
            break
    return data


def test_the_app_killed_by_sigterm_gives_the_terminal_back(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    table = write_csv(base_table(60), tmp_path / "customers.csv")
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, in the pty
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "segscope.tui.cli", str(table)], env)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        shown = _read(fd, time.monotonic() + 30, stop=b"customers")  # the table, loaded
        assert b"\x1b[?1049h" in shown, "the app never entered the alternate screen"
        shown += _read(fd, time.monotonic() + 1.5)  # settled
        os.kill(pid, signal.SIGTERM)
        after = _read(fd, time.monotonic() + 10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    assert b"\x1b[?1049l" in after, "the terminal is left in the alternate screen"
    assert b"\x1b[?25h" in after, "the cursor is left hidden"
    enabled = set(re.findall(rb"\x1b\[\?(\d+)h", shown))
    for mode in MOUSE_MODES:
        if mode.encode() in enabled:
            assert f"\x1b[?{mode}l".encode() in after, f"mouse reporting {mode} is left on"


def test_the_app_whose_terminal_hangs_up_unsignalled_ends(tmp_path: Path) -> None:
    """A terminal closed under a parent that keeps the hang-up to itself (`make run` in a tmux
    pane that is closed: make, the pane's first process, is told; the app is not) ends the app as
    SIGHUP would, 129, rather than leaving it spinning on the end of its input."""
    import pty

    table = write_csv(base_table(60), tmp_path / "customers.csv")
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    pid, fd = pty.fork()
    if pid == 0:  # the pane's first process: ignores the hang-up, waits for the app, as make does
        try:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            os.chdir(ROOT)
            app = os.fork()
            if app == 0:
                signal.signal(signal.SIGHUP, signal.SIG_DFL)
                os.execve(
                    sys.executable, [sys.executable, "-m", "segscope.tui.cli", str(table)], env
                )
            os._exit(os.waitstatus_to_exitcode(os.waitpid(app, 0)[1]) % 256)
        finally:
            os._exit(99)
    status = None
    try:
        shown = _read(fd, time.monotonic() + 30, stop=b"customers")  # the table, loaded
        assert b"\x1b[?1049h" in shown, "the app never entered the alternate screen"
        os.close(fd)  # the pane is closed
        closed = time.monotonic()
        while status is None and time.monotonic() < closed + STOPPED_WITHIN:
            done, status = os.waitpid(pid, os.WNOHANG)
            status = status if done else None
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # the pane's process and the app, if still there
        if status is None:
            os.waitpid(pid, 0)
    assert status is not None, f"the app still runs {STOPPED_WITHIN} s after its terminal closed"
    assert os.waitstatus_to_exitcode(status) == 129
