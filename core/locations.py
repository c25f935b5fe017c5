"""Where data lives: the kinds of files segscope reads, by their names, and how a location is
named in messages (every refusal names the file it is about)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from segscope.core.errors import DataError
from segscope.core.text import one_line

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".tab")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
DATA_SUFFIXES = (*TEXT_SUFFIXES, *PARQUET_SUFFIXES, *EXCEL_SUFFIXES, ".gz")
SUPPORTED = "CSV, TSV (optionally .gz), Parquet or Excel .xlsx"
URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")  # hdfs://, s3a://, postgresql://, ...
POSTGRES_URL = re.compile(r"^postgres(ql)?://", re.IGNORECASE)
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
GLOB_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv", ".csv.gz", ".tsv.gz")


def display_name(location: str | os.PathLike[str]) -> str:
    """A location's file name (a URL stays whole, its password masked), as a reader names it."""
    text = str(location)
    return masked(text) if URL.match(text) else (Path(text).name or text)


def masked(location: str) -> str:
    """`location` with any password in it replaced by ***."""
    if not POSTGRES_URL.match(location):
        return location
    parts = urlsplit(location)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = "&".join(
        f"{k}=***" if k.lower() == "password" else urlencode([(k, v)])
        for k, v in parse_qsl(parts.query)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets(location: str) -> list[str]:
    """The passwords written in `location` (to scrub from any message)."""
    if not POSTGRES_URL.match(location):
        return []
    parts = urlsplit(location)
    found = [parts.password, unquote(parts.password)] if parts.password else []
    return found + [v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v]


def local_or_url(location: str) -> Path | str:
    """A local path as a Path; a URL (which Path would mangle) as it is."""
    return location if URL.match(location) else Path(location)


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
        raise DataError(
            f"{one_line(p.name, 80)}: old .xls workbooks are not supported. Save it as .xlsx."
        )
    return "unknown"


def table_name(p: Path) -> str:
    """A file's name without its suffixes (customers.csv.gz -> customers): its table's name."""
    name = p.name
    for suffix in reversed(p.suffixes):
        name = name.removesuffix(suffix)
    return name or p.name


@contextmanager
def about(location: str | os.PathLike[str]) -> Iterator[None]:
    """Every DataError raised inside names `location` (when it does not already)."""
    try:
        yield
    except DataError as exc:
        name = one_line(display_name(location), 80)
        if name and name not in str(exc):
            exc.args = (f"{name}: {exc}",)
        raise


def first_line(exc: BaseException) -> str:
    """The first line of an error's text, visible and cut to 160 characters."""
    lines = str(exc).strip().splitlines()
    return one_line(lines[0], 160) if lines else type(exc).__name__


def database_kind(location: str) -> str | None:
    """'postgresql', 'duckdb' (a DuckDB file) or 'glob' (files through DuckDB); None otherwise.

    A glob is a name with * ? or [ that is not itself an existing file."""
    if POSTGRES_URL.match(location):
        return "postgresql"
    if location.lower().endswith(DUCKDB_SUFFIXES):
        return "duckdb"
    if (
        any(c in location for c in "*?[")
        and location.lower().endswith(GLOB_SUFFIXES)
        and not Path(location).exists()  # a file whose name holds [ or * is that file
    ):
        return "glob"
    return None
