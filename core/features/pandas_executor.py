"""The feature plan carried out with pandas, on whole tables in memory (a file's tables)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from segscope.core.features.dates import parse_dates
from segscope.core.features.executing import (
    VALUES_WANTED,
    check_unique,
    combined,
    distinct_values,
    lookup_tables,
    reference_date,
)
from segscope.core.features.frame import CustomerFrame
from segscope.core.features.measures import Kind, Measure
from segscope.core.features.plan import FeaturePlan, LookupJoin, make_plan
from segscope.core.features.tables import pick_tables
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import Tables


def build_customer_frame(tables: Tables, choices: DataChoices | None = None) -> CustomerFrame:
    """Plan from the tables and carry the plan out on them."""
    choices = choices or DataChoices()
    chosen = pick_tables(tables, choices)
    lookups = lookup_tables(
        tables,
        (chosen.customers, chosen.transactions),
        lambda n: len(tables[n]),
        tables.__getitem__,
    )
    log = tables.get(chosen.transactions or "")

    def values(column: str) -> list[str]:
        def from_log(c: str) -> np.ndarray:
            assert log is not None
            return log[c].dropna().astype(str).unique()[:VALUES_WANTED]

        return distinct_values(column, [] if log is None else log.columns, lookups, from_log)

    plan = make_plan(tables, choices, lookups=lookups, values=values)
    return execute_plan(tables, plan)


def execute_plan(tables: Tables, plan: FeaturePlan) -> CustomerFrame:
    """Carry `plan` out on whole tables with pandas."""
    base = tables[plan.customers] if plan.customers else None
    log = tables[plan.transactions] if plan.transactions else None
    key = plan.key
    unmatched: dict[str, int] = {}
    if base is not None:
        check_unique(base, key, plan.customers, "sheet")
        base = _join(base, plan.customer_joins, tables, unmatched)
        base = with_dates(base, plan.date_columns(plan.customers or ""))
    log_unmatched: dict[str, int] = {}
    log_rows = 0
    if log is not None:
        log = _join(log, plan.log_joins, tables, log_unmatched)
        log = with_dates(log, plan.date_columns(plan.transactions or ""))
        log = log[log[key].notna()]
        log_rows = len(log)
    ref = reference_date([d for d in (base, log) if d is not None])
    behaviour = aggregate(log, key, plan, ref) if log is not None and key is not None else None
    return combined(base, behaviour, plan, ref, log_rows, unmatched, log_unmatched)


def _join(
    df: pd.DataFrame, joins: tuple[LookupJoin, ...], tables: Tables, unmatched: dict[str, int]
) -> pd.DataFrame:
    """Left-join the planned lookups; count the codes each did not find."""
    for j in joins:
        lk = tables[j.lookup]
        right = lk[[j.code, *j.extra]]
        if df[j.code].dtype != right[j.code].dtype:
            right = right.astype({j.code: df[j.code].dtype}, errors="ignore")
        df = df.merge(right, on=j.code, how="left", validate="many_to_one")
        first = j.extra[0]
        unmatched[j.lookup] = int(df[first].isna().sum() - lk[first].isna().sum())
    return df


def with_dates(df: pd.DataFrame, rules: dict[str, str]) -> pd.DataFrame:
    """A copy of `df` with its date columns parsed by their rule (the input is never changed)."""
    parsed = {c: parse_dates(df[c], r) for c, r in rules.items() if c in df and r != "datetime"}
    return df.assign(**parsed) if parsed else df


Expression = Callable[[pd.DataFrame, str, Measure, pd.Timestamp | None], pd.Series]


def _number(values: pd.Series) -> pd.Series:
    """A column as finite float64 numbers (text that is not a number, and inf, are missing)."""
    number = pd.to_numeric(values, errors="coerce").astype("float64")
    return number.replace([np.inf, -np.inf], np.nan)


def _days_back(log: pd.DataFrame, key: str, m: Measure, ref: pd.Timestamp | None) -> pd.Series:
    by = log[m.column].groupby(log[key])
    when = by.max() if m.kind is Kind.LATEST else by.min()
    assert ref is not None
    return (ref - when).dt.days.astype(float)


def _hits(log: pd.DataFrame, key: str, m: Measure) -> pd.core.groupby.SeriesGroupBy:
    return (log[m.column].astype(str) == m.value).groupby(log[key])


EXPRESSIONS: dict[Kind, Expression] = {
    Kind.ROWS: lambda log, key, m, ref: log.groupby(key).size(),
    Kind.LATEST: _days_back,
    Kind.EARLIEST: _days_back,
    Kind.COUNT_OF: lambda log, key, m, ref: _hits(log, key, m).sum(),
    Kind.SHARE_OF: lambda log, key, m, ref: _hits(log, key, m).mean(),
    Kind.SHARE: lambda log, key, m, ref: _number(log[m.column]).groupby(log[key]).mean(),
    Kind.DISTINCT: lambda log, key, m, ref: log.groupby(key)[m.column].nunique(),
    Kind.SUM: lambda log, key, m, ref: _number(log[m.column]).groupby(log[key]).sum(min_count=1),
    Kind.MEAN: lambda log, key, m, ref: _number(log[m.column]).groupby(log[key]).mean(),
    Kind.ATTRIBUTE: lambda log, key, m, ref: log[m.column].groupby(log[key]).min(),
}


def aggregate(
    log: pd.DataFrame, key: str, plan: FeaturePlan, ref: pd.Timestamp | None
) -> pd.DataFrame:
    """Behaviour per customer (indexed by key), as the plan's measures say."""
    out = pd.DataFrame(index=log.groupby(key, sort=True).size().index)
    for m in plan.measures:
        if m.kind.dated and ref is None:
            continue
        out[m.name] = EXPRESSIONS[m.kind](log, key, m, ref)
    return out
