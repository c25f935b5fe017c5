"""Honest answers on real public tables (small copies in tests/data, see SOURCES.md): which
columns become features, what is built from a log, how gaps are filled, and the words."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segscope.core.describing.words import is_average, notable_categories, ratio_of
from segscope.core.engines.interface import analyse
from segscope.core.engines.local import prepare_tables, segment, start_sweep
from segscope.core.engines.results import Prepared, Segmentation
from segscope.core.errors import DataError
from segscope.core.features.dates import date_rule
from segscope.core.features.pandas_executor import build_customer_frame
from segscope.core.roles import Role
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.sources.reading import read_source

DATA = Path(__file__).parent / "data"
KS = SweepSettings(tuple(range(2, 7)))


@cache
def prepared(name: str) -> Prepared:
    return prepare_tables(read_source(DATA / name))


@cache
def segmented(name: str) -> Segmentation:
    return analyse(DATA / name, settings=KS)


def decisions(name: str) -> str:
    return "\n".join(prepared(name).frame.decisions)


# --- building features from a transaction log --------------------------------------------------


def test_a_ratings_log_averages_ratings_and_never_sums_identifiers() -> None:
    prep = prepared("movielens_ratings.csv.gz")
    columns = set(prep.frame.data.columns)
    assert prep.frame.key == "userId" and prep.rows == 40
    assert not {"total_movieId", "total_year", "total_rating", "avg_movieId"} & columns
    assert {"avg_year", "avg_rating", "days_since_last", "days_since_first"} <= columns
    said = decisions("movielens_ratings.csv.gz")
    assert "log column 'timestamp' gave days_since_last, days_since_first: times in seconds" in said
    assert "log column 'year' gave avg_year: a rating, score, year or share: averaged" in said
    for dropped in ("title", "movieId"):
        assert f"log column '{dropped}' gave nothing: " in said
    for role in ("days_since_last", "days_since_first", "avg_rating"):
        assert prep.schema[role].role is Role.NUMERIC  # measures, never 'identifiers'


def test_dates_written_as_yyyymmdd_are_recognised_by_their_values() -> None:
    prep = prepared("cdnow_master.txt")
    assert prep.frame.reference_date == pd.Timestamp("1998-06-30")
    assert "dates written as whole numbers, like 19970101" in decisions("cdnow_master.txt")
    log = read_source(DATA / "cdnow_master.txt").tables["cdnow_master"]
    assert date_rule("p", log["date"]) == "yyyymmdd"  # whatever the column is called
    assert date_rule("p", log["dollar_value"]) is None
    last = log.groupby("customer_id")["date"].max().astype(str)
    days = (pd.Timestamp("1998-06-30") - pd.to_datetime(last, format="%Y%m%d")).dt.days
    frame = prep.frame.data.set_index("customer_id")["days_since_last"]
    assert (frame.loc[days.index] == days).all()


def test_epoch_seconds_and_month_text_are_dates() -> None:
    s = pd.Series([1_100_000_000, 1_200_000_000, 1_300_000_000])
    assert date_rule("timestamp", s) == "epoch_s" and date_rule("visits", s) is None
    months = pd.Series(["Jan-2015", "Feb-2015", "Mar-2016", "Dec-2014"])
    assert date_rule("period", months) == "month"
    frame = build_customer_frame(
        {
            "orders": pd.DataFrame(
                {"customer_id": [1, 1, 2, 2], "period": months, "qty": [1, 2, 3, 4]}
            )
        }
    )
    assert frame.reference_date == pd.Timestamp("2016-03-01")
    # customer 1 last ordered in Feb-2015: 2015-02-01 to 2016-03-01 is 365 + 29 days
    assert frame.data.set_index("customer_id").loc[1, "days_since_last"] == 365 + 29


def test_a_log_without_a_customers_table_names_every_column_it_used() -> None:
    said = decisions("cdnow_master.txt")
    assert "customers: 1,000 built from the log 'cdnow_master'" in said
    assert "log column 'dollar_value' gave total_dollar_value, avg_dollar_value" in said


# --- gaps ------------------------------------------------------------------------------------


def test_mostly_empty_columns_are_left_out_with_their_reason() -> None:
    assert "missing on 99% of rows" in prepared("planes.csv.gz").schema["speed"].reason
    pets = prepared("seattle_pets.csv.gz").schema["secondary_breed"]
    assert pets.role is Role.IGNORED and "missing on 57% of rows" in pets.reason
    kept = prepare_tables(
        read_source(DATA / "planes.csv.gz"), DataChoices(roles={"speed": Role.NUMERIC})
    )
    gap = kept.gaps["speed"]
    assert gap.share > 0.95 and gap.indicator and "missingindicator_speed" in kept.columns


def test_gaps_are_reported_with_what_filled_them() -> None:
    prep = prepared("credit_data.csv.gz")
    income = prep.gaps["Income"]
    median = float(prep.typed["Income"].median())
    assert income.missing == int(prep.typed["Income"].isna().sum()) == 381
    assert income.filled == f"the median {median:.0f}" and income.indicator
    assert "missingindicator_Income" in prep.columns
    assert not prep.gaps["Debt"].indicator  # 0.4% missing: too few to mean something
    where = list(prep.columns).index("missingindicator_Income")
    missing = prep.typed["Income"].isna().to_numpy()
    assert len(set(prep.X[missing, where])) == 1 and len(set(prep.X[~missing, where])) == 1


# --- columns that are not features --------------------------------------------------------------


def test_names_and_identifiers_are_not_categories() -> None:
    pets = prepared("seattle_pets.csv.gz").schema
    assert (
        pets["animal_name"].role is Role.IGNORED
        and "names or identifiers" in pets["animal_name"].reason
    )
    assert pets["license_number"].role in (Role.IGNORED, Role.KEY)  # never a feature
    assert pets["primary_breed"].role is Role.CATEGORICAL  # many values, but a few cover most rows
    flights = prepared("flights.csv.gz").schema
    assert flights["tailnum"].role is Role.IGNORED


def test_integer_codes_are_categories_or_said_to_be_a_guess() -> None:
    churn = prepared("churn.csv.gz").schema
    assert churn["area_code"].role is Role.CATEGORICAL  # 408, 415, 510
    caravan = prepared("caravan.csv.gz").schema
    small = [c for c in caravan.columns if c.role is Role.NUMERIC and "whole numbers" in c.reason]
    assert len(small) > 40 and all(c.guess for c in small)
    forced = prepare_tables(
        read_source(DATA / "caravan.csv.gz"), DataChoices(roles={"MGEMLEEF": Role.CATEGORICAL})
    )
    assert forced.schema["MGEMLEEF"].role is Role.CATEGORICAL  # one choice changes it


def test_redundant_numbers_are_left_out_but_kept_on_request() -> None:
    churn = prepared("churn.csv.gz").schema
    for kind in ("day", "eve", "night", "intl"):
        reason = churn[f"total_{kind}_charge"].reason
        assert f"total_{kind}_minutes" in reason and "does not count twice" in reason
    cdnow = prepared("cdnow_master.txt").schema  # spend is kept over the CD count it repeats
    assert "total_dollar_value" in cdnow.features
    assert "repeats total_dollar_value" in cdnow["total_number_of_cds"].reason
    kept = prepare_tables(read_source(DATA / "churn.csv.gz"), DataChoices(keep_redundant=True))
    assert "total_day_charge" in kept.schema.features


# --- words -----------------------------------------------------------------------------------

TABLES = [
    "movielens_ratings.csv.gz",
    "cdnow_master.txt",
    "credit_data.csv.gz",
    "churn.csv.gz",
    "planes.csv.gz",
]


@pytest.mark.parametrize("name", TABLES)
def test_every_sentence_rests_on_a_feature_and_a_difference_that_matters(name: str) -> None:
    seg = segmented(name)
    meanings = seg.prepared.frame.meanings
    for p in seg.profiles:
        if p.description.startswith("Close to the average"):
            assert all(is_average(d) for d in p.numeric)
        for d in p.numeric:  # a figure named in the words differs by 20% or more
            if f"{d.label} (" in p.description or f"{d.label} " in p.description.lower():
                ratio = ratio_of(d)
                assert ratio is None or abs(ratio - 1) >= 0.2 or abs(d.z) >= 0.5, d
        if p.action in ("best coupon audience", "coupon target", "fewer, better coupons"):
            assert "burn_rate" in meanings  # coupon advice needs coupon data
        if p.recommendation.startswith("High spend"):
            assert "monetary" in meanings  # spend advice needs a spend column
        if "redeem more coupons" in p.recommendation:
            assert "burn_rate" in meanings
        if "newer customers" in p.description.lower():
            assert "tenure" in meanings
        if p.action == "onboarding":
            recency = next(d for d in p.numeric if d.feature == meanings.get("recency"))
            assert recency.mean <= recency.base_mean * 1.2  # never onboarding the lapsed
        for c in notable_categories(p)[:2]:  # a category is always named with its column
            assert f"{c.label}: ".lower() in p.description.lower()
    assert not any("--" in w for w in seg.warnings)  # no command-line syntax in the advice


def test_data_without_coupons_or_spend_says_what_it_cannot_judge() -> None:
    seg = segmented("movielens_ratings.csv.gz")
    from segscope.core.describing.words import what_can_be_said

    said = what_can_be_said(seg.prepared.frame.meanings)
    assert "says nothing of how much they spend, how often they redeem coupons" in said
    assert not any("coupon" in p.recommendation for p in seg.profiles)


# --- advice that is checked before it is given ----------------------------------------------------


def test_advice_never_drops_the_columns_that_carry_planted_groups() -> None:
    """Four groups planted in two real columns of the credit data, among seven other real
    columns (skewed, heavy-tailed) that swamp them: the segments miss the planted groups, and
    the advice must not then tell the user to leave the planted columns out."""
    real = read_source(DATA / "credit_data.csv.gz").tables["credit_data"]
    columns = [
        "Seniority",
        "Age",
        "Time",
        "Expenses",
        "Income",
        "Assets",
        "Debt",
        "Amount",
        "Price",
    ]
    real = real[columns].copy()
    group = np.arange(len(real)) % 4
    for col, shifts in (("Expenses", [0, 4, 0, 4]), ("Age", [0, 0, 4, 4])):
        real[col] = real[col] + np.array(shifts)[group] * real[col].std()
    prep = prepare_tables({"customers": real})
    setup, it = start_sweep(prep, SweepSettings(tuple(range(2, 7))))
    seg = segment(prep, setup, list(it))
    weak = {r.feature for r in seg.relevance if r.weak}
    assert "Expenses" in weak  # the trap: at the chosen k the planted column separates nothing
    for warning in seg.warnings:
        if "consider leaving them out" in warning:
            assert "Expenses" not in warning and "Age" not in warning
    assert any("'Expenses' separates nothing here, yet its values fall into groups" in w
               for w in seg.warnings)  # fmt: skip


def test_a_near_tie_is_named() -> None:
    seg = segmented("movielens_ratings.csv.gz")
    tie = [w for w in seg.warnings if "near tie" in w]
    assert tie and f"k={seg.choice.k} and k=" in tie[0] and "sampling noise" in tie[0]


def test_a_split_every_resample_reproduces_scores_near_one(seed_workbook: Path) -> None:
    source = read_source(seed_workbook)
    prep = prepare_tables(source, DataChoices(weights={"gender_name": 4.0}))
    setup, it = start_sweep(prep, SweepSettings((2,)))
    seg = segment(prep, setup, list(it))
    crossed = pd.crosstab(seg.labels, prep.typed["gender_name"]).to_numpy()
    assert (crossed == 0).sum() == 2  # the two segments are the two genders
    assert seg.results[0].stability > 0.95
    assert all(p.stability > 0.95 for p in seg.profiles)
    with pytest.raises(DataError, match="weight 'gender_name' instead"):
        prepare_tables(source, DataChoices(weights={"gender_id": 2.0}))
