"""Issue 25, section 5: limits hold everywhere. A CSV refused when named (over SEGSCOPE_MAX_CELLS,
_COLUMNS, _FIELD or _BYTES, set low) is refused the same way (exit 3, naming the variable)
through a glob and from a DuckDB or PostgreSQL table holding the same rows; a DuckDB view over
a trillion rows stops at SEGSCOPE_DB_TIMEOUT; a table of 9,000 columns under every limit ends
(done or refused) within a bound; a failed run leaves no folder it created behind."""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ..databases import Server, load_duckdb, load_postgres
from .corpus import base_table, write_csv
from .harness import handled, hidden, postgres, refused, run


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from postgres()


def _wide(rows: int = 100, columns: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    df = base_table(rows)
    for i in range(columns):
        df[f"m{i:02d}"] = rng.normal(size=rows).round(2)
    return df


def _long_note(rows: int = 100, length: int = 5_000) -> pd.DataFrame:
    df = base_table(rows)
    df["note"] = ["short"] * rows
    df.loc[7, "note"] = "y" * length
    return df


LIMITS = {  # the variable, the value set, and a table over it (under every default limit)
    "SEGSCOPE_MAX_CELLS": ("3000", lambda: base_table(2_000)),  # 6,000 cells
    "SEGSCOPE_MAX_COLUMNS": ("20", _wide),  # 43 columns
    "SEGSCOPE_MAX_FIELD": ("2000", _long_note),  # one value of 5,000 bytes
    "SEGSCOPE_MAX_BYTES": ("20000", lambda: base_table(3_000)),  # about 70 KB of CSV
}


@pytest.mark.parametrize("source", ["file", "glob", "duckdb", "postgresql"])
@pytest.mark.parametrize("variable", list(LIMITS))
def test_a_limit_holds_for_a_glob_and_for_database_tables(
    request: pytest.FixtureRequest, tmp_path: Path, variable: str, source: str
) -> None:
    value, make = LIMITS[variable]
    table = make()
    folder = tmp_path / "lake"
    folder.mkdir()
    csv = write_csv(table, folder / "customers.csv")
    if source == "file":
        location: object = csv
    elif source == "glob":
        location = str(folder / "*.csv")
    elif source == "duckdb":
        location = load_duckdb(tmp_path / "shop.duckdb", {"customers": table})
    else:
        server: Server = request.getfixturevalue("server")
        location = server.create(f"limit_{variable.lower()}")
        load_postgres(str(location), {"customers": table})
    out = tmp_path / "out"
    ran = run("sweep", location, "--k", "3", "--out", out, env={variable: value})
    refused(ran, variable)
    assert not out.exists()


def test_a_duckdb_view_over_a_trillion_rows_stops_at_the_statement_timeout(
    tmp_path: Path,
) -> None:
    import duckdb

    duck = tmp_path / "huge.duckdb"
    with duckdb.connect(str(duck)) as con:
        con.execute(
            "CREATE VIEW customers AS SELECT i AS customer_id, hash(i) % 1000 AS spend, "
            "hash(i + 1) % 97 AS visits FROM range(1000000000000) t(i) WHERE hash(i) % 3 <> 0"
        )
    out = tmp_path / "out"
    ran = run("sweep", duck, "--k", "3", "--out", out, env={"SEGSCOPE_DB_TIMEOUT": "2"}, timeout=30)
    refused(ran)
    assert not out.exists()


def test_nine_thousand_columns_under_every_limit_end_within_a_minute(tmp_path: Path) -> None:
    """400 customers by 9,000 numbers (3.6 million cells, a few MB of Parquet): every stage's
    cost is bounded for a table within the limits."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(9)
    rows, columns = 400, 9_000
    values = (rng.integers(0, 50, size=(columns, rows)) / 10 + 0.05).astype("float32")
    arrays = {"customer_id": pa.array(np.arange(1, rows + 1))}
    arrays.update({f"m{i:04d}": pa.array(values[i]) for i in range(columns)})
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table(arrays), path)
    assert path.stat().st_size < 20_000_000
    out = tmp_path / "out"
    ran = run("sweep", path, "--k", "3", "--out", out, timeout=60)
    handled(ran, "wide.parquet")


def _file_size_limit(limit: int):  # type: ignore[no-untyped-def]
    """In the child: files may not grow past `limit` bytes (a write past it fails with EFBIG,
    SIGXFSZ ignored so that it is an error, not a kill)."""

    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return setup


def test_a_failed_run_leaves_no_parent_folder_it_created(tmp_path: Path) -> None:
    """The outputs fail to write (a file-size limit of 4 KB, the way a full disk would fail
    them): the folders made for --out are removed with the rest."""
    table = write_csv(base_table(300), tmp_path / "customers.csv")
    out = tmp_path / "new" / "deeper" / "out"
    ran = run("sweep", table, "--k", "3", "--out", out, preexec=_file_size_limit(4096))
    refused(ran)
    assert not (tmp_path / "new").exists(), "the parents of --out were left behind"
    assert hidden(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == ["customers.csv"]
