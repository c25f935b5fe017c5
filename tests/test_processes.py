"""Helper processes (core.processes): the same answers as threads, and nothing left behind.

Helpers are forked only from a process running no other Python thread, and a test worker runs
several: each check runs in a fresh process (tests/helper_runs.py), with one native thread as
the command has. No timing is asserted (`make bench` measures speed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from segscope.core import processes, threads

from .hostile.cli import ROOT

ONE_NATIVE_THREAD = {name: "1" for name in threads.NATIVE_POOLS}


def _run(case: str) -> dict[str, Any]:
    ran = subprocess.run(
        [sys.executable, "-m", "tests.helper_runs", case],
        cwd=ROOT,
        env={**os.environ, **ONE_NATIVE_THREAD},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr[-2000:]
    return json.loads(ran.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_a_sweep_on_helpers_is_the_sweep_on_one_thread() -> None:
    """Every k's figures, labels, bootstrap refits, gap and centres on the real credit table,
    from two helper processes and from this process alone; and the quicker silhouette sweep."""
    ran = _run("sweep")
    assert ran["helpers"] == 2  # the helpers did the work
    assert ran["ks"] == list(range(2, 11))  # in order
    assert ran["same"] and ran["quick_same"]
    assert ran["left"] == 0


def test_helpers_give_back_warnings_and_errors_and_a_dead_helpers_work_is_done_here() -> None:
    ran = _run("fallbacks")
    assert ran["got"] == [100, 101, 102, 103, 104]  # item 3's helper died: done here, in order
    assert ran["raised"] == "item 5 cannot be done"  # the work's own exception, raised here
    assert ran["warned"] == ["item 1 is odd"]
    assert ran["warned_once"] == ["item 1 is odd"]  # four helpers' warnings at one place: once
    assert ran["beside"] == [3, "item 5 cannot be done"]  # work beside: its helper died; raised
    assert ran["with_thread"] == [False, [0, 4]]  # another thread running: no fork, done here
    assert ran["alone_again"] is True
    assert ran["left"] == 0


def test_helpers_never_finalize_what_the_command_holds() -> None:
    """Garbage with a finalizer in the command when helpers are forked (a database connection's
    can crash a helper that runs it) is finalized once, by the command, whatever the helpers
    collect."""
    ran = _run("finalizers")
    assert ran["got"] == [1, 2, 3, 4]
    assert ran["finalized_by"] == ["this"]


def test_a_model_made_beside_the_run_is_the_model_made_here() -> None:
    ran = _run("model")
    assert ran["helped"] == 1 and ran["same"] and ran["again"]
    assert ran["left"] == 0


def test_a_standby_helper_makes_the_model_on_a_free_core_and_leaves_when_none_is() -> None:
    """Forked before anything loads, a standby helper loads skops on a free core while the
    command loads the rest, and makes the model's bytes at the run's end (skops never loaded
    here); where no core is free it leaves at once, and the bytes are made here. Either way the
    model is the one made here."""
    ran = _run("standby")
    assert ran["answered"] and ran["queued"] and ran["declined"] and ran["made_there"]
    assert not ran["loaded_here"]
    assert ran["same"]
    assert ran["left"] == 0


def test_rules_found_beside_the_profiles_are_the_rules_found_after_them() -> None:
    """With a core to spare, the rules and RFM cells are found in one helper and the model's
    bytes made in another while the profiles and the relevance check run: the sample workbook's
    rules, cells and segments are those found without."""
    ran = _run("beside_the_profiles")
    assert ran["helpers"] == [2, 0]
    assert ran["rfm"] and ran["same"]
    assert ran["left"] == 0


def test_ctrl_c_during_a_sweep_on_helpers_stops_them_quietly() -> None:
    """Ctrl-C reaches the whole process group: the helpers ignore it, the run stops them, and
    nothing is printed by them or left running."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helper_runs", "interrupted"],
        cwd=ROOT,
        env={**os.environ, **ONE_NATIVE_THREAD},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().split() == ["helping", "2"]
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and err == ""
    assert json.loads(out.splitlines()[-1]) == {"interrupted": True, "left": 0}
    for _ in range(50):  # the group empties as the last helper is reaped
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("a helper outlived the run")


def test_the_free_cores_count_this_processs_helpers_as_its_own() -> None:
    """A child's CPU time is this process's own (core.threads.cpu_sample), living or ended, so
    the pool is not sized down by its own helpers."""
    before = threads.cpu_sample()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nt = time.process_time()\n"
            "while time.process_time() - t < 0.5: pass\nprint(1, flush=True)\ninput()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    child.stdout.readline()  # it has burnt half a second of CPU, and lives on
    living = threads.cpu_sample()
    child.communicate("\n")
    ended = threads.cpu_sample()
    assert before and living and ended
    ticks = os.sysconf("SC_CLK_TCK")
    assert living.own - before.own >= 0.4 * ticks
    assert ended.own - before.own >= 0.4 * ticks


def test_work_goes_to_helpers_only_with_two_threads_on_rows_whose_labels_are_light(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(processes.threading, "active_count", lambda: 1)  # as a command alone
    assert processes.on_helpers(2, 100)
    assert not processes.on_helpers(1, 100)  # one thread given: no helper
    assert not processes.on_helpers(2, processes.HELPER_ROWS + 1)  # long: threads share labels
    monkeypatch.undo()
    waiting = threading.Event()
    beside = threading.Thread(target=waiting.wait)
    beside.start()  # a thread running: never a fork
    try:
        assert not processes.can_help() and not processes.on_helpers(2, 100)
    finally:
        waiting.set()
        beside.join()
