"""Databases as sources: a real PostgreSQL server started here and real DuckDB files give the
answers the files they came from give; the log is aggregated in the database; the password is
never shown; names are quoted; nothing but the labels table asked for is ever written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segscope.core.engines.interface import analyse
from segscope.core.settings import SweepSettings
from segscope.core.sources.reading import read_source
from segscope.tui.app import SegscopeApp

from .databases import (
    ANALYST,
    ANALYST_PASSWORD,
    Server,
    load_duckdb,
    load_postgres,
    run_sql,
)
from .hostile.harness import postgres, run
from .tui_helpers import wait_until

ONE_K = SweepSettings((4,))  # where the k does not matter: one k, not the whole sweep

DATA = Path(__file__).parent / "data"
pytest.importorskip("duckdb", reason="the 'db' extra is not installed")
pytest.importorskip("adbc_driver_postgresql", reason="the 'db' extra is not installed")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from postgres()


@pytest.fixture(scope="module")
def shop_tables(shop_xlsx: Path) -> dict[str, pd.DataFrame]:
    return read_source(shop_xlsx).tables


@pytest.fixture(scope="module")
def shop_pg(server: Server, shop_tables: dict[str, pd.DataFrame]) -> str:
    url = server.create("shop")
    load_postgres(url, shop_tables)
    run_sql(url, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ANALYST}", "CREATE SEQUENCE ids")
    return url


@pytest.fixture(scope="module")
def shop_duckdb(tmp_path_factory: pytest.TempPathFactory, shop_tables: dict) -> Path:
    return load_duckdb(tmp_path_factory.mktemp("duck") / "shop.duckdb", shop_tables)


@pytest.fixture(scope="module")
def workbook_result(shop_xlsx: Path):  # type: ignore[no-untyped-def]
    return analyse(shop_xlsx)


def _same_answers(a, b) -> None:  # type: ignore[no-untyped-def]
    """The same decisions, features, chosen k and labels, customer for customer."""
    assert b.prepared.frame.decisions == a.prepared.frame.decisions
    assert b.prepared.schema.features == a.prepared.schema.features
    assert b.choice.k == a.choice.k
    assert np.array_equal(b.labels, a.labels)
    assert np.abs(b.prepared.X - a.prepared.X).max() < 1e-5


def test_postgres_gives_the_workbooks_answers(shop_pg: str, workbook_result) -> None:  # type: ignore[no-untyped-def]
    _same_answers(workbook_result, analyse(shop_pg))


def test_a_duckdb_file_gives_the_workbooks_answers(shop_duckdb: Path, workbook_result) -> None:  # type: ignore[no-untyped-def]
    _same_answers(workbook_result, analyse(shop_duckdb))


def test_parquet_files_through_duckdb_give_the_workbooks_answers(
    tmp_path: Path, shop_tables: dict[str, pd.DataFrame], workbook_result
) -> None:  # type: ignore[no-untyped-def]
    for name, frame in shop_tables.items():
        frame.to_parquet(tmp_path / f"{name}.parquet")
    _same_answers(workbook_result, analyse(str(tmp_path / "*.parquet")))


def test_a_real_log_is_aggregated_in_the_database_as_pandas_aggregates_it(
    server: Server, tmp_path: Path
) -> None:
    """The CDNOW purchase log (real: customers, dates as yyyymmdd numbers, amounts), whose
    customers are built from the log alone."""
    log = read_source(DATA / "cdnow_master.txt").tables
    pandas_frame = _frame(DATA / "cdnow_master.txt")
    url = server.create("cdnow")
    load_postgres(url, log)
    for location in (url, load_duckdb(tmp_path / "cdnow.duckdb", log)):
        frame = _frame(location)
        assert frame.decisions == pandas_frame.decisions
        pd.testing.assert_frame_equal(
            frame.data, pandas_frame.data, check_dtype=False, check_exact=False, rtol=1e-9
        )


def _rows(url: str, table: str) -> int:
    """How many rows a table of a PostgreSQL database holds."""
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url) as con, con.cursor() as cur:
        cur.execute(f'SELECT COUNT(*) FROM "{table}"')
        return int(cur.fetchone()[0])  # type: ignore[index]


def _frame(location: str | Path):  # type: ignore[no-untyped-def]
    from segscope.core.engines.local import LocalEngine
    from segscope.core.settings import DataChoices

    engine = LocalEngine()
    return engine.prepare(engine.open(str(location)), DataChoices()).frame


def test_labels_go_back_into_the_database_in_one_table(shop_pg: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = run("sweep", shop_pg, "--out", out, "--labels-table", "segments_2026", "--k", "4")
    assert ran.code == 0, ran.err
    labels = pd.read_csv(out / "labels.csv")

    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(shop_pg) as con, con.cursor() as cur:
        cur.execute('SELECT * FROM "segments_2026" ORDER BY customer_id')
        table = cur.fetch_arrow_table().to_pandas()
    assert table["segment"].tolist() == labels.sort_values("customer_id")["segment"].tolist()
    again = run(
        "sweep", shop_pg, "--out", tmp_path / "o2", "--labels-table", "segments_2026", "--k", "4"
    )
    assert again.code == 3 and "already exists" in again.err
    assert not (tmp_path / "o2").exists()  # refused before any work
    forced = run(
        "sweep",
        shop_pg,
        "--out",
        tmp_path / "o3",
        "--labels-table",
        "segments_2026",
        "--force",
        "--k",
        "4",
    )
    assert forced.code == 0, forced.err  # segscope's own table is replaced
    foreign = run(
        "sweep",
        shop_pg,
        "--out",
        tmp_path / "o4",
        "--labels-table",
        "customers",
        "--force",
        "--k",
        "4",
    )
    assert foreign.code == 3 and "not written by segscope" in foreign.err
    assert _rows(shop_pg, "customers") == 2000  # the customers are untouched


def test_labels_go_into_a_duckdb_file(shop_duckdb: Path, tmp_path: Path) -> None:
    import duckdb

    ran = run("sweep", shop_duckdb, "--out", tmp_path / "o", "--labels-table", "seg", "--k", "4")
    assert ran.code == 0, ran.err
    with duckdb.connect(str(shop_duckdb), read_only=True) as con:
        counts = con.sql("SELECT COUNT(*), COUNT(DISTINCT segment) FROM seg").fetchall()[0]
    assert counts[0] == 2000 and counts[1] >= 2


def test_the_password_is_never_shown(shop_pg: str, server: Server, tmp_path: Path) -> None:
    url = server.url("shop", ANALYST, ANALYST_PASSWORD)
    out = tmp_path / "out"
    ran = run("sweep", url, "--out", out, "--k", "3-4")
    assert ran.code == 0, ran.err
    shown = ran.text + "".join(p.read_text(errors="replace") for p in out.iterdir()
                               if p.suffix in (".json", ".md", ".csv"))  # fmt: skip
    assert ANALYST_PASSWORD not in shown
    assert json.loads((out / "summary.json").read_text())["input"].startswith(
        f"postgresql://{ANALYST}:***@"
    )
    wrong = run("sweep", server.url("shop", ANALYST, "not-" + ANALYST_PASSWORD))
    assert wrong.code == 3 and "Traceback" not in wrong.text
    assert "not-" + ANALYST_PASSWORD not in wrong.text and "password" in wrong.err
    assert len(wrong.err.strip().splitlines()) <= 3


def test_the_password_comes_from_pgpass_and_not_the_command_line(
    shop_pg: str, server: Server, tmp_path: Path
) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{server.port}:shop:{ANALYST}:{ANALYST_PASSWORD}\n")
    passfile.chmod(0o600)
    url = server.url("shop", ANALYST)
    found = {"PGPASSFILE": str(passfile)}
    ran = run("sweep", url, "--out", tmp_path / "o", "--k", "3", env=found)
    assert ran.code == 0, ran.err
    ran = run("sweep", url, "--k", "3", env={"PGPASSFILE": str(tmp_path / "none")})
    assert ran.code == 3 and "password" in ran.err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--sheet", "nope"], "no table 'nope'"),
        (["--query", "SELECT * FROM missing_table"], "missing_table"),
        (["--query", "SELECT c.*, nextval('ids') AS n FROM customers c"], "read-only"),
        (["--query", "SELECT * FROM customers; DROP TABLE customers"], "2 statements"),
    ],
)
def test_what_cannot_be_read_is_said_in_a_line(
    shop_pg: str, args: list[str], said: str, tmp_path: Path
) -> None:
    ran = run("sweep", shop_pg, "--out", tmp_path / "o", *args, "--k", "4")
    assert ran.code == 3, ran.err
    assert said in ran.err and "Traceback" not in ran.text
    assert len(ran.err.strip().splitlines()) <= 3
    assert _rows(shop_pg, "customers") == 2000  # nothing was deleted


def test_a_refused_table_a_dead_server_and_a_timeout_are_said(
    shop_pg: str, server: Server, tmp_path: Path
) -> None:
    run_sql(shop_pg, f"REVOKE SELECT ON transactions FROM {ANALYST}")
    try:
        url = server.url("shop", ANALYST, ANALYST_PASSWORD)
        ran = run(
            "sweep", url, "--sheet", "customers", "--transactions", "transactions", "--k", "4"
        )
        assert ran.code == 3 and "transactions" in ran.err and "permission denied" in ran.err
    finally:
        run_sql(shop_pg, f"GRANT SELECT ON transactions TO {ANALYST}")
    dead = run("sweep", f"postgresql://{ANALYST}@127.0.0.1:1/shop")
    assert dead.code == 3 and "127.0.0.1" in dead.err and "Traceback" not in dead.text
    slow = run(
        "sweep", shop_pg, "--query", "SELECT c.*, pg_sleep(2) AS nap FROM customers c",
        env={"SEGSCOPE_DB_TIMEOUT": "1"},
    )  # fmt: skip
    assert slow.code == 3 and "timeout" in slow.err
    bad = run("sweep", shop_pg, env={"SEGSCOPE_DB_TIMEOUT": "soon"})
    assert bad.code == 2 and "SEGSCOPE_DB_TIMEOUT" in bad.err


def test_names_are_quoted_never_pasted(server: Server, shop_tables: dict) -> None:
    url = server.create("odd")
    weird = 'we"ird; DROP TABLE customers; --'
    customers = shop_tables["customers"].rename(columns={"join_date": 'joined "when"'})
    load_postgres(url, {weird: customers, "customers": customers.head(10)})
    seg = analyse(url, _choices(customers=weird), ONE_K)
    assert seg.prepared.rows == 2000
    assert _rows(url, "customers") == 10  # still there


def test_a_query_gives_the_customers(shop_pg: str) -> None:
    seg = analyse(
        shop_pg,
        _choices(query="SELECT * FROM customers WHERE city_id <= 10", customers="query"),
        ONE_K,
    )
    assert seg.prepared.frame.plan.customers == "query"
    assert seg.prepared.rows == int((read_source_customers()["city_id"] <= 10).sum())


def read_source_customers() -> pd.DataFrame:
    return read_source(Path(__file__).parent.parent / "sample_data" / "shop.xlsx").tables[
        "customers"
    ]


def _choices(**kwargs: object):  # type: ignore[no-untyped-def]
    from segscope.core.settings import DataChoices

    return DataChoices(**kwargs)  # type: ignore[arg-type]


async def test_the_app_opens_a_database_and_lists_its_tables(shop_pg: str, server: Server) -> None:
    from textual.widgets import Select

    url = server.url("shop", ANALYST, ANALYST_PASSWORD)
    app = SegscopeApp(url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session.prepared is not None)
        options = [str(v) for _, v in app.screen.query_one("#customers", Select)._options]
        assert {"customers", "transactions", "cities"} <= set(options)
        screen = app.export_screenshot()
    assert ANALYST_PASSWORD not in screen and "***" in screen


def test_a_cancelled_statement_gives_its_connection_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the statement timeout cancels a statement, nothing more is sent on the connection
    (the server may still be running it: a rollback would wait for it): the next read says to
    open the database again, and closing does not wait."""
    from segscope.core.errors import DataError
    from segscope.core.sources.database import open_database

    duck = load_duckdb(tmp_path / "shop.duckdb", {"customers": pd.DataFrame({"id": [1, 2]})})
    monkeypatch.setenv("SEGSCOPE_DB_TIMEOUT", "1")
    db = open_database(str(duck))
    with pytest.raises(DataError, match="statement timeout passed"):
        db.arrow("SELECT COUNT(*) FROM range(1000000000000) AS a")
    with pytest.raises(DataError, match="given up when a statement was cancelled"):
        db.arrow("SELECT 1")
    db.close()
