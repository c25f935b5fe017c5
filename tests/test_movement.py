"""Who moved since the last run: matched by key with an earlier labels.csv, counted exactly as a
crosstab of the two label files; new and gone customers; earlier labels read safely."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from segscope.core.errors import DataError
from segscope.core.models.movement import EarlierLabels, numbering_warning, read_earlier, who_moved
from segscope.core.sources.reading import read_source
from segscope.tui.cli import main

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real purchase log cut in two overlapping halves: last month customers 1-700, segmented;
    this month customers 351-1,000, 80 of those in both with a large recent purchase added."""
    folder = tmp_path_factory.mktemp("months")
    log = read_source(DATA / "cdnow_master.txt").tables["cdnow_master"]
    last = log[log["customer_id"] <= 700]
    now = log[log["customer_id"] > 350]
    changed = np.arange(351, 701, 350 // 80)[:80]
    extra = pd.DataFrame(
        {"customer_id": changed, "date": 19980620, "number_of_cds": 12, "dollar_value": 800.0}
    )
    now = pd.concat([now, extra], ignore_index=True)
    paths = {"last": folder / "last.csv", "now": folder / "now.csv", "run": folder / "run"}
    last.to_csv(paths["last"], index=False)
    now.to_csv(paths["now"], index=False)
    assert main(["sweep", str(paths["last"]), "--k", "3", "--out", str(paths["run"])]) == 0
    return paths


def _crosstab(before: Path, after: Path) -> pd.DataFrame:
    a = pd.read_csv(before / "labels.csv")
    b = pd.read_csv(after / "labels.csv")
    both = a.merge(b, on="customer_id", suffixes=("_before", "_now"))
    return pd.crosstab(both["segment_before"], both["segment_now"])


def test_scoring_this_month_counts_the_movement_exactly(
    months: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, scored = months["run"], tmp_path / "scored"
    args = ["score", str(run / "model.segscope"), str(months["now"]), "--previous", str(run)]
    capsys.readouterr()
    assert main([*args, "--out", str(scored)]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    moved = json.loads((scored / "score.json").read_text())["movement"]
    expected = _crosstab(run, scored)
    table = pd.DataFrame(
        moved["customers"], index=moved["earlier_segments"], columns=moved["segments"]
    )
    table = table.loc[expected.index, expected.columns]  # segments with customers in both
    assert (table.to_numpy() == expected.to_numpy()).all()
    assert moved["matched"] == 350 and moved["new"] == 300 and moved["gone"] == 350
    assert sum(moved["new_by_segment"].values()) == 300
    assert moved["warnings"] == []  # numbered by the model that numbered last month
    assert moved["same_segment"] < 350  # the changed customers moved
    largest = moved["largest"][0]
    assert largest["customers"] == table.at[largest["before"], largest["now"]]
    names = json.loads((run / "summary.json").read_text())["segments"]
    before_name = names[largest["before"] - 1]["action_heuristic"]
    sentence = moved["text"][1]
    assert sentence.startswith(f"{largest['customers']:,} customers (")
    assert f"of segment {largest['before']}, {before_name}) are now in segment" in sentence
    assert "Who moved" in shown and sentence in shown
    assert "## Who moved since run/labels.csv" in (scored / "report.md").read_text()


def test_a_sweep_numbered_like_last_month_says_who_moved_everywhere(
    months: dict[str, Path], tmp_path: Path
) -> None:
    run, out = months["run"], tmp_path / "out"
    args = ["sweep", str(months["now"]), "--k", "3", "--like", str(run / "model.segscope")]
    assert main([*args, "--previous", str(run / "labels.csv"), "--out", str(out)]) == 0
    moved = json.loads((out / "summary.json").read_text())["movement"]
    assert moved["matched"] == 350 and moved["new"] == 300 and moved["gone"] == 350
    assert moved["warnings"] == []  # numbered like the model whose run wrote the labels
    expected = _crosstab(run, out)
    table = pd.DataFrame(
        moved["customers"], index=moved["earlier_segments"], columns=moved["segments"]
    )
    assert (table.loc[expected.index, expected.columns].to_numpy() == expected.to_numpy()).all()
    assert "## Who moved since run/labels.csv" in (out / "report.md").read_text()
    sheet = load_workbook(out / "segments.xlsx", read_only=True)["Moved"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "earlier segment",
        "segment now",
        "customers",
        "share of the earlier segment",
    )
    assert sum(r[2] for r in rows[1:] if isinstance(r[1], int) and isinstance(r[0], int)) == 350


def _labels(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "labels.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_earlier_labels_are_read_as_segscope_wrote_them(tmp_path: Path) -> None:
    # a key that starts like a formula was written with an apostrophe; Latin-1 from a spreadsheet
    path = _labels(tmp_path, "customer_id,segment\n'=1,1\nJosé,2\n007,2\n12,1\n", "latin-1")
    earlier = read_earlier(path)
    assert list(earlier.keys) == ["=1", "José", "007", "12"]
    now = pd.DataFrame({"customer_id": ["=1", "José", "007", "99"], "segment": [2, 2, 1, 1]})
    moved = who_moved(earlier, now, 2, numbered_like="abc", numbering="the model m")
    assert moved.matched == 3 and int(moved.new.sum()) == 1 and int(moved.gone.sum()) == 1
    assert moved.table.loc[1, 2] == 1 and moved.table.loc[2, 2] == 1 and moved.table.loc[2, 1] == 1
    whole = pd.DataFrame({"customer_id": [12, 7], "segment": [1, 1]})  # whole-number keys
    assert who_moved(earlier, whole, 2, numbered_like="abc").matched == 1  # 12, not 007


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("row,segment\n1,1\n2,2\n", "has no customer key (only row numbers)"),
        ("customer_id,cluster\n1,1\n", "has no 'segment' column"),
        ("customer_id,segment\n1,1\n1,2\n", "the key '1' appears more than once"),
        ("customer_id,segment\n1,1\n2,x\n", "row 3 has segment 'x'"),
        ("customer_id,segment\n1,1\n2,0\n", "not a whole number from 1 to 50"),
        ("customer_id,segment\n1,1\n,2\n", "row 3 has no 'customer_id'"),
    ],
)
def test_earlier_labels_that_cannot_be_matched_are_refused(
    tmp_path: Path, text: str, said: str
) -> None:
    with pytest.raises(DataError, match="labels.csv") as caught:
        read_earlier(_labels(tmp_path, text))
    assert said in str(caught.value)


def test_a_missing_key_exits_3_naming_which_file_lacks_it(
    months: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = months["run"] / "model.segscope"
    rows = _labels(tmp_path, "row,segment\n1,1\n2,2\n")
    capsys.readouterr()
    assert main(["score", str(model), str(months["now"]), "--previous", str(rows)]) == 3
    err = capsys.readouterr().err
    assert "labels.csv has no customer key" in err and "Traceback" not in err
    no_key = tmp_path / "nokey.csv"
    pd.DataFrame({"spend": [1.0, 2.0, 3.0, 4.0], "visits": [1, 2, 1, 2]}).to_csv(no_key)
    args = ["sweep", str(no_key), "--k", "2", "--previous", str(months["run"])]
    assert main([*args, "--out", str(tmp_path / "o")]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "nokey.csv has no customer key" in err and "run/labels.csv" in err
    assert not (tmp_path / "o").exists()
    assert main(["sweep", str(no_key), "--previous", str(rows), "--engine", "spark"]) == 2


def test_numbers_that_may_not_mean_the_same_segments_are_warned_of() -> None:
    earlier = EarlierLabels("last/labels.csv", "id", pd.Index(["1"]), np.array([1]))
    by_size = numbering_warning(earlier, None, "")
    assert by_size is not None and "numbered by size, not like an earlier model" in by_size
    unknown = numbering_warning(earlier, "abc", "the model m.segscope")
    assert unknown is not None and "cannot tell which model numbered last/labels.csv" in unknown
    other = EarlierLabels("l", "id", pd.Index(["1"]), np.array([1]), numbered_by="xyz")
    assert "numbered by another model" in str(numbering_warning(other, "abc", "m"))
    same = EarlierLabels("l", "id", pd.Index(["1"]), np.array([1]), numbered_by="abc")
    assert numbering_warning(same, "abc", "m") is None


def test_scoring_data_without_a_key_exits_3_naming_it(
    months: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The model was trained with a key; data that lost it cannot be matched: the run stops."""
    earlier = read_earlier(months["run"])
    now = pd.DataFrame({"row": [1, 2], "segment": [1, 2]})
    with pytest.raises(DataError, match="new.csv has no customer key") as caught:
        who_moved(earlier, now, 3, data="new.csv")
    assert "run/labels.csv (which has 'customer_id')" in str(caught.value)


def test_earlier_labels_are_read_within_the_input_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _labels(tmp_path, "customer_id,segment\n" + "".join(f"{i},1\n" for i in range(500)))
    monkeypatch.setenv("SEGSCOPE_MAX_BYTES", "1000")
    with pytest.raises(DataError, match="over the limit of 1,000 bytes.*SEGSCOPE_MAX_BYTES"):
        read_earlier(path)
