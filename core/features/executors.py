"""A source's customer frame: the plan carried out by pandas on a file's tables, by the database
itself on a database's (the Spark engine has its own, in engines.spark)."""

from __future__ import annotations

from segscope.core.errors import DataError
from segscope.core.features.frame import CustomerFrame
from segscope.core.features.pandas_executor import build_customer_frame
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import Source


def source_frame(
    source: Source, choices: DataChoices
) -> tuple[CustomerFrame, dict[str, dict[str, str]]]:
    """The customer frame of a source, and the columns of its tables that cannot be used: the
    plan carried out by pandas on a file's tables, by the database on a database's."""
    if source.database is not None:  # the SQL executor (and the drivers) only for a database
        from segscope.core.features.sql_executor import database_frame

        return database_frame(source.database, choices)
    if choices.query is not None:
        raise DataError("a query (--query) reads from a database: give a PostgreSQL URL or a "
                        "DuckDB file.")  # fmt: skip
    return build_customer_frame(source.tables, choices), source.left_out
