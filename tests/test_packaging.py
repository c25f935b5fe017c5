"""The wheel: one import root (segscope/), and it works installed for real, not editable.

The wheel is built from the repository and installed without dependencies into a fresh virtual
environment whose dependencies come from the development environment's site-packages (a .pth
line: that folder's own .pth files, the editable install among them, are not run).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git to copy the tree")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("tree")
    # a copy of the tracked tree, so no build/ or egg-info lands in the checkout
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (build / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, build / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-qq",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(build),
        ],  # fmt: skip
        check=True,
    )
    return next(out.glob("segscope-*.whl"))


@pytest.fixture(scope="module")
def fresh(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-qq",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],  # fmt: skip
        check=True,
    )
    return env


def test_the_wheel_holds_only_segscope(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"segscope", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1]
                    + ".dist-info"}  # fmt: skip
    assert "segscope/tui/app.tcss" in names and "segscope/core/py.typed" in names
    assert not any(n.startswith(("segscope/tests", "segscope/benchmarks")) for n in names)


def test_installed_wheel_works_from_anywhere(fresh: Path, tmp_path: Path) -> None:
    python, segscope = fresh / "bin" / "python", fresh / "bin" / "segscope"
    for name in ("core", "tui"):
        proc = subprocess.run([python, "-c", f"import {name}"], capture_output=True, cwd=tmp_path)
        assert proc.returncode != 0 and b"No module named" in proc.stderr
    where = subprocess.run(
        [python, "-c", "import segscope.core as c; print(c.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert str(fresh) in where.stdout  # the installed copy, not the checkout
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            segscope,
            "sweep",
            str(ROOT / "sample_data" / "customers.csv"),
            "--k",
            "3-4",
            "--out",
            str(out),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "labels.csv").exists()


def test_installed_app_starts_with_its_stylesheet(fresh: Path, tmp_path: Path) -> None:
    code = """
import asyncio
from segscope.tui.app import SegscopeApp

async def main():
    app = SegscopeApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        sources = {path for (path, _) in app.stylesheet.source}
        print(any(str(p).endswith("segscope/tui/app.tcss") for p in sources))
        print(app.screen.query_one("#tree").styles.width)

asyncio.run(main())
"""
    proc = subprocess.run(
        [fresh / "bin" / "python", "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    found, width = proc.stdout.split()[-2:]
    assert found == "True" and width == "28"
