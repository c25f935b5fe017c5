"""What the user chose, in three parts that change for different reasons.

- `DataChoices`: which tables, key, features, roles and weights (changing them means preparing
  the data again);
- `SweepSettings`: which k to try, the seed, and what to do with the result (a k of one's own,
  numbering like an earlier model, comparing two k, who moved since an earlier run's labels):
  changing them never re-prepares;
- `EngineSettings`: where the work runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from segscope.core import DEFAULT_SEED, LOCAL
from segscope.core.errors import UsageError
from segscope.core.limits import MAX_K, MAX_SEED, MAX_WEIGHT
from segscope.core.roles import Role

if TYPE_CHECKING:
    from segscope.core.models.model import SegmentModel
    from segscope.core.models.movement import EarlierLabels
    from segscope.core.processes import Standby

DEFAULT_KS = tuple(range(2, 11))
WEIGHT_STEPS = (1.0, 0.5, 0.25, 2.0)  # the weights the app's key steps through
DEFAULT_SPARK_MASTER = "local[*]"  # every core of this machine
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
    only_features: tuple[str, ...] | None = None  # keep only these features
    roles: Mapping[str, Role] = field(default_factory=dict)  # column -> role, overriding the guess
    weights: Mapping[str, float] = field(default_factory=dict)  # feature -> weight (default 1)
    keep_redundant: bool = False  # keep features that repeat others (preparing.redundancy)
    query: str | None = None  # a database's customers as the result of this SELECT

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", _frozen(self.roles))
        object.__setattr__(self, "weights", _frozen(self.weights))
        if self.only_features is not None:
            object.__setattr__(self, "only_features", tuple(self.only_features))
        for name, weight in self.weights.items():
            check_weight(name, weight)

    # --- the changes a user makes (the app's keys and the command's options alike) -----------

    def with_customers(self, table: str | None) -> DataChoices:
        """Another customers table: its key and roles are guessed again."""
        return replace(self, customers=table, key=None, roles={})

    def with_transactions(self, table: str | None, customers: str | None) -> DataChoices:
        """Another transaction log (None: none), beside the `customers` table now in use."""
        used = table is not None
        return replace(
            self, transactions=table, use_transactions=used, roles={}, customers=customers
        )

    def with_role(self, column: str, role: Role | None) -> DataChoices:
        """`column` given `role` (None: back to the guess). Making a column the key makes it the
        key of the customers; giving the key another role leaves the key to be guessed."""
        if role is Role.KEY:
            return replace(self.with_key(column), only_features=None)
        roles = dict(self.roles)
        if role is None:
            roles.pop(column, None)
        else:
            roles[column] = role
        key = None if column == self.key else self.key
        return replace(self, roles=roles, key=key, only_features=None)

    def with_key(self, column: str) -> DataChoices:
        """`column` as the customer key."""
        return replace(self, roles={**self.roles, column: Role.KEY}, key=column)

    def with_weight(self, column: str, weight: float) -> DataChoices:
        """A feature's weight (1 is the default, 0 leaves it out); checked like every weight."""
        weights = {**self.weights, column: check_weight(column, weight)}
        if weight == 1.0:
            weights.pop(column)
        return replace(self, weights=weights)

    def next_weight(self, column: str) -> DataChoices:
        """The next of WEIGHT_STEPS for `column` (the app's key steps through them)."""
        now = self.weights.get(column, 1.0)
        later = WEIGHT_STEPS[(WEIGHT_STEPS.index(now) + 1) % len(WEIGHT_STEPS)]
        return self.with_weight(column, later if now in WEIGHT_STEPS else 1.0)


@dataclass(frozen=True)
class SweepSettings:
    """How to sweep and what to make of it."""

    ks: tuple[int, ...] = DEFAULT_KS
    seed: int = DEFAULT_SEED
    k: int | None = None  # use this k rather than the best silhouette
    like: SegmentModel | None = field(default=None, compare=False)  # number segments like it
    like_path: str | None = None  # where `like` was read from (recorded in the outputs)
    compare: tuple[int, int] | None = None  # also cross-tabulate the segments of these two k
    previous: EarlierLabels | None = field(default=None, compare=False)  # who moved since them
    saving: bool = False  # the model will be saved: its bytes are made beside the run's end
    standby: Standby | None = field(default=None, compare=False)  # where they can be made
    # given the customers as soon as they are labelled, for the per-customer outputs to start
    # then: a core.engines.results.Labelled (a stage, which this foundation module does not name)
    ahead: Callable[[Any], None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ks", tuple(self.ks))


@dataclass(frozen=True)
class EngineSettings:
    """Where the work runs: this machine ("local") or Spark."""

    engine: str = LOCAL
    spark_master: str | None = None  # Spark master URL (default: DEFAULT_SPARK_MASTER)
    labels_uri: str | None = None  # Spark: where the labels go (default: beside the output)

    @property
    def master(self) -> str:
        """The Spark master the work runs on."""
        return self.spark_master or DEFAULT_SPARK_MASTER


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


def check_weight(column: str, weight: float) -> float:
    """A feature's weight: a number from 0 (left out) to MAX_WEIGHT."""
    if not (
        isinstance(weight, int | float) and math.isfinite(weight) and 0 <= weight <= MAX_WEIGHT
    ):
        raise UsageError(
            f"a weight must be a number from 0 to {MAX_WEIGHT:g}; got {column}={weight!r}."
        )
    return float(weight)


def check_seed(seed: int) -> int:
    """A seed K-Means and numpy accept: 0 .. 2**32-1."""
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"the seed must be a whole number from 0 to {MAX_SEED:,}; got {seed}.")
    return seed
