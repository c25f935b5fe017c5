"""core/ is UI-independent: importing any of its modules loads no textual, rich or tui module.

scikit-learn >= 1.9 imports rich itself (for its progress callbacks), so each check first imports
the engine's own libraries, then the core module, and looks only at what the core module added.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import core

MODULES = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))
LIBRARIES = (
    "numpy, pandas, sklearn.cluster, sklearn.compose, sklearn.impute, sklearn.metrics, "
    "sklearn.pipeline, sklearn.preprocessing, kneed, skops.io, plotext"
)
UI = ("textual", "textual_plotext", "rich", "tui")


@pytest.mark.parametrize("module", MODULES)
def test_core_module_does_not_import_ui(module: str) -> None:
    code = (
        f"import sys, {LIBRARIES}; before = set(sys.modules); import {module}; "
        f"added = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in {UI!r}); "
        "print(','.join(added))"
    )
    root = Path(core.__file__).parent.parent
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"{module} imports {proc.stdout.strip()}"


def test_core_sources_name_no_ui_library() -> None:
    root = Path(core.__file__).parent
    for path in root.rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                assert words[1].split(".")[0] not in UI, f"{path.name}: {line.strip()}"


def test_every_core_module_is_checked() -> None:
    assert {"core.io", "core.sweep", "core.analysis", "core.report"} <= set(MODULES)
    assert {"core.engine", "core.spark", "core.spark.engine"} <= set(MODULES)
