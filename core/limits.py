"""Explicit limits: how much segscope reads, and the values its options may take.

The input limits are checked while reading, so a hostile or broken file stops early with a
message naming the limit; each can be raised with its environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from segscope.core.errors import UsageError

MAX_K = 50  # the largest k swept: more segments than marketing can act on
MAX_SEED = 2**32 - 1  # what numpy and scikit-learn accept as a seed
MAX_WEIGHT = 100.0  # a feature's weight: 0 (left out) to this


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


DEFAULTS = {
    "bytes": (4 * 1024**3, "SEGSCOPE_MAX_BYTES", "bytes"),
    "cells": (200_000_000, "SEGSCOPE_MAX_CELLS", "cells"),
    "columns": (10_000, "SEGSCOPE_MAX_COLUMNS", "columns"),
    "field": (16 * 1024**2, "SEGSCOPE_MAX_FIELD", "bytes in one line or value"),
}


def limits() -> Limits:
    """The limits, read from the environment now (a value that is not a number is ignored)."""
    out = {}
    for name, (default, variable, what) in DEFAULTS.items():
        text = os.environ.get(variable, "")
        value = int(text) if text.isdigit() and int(text) > 0 else default
        out[name] = Limit(value, variable, what)
    return Limits(**out)


def whole_number(text: str, name: str, unit: str) -> int:
    """`text` as a whole number of at least 1, or a usage error naming `name` and the `unit`."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{name} must be a whole number of {unit}, at least 1 (got {text!r}).")
    return value
