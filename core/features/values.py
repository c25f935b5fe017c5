"""What a column's values are, judged on the values (a name only hints): a flag, labels, codes
written as numbers, an identifier of each row, a count of things, a level to average, an
amount to add up. The one home of these judgements: a customers table's roles
(preparing.schema) and a log's measures (features.measures) both ask here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segscope.core.features.names import (
    AMOUNT_PATTERN,
    AVERAGE_PATTERN,
    IDENTIFIER_NAME,
    QUANTITY_PATTERN,
    is_code_name,
)

FEW_CODES = 20  # whole numbers with at most this many values could be codes or a scale
SPARSE = 0.25  # ... codes when spread thin over their range (408, 415, 510)
YES = {"yes", "y", "true", "t", "1", "1.0", "ja", "si", "oui"}  # the set side of a two-word flag
NO = {"no", "n", "false", "f", "0", "0.0", "nein", "non"}


GAPLESS = ("b", "i", "u")  # numpy kinds that hold no gaps (flags, whole numbers)


def numpy_kind(s: pd.Series) -> str:
    """The kind of numpy dtype `s` holds ("f", "i", ...), or "" for pandas' own (nullable) types,
    whose gaps numpy does not see."""
    return s.dtype.kind if isinstance(s.dtype, np.dtype) else ""


COMPACT_RANGE = 4  # whole numbers spanning at most this many times their count are "compact"


def compact_offsets(s: pd.Series) -> tuple[np.ndarray, int, int] | None:
    """A column of numpy whole numbers as each value's distance from the least (as indices), the
    least and the span, when the span is at most COMPACT_RANGE times the rows: values that can
    be counted in an array over their range instead of hashed (keys, codes). None otherwise."""
    if numpy_kind(s) not in ("i", "u") or len(s) == 0:
        return None
    v = s.to_numpy()
    low, high = int(v.min()), int(v.max())
    if high - low >= COMPACT_RANGE * len(v):
        return None
    # exact: the difference is below the span, which fits in the values' own width unsigned
    offsets = (v - v.dtype.type(low)).view(f"u{v.itemsize}")
    same = v.itemsize == np.dtype(np.intp).itemsize
    offsets = offsets.view(np.intp) if same else offsets.astype(np.intp)
    return offsets, low, high - low + 1


def offsets_present(offsets: np.ndarray, span: int) -> np.ndarray:
    """The distinct offsets among compact_offsets' (in order), found by marking each in an
    array over the span."""
    seen = np.zeros(span, dtype=np.bool_)
    seen[offsets] = True
    return np.flatnonzero(seen)


def present(s: pd.Series) -> pd.Series:
    """`s` without its gaps: `s` itself when it has none (numpy's flags and whole numbers never
    do), a column numpy holds judged without a pandas step (tables can be wide)."""
    if numpy_kind(s) in GAPLESS:
        return s
    if numpy_kind(s) == "f":
        gaps = np.isnan(s.to_numpy())
        return s[~gaps] if gaps.any() else s
    return s.dropna()


def whole(s: pd.Series) -> bool:
    """Numbers that are all whole (missing values aside; an infinity is not whole; a NaN a
    nullable float holds is no whole number)."""
    if numpy_kind(s) in GAPLESS:  # whole by their type
        return len(s) > 0
    v = present(s).to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):  # an infinity's remainder is NaN: not whole
        return bool(len(v)) and bool((np.mod(v, 1) == 0).all())


def is_label(s: pd.Series) -> bool:
    """Values that name things rather than measure them: text, or whole numbers (never
    true/false, never a date)."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return False
    if pd.api.types.is_numeric_dtype(s):
        return whole(s)
    return pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)


def is_text(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


MIN_ROWS = 20  # fewer rows say too little to call a column an identifier by its values


def counts_up(s: pd.Series) -> bool:
    """Whole numbers in increasing order down the file: row numbers or assigned ids."""
    if len(s) < MIN_ROWS or not pd.api.types.is_numeric_dtype(s):
        return False
    if numpy_kind(s) not in (*GAPLESS, "f") and s.isna().any():  # NaN fail the comparison
        return False
    v = s.to_numpy()
    return bool(len(v) > 1 and (v[1:] > v[:-1]).all())


def is_sequence(x: pd.Series) -> bool:
    """Values that count rows up (1, 2, 3, ... in some order): a row number."""
    return bool(x.max() - x.min() + 1 == len(x))


def is_flag(s: pd.Series) -> bool:
    """True/false, or numbers that are only 0 and 1 (numpy's numbers judged by their least and
    greatest first: a long column of other numbers is not hashed)."""
    if pd.api.types.is_bool_dtype(s):
        return True
    if not pd.api.types.is_numeric_dtype(s):
        return False
    if numpy_kind(s) in ("i", "u", "f") and len(s):
        v = s.to_numpy()
        if np.fmin.reduce(v) != 0 or np.fmax.reduce(v) != 1:  # fmin and fmax pass over gaps
            return False
        # whole numbers from 0 to 1 are 0 and 1; fractions are looked for among the others
        return v.dtype.kind != "f" or bool(np.all((v == 0) | (v == 1) | np.isnan(v)))
    values = set(pd.unique(s.dropna()))
    return len(values) == 2 and values <= {0, 1}


def yes_value(values: list[str]) -> str | None:
    """Of a two-word column's values, the one that means 'set' (yes, true, 1) when the other
    means 'not set'; None when the two are not a yes and a no (M/F, burned/subscribed)."""
    low = {v.strip().lower(): v for v in values}
    yes = [v for w, v in low.items() if w in YES]
    no = [v for w, v in low.items() if w in NO]
    return yes[0] if len(values) == 2 and len(yes) == 1 and len(no) == 1 else None


def is_row_identifier(name: str, s: pd.Series) -> bool:
    """A different value on (nearly) every row that names the row rather than measures it:
    text, or whole numbers named as an identifier or counting up the file."""
    values = s.dropna()
    if len(values) < MIN_ROWS or values.nunique() < 0.95 * len(values) or not is_label(s):
        return False
    return is_text(s) or bool(IDENTIFIER_NAME.search(name)) or counts_up(values)


def sparse_codes(x: pd.Series) -> bool:
    """A few whole numbers spread thin over their range with no common step (408, 415, 510):
    codes, not a scale (a guess: the values alone cannot be sure)."""
    distinct = x.nunique()
    span = x.max() - x.min() + 1
    steps = int(np.gcd.reduce((x - x.min()).astype(np.int64).to_numpy())) if len(x) else 1
    return bool(3 <= distinct <= FEW_CODES and distinct < SPARSE * span and steps == 1)


def codes(name: str, s: pd.Series) -> bool:
    """Whole numbers used as labels: named as codes, or spread thin over their range."""
    values = s.dropna()
    if not len(values) or not whole(s) or is_flag(s):
        return False
    if is_code_name(name):
        return True
    return not is_count(s) and sparse_codes(values.astype(float))


def is_count(s: pd.Series) -> bool:
    """Whole numbers from 0 whose commonest value is 0: how many of something each row holds
    (visits, nights, children), which add up per customer."""
    values = s.dropna()
    if not len(values) or not whole(s) or values.min() < 0:
        return False
    return bool(values.value_counts().idxmax() == 0)


def summed(name: str, s: pd.Series) -> tuple[bool, str]:
    """Whether a number adds up per customer (an amount, a quantity, a count of things) or is
    only averaged (a level: a rating, a score, a year, a price per unit, a position), and why."""
    values = s.dropna()
    if AVERAGE_PATTERN.search(name):
        return False, "a rating, score, year or share: averaged, never summed"
    if AMOUNT_PATTERN.search(name) or QUANTITY_PATTERN.search(name):
        return True, "an amount or quantity: summed and averaged"
    if len(values) and values.min() < 0:
        return False, "a level that goes below zero: averaged, never summed"
    if is_count(s):
        return True, "a count of things per row (mostly 0): summed and averaged"
    return False, "a number of unknown kind: averaged; summed only for amounts and counts"
