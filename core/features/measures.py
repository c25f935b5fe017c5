"""What each column of a transaction log gives per customer: the kinds of measure, and the
decision for each column (with the reason said to the user).

A `Kind` carries the facts every executor needs (what a customer without transactions gets,
whether the figure is a share); adding a measure means one new kind here and one expression in
each executor (pandas, SQL, Spark)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from segscope.core.features.dates import RULE_WORDS
from segscope.core.features.names import (
    AMOUNT_PATTERN,
    AVERAGE_PATTERN,
    BURN_PATTERN,
    CODE_SUFFIX,
    QUANTITY_PATTERN,
    is_code_name,
)
from segscope.core.text import plural


class Kind(Enum):
    """How a measure is computed from a customer's rows of the log."""

    ROWS = "rows"  # how many rows (transactions)
    LATEST = "latest"  # days from the reference date back to the latest date of `column`
    EARLIEST = "earliest"  # ... back to the earliest
    COUNT_OF = "count_of"  # rows whose `column` is `value`
    SHARE_OF = "share_of"  # the share of rows whose `column` is `value`
    SHARE = "share"  # the share of rows where the flag `column` is set
    DISTINCT = "distinct"  # distinct values of `column`
    SUM = "sum"  # the total of `column` (a number)
    MEAN = "mean"  # the average of `column` (a number)

    @property
    def zero_when_absent(self) -> bool:
        """A customer without transactions has 0 of it (a count or a total); else it is
        unknown (an average, a share) or taken from the join date (a date)."""
        return self in (Kind.ROWS, Kind.COUNT_OF, Kind.DISTINCT, Kind.SUM)

    @property
    def dated(self) -> bool:
        """Days back to a date: for a customer without transactions, days since joining."""
        return self in (Kind.LATEST, Kind.EARLIEST)

    @property
    def share(self) -> bool:
        """A share of rows (0..1): differences are said in percentage points."""
        return self in (Kind.SHARE, Kind.SHARE_OF)


STATUS_MAX_VALUES = 6  # a text column with 2..this many values gives a count per value
FEW_CODES = 20  # a log column of at most this many whole numbers, not an amount, holds codes
Values = Callable[[str], list[str]]  # a log column -> its distinct values (up to 7)


@dataclass(frozen=True)
class Measure:
    """One behaviour column built per customer from the transaction log.

    `column` is the log column it is computed from (none for ROWS), `value` the value counted
    (COUNT_OF, SHARE_OF).
    """

    name: str
    kind: Kind
    title: str
    column: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ColumnUse:
    """What one column of the log gave, and why."""

    column: str
    built: tuple[str, ...]
    why: str


def plan_measures(
    log: pd.DataFrame, key: str, dates: Mapping[str, str], values: Values | None = None
) -> tuple[list[Measure], list[ColumnUse]]:
    """What to build from each log column, and why: the log's size, recency and tenure from its
    main date, a count per status value, distinct codes, and money."""
    measures = [Measure("transactions", Kind.ROWS, "transactions")]
    uses = []
    date_cols = [c for c in dates if c in log.columns and log[c].notna().any()]
    main = min(date_cols, key=lambda c: log[c].isna().sum()) if date_cols else None
    for col in map(str, log.columns):
        if col == key:
            continue
        if col in dates:
            built, why = _date_measures(col, main, dates[col])
        else:
            built, why = _column_measures(col, log[col], values)
        measures += built
        uses.append(ColumnUse(col, tuple(m.name for m in built), why))
    return measures, uses


def _date_measures(col: str, main: str | None, rule: str) -> tuple[list[Measure], str]:
    if col != main:
        return [], f"a second date; recency and tenure come from {main}"
    return [
        Measure("days_since_last", Kind.LATEST, "days since last transaction", col),
        Measure("days_since_first", Kind.EARLIEST, "days since first transaction", col),
    ], f"{RULE_WORDS[rule]}, for recency and tenure"


def _column_measures(col: str, s: pd.Series, values: Values | None) -> tuple[list[Measure], str]:
    """The measures of one non-date log column."""
    words = col.replace("_", " ")
    if pd.api.types.is_bool_dtype(s):
        return [Measure(f"share_{col}", Kind.SHARE, f"share of transactions {words}", col)], (
            "true/false, the share of transactions where it is true"
        )
    if not pd.api.types.is_numeric_dtype(s):
        return _text_measures(col, s, values)
    distinct = s.nunique()
    named = AMOUNT_PATTERN.search(col) or QUANTITY_PATTERN.search(col)
    few_codes = distinct <= FEW_CODES and bool((s.dropna() % 1 == 0).all()) and not named
    if is_code_name(col) or few_codes:
        if distinct < len(s) * 0.5:
            noun = plural(CODE_SUFFIX.sub("", col) or col)
            title = f"distinct {noun.replace('_', ' ')}"
            return [Measure(f"distinct_{noun}", Kind.DISTINCT, title, col)], (
                "codes, how many different ones each customer has; summing codes means nothing"
            )
        return [], "an identifier, a different value on most rows; nothing to add up"
    if AVERAGE_PATTERN.search(col):
        return [Measure(f"avg_{col}", Kind.MEAN, f"average {words}", col)], (
            "a year, rating or score, averaged per customer and never summed"
        )
    if named:
        return [
            Measure(f"total_{col}", Kind.SUM, f"total {words}", col),
            Measure(f"avg_{col}", Kind.MEAN, f"average {words} per transaction", col),
        ], "an amount or quantity, summed and averaged per customer"
    return [Measure(f"avg_{col}", Kind.MEAN, f"average {words}", col)], (
        "a number of unknown kind, averaged per customer; summed only when named as an amount "
        "or a quantity"
    )


def _text_measures(col: str, s: pd.Series, values: Values | None) -> tuple[list[Measure], str]:
    found = values(col) if values else sorted(map(str, s.dropna().astype(str).unique()))
    if not 2 <= len(found) <= STATUS_MAX_VALUES:
        kind = "one value" if len(found) < 2 else f"more than {STATUS_MAX_VALUES} values"
        return [], f"text with {kind}; nothing to count per customer"
    out = []
    rated = False
    for value in found:
        slug = re.sub(r"\W+", "_", value.strip().lower()).strip("_") or "blank"
        out.append(Measure(f"n_{slug}", Kind.COUNT_OF, f"transactions '{value}'", col, value))
        if BURN_PATTERN.search(value) and not rated:
            title = f"share of transactions '{value}'"
            out.append(Measure(f"{slug}_rate", Kind.SHARE_OF, title, col, value))
            rated = True
    return out, f"{len(found)} values, a count of transactions for each"
