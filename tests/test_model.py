"""Saving, loading and scoring a model."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from segscope.core.engines.local import prepare_tables, segment, start_sweep
from segscope.core.errors import DataError
from segscope.core.features.pandas_executor import build_customer_frame
from segscope.core.models.model import load_model, save_model
from segscope.core.models.scoring import score_tables
from segscope.core.preparing.preprocess import typed_features
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.sources.reading import read_source


def load_tables(path: Path) -> dict[str, pd.DataFrame]:
    return read_source(path).tables


@pytest.fixture(scope="module")
def shop_seg(shop_xlsx: Path):  # type: ignore[no-untyped-def]
    prep = prepare_tables(read_source(shop_xlsx))
    setup, it = start_sweep(prep, SweepSettings((3, 4, 5), 42))
    return segment(prep, setup, list(it))


def test_round_trip_gives_the_same_labels(shop_seg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.segscope"
    save_model(shop_seg.model, path)
    model, warnings = load_model(path)
    assert warnings == []
    assert model.k == shop_seg.choice.k and model.seed == 42
    feats = typed_features(
        shop_seg.prepared.frame.data, model.schema, shop_seg.prepared.frame.reference_date
    )
    assert (model.predict(feats) == shop_seg.labels).all()
    with zipfile.ZipFile(path) as zf:
        assert set(zf.namelist()) == {"meta.json", "pipeline.skops"}
        meta = json.loads(zf.read("meta.json"))
    assert meta["versions"]["scikit-learn"]


def test_scoring_the_training_file_reproduces_labels(shop_seg, shop_xlsx: Path) -> None:  # type: ignore[no-untyped-def]
    result = score_tables(shop_seg.model, load_tables(shop_xlsx), str(shop_xlsx))
    pd.testing.assert_frame_equal(result.labels, shop_seg.labels_frame())
    assert result.unseen == {}


def test_unseen_categories_are_counted(shop_seg, shop_xlsx: Path) -> None:  # type: ignore[no-untyped-def]
    tables = load_tables(shop_xlsx)
    tables["cities"] = tables["cities"].assign(
        city_name=lambda d: d["city_name"].where(d["city_id"] != 1, "Atlantis")
    )
    result = score_tables(shop_seg.model, tables, "x.xlsx")
    n_city1 = int((tables["customers"]["city_id"] == 1).sum())
    assert result.unseen == {"city_name": n_city1}
    assert "city_name" in result.warnings[0]


def test_missing_feature_columns_are_named(shop_seg) -> None:  # type: ignore[no-untyped-def]
    tables = {"customers": pd.DataFrame({"customer_id": [1, 2, 3], "other": [1.0, 2.0, 3.0]})}
    with pytest.raises(DataError, match="lacks the feature column"):
        score_tables(shop_seg.model, tables, "new.csv")


def test_tampered_or_foreign_files_are_refused(shop_seg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.segscope"
    junk.write_text("hello")
    with pytest.raises(DataError, match="not a segscope model"):
        load_model(junk)
    path = tmp_path / "m.segscope"
    save_model(shop_seg.model, path)
    with zipfile.ZipFile(path) as zf:
        meta, blob = json.loads(zf.read("meta.json")), zf.read("pipeline.skops")
    meta["format_version"] = 99
    other = tmp_path / "future.segscope"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("meta.json", json.dumps(meta))
        zf.writestr("pipeline.skops", blob)
    with pytest.raises(DataError, match="model format 99"):
        load_model(other)


def test_frame_is_rebuilt_the_same_way(shop_seg, shop_xlsx: Path) -> None:  # type: ignore[no-untyped-def]
    choices = DataChoices("customers", "transactions", key="customer_id")
    again = build_customer_frame(load_tables(shop_xlsx), choices)
    pd.testing.assert_frame_equal(again.data, shop_seg.prepared.frame.data)
