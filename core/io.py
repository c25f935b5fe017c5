"""Reading tables from CSV/TSV/.gz, Parquet and Excel; writing outputs atomically."""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from segscope.core.errors import DataError, OutputExists

Tables = dict[str, pd.DataFrame]

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".tab")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED = "CSV, TSV (optionally .gz), Parquet or Excel .xlsx"
_DELIMITERS = [",", ";", "\t", "|"]
_SNIFF_BYTES = 64 * 1024


URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")  # hdfs://, s3a://, file://, ...


def local_or_url(location: str) -> Path | str:
    """A local path as a Path; a URL (which Path would mangle) as it is."""
    return location if URL.match(location) else Path(location)


def load_tables(path: str | os.PathLike[str]) -> Tables:
    """Read a file into named tables: one for a text or Parquet file, every sheet of a workbook."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file. Check the path.")
    if p.is_dir():
        raise DataError(f"{p} is a folder. Give a {SUPPORTED} file.")
    if p.stat().st_size == 0:
        raise DataError(f"{p.name} is empty (0 bytes). Export the table again.")
    kind = file_kind(p)
    if kind == "excel":
        tables = _read_excel(p)
    elif kind == "parquet":
        tables = {table_name(p): _read_parquet(p)}
    elif kind == "text":
        tables = {table_name(p): _read_text(p)}
    else:
        raise DataError(f"{p.name}: unsupported file type '{p.suffix}'. Use {SUPPORTED}.")
    for name, df in tables.items():
        if df.empty:
            where = f"{p.name}, sheet '{name}'" if kind == "excel" else p.name
            raise DataError(f"{where} has a header but no rows.")
    return tables


def file_kind(p: Path) -> str:
    """'text', 'parquet', 'excel' or 'unknown', from the name (ignoring a trailing .gz)."""
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
        return "text" if not suffixes or suffixes[-1] in TEXT_SUFFIXES else "unknown"
    last = suffixes[-1] if suffixes else ""
    if last in EXCEL_SUFFIXES:
        return "excel"
    if last in PARQUET_SUFFIXES:
        return "parquet"
    if last in TEXT_SUFFIXES:
        return "text"
    if last == ".xls":
        raise DataError(f"{p.name}: old .xls workbooks are not supported. Save it as .xlsx.")
    return "unknown"


def table_name(p: Path) -> str:
    """A file's name without its suffixes (customers.csv.gz -> customers): its table's name."""
    name = p.name
    for suffix in reversed(p.suffixes):
        name = name.removesuffix(suffix)
    return name or p.name


def _head_bytes(p: Path) -> bytes:
    opener = gzip.open if p.suffix.lower() == ".gz" else open
    try:
        with opener(p, "rb") as fh:
            return fh.read(_SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise DataError(f"{p.name}: cannot be read as a gzip file ({exc}).") from exc


def _decode(head: bytes) -> tuple[str, str]:
    """Pick an encoding from the file's head: UTF-8 (with or without BOM), else cp1252/latin-1."""
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
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
    return _decode(_head_bytes(p))[1]


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
    return best


def _read_text(p: Path) -> pd.DataFrame:
    head = _head_bytes(p)
    if b"\x00" in head:
        raise DataError(
            f"{p.name} does not look like a text table (it holds binary data). "
            f"Give a {SUPPORTED} file."
        )
    encoding, sample = _decode(head)
    if not sample.strip():
        raise DataError(f"{p.name} is empty. Export the table again.")
    sep = (
        "\t"
        if p.suffixes and p.suffixes[0].lower() in (".tsv", ".tab")
        else sniff_delimiter(sample)
    )
    decimal = "," if sep == ";" else "."
    for enc in dict.fromkeys([encoding, "cp1252", "latin-1"]):
        try:
            df = pd.read_csv(p, sep=sep, decimal=decimal, encoding=enc, compression="infer")
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as exc:
            raise DataError(f"{p.name} is empty. Export the table again.") from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise DataError(
                f"{p.name}: cannot be parsed as a table with delimiter {sep!r} "
                f"({first_line(exc)}). Check that every row has the same number of fields."
            ) from exc
    if df.shape[1] == 1 and len(df) > 0 and sep == ",":
        raise DataError(
            f"{p.name}: found a single column '{df.columns[0]}'. Use a comma, semicolon, tab or "
            "| between fields."
        )
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _read_parquet(p: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(
            f"{p.name} is not a readable Parquet file ({first_line(exc)}). "
            "Check the file or export it again."
        ) from exc


def _read_excel(p: Path) -> Tables:
    try:
        sheets = pd.read_excel(p, sheet_name=None, engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataError(
            f"{p.name} is not a readable .xlsx workbook ({first_line(exc)}). "
            "Open it in Excel and save it as .xlsx again."
        ) from exc
    tables: Tables = {}
    for name, df in sheets.items():
        df = df.dropna(how="all").dropna(axis=1, how="all")
        if df.shape[1] == 0:
            continue  # an empty sheet: nothing to use, nothing to report as an error
        df.columns = [str(c).strip() for c in df.columns]
        tables[str(name)] = df.reset_index(drop=True)
    if not tables:
        raise DataError(f"{p.name}: every sheet is empty.")
    return tables


def first_line(exc: BaseException) -> str:
    """The first line of an error's text, cut to 160 characters, for a short message."""
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


# --- atomic output ---------------------------------------------------------------------------


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_csv_atomic(path: Path, frame: pd.DataFrame) -> None:
    """Atomically write a DataFrame as CSV without its index."""
    write_text_atomic(path, frame.to_csv(index=False))


def check_output_dir(target: Path, force: bool) -> None:
    """Refuse an existing non-empty folder (or a file) unless `force`."""
    if target.exists() and not target.is_dir():
        raise OutputExists(f"{target} exists and is a file. Choose another output folder.")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise OutputExists(
            f"{target} already exists and is not empty. Choose another folder or allow overwriting "
            "(--force)."
        )


@contextlib.contextmanager
def output_dir(target: Path, force: bool = False) -> Iterator[Path]:
    """A temporary folder to fill; renamed to `target` on success, removed on failure."""
    target = target.resolve()
    check_output_dir(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
