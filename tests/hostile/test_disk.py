"""The disk: inputs are sacred, outputs are atomic, honour the umask, and are only ever ours."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import pytest

from segscope.core.files import MARK

from .cli import assert_refused, in_process, segscope, start
from .corpus import base_table, write_csv


@pytest.fixture
def table(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return write_csv(base_table(200), folder / "in.csv")


def _hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and "segscope" in p.name]


def test_force_never_replaces_the_inputs_folder(table: Path) -> None:
    before = table.read_bytes()
    ran = in_process("sweep", table, "--k", "2-3", "--out", table.parent, "--force")
    assert_refused(ran, "holds the input in.csv")
    assert table.read_bytes() == before


def test_force_never_replaces_an_output_holding_the_input(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert in_process("sweep", table, "--k", "2", "--out", out).code == 0
    moved = out / "in.csv"
    moved.write_bytes(table.read_bytes())  # next month's data, kept in last month's output
    ran = in_process("sweep", moved, "--k", "2", "--out", out, "--force")
    assert_refused(ran, "holds the input")
    assert moved.exists() and (out / "labels.csv").exists()


def test_force_never_follows_a_symbolic_link(table: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    assert in_process("sweep", table, "--k", "2", "--out", real).code == 0
    link = tmp_path / "link"
    link.symlink_to(real)
    stamp = (real / "summary.json").stat().st_mtime_ns
    ran = in_process("sweep", table, "--k", "3", "--out", link, "--force")
    assert_refused(ran, "symbolic link")
    assert (real / "summary.json").stat().st_mtime_ns == stamp and link.is_symlink()


def test_the_root_folder_is_refused_and_nothing_is_left_in_it(table: Path) -> None:
    before = sorted(os.listdir("/"))
    ran = in_process("sweep", table, "--k", "2", "--out", "/", "--force")
    assert_refused(ran, "cannot be an output folder")
    assert sorted(os.listdir("/")) == before


def test_an_unwritable_place_is_refused_before_any_work(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_bytes(bytes(range(256)) * 4)  # would fail too, but later
    ran = segscope("sweep", broken, "--out", "/proc/segscope-out")
    assert_refused(ran, "cannot write in /proc")  # the output is checked first


def test_two_runs_into_one_folder_never_replace_each_other(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runs = [start("sweep", table, "--k", "2-5", "--out", out) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read().decode()) for p in runs if p.stderr]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3], results
    refused = next(err for code, err in results if code == 3)
    assert "appeared while segscope was working" in refused or "already exists" in refused
    assert (out / MARK).exists() and (out / "labels.csv").exists()
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_stops_cleanly(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    big = write_csv(base_table(60_000), tmp_path / "big.csv")
    out = tmp_path / "out"
    proc = start("sweep", big, "--out", out, "--k", "2-12")
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()  # what it uses, printed before the sweep
    assert "60,000 customers" in line
    time.sleep(0.5)
    proc.send_signal(sig)
    assert proc.wait(timeout=120) == code
    assert "nothing was written" in proc.stderr.read().decode()
    assert not out.exists() and _hidden(tmp_path) == []


@pytest.mark.parametrize(
    ("umask", "folder", "file"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)]
)
def test_outputs_honour_the_umask(
    table: Path, tmp_path: Path, umask: int, folder: int, file: int
) -> None:
    out = tmp_path / "out"
    assert segscope("sweep", table, "--k", "2", "--out", out, umask=umask).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == folder
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == file, path.name
