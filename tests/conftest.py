"""Shared fixtures: the bundled sample data, the user's workbook (skipped when absent)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest

from sample_data.generate import planted_customers
from segscope.core.limits import Limits

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
SEED_WORKBOOK = ROOT.parent / "shared" / "seed-data" / "E-commerce_data.xlsx"

# The Spark tests' JVM runs seconds-long jobs on a few thousand rows: its optimising compiler
# (C2) spent more CPU than it saved, half the JVM's CPU, taken from the other test worker.
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1")


# The longest files first (`make test` keeps this order: --no-loadscope-reorder): each worker
# takes the next file when it is free, so a long file taken last keeps one worker busy alone.
LONGEST_FIRST = ("test_spark.py", "test_limits_everywhere.py", "test_broken.py", "test_tui.py")


def pytest_configure(config: pytest.Config) -> None:
    """A suite started with Ctrl-C ignored (by nohup, or as a background job of a script)
    would pass that on to every command a test starts, and the tests of Ctrl-C could send none:
    Ctrl-C is given back its default here, which the commands then start with."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def place(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=place)


_parsed: dict[tuple[object, ...], dict[str, pd.DataFrame]] = {}


@pytest.fixture(autouse=True)
def bundled_workbooks_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled sample workbook and the user's are parsed once per test worker (checking and
    reading the sample takes 0.6 s, and most app tests open it): each reading gets its own copy
    of the same frames, by the same checks, limits and all. Any other workbook is read as ever."""
    from segscope.core.sources import excel

    real = excel.read_excel

    def once(p: Path, lim: Limits) -> dict[str, pd.DataFrame]:
        p = Path(p).resolve()
        if p != SEED_WORKBOOK.resolve() and p.parent != SAMPLE.resolve():
            return real(p, lim)
        key = (p, p.stat().st_mtime_ns, p.stat().st_size, lim)
        if key not in _parsed:
            _parsed[key] = real(p, lim)
        return {name: frame.copy() for name, frame in _parsed[key].items()}

    monkeypatch.setattr(excel, "read_excel", once)


@pytest.fixture(scope="session")
def shop_xlsx() -> Path:
    return SAMPLE / "shop.xlsx"


@pytest.fixture(scope="session")
def customers_csv() -> Path:
    return SAMPLE / "customers.csv"


@pytest.fixture(scope="session")
def orders_csv() -> Path:
    return SAMPLE / "orders.csv"


@pytest.fixture(scope="session")
def seed_workbook() -> Path:
    if not SEED_WORKBOOK.exists():
        pytest.skip(f"the user's workbook is not at {SEED_WORKBOOK}")
    return SEED_WORKBOOK


@pytest.fixture(scope="session")
def planted() -> pd.DataFrame:
    """1,500 customers, 4 planted segments in the numeric columns, noise demographics."""
    return planted_customers(n=1500, k=4, seed=3)
