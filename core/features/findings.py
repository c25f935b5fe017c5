"""What an executor found while carrying out the feature plan (rows, codes its lookups did not
find, the reference date, customers without transactions): every executor reports the same."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd


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
    tables_left_out: Mapping[str, str] = field(default_factory=dict)  # table -> why never read
