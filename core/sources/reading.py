"""Reading a location into a Source: a file's tables (every sheet of a workbook), or a database
opened where its tables stay; the command's read-ahead of a file while scikit-learn loads.

Every failure is a DataError naming the file (and the sheet or column) and what to do; the
limits of segscope.core.limits are checked while reading, so nothing grows without bound."""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segscope.core import LOCAL
from segscope.core.errors import DataError
from segscope.core.limits import limits
from segscope.core.locations import (
    SUPPORTED,
    database_kind,
    display_name,
    file_kind,
    table_name,
)
from segscope.core.sources.parquet import read_parquet
from segscope.core.sources.text_files import ENCODINGS, read_text
from segscope.core.text import one_line, quoted
from segscope.core.threads import Background
from segscope.core.timings import Timings

Tables = dict[str, pd.DataFrame]


@dataclass
class Source:
    """What was read from a location: named tables, and the columns that could not be used."""

    location: str
    tables: dict[str, Any]  # name -> pandas DataFrame (or an engine's own table)
    left_out: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> column -> why
    engine: str = LOCAL  # the engine that opened it (see Engine.identity)
    timings: Timings = field(default_factory=Timings)  # the time it took to read
    database: Any = None  # an open sources.database.Database, when the location is a database

    @property
    def name(self) -> str:
        """The location's last part, for messages and titles."""
        return display_name(self.location)

    def close(self) -> None:
        """Let go of the database it reads from, if any (a file's tables are in memory)."""
        if self.database is not None:
            self.database.close()


def read_ahead(location: str | os.PathLike[str]) -> Background[Source] | None:
    """Start reading a text or Parquet file on a thread of its own, while the caller loads what
    the rest of the run needs; call the result for the Source (or the error reading it raised).
    None for a workbook or a database: read_source reads them when asked."""
    try:
        kind = None if database_kind(str(location)) else file_kind(Path(location))
    except DataError:
        return None  # read_source says why, when asked
    # Imported here, what reading the file would import: the reading thread then imports at most
    # a part of pyarrow that pandas asks for, which loading scikit-learn never imports (a test
    # checks), so the two threads never wait on each other's imports.
    if kind == "parquet":
        import pyarrow.dataset  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    elif kind == "text":
        for encoding in ENCODINGS:
            codecs.lookup(encoding)
    else:
        return None
    return Background(lambda: read_source(location), "segscope-read")


def read_source(path: str | os.PathLike[str]) -> Source:
    """Read a file into named tables: one for a text or Parquet file, every sheet of a workbook;
    a database (sources.database) is connected to and its tables listed, not read."""
    if database_kind(str(path)):
        return _open_database(str(path))
    p = Path(path)
    where = one_line(p.name or p, 80)
    if not p.exists():
        raise DataError(f"{one_line(p, 200)}: no such file. Check the path.")
    if p.is_dir():
        raise DataError(f"{where} is a folder. Give a {SUPPORTED} file.")
    if not p.is_file():
        raise DataError(f"{where} is not a regular file. Give a {SUPPORTED} file.")
    if p.stat().st_size == 0:
        raise DataError(f"{where} is empty (0 bytes). Export the table again.")
    timings = Timings()
    with timings.stage("load"):
        kind = file_kind(p)
        lim = limits()
        left_out: dict[str, dict[str, str]] = {}
        if kind == "excel":  # the workbook reader only for a workbook
            from segscope.core.sources.excel import read_excel

            tables = read_excel(p, lim)
        elif kind == "parquet":
            frame, columns_left_out = read_parquet(p, lim)
            tables = {table_name(p): frame}
            left_out = {table_name(p): columns_left_out} if columns_left_out else {}
        elif kind == "text":
            tables = {table_name(p): read_text(p, lim)}
        else:
            raise DataError(f"{where}: unsupported file type {quoted(p.suffix)}. Use {SUPPORTED}.")
        for name, df in tables.items():
            if df.empty:
                at = f"{where}, sheet {quoted(name)}" if kind == "excel" else where
                raise DataError(f"{at} has a header but no rows.")
    return Source(str(path), tables, left_out, timings=timings)


def _open_database(location: str) -> Source:
    from segscope.core.sources.database import open_database

    timings = Timings()
    with timings.stage("load"):
        db = open_database(location)
    if not db.tables:
        db.close()
        raise DataError(f"{db.location} has no tables this user can read.")
    return Source(db.location, dict(db.tables), timings=timings, database=db)
