"""What the user chose, in three parts that change for different reasons.

- `DataChoices`: which tables, key, features, roles and weights (changing them means preparing
  the data again);
- `SweepSettings`: which k to try, the seed, and what to do with the result (a k of one's own,
  numbering like an earlier model, comparing two k): changing them never re-prepares;
- `EngineSettings`: where the work runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from segscope.core import DEFAULT_SEED, LOCAL
from segscope.core.errors import UsageError
from segscope.core.limits import MAX_K, MAX_SEED
from segscope.core.roles import Role

if TYPE_CHECKING:
    from segscope.core.models.model import SegmentModel

DEFAULT_KS = tuple(range(2, 11))
_EMPTY: Mapping[str, object] = MappingProxyType({})


def _frozen(mapping: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping)) if mapping else _EMPTY


@dataclass(frozen=True)
class DataChoices:
    """What the user chose about the data; everything left open is inferred."""

    customers: str | None = None  # the customers table (sheet); None: guessed
    transactions: str | None = None  # the transaction log; None: guessed
    use_transactions: bool = True
    key: str | None = None  # the customer key column; None: guessed
    features: tuple[str, ...] | None = None  # keep only these features
    roles: Mapping[str, Role] = field(default_factory=dict)  # column -> role, overriding the guess
    weights: Mapping[str, float] = field(default_factory=dict)  # feature -> weight (default 1)
    keep_redundant: bool = False  # keep features that repeat others (preparing.redundancy)
    query: str | None = None  # a database's customers as the result of this SELECT

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", _frozen(self.roles))
        object.__setattr__(self, "weights", _frozen(self.weights))
        if self.features is not None:
            object.__setattr__(self, "features", tuple(self.features))


@dataclass(frozen=True)
class SweepSettings:
    """How to sweep and what to make of it."""

    ks: tuple[int, ...] = DEFAULT_KS
    seed: int = DEFAULT_SEED
    k: int | None = None  # use this k rather than the best silhouette
    like: SegmentModel | None = field(default=None, compare=False)  # number segments like it
    like_path: str | None = None  # where `like` was read from (recorded in the outputs)
    compare: tuple[int, int] | None = None  # also cross-tabulate the segments of these two k

    def __post_init__(self) -> None:
        object.__setattr__(self, "ks", tuple(self.ks))


@dataclass(frozen=True)
class EngineSettings:
    """Where the work runs: this machine ("local") or Spark."""

    engine: str = LOCAL
    spark_master: str | None = None  # Spark master URL (default: local[*])
    labels_uri: str | None = None  # Spark: where the labels go (default: beside the output)


def parse_ks(text: str) -> tuple[int, ...]:
    """'2-10', '5' or '3,5,8' -> the k values, sorted; UsageError when they cannot work.

    Checked before any list is built, so a range such as 2-1000000000 costs nothing.
    """
    try:
        if "-" in text.strip()[1:]:
            lo_text, hi_text = text.split("-", 1)
            lo, hi = int(lo_text), int(hi_text)
            bounds = [lo, hi]
        else:
            values = sorted({int(x) for x in text.split(",") if x.strip()})
            bounds = values[:1] + values[-1:]
    except ValueError as exc:
        raise UsageError(f"k must look like 2-10, 5 or 3,5,8; got {text!r}.") from exc
    if not bounds or min(bounds) < 2:
        raise UsageError(f"k must be at least 2; got {text!r}.")
    if max(bounds) > MAX_K:
        raise UsageError(f"k can be at most {MAX_K}; got {text!r}.")
    if "-" in text.strip()[1:]:
        if hi < lo:
            raise UsageError(f"the k range {text!r} is empty: write it low-high, e.g. 2-10.")
        return tuple(range(lo, hi + 1))
    return tuple(values)


def check_seed(seed: int) -> int:
    """A seed K-Means and numpy accept: 0 .. 2**32-1."""
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"the seed must be a whole number from 0 to {MAX_SEED:,}; got {seed}.")
    return seed
