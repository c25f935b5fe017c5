"""Excel workbooks (.xlsx), every sheet: the unpacked size, the longest text and how far each
sheet's cells reach checked on the zip before openpyxl parses anything (through defusedxml: no
entity bombs)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from segscope.core.errors import ZIP_ERRORS, DataError
from segscope.core.limits import Limits
from segscope.core.locations import (
    first_line,
)
from segscope.core.sources.text_files import run_over
from segscope.core.text import one_line, quoted, unique_names

EXCEL_MAX_ROWS = 1_048_576  # what Excel itself allows in a sheet
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE container's first bytes, not a zip's
EXCEL_EXPANSION = 8  # a workbook's XML may hold 1/8 of the byte limit (it grows when parsed)


def read_excel(p: Path, lim: Limits) -> dict[str, pd.DataFrame]:
    where = one_line(p.name, 80)
    _check_workbook(p, lim)
    try:
        with pd.ExcelFile(p, engine="openpyxl") as book:
            tables: dict[str, pd.DataFrame] = {}
            for sheet in book.sheet_names:
                df = _read_sheet(book, sheet, where, lim)
                if df is not None:
                    tables[str(sheet)] = df
    except (DataError, MemoryError):  # out of memory is said as such by the command and the app
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
        with open(p, "rb") as fh:
            if fh.read(8) == _COMPOUND_FILE:  # what Excel saves a workbook with a password as
                raise DataError(
                    f"{where} is password-protected (or an old .xls saved as .xlsx). Save it "
                    "in Excel as .xlsx without a password."
                )
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
                if _is_xml(zf, info):
                    _check_xml(zf, info, where, lim)
    except DataError:
        raise
    except ZIP_ERRORS as exc:
        raise DataError(
            f"{where} is not a readable .xlsx workbook ({first_line(exc)}). "
            "Open it in Excel and save it as .xlsx again."
        ) from exc


# A row or a cell opening in a sheet (<row ...>, <x:c ...>: any namespace prefix) and the place it
# gives itself, if any (r="XFD1048576", r = '7', r="&#88;FD1": either quote, spaces around the =,
# characters written as references)
_ROW_OR_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])(?:[^>]*?\sr\s*=\s*[\"']"
    rb"(?:\s*([A-Za-z]*)([0-9]+)\s*|([^\"']*))[\"'])?[^>]*>"  # a plain place, or any other value
)
_PLACE = re.compile(rb"\s*([A-Za-z]*)([0-9]+)\s*")
_REFERENCE = re.compile(rb"&#(x[0-9A-Fa-f]+|[0-9]+);")


def _place(value: bytes) -> tuple[bytes, int] | None:
    """A place's column letters and row number, as an XML reader reads the attribute (character
    references resolved); None where it gives none."""
    if b"&" in value:
        value = _REFERENCE.sub(lambda m: _character(m[1]), value)
    place = _PLACE.fullmatch(value)
    return (place[1], int(place[2])) if place else None


def _character(code: bytes) -> bytes:
    number = int(code[1:], 16) if code[:1] == b"x" else int(code)
    return chr(number).encode() if number < 0x110000 else b"?"


@dataclass
class _Reach:
    """How far the rows and cells seen so far reach, placed as a reader places them: a row or a
    cell where its place says, else just after the one before (the next row, the next column)."""

    row: int = 0
    column: int = 0
    rows: int = 0
    columns: int = 0

    def see(self, text: bytes) -> None:
        row, column, rows, columns = self.row, self.column, self.rows, self.columns
        for tag, letters, number, value in _ROW_OR_CELL.findall(text):
            place = (letters, int(number)) if number else _place(value) if value else None
            if tag == b"row":
                row, column = place[1] if place else row + 1, 0
            elif place and place[0]:
                row, column = max(row, place[1]), _column_number(place[0])
            else:
                column += 1
            rows, columns = max(rows, row), max(columns, column)
        self.row, self.column, self.rows, self.columns = row, column, rows, columns


def _is_xml(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether a part of the zip is XML, by its first bytes (a sheet may be stored under any
    name the workbook's relationships give it; images and other binary parts are not)."""
    with zf.open(info) as fh:
        head = fh.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<")


def _check_xml(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, lim: Limits) -> None:
    """No run of text between two XML tags is longer than the field limit, and the cells a part
    places reach no farther than the cell limit allows (rows x columns up to its farthest cell:
    what a reader sets out for a sheet, however few cells it holds; every XML part is looked at,
    whatever its name). Streamed, a tag never cut between blocks."""
    run, rest, reach = 0, b"", _Reach()
    with zf.open(info) as fh:
        while chunk := fh.read(1024 * 1024):
            over, run = run_over(chunk, b"<", run, lim.field.value)
            if over:
                raise DataError(lim.field.exceeded(where, "a cell or string is longer"))
            text = rest + chunk
            cut = text.rfind(b">") + 1  # whole tags now, the rest with the next block
            text, rest = text[:cut], text[cut:]
            reach.see(text)
            if reach.rows * max(reach.columns, 1) > lim.cells.value:
                farthest = f"{reach.rows:,} rows by {max(reach.columns, 1):,} columns"
                raise DataError(lim.cells.exceeded(where, f"a sheet's cells reach {farthest}"))


def _column_number(letters: bytes) -> int:
    """A column's number from its letters (A 1, Z 26, AA 27, XFD 16,384)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


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
