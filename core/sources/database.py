"""Databases as sources: PostgreSQL (ADBC over libpq), DuckDB files, and DuckDB over Parquet or
CSV files named by a glob. Their tables play the part of a workbook's sheets.

Safe by construction:
- Reading only. A PostgreSQL session is read-only (every transaction) with a statement timeout;
  a DuckDB file is opened read-only, and so is the session that reads a glob's files (an empty
  database of its own, opened read-only). Every DuckDB session reaches only what it reads: no
  external access but the input file or files (DuckDB's allowed paths), no extension installed
  or loaded on demand, its configuration locked. The one write, the labels table, is
  outputs.labels_table's.
- A --query is one SELECT, decided and rendered back by the database's own parser
  (sources.queries); table and column names are quoted as identifiers, never pasted as SQL.
- Every statement runs on a thread of its own while the caller waits: a signal (Ctrl-C, SIGTERM,
  SIGHUP) or SEGSCOPE_DB_TIMEOUT cancels it on the server at once.
- Every result is read in batches within the input limits (core.limits): columns, cells, bytes
  and the longest value, as a file's are.
- A URL's password never shows: every location is shown masked (locations.display_name), and an
  error's whole text is scrubbed of every form of the password before it is cut.
- A table segscope wrote (its labels, marked as its own) is never read as an input."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segscope.core.environment import DB_TIMEOUT
from segscope.core.errors import DataError, OverLimit, UsageError
from segscope.core.limits import Limits, limits
from segscope.core.locations import conninfo, database_kind, display_name, masked, scrubbed
from segscope.core.sources.arrow_tables import arrow_frame
from segscope.core.sources.queries import duckdb_select, postgres_select, volatile_calls
from segscope.core.text import one_line, quoted

CONNECT_TIMEOUT = 10  # seconds to reach a server
QUERY_TABLE = "query"  # the name a --query's result goes by
LABELS_MARK = "segscope labels"  # the comment on every labels table segscope writes
BATCH_ROWS = 65_536  # rows of a result read at a time (the limits are checked batch by batch)
WAIT_STEP = 0.1  # seconds between two looks at a running statement (signals act within it)


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
    left_out: dict[str, str] = field(default_factory=dict)  # tables never read, and why
    folder: str | None = field(default=None, repr=False)  # a glob session's own empty database
    busy: bool = field(default=False, repr=False)  # given up after a cancel: never used again

    @property
    def dialect(self) -> str:
        return "postgres" if self.kind == "postgresql" else "duckdb"

    def arrow(self, sql: str, what: str = "") -> Any:
        """The result of `sql` as an Arrow table, read within the input limits (errors name the
        database and `what`). It runs on a thread of its own while this one waits: a signal or
        the statement timeout cancels it where it runs."""
        where = f"{self.location}" + (f", table {quoted(what)}" if what else "")
        if self.busy:
            raise DataError(
                f"{self.location}: the connection was given up when a statement was cancelled. "
                "Open the database again."
            )
        lim = limits()
        with self.errors(what):
            return self._waited(lambda cancel: self._fetch(sql, cancel, where, lim))

    def _fetch(self, sql: str, cancel: list[Callable[[], None]], where: str, lim: Limits) -> Any:
        """Run `sql` and read its result in batches, each checked against the limits."""
        import pyarrow as pa

        if self.kind == "postgresql":
            cursor = self.connection.cursor()
            cancel.append(cursor.adbc_cancel)
            try:
                cursor.execute(sql)
                reader = cursor.fetch_record_batch()
                return _within_limits(reader, where, lim, pa)
            finally:
                cursor.close()
        cancel.append(self.connection.interrupt)
        relation = self.connection.sql(sql)
        if relation is None:  # a statement with no result
            return None
        reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
        return _within_limits(reader(BATCH_ROWS), where, lim, pa)

    def _waited(self, run: Callable[[list[Callable[[], None]]], Any]) -> Any:
        """`run` on a thread of its own, waited for here: a signal raised in this thread (Ctrl-C,
        SIGTERM, SIGHUP), or SEGSCOPE_DB_TIMEOUT passing, cancels the statement and stops."""
        limit = timeout()
        cancel: list[Callable[[], None]] = []
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["value"] = run(cancel)
            except BaseException as exc:  # handed to the waiting thread, raised there
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="segscope-query", daemon=True)
        begun = time.monotonic()
        worker.start()
        try:
            while worker.is_alive():
                worker.join(WAIT_STEP)
                if worker.is_alive() and time.monotonic() - begun > limit:
                    self._cancel(cancel, worker)
                    raise DataError(
                        f"the statement timeout passed ({DB_TIMEOUT.name}={limit} seconds): the "
                        "query was cancelled. Raise it, or read less."
                    )
        except BaseException:
            self._cancel(cancel, worker)
            raise
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    def _cancel(self, cancel: list[Callable[[], None]], worker: threading.Thread) -> None:
        """Cancel the running statement where it runs and wait (briefly) for it to stop. The
        connection is then given up, never waited on again: the server may still be running
        the statement when the client side has stopped (a rollback or a close would wait for
        it), so nothing is sent on it any more."""
        stops = [*cancel, *([self.connection.adbc_cancel] if self.kind == "postgresql" else [])]
        for stop in stops:
            with contextlib.suppress(Exception):  # it may have ended meanwhile
                stop()
            worker.join(2)
            if not worker.is_alive():
                break
        self.busy = True

    def frame(self, sql: str, what: str = "") -> pd.DataFrame:
        """The result of `sql` as pandas (columns that cannot be values left out)."""
        return arrow_frame(lambda: self.arrow(sql, what))[0]

    def peek(self, name: str, rows: int) -> tuple[pd.DataFrame, dict[str, str]]:
        """The first `rows` rows of a table, and its columns that cannot be used (and why)."""
        table = self.tables[name]
        sql = f"SELECT * FROM {table.sql} AS t LIMIT {int(rows)}"
        return arrow_frame(lambda: self.arrow(sql, name))

    def count(self, name: str) -> int:
        sql = f"SELECT COUNT(*) FROM {self.tables[name].sql} AS t"
        return int(self.arrow(sql, name)[0][0].as_py())

    def add_query(self, sql: str) -> None:
        """A table named QUERY_TABLE holding the result of `sql`: one SELECT, as the database's
        parser renders it back (sources.queries); a PostgreSQL query calling a function that
        may change anything (volatile) is refused."""
        if not sql.strip().rstrip(";").strip():
            raise DataError("--query is empty: give a SELECT statement.")
        if self.kind == "postgresql":
            text, functions, operators = postgres_select(sql)
            self._refuse_volatile(functions, operators)
        else:
            with self.errors("query"):
                text = duckdb_select(self.connection, sql)
        self.tables[QUERY_TABLE] = Table(QUERY_TABLE, f"(\n{text}\n)")
        self.peek(QUERY_TABLE, 1)  # a query that cannot run is said now, naming it

    def _refuse_volatile(self, functions: set[tuple[str | None, str]], operators: set[str]) -> None:
        """Refuse a query calling a function (or an operator's function) the server marks
        volatile: one that may have a side effect beyond the read-only transaction."""
        if not functions and not operators:
            return
        searched = "n.nspname = ANY (current_schemas(true))"  # where an unqualified name is
        named = " OR ".join(
            f"(p.proname = {literal(name)} AND "
            + (f"n.nspname = {literal(schema)})" if schema else f"{searched})")
            for schema, name in sorted(functions, key=str)
        )
        used = ", ".join(literal(o) for o in sorted(operators))
        clauses = [f"({named})"] if named else []
        if used:
            clauses.append(
                f"p.oid IN (SELECT o.oprcode FROM pg_catalog.pg_operator o WHERE o.oprname IN "
                f"({used}))"
            )
        rows = self.arrow(
            "SELECT DISTINCT n.nspname AS schema, p.proname AS name FROM pg_catalog.pg_proc p "
            "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
            f"WHERE p.provolatile = 'v' AND ({' OR '.join(clauses)})"
        ).to_pylist()
        found = volatile_calls(rows)
        if found:
            raise DataError(
                f"--query calls {one_line(found[0], 80)}, which PostgreSQL marks volatile (it may "
                "change the database or reach beyond it): a query runs read-only. Remove it."
            )

    def scrub(self, text: str) -> str:
        return scrubbed(text, self.secrets)

    @contextmanager
    def errors(self, what: str = "") -> Iterator[None]:
        """Any driver error inside becomes a one-line DataError naming the database (and `what`),
        without the password."""
        try:
            yield
        except (DataError, UsageError) as exc:
            exc.args = (self.scrub(str(exc)),)
            raise
        except Exception as exc:  # the drivers raise their own types, none of them ours
            if self.kind == "postgresql":
                self._rollback()
            where = f"{self.location}" + (f", table {quoted(what)}" if what else "")
            raise DataError(f"{where}: {_said(self.scrub(str(exc)))}") from None

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # the connection may be gone; the error says why
            self.connection.rollback()

    def close(self) -> None:
        if not self.busy:  # a busy connection ends with the process
            with contextlib.suppress(Exception):  # closing a broken connection says nothing
                self.connection.close()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def _within_limits(reader: Any, where: str, lim: Limits, pa: Any) -> Any:
    """A result read batch by batch, refused as soon as it goes past a limit of core.limits (as
    a file is): its columns, its cells, its bytes, its longest value."""
    import pyarrow.compute as pc

    schema = reader.schema
    if len(schema) > lim.columns.value:
        raise OverLimit(lim.columns.exceeded(where, f"it has {len(schema):,} columns"))
    batches, rows, size = [], 0, 0
    texts = [
        i for i, f in enumerate(schema)
        if pa.types.is_string(_storage(f.type)) or pa.types.is_large_string(_storage(f.type))
        or pa.types.is_binary(_storage(f.type)) or pa.types.is_large_binary(_storage(f.type))
    ]  # fmt: skip
    for batch in reader:
        rows += batch.num_rows
        size += batch.nbytes
        if rows * max(1, len(schema)) > lim.cells.value:
            found = f"more than {rows:,} rows of {len(schema):,} columns"
            raise OverLimit(lim.cells.exceeded(where, found))
        if size > lim.bytes.value:
            raise OverLimit(lim.bytes.exceeded(where, f"more than {size:,} bytes of values"))
        for i in texts:
            column = batch.column(i)
            column = getattr(column, "storage", column)  # an extension type's own values
            longest = pc.max(pc.binary_length(column)).as_py() if len(column) else 0
            if longest and longest > lim.field.value:
                found = f"a value of column {quoted(schema[i].name)} is longer"
                raise OverLimit(lim.field.exceeded(where, found))
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=schema)


def _storage(t: Any) -> Any:
    return getattr(t, "storage_type", t)


def _said(text: str) -> str:
    """A driver's error in one line, without its machinery (IO: [libpq] ...): `text` has been
    scrubbed of every secret whole, before this cuts it."""
    lines = text.strip().splitlines()
    first = lines[0] if lines else "an error"
    first = re.sub(r"^(IO|INVALID_ARGUMENT|NOT_FOUND|UNKNOWN|INTERNAL):\s*", "", first)
    first = re.sub(r"^\[libpq\]\s*", "", first)
    return one_line(first, 300)


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
    raise DataError(f"{one_line(display_name(location), 200)} is not a database location.")


def _driver(module: str, extra: str = "db") -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"reading databases needs the '{extra}' extra: pip install 'segscope[{extra}]'."
        ) from None


def _postgres(location: str, write: bool) -> Database:
    info = conninfo(location)
    if info.problem:  # what libpq would refuse, said without echoing the URL
        raise DataError(f"{info.masked}: not a valid PostgreSQL URL ({info.problem}). Fix it.")
    dbapi = _driver("adbc_driver_postgresql.dbapi")
    limit = timeout()  # an impossible value is a usage error, before connecting
    db = Database("postgresql", info.masked, None, secrets=list(info.secrets))
    uri = location
    if "connect_timeout=" not in uri:
        uri += ("&" if info.parameters else "?") + f"connect_timeout={CONNECT_TIMEOUT}"
    with db.errors():
        db.connection = db._waited(lambda cancel: dbapi.connect(uri))
    with db.errors():
        cursor = db.connection.cursor()
        cursor.execute(f"SET statement_timeout = {limit * 1000}")
        if not write:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        db.connection.commit()
    rows = db.arrow(  # every table and view of the search path, readable or not (said when read)
        "SELECT n.nspname AS table_schema, c.relname AS table_name, "
        "obj_description(c.oid, 'pg_class') AS comment FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname = ANY (current_schemas(false)) "
        "ORDER BY 1, 2"
    ).to_pylist()
    _add_tables(db, rows)
    return db


def _add_tables(db: Database, rows: list[dict[str, Any]]) -> None:
    """The tables listed as (table_schema, table_name, comment): named alone when they share a
    schema, as schema.table otherwise; a table segscope wrote (its labels) is left out."""
    schemas = {r["table_schema"] for r in rows}
    for r in rows:
        name = r["table_name"] if len(schemas) == 1 else f"{r['table_schema']}.{r['table_name']}"
        if r.get("comment") == LABELS_MARK:
            db.left_out[name] = "labels segscope wrote: never read as an input"
            continue
        db.tables[name] = Table(name, f"{ident(r['table_schema'])}.{ident(r['table_name'])}")


def _duckdb_connect(duckdb: Any, path: str, read_only: bool, allowed: list[str]) -> Any:
    """A DuckDB session that reaches only `path` and the `allowed` files: no other file, no
    extension installed or loaded on demand, its configuration locked."""
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    connection = duckdb.connect(path, read_only=read_only, config=config)
    try:
        connection.execute(f"SET threads = {_threads()}")
        if allowed:
            connection.execute("SET allowed_paths = $1", [allowed])
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return connection


def _duckdb_file(location: str, write: bool) -> Database:
    duckdb = _driver("duckdb")
    path = Path(location).expanduser()
    db = Database("duckdb", masked(location), None)
    if not path.is_file():
        raise DataError(f"{one_line(location, 200)}: no such DuckDB file. Check the path.")
    with db.errors():
        db.connection = _duckdb_connect(duckdb, str(path), not write, [])
    rows = db.arrow(
        "SELECT t.table_schema, t.table_name, d.comment FROM information_schema.tables t "
        "LEFT JOIN duckdb_tables() d ON d.database_name = t.table_catalog "
        "AND d.schema_name = t.table_schema AND d.table_name = t.table_name "
        "WHERE t.table_catalog = current_database() ORDER BY t.table_schema, t.table_name"
    ).to_pylist()
    _add_tables(db, rows)
    return db


def _duckdb_files(location: str) -> Database:
    """Files matching a glob, through DuckDB: one table per file when they share a folder,
    else one table per folder (a partitioned dataset). The session is an empty database of its
    own opened read-only, reaching only the files matched; each file within the byte limit."""
    duckdb = _driver("duckdb")
    files = sorted(os.path.abspath(f) for f in glob.glob(os.path.expanduser(location)))
    if not files:
        raise DataError(f"{one_line(location, 200)}: no file matches. Check the pattern.")
    lim = limits()
    for f in files:
        size = os.path.getsize(f)
        if not f.lower().endswith(".gz") and size > lim.bytes.value:
            name = one_line(Path(f).name, 80)
            raise OverLimit(lim.bytes.exceeded(name, f"it holds {size:,} bytes"))
    db = Database("glob", masked(location), None)
    db.folder = tempfile.mkdtemp(prefix="segscope-glob-")
    empty = os.path.join(db.folder, "session.duckdb")
    try:
        with db.errors():
            duckdb.connect(empty).close()
            db.connection = _duckdb_connect(duckdb, empty, True, files)
    except BaseException:
        db.close()
        raise
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
