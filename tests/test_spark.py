"""The Spark engine, run for real in local[2]: same features, same answer, same outputs.

Equivalence is tested where it is decided: the preparation gives the same decisions and the
same transformed matrix (so both K-Means, Spark's and scikit-learn's, cluster the same
numbers); whole runs by both engines, on the sample workbook (k 3-4) and the user's workbook
(k 2-3), check the choice of k, the silhouette, the labels, the outputs and the saved model."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segscope.core.engines.interface import Engine, analyse, engine_for
from segscope.core.engines.results import Prepared, Segmentation
from segscope.core.errors import Cancelled, DataError, OutputExists
from segscope.core.models.scoring import score_tables
from segscope.core.outputs.folders import write_outputs
from segscope.core.roles import Role
from segscope.core.settings import DataChoices, EngineSettings, SweepSettings
from segscope.core.sources.reading import read_source
from segscope.tui.cli import main

pytest.importorskip("pyspark", reason="the spark extra is not installed")
pytestmark = pytest.mark.spark

MASTER = "local[2]"
KS = range(3, 5)  # the sample's k=4 and one beside it: each k costs Spark several seconds


def spark_engine() -> Engine:
    return engine_for(EngineSettings("spark", MASTER))


def run(
    path: Path, ks: range | list[int] = KS, on: str = "spark", **choices: object
) -> Segmentation:
    """`path` segmented by the Spark (or the local) engine, with these data choices."""
    engine = spark_engine() if on == "spark" else None
    return analyse(path, DataChoices(**choices), SweepSettings(tuple(ks)), engine)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shop_runs(shop_xlsx: Path) -> tuple[Segmentation, Segmentation]:
    """The sample workbook segmented by both engines."""
    return run(shop_xlsx), run(shop_xlsx, on="local")


def prepared_by_both(path: Path, choices: DataChoices) -> tuple[Prepared, Prepared]:
    """`path` prepared by the Spark engine and by the local one, with these choices."""
    spark, local = spark_engine(), engine_for(EngineSettings())
    return (
        spark.prepare(spark.open(str(path)), choices),
        local.prepare(local.open(str(path)), choices),
    )


def close(ours: np.ndarray, theirs: np.ndarray) -> None:
    """The same numbers, but that Spark's StandardScaler divides by the sample SD (n - 1) and
    scikit-learn's by the population SD (n): sqrt(n / (n - 1)), 1.0003 at 1,500 rows."""
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-5)


def assert_same_matrix(spark: Prepared, local: Prepared) -> None:
    """The same decisions and the same transformed rows, customer for customer: the sweep
    that follows is the same computation on the same numbers."""
    assert spark.frame.decisions == local.frame.decisions
    assert spark.schema.to_dict() == local.schema.to_dict() and spark.columns == local.columns
    assert_same_rows(spark, local)


def assert_same_rows(ours: Prepared, theirs: Prepared) -> None:
    """The same transformed row for every customer (matched by the key)."""
    key = ours.frame.key
    mine = pd.DataFrame(ours.X, index=ours.frame.data[key].to_numpy())
    other = pd.DataFrame(theirs.X, index=theirs.frame.data[key].to_numpy()).loc[mine.index]
    close(mine.to_numpy(), other.to_numpy())


@pytest.fixture(scope="module")
def planted_csv(tmp_path_factory: pytest.TempPathFactory, planted: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("planted") / "planted.csv"
    planted.to_csv(path, index=False)
    return path


def spark_labels(seg: Segmentation) -> pd.DataFrame:
    return seg.labels_out.labelled.toArrow().to_pandas()  # type: ignore[attr-defined]


def test_same_features_as_the_local_engine(shop_runs: tuple[Segmentation, Segmentation]) -> None:
    spark, local = shop_runs
    assert spark.prepared.rows == local.prepared.rows == 2000
    assert spark.prepared.frame.decisions == local.prepared.frame.decisions
    assert spark.prepared.schema.numeric == local.prepared.schema.numeric
    assert spark.prepared.schema.categorical == local.prepared.schema.categorical
    assert spark.prepared.schema.left_out == local.prepared.schema.left_out
    key = spark.prepared.frame.key
    columns = [key, *spark.prepared.schema.features]
    ours = spark.prepared.full.table.select(*columns).toArrow().to_pandas()
    theirs = local.prepared.frame.data
    theirs = local.prepared.typed.assign(**{key: theirs[key]})[columns]
    both = ours.merge(theirs, on=key, suffixes=("_spark", "_local"))
    assert len(both) == 2000
    for c in spark.prepared.schema.numeric:
        np.testing.assert_allclose(both[f"{c}_spark"], both[f"{c}_local"], rtol=1e-6, err_msg=c)
    for c in spark.prepared.schema.categorical:
        assert (both[f"{c}_spark"] == both[f"{c}_local"]).all(), c


def test_same_answer_on_the_sample_workbook(shop_runs: tuple[Segmentation, Segmentation]) -> None:
    spark, local = shop_runs
    assert spark.choice.k == local.choice.k == 4
    assert_same_matrix(spark.prepared, local.prepared)
    for s, lo in zip(spark.results, local.results, strict=True):
        assert s.k == lo.k
    chosen = {r.k: r for r in spark.results}[4], {r.k: r for r in local.results}[4]
    assert abs(chosen[0].silhouette - chosen[1].silhouette) <= 0.02
    assert abs(chosen[0].inertia - chosen[1].inertia) / chosen[1].inertia < 0.01
    ours = spark_labels(spark)
    theirs = local.labels_frame()
    both = ours.merge(theirs, on="customer_id", suffixes=("_spark", "_local"))
    assert adjusted_rand_score(both["segment_spark"], both["segment_local"]) >= 0.95
    assert [p.size for p in spark.profiles] == ours["segment"].value_counts().sort_index().tolist()
    for c, figures in local.model.numeric_summary.items():  # the base, aggregated by Spark
        ours_c = spark.model.numeric_summary[c]
        assert ours_c["mean"] == pytest.approx(figures["mean"], rel=1e-6), c
        assert ours_c["std"] == pytest.approx(figures["std"], rel=1e-5), c
    assert spark.profiles[0].size >= spark.profiles[-1].size


def test_planted_segments_from_a_csv(planted_csv: Path, planted: pd.DataFrame) -> None:
    """Read by Spark from CSV: the same matrix as the local engine's, and at k=4 the
    informative columns give back the planted segments."""
    informative = [
        "age",
        "annual_income",
        "spending_score",
        "visits_per_month",
        "days_since_last_visit",
    ]
    prepared, local = prepared_by_both(planted_csv, DataChoices(only_features=informative))
    assert_same_matrix(prepared, local)
    engine, settings = spark_engine(), SweepSettings((4,))
    setup, results = engine.start_sweep(prepared, settings)
    spark = engine.segment(prepared, setup, list(results), settings)
    ours = spark_labels(spark).merge(planted[["customer_id", "planted"]], on="customer_id")
    assert adjusted_rand_score(ours["planted"], ours["segment"]) >= 0.99


def test_codes_stay_categories_and_weights_scale_their_slots(planted_csv: Path) -> None:
    """city_id (50 skewed codes) is one-hot encoded like scikit-learn's: rare codes share one
    'infrequent' slot, never scaled as a number; --weight multiplies a feature's slots after
    scaling (ElementwiseProduct), 0 drops it; the matrix is the local engine's."""
    weights = {"city_id": 0.5, "gender_id": 0.0}
    choices = DataChoices(roles={"planted": Role.IGNORED}, weights=weights)
    spark, local = prepared_by_both(planted_csv, choices)
    assert "city_id" in spark.schema.categorical
    assert "city_id" not in spark.columns and "city_id_infrequent_sklearn" in spark.columns
    assert_same_matrix(spark, local)
    slots = spark.columns
    assert "gender_id" not in spark.schema.features
    assert not any(s.startswith("gender_id") for s in slots)
    city = [i for i, s in enumerate(slots) if s.startswith("city_id_")]
    assert spark.X[:, city].max() == pytest.approx(0.5)
    assert spark.X[:, city].sum(axis=1) == pytest.approx(np.full(len(spark.X), 0.5))
    age = slots.index("age")
    assert abs(spark.X[:, age]).max() > 1  # numbers keep their scale


def test_outputs_and_labels_parquet(
    shop_runs: tuple[Segmentation, Segmentation], tmp_path: Path
) -> None:
    spark, _ = shop_runs
    written = write_outputs(spark, tmp_path / "out")
    labels = tmp_path / "out-labels.parquet"
    assert str(labels) in map(str, written)
    assert {p.name for p in written} >= {"summary.json", "sweep.csv", "segments.csv", "report.md"}
    table = pd.read_parquet(labels)
    assert list(table.columns) == ["customer_id", "segment"] and len(table) == 2000
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["engine"] == "spark" and summary["k"] == 4
    assert all("silhouette_sq_spark" in row for row in summary["sweep"])
    assert any("squared Euclidean" in n for n in summary["sampling"]["notes"])
    sweep = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert (sweep["silhouette_sq_spark"] != sweep["silhouette"]).all()
    with pytest.raises(OutputExists, match="out-labels.parquet"):
        spark.labels_out.write(spark, tmp_path, tmp_path / "out", False)
    assert len(pd.read_parquet(labels)) == 2000


def test_saved_model_scores_as_spark_labelled(
    shop_runs: tuple[Segmentation, Segmentation], shop_xlsx: Path
) -> None:
    spark, _ = shop_runs
    scored = score_tables(spark.model, read_source(shop_xlsx).tables, str(shop_xlsx)).labels
    both = scored.merge(spark_labels(spark), on="customer_id", suffixes=("_score", "_spark"))
    assert len(both) == 2000
    assert (both["segment_score"] == both["segment_spark"]).mean() >= 0.99


def test_a_folder_of_tables_is_read_like_a_workbook(shop_xlsx: Path, tmp_path: Path) -> None:
    """The data-lake layout: one Parquet or CSV dataset per table, in one folder, prepared as
    the workbook is (the same decisions, the same matrix)."""
    for name, df in read_source(shop_xlsx).tables.items():
        if name == "transactions":
            df.to_csv(tmp_path / f"{name}.csv", index=False)
        else:
            df.to_parquet(tmp_path / f"{name}.parquet")
    engine, local = spark_engine(), engine_for(EngineSettings())
    folder = engine.prepare(engine.open(str(tmp_path)), DataChoices())
    workbook = local.prepare(local.open(str(shop_xlsx)), DataChoices())
    assert sorted(folder.frame.decisions) == sorted(workbook.frame.decisions)
    assert_same_rows(folder, workbook)


def test_compare_counted_by_spark(shop_runs: tuple[Segmentation, Segmentation]) -> None:
    spark, _ = shop_runs
    seg = spark_engine().segment(
        spark.prepared, spark.setup, spark.results, SweepSettings(compare=(3, 4))
    )
    assert seg.comparison is not None
    assert int(seg.comparison.to_numpy().sum()) == 2000
    sizes = {r.k: r for r in spark.results}
    assert seg.comparison.sum(axis=1).tolist() == sorted(sizes[3].sizes, reverse=True)
    assert seg.comparison.sum(axis=0).tolist() == sorted(sizes[4].sizes, reverse=True)


def test_cancel_stops_the_spark_job(shop_runs: tuple[Segmentation, Segmentation]) -> None:
    """Cancelling mid-k cancels the Spark job group; finished k stay; the session still works."""
    spark, _ = shop_runs
    engine = spark_engine()
    stop = threading.Event()
    setup, results = engine.start_sweep(spark.prepared, SweepSettings((2, 3, 4, 5, 6)), stop.is_set)
    done = [next(results).k]
    threading.Timer(0.3, stop.set).start()
    with pytest.raises(Cancelled):
        for r in results:
            done.append(r.k)
    assert done[0] == 2 and len(done) < 5
    from segscope.core.engines.spark.session import get_session

    assert get_session(MASTER).range(5).count() == 5  # the session still runs jobs


def test_without_pyspark_the_engine_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, shop_xlsx: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a)
    )
    with pytest.raises(DataError, match=r"segscope\[spark\]"):
        spark_engine()
    assert main(["sweep", str(shop_xlsx), "--engine", "spark", "--out", "/nonexistent/x"]) == 3
    assert "pip install 'segscope[spark]'" in capsys.readouterr().err


def test_missing_input_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere.parquet: no such file or folder"):
        spark_engine().open(str(tmp_path / "nowhere.parquet"))


def test_existing_labels_are_refused_before_any_work(
    shop_xlsx: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out-labels.parquet").mkdir()
    args = ["sweep", str(shop_xlsx), "--engine", "spark", "--out", str(tmp_path / "out")]
    assert main(args) == 3
    assert "out-labels.parquet already exists" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_without_java_the_engine_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from segscope.core.engines.spark.session import get_session

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(DataError, match="needs Java 17 or newer.*openjdk-17-jre-headless"):
        get_session("local[1]")


def test_headless_sweep_on_spark(
    planted_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = ["sweep", str(planted_csv), "--engine", "spark", "--spark-master", MASTER, "--k", "4"]
    args += ["--exclude", "planted"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote the labels to {tmp_path / 'run-labels.parquet'}" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["labels"] == str(tmp_path / "run-labels.parquet") and summary["k"] == 4


def test_a_file_spark_cannot_read_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("not a table")
    said = r"notes.md: Spark cannot read it as a table \(.*footer.*\)\. Give a Parquet"
    with pytest.raises(DataError, match=said):
        spark_engine().open(str(notes))
    assert notes.read_text() == "not a table"


@pytest.mark.seed
def test_the_users_workbook_on_spark(seed_workbook: Path) -> None:
    """The user's coupon workbook: the same table, the same k, nearly the same labels."""
    spark = run(seed_workbook, ks=range(2, 4))
    local = run(seed_workbook, ks=range(2, 4), on="local")
    assert spark.prepared.frame.decisions == local.prepared.frame.decisions
    assert spark.choice.k == local.choice.k
    chosen = {r.k: r for r in spark.results}[spark.choice.k]
    assert (
        abs(chosen.silhouette - {r.k: r for r in local.results}[spark.choice.k].silhouette) <= 0.02
    )
    both = spark_labels(spark).merge(local.labels_frame(), on="customer_id")
    assert adjusted_rand_score(both["segment_x"], both["segment_y"]) >= 0.9


async def test_the_app_on_spark(
    shop_xlsx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opened with --engine spark, the app reads and prepares with Spark; s switches engines,
    and data prepared on the other engine is prepared again where the sweep runs, once (a rerun,
    a new k range never prepare again); Esc cancels the Spark jobs; the export writes Parquet."""
    from textual.widgets import Input, Static

    from segscope.core.engines.spark.engine import SparkEngine
    from segscope.tui.app import SegscopeApp
    from tests.tui_helpers import wait_until

    calls: list[str] = []
    real = SparkEngine.prepare

    def counted(self, source, choices):  # type: ignore[no-untyped-def]
        calls.append(self.identity)
        return real(self, source, choices)

    monkeypatch.setattr(SparkEngine, "prepare", counted)
    spark = f"spark {MASTER}"
    app = SegscopeApp(shop_xlsx, EngineSettings("spark", MASTER))
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None, timeout=180)
        assert s.prepared.engine == spark and calls == [spark]
        await pilot.press("2", "s")  # to this machine: prepared here before its sweep
        engine = app.screen.query_one("#engine", Static)
        assert s.engine_settings.engine == "local" and "spark" not in str(engine.render())
        app.screen.query_one("#ks", Input).value = "3"
        await pilot.press("r")
        await wait_until(pilot, lambda: s.segmentation is not None, timeout=120)
        assert s.prepared.engine == "local" and s.setup is not None and s.setup.engine == "local"
        await pilot.press("s")  # back to Spark: prepared there again, once
        assert s.engine_settings.engine == "spark" and "spark local[2]" in str(engine.render())
        app.screen.query_one("#ks", Input).value = "3-5"
        await pilot.press("r")
        await wait_until(pilot, lambda: len(s.results) >= 1, timeout=180)
        assert s.prepared.engine == spark and calls == [spark, spark]
        await pilot.press("escape")
        await wait_until(pilot, lambda: s.cancelled, timeout=60)
        assert s.segmentation is None and 1 <= len(s.results) < 3
        app.screen.query_one("#ks", Input).value = "4"  # the rerun: the sample's 4
        await pilot.press("r")
        await wait_until(pilot, lambda: s.segmentation is not None, timeout=240)
        assert s.setup is not None and s.setup.engine == "spark"
        assert s.segmentation.choice.k == 4 and calls == [spark, spark]
        await pilot.press("4")
        app.screen.query_one("#out-path", Input).value = str(tmp_path / "out")
        await pilot.press("w")
        await wait_until(pilot, lambda: bool(s.exported), timeout=120)
    assert len(pd.read_parquet(tmp_path / "out-labels.parquet")) == 2000
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["engine"] == "spark"
