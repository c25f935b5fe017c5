"""Inferring column roles from values and names: which columns are the key, features (numeric or
categorical), dates, or ignored, and why."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from segscope.core.errors import DataError
from segscope.core.features.names import COUNT_NAME, IDENTIFIER_NAME, OUTCOME_NAME, is_code_name
from segscope.core.features.values import (
    FEW_CODES,
    counts_up,
    is_sequence,
    present,
    sparse_codes,
    whole,
)
from segscope.core.roles import FEATURE_ROLES, ColumnRole, Role, Schema
from segscope.core.text import names, quoted
from segscope.core.threads import column_threads, in_parallel

MAX_OUTCOME_VALUES = 5  # an outcome has a few values (yes/no, a status)
MAX_CATEGORIES = 50  # more distinct strings than this (and mostly unique) reads as free text
MAX_FORCED_CATEGORIES = 1000  # a column chosen as categorical with more is an identifier
MAX_ONEHOT_SHOWN = 30  # categories kept apart (preparing.preprocess.MAX_ONEHOT)
MOSTLY_MISSING = 0.5  # a column missing on more of its rows is left out (unless chosen)


def infer_role(name: str, s: pd.Series, key: str | None, built: str = "") -> ColumnRole:
    """Guess one column's role from its name, type and values; `built` says what the column
    was built from (a measure of the transaction log: a number by construction)."""
    non_null = present(s)
    if name == key:
        return ColumnRole(name, Role.KEY, "customer key: identifies rows, never a feature")
    if non_null.empty:
        return ColumnRole(name, Role.IGNORED, "all values are empty")
    missing = 1 - len(non_null) / max(1, len(s))
    if missing > MOSTLY_MISSING:
        return ColumnRole(
            name, Role.IGNORED, f"missing on {missing:.0%} of rows: too few values to compare"
        )
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        finite = np.isfinite(non_null.to_numpy(dtype=float))
        if not finite.any():
            return ColumnRole(name, Role.IGNORED, "no finite values (all inf or empty)")
        non_null = non_null if finite.all() else non_null[finite]
    distinct = int(non_null.nunique())
    if distinct == 1:
        value = non_null.iloc[0]
        value = value.item() if isinstance(value, np.generic) else value  # 30, not np.int64(30)
        return ColumnRole(name, Role.IGNORED, f"constant: every value is {value!r}")
    if built:
        return ColumnRole(name, Role.NUMERIC, f"built from the log: {built}")
    if distinct <= MAX_OUTCOME_VALUES and OUTCOME_NAME.match(name.strip()):
        return ColumnRole(
            name,
            Role.IGNORED,
            "looks like an outcome (a guess, from its name): what segments are measured "
            "against, not made from; make it a feature if it is a trait",
            guess=True,
        )
    if pd.api.types.is_bool_dtype(s):
        return ColumnRole(name, Role.CATEGORICAL, "true/false flag")
    if pd.api.types.is_datetime64_any_dtype(s):
        return ColumnRole(name, Role.DATETIME, "dates: used as days before the latest date")
    if pd.api.types.is_numeric_dtype(s):
        numbers = non_null if non_null.dtype == np.float64 else non_null.astype(float)
        return _number_role(name, numbers, distinct, len(s))
    return _text_role(name, non_null, distinct)


def _number_role(name: str, x: pd.Series, distinct: int, rows: int) -> ColumnRole:
    """Numbers, codes written as numbers, or identifiers (an identifier is never a number to
    scale: named as one, or counting the rows up)."""
    if not whole(x) or COUNT_NAME.search(name):
        return ColumnRole(name, Role.NUMERIC, "numbers")
    named = is_code_name(name) or bool(IDENTIFIER_NAME.search(name))
    if distinct == rows and rows > 20 and (named or is_sequence(x) or counts_up(x)):
        return ColumnRole(name, Role.IGNORED, "unique on every row: an identifier")
    if named:
        if distinct > MAX_FORCED_CATEGORIES:
            return ColumnRole(name, Role.IGNORED, f"an identifier: {distinct:,} distinct codes")
        return ColumnRole(
            name, Role.CATEGORICAL, f"code column ({distinct} codes): labels, not quantities"
        )
    if distinct == 2:
        return ColumnRole(name, Role.NUMERIC, "two values: a flag")
    if sparse_codes(x):
        span = int(x.max() - x.min() + 1)
        return ColumnRole(
            name,
            Role.CATEGORICAL,
            f"{distinct} whole numbers spread over {span:,}: read as codes (a guess)",
            guess=True,
        )
    if distinct <= FEW_CODES:
        low, high = int(x.min()), int(x.max())
        return ColumnRole(
            name,
            Role.NUMERIC,
            f"{distinct} whole numbers from {low} to {high}: read as a scale (a guess)",
            guess=True,
        )
    return ColumnRole(name, Role.NUMERIC, "numbers")


def _text_role(name: str, values: pd.Series, distinct: int) -> ColumnRole:
    """Categories, or names and identifiers (too many different values to compare)."""
    if distinct == len(values) and distinct > 10:
        return ColumnRole(name, Role.IGNORED, "a different value on every row: free text or an ID")
    if distinct > MAX_CATEGORIES:
        common = values.value_counts().head(MAX_ONEHOT_SHOWN).sum() / len(values)
        if distinct > 0.5 * len(values) or common < 0.5:
            return ColumnRole(
                name,
                Role.IGNORED,
                f"names or identifiers: {distinct:,} distinct values, the {MAX_ONEHOT_SHOWN} "
                f"commonest on only {common:.0%} of rows",
            )
        return ColumnRole(
            name,
            Role.CATEGORICAL,
            f"{distinct} categories: the rare ones are grouped as 'infrequent'",
        )
    return ColumnRole(name, Role.CATEGORICAL, f"text with {distinct} categories")


def infer_schema(
    df: pd.DataFrame,
    key: str | None = None,
    overrides: Mapping[str, Role | str] | None = None,
    coded: Mapping[str, str] | None = None,
    left_out: Mapping[str, str] | None = None,
    built: Mapping[str, str] | None = None,
) -> Schema:
    """Roles for every column; `overrides` (column -> role) always win.

    `coded` maps a code column to the name column joined from its lookup table: the code is
    then left out, since the name carries the same categories in words. `left_out` names
    columns to leave out and why (the reader could not read them; they repeat another
    feature), `built` the columns measured from the transaction log and from what.
    """
    forced = {k: Role(v) for k, v in (overrides or {}).items()}
    unknown = [c for c in forced if c not in set(map(str, df.columns))]
    if unknown:
        raise DataError(
            f"unknown column(s) {names(unknown)}. Columns are: {names(map(str, df.columns), 3)}."
        )
    new_keys = [c for c, r in forced.items() if r is Role.KEY]
    if len(new_keys) > 1:
        raise DataError(f"only one key column is allowed, got {names(new_keys)}.")
    if new_keys:
        key = new_keys[0]
    left_out, built = left_out or {}, built or {}

    def role(name: str) -> ColumnRole:
        if name in forced:
            return _forced_role(name, df[name], forced[name])
        if coded and name in coded and name != key:
            return ColumnRole(name, Role.IGNORED, f"code for {coded[name]} (same categories)")
        if name in left_out and name != key:
            return ColumnRole(name, Role.IGNORED, left_out[name])
        return infer_role(name, df[name], key, built.get(name, ""))

    cols = list(in_parallel(role, list(map(str, df.columns)), column_threads(len(df))))
    present = set(map(str, df.columns))
    cols += [ColumnRole(n, Role.IGNORED, why) for n, why in left_out.items() if n not in present]
    schema = Schema(cols)
    if not schema.features:
        reasons = [f"{quoted(n, 30)}: {r}" for n, r in schema.left_out.items()]
        more = f"; and {len(reasons) - 2} more" if len(reasons) > 2 else ""
        raise DataError(
            f"no usable feature ({'; '.join(reasons[:2])}{more}). "
            "Add numeric or categorical columns, or change a column's role."
        )
    return schema


def _forced_role(name: str, s: pd.Series, role: Role) -> ColumnRole:
    non_null = s.dropna()
    if role in FEATURE_ROLES and non_null.empty:
        raise DataError(f"column {quoted(name)} is all empty and cannot be a feature. Exclude it.")
    if role is Role.NUMERIC and not pd.api.types.is_numeric_dtype(s):
        bad = pd.to_numeric(non_null, errors="coerce").isna().mean()
        if bad > 0.05:
            raise DataError(
                f"column {quoted(name)} is not numeric ({bad:.0%} of values are not numbers). "
                "Make it categorical or exclude it."
            )
    if role is Role.CATEGORICAL:
        distinct = int(non_null.nunique())
        if distinct > MAX_FORCED_CATEGORIES and distinct > 0.5 * len(non_null):
            raise DataError(
                f"column {quoted(name)} has {distinct:,} distinct values: it is an identifier, "
                "not a category. Leave it out of the features (or make it the key)."
            )
    return ColumnRole(name, role, "chosen by you", overridden=True)
