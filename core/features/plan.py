"""The feature plan: what to build from the tables, decided once, as a value.

Which table holds the customers and which the transaction log, the key, how each column holds
its dates, which lookup tables to join, and what each log column gives (features.measures). It
is decided from a peek at each table (the first PEEK_ROWS rows); every executor carries the same
plan out on the whole tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from segscope.core.errors import DataError
from segscope.core.features.dates import date_rules, parse_dates
from segscope.core.features.measures import ColumnUse, Measure, Values, plan_measures
from segscope.core.features.names import (
    AMOUNT_PATTERN,
    ENTITY_NAME,
    JOIN_PATTERN,
    KEY_PATTERN,
    PURCHASE_PATTERN,
)
from segscope.core.features.tables import (
    PEEK_ROWS,
    all_different,
    find_key,
    pick_tables,
    repeating_like_a_key,
)
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import Tables
from segscope.core.text import quoted


@dataclass(frozen=True)
class LookupJoin:
    """One lookup table left-joined on its unique code column, and the columns it adds."""

    lookup: str
    code: str
    extra: tuple[str, ...]

    @property
    def named(self) -> str | None:
        """The first added column that is not itself a code (the name the code stands for)."""
        return next((c for c in self.extra if not c.endswith("_id")), None)


@dataclass(frozen=True)
class FeaturePlan:
    """What to build, decided once; executors carry it out."""

    customers: str | None
    transactions: str | None
    key: str | None
    dates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # table -> col -> rule
    customer_joins: tuple[LookupJoin, ...] = ()
    log_joins: tuple[LookupJoin, ...] = ()
    measures: tuple[Measure, ...] = ()
    log_columns: tuple[ColumnUse, ...] = ()
    join_date: str | None = None  # the customers' join date (for customers without transactions)
    key_why: str = ""  # the evidence for the key, when segscope found it
    like_keys: tuple[str, ...] = ()  # columns that repeat like a key, in a table read as customers

    @property
    def coded(self) -> dict[str, str]:
        """Code column -> the name column its lookup adds (the code is then left out)."""
        return {j.code: j.named for j in self.customer_joins if j.named and j.code != self.key}

    def date_columns(self, table: str) -> dict[str, str]:
        """The date columns of `table` (lookup columns joined into it included) and their rule."""
        joins = self.customer_joins if table == self.customers else self.log_joins
        out = dict(self.dates.get(table, {}))
        for j in joins:
            out.update({c: r for c, r in self.dates.get(j.lookup, {}).items() if c in j.extra})
        return out


def make_plan(
    peeks: Tables,
    choices: DataChoices,
    *,
    lookups: Tables | None = None,
    values: Values | None = None,
    noun: str = "sheet",
) -> FeaturePlan:
    """The plan for these tables (their first rows suffice), as the user chose.

    `lookups` are the tables small enough to join (default: every other table, whole);
    `values` gives the distinct values of a log column over the whole log.
    """
    customers, transactions, key, why = pick_tables(peeks, choices, noun)
    base = peeks[customers] if customers else None
    log = peeks[transactions] if transactions else None
    if key is None:
        key = (
            find_key(base if base is not None else log)
            if (base is not None or log is not None)
            else None
        )
    if lookups is None:
        lookups = {n: t for n, t in peeks.items() if n not in (customers, transactions)}
    _check_key(key, base, customers, log, transactions, noun)
    dated = {**lookups, **_present(base, customers), **_present(log, transactions)}
    dates = {n: date_rules(t, key, n == transactions) for n, t in dated.items()}
    # a table of rows keyed by nothing that names an entity (no key, or a row's own number)
    named = key is not None and bool(KEY_PATTERN.match(key) or ENTITY_NAME.search(key))
    like: tuple[str, ...] = ()
    if base is not None and log is None and not named:
        like = tuple(c for c in repeating_like_a_key(base.head(PEEK_ROWS)) if c != key)
    plan = FeaturePlan(customers, transactions, key, dates, key_why=why, like_keys=like)
    if base is not None:
        joins = plan_lookup_joins(list(map(str, base.columns)), lookups)
        join_date = plan_join_date(plan, customers or "", joins)
        plan = _replace(plan, customer_joins=joins, join_date=join_date)
    if log is not None and key is not None:
        joins = plan_lookup_joins(list(map(str, log.columns)), lookups)
        plan = _replace(plan, log_joins=joins)
        log_dates = plan.date_columns(transactions or "")
        joined = join_peek(log, joins, lookups, log_dates)
        event = "transaction" if purchases(transactions or "", joined) else "record"
        measures, uses = plan_measures(joined, key, log_dates, values, event)
        plan = _replace(plan, measures=tuple(measures), log_columns=tuple(uses))
    return plan


def purchases(table: str, log: pd.DataFrame) -> bool:
    """Whether a log records purchases (its rows are transactions): named so, or holding an
    amount of money (a hint either way; the words say "records" otherwise)."""
    amounts = any(AMOUNT_PATTERN.search(str(c)) for c in log.columns)
    return bool(PURCHASE_PATTERN.search(table)) or amounts


def _replace(plan: FeaturePlan, **changes: object) -> FeaturePlan:
    from dataclasses import replace

    return replace(plan, **changes)  # type: ignore[arg-type]


def _present(df: pd.DataFrame | None, name: str | None) -> Tables:
    return {name: df} if df is not None and name is not None else {}


def _check_key(
    key: str | None,
    base: pd.DataFrame | None,
    customers: str | None,
    log: pd.DataFrame | None,
    transactions: str | None,
    noun: str,
) -> None:
    if base is not None and key is not None and key not in base.columns:
        raise DataError(f"{noun} {quoted(customers)} has no column {quoted(key)}.")
    if log is not None and (key is None or key not in log.columns):
        raise DataError(
            f"{noun} {quoted(transactions)} has no customer key column"
            f"{'' if key is None else ' ' + quoted(key)}. Choose the key (--key)."
        )


def plan_lookup_joins(columns: list[str], lookups: Tables) -> tuple[LookupJoin, ...]:
    """Every lookup table whose unique *_id key appears in `columns`, until nothing changes
    (a joined table's columns can bring the code of another)."""
    have = list(columns)
    plan: list[LookupJoin] = []
    changed = True
    while changed:
        changed = False
        for lname, lk in sorted(lookups.items()):  # by name: the same whatever lists them
            if any(j.lookup == lname for j in plan):
                continue
            code = next(
                (
                    str(c)
                    for c in lk.columns
                    if str(c).endswith("_id") and str(c) in have and all_different(lk[c])
                ),
                None,
            )
            extra = tuple(str(c) for c in lk.columns if str(c) not in have)
            if code is None or not extra:
                continue
            plan.append(LookupJoin(lname, code, extra))
            have += extra
            changed = True
    return tuple(plan)


def plan_join_date(plan: FeaturePlan, customers: str, joins: tuple[LookupJoin, ...]) -> str | None:
    """The customers' own join date (signup, created, first ...), if a date column says so."""
    dates = dict(plan.dates.get(customers, {}))
    for j in joins:
        dates.update({c: r for c, r in plan.dates.get(j.lookup, {}).items() if c in j.extra})
    return next((c for c in dates if JOIN_PATTERN.search(c)), None)


def join_peek(
    log: pd.DataFrame, joins: tuple[LookupJoin, ...], lookups: Tables, dates: Mapping[str, str]
) -> pd.DataFrame:
    """The log's first rows with its lookups joined and its dates parsed (to plan measures)."""
    out = log.head(PEEK_ROWS)
    for j in joins:
        right = lookups[j.lookup][[j.code, *j.extra]]
        if out[j.code].dtype != right[j.code].dtype:
            right = right.astype({j.code: out[j.code].dtype}, errors="ignore")
        out = out.merge(right, on=j.code, how="left")
    return out.assign(**{c: parse_dates(out[c], r) for c, r in dates.items() if c in out})
