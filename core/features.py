"""From loaded tables to one row per customer: lookups joined, transaction logs aggregated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from segscope.core.errors import DataError
from segscope.core.io import Tables
from segscope.core.schema import KEY_PATTERN, is_datelike

AMOUNT_PATTERN = re.compile(r"amount|value|price|spend|revenue|sales|total|paid|cost", re.I)
BURN_PATTERN = re.compile(r"burn|redeem|used|claimed|converted", re.I)
JOIN_PATTERN = re.compile(r"join|signup|sign_up|regist|created|first|since", re.I)
STATUS_MAX_VALUES = 6
SEMANTIC_NAMES = {  # behaviour meaning of a flat table's column, from its name
    "recency": re.compile(r"recency|days_since_last|since_last|last_(visit|purchase|order)", re.I),
    "frequency": re.compile(r"frequency|visits|orders|purchases|transactions", re.I),
    "monetary": re.compile(r"monetary|spend|spent|revenue|sales|amount", re.I),
    "burn_rate": re.compile(r"(burn|redeem|redemption|coupon).*rate", re.I),
}


@dataclass
class CustomerFrame:
    """One row per customer, with what was done to get there."""

    data: pd.DataFrame
    key: str | None
    customers_sheet: str | None
    transactions_sheet: str | None
    reference_date: pd.Timestamp | None
    decisions: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    semantics: dict[str, str] = field(default_factory=dict)
    coded: dict[str, str] = field(default_factory=dict)  # code column -> joined name column

    def label(self, column: str) -> str:
        """A human name for a column."""
        return self.labels.get(column, column.replace("_", " "))


class SheetGuess(NamedTuple):
    """Which table holds customers and which holds transactions."""

    customers: str | None
    transactions: str | None
    key: str | None


def plural(noun: str) -> str:
    """English plural of a simple noun (branch -> branches, city -> cities)."""
    if re.search(r"(s|sh|ch|x|z)$", noun):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + "s"


def find_key(df: pd.DataFrame) -> str | None:
    """The customer-key column by name (customer_id, client_no, ...), if any."""
    for col in map(str, df.columns):
        if KEY_PATTERN.match(col.strip()):
            return col
    return None


def _date_columns(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns if is_datelike(df[c])]


def guess_sheets(tables: Tables) -> SheetGuess:
    """Guess the customers table, the transaction log and the key they share."""
    customers: list[tuple[int, str, str]] = []
    logs: list[tuple[int, str, str]] = []
    for name, df in tables.items():
        key = find_key(df)
        if key is None:
            continue
        named = 0 if re.search(r"customer|client|member|user", name, re.I) else 1
        if df[key].is_unique:
            customers.append((named, name, key))
        elif _date_columns(df):
            tx_named = (
                0 if re.search(r"transaction|order|purchase|sale|event|log", name, re.I) else 1
            )
            logs.append((tx_named, name, key))
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


def pick_tables(
    tables: Tables,
    customers: str | None,
    transactions: str | None,
    key: str | None,
    use_transactions: bool,
    noun: str = "sheet",
) -> SheetGuess:
    """The customers and transactions tables (the user's, else guessed) and the key so far.

    `tables` may hold only the first rows of each table: guessing needs no more.
    """
    if customers is None and transactions is None:
        guess = guess_sheets(tables)
        customers, transactions, key = guess.customers, guess.transactions, key or guess.key
    for name in (customers, transactions):
        if name is not None and name not in tables:
            raise DataError(f"no {noun} '{name}'. {noun.title()}s are: {', '.join(tables)}.")
    return SheetGuess(customers, transactions if use_transactions else None, key)


def build_customer_frame(
    tables: Tables,
    customers: str | None = None,
    transactions: str | None = None,
    key: str | None = None,
    *,
    use_transactions: bool = True,
) -> CustomerFrame:
    """One row per customer: the customers table with lookups joined and behaviour added."""
    customers, transactions, key = pick_tables(
        tables, customers, transactions, key, use_transactions
    )
    decisions: list[str] = []
    coded: dict[str, str] = {}
    lookups = {n: t for n, t in tables.items() if n not in (customers, transactions)}
    base = tables[customers] if customers else None
    log = tables[transactions] if transactions else None
    if key is None:
        key = find_key(base if base is not None else log)
    if base is not None:
        if key is not None and key not in base.columns:
            raise DataError(f"sheet '{customers}' has no column '{key}'.")
        if key is not None and not base[key].is_unique:
            dup = int(base[key].duplicated().sum())
            raise DataError(
                f"'{key}' repeats on {dup:,} rows of '{customers}': a customer table needs one "
                "row per customer. Choose it as the transactions sheet instead."
            )
        base = _with_dates(_join_lookups(base, lookups, customers or "", decisions, coded))
        decisions.insert(0, f"customers: {len(base):,} rows from '{customers}', key '{key}'")
    dates = [base[c] for c in _date_columns(base)] if base is not None else []
    labels: dict[str, str] = {}
    semantics: dict[str, str] = {}
    if log is not None:
        if key is None or key not in log.columns:
            raise DataError(f"sheet '{transactions}' has no customer key column '{key}'.")
        log = _with_dates(_join_lookups(log, lookups, transactions or "", decisions))
        dates += [log[c] for c in _date_columns(log)]
    ref = _reference_date(dates)
    if log is not None and key is not None:
        behaviour = _aggregate(log, key, transactions or "", ref, decisions, labels, semantics)
        if base is None:
            base = behaviour.reset_index()
            decisions.insert(0, f"customers: {len(base):,} built from the log '{transactions}'")
        else:
            base = _attach(base, behaviour, key, ref, decisions)
    assert base is not None
    numeric = [str(c) for c in base.columns if pd.api.types.is_numeric_dtype(base[c])]
    columns = list(map(str, base.columns))
    name_columns(columns, _date_columns(base), numeric, key, ref, labels, semantics, decisions)
    return CustomerFrame(
        base.reset_index(drop=True),
        key,
        customers,
        transactions,
        ref,
        decisions,
        labels,
        semantics,
        coded,
    )


def name_columns(
    columns: list[str],
    dates: list[str],
    numeric: list[str],
    key: str | None,
    ref: pd.Timestamp | None,
    labels: dict[str, str],
    semantics: dict[str, str],
    decisions: list[str],
) -> None:
    """Human labels and behaviour meanings (tenure, recency, ...) of the customer table's
    columns, and the decision line saying what the dates are measured from."""
    for col in dates:
        labels.setdefault(col, f"days since {col.replace('_', ' ')}")
        if JOIN_PATTERN.search(col):
            semantics.setdefault("tenure", col)
    for role, pattern in SEMANTIC_NAMES.items():
        if role not in semantics:
            found = next((c for c in columns if pattern.search(c)), None)
            if found is not None and found != key and found in numeric:
                semantics[role] = found
    if ref is not None:
        decisions.append(
            f"dates are measured in days before {ref.date()}, the latest date in the data"
        )


def _with_dates(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` with every date-like text column parsed, once, into datetimes."""
    parsed = {
        c: pd.to_datetime(df[c], errors="coerce", format="mixed")
        for c in _date_columns(df)
        if not pd.api.types.is_datetime64_any_dtype(df[c])
    }
    return df.assign(**parsed) if parsed else df


def _reference_date(dates: list[pd.Series]) -> pd.Timestamp | None:
    maxima = [d.max() for d in dates if d.notna().any()]
    return max(maxima) if maxima else None


@dataclass(frozen=True)
class LookupJoin:
    """One lookup table to left-join on its unique code column, and the columns it adds."""

    lookup: str
    code: str
    extra: list[str]

    @property
    def named(self) -> str | None:
        """The first added column that is not itself a code (the name the code stands for)."""
        return next((c for c in self.extra if not c.endswith("_id")), None)


def plan_lookup_joins(columns: list[str], lookups: Tables) -> list[LookupJoin]:
    """Every lookup table whose unique *_id key appears in `columns`, until nothing changes
    (a joined table's columns can bring the code of another)."""
    have = list(columns)
    plan: list[LookupJoin] = []
    changed = True
    while changed:
        changed = False
        for lname, lk in lookups.items():
            if any(j.lookup == lname for j in plan):
                continue
            code = next(
                (
                    str(c)
                    for c in lk.columns
                    if str(c).endswith("_id") and str(c) in have and lk[c].is_unique
                ),
                None,
            )
            extra = [str(c) for c in lk.columns if str(c) not in have]
            if code is None or not extra:
                continue
            plan.append(LookupJoin(lname, code, extra))
            have += extra
            changed = True
    return plan


def join_note(join: LookupJoin, into: str, unmatched: int) -> str:
    """The decision line for one lookup join."""
    note = f" ({unmatched:,} codes not found)" if unmatched > 0 else ""
    return (
        f"joined '{join.lookup}' into '{into}' on {join.code}: added {', '.join(join.extra)}{note}"
    )


def _join_lookups(
    df: pd.DataFrame,
    lookups: Tables,
    name: str,
    decisions: list[str],
    coded: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Left-join every lookup table planned by plan_lookup_joins."""
    for join in plan_lookup_joins([str(c) for c in df.columns], lookups):
        lk = lookups[join.lookup]
        right = lk[[join.code, *join.extra]]
        if df[join.code].dtype != right[join.code].dtype:
            right = right.astype({join.code: df[join.code].dtype}, errors="ignore")
        df = df.merge(right, on=join.code, how="left", validate="many_to_one")
        first = join.extra[0]
        decisions.append(
            join_note(join, name, int(df[first].isna().sum() - lk[first].isna().sum()))
        )
        if coded is not None and join.named:
            coded[join.code] = join.named
    return df


@dataclass(frozen=True)
class Measure:
    """One behaviour column built per customer from the transaction log.

    kind: 'count' (rows), 'last' / 'first' (days from the reference date back to the latest /
    earliest `column`), 'status' (rows whose `column` is `value`), 'status_rate' (that count
    over all rows), 'distinct' (distinct values of `column`), 'sum' or 'mean' of `column`.
    """

    name: str
    kind: str
    label: str
    column: str | None = None
    value: str | None = None


def plan_measures(
    log: pd.DataFrame,
    key: str,
    has_reference: bool,
    semantics: dict[str, str],
    distinct: dict[str, list[str]] | None = None,
) -> list[Measure]:
    """What to build from the log: frequency, recency, tenure, status counts, distinct codes,
    money. Decided from the columns' types and values; `distinct` may give the values of text
    columns when `log` is only a sample of the log."""
    measures = [Measure("transactions", "count", "transactions")]
    semantics["frequency"] = "transactions"
    date_cols = _date_columns(log)
    if date_cols and has_reference:
        main = min(date_cols, key=lambda c: log[c].isna().sum())
        measures += [
            Measure("days_since_last", "last", "days since last transaction", main),
            Measure("days_since_first", "first", "days since first transaction", main),
        ]
        semantics["recency"] = "days_since_last"
    for col in map(str, log.columns):
        s = log[col]
        if col == key or is_datelike(s):
            continue
        if s.dtype.kind in "OSUT" or pd.api.types.is_string_dtype(s):
            values = (distinct or {}).get(col) or sorted(map(str, s.dropna().astype(str).unique()))
            if 2 <= len(values) <= STATUS_MAX_VALUES:
                measures += _status_measures(col, values, semantics)
        elif col.endswith("_id"):
            if s.nunique() < len(s) * 0.5:
                noun = plural(col.removesuffix("_id"))
                measures.append(
                    Measure(
                        f"distinct_{noun}", "distinct", f"distinct {noun.replace('_', ' ')}", col
                    )
                )
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            words = col.replace("_", " ")
            measures.append(Measure(f"total_{col}", "sum", f"total {words}", col))
            if AMOUNT_PATTERN.search(col) and "monetary" not in semantics:
                measures.append(
                    Measure(f"avg_{col}", "mean", f"average {words} per transaction", col)
                )
                semantics["monetary"] = f"total_{col}"
    return measures


def _status_measures(col: str, values: list[str], semantics: dict[str, str]) -> list[Measure]:
    """Counts per status value (e.g. subscribed / burned) and the rate of the 'burned' one."""
    out = []
    for value in values:
        slug = re.sub(r"\W+", "_", value.strip().lower()).strip("_")
        out.append(Measure(f"n_{slug}", "status", f"{value} count", col, value))
        if BURN_PATTERN.search(value) and "burn_rate" not in semantics:
            out.append(Measure(f"{slug}_rate", "status_rate", f"{value} rate", col, value))
            semantics["burn_rate"] = f"{slug}_rate"
    return out


def aggregate_note(rows: int, sheet: str, key: str, measures: list[Measure]) -> str:
    """The decision line for the log aggregation."""
    made = ", ".join(m.name for m in measures)
    return f"aggregated {rows:,} rows of '{sheet}' per {key} into: {made}"


def _aggregate(
    log: pd.DataFrame,
    key: str,
    sheet: str,
    ref: pd.Timestamp | None,
    decisions: list[str],
    labels: dict[str, str],
    semantics: dict[str, str],
) -> pd.DataFrame:
    """Behaviour per customer, as planned by plan_measures."""
    log = log[log[key].notna()]
    g = log.groupby(key, sort=True)
    measures = plan_measures(log, key, ref is not None, semantics)
    out = pd.DataFrame(index=g.size().index)
    for m in measures:
        col = log[m.column] if m.column is not None else None
        if m.kind == "count":
            out[m.name] = g.size()
        elif m.kind in ("last", "first"):
            assert col is not None
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
            clean = col.replace([np.inf, -np.inf], np.nan).groupby(log[key])
            out[m.name] = clean.sum(min_count=1) if m.kind == "sum" else clean.mean()
        labels[m.name] = m.label
    decisions.append(aggregate_note(len(log), sheet, key, measures))
    return out


def _attach(
    base: pd.DataFrame,
    behaviour: pd.DataFrame,
    key: str,
    ref: pd.Timestamp | None,
    decisions: list[str],
) -> pd.DataFrame:
    """Left-join behaviour onto customers; customers with no transactions get zeros.

    Their days since last/first transaction become days since they joined, where a join
    date is known (zero would read as "bought today").
    """
    if base[key].dtype != behaviour.index.dtype:
        behaviour.index = behaviour.index.astype(base[key].dtype, errors="ignore")
    merged = base.merge(behaviour, left_on=key, right_index=True, how="left")
    none = int(merged["transactions"].isna().sum())
    orphans = int((~behaviour.index.isin(base[key])).sum())
    joined = next((c for c in _date_columns(base) if JOIN_PATTERN.search(c)), None)
    since_join = (ref - base[joined]).dt.days if joined and ref is not None else None
    for col in behaviour.columns:
        if col in ("days_since_last", "days_since_first"):
            if since_join is not None:
                merged[col] = merged[col].fillna(since_join.astype(float))
        else:
            merged[col] = merged[col].fillna(0)
    if none:
        how = f"taken from {joined}" if since_join is not None else "left empty (imputed)"
        decisions.append(
            f"{none:,} customers have no transactions: counts set to 0, days since "
            f"last/first transaction {how}"
        )
    if orphans:
        decisions.append(f"{orphans:,} customer keys in the log are not in the customers table")
    return merged
