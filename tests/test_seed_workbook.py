"""The user's own workbook end to end (skipped when ../shared/seed-data is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segscope.core.engines.local import prepare_tables
from segscope.core.roles import Role
from segscope.core.sources.reading import read_source
from segscope.tui.cli import main


def test_user_workbook_end_to_end(
    seed_workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = seed_workbook.read_bytes()
    out = tmp_path / "o"
    assert main(["sweep", str(seed_workbook), "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == 1000
    numeric = set(data["features"]["numeric"])
    assert {"transactions", "days_since_last", "burned_rate", "n_burned"} <= numeric
    # transactions = burned + subscribed exactly: the subscribed count would count twice
    assert "exact combination" in data["left_out"]["n_subscribed"]
    assert {"city_id", "gender_id"}.isdisjoint(numeric)  # codes are never scaled as numbers
    assert {"city_name", "gender_name"} <= set(data["features"]["categorical"])
    assert [s["k"] for s in data["sweep"]] == list(range(1, 11))  # k=1: the gap statistic
    assert seed_workbook.read_bytes() == before  # the input is never changed


def test_codes_are_categories_without_lookups(seed_workbook: Path) -> None:
    tables = read_source(seed_workbook).tables
    prep = prepare_tables({"customers": tables["customers"]})
    assert prep.schema["city_id"].role is Role.CATEGORICAL
    assert prep.schema["gender_id"].role is Role.CATEGORICAL
