"""Trusting and reusing the answer: stability, relevance, doubt, comparing k, scoring, --like."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from sample_data.generate import planted_customers
from segscope.core.clustering.crosstab import compare_k
from segscope.core.describing.relevance import feature_relevance
from segscope.core.describing.words import compare_text
from segscope.core.engines.local import prepare_tables, segment, start_sweep
from segscope.core.errors import DataError
from segscope.core.models.scoring import score_tables
from segscope.core.roles import Role
from segscope.core.settings import DataChoices, SweepSettings

INFORMATIVE = [
    "age",
    "annual_income",
    "spending_score",
    "visits_per_month",
    "days_since_last_visit",
]


def _run(df: pd.DataFrame, ks, k=None, like=None, **choices):  # type: ignore[no-untyped-def]
    prep = prepare_tables({"customers": df}, DataChoices(**choices))
    settings = SweepSettings(tuple(ks), 42, k, like)
    setup, it = start_sweep(prep, settings)
    return segment(prep, setup, list(it), settings)


def test_stability_high_on_planted_low_on_noise(planted: pd.DataFrame) -> None:
    seg = _run(planted, [3, 4, 5], only_features=INFORMATIVE)
    four = next(r for r in seg.results if r.k == 4)
    assert four.stability > 0.95
    assert all(p.stability > 0.9 for p in seg.profiles)
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.normal(size=(1500, 5)), columns=list("abcde"))
    noisy = _run(noise, [3, 4, 5, 6])
    assert max(r.stability for r in noisy.results) < 0.8
    assert any("weak structure" in w for w in noisy.warnings)
    assert any("unstable" in w for w in noisy.warnings)


def test_noise_features_are_called_out(planted: pd.DataFrame) -> None:
    seg = _run(planted, [3, 4, 5], roles={"planted": Role.IGNORED})
    weak = {r.feature for r in seg.relevance if r.weak}
    assert weak == {"gender_id", "city_id"}
    called_out = [w for w in seg.warnings if "separate nothing" in w]
    assert len(called_out) == 1 and "city_id" in called_out[0] and "gender_id" in called_out[0]
    assert "without them the best is k=4" in called_out[0]  # checked before it is given
    strong = {r.feature for r in seg.relevance if r.score > 0.3}
    assert strong == set(INFORMATIVE)


def test_relevance_scores_follow_the_data() -> None:
    labels = np.repeat([0, 1], 100)
    df = pd.DataFrame(
        {
            "separated": np.r_[np.zeros(100), np.ones(100)],
            "mixed": np.tile([0.0, 1.0], 100),
            "cat": np.r_[["a"] * 100, ["b"] * 100],
        }
    )
    from segscope.core.preparing.schema import infer_schema

    rel = {r.feature: r.score for r in feature_relevance(df, labels, infer_schema(df))}
    assert rel["separated"] == pytest.approx(1.0)
    assert rel["mixed"] == pytest.approx(0.0)
    assert rel["cat"] > 0.95


def test_weights_drop_or_soften_a_feature(planted: pd.DataFrame) -> None:
    dropped = prepare_tables(
        {"customers": planted}, DataChoices(weights={"city_id": 0, "planted": 0})
    )
    assert "city_id" not in dropped.schema.features
    half = prepare_tables({"customers": planted}, DataChoices(weights={"age": 0.5, "planted": 0}))
    full = prepare_tables({"customers": planted}, DataChoices(roles={"planted": Role.IGNORED}))
    col = half.columns.index("age")
    np.testing.assert_allclose(half.X[:, col], 0.5 * full.X[:, col], rtol=1e-5)
    with pytest.raises(DataError, match="unknown column 'nope'"):
        prepare_tables({"customers": planted}, DataChoices(weights={"nope": 2}))


def test_compare_two_k(planted: pd.DataFrame) -> None:
    seg = _run(planted, [3, 4], only_features=INFORMATIVE)
    table = compare_k(seg.results, 3, 4)
    assert table.to_numpy().sum() == len(planted)
    assert table.shape == (3, 4)
    assert any("splits into" in t for t in compare_text(table))
    with pytest.raises(DataError, match="k=7 was not in the sweep"):
        compare_k(seg.results, 3, 7)


def test_scoring_a_held_out_half_matches_the_full_fit(planted: pd.DataFrame) -> None:
    seg = _run(planted, [4], only_features=INFORMATIVE)
    held_out = planted.iloc[::2].reset_index(drop=True)
    result = score_tables(seg.model, {"customers": held_out}, "half.csv")
    full = seg.labels_frame().set_index("customer_id")["segment"]
    assert (
        result.labels.set_index("customer_id")["segment"] == full.loc[held_out["customer_id"]]
    ).all()
    assert result.outliers < 0.02 * len(held_out)
    assert max(result.drift.values()) < 0.1


def test_drift_and_outliers_are_reported(planted: pd.DataFrame) -> None:
    seg = _run(planted, [4], only_features=INFORMATIVE)
    moved = planted.assign(age=planted["age"] + 40)
    result = score_tables(seg.model, {"customers": moved}, "moved.csv")
    assert result.moved(1)[0][0] == "age"
    assert result.outliers > 0.5 * len(moved)
    assert any("farther from every segment" in w for w in result.warnings)


def test_like_keeps_segment_numbers_month_on_month() -> None:
    month1 = planted_customers(n=1200, k=4, seed=21)
    first = _run(month1.drop(columns="planted"), [4], only_features=INFORMATIVE)
    # next month: the same segments, other customers, other sizes
    month2 = planted_customers(n=1500, k=4, seed=21)
    keep = month2["planted"].map({1: 1.0, 2: 0.3, 3: 1.0, 4: 0.6})
    month2 = month2[np.random.default_rng(1).random(len(month2)) < keep].reset_index(drop=True)
    plain = _run(month2.drop(columns="planted"), [4], only_features=INFORMATIVE)
    like = _run(month2.drop(columns="planted"), [4], only_features=INFORMATIVE, like=first.model)
    truth1 = pd.crosstab(month1["planted"], first.labels).idxmax(axis=1)  # planted -> number
    truth2 = pd.crosstab(month2["planted"], like.labels).idxmax(axis=1)
    assert truth1.to_dict() == truth2.to_dict()
    assert adjusted_rand_score(plain.labels, like.labels) == pytest.approx(1.0)
    assert [p.size for p in like.profiles] != sorted((p.size for p in like.profiles), reverse=True)
    report = like.like  # what the numbering rests on, recorded
    assert report is not None and report.earlier_k == 4 and report.agreement > 0.95
    assert [m.segment for m in report.matches] == [1, 2, 3, 4]
    assert all(m.earlier and m.same > 0.9 and m.distance < 0.5 for m in report.matches)
    from segscope.core.outputs.summary import summary

    recorded = summary(like)["numbered_like"]
    assert recorded["agreement"] > 0.95 and len(recorded["segments"]) == 4


def test_noise_demographics_dilute_the_choice_and_it_is_shown(planted: pd.DataFrame) -> None:
    seg = _run(planted, range(2, 9), roles={"planted": Role.IGNORED})
    without = _run(planted, range(2, 9), only_features=INFORMATIVE)
    assert seg.choice.k < without.choice.k == 4
    advice = [w for w in seg.warnings if "may hide structure" in w]
    assert advice and "without them the best is k=4" in advice[0]
    assert f"against k={seg.choice.k}" in advice[0]
