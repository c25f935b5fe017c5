"""The gap statistic (Tibshirani, Walther & Hastie 2001), on the matrix K-Means sees.

For each k, W_k is the data's pooled within-segment sum of squares (the sum over segments of
each point's squared distance to its segment's mean). The data is compared with B reference
sets drawn uniformly over the box aligned with its principal components (the paper's second
method: centre the data, rotate it onto its principal axes, draw uniformly between each axis's
minimum and maximum, rotate back), each clustered by K-Means as the data is:

    Gap(k) = mean_b log W*_kb - log W_k
    sd_k = the standard deviation of log W*_kb over the B sets (divided by B, as in the paper)
    s_k = sd_k * sqrt(1 + 1/B)

and the paper's rule picks the smallest k with Gap(k) >= Gap(k+1) - s(k+1). k = 1 (one segment:
W_1 is the total sum of squares) is computed too, so that the rule can answer "no segments".

Everything runs on one random sample of GAP_ROWS rows of the matrix (the data's W_k from the
sweep's labels of those rows, the references the same size), and every reference set is drawn
from its own seed: the same data and seed give the same figures, on any number of threads.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn import config_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from segscope.core.errors import Cancelled
from segscope.core.preparing.matrix import Matrix
from segscope.core.sampling import row_sample

REFERENCES = 10  # B: reference sets per k (10 is usual)
# the data's rows the gap is measured on (and each reference set's size): on the sample workbook
# B fits of this many rows per k cost a fifth to a quarter of its sweep; 1,000 rows cost a third
GAP_ROWS = 750
SAMPLE_SEED = 3571  # offsets from the run's seed: the gap's own sample and reference draws
DRAW_SEED = 7207
CACHE_BYTES = 64 * 2**20  # the reference sets are kept when they fit in this; else drawn again
EXACT = 1e-12  # a W under this share of the sample's total sum of squares fits its rows exactly


@dataclass(frozen=True)
class GapFigures:
    """The gap statistic at one k."""

    k: int
    log_w: float  # log W_k of the data (on the gap's sample)
    expected: float  # the mean of log W*_kb over the reference sets
    sd: float  # their standard deviation (sd_k)
    references: int  # B

    @property
    def gap(self) -> float:
        return self.expected - self.log_w

    @property
    def s(self) -> float:
        """The paper's s_k: sd_k * sqrt(1 + 1/B), the standard error the rule allows for."""
        return self.sd * math.sqrt(1 + 1 / self.references)

    def to_dict(self) -> dict[str, float]:
        return {
            "gap": self.gap,
            "gap_s": self.s,
            "gap_log_w": self.log_w,
            "gap_expected_log_w": self.expected,
        }


def within_squares(X: np.ndarray, labels: np.ndarray) -> float:
    """W: the sum over segments of each row's squared distance to its segment's mean (computed
    as the total of the squared norms less each segment's |sum|² / size)."""
    X = np.asarray(X, dtype=np.float64)
    _, y = np.unique(labels, return_inverse=True)
    onehot = (y[:, None] == np.arange(y.max() + 1)).astype(np.float64)
    sums = onehot.T @ X
    counts = onehot.sum(axis=0)
    total = float(np.einsum("ij,ij->", X, X))
    return max(total - float((np.einsum("ij,ij->i", sums, sums) / counts).sum()), 0.0)


def principal_box(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The data's mean, its principal axes (rows of `axes`, each signed so that its largest
    entry in absolute value is positive) and the range of the centred data along each axis."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    centred = X - mean
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes *= np.where(signs == 0, 1.0, signs)[:, None]
    rotated = centred @ axes.T
    return mean, axes, rotated.min(axis=0), rotated.max(axis=0)


def rule(figures: Sequence[GapFigures]) -> int | None:
    """The paper's rule: the smallest k with Gap(k) >= Gap(k+1) - s(k+1), among k whose k+1 was
    computed too; None when no k qualifies (the gap still rising at the last k)."""
    by_k = {f.k: f for f in figures if math.isfinite(f.gap)}
    for k in sorted(by_k):
        after = by_k.get(k + 1)
        if after is not None and by_k[k].gap >= after.gap - after.s:
            return k
    return None


class GapReferences:
    """The gap's sample of the data and its B reference sets, fixed for a whole sweep.

    `rows`: the positions, in the matrix given, of the rows the gap is measured on; `figures`
    takes the labels a sweep gives those rows. Reference set b is drawn in float64 from its own
    seed, [seed + DRAW_SEED, b], and kept in float32 (as the matrix K-Means sees); K-Means
    clusters it from one random start (k of its rows, seed + b): uniform data has one broad
    basin, where one start lands within about 1% of the W of the best of ten k-means++ starts
    (measured: 0.1-0.4% in 28 dimensions, about 1% in 5), at a tenth of the cost. The data's
    W_k comes from the sweep's best of ten, so Gap(k >= 2) can read up to about 0.01 high: a
    bias against the "one group" verdict, never towards it.
    """

    def __init__(
        self, X: Matrix, seed: int, rows: int = GAP_ROWS, references: int = REFERENCES
    ) -> None:
        self.rows = row_sample(len(X), rows, seed + SAMPLE_SEED)
        self.sample = np.asarray(X[self.rows], dtype=np.float64)
        self.seed, self.references = seed, references
        self.mean, self.axes, self.low, self.high = principal_box(self.sample)
        size = references * self.sample.size * 4
        self._kept = [self._draw(b) for b in range(references)] if size <= CACHE_BYTES else None
        self.total = within_squares(self.sample, np.zeros(len(self.sample)))  # W_1
        self.one = self._figures(1, self.total)

    def reference(self, b: int) -> np.ndarray:
        """Reference set b: uniform over the principal box, rotated back into the data's space."""
        return self._kept[b] if self._kept is not None else self._draw(b)

    def _draw(self, b: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed + DRAW_SEED, b])
        uniform = rng.random((len(self.sample), len(self.low)))
        box = self.low + uniform * (self.high - self.low)
        return (box @ self.axes + self.mean).astype(np.float32)

    def reference_w(self, k: int, b: int) -> float:
        """W*_kb: reference set b clustered by K-Means into k segments."""
        Z = self.reference(b)
        if k == 1:
            return within_squares(Z, np.zeros(len(Z)))
        km = KMeans(n_clusters=k, init="random", n_init=1, random_state=self.seed + b)
        return within_squares(Z, km.fit(Z).labels_)

    def figures(
        self, k: int, labels: np.ndarray, should_stop: Callable[[], bool] | None = None
    ) -> GapFigures:
        """Gap(k) and s_k, given the labels the sweep's fit of k gives the gap's rows."""
        return self._figures(k, within_squares(self.sample, labels), should_stop)

    def _figures(
        self, k: int, w: float, should_stop: Callable[[], bool] | None = None
    ) -> GapFigures:
        logs = []
        # the references are made here, finite and well formed: scikit-learn's checks of each
        # call are skipped (a tenth of the time)
        with (
            config_context(assume_finite=True, skip_parameter_validation=True),
            warnings.catch_warnings(),  # a sample of identical rows gives identical references
        ):
            warnings.simplefilter("ignore", ConvergenceWarning)
            for b in range(self.references):
                if should_stop is not None and should_stop():
                    raise Cancelled()
                logs.append(self._log(self.reference_w(k, b)))
        values = np.array(logs)
        return GapFigures(
            k, self._log(w), float(values.mean()), float(values.std()), self.references
        )

    def _log(self, w: float) -> float:
        """log W; NaN where W is (all but) zero: segments that fit the sampled rows exactly, for
        which the gap is not defined (log W would be minus infinity)."""
        return math.log(w) if w > EXACT * self.total else math.nan
