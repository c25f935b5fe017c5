"""Shared fixtures: the bundled sample data, the user's workbook (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from sample_data.generate import planted_customers

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
SEED_WORKBOOK = ROOT.parent / "shared" / "seed-data" / "E-commerce_data.xlsx"

# The Spark tests' JVM runs seconds-long jobs on a few thousand rows: its optimising compiler
# (C2) spent more CPU than it saved, half the JVM's CPU, taken from the other test worker.
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1")


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
