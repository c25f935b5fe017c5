"""Each class of wrong decision or untrue sentence of issue 24, tested on a real table of the
gallery (tests/data/gallery) where the class shows: the principle that decides it now, not a
rule for the case."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import pytest

from segscope.core.clustering.sweep import SweepSetup
from segscope.core.describing.relevance import (
    Relevance,
    has_groups,
    relevance_advice,
    sweep_without,
)
from segscope.core.describing.views import segments_view
from segscope.core.describing.words import apart, recommend
from segscope.core.engines.interface import analyse
from segscope.core.engines.local import prepare_tables, segment, start_sweep
from segscope.core.errors import DataError
from segscope.core.features.measures import Kind
from segscope.core.models.numbering import like_report, match_to_model
from segscope.core.roles import Role
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.sources.reading import read_source
from segscope.core.text import below

from .gallery import GALLERY, prepared

DATA = Path(__file__).parent / "data"

KS = SweepSettings((3, 4), seed=0)


def kinds(name: str, column: str, choices: DataChoices | None = None) -> set[Kind]:
    """The kinds of measure a log column gave (as built, before any is left out)."""
    prep = prepared(name) if choices is None else prepare(name, choices)
    plan = prep.frame.plan
    built = next(u.built for u in plan.log_columns if u.column == column)
    return {m.kind for m in plan.measures if m.name in built}


def prepare(name: str, choices: DataChoices):  # type: ignore[no-untyped-def]
    return prepare_tables(read_source(GALLERY / f"{name}.csv.gz"), choices)


# 1: a log's flags give shares, its counts totals, its traits the customer's own value
def test_a_logs_flags_counts_and_traits_get_the_measure_that_fits() -> None:
    assert kinds("wagepan_years", "married") == {Kind.SHARE}  # 0/1 each year
    assert kinds("wagepan_years", "union") == {Kind.SHARE}
    assert kinds("wagepan_years", "black") == {Kind.ATTRIBUTE}  # the same every year
    hotels = DataChoices().with_key("agent")  # bookings per travel agent
    assert kinds("hotel_agents", "children", hotels) == {Kind.SUM, Kind.MEAN}  # mostly 0
    assert kinds("hotel_agents", "is_repeated_guest", hotels) == {Kind.SHARE}
    assert kinds("hotel_agents", "country", hotels) == {Kind.DISTINCT}
    assert kinds("hotel_agents", "meal", hotels) == {Kind.COUNT_OF}
    for column in ("married", "union", "south"):  # never "how many different values"
        assert Kind.DISTINCT not in kinds("wagepan_years", column)


# 2: --like numbers segments by who is in which, not by centres
def test_numbering_like_an_earlier_model_keeps_the_most_customers() -> None:
    prep = prepared("credit_balance_islr")
    setup, results = start_sweep(prep, SweepSettings((4,), seed=0))
    earlier = segment(prep, setup, list(results))
    setup, results = start_sweep(prep, SweepSettings((4,), seed=5))
    later = list(results)[0]
    X, clusters = prep.X, later.labels
    order = match_to_model(X, clusters, 4, earlier.model)
    before = earlier.model.pipeline.named_steps["kmeans"].predict(X)
    kept = sum(np.sum((clusters == c) & (before == i)) for i, c in enumerate(order))
    best = max(  # every numbering: none keeps more customers in their earlier number
        sum(np.sum((clusters == c) & (before == i)) for i, c in enumerate(p))
        for p in itertools.permutations(range(4))
    )
    assert kept == best
    remap = np.argsort(order)
    report = like_report(X, remap[clusters], 4, earlier.model, "earlier")
    assert report.agreement == pytest.approx(kept / len(X))
    for m in report.matches:  # a kept number whose customers were elsewhere is said
        assert (m.same < 0.5) == any(f"segment {m.segment} keeps" in w for w in report.warnings)


# 3: a log keyed by a column not named like customer_id is aggregated per it
def test_a_log_keyed_by_an_id_is_read_per_entity_and_an_id_is_never_a_number() -> None:
    for name, key in (("wagepan_years", "nr"), ("cracker_choices", "id"), ("pbc_lab_visits", "id")):
        plan = prepared(name).frame.plan
        assert plan.transactions == name and plan.key == key
        assert key not in prepared(name).schema.features
    attrition = prepared("attrition_ibmhr").schema
    assert attrition["rownames"].role is Role.KEY  # employee numbers, counting up the file
    plan = prepared("kershaw_pitches").frame.plan  # a label repeating: said, with the option
    assert plan.transactions is None and "Batter" in plan.like_keys
    assert any(
        "'Batter' repeats like a key" in line
        for line in prepared("kershaw_pitches").frame.decisions
    )


# 4 and 11: the same information enters once, and the finer copy stays
def test_a_column_another_determines_is_left_out_for_the_one_that_says_more() -> None:
    telco = prepared("telco_watson").schema
    assert telco["phone_service"].role is Role.IGNORED  # one value of multiple_lines
    assert "multiple_lines" in telco["phone_service"].reason
    attrition = prepared("attrition_ibmhr").schema
    assert "PercentSalaryHike" in attrition["PerformanceRating"].reason  # its coarser band
    assert attrition["MonthlyIncome"].role is Role.NUMERIC  # the finer of two near-copies
    assert "MonthlyIncome" in attrition["JobLevel"].reason
    egsingle = prepared("egsingle_math").schema  # a school's code and its size: one stays
    assert egsingle["size"].role is Role.NUMERIC and egsingle["schoolid"].role is Role.IGNORED
    assert egsingle["lowinc"].role is Role.NUMERIC  # another measure of the school, kept


# 5 and 12: the options name the tables, and a sheet is never dropped without a word
def test_a_key_or_a_log_named_alone_finds_the_customers_or_says_why() -> None:
    book = read_source(GALLERY / "nycflights_jan.xlsx")
    for choices in (
        DataChoices(transactions="flights").with_key("tailnum"),
        DataChoices().with_key("tailnum"),
        DataChoices(transactions="flights"),
    ):
        plan = prepare_tables(book, choices).frame.plan
        assert (plan.customers, plan.transactions, plan.key) == ("planes", "flights", "tailnum")
    with pytest.raises(DataError) as refused:
        prepare_tables(book, DataChoices().with_key("nope"))
    said = str(refused.value)
    assert "'planes', 'flights', 'airlines'" in said and "--sheet" in said


# 6: "close to the average" only when it is
def test_close_to_the_average_is_one_rule_for_the_table_and_the_words() -> None:
    seg = analyse(GALLERY / "budget_shares_uk.csv.gz", settings=KS)
    view = segments_view(seg.profiles)
    for p, row in zip(seg.profiles, view.rows, strict=True):
        assert apart(p) in row
        if "close to the average" in apart(p):
            assert all(abs(d.z) < 0.25 for d in p.numeric)


# 7: the words rest on the features in use
def test_what_the_words_rest_on_names_features_in_use() -> None:
    cdnow = read_source(GALLERY.parent / "cdnow_master.txt")
    said = prepare_tables(cdnow).words_rest_on()
    assert "how much they spend (total dollar value)" in said
    assert "how long they have been customers (days since the first transaction)" in said
    without = prepare_tables(cdnow, DataChoices().with_role("total_dollar_value", Role.IGNORED))
    assert "spend (" not in without.words_rest_on()
    assert "nothing of how much they spend" in without.words_rest_on()


# 9: a log's text constant within each customer is the customer's category
def test_a_trait_repeated_on_every_row_is_the_customers_category() -> None:
    prep = prepared("egsingle_math")
    assert kinds("egsingle_math", "female") == {Kind.ATTRIBUTE}
    assert prep.schema["female"].role is Role.CATEGORICAL


# 10: an empty bin between two points of a grid is no valley, nor is a dip among a few customers
@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("gestation_chds", "age"),  # whole numbers
        ("ess9gb_immigration", "eduyrs"),
        ("budget_shares_uk", "totexp"),  # tens
        ("medcare_nmes", "age"),  # tenths
        ("cracker_choices", "records"),  # 136 customers
    ],
)
def test_numbers_on_a_grid_or_few_do_not_fall_into_groups(name: str, column: str) -> None:
    assert not has_groups(prepared(name).typed[column])


def test_groups_are_found_as_a_few_hundred_customers_show_them() -> None:
    """A fifth of 400 customers far apart from the rest falls into a group of its own; tenths
    around 36.8, held as float32 as typed features are, lie on a grid of tenths (one group)."""
    rng = np.random.default_rng(0)
    assert has_groups(pd.Series(np.r_[rng.normal(0, 1, 80), rng.normal(10, 1, 320)]))
    temperatures = np.round(rng.normal(36.8, 0.5, 400), 1).astype(np.float32)
    assert not has_groups(pd.Series(temperatures))


def test_numbers_that_fall_into_groups_are_named_in_one_sentence() -> None:
    """Several numbers whose values fall into two groups, yet which separate nothing: one
    sentence naming a few and how many more, not a line each (a wide table gave 296)."""
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        {f"m{i}": np.r_[rng.normal(0, 1, 600), rng.normal(8, 1, 600)] for i in range(6)}
    )
    weak = [Relevance(c, c, "numeric", 0.0) for c in features]
    assert all(has_groups(features[c]) for c in features)
    X = features.to_numpy(np.float32)
    said = relevance_advice(features, X, list(features), cast(SweepSetup, None), [], weak)
    assert said == [
        "'m0', 'm1', 'm2', 'm3' and 2 more separate nothing here, yet the values of each fall "
        "into groups of their own: kept (give any of them more weight to see segments that "
        "follow its groups)"
    ]
    one = relevance_advice(features[["m0"]], X[:, :1], ["m0"], cast(SweepSetup, None), [], weak[:1])
    assert one == [
        "'m0' separates nothing here, yet its values fall into groups of their own: kept (give "
        "it more weight to see segments that follow those groups)"
    ]


def test_the_sweep_without_weak_features_is_the_sweeps_own_less_their_columns() -> None:
    """The re-sweep that advice on weak features rests on keeps the sweep's preparation and the
    user's weights: only the left-out features' columns go (it was refitted, unweighted)."""
    data = read_source(Path(__file__).parent / "data" / "credit_data.csv.gz")
    prep = prepare_tables(data, DataChoices(weights={"Income": 3.0}))
    assert len(prep.owners) == prep.X.shape[1] and set(prep.owners) == set(prep.schema.features)
    alt = sweep_without(prep.X, prep.owners, ["Seniority", "Home"], [2, 3], seed=0)
    assert alt is not None
    kept = [o for o in prep.owners if o not in ("Seniority", "Home")]
    assert alt.X.shape == (2_000, len(kept))
    income = alt.X[:, kept.index("Income")]
    assert 2.8 < income.std() < 3.2  # standardised, then weighted 3 times
    assert sweep_without(prep.X, prep.owners, list(prep.schema.features), [2], seed=0) is None


# 13: outcomes, unstable segments, the measure's own words, shares, rounding
def test_the_words_say_what_the_data_is() -> None:
    telco = prepared("telco_watson").schema
    assert telco["churn"].role is Role.IGNORED and telco["churn"].guess
    assert "outcome" in telco["churn"].reason
    visits = prepared("medcare_nmes").words_rest_on()
    assert "buy" not in visits and "(visits)" in visits
    seg = analyse(GALLERY / "wagepan_years.csv.gz", settings=KS)
    shares = [d for p in seg.profiles for d in p.numeric if d.share]
    assert any(d.label.startswith("share of records") for d in shares)  # a flag's share...
    for p in seg.profiles:
        for d in shares:
            assert (
                f"{d.label} " not in p.description
                or "×" not in p.description.split(d.label)[1][:12]
            )
    weak = seg.profiles[0]
    weak.stability = 0.14
    assert recommend(weak, seg.prepared.meanings)[0] == "too unstable to act on"
    assert below(0.7996, 0.8) == "0.7996" and below(0.75, 0.8) == "0.75"


def test_a_columns_judgement_rests_on_its_values_not_on_how_pandas_holds_them() -> None:
    """Numbers held as numpy's floats, whole numbers or flags are judged without pandas at each
    step: every number column of the real credit table (gaps in some), and numbers at the edges
    (infinities, halves, minus zero, gaps, a count up, no rows, flags, an index of its own), get
    the wholeness pandas' own arithmetic gives them, and the role and counting up that the same
    values held as pandas' nullable types get."""
    from segscope.core.features.values import counts_up, whole
    from segscope.core.preparing.schema import infer_role

    credit = read_source(DATA / "credit_data.csv.gz").tables
    columns = [s for df in credit.values() for _, s in df.items() if s.dtype.kind in "iuf"]
    edges = [
        pd.Series([0.5, 1.0, np.nan] * 10),
        pd.Series([np.inf, -np.inf, 2.0, -0.0] * 10),
        pd.Series([1.0, 2.0, np.nan, 4.0] * 10, index=np.arange(40)[::-1] * 3),
        pd.Series(np.arange(30.0)),
        pd.Series(np.arange(30.0)).where(lambda s: s != 7),
        pd.Series([np.nan] * 30),
        pd.Series([], dtype="float64"),
        pd.Series(np.arange(40) % 3),
        pd.Series(np.arange(40, dtype="uint16")),
        pd.Series([True, False] * 20),
    ]
    nullable = {"f": "Float64", "b": "boolean"}
    pairs = [(s, s.astype(nullable.get(s.dtype.kind, "Int64"))) for s in columns + edges]
    gappy = pd.Series([1, None, 3, 4] * 10, dtype="Int64")  # nullable whole numbers with gaps
    pairs += [(gappy.astype("float64"), gappy), (pd.Series([np.nan] * 30), gappy.where(gappy > 9))]
    for s, held in pairs:
        name = str(s.name or "measure")
        present = s.dropna()
        assert whole(s) == (bool(len(present)) and bool((present % 1 == 0).all())), name
        assert whole(s) == whole(held) or np.isinf(present).any(), name  # inf: NA to pandas' %
        assert counts_up(s) == counts_up(held), name
        assert infer_role(name, s, None) == infer_role(name, held, None), name
    assert len(columns) >= 5
