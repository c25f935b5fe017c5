"""Where data lives: the kinds of files segscope reads, by their names, and how a location is
named in messages (every refusal names the file it is about)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
    """How a location is named wherever it is shown (messages, titles, reports, summaries): a
    file by its name, a URL whole with its password masked. The one function that names a
    location: nothing else shows one."""
    text = str(location)
    return masked(text) if URL.match(text) else (Path(text).name or text)


@dataclass(frozen=True)
class ConnInfo:
    """A postgresql:// URL read as libpq reads it (fe-connect.c, conninfo_uri_parse_options):
    the user and password run from after '//' to the first '@' (so '#', '?' and ':' may stand
    raw in a password; '@', '/' and '%' must be percent-encoded), then the hosts, the database
    up to '?', then key=value parameters joined by '&'. Percent-decoding is libpq's: %XX only.

    `masked` is the URL with every password (the user's, a `password=` parameter's) replaced by
    ***, as written otherwise; `secrets` every form of every password (as written, decoded), to
    scrub from any text a driver writes; `problem` what libpq would refuse in it (None: nothing),
    said without any password."""

    masked: str
    secrets: tuple[str, ...]
    problem: str | None = None
    parameters: bool = False  # whether it has a ?key=value part


def _decoded(text: str) -> str | None:
    """libpq's percent-decoding of `text` (None where libpq refuses it: a bad or %00 escape)."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", errors="surrogateescape")
    while i < len(raw):
        if raw[i : i + 1] == b"%":
            pair = raw[i + 1 : i + 3]
            if len(pair) < 2 or not all(chr(c) in "0123456789abcdefABCDEF" for c in pair):
                return None
            value = int(pair, 16)
            if value == 0:
                return None
            out.append(value)
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", errors="replace")


def conninfo(location: str) -> ConnInfo:
    """`location` (a postgresql:// URL) read as libpq reads it: see ConnInfo."""
    found = POSTGRES_URL.match(location)
    if not found:
        return ConnInfo(location, ())
    start = found.end()
    spans: list[tuple[int, int]] = []  # where passwords are written, to mask
    problem = None
    at = _first_of(location, start, "@/")
    hosts_from = start
    if at < len(location) and location[at] == "@":
        colon = _first_of(location, start, ":@")
        if colon < at and location[colon] == ":":
            spans.append((colon + 1, at))
        hosts_from = at + 1
    rest = location[hosts_from:]
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            problem = "an IPv6 host address without its closing ']'"
        elif close == 1:
            problem = "an empty IPv6 host address"
    query = location.find("?", hosts_from)
    if query >= 0:
        i = query + 1
        for part in location[query + 1 :].split("&"):
            key, eq, _ = part.partition("=")
            if eq and (_decoded(key) or "").strip().lower() == "password":
                spans.append((i + len(key) + 1, i + len(part)))
            i += len(part) + 1
    secrets: list[str] = []
    for a, b in spans:
        written = location[a:b]
        decoded = _decoded(written)
        if decoded is None:
            problem = problem or "a password that is not validly percent-encoded (%XX)"
        secrets += [written, *([decoded] if decoded is not None else [])]
    masked = location
    for a, b in sorted(spans, reverse=True):
        if b > a:
            masked = masked[:a] + "***" + masked[b:]
    shown = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
    return ConnInfo(masked, shown, problem, query >= 0)


def _first_of(text: str, start: int, stops: str) -> int:
    """The position of the first of `stops` in `text` from `start` (len(text): none)."""
    return next((i for i in range(start, len(text)) if text[i] in stops), len(text))


def masked(location: str) -> str:
    """`location` with any password in it replaced by *** (a URL read as libpq reads it)."""
    return conninfo(location).masked


def secrets(location: str) -> list[str]:
    """Every password written in `location`, as written and decoded (to scrub from any text)."""
    return list(conninfo(location).secrets)


def scrubbed(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ***: done on the whole text, before any cutting."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


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
