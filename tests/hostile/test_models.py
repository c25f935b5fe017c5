"""Model files that are broken, altered or built to run code: exit 3 naming the file, and no
code of theirs ever runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from segscope.core.engines.interface import analyse
from segscope.core.outputs.folders import write_outputs
from segscope.core.settings import SweepSettings

from .cli import assert_refused, in_process, segscope
from .corpus import (
    base_table,
    metadata_bomb,
    model_with_meta,
    model_with_pipeline,
    pipeline_bomb,
    unreadable_zip,
    write_csv,
)

RAN = Path(os.environ.get("TMPDIR", "/tmp")) / "segscope-model-code-ran"


def touch_sentinel(x: object) -> object:
    """What an attacker's function would do: leave a trace that it ran."""
    RAN.write_text("ran")
    return x


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("model")
    data = write_csv(base_table(80), folder / "customers.csv")
    write_outputs(analyse(data, settings=SweepSettings((2,))), folder / "run")
    return folder / "run" / "model.segscope", data


def _score(model: Path, data: Path, tmp_path: Path) -> None:
    ran = in_process("score", model, data, "--out", tmp_path / "scored")
    assert_refused(ran, model.name)
    assert not (tmp_path / "scored").exists()
    like = in_process("sweep", data, "--like", model, "--k", "2", "--out", tmp_path / "o")
    assert_refused(like, model.name)


@pytest.mark.parametrize(
    ("change", "drop"),
    [
        ({}, "schema"),
        ({}, "k"),
        ({"k": "four"}, None),
        ({"k": True}, None),
        ({"k": 5}, None),  # the pipeline has 2 centres
        ({"seed": -1}, None),
        ({"schema": ["spend"]}, None),
        ({"schema": {"spend": {"role": "boss", "reason": "x"}}}, None),
        ({"weights": {"spend": "heavy"}}, None),
        ({"segment_sizes": "many"}, None),
        ({"numeric_summary": {"nope": {"mean": 1, "std": 1}}}, None),
        ({"format_version": {"x": 1}}, None),
        ({"format": "pickle"}, None),
    ],
)
def test_malformed_metadata(
    trained: tuple[Path, Path], tmp_path: Path, change: dict[str, object], drop: str | None
) -> None:
    model, data = trained
    _score(model_with_meta(model, tmp_path / "bad.segscope", change, drop), data, tmp_path)


@pytest.mark.parametrize(
    ("bomb", "said"),
    [
        (metadata_bomb, "meta.json unpacks to more than"),
        # the pipeline part is a zip of its own: its schema padded to 600 MB (2.5 GB of padding
        # took 5 GB and a minute)
        (pipeline_bomb, "its pipeline unpacks to more than"),
    ],
)
def test_a_zip_bomb_in_a_part(
    trained: tuple[Path, Path], tmp_path: Path, bomb: Callable[[Path, Path], Path], said: str
) -> None:
    """Refused before the part is read, in bounded memory."""
    model, data = trained
    made = bomb(model, tmp_path / "bomb.segscope")
    assert made.stat().st_size < 10_000_000
    ran = segscope("score", made, data, "--out", tmp_path / "scored")
    assert_refused(ran, "bomb.segscope", said)
    assert ran.peak_mib < 500


@pytest.mark.parametrize(("how", "said"), [("password", "encrypted"), ("method", "compression")])
def test_a_model_encrypted_or_compressed_otherwise(
    trained: tuple[Path, Path], tmp_path: Path, how: str, said: str
) -> None:
    model, data = trained
    odd = tmp_path / "odd.segscope"
    odd.write_bytes(model.read_bytes())
    ran = segscope("score", unreadable_zip(odd, how), data, "--out", tmp_path / "scored")
    assert_refused(ran, "odd.segscope", "is not a segscope model file", said)


def test_a_truncated_model(trained: tuple[Path, Path], tmp_path: Path) -> None:
    model, data = trained
    cut = tmp_path / "cut.segscope"
    cut.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    _score(cut, data, tmp_path)


@pytest.mark.parametrize(
    "pipeline",
    [
        Pipeline([("preprocess", "passthrough"), ("kmeans", "passthrough")]),
        LogisticRegression(),
        Pipeline([("preprocess", StandardScaler()), ("kmeans", KMeans(2))]),
    ],
    ids=["empty", "foreign", "wrong-kind"],
)
def test_a_pipeline_that_is_not_segscopes(
    trained: tuple[Path, Path], tmp_path: Path, pipeline: object
) -> None:
    model, data = trained
    _score(model_with_pipeline(model, tmp_path / "other.segscope", pipeline), data, tmp_path)


@pytest.mark.parametrize(
    "payload",
    [
        FunctionTransformer(func=os.system),
        FunctionTransformer(func=touch_sentinel),
        Pipeline([("preprocess", FunctionTransformer(eval)), ("kmeans", KMeans(2))]),
    ],
    ids=["os.system", "own-function", "eval"],
)
def test_a_model_that_tries_to_run_code(
    trained: tuple[Path, Path], tmp_path: Path, payload: object
) -> None:
    model, data = trained
    RAN.unlink(missing_ok=True)
    evil = model_with_pipeline(model, tmp_path / "evil.segscope", payload)
    run = segscope if isinstance(payload, Pipeline) else in_process  # one through a new process
    ran = run("score", evil, data, "--out", tmp_path / "scored")
    assert_refused(ran, "evil.segscope", "types segscope does not load")
    assert not RAN.exists()
