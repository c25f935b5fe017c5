"""Explicit limits: how much segscope reads, and the values its options may take.

The input limits are checked while reading, so a hostile or broken file stops early with a
message naming the limit; each can be raised with its environment variable
(segscope.core.environment).
"""

from __future__ import annotations

from dataclasses import dataclass

from segscope.core.environment import MAX_BYTES, MAX_CELLS, MAX_COLUMNS, MAX_FIELD
from segscope.core.errors import UsageError

MAX_K = 50  # the largest k swept: more segments than marketing can act on
MAX_SEED = 2**32 - 1  # what numpy and scikit-learn accept as a seed
MAX_WEIGHT = 100.0  # a feature's weight: 0 (left out) to this
# Features segmented on at most: every stage whose work grows with the features (one
# preprocessing part each, the redundancy check, relevance, profiles, rules) is bounded by it
# whatever the table within the input limits; columns past it are left out, and said.
MAX_FEATURES = 1_000


@dataclass(frozen=True)
class Limit:
    """One limit on what is read, and the variable that raises it."""

    value: int
    variable: str
    what: str

    def exceeded(self, where: str, found: str) -> str:
        """The message for `where` going past this limit."""
        return (
            f"{where}: {found}, over the limit of {self.value:,} {self.what}. If the file is "
            f"right, raise it: {self.variable}={self.value * 4}."
        )


@dataclass(frozen=True)
class Limits:
    """The input limits in force (defaults, or the environment's)."""

    bytes: Limit  # decompressed bytes read from one file
    cells: Limit  # rows x columns of one table
    columns: Limit  # columns of one table
    field: Limit  # bytes in one line of a text file or one string of a workbook


def limits() -> Limits:
    """The limits in force now: the defaults, or the environment's (segscope.core.environment:
    a value that cannot work is a usage error naming its variable)."""
    return Limits(
        bytes=Limit(MAX_BYTES.number(), MAX_BYTES.name, "bytes"),
        cells=Limit(MAX_CELLS.number(), MAX_CELLS.name, "cells"),
        columns=Limit(MAX_COLUMNS.number(), MAX_COLUMNS.name, "columns"),
        field=Limit(MAX_FIELD.number(), MAX_FIELD.name, "bytes in one line or value"),
    )


def whole_number(text: str, name: str, unit: str) -> int:
    """`text` as a whole number of at least 1, or a usage error naming `name` and the `unit`."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{name} must be a whole number of {unit}, at least 1 (got {text!r}).")
    return value
