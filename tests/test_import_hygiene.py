"""One import root, and segscope.core UI-independent.

segscope.core: importing any of its modules loads no textual, rich or segscope.tui module.
scikit-learn >= 1.9 imports rich itself (for its progress callbacks), so each check first imports
the engine's own libraries, then the core module, and looks only at what the core module added.

One import root: the folders core/ and tui/ are importable only as segscope.core and
segscope.tui, never as plain `core` or `tui` (which would load every module a second time).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import segscope.core as core

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "segscope.core."))
LIBRARIES = (
    "numpy, pandas, sklearn.cluster, sklearn.compose, sklearn.impute, sklearn.metrics, "
    "sklearn.pipeline, sklearn.preprocessing, kneed, skops.io, plotext"
)
UI = ("textual", "textual_plotext", "rich", "segscope.tui")


def is_ui(module: str) -> bool:
    return any(module == ui or module.startswith(ui + ".") for ui in UI)


def run_python(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd)


# One interpreter imports the libraries once, then imports each core module in a forked child of
# itself and prints what that module added: every module is checked alone, in a few seconds.
ADDED_BY_EACH = f"""
import os, sys, {LIBRARIES}
for module in sys.argv[1:]:
    read, write = os.pipe()
    if os.fork() == 0:
        os.close(read)
        before = set(sys.modules)
        __import__(module)
        os.write(write, ",".join(sorted(set(sys.modules) - before)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        print(module + ":" + pipe.read())
    os.wait()
"""


def test_core_modules_do_not_import_ui() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", ADDED_BY_EACH, *MODULES], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    added = dict(line.split(":", 1) for line in proc.stdout.splitlines())
    assert sorted(added) == MODULES, proc.stderr
    for module, names in added.items():
        assert not [m for m in names.split(",") if is_ui(m)], f"{module} imports UI modules"


@pytest.mark.parametrize("entry", ["segscope.tui.app", "segscope.tui.cli"])
def test_the_app_starts_without_the_engine_libraries(entry: str) -> None:
    """The first screen and --help never wait for pandas, scikit-learn or pyarrow: the engine is
    imported by the first job that needs it, in a worker."""
    heavy = ("pandas", "sklearn", "scipy", "pyarrow", "skops", "kneed")
    proc = run_python(f"import sys, {entry}; print(','.join(sorted(sys.modules)))")
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.strip().split(",")
    assert not [m for m in loaded if m.split(".")[0] in heavy]


def test_core_sources_name_no_ui_library() -> None:
    for path in Path(core.__file__).parent.rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                assert not is_ui(words[1]), f"{path.name}: {line.strip()}"


def test_every_core_module_is_checked() -> None:
    names = {m.removeprefix("segscope.") for m in MODULES}
    stages = ("sources", "features", "preparing", "clustering", "describing", "models")
    assert {f"core.{stage}" for stage in stages} <= names
    assert {"core.sources.reading", "core.clustering.sweep", "core.engines.local"} <= names
    assert {"core.engines.spark", "core.engines.spark.engine", "core.outputs.folders"} <= names


@pytest.mark.parametrize("name", ["core", "tui", "core.io", "tui.cli"])
def test_the_folders_are_not_importable_under_their_own_names(name: str) -> None:
    """Even from the repository's root, where core/ and tui/ are on sys.path."""
    proc = run_python(f"import {name}")
    assert proc.returncode != 0
    assert "segscope has one import root" in proc.stderr


def test_every_loaded_module_has_one_name() -> None:
    """After the whole app is imported, each source file is loaded under one module name."""
    code = (
        "import sys, segscope.tui.app, segscope.tui.cli, segscope.core.engines.interface, "
        "segscope.core.outputs.folders\n"
        "files = {}\n"
        "for name, m in list(sys.modules.items()):\n"
        "    f = getattr(m, '__file__', None)\n"
        f"    if f and f.startswith(({str(ROOT / 'core')!r}, {str(ROOT / 'tui')!r})):\n"
        "        files.setdefault(f, []).append(name)\n"
        "print(len(files)); print([v for v in files.values() if len(v) > 1])\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('core', 'tui')))\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    count, doubles, plain = proc.stdout.strip().splitlines()
    assert int(count) > 20 and doubles == "[]" and plain == "[]"


def test_no_import_circle_anywhere() -> None:
    """No module imports, directly or through others, a module that imports it back."""
    import grimp

    graph = grimp.build_graph("segscope.core", "segscope.tui", cache_dir=None)
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("segscope.") and graph.find_shortest_chain(imported, module):
                circles.append((module, imported))
    assert circles == []


def test_the_file_read_ahead_and_the_engine_import_different_modules() -> None:
    """The command reads its file on one thread while the engine loads on another: the reader
    imports only pandas' and pyarrow's modules (and what read_ahead imports first), and loading
    the engine must add none of them, or the two threads could wait on each other's imports."""
    code = (
        "import sys\n"
        "from segscope.core.sources.reading import read_ahead\n"
        "before = set(sys.modules)\n"
        "import segscope.core.engines.interface, segscope.core.outputs.folders\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    added = out.stdout.split()
    assert any(m.startswith("sklearn") for m in added)  # the engine was loaded here
    shared = [m for m in added if m.split(".")[0] in ("pandas", "pyarrow")]
    assert shared == []


# What a sweep of a CSV file never needs: readers of other sources, other engines, the app.
UNUSED_BY_A_CSV = (
    "adbc_driver_manager",
    "adbc_driver_postgresql",
    "duckdb",
    "pglast",
    "pyspark",
    "py4j",
    "openpyxl",
    "python_calamine",
    "textual",
    "textual_plotext",
    "segscope.core.sources.database",
    "segscope.core.sources.excel",
    "segscope.core.sources.queries",
    "segscope.core.engines.spark",
    "segscope.core.outputs.labels_table",
    "segscope.tui.app",
)


def test_a_sweep_of_a_csv_imports_only_what_it_uses(tmp_path: Path) -> None:
    """`segscope sweep customers.csv` runs to its end (every output written) without importing a
    database driver, Spark, a workbook reader or the app: each is imported where first used."""
    rng = np.random.default_rng(0)
    table = tmp_path / "customers.csv"
    pd.DataFrame(
        {
            "customer_id": range(1, 201),
            "spend": rng.gamma(2, 50, 200).round(2),
            "visits": rng.poisson(4, 200),
            "city_id": rng.integers(1, 5, 200),
        }
    ).to_csv(table, index=False)
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('\\n'.join(sorted(sys.modules)), file=sys.__stderr__))\n"
        "from segscope.tui.cli import main\n"
        f"raise SystemExit(main(['sweep', {str(table)!r}, '--k', '2-3', '--out', "
        f"{str(tmp_path / 'out')!r}]))\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "out" / "model.segscope").exists()  # the run wrote everything
    loaded = set(proc.stderr.split())
    assert "sklearn.cluster" in loaded  # the check sees the run's modules
    unused = [m for m in loaded if any(m == u or m.startswith(u + ".") for u in UNUSED_BY_A_CSV)]
    assert not unused, unused


def test_a_file_that_cannot_be_read_is_said_before_the_engine_has_loaded(tmp_path: Path) -> None:
    """The file is read while scikit-learn and the engine load: a file that cannot be read is
    refused as soon as that is known. Here the engine never finishes loading (its import waits
    for ever), and the refusal still comes."""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n1,2\n\x00\x01\x02")
    code = (
        "import importlib.util, os, sys, threading\n"
        "class Hang:\n"  # the module is found, and its code never ends
        "    def create_module(self, spec): return None\n"
        "    def exec_module(self, module): threading.Event().wait()\n"
        "class Find:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'segscope.core.engines.interface':\n"
        "            return importlib.util.spec_from_loader(name, Hang())\n"
        "sys.meta_path.insert(0, Find())\n"
        "from segscope.tui.cli import main\n"
        f"code = main(['sweep', {str(bad)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "sys.stderr.flush()\n"
        "os._exit(code)\n"
    )
    run = [sys.executable, "-c", code]
    proc = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "bad.csv does not look like a text table" in proc.stderr
    assert not (tmp_path / "out").exists()
