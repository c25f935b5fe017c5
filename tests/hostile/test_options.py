"""Options that cannot work are usage errors (exit 2) found before anything is read; messages
that list columns stay short; every refusal names the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .cli import assert_refused, in_process, segscope
from .corpus import base_table, write_csv


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(base_table(30), tmp_path_factory.mktemp("t") / "small.csv")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--seed", "-1"], "seed"),
        (["--seed", str(2**32)], "seed"),
        (["--weight", "spend=nan"], "a weight must be a number from 0 to"),
        (["--weight", "spend=inf"], "a weight must be a number from 0 to"),
        (["--weight", "spend=1e300"], "a weight must be a number from 0 to"),
        (["--weight", "spend"], "COLUMN=NUMBER"),
        (["--k", "2-1000000000"], "k can be at most 50"),
        (["--k", "2-100000"], "k can be at most 50"),
        (["--k", "1-3"], "at least 2"),
        (["--k", "9-3"], "is empty"),
        (["--choose", "0"], "k must be from 2"),
        (["--compare", "4"], "two k values"),
        (["--compare", "3,9", "--k", "2-4"], "--compare 9 is not among the k values swept"),
        (["--choose", "9", "--k", "2-4"], "--choose 9 is not among the k values swept"),
    ],
)
def test_impossible_options_are_usage_errors(
    table: Path, tmp_path: Path, args: list[str], said: str
) -> None:
    run = (
        segscope if args[0] == "--seed" and args[1] == "-1" else in_process
    )  # one in a new process
    ran = run("sweep", "does-not-exist.csv", "--out", tmp_path / "o", *args)
    assert ran.code == 2, ran.err
    assert said in ran.err and "Traceback" not in ran.text
    assert "does-not-exist" not in ran.err  # refused before the file is looked at


def test_a_k_range_beyond_the_rows_is_clamped(table: Path, tmp_path: Path) -> None:
    ran = in_process("sweep", table, "--k", "2-50", "--out", tmp_path / "o", "--json")
    assert ran.code == 0, ran.err
    data = json.loads(ran.out)
    assert max(s["k"] for s in data["sweep"]) < 30
    assert any("skipped" in w for w in data["warnings"])


def test_a_message_listing_columns_stays_short(tmp_path: Path) -> None:
    wide = pd.DataFrame(
        np.random.default_rng(0).normal(size=(40, 5_000)),
        columns=[f"measurement_{i:04d}_of_a_very_long_column_name" for i in range(5_000)],
    )
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    ran = segscope("sweep", path, "--features", "zzz", "--out", tmp_path / "o")
    assert_refused(ran, "wide.csv", "'zzz'", "and 4,997 more")
    assert len(ran.err) < 600


def test_no_usable_feature_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("customer_id,comment\n" + "".join(f"{i},note {i}\n" for i in range(40)))
    assert_refused(in_process("sweep", path, "--out", tmp_path / "o"), "notes.csv", "no usable")


@pytest.mark.parametrize(
    "args",
    [
        ["--features", "zzz"],
        ["--weight", "zzz=2"],
        ["--sheet", "zzz"],
        ["--key", "zzz"],
        ["--categorical", "zzz"],
        ["--numeric", "zzz"],
    ],
)
def test_every_refusal_names_the_file(table: Path, tmp_path: Path, args: list[str]) -> None:
    assert_refused(in_process("sweep", table, "--out", tmp_path / "o", *args), "small.csv")


def test_a_sheet_that_is_not_there(tmp_path: Path) -> None:
    path = write_csv(base_table(), tmp_path / "one.csv")
    ran = in_process("sweep", path, "--transactions", "orders", "--out", tmp_path / "o")
    assert_refused(ran, "one.csv", "'orders'")
