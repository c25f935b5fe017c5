"""RFM cells: quintile scores with ties kept together, named by the rfm package's table, on a real
purchase log; recency and frequency alone on the coupon workbook; said when impossible."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segscope.core.describing.rfm import Rfm, quintile_scores, rfm_cells
from segscope.core.engines.local import prepare_tables
from segscope.core.engines.results import Prepared
from segscope.core.sources.reading import read_source

DATA = Path(__file__).parent / "data"

# The documented table (rfm package vignette "RFM - Customer Level Data"), written out here
# independently of the code: name, R, F, M bounds, tried in this order (the most specific box
# first), Lost as its description says (all scores 1).
DOCUMENTED = [
    ("lost", (1, 1), (1, 1), (1, 1)),
    ("new customers", (4, 5), (1, 1), (1, 1)),
    ("promising", (3, 4), (1, 1), (1, 1)),
    ("can't lose them", (1, 1), (4, 5), (4, 5)),
    ("champions", (4, 5), (4, 5), (4, 5)),
    ("need attention", (2, 3), (2, 3), (2, 3)),
    ("about to sleep", (2, 3), (1, 2), (1, 2)),
    ("hibernating", (1, 2), (1, 2), (1, 2)),
    ("potential loyalist", (3, 5), (1, 3), (1, 3)),
    ("at risk", (1, 2), (2, 5), (2, 5)),
    ("loyal customers", (2, 5), (3, 5), (3, 5)),
]


@cache
def cdnow() -> Prepared:
    return prepare_tables(read_source(DATA / "cdnow_master.txt"))


def _cdnow_rfm() -> Rfm:
    prep = cdnow()
    rfm = rfm_cells(prep.frame.data, prep.frame.meanings, prep.frame.titles)
    assert isinstance(rfm, Rfm)
    return rfm


def independent_scores(values: pd.Series, higher_is_better: bool) -> pd.Series:
    """Quintiles with ties together, by pandas' rank: 1 + floor(5 x (rank among the worse) / n)."""
    worse = values.rank(method="min", ascending=higher_is_better) - 1
    return (1 + np.floor(5 * worse / len(values))).astype(int)


def test_scores_are_quintiles_of_a_real_log_with_ties_kept_together() -> None:
    rfm = _cdnow_rfm()
    data = cdnow().frame.data
    assert rfm.measures == ("recency", "frequency", "monetary")
    assert rfm.columns == {
        "recency": "days_since_last",
        "frequency": "transactions",
        "monetary": "total_dollar_value",
    }
    for measure, column in rfm.columns.items():
        expected = independent_scores(data[column], measure != "recency")
        assert (rfm.scores[measure].astype(int) == expected).all(), measure
        tied = pd.DataFrame({"v": data[column], "s": rfm.scores[measure]})
        assert (tied.groupby("v")["s"].nunique() == 1).all()  # equal values, one score
    # 485 customers bought once: all share F = 1, and F = 2 is left empty by the tie
    once = (data["transactions"] == 1).to_numpy()
    assert once.sum() == 485 and (rfm.scores["frequency"][once] == 1).all()
    f2 = next(b for b in rfm.bounds if b.measure == "frequency" and b.score == 2)
    assert f2.customers == 0 and f2.low is None
    r5 = next(b for b in rfm.bounds if b.measure == "recency" and b.score == 5)
    recent = data["days_since_last"][rfm.scores["recency"] == 5]
    assert (r5.low, r5.high) == (recent.min(), recent.max()) and r5.low == 0
    assert str(r5.low) == "0.0"  # said 0, never -0


def test_each_segments_cells_are_its_customers_cells() -> None:
    """The cells of every segment, counted in one pass over the customers, are those a cross
    table of segment and cell finds, as shares of the segment, largest first."""
    rfm = _cdnow_rfm()
    labels = np.random.default_rng(0).integers(1, 5, len(rfm.codes))
    crossed = pd.crosstab(labels, rfm.cells.fillna("not scored").to_numpy())
    mixes = rfm.mixes(labels, 4)
    assert set(mixes) == {1, 2, 3, 4}
    for segment, mix in mixes.items():
        row = crossed.loc[segment]
        assert dict(mix) == pytest.approx((row[row > 0] / row.sum()).to_dict())
        assert [share for _, share in mix] == sorted((share for _, share in mix), reverse=True)
    with pytest.raises(ValueError, match="labels for"):
        rfm.mixes(labels[1:], 4)


def test_cells_follow_the_documented_bounds() -> None:
    rfm = _cdnow_rfm()
    scores = rfm.scores.astype(int)
    for (r, f, m), cell in zip(scores.itertuples(index=False), rfm.cells, strict=True):
        holding = [
            name
            for name, rb, fb, mb in DOCUMENTED
            if rb[0] <= r <= rb[1] and fb[0] <= f <= fb[1] and mb[0] <= m <= mb[1]
        ]
        assert cell == (holding[0] if holding else "others"), (r, f, m, cell)
    assert set(rfm.cells) >= {"champions", "lost", "hibernating", "loyal customers"}


def test_without_amounts_recency_and_frequency_name_every_combination() -> None:
    every = pd.DataFrame(
        [(r, f) for r in range(1, 6) for f in range(1, 6)], columns=["days", "visits"]
    )
    every["days"] = 6 - every["days"]  # fewer days since the last visit: a higher R
    rfm = rfm_cells(every, {"recency": "days", "frequency": "visits"})
    assert isinstance(rfm, Rfm) and rfm.measures == ("recency", "frequency")
    assert "others" not in set(rfm.cells)  # R and F boxes cover all 25 combinations
    assert "recency and frequency only" in rfm.what()


def test_the_coupon_workbook_uses_recency_and_frequency_only(seed_workbook: Path) -> None:
    prep = prepare_tables(read_source(seed_workbook))
    rfm = rfm_cells(prep.frame.data, prep.frame.meanings, prep.frame.titles)
    assert isinstance(rfm, Rfm)
    assert rfm.measures == ("recency", "frequency") and "M" not in rfm.letters
    assert "recency and frequency only: the data holds no amount spent" in rfm.what()
    assert rfm.customers == prep.rows  # customers without transactions are scored too


def test_without_recency_or_frequency_it_says_what_is_missing() -> None:
    said = rfm_cells(pd.DataFrame({"age": [1, 2, 3]}), {})
    assert isinstance(said, str) and said.startswith("No RFM cells")
    assert "days since the last transaction and number of transactions" in said
    only_recency = rfm_cells(pd.DataFrame({"d": [1, 2]}), {"recency": "d"})
    assert isinstance(only_recency, str) and "number of transactions" in only_recency


@pytest.mark.parametrize("higher", [True, False])
def test_missing_values_are_not_scored(higher: bool) -> None:
    scores = quintile_scores(pd.Series([1.0, np.nan, 3.0, 3.0, 5.0]), higher)
    assert scores.isna().tolist() == [False, True, False, False, False]
    assert scores[2] == scores[3]
