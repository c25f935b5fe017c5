"""Text from the data is data: never markup, never control codes, never a formula.

Markup, escape sequences and formulas in column names, values, keys, sheet and file names go
through the real command (in a subprocess) and through the app (Pilot); every place they are
shown or written holds them literally, with control characters made visible.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from segscope.core.text import spreadsheet_cell, visible

from ..tui_helpers import wait_until
from .cli import has_control, segscope
from .corpus import ESCAPES, FORMULAS, MARKUP, base_table, hostile_text_table, write_csv

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FILE_MARKUP = "[bold red]x"  # markup a file name can hold (no slash)


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    return write_csv(hostile_text_table(), folder / f"{FILE_MARKUP}{ESCAPES[3]}.csv")


@pytest.fixture(scope="module")
def swept(hostile_csv: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("run") / "out"
    return segscope("sweep", hostile_csv, "--k", "2-3", "--out", out), out


def test_visible_replaces_every_control_character() -> None:
    for c in [chr(i) for i in (*range(0, 9), *range(11, 32), 127, *range(128, 160))]:
        assert c not in visible(f"a{c}b")
    assert visible("a\tb\nc") == "a\tb\nc"
    assert visible("\x1b[2J") == "␛[2J" and visible("\u202e") == "<U+202E>"


def test_the_command_shows_data_text_literally(swept) -> None:  # type: ignore[no-untyped-def]
    ran, _ = swept
    assert ran.code == 0, ran.err
    assert "Traceback" not in ran.text and "MarkupError" not in ran.text
    assert not has_control(ran.text), "a control character reached the terminal"
    assert MARKUP[1] in ran.out  # shown as written, not as bold red
    assert "␛" in ran.out  # the escape, made visible
    assert "␛" in ran.err  # the file name echoed on stderr, made visible


def test_outputs_hold_data_text_literally(swept) -> None:  # type: ignore[no-untyped-def]
    _, out = swept
    names = ("report.md", "segments.csv", "summary.json", "labels.csv", "sweep.csv")
    for name in (*names, "features.csv", "rules.sql"):
        text = (out / name).read_text()
        assert not has_control(text), name
    report = (out / "report.md").read_text()
    assert MARKUP[1] in report and "␛]0;pwned" in report
    summary = json.loads((out / "summary.json").read_text())
    assert any("␛" in name for name in summary["features"]["numeric"])


def _cells(path: Path) -> list[str]:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    return [cell for row in rows for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", ["segments.csv", "labels.csv", "features.csv"])
def test_no_formula_reaches_a_spreadsheet(swept, name: str) -> None:  # type: ignore[no-untyped-def]
    _, out = swept
    cells = _cells(out / name)
    assert cells
    for cell in cells:
        assert not cell.startswith(FORMULA_START) or _is_number(cell), (name, cell)
    if name == "labels.csv":
        assert '\'=HYPERLINK("http://evil","x")0' in cells  # the key, neutralised
    else:
        header = next(csv.reader(io.StringIO((out / name).read_text())))
        assert any(h.startswith("'@SUM(A1)age") for h in header)  # a header, neutralised


def test_scoring_neutralises_keys_too(swept, hostile_csv: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, out = swept
    scored = tmp_path / "scored"
    ran = segscope("score", out / "model.segscope", hostile_csv, "--out", scored)
    assert ran.code == 0, ran.err
    assert not has_control(ran.text)
    for cell in _cells(scored / "labels.csv"):
        assert not cell.startswith(FORMULA_START) or _is_number(cell), cell


def test_spreadsheet_cells_keep_numbers() -> None:
    frame = pd.DataFrame({"a": [-2.5, 3.0], "b": ["-2+3", "ok"]})
    assert spreadsheet_cell(-2.5) == -2.5
    assert [spreadsheet_cell(f) for f in FORMULAS][:2] == [
        '\'=HYPERLINK("http://evil","x")',
        "'+cmd|' /C calc'!A0",
    ]
    from segscope.core.text import spreadsheet_safe

    safe = spreadsheet_safe(frame)
    assert safe["a"].tolist() == [-2.5, 3.0] and safe["b"].tolist() == ["'-2+3", "ok"]


def test_a_text_column_is_made_safe_as_cell_by_cell() -> None:
    """Made safe once per distinct text, a column gives what spreadsheet_cell gives each cell:
    formulas, control characters, gaps and numbers among text alike, whatever the column's type
    (a categorical's values too)."""
    from segscope.core.text import spreadsheet_safe

    def written(v: object) -> str | None:  # a gap is a gap, whichever missing value it is
        return None if v is None or v is pd.NA or v != v else str(v)

    texts = [*FORMULAS, *ESCAPES, "ok", "ok", "", " =1"]
    columns = {
        "object": pd.Series([*texts, None, float("nan")], dtype=object),
        "string": pd.Series([*texts, None, None], dtype="string"),
        "str": pd.Series([*texts, None, None], dtype="str"),
        "category": pd.Series([*texts, None, None], dtype="category"),
        "mixed": pd.Series([*texts, 1, True], dtype=object),
        "all missing": pd.Series([None, None, None], dtype="str"),
        "all missing text": pd.Series([None, pd.NA, None], dtype="string"),
    }
    for name, column in columns.items():
        safe = spreadsheet_safe(column.to_frame(name))[name].tolist()
        expected = [spreadsheet_cell(v) for v in column.astype(object)]
        assert [written(v) for v in safe] == [written(v) for v in expected], name
        kept = [type(v) for v in safe[:-2] if written(v) is not None]
        assert kept == [type(v) for v in expected[:-2] if written(v) is not None], name
        assert len(safe) == len(column), name


def test_error_messages_name_files_literally(tmp_path: Path) -> None:
    bad = tmp_path / f"[link=evil]click{ESCAPES[0]}.parquet"
    bad.write_bytes(b"not parquet")
    ran = segscope("sweep", bad, "--out", tmp_path / "o")
    assert ran.code == 3 and "Traceback" not in ran.text
    assert not has_control(ran.text)
    assert "[link=evil]click␛]52" in ran.err


async def test_the_app_shows_data_text_literally(hostile_csv: Path, tmp_path: Path) -> None:
    """Load, every tab, sweep, segments, a segment's detail, export and an error toast: the
    app neither crashes on markup nor passes control codes to the terminal."""
    from textual.widgets import Input

    from segscope.tui.app import SegscopeApp
    from segscope.tui.messages import OpenPath
    from segscope.tui.screens.dialogs import SegmentDetailScreen

    bad = tmp_path / f"{FILE_MARKUP}{ESCAPES[1]}.parquet"
    bad.write_bytes(b"not parquet")
    app = SegscopeApp(hostile_csv)
    async with app.run_test(size=(120, 40)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None)
        screens = [app.export_screenshot()]
        for key in ("p", "s", "l"):
            await pilot.press(key)
            screens.append(app.export_screenshot())
        await pilot.press("2")
        app.screen.query_one("#ks", Input).value = "2-3"
        await pilot.press("r")
        await wait_until(pilot, lambda: s.segmentation is not None)
        screens.append(app.export_screenshot())
        await pilot.press("3")
        screens.append(app.export_screenshot())
        await pilot.press("enter")
        assert isinstance(app.screen, SegmentDetailScreen)
        screens.append(app.export_screenshot())
        await pilot.press("escape", "4")
        app.screen.query_one("#out-path", Input).value = str(tmp_path / "out")
        await pilot.press("w")
        await wait_until(pilot, lambda: bool(s.exported))
        await pilot.press("1")
        app.post_message(OpenPath(str(bad)))  # as the file tree opens it
        await wait_until(pilot, lambda: bool(s.problem))
        screens.append(app.export_screenshot())
        assert app.is_running
    shown = "\n".join(screens)
    assert not has_control(shown)
    assert "[bold&#160;red]x" in shown  # the markup, shown as text (SVG writes spaces so)
    assert "␛" in shown and "pwned" in shown


RULE_CATEGORIES = ["=cmd|' /C calc'!A0", "[bold]x", "plain"]


@pytest.fixture(scope="module")
def hostile_rule(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Segments made by a category whose values are a formula and markup: the rules name them."""
    folder = tmp_path_factory.mktemp("rule")
    df = base_table(90)
    df["plan"] = [RULE_CATEGORIES[i % 3] for i in range(90)]
    path = write_csv(df, folder / "plans.csv")
    out = folder / "out"
    ran = segscope("sweep", path, "--k", "3", "--weight", "plan=5", "--out", out)
    return ran, out


def test_a_rule_naming_hostile_categories_is_literal_and_formula_safe(hostile_rule) -> None:  # type: ignore[no-untyped-def]
    import duckdb
    from openpyxl import load_workbook

    ran, out = hostile_rule
    assert ran.code == 0, ran.err
    summary = json.loads((out / "summary.json").read_text())
    rules = {r["segment"]: r for r in summary["rules"]["segments"]}
    said = " ".join(r["rule"] or "" for r in rules.values())
    assert "plan is =cmd|' /C calc'!A0" in said and "plan is [bold]x" in said
    assert all(r["describes_it_well"] and r["precision"] == 1.0 for r in rules.values())
    assert "plan is [bold]x" in " ".join(ran.out.split())  # shown as typed, not as bold
    assert "plan is =cmd\\|' /C calc'!A0" in (out / "report.md").read_text()  # a table's | kept
    sql = (out / "rules.sql").read_text()
    assert "'=cmd|'' /C calc''!A0'" in sql and "'''=cmd|'' /C calc''!A0'" in sql  # escaped
    assert not has_control(sql)
    for name in ("features.csv", "segments.csv"):  # formula-safe in every CSV
        for cell in _cells(out / name):
            assert not cell.startswith(FORMULA_START) or _is_number(cell), (name, cell)
    assert "'=cmd|' /C calc'!A0" in _cells(out / "features.csv")
    book = load_workbook(out / "segments.xlsx")
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value]
    assert not [c for c in cells if c.data_type == "f"]  # no formula anywhere in the workbook
    assert any("plan is =cmd|' /C calc'!A0" in str(c.value) for c in book["Rules"]["B"])
    # the SQL, run on features.csv as written, assigns every customer as the rules say
    features = str(out / "features.csv").replace("'", "''")
    got = duckdb.sql(f"SELECT segment, ({sql}\n) AS rule FROM read_csv('{features}')").df()
    assert (got["rule"] == got["segment"]).all()
