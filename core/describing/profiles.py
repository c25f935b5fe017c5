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
from segscope.core.threads import column_threads, in_parallel

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


def category_counts(values: pd.Series, labels: np.ndarray) -> pd.DataFrame:
    """Customers per segment (rows: 0-based labels present) and category (columns, in order of
    first appearance; missing values left out): one pass, whatever the number of segments."""
    codes, categories = pd.factorize(values)
    kept = codes >= 0
    m = max(len(categories), 1)
    k = int(labels.max()) + 1 if len(labels) else 0
    flat = np.bincount(labels[kept].astype(np.int64) * m + codes[kept], minlength=k * m)
    table = pd.DataFrame(flat.reshape(k, m)[:, : len(categories)], columns=categories)
    return table.loc[np.bincount(labels, minlength=k) > 0]


def _shares(counts: pd.Series, customers: int) -> pd.Series:
    """Counts as shares of all `customers` (those without a value count too: a share of a
    segment is of the whole segment), largest first (ties in order of first appearance)."""
    counts = counts[counts > 0]
    return (counts / max(1, customers)).sort_values(ascending=False, kind="stable")


def segment_stats(features: pd.DataFrame, labels: np.ndarray, schema: Schema) -> SegmentStats:
    """SegmentStats of the prepared feature frame; `labels` are 0-based. Each feature's figures
    are computed on their own (side by side on a long table); a number's segment means and
    medians from its values taken segment by segment (one sort of the rows for every number: no
    copy of ten million rows per grouping)."""
    counted = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
    sizes = {s + 1: int(n) for s, n in enumerate(counted) if n}
    # the rows segment by segment, once for every number (as small integers: a radix sort)
    order = np.argsort(labels.astype(np.min_scalar_type(len(counted))), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counted)])
    threads = column_threads(len(features))

    def numbers(column: str) -> tuple[pd.Series, pd.Series, float, float]:
        x = features[column].astype("float64")
        whole = float(x.mean()), float(x.std(ddof=0))
        del x  # each segment's values are taken from the column as held, one segment at a time
        held = features[column]
        plain = isinstance(held.dtype, np.dtype) and held.dtype.kind == "f"
        grouped = (held.to_numpy() if plain else held.to_numpy("float64", na_value=np.nan))[order]
        mean, median = {}, {}
        for s in sizes:
            values = grouped[bounds[s - 1] : bounds[s]].astype(np.float64)
            values = values[~np.isnan(values)]
            mean[s] = values.mean() if len(values) else np.nan
            median[s] = np.median(values) if len(values) else np.nan
        index = pd.Index(list(sizes), dtype="int64")
        return pd.Series(mean, index=index), pd.Series(median, index=index), *whole

    figures = dict(zip(schema.numeric, in_parallel(numbers, schema.numeric, threads), strict=True))

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
        base_mean=pd.Series({c: f[2] for c, f in figures.items()}, dtype="float64"),
        base_std=pd.Series({c: f[3] for c, f in figures.items()}, dtype="float64"),
        base_shares={c: _shares(t.sum(axis=0), len(features)) for c, t in tables.items()},
        shares={
            s: {c: _shares(t.loc[s - 1], sizes[s]).head(TOP_CATEGORIES) for c, t in tables.items()}
            for s in sizes
        },
    )


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
