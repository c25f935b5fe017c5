"""Issue 25, section 1: a query cannot write. `--query` is one SELECT, checked as such, and runs
where it reaches only what it reads. A query that closes the wrapper's parenthesis, a second
statement, or a single SELECT calling a function with a side effect leaves every file, every
table of both databases, the replication slots and origins, the large objects and the other
sessions exactly as they were (checked afterwards against the real PostgreSQL server and real
DuckDB files made here); a legitimate query, one ending in a `-- comment` included, still
works."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..databases import Server, load_duckdb, load_postgres
from .corpus import base_table
from .harness import (
    changes,
    duck_state,
    files_state,
    pg_rows,
    pg_state,
    postgres,
    refused,
    run,
)

ROWS = 60


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from postgres()


@pytest.fixture(scope="module")
def shop_pg(server: Server) -> str:
    url = server.create("shop")
    load_postgres(url, {"customers": base_table(ROWS), "precious": base_table(10, seed=5)})
    return url


@dataclass
class World:
    """Everything a query could reach: a PostgreSQL database, a DuckDB file, another DuckDB
    file (the victim), a folder of Parquet files read by a glob, and a folder outside them."""

    server: Server
    pg: str
    folder: Path
    duckdb: Path
    victim: Path
    lake: Path
    outside: Path

    @property
    def glob(self) -> str:
        return str(self.lake / "*.parquet")

    @property
    def parquet(self) -> Path:
        return self.lake / "customers.parquet"

    def state(self) -> dict[str, Any]:
        """Every file's bytes, every table of every DuckDB file and of the server."""
        state: dict[str, Any] = {"files": files_state(self.folder)}
        for path in sorted(self.folder.rglob("*.duckdb")):
            state[str(path)] = duck_state(path)
        state["postgres"] = pg_state(self.server)
        return state


@pytest.fixture
def world(server: Server, shop_pg: str, tmp_path: Path) -> World:
    folder = tmp_path / "data"
    folder.mkdir()
    duck = load_duckdb(folder / "shop.duckdb", {"customers": base_table(ROWS)})
    victim = load_duckdb(folder / "victim.duckdb", {"precious": base_table(10, seed=5)})
    lake = folder / "lake"
    lake.mkdir()
    base_table(ROWS).to_parquet(lake / "customers.parquet")
    outside = folder / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(
        "customer_id,spend,visits\n" + "".join(f"{i},{i * 7},{i % 5}\n" for i in range(40))
    )
    return World(server, shop_pg, folder, duck, victim, lake, outside)


def _source(world: World, kind: str) -> str:
    return {"postgresql": world.pg, "duckdb": str(world.duckdb), "glob": world.glob}[kind]


def _customers(world: World, kind: str) -> str:
    """How a query names the customers in each kind of source."""
    return f"read_parquet('{world.parquet}')" if kind == "glob" else "customers"


def _attempt(
    world: World,
    source: str,
    query: str,
    tmp_path: Path,
    harm: Callable[[], str] | None = None,
    refuse: bool = True,
) -> None:
    """A query that tries to write (or to reach beyond its inputs) changes nothing anywhere
    (`harm` says what else it may have done) and is refused (`refuse`), writing no output
    folder; one that is not refused at least ends without a traceback."""
    before = world.state()
    out = tmp_path / "out"
    ran = run("sweep", source, "--query", query, "--k", "3", "--out", out)
    changed = changes(before, world.state())
    assert not changed, f"the query changed: {changed}"
    hurt = harm() if harm else ""
    assert not hurt, hurt
    if refuse or ran.code != 0:
        refused(ran)
        assert not out.exists()


# --- queries that close the wrapper's parenthesis, or hold a second statement -------------------


def test_a_query_cannot_attach_another_duckdb_file_and_drop_its_table(
    world: World, tmp_path: Path
) -> None:
    query = (
        f"SELECT * FROM customers) AS t; ATTACH '{world.victim}' AS v (READ_WRITE); "
        "DROP TABLE v.precious; SELECT * FROM (SELECT * FROM customers"
    )
    _attempt(world, str(world.duckdb), query, tmp_path)
    assert "precious" in str(duck_state(world.victim)["tables"])


def test_a_query_cannot_attach_a_duckdb_file_through_a_glob_and_write_in_it(
    world: World, tmp_path: Path
) -> None:
    parquet = world.parquet
    query = (
        f"SELECT * FROM read_parquet('{parquet}')) AS t; ATTACH '{world.victim}' AS v; "
        "CREATE TABLE v.planted AS SELECT 1 AS x; DROP TABLE v.precious; "
        f"SELECT * FROM (SELECT * FROM read_parquet('{parquet}')"
    )
    _attempt(world, world.glob, query, tmp_path)


def test_a_query_cannot_copy_over_an_input_parquet_file_of_a_glob(
    world: World, tmp_path: Path
) -> None:
    parquet = world.parquet
    query = (
        f"SELECT * FROM read_parquet('{parquet}')) AS t; "
        f"COPY (SELECT 1 AS customer_id) TO '{parquet}' (FORMAT parquet); "
        f"SELECT * FROM (SELECT * FROM read_parquet('{parquet}')"
    )
    _attempt(world, world.glob, query, tmp_path)


def test_a_query_cannot_copy_a_duckdb_table_out_to_a_new_file(world: World, tmp_path: Path) -> None:
    leak = world.outside / "leak.csv"
    query = (
        f"SELECT * FROM customers) AS t; COPY customers TO '{leak}'; "
        "SELECT * FROM (SELECT * FROM customers"
    )
    _attempt(world, str(world.duckdb), query, tmp_path)
    assert not leak.exists()


@pytest.mark.parametrize("kind", ["postgresql", "duckdb", "glob"])
def test_a_second_statement_after_a_semicolon_is_refused(
    world: World, tmp_path: Path, kind: str
) -> None:
    table = _customers(world, kind)
    second = (
        f"COPY (SELECT 1 AS customer_id) TO '{world.parquet}' (FORMAT parquet)"
        if kind == "glob"
        else "DROP TABLE customers"
    )
    _attempt(world, _source(world, kind), f"SELECT * FROM {table}; {second}", tmp_path)


def test_a_postgres_query_cannot_leave_the_read_only_transaction(
    world: World, tmp_path: Path
) -> None:
    query = (
        "SELECT * FROM customers) AS t; COMMIT; "
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; DROP TABLE precious; "
        "SELECT * FROM (SELECT * FROM customers"
    )
    _attempt(world, world.pg, query, tmp_path)


# --- one SELECT that calls a function with a side effect (PostgreSQL) ---------------------------


def test_a_select_cannot_create_a_replication_slot(world: World, tmp_path: Path) -> None:
    query = (
        "SELECT c.*, s.slot_name FROM customers c, "
        "pg_create_physical_replication_slot('segscope_evil') s"
    )
    try:
        _attempt(world, world.pg, query, tmp_path)
    finally:
        _drop_slot(world, "segscope_evil")


def test_a_select_cannot_drop_the_users_replication_slot(world: World, tmp_path: Path) -> None:
    pg_rows(world.server.url("postgres"),
            "SELECT slot_name FROM pg_create_physical_replication_slot('users_slot')")  # fmt: skip
    try:
        query = (
            "WITH d AS (SELECT pg_drop_replication_slot('users_slot')) "
            "SELECT c.* FROM customers c, d"
        )
        _attempt(world, world.pg, query, tmp_path)
    finally:
        _drop_slot(world, "users_slot")


def test_a_select_cannot_create_a_replication_origin(world: World, tmp_path: Path) -> None:
    query = "SELECT c.*, pg_replication_origin_create('segscope_evil') AS o FROM customers c"
    try:
        _attempt(world, world.pg, query, tmp_path)
    finally:
        _drop_origin(world, "segscope_evil")


def test_a_select_cannot_write_a_file_on_the_server(world: World, tmp_path: Path) -> None:
    exported = world.server.folder / "exported-by-a-query"
    _admin(world, "SELECT lo_from_bytea(4242, 'the server''s disk')")
    try:
        query = f"SELECT c.*, lo_export(4242, '{exported}') AS e FROM customers c"
        wrote = lambda: "the query wrote a file on the server" if exported.exists() else ""  # noqa: E731
        _attempt(world, world.pg, query, tmp_path, harm=wrote)
    finally:
        _admin(world, "SELECT lo_unlink(4242)")
        exported.unlink(missing_ok=True)


def test_a_select_cannot_import_a_server_file_as_a_large_object(
    world: World, tmp_path: Path
) -> None:
    """lo_import writes in a read-only transaction; what it wrote must not outlive the run
    (today's rollback holds: a guard)."""
    version = world.server.folder / "data" / "PG_VERSION"  # a file the server can read
    query = f"SELECT c.*, lo_import('{version}') AS o FROM customers c"
    _attempt(world, world.pg, query, tmp_path, refuse=False)


def test_a_select_cannot_end_another_session(world: World, tmp_path: Path) -> None:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(world.pg) as other:
        with other.cursor() as cur:
            cur.execute("SELECT pg_backend_pid() AS pid")
            pid = int(cur.fetchone()[0])  # type: ignore[index]
        other.rollback()

        def ended() -> str:
            try:
                with other.cursor() as cur:
                    cur.execute("SELECT 1")
                    cur.fetchone()
                other.rollback()
            except Exception as exc:  # the driver's own error: the session is gone
                return f"the other session was ended: {exc}"
            return ""

        query = f"SELECT c.*, pg_terminate_backend({pid}) AS ended FROM customers c"
        _attempt(world, world.pg, query, tmp_path, harm=ended)


def test_a_select_cannot_reset_the_servers_statistics(world: World, tmp_path: Path) -> None:
    query = "WITH r AS (SELECT pg_stat_reset()) SELECT c.* FROM customers c, r"
    _attempt(world, world.pg, query, tmp_path)


def _admin(world: World, sql: str) -> None:
    _commit_sql(world.pg, sql)


def _commit_sql(url: str, sql: str) -> None:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url) as con, con.cursor() as cur:
        cur.execute(sql)
        con.commit()


def _drop_slot(world: World, name: str) -> None:
    _commit_sql(
        world.server.url("postgres"),
        f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        f"WHERE slot_name = '{name}'",
    )


def _drop_origin(world: World, name: str) -> None:
    _commit_sql(
        world.server.url("postgres"),
        f"SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin "
        f"WHERE roname = '{name}'",
    )


# --- a DuckDB query reaches only its inputs -----------------------------------------------------


@pytest.mark.parametrize("kind", ["duckdb", "glob"])
def test_a_duckdb_query_cannot_read_a_file_outside_its_inputs(
    world: World, tmp_path: Path, kind: str
) -> None:
    secret = world.outside / "secret.csv"
    query = f"SELECT * FROM read_csv('{secret}')"
    before = world.state()
    ran = run("sweep", _source(world, kind), "--query", query, "--k", "3", "--json",
              "--out", tmp_path / "out")  # fmt: skip
    assert not changes(before, world.state())
    refused(ran)
    assert not (tmp_path / "out").exists()


# --- legitimate queries still work ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["postgresql", "duckdb", "glob"])
def test_a_query_ending_in_a_line_comment_works(world: World, tmp_path: Path, kind: str) -> None:
    query = f"SELECT * FROM {_customers(world, kind)} WHERE customer_id > 0 -- every customer"
    _works(world, _source(world, kind), query, tmp_path, ROWS)


@pytest.mark.parametrize("kind", ["postgresql", "duckdb", "glob"])
def test_a_legitimate_query_still_works(world: World, tmp_path: Path, kind: str) -> None:
    """A leading block comment, a CTE, lower case, a filter and a trailing semicolon."""
    query = (
        f"/* this month */ with c as (select * from {_customers(world, kind)}) "
        "select * from c where customer_id <= 40;"
    )
    _works(world, _source(world, kind), query, tmp_path, 40)


def _works(world: World, source: str, query: str, tmp_path: Path, rows: int) -> None:
    before = world.state()
    ran = run("sweep", source, "--query", query, "--k", "3", "--json", "--out", tmp_path / "o")
    assert ran.code == 0, ran.err[-2000:]
    assert json.loads(ran.out)["rows"] == rows
    assert not changes(before, world.state())
