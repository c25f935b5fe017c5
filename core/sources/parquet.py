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
from segscope.core.sources.arrow_tables import arrow_frame
from segscope.core.text import one_line


def read_parquet(p: Path, lim: Limits) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table, with columns pandas cannot use as values left out (and why)."""
    return arrow_frame(lambda: _read_table(p, lim))


def _read_table(p: Path, lim: Limits) -> Any:
    """The file as an Arrow table, its column and cell limits checked on the metadata first, and
    its text's bytes before they are written out: Parquet stores a repeated text once (in a
    dictionary), so a small file can hold gigabytes of text, which the byte limit bounds as it
    bounds a text file's."""
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
        text = {f.name for f in schema if _is_text(f.type)}
        stored, plain = _text_storage(meta, text)
        table = pq.read_table(p, read_dictionary=sorted(stored))  # each distinct text held once
        held = plain + sum(_text_bytes(table[name]) for name in stored)
        if held > lim.bytes.value:
            found = f"its text comes to {held:,} bytes when read"
            raise DataError(lim.bytes.exceeded(where, found))
        return table.cast(schema) if stored else table
    except (DataError, MemoryError):  # out of memory is said as such by the command and the app
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(
            f"{where} is not a readable Parquet file ({first_line(exc)}). "
            "Check the file or export it again."
        ) from exc


def _is_text(kind: Any) -> bool:
    """Whether an Arrow type holds text or bytes of any length (what a dictionary can repeat)."""
    import pyarrow as pa

    kinds = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary)
    return any(is_kind(kind) for is_kind in (*kinds, pa.types.is_large_binary))


def _text_storage(meta: Any, text: set[str]) -> tuple[set[str], int]:
    """The text columns stored with a dictionary in some row group (their size is known once
    read), and the bytes of the others' text as stored (values written out one by one)."""
    stored: set[str] = set()
    plain = 0
    for group in range(meta.num_row_groups):
        for j in range(meta.num_columns):
            chunk = meta.row_group(group).column(j)
            if chunk.path_in_schema not in text:
                continue
            if chunk.has_dictionary_page:
                stored.add(chunk.path_in_schema)
            else:
                plain += chunk.total_uncompressed_size
    return stored, plain


def _text_bytes(column: Any) -> int:
    """The bytes a dictionary-encoded text column holds once every row has its own copy."""
    import numpy as np
    import pyarrow.compute as pc

    total = 0
    for chunk in column.chunks:
        lengths = pc.binary_length(chunk.dictionary).fill_null(0).to_numpy(zero_copy_only=False)
        codes = chunk.indices.drop_null().to_numpy(zero_copy_only=False)
        total += int(np.bincount(codes, minlength=len(lengths)) @ lengths.astype(np.int64))
    return total
