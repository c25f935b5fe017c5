"""The feature plan: what to build from the tables, decided once, as a value.

Which table holds the customers and which the transaction log, the key, how each column holds
its dates, which lookup tables to join, which measure to build from each log column and why.
It is decided from a peek at each table (the first PEEK_ROWS rows); every executor (pandas here
in core.features, Spark, SQL) carries the same plan out and reports its `Findings`; one
function, `decision_lines`, turns plan and findings into the sentences the user reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from segscope.core.dates import RULE_WORDS, date_rule, parse_dates
from segscope.core.errors import DataError
from segscope.core.readers import Tables
from segscope.core.schema import KEY_PATTERN, is_code_name
from segscope.core.settings import DataChoices
from segscope.core.text import names, quoted

PEEK_ROWS = 2_000  # rows of each table looked at to plan (the executors run on all of them)
STATUS_MAX_VALUES = 6  # a text column with 2..this many values gives a count per value
FEW_CODES = 20  # a log column of at most this many whole numbers, not an amount, holds codes
CODE_SUFFIX = re.compile(r"([ _-]?(id|code|cd|no|nr|key)|(?<=[a-z])(Id|ID|Code|No|Nr|Key))$", re.I)
AMOUNT_PATTERN = re.compile(r"amount|value|price|spend|revenue|sales|total|paid|cost", re.I)
QUANTITY_PATTERN = re.compile(r"qty|quantit|items|units|number_of|count|volume", re.I)
AVERAGE_PATTERN = re.compile(r"year|rating|score|stars|grade|rank|age$|percent|pct|ratio", re.I)
BURN_PATTERN = re.compile(r"burn|redeem|used|claimed|converted", re.I)
JOIN_PATTERN = re.compile(r"join|signup|sign_up|regist|created|first|since", re.I)
MEANING_NAMES = {  # behaviour meaning of a flat table's column, from its name
    "recency": re.compile(r"recency|days_since_last|since_last|last_(visit|purchase|order)", re.I),
    "frequency": re.compile(r"frequency|visits|orders|purchases|transactions", re.I),
    "monetary": re.compile(r"monetary|spend|spent|revenue|sales", re.I),
    "burn_rate": re.compile(r"(burn|redeem|redemption|coupon).*rate", re.I),
}

Values = Callable[[str], list[str]]  # a log column -> its distinct values (up to 7)


class SheetGuess(NamedTuple):
    """Which table holds customers and which holds transactions."""

    customers: str | None
    transactions: str | None
    key: str | None


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
class Measure:
    """One behaviour column built per customer from the transaction log.

    kind: 'count' (rows), 'last' / 'first' (days from the reference date back to the latest /
    earliest `column`), 'status' (rows whose `column` is `value`), 'status_rate' (that count
    over all rows), 'distinct' (distinct values of `column`), 'sum' or 'mean' of `column`.
    """

    name: str
    kind: str
    title: str
    column: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ColumnUse:
    """What one column of the log gave, and why."""

    column: str
    built: tuple[str, ...]
    why: str


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


@dataclass(frozen=True)
class Findings:
    """What an executor found while carrying out the plan."""

    customer_rows: int = 0  # rows of the customers table, or customers built from the log
    log_rows: int = 0  # rows of the log with a key
    unmatched: Mapping[str, int] = field(default_factory=dict)  # lookup -> codes not found
    log_unmatched: Mapping[str, int] = field(default_factory=dict)
    reference_date: pd.Timestamp | None = None
    without_transactions: int = 0
    orphans: int = 0  # keys in the log that are not in the customers table


# --- choosing the tables ---------------------------------------------------------------------


def find_key(df: pd.DataFrame) -> str | None:
    """The customer-key column by name (customer_id, client_no, ...), if any."""
    return next((c for c in map(str, df.columns) if KEY_PATTERN.match(c.strip())), None)


def guess_sheets(tables: Tables) -> SheetGuess:
    """Guess the customers table, the transaction log and the key they share."""
    customers: list[tuple[int, str, str]] = []
    logs: list[tuple[int, str, str]] = []
    for name, df in tables.items():
        key = find_key(df)
        if key is None:
            continue
        named = 0 if re.search(r"customer|client|member|user", name, re.I) else 1
        if all_different(df[key]):
            customers.append((named, name, key))
        elif any(date_rule(str(c), df[c]) for c in df.columns if c != key):
            tx_named = re.search(r"transaction|order|purchase|sale|event|log|rating", name, re.I)
            logs.append((0 if tx_named else 1, name, key))
    cust = min(customers)[1:] if customers else None
    log = min(logs)[1:] if logs else None
    if cust and log and cust[1] != log[1]:
        log = next(((n, k) for _, n, k in sorted(logs) if k == cust[1]), None)
    if cust is None and log is None:
        if len(tables) == 1:
            return SheetGuess(next(iter(tables)), None, None)
        raise DataError(
            "no table has a customer key column (customer_id, client_id, ...). "
            "Choose the customers sheet and its key."
        )
    found = cust or log
    assert found is not None
    return SheetGuess(cust[0] if cust else None, log[0] if log else None, found[1])


def all_different(values: pd.Series) -> bool:
    """Whether no value repeats: at once for numbers in increasing order (keys usually are),
    else by hashing every value."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf":
        v = values.to_numpy()
        if bool((v[1:] > v[:-1]).all()):  # NaN compares False: hashed below
            return True
    return bool(values.is_unique)


def pick_tables(tables: Tables, choices: DataChoices, noun: str = "sheet") -> SheetGuess:
    """The customers and transactions tables (the user's, else guessed) and the key so far."""
    customers, transactions, key = choices.customers, choices.transactions, choices.key
    if customers is None and transactions is None:
        guess = guess_sheets(tables)
        customers, transactions, key = guess.customers, guess.transactions, key or guess.key
    for name in (customers, transactions):
        if name is not None and name not in tables:
            raise DataError(f"no {noun} {quoted(name)}. {noun.title()}s are: {names(tables, 8)}.")
    return SheetGuess(customers, transactions if choices.use_transactions else None, key)


# --- the plan --------------------------------------------------------------------------------


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
    customers, transactions, key = pick_tables(peeks, choices, noun)
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
    dates = {n: _date_rules(t, key) for n, t in dated.items()}
    plan = FeaturePlan(customers, transactions, key, dates)
    if base is not None:
        joins = plan_lookup_joins(list(map(str, base.columns)), lookups)
        join_date = plan_join_date(plan, customers or "", joins)
        plan = _replace(plan, customer_joins=joins, join_date=join_date)
    if log is not None and key is not None:
        joins = plan_lookup_joins(list(map(str, log.columns)), lookups)
        plan = _replace(plan, log_joins=joins)
        joined = join_peek(log, joins, lookups, plan.date_columns(transactions or ""))
        measures, uses = plan_measures(joined, key, plan.date_columns(transactions or ""), values)
        plan = _replace(plan, measures=tuple(measures), log_columns=tuple(uses))
    return plan


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


def _date_rules(df: pd.DataFrame, key: str | None) -> dict[str, str]:
    out = {}
    for c in map(str, df.columns):
        if c != key and (rule := date_rule(c, df[c])):
            out[c] = rule
    return out


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


def plural(noun: str) -> str:
    """English plural of a simple noun (branch -> branches, city -> cities)."""
    if re.search(r"(s|sh|ch|x|z)$", noun):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + "s"


def plan_measures(
    log: pd.DataFrame, key: str, dates: Mapping[str, str], values: Values | None = None
) -> tuple[list[Measure], list[ColumnUse]]:
    """What to build from each log column, and why: the log's size, recency and tenure from its
    main date, a count per status value, distinct codes, and money."""
    measures = [Measure("transactions", "count", "transactions")]
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
        Measure("days_since_last", "last", "days since last transaction", col),
        Measure("days_since_first", "first", "days since first transaction", col),
    ], f"{RULE_WORDS[rule]}, for recency and tenure"


def _column_measures(col: str, s: pd.Series, values: Values | None) -> tuple[list[Measure], str]:
    """The measures of one non-date log column."""
    words = col.replace("_", " ")
    if pd.api.types.is_bool_dtype(s):
        return [Measure(f"share_{col}", "mean", f"share of transactions {words}", col)], (
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
            return [Measure(f"distinct_{noun}", "distinct", title, col)], (
                "codes, how many different ones each customer has; summing codes means nothing"
            )
        return [], "an identifier, a different value on most rows; nothing to add up"
    if AVERAGE_PATTERN.search(col):
        return [Measure(f"avg_{col}", "mean", f"average {words}", col)], (
            "a year, rating or score, averaged per customer and never summed"
        )
    if named:
        return [
            Measure(f"total_{col}", "sum", f"total {words}", col),
            Measure(f"avg_{col}", "mean", f"average {words} per transaction", col),
        ], "an amount or quantity, summed and averaged per customer"
    return [Measure(f"avg_{col}", "mean", f"average {words}", col)], (
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
        out.append(Measure(f"n_{slug}", "status", f"transactions '{value}'", col, value))
        if BURN_PATTERN.search(value) and not rated:
            title = f"share of transactions '{value}'"
            out.append(Measure(f"{slug}_rate", "status_rate", title, col, value))
            rated = True
    return out, f"{len(found)} values, a count of transactions for each"


# --- what the plan means -----------------------------------------------------------------------


def column_meanings(
    plan: FeaturePlan, columns: list[str], numeric: list[str], dates: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Human titles of the customer table's columns, and their behaviour meanings
    (recency, frequency, monetary, burn_rate, tenure -> column)."""
    titles = {m.name: m.title for m in plan.measures}
    meanings: dict[str, str] = {}
    for m in plan.measures:
        if m.kind == "count":
            meanings["frequency"] = m.name
        elif m.kind == "last":
            meanings["recency"] = m.name
        elif m.kind == "status_rate":
            meanings.setdefault("burn_rate", m.name)
        elif m.kind == "sum" and m.column and AMOUNT_PATTERN.search(m.column):
            meanings.setdefault("monetary", m.name)
    for col in dates:
        titles.setdefault(col, f"days since {col.replace('_', ' ')}")
        if JOIN_PATTERN.search(col):
            meanings.setdefault("tenure", col)
    for meaning, pattern in MEANING_NAMES.items():
        if meaning not in meanings:
            found = next((c for c in columns if pattern.search(c)), None)
            if found is not None and found != plan.key and found in numeric:
                meanings[meaning] = found
    return titles, meanings


def decision_lines(plan: FeaturePlan, findings: Findings) -> list[str]:
    """What was done to get one row per customer, in sentences."""
    lines = []
    key = f"key {quoted(plan.key)}" if plan.key else "no key column (customers are numbered)"
    if plan.customers is not None:
        lines.append(
            f"customers: {findings.customer_rows:,} rows from {quoted(plan.customers)}, {key}"
        )
    elif plan.transactions is not None:
        lines.append(
            f"customers: {findings.customer_rows:,} built from the log {quoted(plan.transactions)}"
        )
    for joins, into, gaps in (
        (plan.customer_joins, plan.customers, findings.unmatched),
        (plan.log_joins, plan.transactions, findings.log_unmatched),
    ):
        for j in joins:
            missing = gaps.get(j.lookup, 0)
            note = f" ({missing:,} codes not found)" if missing > 0 else ""
            lines.append(
                f"joined {quoted(j.lookup)} into {quoted(into)} on {j.code}: added "
                f"{', '.join(j.extra)}{note}"
            )
    if plan.transactions is not None and plan.measures:
        made = ", ".join(m.name for m in plan.measures)
        lines.append(
            f"aggregated {findings.log_rows:,} rows of {quoted(plan.transactions)} per "
            f"{plan.key} into: {made}"
        )
        lines += [
            f"log column {quoted(u.column)} gave {', '.join(u.built) or 'nothing'}: {u.why}"
            for u in plan.log_columns
        ]
    if findings.without_transactions:
        how = f"taken from {plan.join_date}" if plan.join_date else "left empty (imputed)"
        lines.append(
            f"{findings.without_transactions:,} customers have no transactions: counts set to 0, "
            f"days since last/first transaction {how}"
        )
    if findings.orphans:
        lines.append(
            f"{findings.orphans:,} customer keys in the log are not in the customers table"
        )
    if findings.reference_date is not None:
        lines.append(
            f"dates are measured in days before {findings.reference_date.date()}, the latest "
            "date in the data"
        )
    return lines
