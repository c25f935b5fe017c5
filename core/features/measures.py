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
from segscope.core.features.names import BURN_PATTERN, CODE_SUFFIX
from segscope.core.features.values import (
    codes,
    is_flag,
    is_row_identifier,
    is_text,
    summed,
    yes_value,
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
    ATTRIBUTE = "attribute"  # the customer's own value of `column`, the same on all their rows

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
    def computed(self) -> bool:
        """A figure computed from the rows (a number by construction); an attribute is the
        customer's own value, whose role its values decide, as for a customers table's column."""
        return self is not Kind.ATTRIBUTE

    @property
    def share(self) -> bool:
        """A share of rows (0..1): differences are said in percentage points."""
        return self in (Kind.SHARE, Kind.SHARE_OF)


STATUS_MAX_VALUES = 6  # a text column with 2..this many values gives a count per value
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
    log: pd.DataFrame,
    key: str,
    dates: Mapping[str, str],
    values: Values | None = None,
    event: str = "transaction",
) -> tuple[list[Measure], list[ColumnUse]]:
    """What each log column gives per customer, and why, from what its values are: the rows
    themselves (how many), recency and tenure from the main date, the customer's own value of
    a column constant on their rows, a share for a flag, a count per value of a status, how
    many different labels, totals of amounts and counts, averages of levels. `event` names a
    row ("transaction", or "record" where the log is not one of purchases)."""
    rows = "transactions" if event == "transaction" else "records"
    measures = [Measure(rows, Kind.ROWS, rows)]
    uses = []
    date_cols = [c for c in dates if c in log.columns and log[c].notna().any()]
    main = min(date_cols, key=lambda c: log[c].isna().sum()) if date_cols else None
    groups = log.groupby(key, sort=False)
    repeated = groups.size() > 1
    for col in map(str, log.columns):
        if col == key:
            continue
        if col in dates:
            built, why = _date_measures(col, main, dates[col], event)
        else:
            constant = _constant_within(groups[col], repeated)
            built, why = _column_measures(col, log[col], values, constant, rows)
        measures += built
        uses.append(ColumnUse(col, tuple(m.name for m in built), why))
    return measures, uses


MOST_ROWS = 0.5  # labels different on more of the rows are identifiers or free text
MOSTLY_EMPTY = 0.5  # a log column empty on more of its rows gives nothing (as in a table)
CONSTANT_WITHIN = 0.99  # a column the same on all rows of this share of customers is theirs
MIN_REPEATED = 5  # ... judged on at least this many customers with several rows


def _constant_within(column: pd.core.groupby.SeriesGroupBy, repeated: pd.Series) -> bool:
    """Whether a column holds the same value on all of a customer's rows (customers with
    several rows, in the peek): a trait of the customer, not of each row."""
    if int(repeated.sum()) < MIN_REPEATED:
        return False
    kinds = column.nunique(dropna=False)[repeated]
    return bool((kinds <= 1).mean() >= CONSTANT_WITHIN)


def _date_measures(col: str, main: str | None, rule: str, event: str) -> tuple[list[Measure], str]:
    if col != main:
        return [], f"a second date; recency and tenure come from {main}"
    return [
        Measure("days_since_last", Kind.LATEST, f"days since the last {event}", col),
        Measure("days_since_first", Kind.EARLIEST, f"days since the first {event}", col),
    ], f"{RULE_WORDS[rule]}, for recency and tenure"


def _column_measures(
    col: str, s: pd.Series, values: Values | None, constant: bool, rows: str
) -> tuple[list[Measure], str]:
    """The measures of one non-date log column, from what its values are."""
    words = col.replace("_", " ")
    distinct = int(s.nunique())
    if distinct < 2:
        return [], "one value on every row; nothing to tell customers apart"
    if s.isna().mean() > MOSTLY_EMPTY:
        return [], f"empty on {s.isna().mean():.0%} of rows: too few values to compare"
    if is_row_identifier(col, s):
        return [], "an identifier of each row (a different value on nearly every row)"
    if constant:
        return [Measure(col, Kind.ATTRIBUTE, words, col)], (
            "the same on all of a customer's rows: the customer's own value"
        )
    if is_flag(s):
        return [Measure(f"share_{col}", Kind.SHARE, f"share of {rows} with {words}", col)], (
            "a flag (0/1 or true/false): the share of a customer's rows where it is set"
        )
    if is_text(s) or codes(col, s):
        if s.nunique() > MOST_ROWS * s.notna().sum():
            return [], "identifiers or free text (a different value on most rows): nothing to count"
        return _label_measures(col, s, values, rows)
    total, why = summed(col, s)
    mean = Measure(f"avg_{col}", Kind.MEAN, f"average {words}", col)
    if not total:
        return [mean], why
    per = Measure(f"avg_{col}", Kind.MEAN, f"average {words} per {rows.removesuffix('s')}", col)
    return [Measure(f"total_{col}", Kind.SUM, f"total {words}", col), per], why


def _label_measures(
    col: str, s: pd.Series, values: Values | None, rows: str
) -> tuple[list[Measure], str]:
    """Labels (text, or codes written as numbers): a share of the set value of a yes/no, a
    count of rows per value of a status with a few values, else how many different ones."""
    found = values(col) if values else sorted(map(str, s.dropna().astype(str).unique()))
    words = col.replace("_", " ")
    if len(found) > STATUS_MAX_VALUES:
        noun = plural(CODE_SUFFIX.sub("", col) or col)
        title = f"distinct {noun.replace('_', ' ')}"
        return [Measure(f"distinct_{noun}", Kind.DISTINCT, title, col)], (
            f"labels with more than {STATUS_MAX_VALUES} values: how many different ones each "
            "customer has"
        )
    yes = yes_value(found)
    if yes is not None:
        title = f"share of {rows} with {words} {yes}"
        return [Measure(f"share_{col}", Kind.SHARE_OF, title, col, yes)], (
            "yes or no: the share of a customer's rows where it is yes"
        )
    out = []
    rated = False
    for value in found:
        slug = re.sub(r"\W+", "_", value.strip().lower()).strip("_") or "blank"
        out.append(Measure(f"n_{slug}", Kind.COUNT_OF, f"{rows} '{value}'", col, value))
        if BURN_PATTERN.search(value) and not rated:
            title = f"share of {rows} '{value}'"
            out.append(Measure(f"{slug}_rate", Kind.SHARE_OF, title, col, value))
            rated = True
    return out, f"{len(found)} values, a count of {rows} for each"
