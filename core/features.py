"""One row per customer with pandas: the feature plan (core.plan) carried out on whole tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from segscope.core.dates import parse_dates
from segscope.core.errors import DataError
from segscope.core.plan import (
    FeaturePlan,
    Findings,
    LookupJoin,
    Values,
    all_different,
    column_meanings,
    decision_lines,
    make_plan,
)
from segscope.core.readers import Tables
from segscope.core.settings import DataChoices
from segscope.core.text import quoted


@dataclass
class CustomerFrame:
    """One row per customer, the plan that made it and what carrying it out found."""

    data: pd.DataFrame  # every customer (an engine working elsewhere: its sample of them)
    plan: FeaturePlan
    findings: Findings
    titles: dict[str, str] = field(default_factory=dict)  # column -> what it holds, in words
    meanings: dict[str, str] = field(default_factory=dict)  # recency, frequency, ... -> column

    @property
    def key(self) -> str | None:
        return self.plan.key

    @property
    def reference_date(self) -> pd.Timestamp | None:
        return self.findings.reference_date

    @property
    def decisions(self) -> list[str]:
        return decision_lines(self.plan, self.findings)

    def title(self, column: str) -> str:
        """What a column holds, in words."""
        return self.titles.get(column, column.replace("_", " "))


def described(data: pd.DataFrame, plan: FeaturePlan, findings: Findings) -> CustomerFrame:
    """A CustomerFrame of `data` with its columns' titles and meanings."""
    dates = [str(c) for c in data.columns if pd.api.types.is_datetime64_any_dtype(data[c])]
    numeric = [str(c) for c in data.columns if pd.api.types.is_numeric_dtype(data[c])]
    titles, meanings = column_meanings(plan, list(map(str, data.columns)), numeric, dates)
    return CustomerFrame(data.reset_index(drop=True), plan, findings, titles, meanings)


def build_customer_frame(tables: Tables, choices: DataChoices | None = None) -> CustomerFrame:
    """Plan from the tables and carry the plan out on them."""
    choices = choices or DataChoices()
    return execute_plan(tables, make_plan(tables, choices, values=_values(tables)))


def _values(tables: Tables) -> Values:
    """A log column's distinct values over the whole table it comes from."""

    def values(column: str) -> list[str]:
        for table in tables.values():
            if column in table.columns:
                return sorted(map(str, table[column].dropna().astype(str).unique()[:7]))
        return []

    return values


def execute_plan(tables: Tables, plan: FeaturePlan) -> CustomerFrame:
    """Carry `plan` out on whole tables with pandas."""
    base = tables[plan.customers] if plan.customers else None
    log = tables[plan.transactions] if plan.transactions else None
    key = plan.key
    unmatched: dict[str, int] = {}
    if base is not None:
        check_unique(base, key, plan.customers)
        base = _join(base, plan.customer_joins, tables, unmatched)
        base = with_dates(base, plan.date_columns(plan.customers or ""))
    log_unmatched: dict[str, int] = {}
    log_rows = 0
    if log is not None:
        log = _join(log, plan.log_joins, tables, log_unmatched)
        log = with_dates(log, plan.date_columns(plan.transactions or ""))
        log = log[log[key].notna()]
        log_rows = len(log)
    ref = _reference_date([d for d in (base, log) if d is not None])
    behaviour = aggregate(log, key, plan, ref) if log is not None and key is not None else None
    return combined(base, behaviour, plan, ref, log_rows, unmatched, log_unmatched)


def combined(
    base: pd.DataFrame | None,
    behaviour: pd.DataFrame | None,
    plan: FeaturePlan,
    ref: pd.Timestamp | None,
    log_rows: int,
    unmatched: dict[str, int],
    log_unmatched: dict[str, int],
) -> CustomerFrame:
    """The last step of every executor: the customers and the log's measures per customer as
    one frame, described with what was found on the way."""
    without = orphans = 0
    if behaviour is not None and plan.key is not None:
        if base is None:
            base = behaviour.reset_index()
        else:
            base, without, orphans = attach(base, behaviour, plan.key, plan, ref)
    if base is None:
        raise DataError("nothing to segment: choose the customers table.")
    findings = Findings(
        customer_rows=len(base),
        log_rows=log_rows,
        unmatched=unmatched,
        log_unmatched=log_unmatched,
        reference_date=ref,
        without_transactions=without,
        orphans=orphans,
    )
    return described(base, plan, findings)


def check_unique(base: pd.DataFrame, key: str | None, sheet: str | None) -> None:
    if key is not None and not all_different(base[key]):
        dup = int(base[key].duplicated().sum())
        raise DataError(
            f"{quoted(key)} repeats on {dup:,} rows of {quoted(sheet)}: a customer table needs one "
            "row per customer. Choose it as the transactions sheet instead."
        )


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


def _reference_date(frames: list[pd.DataFrame]) -> pd.Timestamp | None:
    maxima = [
        df[c].max()
        for df in frames
        for c in df.columns
        if pd.api.types.is_datetime64_any_dtype(df[c]) and df[c].notna().any()
    ]
    return pd.Timestamp(max(maxima)) if maxima else None


def aggregate(
    log: pd.DataFrame, key: str, plan: FeaturePlan, ref: pd.Timestamp | None
) -> pd.DataFrame:
    """Behaviour per customer (indexed by key), as the plan's measures say."""
    g = log.groupby(key, sort=True)
    out = pd.DataFrame(index=g.size().index)
    for m in plan.measures:
        col = log[m.column] if m.column is not None else None
        if m.kind == "count":
            out[m.name] = g.size()
        elif m.kind in ("last", "first"):
            assert col is not None
            if ref is None:
                continue
            when = col.groupby(log[key]).max() if m.kind == "last" else col.groupby(log[key]).min()
            out[m.name] = (ref - when).dt.days.astype(float)
        elif m.kind in ("status", "status_rate"):
            assert col is not None
            hits = (col.astype(str) == m.value).groupby(log[key])
            out[m.name] = hits.sum() if m.kind == "status" else hits.mean()
        elif m.kind == "distinct":
            out[m.name] = g[m.column].nunique()
        else:
            assert col is not None
            number = pd.to_numeric(col, errors="coerce").astype("float64")
            clean = number.replace([np.inf, -np.inf], np.nan).groupby(log[key])
            out[m.name] = clean.sum(min_count=1) if m.kind == "sum" else clean.mean()
    return out


def attach(
    base: pd.DataFrame,
    behaviour: pd.DataFrame,
    key: str,
    plan: FeaturePlan,
    ref: pd.Timestamp | None,
) -> tuple[pd.DataFrame, int, int]:
    """Left-join behaviour onto customers; customers with no transactions get zeros.

    Their days since last/first transaction become days since they joined, where a join
    date is known (zero would read as "bought today"). Returns the table, how many customers
    have no transactions, and how many log keys are not customers.
    """
    if base[key].dtype != behaviour.index.dtype:
        behaviour.index = behaviour.index.astype(base[key].dtype, errors="ignore")
    merged = base.merge(behaviour, left_on=key, right_index=True, how="left")
    first = next(iter(behaviour.columns))
    none = int(merged[first].isna().sum())
    orphans = int((~behaviour.index.isin(base[key])).sum())
    joined = plan.join_date
    since_join = (ref - base[joined]).dt.days if joined and ref is not None else None
    for m in plan.measures:
        if m.name not in merged:
            continue
        if m.kind in ("last", "first"):
            if since_join is not None:
                merged[m.name] = merged[m.name].fillna(since_join.astype(float))
        elif m.kind in ("count", "status", "distinct", "sum"):
            merged[m.name] = merged[m.name].fillna(0)
    return merged, none, orphans
