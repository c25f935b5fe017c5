"""The headless command: outputs, JSON, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from segscope.core.engines.local import prepare_tables
from segscope.core.files import MARK, OUTPUT_FILES
from segscope.core.sources.reading import read_source
from segscope.tui.cli import main

SUMMARY_SWEEP_KEYS = {
    "k", "inertia", "silhouette", "silhouette_sample_size", "calinski_harabasz", "davies_bouldin",
    "stability", "gap", "gap_s", "gap_log_w", "gap_expected_log_w", "seconds",
}  # fmt: skip


def test_sweep_writes_every_output(
    shop_xlsx: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["sweep", str(shop_xlsx), "--k", "2-6", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "Silhouette vs k" in shown and "Elbow" in shown and "chosen k = 4" in shown
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUT_FILES, MARK])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 4 and summary["seed"] == 42 and summary["rows"] == 2000
    assert set(summary["features"]) == {"numeric", "categorical"}
    assert "city_name" in summary["features"]["categorical"]
    assert summary["left_out"]["customer_id"].startswith("customer key")
    assert [s["k"] for s in summary["sweep"]] == [1, 2, 3, 4, 5, 6]  # k=1: the gap's only
    assert all(set(s) == SUMMARY_SWEEP_KEYS for s in summary["sweep"])
    assert summary["no_clear_segments"] is None and summary["votes_per_k"]["4"] >= 5
    assert "Which k each index prefers" in shown and "Votes: k=4" in shown
    labels = pd.read_csv(out / "labels.csv")
    assert list(labels.columns) == ["customer_id", "segment"] and len(labels) == 2000
    assert sorted(labels["segment"].unique()) == [1, 2, 3, 4]
    segments = pd.read_csv(out / "segments.csv")
    assert segments["customers"].sum() == 2000
    report = (out / "report.md").read_text()
    assert "chosen k: **4**" in report and "\x1b[" not in report
    # the reported silhouette is scikit-learn's on the transformed matrix
    prep = prepare_tables(read_source(shop_xlsx))
    four = next(s for s in summary["sweep"] if s["k"] == 4)
    assert four["silhouette"] == pytest.approx(
        silhouette_score(prep.X, labels["segment"]), abs=1e-6
    )


def test_json_prints_only_the_summary(
    customers_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["sweep", str(customers_csv), "--k", "3-5", "--out", str(tmp_path / "o"), "--json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["k"] in (3, 4, 5) and data["features"]["categorical"] == ["gender_id", "city_id"]


def test_existing_folder_is_refused_without_force(
    customers_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--force replaces an earlier segscope output, never a folder segscope did not write."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ["sweep", str(customers_csv), "--k", "3", "--out", str(out)]
    assert main(args) == 3
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 3
    assert "not written by segscope" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
    ours = tmp_path / "ours"
    assert main(["sweep", str(customers_csv), "--k", "3", "--out", str(ours)]) == 0
    before = (ours / "summary.json").stat().st_ino
    assert main(["sweep", str(customers_csv), "--k", "4", "--out", str(ours)]) == 3
    assert main(["sweep", str(customers_csv), "--k", "4", "--out", str(ours), "--force"]) == 0
    assert (ours / "summary.json").stat().st_ino != before and (ours / "labels.csv").exists()


def test_score_round_trip(
    shop_xlsx: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(["sweep", str(shop_xlsx), "--k", "4", "--out", str(run)]) == 0
    scored = tmp_path / "scored"
    assert main(["score", str(run / "model.segscope"), str(shop_xlsx), "--out", str(scored)]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(scored / "labels.csv"), pd.read_csv(run / "labels.csv")
    )
    assert json.loads((scored / "score.json").read_text())["k"] == 4


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        (None, [], "no such file"),
        (b"", [], "is empty"),
        (b"customer_id,spend\n", [], "header but no rows"),
        (b"customer_id,spend,visits\n1,2,3\n", [], "only 1 customer"),
        (
            b"customer_id,comment\n" + b"".join(b"%d,note %d\n" % (i, i) for i in range(40)),
            [],
            "no usable feature",
        ),
        (b"a,b\n1,2\n3,4\n5,6\n", ["--features", "zzz"], "unknown feature column"),
    ],
)
def test_bad_input_exits_3_with_a_short_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    args: list[str],
    needle: str,
) -> None:
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), *args]) == 3
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3
    assert not out.exists()  # a failed run leaves no folder behind


def test_awkward_files_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["customer_id;spend;visits;city"] + [
        f"{i};{i % 7},5;{'inf' if i == 3 else (i * 3) % 11};{'Málaga' if i % 2 else 'Köln'}"
        for i in range(1, 41)
    ]
    rows[5] = "5;;2;Köln"  # a gap
    path = tmp_path / "eu.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    assert main(["sweep", str(path), "--k", "2-4", "--out", str(tmp_path / "o"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["features"] == {"numeric": ["spend", "visits"], "categorical": ["city"]}


def test_k_clamped_when_too_few_distinct_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "few.csv"
    path.write_text("a,b\n" + "1,1\n2,2\n9,9\n" * 5)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["k"] for s in data["sweep"]] == [1, 2, 3]
    assert any("distinct rows" in w for w in data["warnings"])


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep"]) == 2
    assert "required" in capsys.readouterr().err
    for bad, said in (("x", "k must look like"), ("1-3", "at least 2")):
        assert main(["sweep", "nowhere.csv", "--k", bad]) == 2  # before the file is looked at
        assert said in capsys.readouterr().err


def test_console_script_has_no_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "segscope.tui.cli",
            "sweep",
            str(junk),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert proc.returncode == 3
    assert "junk.csv" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_two_k(
    customers_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    assert (
        main(["sweep", str(customers_csv), "--k", "2-5", "--compare", "3,4", "--out", str(out)])
        == 0
    )
    shown = " ".join(capsys.readouterr().out.split())  # rich wraps at the console width
    assert "How the segments at k=3 (rows) become k=4 (columns)" in shown
    comparison = json.loads((out / "summary.json").read_text())["compare"]
    assert comparison["between"] == ["k=3", "k=4"]
    assert sum(map(sum, comparison["customers"])) == 3000
    assert "## How k=3 becomes k=4" in (out / "report.md").read_text()
    bad = tmp_path / "bad"
    args = ["sweep", str(customers_csv), "--k", "2-5", "--compare", "3,9", "--out", str(bad)]
    assert main(args) == 2  # options that contradict each other: a usage error, before any work
    assert "--compare 9 is not among the k values swept" in capsys.readouterr().err
    assert not bad.exists()
