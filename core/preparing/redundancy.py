"""Features that repeat others, whatever their types: one determined by another (each value of
the other goes with one value of it: a band of a number, a 0/1 for one category, the same codes
renumbered), exact linear combinations and near-duplicates (|r| >= 0.95).

Kept, they count twice: on the user's coupon workbook `transactions` is exactly the sum of the
burned and subscribed counts, so activity volume weighed several times what anything else did.
A feature determined by another is left out for the one that says more (more values, or a
number over a category); of numbers that repeat each other linearly, the first in the table's
order is kept. The reason says which; the user can keep any other by choosing its role."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from segscope.core.limits import MAX_FEATURES
from segscope.core.sampling import row_sample
from segscope.core.text import names

CLOSE = 0.95  # |correlation| from which two features carry the same information
EXACT = 1e-9  # unexplained variance under this: an exact linear combination
SAMPLE_ROWS = 20_000  # the check runs on at most this many rows
CHECKED = MAX_FEATURES  # features checked at most (those the words rest on first, then in order)
WORK = 2_000_000_000  # multiply-adds at most: sampled rows x checked features^2 (a few seconds)
MIN_ROWS = 2_000  # rows the check keeps however many features it checks


def redundant_features(
    numbers: pd.DataFrame,
    keep: Collection[str] = (),
    prefer: Collection[str] = (),
    seed: int = 0,
) -> dict[str, str]:
    """Numeric features that repeat others, each with the reason (column -> reason).

    Columns in `keep` are never left out (they still count as kept for the others); columns in
    `prefer` (those the words rest on: spend, recency, ...) are kept before the rest, which are
    taken in the table's order; of two near-duplicates the one with more values comes first, so
    it is the one kept (a band of five levels goes, the income it summarises stays).

    Its cost is bounded by construction, whatever the table within the input limits: at most
    CHECKED features are checked (core.limits.MAX_FEATURES: no more are segmented on), on at
    most SAMPLE_ROWS rows, fewer when many features are checked (rows x checked^2 <= WORK, at
    least MIN_ROWS rows). Each feature
    is compared with the kept ones through an orthonormal basis of them, grown one feature at a
    time: rows x kept work per feature, not a least-squares fit against all of them.
    """
    order = [c for c in numbers.columns if c in keep or c in prefer]
    order += [c for c in numbers.columns if c not in order]
    order = order[:CHECKED]
    rows = min(SAMPLE_ROWS, max(MIN_ROWS, WORK // max(1, len(order)) ** 2))
    if len(numbers) > rows:
        numbers = numbers.iloc[row_sample(len(numbers), rows, seed)]
    z = _standardised(numbers[order])
    order = _finer_first([c for c in order if c in z.columns], z, numbers, {*keep, *prefer})
    values = z[order].to_numpy()
    m = len(values)
    kept = np.empty((m, len(order)))  # the kept features' values, in their order
    width = min(m, len(order))
    basis = np.empty((m, width))  # an orthonormal basis of the kept features (Q) ...
    tri = np.zeros((width, width))  # ... and R: the features that made it are basis @ R
    kept_names: list[str] = []
    spanning: list[str] = []  # the kept features that made the basis, in its order
    rank = 0
    out: dict[str, str] = {}
    for j, col in enumerate(order):
        v = values[:, j]
        k = len(kept_names)
        residual = _residual(v, basis[:, :rank])
        if col not in keep and k:
            reason = _repeats(v, residual, kept[:, :k], kept_names)
            if not reason and float(np.mean(residual**2)) < EXACT:
                reason = _combination(v, basis[:, :rank], tri[:rank, :rank], spanning)
            if reason:
                out[col] = reason
                continue
        kept[:, k] = v
        kept_names.append(col)
        norm = float(np.linalg.norm(residual))
        if rank < width and norm > 1e-6 * np.sqrt(m):
            tri[:rank, rank] = basis[:, :rank].T @ v
            tri[rank, rank] = norm
            basis[:, rank] = residual / norm
            spanning.append(col)
            rank += 1
    return out


def _finer_first(
    order: list[str], z: pd.DataFrame, numbers: pd.DataFrame, fixed: set[str]
) -> list[str]:
    """`order` with each feature moved before the first near-duplicate (|r| >= CLOSE) it has
    more values than (features in `fixed` keep their place)."""
    corr = np.abs(z[order].to_numpy().T @ z[order].to_numpy()) / max(1, len(z))
    where = {c: i for i, c in enumerate(order)}
    values = {c: int(numbers[c].nunique()) for c in order}
    out: list[str] = []
    for col in order:
        coarser = [
            i
            for i, c in enumerate(out)
            if c not in fixed and corr[where[c], where[col]] >= CLOSE and values[col] > values[c]
        ]
        if coarser and col not in fixed:
            out.insert(min(coarser), col)
        else:
            out.append(col)
    return out


def _residual(v: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """What of `v` the basis does not explain (projected out twice: numerically orthogonal)."""
    if basis.shape[1] == 0:
        return v.copy()
    residual = v - basis @ (basis.T @ v)
    return residual - basis @ (basis.T @ residual)


def _standardised(numbers: pd.DataFrame) -> pd.DataFrame:
    x = numbers.astype("float64").replace([np.inf, -np.inf], np.nan)
    x = x.fillna(x.median())
    sd = x.std(ddof=0)
    varying = sd[sd > 0].index
    return (x[varying] - x[varying].mean()) / sd[varying]


def _repeats(z: np.ndarray, residual: np.ndarray, kept: np.ndarray, names_: list[str]) -> str:
    """Why `z` repeats one kept column closely, or '' when it does not."""
    r = kept.T @ z / len(z)
    closest = int(np.argmax(np.abs(r)))
    if abs(r[closest]) >= CLOSE:
        return (
            f"repeats {names_[closest]} (correlation {r[closest]:+.2f}): left out so the "
            "same information does not count twice"
        )
    return ""


def _combination(z: np.ndarray, basis: np.ndarray, tri: np.ndarray, spanning: list[str]) -> str:
    """`z`, which the kept columns explain whole: of which of them it is a combination (its
    coefficients from R, a triangular solve)."""
    from scipy.linalg import solve_triangular

    coef = solve_triangular(tri, basis.T @ z)
    parts = [c for c, w in zip(spanning, coef, strict=True) if abs(w) > 1e-6]
    return (
        f"an exact combination of {names(parts, 3, 30)}: left out so the same information "
        "does not count twice"
    )


MIN_OFF = 5  # a determined feature has at least this many rows off its commonest value
MAX_DETERMINING = 300  # features looked at for one determining another (pairs: its square)


def determined_features(
    features: pd.DataFrame,
    keep: Collection[str] = (),
    prefer: Collection[str] = (),
    weak: Collection[str] = (),
    seed: int = 0,
) -> dict[str, str]:
    """Features another feature determines, each with the reason (column -> reason): on every
    row where both have a value, each value of A goes with one value of B, and A repeats its
    values (at least two rows per value: a number different on every row determines anything)
    and B has MIN_OFF rows at least off its commonest value (a value on a row or two goes with
    one value of almost anything).
    B carries no information A lacks and is left out, unless:
    - B is in `keep` (the user chose its role);
    - B is a number and A a category (B's order and size are information A lacks);
    - both are numbers and B does not rise or fall with A (two measures of one group, a
      school's size and its share of low income, not a band or a transform of A).
    When A and B determine each other, the one kept is in `keep` or `prefer`, else a number over
    a category (but not over a number read as one only as a guess: `weak`), else the first in
    the table. Looked at on SAMPLE_ROWS rows and the first MAX_DETERMINING features."""
    if len(features) > SAMPLE_ROWS:
        features = features.iloc[row_sample(len(features), SAMPLE_ROWS, seed)]
    columns = list(features.columns[:MAX_DETERMINING])
    codes = {c: pd.factorize(features[c])[0] for c in columns}  # missing: -1
    distinct = {c: int(codes[c].max()) + 1 for c in columns}
    counts = {c: np.bincount(codes[c][codes[c] >= 0], minlength=1) for c in columns}
    others = {c: int(counts[c].sum() - counts[c].max()) for c in columns}  # off its commonest
    number = {  # a 0/1 flag has no order a category lacks: it counts as a category here
        c: pd.api.types.is_numeric_dtype(features[c]) and distinct[c] > 2 for c in columns
    }
    rows = len(features)
    rank = {
        c: (c not in keep, c not in prefer, not number[c] or c in weak, i)
        for i, c in enumerate(columns)
    }
    out: dict[str, str] = {}
    for a in columns:
        if not 2 <= distinct[a] <= rows // 2 or a in out:
            continue
        for b in columns:
            if b == a or b in out or b in keep or distinct[b] < 2 or distinct[b] > distinct[a]:
                continue
            if others[b] < MIN_OFF:
                continue  # a value on a handful of rows goes with one value of almost anything
            if number[b] and not number[a] and distinct[b] < distinct[a]:
                continue  # a number keeps its order, which the category does not have
            if not _each_goes_with_one(codes[a], codes[b], distinct[a]):
                continue  # some value of a goes with two values of b
            both = (codes[a] >= 0) & (codes[b] >= 0)
            if number[a] and number[b] and not _monotone(features[a][both], features[b][both]):
                continue  # two numbers of one group (a school's size, its share of low income)
            if distinct[b] == distinct[a] and rank[b] < rank[a]:
                continue  # the same information: b is the one kept, a goes when b's turn comes
            out[b] = _determined_reason(a, distinct[a], distinct[b])
    return out


def _each_goes_with_one(a: np.ndarray, b: np.ndarray, values: int) -> bool:
    """Whether each code of `a` goes with one code of `b` on the rows where both have one
    (-1: missing): one value of b is kept per value of a, then every row compared with it."""
    if (a < 0).any() or (b < 0).any():
        both = (a >= 0) & (b >= 0)
        a, b = a[both], b[both]
    seen = np.zeros(values, dtype=b.dtype)
    seen[a] = b
    return bool((seen[a] == b).all())


def _monotone(a: pd.Series, b: pd.Series) -> bool:
    """Whether b rises (or falls) with a: a band, a renumbering or a transform of a (not another
    measure that happens to be constant where a is)."""
    pairs = pd.DataFrame({"a": a.to_numpy(), "b": b.to_numpy()}).drop_duplicates().sort_values("a")
    steps = np.diff(pairs["b"].to_numpy(dtype=float))
    return bool((steps >= 0).all() or (steps <= 0).all())


def _determined_reason(by: str, values: int, own: int) -> str:
    if values == own:
        return (
            f"the same information as {by} (each value of one goes with one value of the "
            "other): left out so it does not count twice"
        )
    return (
        f"determined by {by} (each of its {values:,} values goes with one of these {own:,}): "
        f"left out, {by} says more"
    )
