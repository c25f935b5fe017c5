"""Excel workbooks (.xlsx), every sheet, read by calamine (python-calamine: ten times faster than
openpyxl): the unpacked size, the longest text, entity declarations and how far each sheet's
cells reach checked on the zip before the reader parses anything."""

from __future__ import annotations

import zipfile
from pathlib import Path
from string import ascii_letters
from typing import NoReturn
from xml.parsers import expat

import pandas as pd

from segscope.core.errors import ZIP_ERRORS, DataError
from segscope.core.limits import Limits
from segscope.core.locations import (
    first_line,
)
from segscope.core.sources.text_files import run_over
from segscope.core.text import one_line, quoted, unique_names

EXCEL_MAX_ROWS = 1_048_576  # what Excel itself allows in a sheet
EXCEL_MAX_COLUMNS = 16_384  # column XFD
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE container's first bytes, not a zip's
EXCEL_EXPANSION = 8  # a workbook's XML may hold 1/8 of the byte limit (it grows when parsed)
CELL_BYTES = 64  # what reading sets out for each cell up to a sheet's farthest (calamine, pandas)


def read_excel(p: Path, lim: Limits) -> dict[str, pd.DataFrame]:
    where = one_line(p.name, 80)
    _check_workbook(p, lim)
    try:
        with pd.ExcelFile(p, engine="calamine") as book:
            tables: dict[str, pd.DataFrame] = {}
            for sheet in book.sheet_names:
                df = _read_sheet(book, sheet, where, lim)
                if df is not None:
                    tables[str(sheet)] = df
    except (DataError, MemoryError):  # out of memory is said as such by the command and the app
        raise
    except BaseException as exc:  # the reader's errors, and a panic of its Rust code
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise  # Ctrl-C, an exit
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
                _check_xml(zf, info, where, lim)
    except DataError:
        raise
    except ZIP_ERRORS as exc:
        raise DataError(
            f"{where} is not a readable .xlsx workbook ({first_line(exc)}). "
            "Open it in Excel and save it as .xlsx again."
        ) from exc


class _Reach:
    """How far the rows and cells of one part reach, placed as a reader places them (a row where
    its r says, else the next; a cell at its coordinate, else the next column), from the parts'
    XML as an XML parser reads it (quotes, references, encodings). A place beyond Excel's last
    row or column is refused: a reader would set out a sheet that far, or fail on it."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.row = self.column = self.rows = self.columns = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        tag = name.rpartition("}")[2]
        if tag not in ("row", "c"):
            return
        place = attributes.get("r")
        if tag == "row":
            self.row, self.column = _row_number(place, self.where) if place else self.row + 1, 0
        elif place:
            row, self.column = _coordinate(place, self.where)
            self.row = max(self.row, row)
        else:
            self.column += 1
        self.rows, self.columns = max(self.rows, self.row), max(self.columns, self.column)


def _coordinate(place: str, where: str) -> tuple[int, int]:
    """A cell's row and column from its r (letters, then a whole number), in time linear in its
    length; a place that is none, or lies beyond Excel's last row or column, is refused."""
    letters = place[: len(place) - len(place.lstrip(ascii_letters))]
    if not letters or len(letters) > 3:
        _refuse_place(place, where)
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - ord("A") + 1
    if column > EXCEL_MAX_COLUMNS:
        _refuse_place(place, where)
    return _row_number(place[len(letters) :], where, place), column


def _row_number(number: str, where: str, place: str | None = None) -> int:
    """A row's number: a whole number from 1 to Excel's last row (leading zeros allowed, however
    many), else the place is refused."""
    digits = number.lstrip("0")
    short = digits.isascii() and digits.isdigit() and len(digits) <= len(str(EXCEL_MAX_ROWS))
    if not short or int(digits) > EXCEL_MAX_ROWS:
        _refuse_place(place or number, where)
    return int(digits)


def _refuse_place(place: str, where: str) -> NoReturn:
    raise DataError(
        f"{where} is not a readable .xlsx workbook (a cell or row is placed at "
        f"{quoted(place, 30)}, which is no place in an Excel sheet). Open it in Excel and save "
        "it as .xlsx again."
    )


def _refuse_entities(where: str) -> None:
    raise DataError(
        f"{where} is not a readable .xlsx workbook (it declares XML entities, which a workbook "
        "never needs). Open it in Excel and save it as .xlsx again."
    )


def _check_xml(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, lim: Limits) -> None:
    """No run of text between two XML tags is longer than the field limit, and the cells a part
    places reach no farther than the cell limit allows, nor the byte limit at CELL_BYTES each
    (rows x columns up to its farthest cell: what a reader sets out for a sheet, however few
    cells it holds; 26 million empty cells took 1.6 GB). Every part is parsed as
    XML, whatever its name, until it is not (an image is not; a sheet that is not is refused
    when it is read), streamed, and no entity declaration is accepted."""
    reach = _Reach(where)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = reach.start
    parser.EntityDeclHandler = lambda *_: _refuse_entities(where)
    run, xml = 0, True
    with zf.open(info) as fh:
        while xml and (chunk := fh.read(1024 * 1024)):
            try:
                parser.Parse(chunk, False)
            except expat.ExpatError:  # not XML from here on: the cells before it still count
                xml = False
            else:
                over, run = run_over(chunk, b"<", run, lim.field.value)
                if over:
                    raise DataError(lim.field.exceeded(where, "a cell or string is longer"))
            cells = reach.rows * max(reach.columns, 1)
            farthest = f"{reach.rows:,} rows by {max(reach.columns, 1):,} columns"
            if cells > lim.cells.value:
                raise DataError(lim.cells.exceeded(where, f"a sheet's cells reach {farthest}"))
            if cells * CELL_BYTES > lim.bytes.value:
                set_out = f"{cells * CELL_BYTES:,} bytes as the reader sets them out"
                raise DataError(
                    lim.bytes.exceeded(where, f"a sheet's cells reach {farthest}, {set_out}")
                )


def _read_sheet(book: pd.ExcelFile, sheet: str, where: str, lim: Limits) -> pd.DataFrame | None:
    """One sheet within the column and cell limits; None for an empty sheet. Read whole, once:
    what reading it sets out was bounded on the zip (_check_xml)."""
    df = pd.read_excel(book, sheet_name=sheet)
    columns = max(1, df.shape[1])
    if columns > lim.columns.value:
        at = f"{where}, sheet {quoted(sheet)}"
        raise DataError(lim.columns.exceeded(at, f"it has {columns:,} columns"))
    rows = min(EXCEL_MAX_ROWS, lim.cells.value // columns)
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
