"""Parquet files: the column and cell limits checked on the metadata before reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from segscope.core.errors import DataError
from segscope.core.limits import Limits
from segscope.core.locations import (
    first_line,
)
from segscope.core.sources.arrow_tables import arrow_frame, unusable_type
from segscope.core.text import one_line


def read_parquet(p: Path, lim: Limits) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table, with columns pandas cannot use as values left out (and why): those whose type
    says so are not read at all."""
    unread: dict[str, str] = {}
    order: list[str] = []

    def read() -> Any:
        table, skipped, names = _read_table(p, lim)
        unread.update(skipped)
        order.extend(names)
        return table

    frame, left_out = arrow_frame(read)
    reasons = {**unread, **left_out}
    return frame, {name: reasons[name] for name in order if name in reasons}


def _read_table(p: Path, lim: Limits) -> tuple[Any, dict[str, str], list[str]]:
    """The file's usable columns as an Arrow table, the columns not read (by their type: nested
    values, binary data) with why, and every column's name in order. The column and cell limits
    are checked on the metadata first, and the text's bytes and longest value before it is
    written out: Parquet stores a repeated text once (in a dictionary), so a small file can hold
    gigabytes of text, which the limits bound as they bound a text file's."""
    import pyarrow.parquet as pq

    where = one_line(p.name, 80)
    try:
        file = pq.ParquetFile(p)
        meta = file.metadata
        if meta.num_columns > lim.columns.value:
            raise DataError(lim.columns.exceeded(where, f"it has {meta.num_columns:,} columns"))
        if meta.num_rows * meta.num_columns > lim.cells.value:
            found = f"it has {meta.num_rows:,} rows of {meta.num_columns:,} columns"
            raise DataError(lim.cells.exceeded(where, found))
        schema = file.schema_arrow
        unread = {f.name: why for f in schema if (why := unusable_type(f.type))}
        text = {f.name for f in schema if _is_text(f.type)} - set(unread)
        _check_text(p, file, text, where, lim)
        usable = [name for name in schema.names if name not in unread]
        table = pq.read_table(p, columns=usable if unread else None)
        return table, unread, schema.names
    except (DataError, MemoryError):  # out of memory is said as such by the command and the app
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(
            f"{where} is not a readable Parquet file ({first_line(exc)}). "
            "Check the file or export it again."
        ) from exc


DELTA = {"DELTA_BYTE_ARRAY", "DELTA_LENGTH_BYTE_ARRAY"}  # encodings no dictionary reads
FEW_ROWS = 64  # rows measured at once where text is delta-encoded


def _check_text(p: Path, file: Any, text: set[str], where: str, lim: Limits) -> None:
    """The text columns' bytes as every row holds them, and their longest value, within the
    byte and field limits, measured before the table is read (`file`: p, opened): read as
    dictionaries (each distinct text held once, whatever the file makes of its repeats), or,
    where the text is delta-encoded (which Arrow cannot read as a dictionary), a few rows at a
    time."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    meta = file.metadata
    delta = {
        chunk.path_in_schema
        for group in map(meta.row_group, range(meta.num_row_groups))
        for chunk in map(group.column, range(meta.num_columns))
        if chunk.path_in_schema in text and DELTA & set(chunk.encodings)
    }
    held = longest = 0

    def measure(total: int, most: int) -> None:
        nonlocal held, longest
        held, longest = held + total, max(longest, most)
        if longest > lim.field.value:
            raise DataError(lim.field.exceeded(where, f"a text value is {longest:,} bytes long"))
        if held > lim.bytes.value:
            found = f"its text comes to at least {held:,} bytes when read"
            raise DataError(lim.bytes.exceeded(where, found))

    if stored := sorted(text - delta):
        measured = pq.read_table(p, columns=stored, read_dictionary=stored)
        for name in stored:
            measure(*_text_bytes(measured[name]))
        del measured
    if delta:
        for batch in file.iter_batches(FEW_ROWS, columns=sorted(delta)):
            for column in batch.columns:
                lengths = pc.binary_length(column)
                measure(pc.sum(lengths).as_py() or 0, pc.max(lengths).as_py() or 0)


def _is_text(kind: Any) -> bool:
    """Whether an Arrow type holds text of any length (what a dictionary can repeat): plainly, as
    a dictionary or under an extension type."""
    import pyarrow as pa

    if isinstance(kind, pa.BaseExtensionType):  # JSON, say: text underneath
        kind = kind.storage_type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    kinds = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    return any(is_kind(kind) for is_kind in kinds)


def _text_bytes(column: Any) -> tuple[int, int]:
    """The bytes a dictionary-encoded text column holds once every row has its own copy, and its
    longest value in use."""
    import numpy as np
    import pyarrow.compute as pc

    total, longest = 0, 0
    for chunk in column.chunks:
        lengths = pc.binary_length(chunk.dictionary).fill_null(0).to_numpy(zero_copy_only=False)
        codes = chunk.indices.drop_null().to_numpy(zero_copy_only=False)
        used = np.bincount(codes, minlength=len(lengths))
        total += int(used @ lengths.astype(np.int64))
        longest = max(longest, int(lengths[used > 0].max(initial=0)))
    return total, longest
