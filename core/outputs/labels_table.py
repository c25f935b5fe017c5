"""The labels written into a database table: the one write segscope ever makes to a database,
in one transaction, on a table it creates and marks as its own."""

from __future__ import annotations

import pandas as pd

from segscope.core.errors import OutputExists, UsageError
from segscope.core.locations import database_kind
from segscope.core.sources.database import Database, ident, literal, open_database
from segscope.core.text import quoted

LABELS_MARK = "segscope labels"  # the comment on every labels table segscope writes


def check_labels_table(location: str, name: str, force: bool) -> None:
    """Refuse, before any work, a labels table that exists and may not be replaced."""
    db = open_database(location)
    try:
        _may_write(db, name, force)
    finally:
        db.close()


def _may_write(db: Database, name: str, force: bool) -> bool:
    """Whether `name` exists (and may be replaced: only with `force`, only segscope's own)."""
    schema, table = _split(name)
    where = "current_schema()" if schema is None else literal(schema)
    found = db.arrow(
        f"SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = {where} "
        f"AND table_name = {literal(table)}"
    )[0][0].as_py()
    if not found:
        return False
    shown = quoted(name)
    if not force:
        raise OutputExists(
            f"{db.location}: table {shown} already exists. Choose another --labels-table, or "
            "replace it (--force) if segscope wrote it."
        )
    if _comment(db, name) != LABELS_MARK:
        raise OutputExists(
            f"{db.location}: table {shown} was not written by segscope: it is never replaced. "
            "Choose another --labels-table."
        )
    return True


def _split(name: str) -> tuple[str | None, str]:
    schema, dot, table = name.rpartition(".")
    return (schema, table) if dot and schema else (None, name)


def _qualified(name: str) -> str:
    schema, table = _split(name)
    return f"{ident(schema)}.{ident(table)}" if schema else ident(table)


def _comment(db: Database, name: str) -> str | None:
    if db.kind == "postgresql":
        sql = f"SELECT obj_description({literal(_qualified(name))}::regclass, 'pg_class') AS c"
    else:
        schema, table = _split(name)
        extra = f" AND schema_name = {literal(schema)}" if schema else ""
        sql = f"SELECT comment AS c FROM duckdb_tables() WHERE table_name = {literal(table)}{extra}"
    rows = db.arrow(sql, name).to_pylist()
    return rows[0]["c"] if rows else None


def write_labels(location: str, name: str, labels: pd.DataFrame, force: bool) -> str:
    """Write `labels` (key, segment) as a new table `name`, in one transaction: created, filled
    and marked as segscope's, or nothing at all. Returns where they went, for people."""
    import pyarrow as pa

    if database_kind(location) not in ("postgresql", "duckdb"):
        raise UsageError("--labels-table needs a PostgreSQL URL or a DuckDB file as the input.")
    db = open_database(location, write=True)
    target = _qualified(name)
    columns = ", ".join(
        f"{ident(c)} {_sql_type(labels[c], db.dialect)}" for c in map(str, labels.columns)
    )
    try:
        with db.errors(name):
            if db.kind == "postgresql":
                replace = _may_write(db, name, force)
                cursor = db.connection.cursor()
                if replace:
                    cursor.execute(f"DROP TABLE {target}")
                cursor.execute(f"CREATE TABLE {target} ({columns})")
                cursor.adbc_ingest(name if "." not in name else _split(name)[1],
                                   pa.Table.from_pandas(labels, preserve_index=False),
                                   mode="append", db_schema_name=_split(name)[0])  # fmt: skip
                cursor.execute(f"COMMENT ON TABLE {target} IS {literal(LABELS_MARK)}")
                cursor.close()
                db.connection.commit()
            else:
                con = db.connection
                con.execute("BEGIN TRANSACTION")
                try:
                    if _may_write(db, name, force):
                        con.execute(f"DROP TABLE {target}")
                    con.execute(f"CREATE TABLE {target} ({columns})")
                    con.register("segscope_labels", labels)
                    con.execute(f"INSERT INTO {target} SELECT * FROM segscope_labels")
                    con.execute(f"COMMENT ON TABLE {target} IS {literal(LABELS_MARK)}")
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
    finally:
        db.close()
    return f"{db.location} table {name}"


def _sql_type(s: pd.Series, dialect: str) -> str:
    if pd.api.types.is_integer_dtype(s):
        return "BIGINT"
    if pd.api.types.is_float_dtype(s):
        return "DOUBLE PRECISION" if dialect == "postgres" else "DOUBLE"
    return "TEXT" if dialect == "postgres" else "VARCHAR"
