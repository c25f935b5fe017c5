"""segscope's environment variables: the one place that reads them, each checked the same way
(and sets the one of a library's that the command and the app choose: Arrow's allocator).

A value that cannot work (not a whole number, below its minimum, above its maximum) is a usage
error naming the variable, never silently replaced by the default. Byte sizes may end in K, M or
G (KiB, MiB, GiB).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from segscope.core.errors import UsageError

_WHOLE = re.compile(r"^([0-9]+)([KMG]?)$")  # ASCII digits only: '²' is not a number here
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


@dataclass(frozen=True)
class Variable:
    """One environment variable: its default, unit and range."""

    name: str
    default: int | None  # None: not set means no value (no cap)
    unit: str  # what the number counts, for messages
    low: int = 1
    high: int | None = None
    sizes: bool = False  # may end in K, M or G

    def value(self) -> int | None:
        """The variable's value now (its default when unset or empty)."""
        text = os.environ.get(self.name, "").strip()
        return self.parse(text) if text else self.default

    def number(self) -> int:
        """The value of a variable that has a default."""
        value = self.value()
        if value is None:
            raise UsageError(f"{self.name} must be set.")
        return value

    def parse(self, text: str) -> int:
        """`text` as this variable's value, or a UsageError naming it."""
        found = _WHOLE.match(text.upper() if self.sizes else text)
        if found is None or (found.group(2) and not self.sizes):
            raise UsageError(self._wrong(text))
        value = int(found.group(1)) * _UNITS[found.group(2)]
        if value < self.low or (self.high is not None and value > self.high):
            raise UsageError(self._wrong(text))
        return value

    def _wrong(self, text: str) -> str:
        bounds = f"from {self.low:,}" + (f" to {self.high:,}" if self.high is not None else "")
        suffix = " (or with K, M or G: 100M)" if self.sizes else ""
        return (
            f"{self.name} must be a whole number of {self.unit}, {bounds}{suffix}; "
            f"got {text[:40]!r}. Fix or unset it."
        )


MAX_BYTES = Variable("SEGSCOPE_MAX_BYTES", 4 * 1024**3, "bytes", sizes=True)
MAX_CELLS = Variable("SEGSCOPE_MAX_CELLS", 200_000_000, "cells")
MAX_COLUMNS = Variable("SEGSCOPE_MAX_COLUMNS", 10_000, "columns")
MAX_FIELD = Variable("SEGSCOPE_MAX_FIELD", 16 * 1024**2, "bytes", sizes=True)
THREADS = Variable("SEGSCOPE_THREADS", None, "threads")
DB_TIMEOUT = Variable(  # PostgreSQL's statement_timeout holds at most 2**31-1 milliseconds
    "SEGSCOPE_DB_TIMEOUT", 600, "seconds", high=(2**31 - 1) // 1000
)
VARIABLES = (MAX_BYTES, MAX_CELLS, MAX_COLUMNS, MAX_FIELD, THREADS, DB_TIMEOUT)


ARROW_POOL = "ARROW_DEFAULT_MEMORY_POOL"  # the allocator Arrow takes its memory from


def system_allocator_for_arrow() -> None:
    """Make the system's allocator Arrow's, as numpy's is (before Arrow first allocates; a pool
    chosen in the environment is kept): what Arrow lets go of as a table's columns become
    pandas' is then what those columns are made in, not kept in a pool of Arrow's own. Ten
    million rows of Parquet: a peak of 1.0 GB instead of 1.4 GB, read and converted in half the
    time (on this project's virtual machine, memory new to a process costs seconds)."""
    os.environ.setdefault(ARROW_POOL, "system")


def check_environment() -> None:
    """Check every segscope variable that is set (a UsageError names the first that is wrong):
    what the command does first, so that a wrong value stops it before anything is read."""
    for variable in VARIABLES:
        variable.value()
