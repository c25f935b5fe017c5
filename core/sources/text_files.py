"""CSV, TSV and whitespace-aligned text tables (optionally .gz): the delimiter and encoding
sniffed from the head, the byte and line limits checked while the bytes stream in."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from segscope.core.errors import DataError
from segscope.core.limits import Limits, limits
from segscope.core.locations import (
    SUPPORTED,
    first_line,
)
from segscope.core.text import one_line, quoted, unique_names

_DELIMITERS = [",", ";", "\t", "|"]
WHITESPACE = r"\s+"  # fields separated by runs of spaces
_SNIFF_BYTES = 64 * 1024
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # tried in turn on a text file's head


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
        over, self._run = run_over(data, b"\n\r", self._run, self._lim.field.value)
        if over:
            raise DataError(self._lim.field.exceeded(self._where, "a line is longer"))


def run_over(data: bytes, stops: bytes, carry: int, limit: int) -> tuple[bool, int]:
    """Whether a run of bytes without any of `stops` in `data` is longer than `limit` (a line
    ends in \\n, \\r or both), counting `carry` bytes of a run that began before it; and the run
    still open at its end. The runs between the first and the last stop are measured only when
    together they could exceed `limit` (a block shorter than the limit never needs it)."""
    places = [(data.find(b), data.rfind(b)) for b in (bytes([stop]) for stop in stops)]
    found = [(first, last) for first, last in places if first >= 0]
    if not found:
        return carry + len(data) > limit, carry + len(data)
    first, last = min(f for f, _ in found), max(la for _, la in found)
    over = carry + first > limit
    if not over and last - first - 1 > limit:
        hits = np.flatnonzero(np.isin(np.frombuffer(data, dtype=np.uint8), list(stops)))
        over = int(np.diff(hits).max()) - 1 > limit
    return over, len(data) - last - 1


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


def read_text(p: Path, lim: Limits, as_text: bool = False) -> pd.DataFrame:
    """A text table within the limits; `as_text`: every cell as it is written (no numbers
    guessed), for a file whose values must match text exactly (an earlier run's labels)."""
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
        columns = _header_columns(p, lim, encoding, sep)
        if columns > lim.columns.value:
            raise DataError(lim.columns.exceeded(where, f"the header names {columns:,} columns"))
        rows = lim.cells.value // columns
        df = _parse_text(p, lim, sep, encoding, rows, as_text)
    if len(df) > rows:
        raise DataError(lim.cells.exceeded(where, f"more than {rows:,} rows of {columns:,}"))
    if df.shape[1] == 1 and len(df) > 0 and sep == ",":
        raise DataError(
            f"{where}: found a single column {quoted(df.columns[0])}. Use a comma, semicolon, tab "
            "or | between fields."
        )
    df.columns = unique_names(list(df.columns))
    return df


def _header_columns(p: Path, lim: Limits, encoding: str, sep: str) -> int:
    """The columns the header names, counted as the parser will read it: its first record that
    is not blank (a line of delimiters is a header of empty names), however long (within the
    line and field limits) and whatever it quotes."""
    with _opened(p, lim) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        if sep == WHITESPACE:
            return max(1, len(next((line for line in text if line.strip()), "").split()))
        records = csv.reader(text, delimiter=sep)
        before = csv.field_size_limit(lim.field.value)  # the csv module's one, process-wide
        try:
            header = next((row for row in records if len(row) > 1 or "".join(row).strip()), [])
        except csv.Error as exc:  # a quoted name past the field limit
            found = "a name in its header is longer"
            raise DataError(lim.field.exceeded(one_line(p.name, 80), found)) from exc
        finally:
            csv.field_size_limit(before)  # given back: a reader of this file changes no other
    return max(1, len(header))


def _parse_text(
    p: Path, lim: Limits, sep: str, encoding: str, rows: int, as_text: bool = False
) -> pd.DataFrame:
    where = one_line(p.name, 80)
    decimal = "," if sep == ";" else "."
    for enc in dict.fromkeys([encoding, "cp1252", "latin-1"]):
        try:
            with _opened(p, lim) as fh:
                return pd.read_csv(
                    fh,
                    sep=sep,
                    decimal=decimal,
                    encoding=enc,
                    nrows=rows + 1,
                    dtype=str if as_text else None,
                    keep_default_na=not as_text,
                )
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
