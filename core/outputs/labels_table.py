"""The labels written into a database table: the one write segscope ever makes to a database, in
one transaction, on a table it creates and marks as its own.

Safe by construction:
- The table is the schema-qualified table the database resolves: a name without a schema is
  the database's current schema, and every statement (the check, the mark, the drop, the
  create) names that one table as "schema"."table"; a table of the same name in another schema
  proves nothing and is never touched.
- A name the database would cut (PostgreSQL keeps 63 bytes of a name) is refused: the table is
  always created under the name said.
- The mark (a comment) is on the table itself: --force replaces a table only when that very
  table carries it, is a table (never a view), and this user owns it.
- Every condition is checked before any work (`check_labels_table`, before the sweep), and
  again in the writing transaction: the schema exists, the user may create in it, the DuckDB
  file is writable, the source can hold a table at all (a glob of files cannot).
- The key is written with the type the customers table gives it, whatever that type: its values
  carried as the text the database holds (1000001, not 1000001.0; a date, not a midnight
  timestamp) and cast back there, so the labels join back on the key as it is."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from segscope.core.errors import OutputExists, UsageError
from segscope.core.locations import database_kind
from segscope.core.sources.database import (
    LABELS_MARK,
    Database,
    ident,
    literal,
    open_database,
)
from segscope.core.text import one_line, quoted

__all__ = ["LABELS_MARK", "check_labels_table", "key_text", "write_labels"]


@dataclass(frozen=True)
class Target:
    """The table the labels go to, as the database resolves its name."""

    schema: str
    table: str
    replace: bool  # it exists, is segscope's, and --force was given

    @property
    def sql(self) -> str:
        return f"{ident(self.schema)}.{ident(self.table)}"


def check_labels_table(location: str, name: str, force: bool) -> None:
    """Refuse, before any work, a labels table that cannot be written or may not be replaced."""
    _writable_source(location)
    db = open_database(location)
    try:
        _target(db, name, force)
    finally:
        db.close()


def _writable_source(location: str) -> None:
    kind = database_kind(location)
    if kind not in ("postgresql", "duckdb"):
        raise UsageError(
            "--labels-table needs a PostgreSQL URL or a DuckDB file as the input (files read "
            "through a glob cannot hold a table)."
        )
    if kind == "duckdb":
        path = Path(location).expanduser()
        folder = path.parent
        if path.is_file() and not (os.access(path, os.W_OK) and os.access(folder, os.W_OK)):
            raise OutputExists(
                f"{one_line(path.name, 80)} cannot be written (read-only or immutable, or its "
                "folder is): the labels table cannot go there. Make it writable, or leave out "
                "--labels-table."
            )


def _split(name: str) -> tuple[str | None, str]:
    schema, dot, table = name.rpartition(".")
    return (schema, table) if dot and schema else (None, name)


def _target(db: Database, name: str, force: bool) -> Target:
    """The table `name` resolves to, with every condition for writing it checked."""
    given, table = _split(name)
    shown = quoted(name)
    if not table.strip():
        raise UsageError(f"--labels-table {shown} names no table.")
    if db.kind == "postgresql":
        setting = db.arrow("SELECT current_setting('max_identifier_length') AS n")
        longest = int(setting[0][0].as_py())
        for part in (given, table):
            if part is not None and len(part.encode()) > longest:
                raise UsageError(
                    f"--labels-table {shown}: {quoted(part)} is {len(part.encode())} bytes, and "
                    f"PostgreSQL keeps {longest} of a name (it would create another table). "
                    "Choose a shorter name."
                )
    schema = given
    if schema is None:
        schema = db.arrow("SELECT current_schema() AS s")[0][0].as_py()
        if schema is None:
            raise OutputExists(
                f"{db.location}: no schema to create {shown} in. Name one: SCHEMA.TABLE."
            )
    where = f"{db.location}: table {quoted(f'{schema}.{table}')}"
    if db.kind == "postgresql":
        found = db.arrow(
            "SELECT has_schema_privilege(n.oid, 'CREATE') AS may FROM pg_catalog.pg_namespace n "
            f"WHERE n.nspname = {literal(schema)}"
        ).to_pylist()
        if not found:
            raise OutputExists(f"{where}: there is no schema {quoted(schema)}. Create it first.")
        if not found[0]["may"]:
            raise OutputExists(
                f"{where}: this user may not create tables in schema {quoted(schema)}. Ask for "
                "the CREATE privilege, or choose another schema."
            )
        rows = db.arrow(
            "SELECT c.relkind::text AS kind, obj_description(c.oid, 'pg_class') AS mark, "
            "pg_has_role(c.relowner, 'USAGE') AS owned FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {literal(schema)} AND c.relname = {literal(table)}"
        ).to_pylist()
        existing = rows[0] if rows else None
        kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}
    else:
        found = db.arrow(
            "SELECT 1 AS found FROM duckdb_schemas() WHERE database_name = current_database() "
            f"AND schema_name = {literal(schema)}"
        ).to_pylist()
        if not found:
            raise OutputExists(f"{where}: there is no schema {quoted(schema)}. Create it first.")
        rows = db.arrow(
            "SELECT 'r' AS kind, comment AS mark, true AS owned FROM duckdb_tables() "
            "WHERE database_name = current_database() "
            f"AND schema_name = {literal(schema)} AND table_name = {literal(table)} "
            "UNION ALL SELECT 'v', comment, true FROM duckdb_views() "
            "WHERE database_name = current_database() "
            f"AND schema_name = {literal(schema)} AND view_name = {literal(table)}"
        ).to_pylist()
        existing = rows[0] if rows else None
        kinds = {"r": "table", "v": "view"}
    if existing is None:
        return Target(schema, table, False)
    kind = kinds.get(existing["kind"], "database object")
    if kind != "table":
        raise OutputExists(
            f"{where} is a {kind}: segscope writes its labels only into a table of its own, and "
            "never replaces a view. Choose another --labels-table."
        )
    if not force:
        raise OutputExists(
            f"{where} already exists. Choose another --labels-table, or replace it (--force) if "
            "segscope wrote it."
        )
    if existing["mark"] != LABELS_MARK:
        raise OutputExists(
            f"{where} was not written by segscope: it is never replaced. Choose another "
            "--labels-table."
        )
    if not existing["owned"]:
        raise OutputExists(
            f"{where} belongs to another user: this user cannot replace it. Choose another "
            "--labels-table."
        )
    return Target(schema, table, True)


def key_text(keys: pd.Series) -> pd.Series:
    """Each key as the text its database or file holds: whole numbers without a decimal point
    (a decimal key read as 1000001.0 is 1000001), dates without a time at midnight, anything
    else as its text; missing as missing."""
    if pd.api.types.is_bool_dtype(keys):
        return keys.map(lambda v: None if pd.isna(v) else str(bool(v)).lower()).astype(object)
    if pd.api.types.is_integer_dtype(keys):
        return keys.map(lambda v: None if pd.isna(v) else str(int(v))).astype(object)
    if pd.api.types.is_float_dtype(keys):
        return keys.map(_float_text).astype(object)
    if pd.api.types.is_datetime64_any_dtype(keys):
        values = pd.to_datetime(keys)
        present = values.dropna()
        midnight = bool((present == present.dt.normalize()).all())
        form = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S"
        return values.dt.strftime(form).where(values.notna(), None).astype(object)
    return keys.map(lambda v: None if _missing(v) else str(v)).astype(object)


def _missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _float_text(v: float) -> str | None:
    if pd.isna(v):
        return None
    if float(v).is_integer():
        return str(int(v))
    return str(np.format_float_positional(float(v), trim="-"))


_TYPE_NAME = re.compile(r'^[A-Za-z0-9_ (),."]+$')  # a type as the catalog names it


def _key_type(db: Database, table: str | None, key: str, keys: pd.Series) -> str:
    """The key's type as the customers table holds it (the database says), so the labels join
    back on it as they are; where the key came from elsewhere (a query), a whole number's
    BIGINT, else text."""
    if table is not None and table in db.tables:
        name = "pg_typeof" if db.kind == "postgresql" else "typeof"
        found = db.arrow(
            f"SELECT CAST({name}(t.{ident(key)}) AS VARCHAR) AS type FROM {db.tables[table].sql} "
            f"AS t WHERE t.{ident(key)} IS NOT NULL LIMIT 1",
            table,
        ).to_pylist()
        if found and _TYPE_NAME.match(str(found[0]["type"])):
            return str(found[0]["type"])
    if pd.api.types.is_integer_dtype(keys):
        return "BIGINT"
    return "TEXT" if db.kind == "postgresql" else "VARCHAR"


def write_labels(
    location: str, name: str, labels: pd.DataFrame, force: bool, table: str | None = None
) -> str:
    """Write `labels` (key, segment) as a new table `name`, in one transaction: created, filled
    and marked as segscope's, or nothing at all; the key with the type it has in `table` (the
    customers table it came from), its values carried as text and cast there. Returns where
    they went, for people."""
    import pyarrow as pa

    _writable_source(location)
    key, segment = map(str, labels.columns[:2])
    data = pa.table(
        {
            "k": pa.array(key_text(labels[key]).tolist(), pa.string()),
            "s": pa.array(labels[segment].astype("int64").to_numpy(), pa.int64()),
        }
    )
    db = open_database(location, write=True)
    try:
        with db.errors(name):
            kind = _key_type(db, table, key, labels[key])
            columns = f"{ident(key)} {kind}, {ident(segment)} BIGINT"
            filled = f"SELECT CAST(k AS {kind}), s FROM segscope_labels"
            if db.kind == "postgresql":
                target = _target(db, name, force)
                cursor = db.connection.cursor()
                if target.replace:
                    cursor.execute(f"DROP TABLE {target.sql}")
                cursor.execute(f"CREATE TABLE {target.sql} ({columns})")
                cursor.adbc_ingest("segscope_labels", data, mode="create", temporary=True)
                cursor.execute(f"INSERT INTO {target.sql} {filled}")
                cursor.execute("DROP TABLE segscope_labels")
                cursor.execute(f"COMMENT ON TABLE {target.sql} IS {literal(LABELS_MARK)}")
                cursor.close()
                db.connection.commit()
            else:
                con = db.connection
                con.execute("BEGIN TRANSACTION")
                try:
                    target = _target(db, name, force)
                    if target.replace:
                        con.execute(f"DROP TABLE {target.sql}")
                    con.execute(f"CREATE TABLE {target.sql} ({columns})")
                    con.register("segscope_labels", data)
                    con.execute(f"INSERT INTO {target.sql} {filled}")
                    con.unregister("segscope_labels")
                    con.execute(f"COMMENT ON TABLE {target.sql} IS {literal(LABELS_MARK)}")
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
    finally:
        db.close()
    return f"{db.location} table {target.schema}.{target.table}"
