"""Which table holds the customers, which the transaction log, and the key they share.

Judged on the values of a peek at each table (the same first rows every engine sees), names
only as a hint. A table's entity column is a column of labels (text, or whole numbers that are
not quantities) that says what each row is about:
- unique on every row: the table holds one row per entity (a customers table), when the column
  is named as an identifier or its values count up (1, 2, 3, ... in file order);
- repeating (several rows per value): the table is a log of those entities, when the column is
  named for customers or as an identifier. A text column of many labels repeating like a key,
  at different times, is said (it may be a log's key: one choice makes it one), not assumed: a
  flat table of events (flights by destination, loans by state) looks the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from segscope.core.errors import DataError
from segscope.core.features.dates import date_rules
from segscope.core.features.names import ENTITY_NAME, IDENTIFIER_NAME, KEY_PATTERN
from segscope.core.features.values import (
    compact_offsets,
    counts_up,
    is_label,
    is_text,
    offsets_present,
)
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import Tables
from segscope.core.text import names, quoted

PEEK_ROWS = 2_000  # rows of each table looked at to plan (the executors run on all of them)
MIN_ENTITIES = 30  # a log's key has at least this many values in a peek (fewer: a category)
GUESS_ROWS = 3.0  # a label repeating like a key: this many rows per value in a peek, on average
FILLED = 0.95  # a key is filled on at least this share of rows


class SheetGuess(NamedTuple):
    """Which table holds customers and which holds transactions, the key, and why."""

    customers: str | None
    transactions: str | None
    key: str | None
    why: str = ""  # the evidence for the key, in words ("" when the user chose it)


@dataclass(frozen=True)
class Entity:
    """A table's entity column: what it is, how it repeats, and the evidence."""

    column: str
    repeats: bool  # several rows per value (a log) or one (a customers table)
    values: int  # distinct values in the peek
    strength: int  # 3: named for customers, 2: named as an identifier (or counting up)

    @property
    def why(self) -> str:
        per = "several rows per value" if self.repeats else "a different value on every row"
        named = "named for customers" if self.strength == 3 else "an identifier"
        return f"{quoted(self.column)}, {per} ({named})"


def entities(df: pd.DataFrame) -> list[Entity]:
    """The columns of `df` (a peek) that could be its entity column, strongest first."""
    out = []
    for column in map(str, df.columns):
        s = df[column]
        name = column.strip()
        strength = 3 if KEY_PATTERN.match(name) else 2 if ENTITY_NAME.search(name) else 1
        if strength == 1 and not IDENTIFIER_NAME.search(name) and not counts_up(s):
            continue  # nothing says it identifies (cheap checks first: tables can be wide)
        if not is_label(s) or s.notna().mean() < FILLED or date_rules(df[[column]], log=True):
            continue
        values = int(s.nunique())
        if values < 2:
            continue
        if values == len(s):  # one row per value
            out.append(Entity(column, False, values, max(strength, 2)))
        elif strength == 3:
            out.append(Entity(column, True, values, 3))
        elif values >= MIN_ENTITIES and strength == 2:
            out.append(Entity(column, True, values, 2))
    return sorted(out, key=lambda e: (-e.strength, -e.values))


def entity(df: pd.DataFrame) -> Entity | None:
    """A table's entity column: a customers key (unique) or a log's key (repeating)."""
    found = entities(df)
    named = [e for e in found if e.strength == 3]
    if named:  # named for customers: it decides, unique or repeating
        return named[0]
    unique = [e for e in found if not e.repeats]
    repeating = [e for e in found if e.repeats]
    if repeating and not unique:
        return repeating[0]
    return unique[0] if unique else None


SPREAD = 0.5  # an unnamed key's rows are mostly at different times (events of each entity)


def _spread(df: pd.DataFrame, column: str, date: str) -> float:
    """The share of rows that are the only row of their label at their time: near 1 when each
    row is an event of the label's entity (a log), near 0 when the label is a category many
    rows share at the same times (a state, a product)."""
    pairs = df[[column, date]].dropna()
    return float((~pairs.duplicated(keep=False)).mean()) if len(pairs) else 0.0


def repeating_like_a_key(df: pd.DataFrame) -> list[str]:
    """Columns of many labels, each on several rows, in a table read as one row per customer,
    that may be the key of a log: text whose rows of one label fall at different times, or
    labels the table is ordered by (what to say, with the choice that would read it so)."""
    candidates = []
    for column in map(str, df.columns):
        s = df[column]
        if not is_label(s) or s.notna().mean() < FILLED:
            continue
        values = int(s.nunique())
        if MIN_ENTITIES <= values <= len(s) / GUESS_ROWS:
            candidates.append(column)
    if not candidates:
        return []
    dated = list(date_rules(df, log=True))
    out = []
    for column in candidates:
        s = df[column]
        if column in dated:
            continue
        at_times = is_text(s) and any(_spread(df, column, d) >= SPREAD for d in dated)
        if at_times or _ordered_by(s):
            out.append(column)
    return out


GROUPED = 1.1  # runs per value of a column the table is grouped by (each value in one run)


def _ordered_by(s: pd.Series) -> bool:
    """Whether the table is grouped by the column: each value's rows in one run, one after
    the other (not a common value, such as 0, recurring in many runs)."""
    v = s.to_numpy()
    runs = 1 + int((v[1:] != v[:-1]).sum()) if len(v) else 0
    return bool(len(v) > 1 and runs <= GROUPED * s.nunique())


def find_key(df: pd.DataFrame) -> str | None:
    """The table's entity column, if it has one (judged on a peek)."""
    found = entity(df.head(PEEK_ROWS))
    return found.column if found else None


def guess_sheets(tables: Tables) -> SheetGuess:
    """Guess the customers table, the transaction log and the key they share."""
    tables = {name: df.head(PEEK_ROWS) for name, df in tables.items()}
    found = {name: entity(df) for name, df in tables.items()}
    customers = [(n, e) for n, e in found.items() if e is not None and not e.repeats]
    logs = [(n, e) for n, e in found.items() if e is not None and e.repeats]
    customers.sort(key=lambda ne: (-ne[1].strength, _rank(ne[0], CUSTOMER_WORDS)))
    logs.sort(key=lambda ne: (-ne[1].strength, _rank(ne[0], LOG_WORDS)))
    # a column unique in one table and repeating in another links them, whatever its name
    order = [n for n, _ in logs] + [n for n in tables if n not in dict(logs)]
    for cust, e in customers:
        for log in order:
            shared = tables[log].get(e.column) if log != cust else None
            if shared is not None and not shared.dropna().is_unique:
                return SheetGuess(cust, log, e.column, _linked(e, cust, log))
    if customers:
        cust, e = customers[0]
        return SheetGuess(cust, None, e.column, e.why)
    if logs:
        log, e = logs[0]
        return SheetGuess(None, log, e.column, e.why)
    if len(tables) == 1:
        return SheetGuess(next(iter(tables)), None, None)
    raise DataError(
        f"no table has a customer key column: none of {names(tables, 6)} has a column of ids "
        "unique on each row or repeating per customer. Name the customers table (--sheet) and "
        "its key (--key)."
    )


CUSTOMER_WORDS = ("customer", "client", "member", "user", "people", "person", "account")
LOG_WORDS = ("transaction", "order", "purchase", "sale", "event", "log", "visit", "rating")


def _rank(name: str, words: tuple[str, ...]) -> int:
    """0 for a table named like `words` (customers, orders, ...), else 1."""
    return 0 if any(w in name.lower() for w in words) else 1


def _linked(e: Entity, customers: str, log: str) -> str:
    return (
        f"{quoted(e.column)} is unique in {quoted(customers)} and repeats in {quoted(log)}: "
        "one row per customer there, their transactions here"
    )


def all_different(values: pd.Series) -> bool:
    """Whether no value repeats: at once for numbers in increasing order (keys usually are), by
    marking each whole number in a bitmap of its range when the range is within a few times the
    rows (keys in another order), else by hashing every value."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf":
        v = values.to_numpy()
        if bool((v[1:] > v[:-1]).all()):  # NaN compares False: hashed below
            return True
    compact = compact_offsets(values)
    if compact is not None:
        offsets, _, span = compact
        return len(offsets_present(offsets, span)) == len(offsets)
    return bool(values.is_unique)


def pick_tables(tables: Tables, choices: DataChoices, noun: str = "sheet") -> SheetGuess:
    """The customers and transactions tables (the user's, else guessed) and the key so far.

    A key the user names decides the tables it is in: unique there, a customers table;
    repeating, a log. A log named without a customers table is joined to the table where
    its key is unique, if one is."""
    for name in (choices.customers, choices.transactions):
        if name is not None and name not in tables:
            raise DataError(f"no {noun} {quoted(name)}. {noun.title()}s are: {names(tables, 8)}.")
    customers, transactions, key = choices.customers, choices.transactions, choices.key
    why = ""
    if customers is None and transactions is None:
        if key is None:
            found = guess_sheets(tables)
            customers, transactions, key = found.customers, found.transactions, found.key
            why = found.why
        else:
            customers, transactions = _by_key(tables, key, noun)
    elif customers is None and transactions is not None:
        key = key or find_key(tables[transactions]) or _linking(tables, transactions)
        customers = _holding(tables, key, unique=True, besides=transactions)
    elif transactions is None and choices.use_transactions and len(tables) > 1:
        key = key or find_key(tables[customers or ""])
        transactions = _holding(tables, key, unique=False, besides=customers)
    log = transactions if choices.use_transactions else None
    return SheetGuess(customers, log, key, why)


def _linking(tables: Tables, log: str) -> str | None:
    """A column of the log that repeats there and is unique in another table: the key that
    links the log to its customers, whatever its name (of several, the one whose table has the
    most rows: the customers, not a lookup of a few codes)."""
    peek = tables[log].head(PEEK_ROWS)
    links = []
    for column in map(str, peek.columns):
        if not peek[column].dropna().is_unique:
            holder = _holding(tables, column, unique=True, besides=log)
            if holder is not None:
                links.append((len(tables[holder]), column))
    return max(links)[1] if links else None


def _holding(tables: Tables, key: str | None, unique: bool, besides: str | None) -> str | None:
    """The table other than `besides` where `key` is unique (or repeats), if one is."""
    if key is None:
        return None
    for name, df in tables.items():
        if name != besides and key in df.columns and all_different(df[key].dropna()) == unique:
            return name
    return None


def _by_key(tables: Tables, key: str, noun: str) -> tuple[str | None, str | None]:
    """The customers table (where `key` is unique) and the log (where it repeats)."""
    holding = [n for n, df in tables.items() if key in df.columns]
    if not holding:
        raise DataError(
            f"no {noun} has a column {quoted(key)}. {noun.title()}s are: {names(tables, 8)}; "
            f"choose the key among their columns, or name the customers {noun} (--sheet)."
        )
    customers = _holding({n: tables[n] for n in holding}, key, unique=True, besides=None)
    log = _holding({n: tables[n] for n in holding}, key, unique=False, besides=customers)
    return customers, log
