"""Arrow tables (a Parquet file's, a database's result) as pandas frames: dates as dates,
decimals as numbers, and the columns that cannot be values left out with their reason."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from segscope.core.text import unique_names


def arrow_frame(read: Callable[[], Any]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The Arrow table `read()` gives (a Parquet file's, a database's result) as pandas, with the
    columns that cannot be used as values left out (and why): dates as dates, decimals as
    numbers. The table is let go of here, and the memory it held given back to the system."""
    import pyarrow as pa

    usable, columns_left_out = _usable(read(), pa)
    # a column per block, each given its Arrow buffers where pandas can take them as they are
    # (numbers without gaps), each column's Arrow copy let go of as it is converted
    frame = usable.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del usable  # the last reference to the Arrow columns: what they held can be given back
    pa.default_memory_pool().release_unused()
    for i in range(frame.shape[1]):  # by position: names may repeat until made unique below
        values = frame.iloc[:, i]
        plain = _plain_values(values)
        if plain is not values:  # only the columns it changes (a wide table's are mostly not)
            frame.isetitem(i, plain)
    frame.columns = unique_names(list(frame.columns))
    return frame, columns_left_out


def _usable(table: Any, pa: Any) -> tuple[Any, dict[str, str]]:
    """The table's columns that can be values (made plain), and why each other one cannot."""
    left_out: dict[str, str] = {}
    columns, names = [], []
    for spec, raw in zip(table.schema, table.columns, strict=True):
        column = _plain_arrow(raw, pa)
        why = unusable_type(column.type) or (
            "JSON documents: not usable as a feature"
            if str(getattr(spec.type, "extension_name", "")) == "arrow.json"
            else None
        )
        if why:
            left_out[spec.name] = why
        else:
            columns.append(column)
            names.append(spec.name)
    return pa.table(columns, names=names), left_out


def _plain_arrow(column: Any, pa: Any) -> Any:
    """A column with a database's own types made plain: decimals (and PostgreSQL's numeric,
    which arrives as text) as numbers, other database types as their text."""
    t = column.type
    if isinstance(t, pa.BaseExtensionType):
        storage = pa.chunked_array([c.storage for c in column.chunks], type=t.storage_type)
        if getattr(t, "type_name", "") == "numeric":
            return storage.cast(pa.float64())
        if getattr(t, "extension_name", "") == "arrow.uuid":  # a UUID as its text
            return pa.array(
                [None if v is None else str(uuid.UUID(bytes=v)) for v in storage.to_pylist()],
                pa.string(),
            )
        return storage if not pa.types.is_nested(storage.type) else column
    if pa.types.is_decimal(t):
        return column.cast(pa.float64())
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return _within_calendar(column, t, pa)
    return column


# The dates pandas can compute with (datetime64[ns]): a date beyond them (PostgreSQL's
# 'infinity', year 9999) is missing, as a date that does not parse is.
FIRST_DATE, LAST_DATE = "1678-01-01", "2261-12-31"


def _within_calendar(column: Any, t: Any, pa: Any) -> Any:
    import pyarrow.compute as pc

    if pa.types.is_date32(t):
        per_day = 1
        numbers = column.cast(pa.int32()).cast(pa.int64())
    elif pa.types.is_date64(t):
        per_day, numbers = 86_400_000, column.cast(pa.int64())
    else:
        per_day = 86_400 * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[t.unit]
        numbers = column.cast(pa.int64())
    epoch = pd.Timestamp("1970-01-01")
    low = (pd.Timestamp(FIRST_DATE) - epoch).days * per_day
    high = (pd.Timestamp(LAST_DATE) - epoch).days * per_day
    outside = pc.or_(pc.less(numbers, low), pc.greater(numbers, high))
    if not pc.any(outside).as_py():
        return column
    return pc.if_else(outside, pa.scalar(None, t), column)


def unusable_type(t: Any) -> str | None:
    """Why a column of this Arrow type cannot be a feature (None: it may be)."""
    import pyarrow as pa

    if pa.types.is_nested(t):
        return "nested values (lists or structs): not usable as a feature"
    binary = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary)
    if any(is_kind(t) for is_kind in (*binary, pa.types.is_binary_view)):
        return "binary data: not usable as a feature"
    return None


def _plain_values(s: pd.Series) -> pd.Series:
    """Timezone-aware dates as UTC, durations as days, categories as text."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_timedelta64_dtype(s):
        return s.dt.total_seconds() / 86_400
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.astype(object).where(s.notna(), np.nan)
    return s
