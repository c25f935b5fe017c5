"""`make bench`, databases: a customer table and a 1M-row transaction log read where they live
(the log aggregated per customer in the database) against exporting them to CSV first and
running on the export, the way an analyst works without database sources.

The data is the sample workbook's shape at scale (customers, lookups, a coupon log), loaded into
a DuckDB file and, when this machine has PostgreSQL, into a server started for the run.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from sample_data.generate import shop_tables
from tests.databases import load_duckdb, load_postgres, server_binaries, start_server

LOG_ROWS = 1_000_000
CUSTOMERS = 165_000  # about 6.1 transactions each: a log of about 1M rows

Sweep = Callable[[str], tuple[float, bytes]]  # a location -> seconds, labels.csv


def tables() -> dict[str, pd.DataFrame]:
    """The workbook's tables at scale, the planted truth left out."""
    found = shop_tables(n_customers=CUSTOMERS, seed=3)
    found["customers"] = found["customers"].drop(columns="planted")
    return found


def export_duckdb(database: Path, folder: Path) -> list[str]:
    """The command an analyst runs to export every table of a DuckDB file to CSV."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "for (t,) in con.execute('SHOW TABLES').fetchall():\n"
        '    con.execute(f"COPY \\"{t}\\" TO \'{sys.argv[2]}/{t}.csv\' (HEADER)")'
    )
    return [sys.executable, "-c", code, str(database), str(folder)]


def export_postgres(psql: Path, url: str, names: list[str], folder: Path) -> list[str]:
    """psql's \\copy of every table to CSV, as an analyst exports from PostgreSQL."""
    copies = [f"\\copy \"{t}\" TO '{folder}/{t}.csv' CSV HEADER" for t in names]
    return [str(psql), url, "-q", *[arg for c in copies for arg in ("-c", c)]]


@contextlib.contextmanager
def postgres() -> Iterator[tuple[Path, Callable[[str], str]] | None]:
    """A server for the run, when this machine has PostgreSQL: its binaries and a function
    that creates a database and gives its URL; None otherwise."""
    binaries = server_binaries()
    if binaries is None:
        yield None
        return
    servers = start_server(binaries)
    server = next(servers)
    try:
        yield binaries, server.create
    finally:
        servers.close()


def lines_for(work: Path, sweep: Sweep) -> tuple[list[str], dict[str, tuple[bool, str]]]:
    """The databases section of RESULTS.md, and its targets."""
    data = tables()
    lines = [
        f"## Databases: {len(data['customers']):,} customers, a "
        f"{len(data['transactions']):,}-row coupon log",
        "",
        "Read where they live (lookups joined and the log aggregated per customer in the "
        "database) against exporting every table to CSV first (timed) and running on the export "
        "(`'folder/*.csv'`). One run each.",
        "",
        "| database | direct s | export s + run s | direct is | labels direct / export |",
        "|---|---|---|---|---|",
    ]
    checks: dict[str, tuple[bool, str]] = {}
    with postgres() as pg:
        duck = load_duckdb(work / "shop.duckdb", data)
        cases = [("DuckDB file", str(duck), export_duckdb(duck, work / "duck-csv"))]
        if pg is not None:
            binaries, create = pg
            url = create("shop")
            load_postgres(url, data)
            export = export_postgres(binaries / "psql", url, list(data), work / "pg-csv")
            cases.append(("PostgreSQL", url, export))
        for (name, location, export), folder in zip(
            cases, [work / "duck-csv", work / "pg-csv"], strict=False
        ):
            folder.mkdir()
            direct, labels = sweep(location)
            started = time.perf_counter()
            subprocess.run(export, check=True, capture_output=True)
            export_s = time.perf_counter() - started
            via_csv, labels_csv = sweep(f"{folder}/*.csv")
            same = labels == labels_csv
            total = export_s + via_csv
            lines.append(
                f"| {name} | {direct:.1f} | {export_s:.1f} + {via_csv:.1f} | "
                f"{total / direct:.1f}× faster | {'identical' if same else '**different**'} |"
            )
            checks[f"{name}: the same labels read directly as from a CSV export"] = (same, "")
            checks[f"{name}: reading directly beats export-then-run"] = (
                direct < total,
                f"{direct:.1f} s vs {total:.1f} s",
            )
    if pg is None:
        lines.append("| PostgreSQL | not measured: this machine has no PostgreSQL server | | | |")
    return [*lines, ""], checks
