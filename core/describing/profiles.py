"""Each segment's figures against the whole base: sizes, means, medians and spread of every
number, the shares of every category (computed per feature, side by side on long tables), and
the per-segment profiles the words are made from."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segscope.core.roles import Schema
from segscope.core.threads import column_threads, in_parallel, row_blocks

if TYPE_CHECKING:
    from segscope.core.describing.rules import Rule


@dataclass
class NumericDiff:
    """How a segment's mean of one numeric feature compares with the whole base."""

    feature: str
    label: str
    mean: float
    median: float
    base_mean: float
    z: float
    share: bool = False  # a share of rows or a 0/1 flag (0..1): said in percentage points

    @property
    def ratio(self) -> float:
        return self.mean / self.base_mean if self.base_mean else float("nan")


@dataclass
class CategoryDiff:
    """How common one category is in a segment compared with the whole base."""

    feature: str
    label: str
    category: str
    share: float
    base_share: float

    @property
    def lift(self) -> float:
        return self.share / self.base_share if self.base_share else float("nan")


@dataclass
class SegmentProfile:
    """One segment: size, how it differs from the base, in figures and words."""

    segment: int
    size: int
    share: float
    numeric: list[NumericDiff] = field(default_factory=list)
    categories: list[CategoryDiff] = field(default_factory=list)
    description: str = ""
    action: str = ""
    recommendation: str = ""
    stability: float = float("nan")  # mean Jaccard with its best match across resampled fits
    rule: Rule | None = None  # the short rule found for it (describing.rules), good or not
    rfm: list[tuple[str, float]] = field(default_factory=list)  # its RFM cells, largest first


@dataclass
class SegmentStats:
    """Per-segment aggregates of the feature table, and the same over the whole base.

    Computed by pandas here (segment_stats) or by Spark; profiles are made from these alone.
    """

    rows: int
    sizes: dict[int, int]  # segment (1..k) -> customers
    means: pd.DataFrame  # segment x numeric feature
    medians: pd.DataFrame
    base_mean: pd.Series
    base_std: pd.Series  # population SD (ddof 0)
    base_shares: dict[str, pd.Series]  # categorical feature -> share of each category
    shares: dict[int, dict[str, pd.Series]]  # segment -> feature -> its top categories' shares


TOP_CATEGORIES = 5  # categories kept per segment and feature


COUNT_ROWS = 1_000_000  # categories are counted this many rows at a time


def category_counts(values: pd.Series, labels: np.ndarray) -> pd.DataFrame:
    """Customers per segment (rows: 0-based labels present) and category (columns, in order of
    first appearance; missing values left out). Counted COUNT_ROWS rows at a time: pandas sizes
    its table of values by the rows it is given (ten million rows: 230 MB for three values)."""
    k = int(labels.max()) + 1 if len(labels) else 0
    column: dict[object, int] = {}  # category -> its column, in order of first appearance
    table, present = np.zeros((k, 0), dtype=np.int64), np.zeros(k, dtype=bool)
    for rows in row_blocks(len(values), COUNT_ROWS):
        codes, seen = pd.factorize(values.iloc[rows])
        m = len(seen)
        cell = labels[rows].astype(np.intp)  # (segment, value), in place
        present[cell] = True
        cell *= m
        cell += codes
        cell[codes < 0] = k * m  # no value: a cell of its own, left out below
        counts = np.bincount(cell, minlength=k * m + 1)[: k * m].reshape(k, m)
        where = [column.setdefault(v, len(column)) for v in seen]
        if len(column) > table.shape[1]:  # new values: room for them (doubling: few copies)
            grown = np.zeros((k, max(len(column), 2 * table.shape[1])), dtype=np.int64)
            grown[:, : table.shape[1]] = table
            table = grown
        table[:, where] += counts
    frame = pd.DataFrame(
        table[:, : len(column)], columns=pd.Index(list(column), dtype=values.dtype)
    )
    return frame.loc[present]


def _shares(counts: pd.Series, customers: int) -> pd.Series:
    """Counts as shares of all `customers` (those without a value count too: a share of a
    segment is of the whole segment), largest first (ties in order of first appearance)."""
    counts = counts[counts > 0]
    return (counts / max(1, customers)).sort_values(ascending=False, kind="stable")


def mean_and_spread(values: pd.Series) -> tuple[float, float]:
    """The mean and standard deviation (ddof 0) of a number's values present, as pandas'
    mean() and std(ddof=0) compute them without bottleneck (the same sums in the same order: the
    same figures), in a tenth of pandas' time (fewer copies of the column)."""
    x = values.to_numpy("float64", na_value=np.nan)
    missing = np.isnan(x)
    gaps = bool(missing.any())
    count = len(x) - (np.count_nonzero(missing) if gaps else 0)
    if not count:
        return float("nan"), float("nan")
    mean = (np.where(missing, 0.0, x) if gaps else x).sum(dtype=np.float64) / count
    squares = (mean - x) ** 2
    if gaps:
        np.putmask(squares, missing, 0.0)
    return float(mean), float(np.sqrt(squares.sum(dtype=np.float64) / count))


def segment_stats(features: pd.DataFrame, labels: np.ndarray, schema: Schema) -> SegmentStats:
    """SegmentStats of the prepared feature frame; `labels` are 0-based. Each feature's figures
    are computed on their own (side by side on a long table, except the whole base's mean and
    spread, one column at a time: each takes a copy of it)."""
    base = {c: mean_and_spread(features[c]) for c in schema.numeric}
    counted = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
    sizes = {s + 1: int(n) for s, n in enumerate(counted) if n}
    threads = column_threads(len(features))
    figures = _segment_figures(features, schema.numeric, labels, counted, threads)

    def counts(column: str) -> pd.DataFrame:
        return category_counts(features[column], labels)

    tables = dict(
        zip(schema.categorical, in_parallel(counts, schema.categorical, threads), strict=True)
    )
    index = pd.Index(list(sizes), name="segment")
    return SegmentStats(
        rows=len(features),
        sizes=sizes,
        means=pd.DataFrame({c: f[0] for c, f in figures.items()}, index=index),
        medians=pd.DataFrame({c: f[1] for c, f in figures.items()}, index=index),
        base_mean=pd.Series({c: b[0] for c, b in base.items()}, dtype="float64"),
        base_std=pd.Series({c: b[1] for c, b in base.items()}, dtype="float64"),
        base_shares={c: _shares(t.sum(axis=0), len(features)) for c, t in tables.items()},
        shares={
            s: {c: _shares(t.loc[s - 1], sizes[s]).head(TOP_CATEGORIES) for c, t in tables.items()}
            for s in sizes
        },
    )


def _segment_figures(
    features: pd.DataFrame,
    numeric: list[str],
    labels: np.ndarray,
    counted: np.ndarray,
    threads: int | None,
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """Each number's mean and median per segment present (`counted`: rows per label), from its
    values taken segment by segment: one sort of the rows for every number, no copy of ten
    million rows per grouping, one copy of a segment's values at a time."""
    # the rows segment by segment (as small integers: a radix sort)
    order = np.argsort(labels.astype(np.min_scalar_type(len(counted))), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counted)])
    segments = [s + 1 for s, n in enumerate(counted) if n]
    index = pd.Index(segments, dtype="int64")

    def numbers(column: str) -> tuple[pd.Series, pd.Series]:
        held = features[column]
        plain = isinstance(held.dtype, np.dtype) and held.dtype.kind == "f"
        grouped = (held.to_numpy() if plain else held.to_numpy("float64", na_value=np.nan))[order]
        mean, median = {}, {}
        for s in segments:
            values = grouped[bounds[s - 1] : bounds[s]].astype(np.float64)
            missing = np.isnan(values)
            if missing.any():
                values = values[~missing]
            mean[s] = values.mean() if len(values) else np.nan
            median[s] = np.median(values, overwrite_input=True) if len(values) else np.nan
        return pd.Series(mean, index=index), pd.Series(median, index=index)

    return dict(zip(numeric, in_parallel(numbers, numeric, threads), strict=True))


def profile_segments(
    stats: SegmentStats,
    schema: Schema,
    titles: dict[str, str] | None = None,
    shares: Collection[str] = (),
) -> list[SegmentProfile]:
    """Per-segment figures against the whole base (words are added by describing.words);
    `shares` are the numbers that are shares (0..1), said in percentage points."""
    titles = titles or {}

    def label(column: str) -> str:
        return titles.get(column, column.replace("_", " "))

    base_std = stats.base_std.replace(0, np.nan)
    profiles = []
    for s, size in stats.sizes.items():
        p = SegmentProfile(s, size, size / stats.rows)
        for c in schema.numeric:
            mean = float(stats.means.at[s, c])
            z = (mean - stats.base_mean[c]) / base_std[c]
            median, base = float(stats.medians.at[s, c]), float(stats.base_mean[c])
            diff = NumericDiff(c, label(c), mean, median, base, _finite(z), c in shares)
            p.numeric.append(diff)
        for c in schema.categorical:
            for cat, share in stats.shares[s][c].items():
                base = float(stats.base_shares[c].get(cat, np.nan))
                p.categories.append(CategoryDiff(c, label(c), str(cat), float(share), base))
        profiles.append(p)
    return profiles


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else 0.0
