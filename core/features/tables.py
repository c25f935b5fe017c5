"""Which table holds the customers, which the transaction log, and the key they share."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from segscope.core.errors import DataError
from segscope.core.features.dates import date_rule
from segscope.core.features.names import KEY_PATTERN
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import Tables
from segscope.core.text import names, quoted


class SheetGuess(NamedTuple):
    """Which table holds customers and which holds transactions."""

    customers: str | None
    transactions: str | None
    key: str | None


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
