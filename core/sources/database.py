"""Databases as sources: PostgreSQL (ADBC over libpq), DuckDB files, and DuckDB over Parquet or
CSV files named by a glob. Their tables play the part of a workbook's sheets.

Reading only: a PostgreSQL session is read-only with a statement timeout, a DuckDB file is
opened read-only (the one write, the labels table, is outputs.labels_table's). Table and column
names are quoted as identifiers, never pasted into SQL. A URL's password never shows: every
location is shown `masked`, and errors are scrubbed of it."""

from __future__ import annotations

import contextlib
import glob
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segscope.core.environment import DB_TIMEOUT
from segscope.core.errors import DataError, UsageError
from segscope.core.locations import database_kind, first_line, masked, secrets
from segscope.core.sources.arrow_tables import arrow_frame
from segscope.core.text import one_line, quoted

CONNECT_TIMEOUT = 10  # seconds to reach a server
QUERY_TABLE = "query"  # the name a --query's result goes by


def ident(name: str) -> str:
    """`name` quoted as an SQL identifier (quotes inside doubled): never pasted as SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(text: str) -> str:
    """`text` as an SQL string literal (quotes inside doubled)."""
    return "'" + str(text).replace("'", "''") + "'"


@dataclass(frozen=True)
class Table:
    """A table of a database: its name, and how SQL names it (a quoted identifier, a reader of
    files, or a query in parentheses): always followed by an alias where it is used."""

    name: str
    sql: str


@dataclass
class Database:
    """An open, read-only connection and the tables it offers."""

    kind: str  # postgresql, duckdb or glob
    location: str  # masked: safe to show
    connection: Any = field(repr=False)
    tables: dict[str, Table] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list, repr=False)

    @property
    def dialect(self) -> str:
        return "postgres" if self.kind == "postgresql" else "duckdb"

    def arrow(self, sql: str, what: str = "") -> Any:
        """The result of `sql` as an Arrow table (errors name the database and `what`)."""
        with self.errors(what):
            if self.kind == "postgresql":
                cursor = self.connection.cursor()
                try:
                    cursor.execute(sql)
                    return cursor.fetch_arrow_table()
                finally:
                    cursor.close()
            result = self.connection.sql(sql)
            if result is None:  # a statement with no result
                return None
            to_arrow = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
            return to_arrow()

    def frame(self, sql: str, what: str = "") -> pd.DataFrame:
        """The result of `sql` as pandas (columns that cannot be values left out)."""
        return arrow_frame(self.arrow(sql, what))[0]

    def peek(self, name: str, rows: int) -> tuple[pd.DataFrame, dict[str, str]]:
        """The first `rows` rows of a table, and its columns that cannot be used (and why)."""
        table = self.tables[name]
        return arrow_frame(self.arrow(f"SELECT * FROM {table.sql} AS t LIMIT {int(rows)}", name))

    def count(self, name: str) -> int:
        sql = f"SELECT COUNT(*) FROM {self.tables[name].sql} AS t"
        return int(self.arrow(sql, name)[0][0].as_py())

    def add_query(self, sql: str) -> None:
        """A table named QUERY_TABLE holding the result of `sql` (run read-only)."""
        text = sql.strip().rstrip(";")
        if not text:
            raise UsageError("--query is empty: give a SELECT statement.")
        self.tables[QUERY_TABLE] = Table(QUERY_TABLE, f"({text})")
        self.peek(QUERY_TABLE, 1)  # a query that cannot run is said now, naming it

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def errors(self, what: str = "") -> Iterator[None]:
        """Any driver error inside becomes a one-line DataError naming the database (and `what`),
        without the password."""
        try:
            yield
        except DataError:
            raise
        except Exception as exc:  # the drivers raise their own types, none of them ours
            if self.kind == "postgresql":
                self._rollback()
            where = f"{self.location}" + (f", table {quoted(what)}" if what else "")
            raise DataError(f"{where}: {self.scrub(_said(exc))}") from None

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # the connection may be gone; the error says why
            self.connection.rollback()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection has nothing to say
            self.connection.close()


def _said(exc: BaseException) -> str:
    """A driver's error in one line, without its machinery (IO: [libpq] ...)."""
    text = first_line(exc)
    text = re.sub(r"^(IO|INVALID_ARGUMENT|NOT_FOUND|UNKNOWN|INTERNAL):\s*", "", text)
    text = re.sub(r"^\[libpq\]\s*", "", text)
    return one_line(text, 300)


def timeout() -> int:
    """Seconds a statement may run (SEGSCOPE_DB_TIMEOUT, default 600)."""
    return DB_TIMEOUT.number()


def open_database(location: str, write: bool = False) -> Database:
    """Connect to the database at `location` and list its tables (read-only unless `write`)."""
    kind = database_kind(location)
    if kind == "postgresql":
        return _postgres(location, write)
    if kind == "duckdb":
        return _duckdb_file(location, write)
    if kind == "glob":
        return _duckdb_files(location)
    raise DataError(f"{one_line(location, 200)} is not a database location.")


def _driver(module: str, extra: str = "db") -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"reading databases needs the '{extra}' extra: pip install 'segscope[{extra}]'."
        ) from None


def _postgres(location: str, write: bool) -> Database:
    dbapi = _driver("adbc_driver_postgresql.dbapi")
    limit = timeout()  # an impossible value is a usage error, before connecting
    db = Database("postgresql", masked(location), None, secrets=secrets(location))
    uri = location
    if "connect_timeout=" not in uri:
        uri += ("&" if "?" in uri else "?") + f"connect_timeout={CONNECT_TIMEOUT}"
    with db.errors():
        db.connection = dbapi.connect(uri)
    with db.errors():
        cursor = db.connection.cursor()
        cursor.execute(f"SET statement_timeout = {limit * 1000}")
        if not write:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        db.connection.commit()
    rows = db.arrow(  # every table and view of the search path, readable or not (said when read)
        "SELECT n.nspname AS table_schema, c.relname AS table_name FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname = ANY (current_schemas(false)) "
        "ORDER BY 1, 2"
    ).to_pylist()
    _add_tables(db, rows)
    return db


def _add_tables(db: Database, rows: list[dict[str, str]]) -> None:
    """The tables listed as (table_schema, table_name): named alone when they share a schema,
    as schema.table otherwise."""
    schemas = {r["table_schema"] for r in rows}
    for r in rows:
        name = r["table_name"] if len(schemas) == 1 else f"{r['table_schema']}.{r['table_name']}"
        db.tables[name] = Table(name, f"{ident(r['table_schema'])}.{ident(r['table_name'])}")


def _duckdb_file(location: str, write: bool) -> Database:
    duckdb = _driver("duckdb")
    path = Path(location).expanduser()
    db = Database("duckdb", str(location), None)
    if not path.is_file():
        raise DataError(f"{one_line(location, 200)}: no such DuckDB file. Check the path.")
    with db.errors():
        db.connection = duckdb.connect(str(path), read_only=not write)
        db.connection.execute(f"SET threads = {_threads()}")
    rows = db.arrow(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() ORDER BY table_schema, table_name"
    ).to_pylist()
    _add_tables(db, rows)
    return db


def _duckdb_files(location: str) -> Database:
    """Files matching a glob, through DuckDB: one table per file when they share a folder,
    else one table per folder (a partitioned dataset)."""
    duckdb = _driver("duckdb")
    files = sorted(glob.glob(os.path.expanduser(location)))
    if not files:
        raise DataError(f"{one_line(location, 200)}: no file matches. Check the pattern.")
    db = Database("glob", location, None)
    with db.errors():
        db.connection = duckdb.connect(":memory:")
        db.connection.execute(f"SET threads = {_threads()}")
    folders: dict[str, list[str]] = {}
    for f in files:
        folders.setdefault(str(Path(f).parent), []).append(f)
    groups = (
        {_stem(f): [f] for f in files} if len(folders) == 1
        else {Path(folder).name: fs for folder, fs in folders.items()}
    )  # fmt: skip
    for name, members in groups.items():
        reader = (
            "read_parquet"
            if members[0].lower().endswith((".parquet", ".pq"))
            else ("read_csv_auto")
        )
        listed = ", ".join(literal(m) for m in members)
        db.tables[name] = Table(name, f"{reader}([{listed}])")
    return db


def _stem(path: str) -> str:
    name = Path(path).name
    for suffix in reversed(Path(path).suffixes):
        name = name.removesuffix(suffix)
    return name or Path(path).name


def _threads() -> int:
    from segscope.core.threads import thread_count, usable_cores

    return thread_count(usable_cores())
