"""Which features separate the segments, and which do not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.mixture import GaussianMixture

from segscope.core.clustering.stability import resample_labels, stability, stability_sample
from segscope.core.clustering.sweep import KResult, SilhouetteWork, SweepSetup
from segscope.core.describing.profiles import category_counts
from segscope.core.preparing.matrix import Matrix
from segscope.core.preparing.preprocess import MISSING_CATEGORY
from segscope.core.processes import side_by_side
from segscope.core.roles import Schema
from segscope.core.sampling import row_sample
from segscope.core.text import agreement, names, quoted, silhouette
from segscope.core.threads import thread_count

WEAK = 0.05  # a feature whose segments explain less than this share of it separates nothing
CLEARLY = 0.02  # a silhouette this much higher is clearly better
RELEVANCE_ROWS = 200_000  # relevance is measured on a sample this size (a share's error ~0.1%)
CHECK_ROWS = 2_000  # the sweep without some features runs on a sample this size
BINS = 30  # a number's histogram has at most this many bins (has_groups)
GRID_BINS = 60  # or, for values on a grid of at most this many points, one bin per point
GRID_DECIMALS = 6  # a grid's step is at least 10**-GRID_DECIMALS
FLOAT32_ERROR = 2.0**-22  # typed features are float32: within 2**-24 of the number, with room
PER_BIN = 20  # customers a bin holds on average at the least: a dip among fewer is chance


@dataclass(frozen=True)
class Relevance:
    """How much one feature differs between segments (0 = the same everywhere, 1 = fully)."""

    feature: str
    label: str
    kind: str  # "numeric": share of variance explained (eta squared); "categorical": Cramér's V
    score: float

    @property
    def weak(self) -> bool:
        return self.score < WEAK


def feature_relevance(
    features: pd.DataFrame, labels: np.ndarray, schema: Schema, names: dict[str, str] | None = None
) -> list[Relevance]:
    """Every feature scored by how well the segments separate it, strongest first (measured on
    a fixed random sample of RELEVANCE_ROWS customers in larger tables)."""
    names = names or {}
    if len(features) > RELEVANCE_ROWS:
        rows = row_sample(len(features), RELEVANCE_ROWS, 0)
        features, labels = features.iloc[rows], labels[rows]
    out = [
        Relevance(col, names.get(col, col), kind, separation(features[col], labels, kind))
        for kind, columns in (("numeric", schema.numeric), ("categorical", schema.categorical))
        for col in columns
    ]
    return sorted(out, key=lambda r: -r.score)


def separation(values: pd.Series, labels: np.ndarray, kind: str) -> float:
    """How much `labels` separate one feature: eta squared for a number, bias-corrected
    Cramér's V for a category."""
    if kind == "categorical":
        if values.isna().any():  # a gap is a category of its own here
            if MISSING_CATEGORY not in values.cat.categories:
                values = values.cat.add_categories([MISSING_CATEGORY])
            values = values.fillna(MISSING_CATEGORY)
        table = category_counts(values, labels).to_numpy(dtype=float)
        return _cramers_v(table)
    seg = pd.Series(labels, index=values.index)
    x = values.astype("float64")
    x = x.fillna(x.median())
    total = float(((x - x.mean()) ** 2).sum())
    between = float(((x.groupby(seg).transform("mean") - x.mean()) ** 2).sum())
    return between / total if total > 0 else 0.0


def _cramers_v(table: np.ndarray) -> float:
    """Cramér's V with Bergsma's bias correction (many categories alone do not score)."""
    n = table.sum()
    r, c = table.shape
    if n <= 1 or min(r, c) < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / np.where(expected > 0, expected, 1)).sum())
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    rows, cols = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    denom = min(rows - 1, cols - 1)
    return float(np.sqrt(phi2 / denom)) if denom > 0 else 0.0


@dataclass(frozen=True)
class Without:
    """The sweep re-run without some features, on a sample: its best k and silhouette; its
    stability is measured when asked for (only advice that the silhouette supports needs it)."""

    k: int
    silhouette: float
    labels: np.ndarray = field(repr=False)  # the sample's labels at k
    X: np.ndarray = field(repr=False)  # the sample's matrix without the features
    seed: int = 0

    def stability(self) -> float:
        """Bootstrap stability at k, as the sweep measures it."""
        rows = stability_sample(len(self.X), self.seed)
        return stability(self.labels[rows], resample_labels(self.X[rows], self.k, self.seed))


def sweep_without(
    X: Matrix,
    owners: Sequence[str],
    drop: list[str],
    ks: list[int],
    seed: int,
    rows: int = CHECK_ROWS,
) -> Without | None:
    """The best-silhouette k and its silhouette when `drop` is left out, on a sample of the
    segmented matrix `X` (`owners`: the feature each of its columns comes from): the same
    preparation and weights as the sweep, less those features' columns."""
    keep = np.array([j for j, owner in enumerate(owners) if owner not in drop], dtype=np.intp)
    if not len(keep):
        return None
    sample = row_sample(X.shape[0], rows, seed)
    X = np.ascontiguousarray(np.asarray(X[sample])[:, keep], dtype=np.float32)
    distinct = len(np.unique(X, axis=0))
    ks = [k for k in ks if k < distinct]
    if not ks:
        return None
    scores = side_by_side(SilhouetteWork(X, seed, 4), ks, thread_count(len(ks)), len(X))
    silhouette, k, labels = max(scores, key=lambda s: (s[0], -s[1]))
    return Without(k, silhouette, labels, X, seed)


def relevance_advice(
    features: pd.DataFrame,
    X: Matrix,
    owners: Sequence[str],
    setup: SweepSetup,
    results: list[KResult],
    relevance: list[Relevance],
) -> list[str]:
    """Advice on the features that separate nothing, given only when the sweep without them
    (on `X`, the matrix segmented, whose columns come from `owners`) was run and came out
    clearly better (higher silhouette, stability no lower): both figures."""
    weak = [r for r in relevance if r.weak]
    grouped = [r.feature for r in weak if r.kind == "numeric" and has_groups(features[r.feature])]
    out = []
    if len(grouped) == 1:
        out.append(
            f"{quoted(grouped[0], 30)} separates nothing here, yet its values fall into groups of "
            "their own: kept (give it more weight to see segments that follow those groups)"
        )
    elif grouped:
        out.append(
            f"{names(grouped, 4, 30)} separate nothing here, yet the values of each fall into "
            "groups of their own: kept (give any of them more weight to see segments that follow "
            "its groups)"
        )
    weak_names = [r.feature for r in weak if r.feature not in grouped]
    if not weak_names or len(weak_names) > len(relevance) // 3:
        return out  # none, or so many that leaving them out would be another analysis
    alt = sweep_without(X, owners, weak_names, setup.ks, setup.seed)
    best = max(results, key=lambda r: r.silhouette)
    if alt is None or alt.silhouette < best.silhouette + CLEARLY:
        return out  # the stability is measured only for advice the silhouette supports
    alt_stability = alt.stability()
    if alt_stability >= best.stability - 0.01:
        out.append(
            f"{names(weak_names, 4, 30)} separate nothing (relevance under {WEAK}) and may hide "
            f"structure: without them the best is k={alt.k}: silhouette "
            f"{silhouette(alt.silhouette)}, stability {agreement(alt_stability)} (on a sample), "
            f"against k={best.k}: {silhouette(best.silhouette)} and "
            f"{agreement(best.stability)} with them; consider leaving them out or giving them "
            "less weight"
        )
    return out


def has_groups(values: pd.Series, rows: int = 4_000) -> bool:
    """Whether a number's values fall into two groups with a valley between them: a two-part
    Gaussian mixture (each part at least 10% of rows) whose means have, between them, a bin of
    the histogram under 30% of the lower of the two peaks. The bins hold PER_BIN customers on
    average at the least (a dip among fewer is chance): at most 30 bins, or, for values on a grid
    of at most GRID_BINS points (whole numbers, tens, tenths, a rating's halves), at most one
    bin per point, each holding whole points, so that the grid's gaps are no valley."""
    x = values.dropna().astype("float64")
    if len(x) > rows:
        x = x.iloc[row_sample(len(x), rows, 0)]
    if x.nunique() < 20 or len(x) < 3 * PER_BIN:  # too few for a valley between two bins
        return False
    mix = GaussianMixture(2, random_state=0).fit(x.to_numpy().reshape(-1, 1))
    low, high = np.sort(mix.means_.ravel())
    if mix.weights_.min() < 0.1:
        return False
    lo, hi = np.quantile(x, [0.01, 0.99])
    most = len(x) // PER_BIN
    edges = _grid_edges(x.to_numpy(), lo, hi, most)
    if edges is None:
        edges = np.linspace(lo, hi, min(BINS, most) + 1)
    counts, edges = np.histogram(x, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    between = (centres > low) & (centres < high)
    if between.sum() < 3:
        return False
    peaks = min(counts[centres <= low].max(initial=0), counts[centres >= high].max(initial=0))
    return bool(counts[between].min() < 0.3 * peaks)


def _grid_edges(x: np.ndarray, lo: float, hi: float, most: int) -> np.ndarray | None:
    """Bin edges for values from lo to hi that lie on a grid (the fewest decimals that hold them
    to float32's precision, and the greatest step every gap between them is a multiple of) of at
    most GRID_BINS points: at most `most` bins of equally many points, each edge half a step
    from a point. None when they lie on no such grid."""
    inside = np.unique(x[(x >= lo) & (x <= hi)]).astype(np.float64)
    if len(inside) < 2 or most < 1:
        return None
    for decimals in range(GRID_DECIMALS + 1):
        scaled = inside * 10.0**decimals
        whole = np.round(scaled)
        if np.all(np.abs(scaled - whole) <= np.abs(scaled) * FLOAT32_ERROR):
            break
    else:
        return None
    if np.abs(whole).max() >= 2**53:
        return None
    points = whole.astype(np.int64)
    step = int(np.gcd.reduce(np.diff(points)))
    count = int((points[-1] - points[0]) // step) + 1
    if count > GRID_BINS:
        return None
    per_bin = -(-count // most)
    bins = -(-count // per_bin)
    return (points[0] + (np.arange(bins + 1) * per_bin - 0.5) * step) / 10.0**decimals
