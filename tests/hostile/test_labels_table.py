"""Issue 25, section 2: a labels table never replaces what segscope did not write. A table is
the schema-qualified table the database resolves (a mark on another schema's table of the same
name proves nothing); a name PostgreSQL would cut to 63 bytes is refused; every refusal comes
before the sweep, with no output folder written; every key type of both databases writes; and
a table segscope wrote is never read back as a clustering feature."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..databases import ANALYST, ANALYST_PASSWORD, Server, load_duckdb, load_postgres, run_sql
from .corpus import base_table
from .harness import Timed, duck_state, pg_rows, postgres, refused, run

MARK = "segscope labels"  # the comment segscope leaves on a labels table (README "Databases")
ROWS = 40


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from postgres()


def _shop_pg(server: Server, name: str) -> str:
    url = server.create(name)
    load_postgres(url, {"customers": base_table(ROWS)})
    return url


def _shop_duckdb(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return load_duckdb(folder / "shop.duckdb", {"customers": base_table(ROWS)})


def _duck_sql(path: Path, *statements: str) -> None:
    import duckdb

    with duckdb.connect(str(path)) as con:
        for sql in statements:
            con.execute(sql)


def _sweep(source: object, out: Path, *args: str) -> Timed:
    return run("sweep", source, "--sheet", "customers", "--k", "3", "--out", out, *args)


def _before_the_sweep(ran: Timed, out: Path) -> None:
    """Refused before any work: a short refusal (no sweep progress), no output folder."""
    refused(ran, codes=(2, 3))
    assert not out.exists(), "the output folder was written before the refusal"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "a temporary folder"


# --- the mark of another schema's table proves nothing ------------------------------------------


def test_force_keeps_the_users_duckdb_table_when_another_schemas_table_has_the_mark(
    tmp_path: Path,
) -> None:
    duck = _shop_duckdb(tmp_path / "db")
    _duck_sql(
        duck,
        "CREATE TABLE main.seg (campaign VARCHAR, note VARCHAR)",
        "INSERT INTO main.seg VALUES ('autumn', 'the user''s own table'), ('spring', 'keep me')",
        "CREATE SCHEMA a_old",
        "CREATE TABLE a_old.seg (customer_id BIGINT, segment BIGINT)",
        "INSERT INTO a_old.seg VALUES (1, 1), (2, 2)",
        f"COMMENT ON TABLE a_old.seg IS '{MARK}'",
    )
    before = duck_state(duck)
    out = tmp_path / "out"
    ran = run("sweep", duck, "--k", "3", "--out", out, "--labels-table", "seg", "--force")
    after = duck_state(duck)
    assert after["main.seg"] == before["main.seg"], "the user's main.seg was replaced"
    assert after == before
    _before_the_sweep(ran, out)


def test_force_keeps_the_users_postgres_table_when_another_schemas_table_has_the_mark(
    server: Server, tmp_path: Path
) -> None:
    url = _shop_pg(server, "marks")
    run_sql(
        url,
        "CREATE TABLE public.seg (customer_id bigint, campaign text)",
        "INSERT INTO public.seg VALUES (1, 'the user''s own table'), (2, 'keep me')",
        "CREATE SCHEMA a_old",
        "CREATE TABLE a_old.seg (customer_id bigint, segment bigint)",
        f"COMMENT ON TABLE a_old.seg IS '{MARK}'",
    )
    before = pg_rows(url, "SELECT t::text AS r FROM public.seg t ORDER BY 1")
    out = tmp_path / "out"
    ran = _sweep(url, out, "--labels-table", "seg", "--force")
    assert pg_rows(url, "SELECT t::text AS r FROM public.seg t ORDER BY 1") == before
    assert pg_rows(url, "SELECT obj_description('public.seg'::regclass, 'pg_class') AS c") == [
        {"c": None}
    ]
    _before_the_sweep(ran, out)


# --- names PostgreSQL would cut -------------------------------------------------------------------

OCTOBER = "segments_of_the_autumn_coupon_campaign_for_returning_customers_2026_october"
NOVEMBER = OCTOBER.replace("october", "november")


@pytest.mark.parametrize(
    "name",
    [OCTOBER, "сегменты_покупателей_осенней_кампании_октябрь"],  # 75 bytes; 45 letters, 89 bytes
    ids=["ascii", "cyrillic"],
)
def test_a_name_postgres_would_cut_is_refused_before_the_sweep(
    server: Server, tmp_path: Path, name: str
) -> None:
    assert len(name.encode()) > 63
    url = _shop_pg(server, f"cut_{uuid.uuid4().hex[:8]}")
    out = tmp_path / "out"
    ran = _sweep(url, out, "--labels-table", name)
    tables = pg_rows(url, "SELECT table_name AS relname FROM information_schema.tables "
                          "WHERE table_schema = 'public' ORDER BY 1")  # fmt: skip
    assert tables == [{"relname": "customers"}], "a table was created under another name"
    _before_the_sweep(ran, out)


def test_next_months_long_name_never_replaces_this_months_table(
    server: Server, tmp_path: Path
) -> None:
    """October's labels, under the name PostgreSQL cut it to, marked as segscope's: November's
    name, cut to the same 63 bytes, with --force, must not replace them."""
    url = _shop_pg(server, "months")
    cut = OCTOBER.encode()[:63].decode()
    assert NOVEMBER.encode()[:63].decode() == cut
    run_sql(
        url,
        f'CREATE TABLE "{cut}" (customer_id bigint, segment bigint)',
        f'INSERT INTO "{cut}" SELECT customer_id, 1 + customer_id % 3 FROM customers',
        f"COMMENT ON TABLE \"{cut}\" IS '{MARK}'",
    )
    before = pg_rows(url, f'SELECT t::text AS r FROM "{cut}" t ORDER BY 1')
    out = tmp_path / "out"
    ran = _sweep(url, out, "--labels-table", NOVEMBER, "--force")
    assert pg_rows(url, f'SELECT t::text AS r FROM "{cut}" t ORDER BY 1') == before
    _before_the_sweep(ran, out)


# --- every refusal comes before the sweep ---------------------------------------------------------


def test_no_privilege_to_create_is_refused_before_the_sweep(server: Server, tmp_path: Path) -> None:
    url = _shop_pg(server, "noprivilege")  # PostgreSQL 15+: no CREATE on public for others
    run_sql(
        url, f"GRANT SELECT ON customers TO {ANALYST}", "REVOKE CREATE ON SCHEMA public FROM PUBLIC"
    )
    analyst = server.url("noprivilege", ANALYST, ANALYST_PASSWORD)
    out = tmp_path / "out"
    ran = _sweep(analyst, out, "--labels-table", "seg_new")
    _before_the_sweep(ran, out)
    assert ANALYST_PASSWORD not in ran.text


@pytest.mark.parametrize("kind", ["postgresql", "duckdb"])
def test_a_schema_that_does_not_exist_is_refused_before_the_sweep(
    server: Server, tmp_path: Path, kind: str
) -> None:
    source = _shop_pg(server, "noschema") if kind == "postgresql" else _shop_duckdb(tmp_path / "db")
    out = tmp_path / "out"
    ran = _sweep(source, out, "--labels-table", "no_such_schema.seg")
    _before_the_sweep(ran, out)


def test_a_materialized_view_as_the_target_is_refused_before_the_sweep(
    server: Server, tmp_path: Path
) -> None:
    url = _shop_pg(server, "matview")
    run_sql(url, "CREATE MATERIALIZED VIEW seg AS SELECT customer_id, 1 AS segment FROM customers")
    out = tmp_path / "out"
    ran = _sweep(url, out, "--labels-table", "seg")
    _before_the_sweep(ran, out)
    assert pg_rows(url, "SELECT COUNT(*) AS n FROM seg") == [{"n": ROWS}]


@pytest.mark.parametrize("kind", ["postgresql", "duckdb"])
def test_a_view_as_the_target_is_refused_before_the_sweep_even_with_the_mark(
    server: Server, tmp_path: Path, kind: str
) -> None:
    view = "CREATE VIEW seg AS SELECT customer_id, 1 AS segment FROM customers"
    comment = f"COMMENT ON VIEW seg IS '{MARK}'"
    if kind == "postgresql":
        source: object = _shop_pg(server, "views")
        run_sql(str(source), view, comment)
    else:
        source = _shop_duckdb(tmp_path / "db")
        _duck_sql(source, view, comment)
    out = tmp_path / "out"
    ran = _sweep(source, out, "--labels-table", "seg", "--force")
    _before_the_sweep(ran, out)


def test_a_read_only_duckdb_file_is_refused_before_the_sweep(tmp_path: Path) -> None:
    duck = _shop_duckdb(tmp_path / "db")
    before = duck.read_bytes()
    if os.geteuid() == 0:  # root writes through permissions: make the file immutable instead
        made = subprocess.run(["chattr", "+i", str(duck)], capture_output=True)
        if made.returncode != 0:
            pytest.skip("running as root, and chattr +i is not allowed here: no read-only file")
    else:
        duck.chmod(0o444)
        duck.parent.chmod(0o555)
    try:
        out = tmp_path / "out"
        ran = _sweep(duck, out, "--labels-table", "seg")
        _before_the_sweep(ran, out)
        assert duck.read_bytes() == before
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(duck)], check=True)
        else:
            duck.parent.chmod(0o755)


def test_a_glob_source_with_a_labels_table_is_refused_before_the_sweep(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    base_table(ROWS).to_parquet(lake / "customers.parquet")
    out = tmp_path / "out"
    ran = _sweep(str(lake / "*.parquet"), out, "--labels-table", "seg")
    _before_the_sweep(ran, out)
    assert [p.name for p in lake.iterdir()] == ["customers.parquet"]


# --- every key type writes ---------------------------------------------------------------------
# The labels table holds each customer's key as the customers table holds it: the same value, read
# as text (a decimal key is not 1000001.0, a date is not a midnight timestamp), so it joins back.
# Each family of key types once per database: whole numbers (PostgreSQL's by a sequence: serial,
# the case; DuckDB's beyond 64 bits: HUGEINT), exact numbers, text, UUIDs and dates.

PG_KEYS = {
    "serial": None,  # an integer filled by its sequence
    "numeric(12,0)": lambda i: str(1_000_000 + i),
    "varchar(16)": lambda i: f"'C{i:04d}'",
    "uuid": lambda i: f"'{uuid.UUID(int=i)}'",
    "date": lambda i: f"DATE '2020-01-01' + {i}",
}
DUCK_KEYS = {
    "HUGEINT": lambda i: str(10**12 + i),
    "DECIMAL(12,0)": lambda i: str(1_000_000 + i),
    "VARCHAR": lambda i: f"'C{i:04d}'",
    "UUID": lambda i: f"'{uuid.UUID(int=i)}'",
    "DATE": lambda i: f"DATE '2020-01-01' + {i}",
}


def _values(key) -> str:  # type: ignore[no-untyped-def]
    rows = base_table(ROWS)
    return ", ".join(
        f"({'' if key is None else key(i) + ', '}{s}, {v})"
        for i, s, v in zip(rows["customer_id"], rows["spend"], rows["visits"], strict=True)
    )


@pytest.mark.parametrize("kind", list(PG_KEYS))
def test_labels_write_to_postgres_whatever_the_key_type(
    server: Server, tmp_path: Path, kind: str
) -> None:
    url = server.create(f"key_{kind.split('(')[0]}")
    columns = "(spend, visits)" if PG_KEYS[kind] is None else "(customer_id, spend, visits)"
    run_sql(
        url,
        f"CREATE TABLE customers (customer_id {kind} PRIMARY KEY, spend double precision, "
        "visits double precision)",
        f"INSERT INTO customers {columns} VALUES {_values(PG_KEYS[kind])}",
    )
    out = tmp_path / "out"
    ran = _sweep(url, out, "--key", "customer_id", "--labels-table", "seg")
    assert ran.code == 0, ran.err[-2000:]
    joined = pg_rows(
        url,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT s.segment) AS k FROM seg s "
        "JOIN customers c ON c.customer_id::text = s.customer_id::text",
    )
    assert joined == [{"n": ROWS, "k": 3}]


@pytest.mark.parametrize("kind", list(DUCK_KEYS))
def test_labels_write_to_duckdb_whatever_the_key_type(tmp_path: Path, kind: str) -> None:
    import duckdb

    duck = tmp_path / "shop.duckdb"
    _duck_sql(
        duck,
        f"CREATE TABLE customers (customer_id {kind} PRIMARY KEY, spend DOUBLE, visits DOUBLE)",
        f"INSERT INTO customers VALUES {_values(DUCK_KEYS[kind])}",
    )
    out = tmp_path / "out"
    ran = _sweep(duck, out, "--key", "customer_id", "--labels-table", "seg")
    assert ran.code == 0, ran.err[-2000:]
    with duckdb.connect(str(duck), read_only=True) as con:
        joined = con.sql(
            "SELECT COUNT(*), COUNT(DISTINCT s.segment) FROM seg s JOIN customers c "
            "ON CAST(c.customer_id AS VARCHAR) = CAST(s.customer_id AS VARCHAR)"
        ).fetchall()
    assert joined == [(ROWS, 3)]


# --- a table segscope wrote is never an input feature -------------------------------------------


@pytest.mark.parametrize("kind", ["postgresql", "duckdb"])
def test_last_months_labels_are_never_a_clustering_feature(
    server: Server, tmp_path: Path, kind: str
) -> None:
    source: object = (
        _shop_pg(server, "lastmonth") if kind == "postgresql" else _shop_duckdb(tmp_path / "db")
    )
    first = _sweep(source, tmp_path / "october", "--labels-table", "seg_october")
    assert first.code == 0, first.err[-2000:]
    ran = _sweep(source, tmp_path / "november")
    assert ran.code == 0, ran.err[-2000:]
    summary = json.loads((tmp_path / "november" / "summary.json").read_text())
    used = summary["features"]["numeric"] + summary["features"]["categorical"]
    assert sorted(used) == ["spend", "visits"], used
    said = ran.out + ran.err
    assert "seg_october" in said, "the command does not say it left last month's labels out"
