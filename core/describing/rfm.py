"""RFM cells beside the K-Means segments: each customer scored 1-5 on recency, frequency and
monetary value, and named with the commonly used table of RFM segments.

Scores are quintiles of customers, with ties kept together: a customer's score is 1 + the
whole fifths of customers whose value is worse than theirs, that is 1 + floor(5 x (customers
with a worse value) / customers). Worse is more days since the last transaction for recency,
fewer transactions for frequency, less spent for monetary value; so 5 is the best fifth.
Customers with the same value always share a score (the score of the first of them in the
order), so a score can hold more or fewer than a fifth of customers, or none: where 60% of
customers made one transaction, they all have F = 1, and two transactions score F = 4. The
value range each score covers is reported ("the bounds used"). Customers missing a value are
not scored.

The cells are named with the table of the R package `rfm` (Aravind Hebbali; vignette "RFM -
Customer Level Data", rsquaredacademy/rfm, vignettes/rfm-customer-level-data.Rmd), the widely
published table of eleven named RFM segments: Champions R 4-5, F 4-5, M 4-5; Loyal Customers
R 2-5, F 3-5, M 3-5; Potential Loyalist R 3-5, F 1-3, M 1-3; New Customers R 4-5, F 1, M 1;
Promising R 3-4, F 1, M 1; Need Attention R 2-3, F 2-3, M 2-3; About To Sleep R 2-3, F 1-2,
M 1-2; At Risk R 1-2, F 2-5, M 2-5; Can't Lose Them R 1, F 4-5, M 4-5; Hibernating R 1-2,
F 1-2, M 1-2; Lost R 1-2, F 1-2, M 1-2. Its boxes overlap: tried top to bottom, as the vignette
tries them, New Customers, Promising and Can't Lose Them could never be reached (wider boxes
above take them), and Lost's bounds are Hibernating's. So a cell takes the first name, in
order of the boxes' sizes (the most specific first; ties in the table's order), whose bounds
hold, and Lost follows its description, "lowest recency, frequency & monetary scores": R, F and
M all 1. A score combination no box holds is "others" (as in the vignette). With recency and
frequency but no monetary value, the M bounds are left out (every box then is a box of R and F,
and every combination has a name).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segscope.core.describing.profiles import COUNT_ROWS
from segscope.core.text import number
from segscope.core.threads import row_blocks

SCORES = 5
MEASURES = ("recency", "frequency", "monetary")
LETTERS = {"recency": "R", "frequency": "F", "monetary": "M"}
OTHERS = "others"


@dataclass(frozen=True)
class Named:
    """One named RFM segment: its bounds on each score (low, high), both included."""

    name: str
    description: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]

    def bounds(self, measures: tuple[str, ...]) -> dict[str, tuple[int, int]]:
        every = {"recency": self.r, "frequency": self.f, "monetary": self.m}
        return {m: every[m] for m in measures}

    @property
    def size(self) -> int:
        return (
            (self.r[1] - self.r[0] + 1) * (self.f[1] - self.f[0] + 1) * (self.m[1] - self.m[0] + 1)
        )


# The rfm package's table (see the module's docstring), Lost as its description says.
TABLE = (
    Named("champions", "bought recently, buy often and spend the most", (4, 5), (4, 5), (4, 5)),
    Named("loyal customers", "spend good money, responsive to promotions", (2, 5), (3, 5), (3, 5)),
    Named(
        "potential loyalist",
        "recent customers, spent a good amount, bought more than once",
        (3, 5),
        (1, 3),
        (1, 3),
    ),  # fmt: skip
    Named("new customers", "bought recently, but not often", (4, 5), (1, 1), (1, 1)),
    Named("promising", "recent shoppers, but have not spent much", (3, 4), (1, 1), (1, 1)),
    Named(
        "need attention",
        "above average recency, frequency and monetary values",
        (2, 3),
        (2, 3),
        (2, 3),
    ),  # fmt: skip
    Named(
        "about to sleep",
        "below average recency, frequency and monetary values",
        (2, 3),
        (1, 2),
        (1, 2),
    ),  # fmt: skip
    Named("at risk", "spent big money, purchased often, but long ago", (1, 2), (2, 5), (2, 5)),
    Named("can't lose them", "made big purchases and often, but long ago", (1, 1), (4, 5), (4, 5)),
    Named("hibernating", "low spenders, low frequency, purchased long ago", (1, 2), (1, 2), (1, 2)),
    Named("lost", "lowest recency, frequency and monetary scores", (1, 1), (1, 1), (1, 1)),
)
# Tried in this order: the most specific box first (ties in the table's order).
ORDER = tuple(sorted(TABLE, key=lambda n: n.size))


@dataclass(frozen=True)
class ScoreBounds:
    """The values one score of one measure covers, among the customers scored."""

    measure: str
    score: int
    low: float | None  # None: no customer has this score (ties took it)
    high: float | None
    customers: int


@dataclass
class Rfm:
    """Each customer's RFM scores and cell, what they rest on, and the bounds used."""

    measures: tuple[str, ...]  # ("recency", "frequency", "monetary") or without "monetary"
    columns: dict[str, str]  # measure -> the customer table's column
    titles: dict[str, str]  # measure -> what the column holds, in words
    scores: pd.DataFrame  # one column per measure (R, F, M), 1..5, <NA> when not scored
    codes: np.ndarray  # each customer's cell as its place in NAMES (-1: not scored)
    bounds: list[ScoreBounds]
    customers: int  # customers scored on every measure
    notes: tuple[str, ...] = ()

    @property
    def cells(self) -> pd.Series:
        """The cell's name per customer (missing when not scored)."""
        return pd.Series(self.cell_names(), index=self.scores.index)

    def cell_names(self, rows: int | None = None) -> pd.Categorical:
        """The cell's name of each customer (of the first `rows`; missing when not scored), as
        codes into the cells' names: ten million customers hold a dozen texts."""
        return pd.Categorical.from_codes(self.codes[:rows], categories=NAMES)

    def counts(self) -> dict[str, int]:
        """Customers per cell, those not scored as "not scored"; largest first (ties in the
        table's order), cells with none left out."""
        return _by_size(np.bincount(self.codes + 1, minlength=len(NAMES) + 1))  # 0: not scored

    @property
    def letters(self) -> str:
        return "".join(LETTERS[m] for m in self.measures)

    def what(self) -> str:
        """What the cells rest on, in one sentence."""
        used = ", ".join(f"{m} ({self.titles[m]})" for m in self.measures)
        text = f"RFM cells on {used}: each scored 1-5 by quintiles of customers, ties kept together"
        if "monetary" not in self.measures:
            text += "; recency and frequency only: the data holds no amount spent"
        return text

    def mixes(self, labels: np.ndarray, k: int) -> dict[int, list[tuple[str, float]]]:
        """The cells of each segment's customers (`labels` 1..k), largest share first: counted
        in one pass over the customers, COUNT_ROWS at a time."""
        if len(labels) != len(self.codes):
            raise ValueError(f"{len(labels)} labels for {len(self.codes)} customers")
        width = len(NAMES) + 1  # 0: not scored
        table = np.zeros((k + 1) * width, dtype=np.int64)
        for rows in row_blocks(len(self.codes), COUNT_ROWS):
            pairs = np.asarray(labels[rows], dtype=np.intp) * width
            pairs += self.codes[rows]
            pairs += 1
            table += np.bincount(pairs, minlength=len(table))
        out = {}
        for segment, n in enumerate(table.reshape(k + 1, width)[1:], start=1):
            counts = _by_size(n)
            total = sum(counts.values())
            out[segment] = [(c, m / total) for c, m in counts.items()]
        return out

    def bounds_lines(self) -> list[str]:
        """The value range of each score, one line per measure."""
        out = []
        for m in self.measures:
            parts = []
            for b in (b for b in self.bounds if b.measure == m):
                if b.low is None or b.high is None:
                    parts.append(f"{b.score}: none")
                elif b.low == b.high:
                    parts.append(f"{b.score}: {number(b.low)}")
                else:
                    parts.append(f"{b.score}: {number(b.low)}-{number(b.high)}")
            out.append(f"{LETTERS[m]} ({self.titles[m]}): " + "; ".join(parts))
        return out


def _by_size(n: np.ndarray) -> dict[str, int]:
    """Customers per cell from their counts (the not scored first), largest first (ties in the
    table's order), cells with none left out."""
    found = [(name, int(c)) for name, c in zip(("not scored", *NAMES), n, strict=True) if c]
    return dict(sorted(found, key=lambda kv: (-kv[1], _rank(kv[0]))))


def _rank(name: str) -> int:
    names = [n.name for n in TABLE]
    return names.index(name) if name in names else len(names)


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1 + floor(5 x (customers with a worse value) / customers scored); <NA> when missing."""
    return _quintiles(values, higher_is_better)[0]


def _quintiles(
    values: pd.Series, higher_is_better: bool = True
) -> tuple[pd.Series, dict[int, tuple[float, float, int]]]:
    """quintile_scores, and each score given: its lowest and highest value, and customers.

    A customer's score is 1 + the number of the four cut values below their value, where cut s
    is the value of the ceil(s n / 5)-th worst of the n customers scored: at least that many
    customers are worse exactly when that customer's value is above it. The cuts, and each
    score's values, are read off the sorted values."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    known = np.isfinite(v)
    sign = 1.0 if higher_is_better else -1.0
    x = sign * (v if known.all() else v[known]) + 0.0  # -0.0 is 0.0
    scores = np.zeros(len(v), dtype=np.int8)
    given = {}
    if len(x):
        ordered = np.sort(x)
        cuts = ordered[[-(-s * len(x) // SCORES) - 1 for s in range(1, SCORES)]]
        scored = np.ones(len(x), dtype=np.int8)
        for cut in cuts:
            scored += x > cut
        scores[known] = scored
        # score s: the values above cut s - 1, up to cut s
        ends = [0, *np.searchsorted(ordered, cuts, side="right"), len(x)]
        for score, (first, stop) in enumerate(itertools.pairwise(ends), start=1):
            if stop > first:
                low, high = sorted((sign * ordered[first] + 0.0, sign * ordered[stop - 1] + 0.0))
                given[score] = (float(low), float(high), int(stop - first))
    return pd.Series(pd.arrays.IntegerArray(scores, ~known), index=values.index), given


NAMES = (*(cell.name for cell in ORDER), OTHERS)  # a cell's code is its place here


def cell_codes(scores: pd.DataFrame, measures: tuple[str, ...]) -> np.ndarray:
    """Each customer's cell as its place in NAMES: the first cell of ORDER whose bounds hold,
    OTHERS when none; -1 when a score is missing. Decided once for each of the 5^m score
    combinations, then looked up."""
    combos = np.array(np.meshgrid(*[np.arange(1, SCORES + 1)] * len(measures), indexing="ij"))
    combos = combos.reshape(len(measures), -1)  # one column per combination
    table = np.full(combos.shape[1], len(NAMES) - 1, dtype=np.int8)  # OTHERS
    named = np.zeros(combos.shape[1], dtype=bool)
    for code, cell in enumerate(ORDER):
        inside = ~named
        for i, (low, high) in enumerate(cell.bounds(measures).values()):
            inside &= (combos[i] >= low) & (combos[i] <= high)
        table[inside] = code
        named |= inside
    known = np.ones(len(scores), dtype=bool)
    place = np.zeros(len(scores), dtype=np.int16)  # the combination's column in the table
    for m in measures:
        score = scores[m].to_numpy(dtype="int8", na_value=0)  # 0: not scored
        known &= score > 0
        place *= SCORES
        place += score
        place -= 1
    codes = table[np.where(known, place, 0)]
    codes[~known] = -1
    return codes


def rfm_cells(
    data: pd.DataFrame, meanings: Mapping[str, str], titles: Mapping[str, str] | None = None
) -> Rfm | str:
    """The RFM scores and cells of every customer of `data` (the customer table), from the
    columns that mean recency, frequency and monetary value; or, when recency or frequency is
    missing, the sentence saying what is missing (RFM is then skipped)."""
    titles = titles or {}
    missing = [m for m in ("recency", "frequency") if meanings.get(m) not in data.columns]
    if missing:
        lacking = " and ".join(
            {"recency": "days since the last transaction", "frequency": "number of transactions"}[m]
            for m in missing
        )
        return (
            f"No RFM cells: they need recency and frequency, and the data holds no "
            f"{lacking} (a transaction log with dates gives both)."
        )
    measures = tuple(m for m in MEASURES if meanings.get(m) in data.columns)
    columns = {m: meanings[m] for m in measures}
    scored = {m: _quintiles(data[columns[m]], higher_is_better=m != "recency") for m in measures}
    scores = pd.DataFrame({m: scored[m][0] for m in measures}, index=data.index)
    codes = cell_codes(scores, measures)
    bounds = []
    for m in measures:
        for score in range(1, SCORES + 1):
            low, high, n = scored[m][1].get(score, (None, None, 0))
            bounds.append(ScoreBounds(m, score, low, high, n))
    return Rfm(
        measures,
        columns,
        {m: titles.get(c, c.replace("_", " ")) for m, c in columns.items()},
        scores,
        codes,
        bounds,
        int((codes >= 0).sum()),
    )


def table_rows(measures: tuple[str, ...]) -> list[tuple[str, str, str, str, str]]:
    """The named cells in the order they are tried, with their bounds (for the reports)."""
    out = []
    for cell in ORDER:
        b = cell.bounds(measures)
        ranges = [
            "–" if m not in b else f"{b[m][0]}" if b[m][0] == b[m][1] else f"{b[m][0]}-{b[m][1]}"
            for m in MEASURES
        ]
        out.append((cell.name, ranges[0], ranges[1], ranges[2], cell.description))
    return out
