"""Reading tables from CSV/TSV (.gz), Parquet and Excel, within explicit limits.

Every failure is a DataError naming the file (and the sheet or column) and what to do; the
limits of core.limits are checked while reading, so nothing grows without bound.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from segscope.core import LOCAL
from segscope.core.arrow_tables import arrow_frame
from segscope.core.errors import DataError
from segscope.core.limits import Limits, limits
from segscope.core.locations import (
    SUPPORTED,
    database_kind,
    display_name,
    file_kind,
    first_line,
    table_name,
)
from segscope.core.text import one_line, quoted, unique_names
from segscope.core.threads import in_background
from segscope.core.timings import Timings

Tables = dict[str, pd.DataFrame]

EXCEL_MAX_ROWS = 1_048_576  # what Excel itself allows in a sheet
EXCEL_EXPANSION = 8  # a workbook's XML may hold 1/8 of the byte limit (it grows when parsed)
_DELIMITERS = [",", ";", "\t", "|"]
WHITESPACE = r"\s+"  # fields separated by runs of spaces
_SNIFF_BYTES = 64 * 1024
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # tried in turn on a text file's head


@dataclass
class Source:
    """What was read from a location: named tables, and the columns that could not be used."""

    location: str
    tables: dict[str, Any]  # name -> pandas DataFrame (or an engine's own table)
    unusable: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> column -> why
    engine: str = LOCAL  # the engine that opened it (see Engine.identity)
    timings: Timings = field(default_factory=Timings)  # the time it took to read
    database: Any = None  # an open core.database.Database, when the location is a database

    @property
    def name(self) -> str:
        """The location's last part, for messages and titles."""
        return display_name(self.location)


def read_ahead(location: str | os.PathLike[str]) -> Callable[[], Source] | None:
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
    return in_background(lambda: read_source(location), "segscope-read")


def read_source(path: str | os.PathLike[str]) -> Source:
    """Read a file into named tables: one for a text or Parquet file, every sheet of a workbook;
    a database (core.database) is connected to and its tables listed, not read."""
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
        unusable: dict[str, dict[str, str]] = {}
        if kind == "excel":
            tables = _read_excel(p, lim)
        elif kind == "parquet":
            frame, dropped = _read_parquet(p, lim)
            tables = {table_name(p): frame}
            unusable = {table_name(p): dropped} if dropped else {}
        elif kind == "text":
            tables = {table_name(p): _read_text(p, lim)}
        else:
            raise DataError(f"{where}: unsupported file type {quoted(p.suffix)}. Use {SUPPORTED}.")
        for name, df in tables.items():
            if df.empty:
                at = f"{where}, sheet {quoted(name)}" if kind == "excel" else where
                raise DataError(f"{at} has a header but no rows.")
    return Source(str(path), tables, unusable, timings=timings)


def _open_database(location: str) -> Source:
    from segscope.core.database import open_database

    timings = Timings()
    with timings.stage("load"):
        db = open_database(location)
    if not db.tables:
        raise DataError(f"{db.location} has no tables this user can read.")
    return Source(db.location, dict(db.tables), timings=timings, database=db)


# --- text files ------------------------------------------------------------------------------


class _Bounded(io.RawIOBase):
    """A binary stream that stops past the byte limit and past the longest-line limit."""

    def __init__(self, raw: IO[bytes] | io.BufferedIOBase, where: str, lim: Limits) -> None:
        self._raw, self._where, self._lim = raw, where, lim
        self._total = 0
        self._run = 0  # bytes since the last newline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._total += n
        if self._total > self._lim.bytes.value:
            raise DataError(self._lim.bytes.exceeded(self._where, "the data goes on"))
        self._check_lines(data)
        return n

    def _check_lines(self, data: bytes) -> None:
        longest, self._run = longest_run(data, b"\n", self._run)
        if longest > self._lim.field.value:
            raise DataError(self._lim.field.exceeded(self._where, "a line is longer"))


def longest_run(data: bytes, stop: bytes, carry: int) -> tuple[int, int]:
    """The longest run of bytes without `stop` in `data`, counting `carry` bytes of a run that
    began before it; and the run still open at its end."""
    hits = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == stop[0])
    if len(hits) == 0:
        return carry + len(data), carry + len(data)
    gaps = int(np.diff(hits).max()) - 1 if len(hits) > 1 else 0
    return max(carry + int(hits[0]), gaps), len(data) - int(hits[-1]) - 1


@contextmanager
def _opened(p: Path, lim: Limits) -> Iterator[IO[bytes]]:
    """The file's bytes (a .gz read through), within the byte and line limits."""
    where = one_line(p.name, 80)
    if p.suffix.lower() != ".gz" and p.stat().st_size > lim.bytes.value:
        raise DataError(lim.bytes.exceeded(where, f"it holds {p.stat().st_size:,} bytes"))
    with gzip.open(p, "rb") if p.suffix.lower() == ".gz" else open(p, "rb") as raw:
        yield io.BufferedReader(_Bounded(raw, where, lim), buffer_size=256 * 1024)


@contextmanager
def _read_errors(p: Path) -> Iterator[None]:
    """Broken compression and unreadable bytes as a DataError naming the file."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(
            f"{one_line(p.name, 80)}: the compressed data is broken or cut short "
            f"({first_line(exc)}). Copy or export the file again."
        ) from exc


def _decode(head: bytes) -> tuple[str, str]:
    """Pick an encoding from the file's head: UTF-8 (with or without BOM), else cp1252/latin-1."""
    for enc in ENCODINGS:
        try:
            text = head.decode(enc)
        except UnicodeDecodeError as exc:
            if enc == "utf-8-sig" and exc.start > len(head) - 4:
                # a multi-byte character cut by the sniff window
                return enc, head[: exc.start].decode(enc)
            continue
        return enc, text
    return "latin-1", head.decode("latin-1")


def read_head_text(p: Path) -> str:
    """The decoded first bytes of a text file (.gz read through), for sniffing."""
    lim = limits()
    with _read_errors(p), _opened(p, lim) as fh:
        return _decode(fh.read(_SNIFF_BYTES))[1]


def sniff_delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that splits the first lines most consistently."""
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        pass
    best, best_score = ",", 0
    for d in _DELIMITERS:
        counts = [ln.count(d) for ln in lines]
        if counts and min(counts) > 0 and min(counts) == max(counts) and counts[0] > best_score:
            best, best_score = d, counts[0]
    fields = {len(ln.split()) for ln in lines}
    if best_score == 0 and len(fields) == 1 and fields.pop() > 1:
        return WHITESPACE  # columns lined up with spaces, as old exports write them
    return best


def _read_text(p: Path, lim: Limits) -> pd.DataFrame:
    where = one_line(p.name, 80)
    with _read_errors(p):
        with _opened(p, lim) as fh:
            head = fh.read(_SNIFF_BYTES)
        if b"\x00" in head:
            raise DataError(
                f"{where} does not look like a text table (it holds binary data). "
                f"Give a {SUPPORTED} file."
            )
        encoding, sample = _decode(head)
        if not sample.strip():
            raise DataError(f"{where} is empty. Export the table again.")
        sep = "\t" if p.suffixes[0].lower() in (".tsv", ".tab") else sniff_delimiter(sample)
        header = sample.split("\n", 1)[0]
        columns = len(header.split()) if sep == WHITESPACE else header.count(sep) + 1
        if columns > lim.columns.value:
            raise DataError(lim.columns.exceeded(where, f"the header names {columns:,} columns"))
        rows = lim.cells.value // columns
        df = _parse_text(p, lim, sep, encoding, rows)
    if len(df) > rows:
        raise DataError(lim.cells.exceeded(where, f"more than {rows:,} rows of {columns:,}"))
    if df.shape[1] == 1 and len(df) > 0 and sep == ",":
        raise DataError(
            f"{where}: found a single column {quoted(df.columns[0])}. Use a comma, semicolon, tab "
            "or | between fields."
        )
    df.columns = unique_names(list(df.columns))
    return df


def _parse_text(p: Path, lim: Limits, sep: str, encoding: str, rows: int) -> pd.DataFrame:
    where = one_line(p.name, 80)
    decimal = "," if sep == ";" else "."
    for enc in dict.fromkeys([encoding, "cp1252", "latin-1"]):
        try:
            with _opened(p, lim) as fh:
                return pd.read_csv(fh, sep=sep, decimal=decimal, encoding=enc, nrows=rows + 1)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as exc:
            raise DataError(f"{where} is empty. Export the table again.") from exc
        except (pd.errors.ParserError, ValueError, OverflowError) as exc:
            raise DataError(
                f"{where}: cannot be parsed as a table with delimiter {sep!r} "
                f"({first_line(exc)}). Check that every row has the same number of fields."
            ) from exc
    raise DataError(f"{where}: cannot be decoded as text. Save it as UTF-8.")


# --- Parquet ---------------------------------------------------------------------------------


def _read_parquet(p: Path, lim: Limits) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table, with columns pandas cannot use as values left out (and why)."""
    import pyarrow.parquet as pq

    where = one_line(p.name, 80)
    try:
        meta = pq.ParquetFile(p).metadata
        if meta.num_columns > lim.columns.value:
            raise DataError(lim.columns.exceeded(where, f"it has {meta.num_columns:,} columns"))
        if meta.num_rows * meta.num_columns > lim.cells.value:
            found = f"it has {meta.num_rows:,} rows of {meta.num_columns:,} columns"
            raise DataError(lim.cells.exceeded(where, found))
        table = pq.read_table(p)
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(
            f"{where} is not a readable Parquet file ({first_line(exc)}). "
            "Check the file or export it again."
        ) from exc
    return arrow_frame(table)


# --- Excel -----------------------------------------------------------------------------------


def _read_excel(p: Path, lim: Limits) -> Tables:
    where = one_line(p.name, 80)
    _check_workbook(p, lim)
    try:
        with pd.ExcelFile(p, engine="openpyxl") as book:
            tables: Tables = {}
            for sheet in book.sheet_names:
                df = _read_sheet(book, sheet, where, lim)
                if df is not None:
                    tables[str(sheet)] = df
    except DataError:
        raise
    except Exception as exc:  # openpyxl raises many types for a malformed workbook
        raise DataError(
            f"{where} is not a readable .xlsx workbook ({first_line(exc)}). "
            "Open it in Excel and save it as .xlsx again."
        ) from exc
    if not tables:
        raise DataError(f"{where}: every sheet is empty.")
    return tables


def _check_workbook(p: Path, lim: Limits) -> None:
    """A workbook is a zip of XML: its declared sizes bound what parsing it costs, and no text
    in it (a cell, a shared string) may be longer than the field limit."""
    where = one_line(p.name, 80)
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            size = sum(info.file_size for info in infos)
            allowed = lim.bytes.value // EXCEL_EXPANSION
            if size > allowed:
                raise DataError(
                    f"{where}: its sheets unpack to {size:,} bytes, over the limit of "
                    f"{allowed:,} for a workbook (1/{EXCEL_EXPANSION} of {lim.bytes.variable}="
                    f"{lim.bytes.value}). Save the data as CSV or Parquet, or raise that limit."
                )
            for info in infos:
                if info.filename.endswith(".xml"):
                    _check_xml_text(zf, info, where, lim)
    except DataError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{where} is not a readable .xlsx workbook ({first_line(exc)}). "
            "Open it in Excel and save it as .xlsx again."
        ) from exc


def _check_xml_text(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, lim: Limits) -> None:
    """No run of text between two XML tags is longer than the field limit (streamed)."""
    run = 0
    with zf.open(info) as fh:
        while chunk := fh.read(1024 * 1024):
            longest, run = longest_run(chunk, b"<", run)
            if longest > lim.field.value:
                raise DataError(lim.field.exceeded(where, "a cell or string is longer"))


def _read_sheet(book: pd.ExcelFile, sheet: str, where: str, lim: Limits) -> pd.DataFrame | None:
    """One sheet within the cell limit; None for an empty sheet."""
    declared = getattr(book.book[sheet], "max_row", None)  # the sheet's own dimension tag
    if isinstance(declared, int) and declared > EXCEL_MAX_ROWS:
        at = f"{where}, sheet {quoted(sheet)}"
        raise DataError(
            f"{at} says it has {declared:,} rows, more than Excel allows: it is malformed."
        )
    header = pd.read_excel(book, sheet_name=sheet, nrows=0)
    columns = max(1, header.shape[1])
    if columns > lim.columns.value:
        at = f"{where}, sheet {quoted(sheet)}"
        raise DataError(lim.columns.exceeded(at, f"it has {columns:,} columns"))
    rows = min(EXCEL_MAX_ROWS, lim.cells.value // columns)
    df = pd.read_excel(book, sheet_name=sheet, nrows=rows + 1)
    if len(df) > rows:
        at = f"{where}, sheet {quoted(sheet)}"
        if rows == EXCEL_MAX_ROWS:
            raise DataError(f"{at} has more rows than Excel allows: the file is malformed.")
        raise DataError(lim.cells.exceeded(at, f"more than {rows:,} rows of {columns:,}"))
    df = df.dropna(how="all").dropna(axis=1, how="all")
    if df.shape[1] == 0:
        return None  # an empty sheet: nothing to use, nothing to report as an error
    df.columns = unique_names(list(df.columns))
    return df.reset_index(drop=True)
