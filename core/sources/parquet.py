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
    """The file as an Arrow table, its column and cell limits checked on the metadata first."""
    import pyarrow.parquet as pq

    where = one_line(p.name, 80)
    try:
        meta = pq.ParquetFile(p).metadata
        if meta.num_columns > lim.columns.value:
            raise DataError(lim.columns.exceeded(where, f"it has {meta.num_columns:,} columns"))
        if meta.num_rows * meta.num_columns > lim.cells.value:
            found = f"it has {meta.num_rows:,} rows of {meta.num_columns:,} columns"
            raise DataError(lim.cells.exceeded(where, found))
        return pq.read_table(p)
    except (DataError, MemoryError):  # out of memory is said as such by the command and the app
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(
            f"{where} is not a readable Parquet file ({first_line(exc)}). "
            "Check the file or export it again."
        ) from exc
