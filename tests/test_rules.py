"""A rule per segment: found where the segments are boxes, measured honestly, said as SQL that
DuckDB runs to the same customers as the rules in Python."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segscope.core.describing.rules import (
    MIN_PRECISION,
    MIN_RECALL,
    Condition,
    learn_rules,
    nice_numbers,
    own_units,
    sql_text,
)
from segscope.core.engines.local import prepare_tables, segment, start_sweep
from segscope.core.engines.results import Segmentation
from segscope.core.outputs.folders import write_outputs
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.sources.reading import read_source

duckdb = pytest.importorskip("duckdb")


def _segmented(tables: dict[str, pd.DataFrame] | Path, k: int, **choices: object) -> Segmentation:
    source = read_source(tables) if isinstance(tables, Path) else tables
    prep = prepare_tables(source, DataChoices(**choices))  # type: ignore[arg-type]
    settings = SweepSettings((k,))
    setup, results = start_sweep(prep, settings)
    return segment(prep, setup, list(results), settings)


def boxes(n: int = 2400, seed: int = 5) -> pd.DataFrame:
    """Four segments planted as boxes of two behaviour columns (gaps between them), a city that
    is noise and a noise number."""
    rng = np.random.default_rng(seed)
    box = rng.integers(0, 4, n)
    low_x, low_y = np.array([0, 600, 0, 600]), np.array([0, 0, 60, 60])
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "days_since_last": (low_x[box] + rng.uniform(0, 400, n)).round(),
            "spend": (low_y[box] + rng.uniform(0, 40, n)).round(2),
            "city": rng.choice(["Cairo", "Giza", "Aswan"], n),
            "box": box + 1,
        }
    )


@cache
def boxes_segmented() -> tuple[pd.DataFrame, Segmentation]:
    df = boxes()
    return df, _segmented({"customers": df.drop(columns="box")}, 4, weights={"city": 0})


def test_segments_planted_as_boxes_are_recovered_by_their_rules() -> None:
    df, seg = boxes_segmented()
    rules = seg.rules
    assert rules is not None and rules.agreement >= 0.95
    features = own_units(seg.prepared.typed, seg.prepared.frame.data, seg.prepared.schema)
    for p in seg.profiles:
        rule = p.rule
        assert rule is not None and rule.good, rule
        assert rule.precision >= 0.95 and rule.recall >= 0.95, rule.sentence()
        assert rule.conditions <= 3
        # the rule picks out the planted box the segment is (K-Means found the boxes)
        picked = rule.mask(features.__getitem__, len(features))
        box = df["box"].to_numpy() == pd.crosstab(seg.labels, df["box"]).loc[p.segment].idxmax()
        assert (picked & box).sum() / picked.sum() >= 0.95
        assert (picked & box).sum() / box.sum() >= 0.95
        for condition in (c for a in rule.alternatives for c in a):  # numbers people say
            digits = f"{condition.threshold:g}".strip("-0").replace(".", "").rstrip("0")
            assert len(digits) <= 2, condition.words()
    said = " ".join(p.rule.words() for p in seg.profiles if p.rule)
    assert "days since last more than 500" in said or "days since last at most 500" in said


def test_a_category_is_said_by_its_names_and_two_alternatives_at_most() -> None:
    rng = np.random.default_rng(2)
    n = 3000
    features = pd.DataFrame(
        {
            "city": rng.choice(["Cairo", "Giza", "Aswan", "Luxor", "Suez"], n),
            "visits": rng.integers(0, 30, n).astype("float64"),
            "spend": rng.uniform(0, 1000, n),
        }
    )
    cairo_giza = features["city"].isin(["Cairo", "Giza"]).to_numpy()
    either = (cairo_giza & (features["visits"] > 20)) | (features["spend"] > 900)
    labels = np.where(either, 1, 2)
    rules = learn_rules(features, labels, {"visits": "visits per month"})
    one = rules.rule(1)
    assert one is not None and one.precision == 1.0 and one.recall == 1.0
    assert len(one.alternatives) == 2 and one.conditions == 3
    words = one.words()
    assert "city is Cairo or Giza" in words
    assert "visits per month more than 20" in words and "spend more than 900" in words
    assert " OR " in one.sql() and "\"city\" IN ('Cairo', 'Giza')" in one.sql()


def test_a_segment_no_short_rule_describes_says_so() -> None:
    rng = np.random.default_rng(0)
    features = pd.DataFrame(rng.normal(size=(2000, 4)), columns=list("abcd"))
    labels = rng.integers(1, 4, 2000)  # segments that are not regions of the features
    rules = learn_rules(features, labels)
    assert not any(r.good for r in rules.rules)
    for r in rules.rules:
        assert r.precision < MIN_PRECISION or r.recall < MIN_RECALL
        assert r.sentence().startswith(f"No short rule describes segment {r.segment} well")
        assert f"{r.precision:.1%}" in r.sentence()
    assert rules.order == () and rules.covered == 0.0
    assert "CAST(NULL AS INTEGER)" in rules.case_sql()


def test_gaps_that_make_a_segment_are_said_as_gaps() -> None:
    """A tree splits the values from the gaps with an infinite threshold (seen on real tables):
    it is said as 'is missing' / 'is known', never 'at most inf'."""
    rng = np.random.default_rng(4)
    income = np.r_[np.full(300, np.nan), rng.uniform(1000, 5000, 700)]
    city = np.r_[np.full(300, None), rng.choice(["a", "b"], 700)]
    features = pd.DataFrame({"income": income, "city": city, "age": rng.uniform(20, 70, 1000)})
    labels = np.r_[np.ones(300, dtype=int), np.full(700, 2)]
    rules = learn_rules(features, labels)
    said = {r.segment: r.words() for r in rules.rules}
    assert said[1] in ("income is missing", "city is missing"), said
    assert said[2] in ("income is known", "city is known"), said
    assert all(r.precision == 1.0 and r.recall == 1.0 for r in rules.rules)
    assert rules.rule(1) is not None and "IS NULL" in rules.rule(1).sql()  # type: ignore[union-attr]


def test_a_category_with_no_value_where_a_second_condition_is_sought_is_passed_over() -> None:
    """The second half of an 'or' is sought among the rows the first half leaves; a category
    known only on the rows the first half took has no value there (a gallery table crashed)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 100, 1000)
    city = np.where(x >= 50, rng.choice(["a", "b"], 1000), None)
    labels = np.where((x >= 50) | (x < 20), 1, 2)
    rules = learn_rules(pd.DataFrame({"x": x, "city": city}), labels)
    assert all(r.precision == 1.0 and r.recall == 1.0 for r in rules.rules)


def test_thresholds_are_numbers_people_say() -> None:
    assert nice_numbers(399.517)[0] == 400 and nice_numbers(399.517)[-1] == pytest.approx(399.517)
    assert nice_numbers(0.4667)[:3] == [0.5, 0.45, 0.47]
    assert nice_numbers(5.5, whole=True) == [6.0, 5.0]  # counts: x > 5.5 picks what x > 5 picks
    c = Condition("days", "days since the last transaction", ">", 400.0, whole=True)
    assert c.words() == "days since the last transaction more than 400"
    assert c.sql() == '"days" > 400'
    missing = pd.Series([np.nan, 500.0, 300.0])
    assert c.mask(lambda _: missing).tolist() == [False, True, False]  # missing meets nothing
    assert not Condition("days", "d", "<=", 400.0).mask(lambda _: missing)[0]


def test_sql_literals_and_names_are_escaped() -> None:
    assert sql_text("=cmd|' /C calc'!A0") == "'=cmd|'' /C calc''!A0'"
    assert sql_text("a\x1bb") == "'a' || chr(27) || 'b'"  # the file holds no control character
    c = Condition('my "col"', "col", "in", values=("=1", "[bold]x"))
    literals = ["'=1'", "'''=1'", "'[bold]x'"]  # as in the data, and as features.csv has it
    assert c.sql() == '"my ""col""" IN (' + ", ".join(literals) + ")"


def _duckdb_assignment(out: Path, seg: Segmentation) -> pd.Series:
    sql = (out / "rules.sql").read_text()
    key = seg.labels_frame().columns[0]
    features = str(out / "features.csv").replace("'", "''")
    query = f"SELECT \"{key}\" AS key, ({sql}\n) AS rule FROM read_csv('{features}')"
    result = duckdb.sql(query).df()
    return result.set_index("key")["rule"].fillna(0).astype("int64")


def _python_assignment(seg: Segmentation) -> pd.Series:
    prep = seg.prepared
    features = own_units(prep.typed, prep.frame.data, prep.schema)
    assert seg.rules is not None
    assigned = seg.rules.assign(features.__getitem__, len(features))
    return pd.Series(assigned, index=seg.labels_frame().iloc[:, 0].to_numpy())


@pytest.mark.parametrize("which", ["sample", "user"])
def test_the_sql_assigns_every_customer_as_the_rules_do(
    which: str, shop_xlsx: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    path = shop_xlsx if which == "sample" else request.getfixturevalue("seed_workbook")
    seg = _segmented(path, 4)
    assert seg.rules is not None
    for p in seg.profiles:  # every segment: a rule with its fit, or the sentence
        assert p.rule is not None
        said = p.rule.sentence()
        assert said.startswith("Rule: " if p.rule.good else "No short rule")
        assert "precision" in said and "recall" in said
    write_outputs(seg, tmp_path / "out")
    by_sql = _duckdb_assignment(tmp_path / "out", seg)
    by_python = _python_assignment(seg)
    pd.testing.assert_series_equal(
        by_sql.sort_index(), by_python.sort_index(), check_names=False, check_index_type=False
    )
    labels = seg.labels_frame().iloc[:, 1].to_numpy()
    assert math.isclose(seg.rules.agreement, float(np.mean(by_python.to_numpy() == labels)))
    if which == "sample":
        assert seg.rules.agreement > 0.9 and all(p.rule and p.rule.good for p in seg.profiles)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rules"]["agreement"] == pytest.approx(seg.rules.agreement)
    said = [(r["segment"], r["precision"], r["recall"]) for r in summary["rules"]["segments"]]
    assert said == [
        (p.rule.segment, p.rule.precision, p.rule.recall) for p in seg.profiles if p.rule
    ]
    assert summary["rfm"]["measures"] == ["recency", "frequency"]  # neither workbook has amounts
    assert summary["segments"][0]["rfm_cells"] == dict(seg.profiles[0].rfm)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## A rule per segment" in report and "## RFM cells" in report
    assert "### The bounds used" in report and "recency and frequency only" in report


def test_features_csv_holds_each_feature_in_its_own_unit(shop_xlsx: Path, tmp_path: Path) -> None:
    seg = _segmented(shop_xlsx, 4)
    write_outputs(seg, tmp_path / "out")
    written = pd.read_csv(tmp_path / "out" / "features.csv")
    data = seg.prepared.frame.data
    assert list(written.columns[:2]) == ["customer_id", "segment"]
    assert (written["transactions"] == data["transactions"]).all()  # counts as counts
    join_days = (seg.prepared.frame.reference_date - data["join_date"]).dt.days
    assert (written["join_date"] == join_days).all()  # a date as whole days before the reference
    assert set(written["city_name"]) == set(data["city_name"])  # categories by name
    assert {"rfm_r", "rfm_f", "rfm_cell"} <= set(written.columns) and "rfm_m" not in written
