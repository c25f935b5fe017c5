"""The app and the command as a newcomer meets them: the stumbles of the first tries, gone."""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import openpyxl
import pytest
from textual.widgets import Input, Static

from segscope.tui.app import SegscopeApp
from segscope.tui.screens.data import RolesTable
from segscope.tui.widgets.tables import ViewTable

from .hostile.cli import segscope
from .tui_helpers import hold_sweep_after_two, swept, wait_until


def _messages(app: SegscopeApp) -> str:
    return "\n".join(n.message for n in app._notifications)


def _shown(widget: Static) -> str:
    return str(widget.render())


async def test_tab_completes_a_path(tmp_path: Path) -> None:
    folder = tmp_path / "customer_files"
    folder.mkdir()
    (folder / "march.csv").write_text("a,b\n1,2\n")
    app = SegscopeApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("o")
        path = app.screen.query_one("#path", Input)
        path.value = str(tmp_path / "cust")
        await pilot.pause(0.3)  # the suggestion arrives
        await pilot.press("tab")
        assert path.value == str(folder) + "/" and path.has_focus
        await pilot.pause(0.3)
        await pilot.press("tab")
        assert path.value == str(folder / "march.csv")


async def test_o_keeps_the_last_path(shop_xlsx: Path) -> None:
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session.prepared is not None)
        await pilot.press("o", "x")
        assert app.screen.query_one("#path", Input).value == str(shop_xlsx) + "x"


async def test_a_sweep_asked_for_while_loading_starts_when_ready(
    shop_xlsx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run`, 2, r at once: the sweep waits for the file instead of being refused."""
    from segscope.tui import jobs

    pressed = threading.Event()
    real_open = jobs.open_file

    def open_after_the_keys(*args, **kwargs):  # type: ignore[no-untyped-def]
        pressed.wait(30)  # the file is still loading when r arrives, however fast the machine
        return real_open(*args, **kwargs)

    monkeypatch.setattr(jobs, "open_file", open_after_the_keys)
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "r")
        assert app.session.prepared is None and app.session.queued is not None
        assert "starts when shop.xlsx is ready" in _messages(app)
        pressed.set()
        await wait_until(pilot, lambda: app.session.segmentation is not None)
        assert app.session.queued is None and app.session.segmentation.choice.k == 4


async def test_a_refused_role_change_is_refused_alone(customers_csv: Path, tmp_path: Path) -> None:
    table = tmp_path / "people.csv"
    rows = [f"{i},{i % 7},{['north', 'south', 'east'][i % 3]},{i * 3 % 11}" for i in range(60)]
    table.write_text("customer_id,visits,region,spend\n" + "\n".join(rows) + "\n")
    app = SegscopeApp(table)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None)
        roles = app.screen.query_one("#roles", RolesTable)
        names = [c.name for c in s.prepared.schema.columns]
        roles.move_cursor(row=names.index("region"))
        await pilot.press("n")
        await wait_until(pilot, lambda: "is not numeric" in _messages(app))
        assert "Cannot make that change" in "\n".join(n.title for n in app._notifications)
        assert "Cannot use this file" not in "\n".join(n.title for n in app._notifications)
        roles.move_cursor(row=names.index("spend"))
        await pilot.press("w")  # the next edit works at once, alone
        await wait_until(pilot, lambda: s.prepared.weights == {"spend": 0.5})
        assert s.prepared.schema["region"].role.value == "categorical"


async def test_a_failed_open_says_so_until_the_next_action(shop_xlsx: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None)
        await pilot.press("o")
        app.screen.query_one("#path", Input).value = str(junk)
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(s.problem))
        app.clear_notifications()
        await pilot.pause(0.5)
        summary = _shown(app.screen.query_one("#data-summary", Static))
        assert "Cannot open this file" in summary and "junk.parquet" in summary
        assert "Opening" not in summary
        assert s.location == str(shop_xlsx)  # what is loaded is still the workbook
        assert "shop.xlsx" in _shown(app.screen.query_one("AppBar", Static))


async def test_the_first_pick_after_a_cancel_is_kept(
    shop_xlsx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    gate = hold_sweep_after_two(monkeypatch)
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None)
        await pilot.press("2", "r")
        await wait_until(pilot, lambda: len(s.results) == 2)
        await pilot.press("escape", "enter")  # Enter while the cancel is still under way
        gate.set()
        await wait_until(pilot, lambda: s.segmentation is not None)
        assert s.cancelled and s.segmentation.choice.k == 2
        await pilot.press("3")
        title = _shown(app.screen.query_one("#seg-title", Static))
        assert "2 segments" in title


async def test_segments_after_a_cancel_and_back_to_the_recommended_k(
    shop_xlsx: Path,
) -> None:
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await swept(pilot, "3-5")  # around the sample's k=4
        best = s.segmentation.choice.k
        await pilot.press("plus")
        await wait_until(pilot, lambda: s.segmentation.choice.k == best + 1)
        assert "chosen by you" in s.segmentation.choice.reason
        await pilot.press("minus")
        await wait_until(pilot, lambda: s.segmentation.choice.k == best)
        assert "chosen by you" not in s.segmentation.choice.reason


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
async def test_screen_keys_help_and_quit_are_always_shown(
    shop_xlsx: Path, size: tuple[int, int]
) -> None:
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.session.prepared is not None)
        for key in ("1", "2", "3", "4"):
            await pilot.press(key)
            bar = _shown(app.screen.query_one("AppBar", Static))
            for needed in ("1 Data", "2 Sweep", "3 Segments", "4 Export", "? help", "q quit"):
                assert needed in bar, (key, bar)


async def test_tables_sort_search_and_filter(shop_xlsx: Path) -> None:
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await swept(pilot, "2-5")
        table = app.screen.query_one("#ktable", ViewTable)
        table.move_cursor(row=0, column=2)  # silhouette
        await pilot.press("right_square_bracket")
        best = max(s.results, key=lambda r: r.silhouette)
        assert table.current_key() is not None
        assert str(table.get_row_at(0)[0]).strip() == str(best.k)
        await pilot.press("left_square_bracket")
        worst = min(s.results, key=lambda r: r.silhouette)
        assert str(table.get_row_at(0)[0]).strip() == str(worst.k)
        await pilot.press("1")
        roles = app.screen.query_one("#roles", RolesTable)
        roles.focus()
        await pilot.press("slash", *"merchant", "enter")
        assert roles.current_key() == "distinct_merchants"
        await pilot.press("f")  # features only
        keys = {str(k.value) for k in roles.rows}
        assert "customer_id" not in keys and "transactions" in keys


def test_export_writes_a_workbook_for_marketing(shop_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = segscope("sweep", shop_xlsx, "--k", "2-5", "--out", out)
    assert ran.code == 0, ran.err
    book = openpyxl.load_workbook(out / "segments.xlsx")
    assert book.sheetnames == [
        "Segments", "Rules", "RFM", "Profiles", "Sweep", "Which k", "Relevance", "Warnings",
        "How it was built",
    ]  # fmt: skip
    segments = book["Segments"]
    assert segments.freeze_panes == "A2" and segments["C2"].number_format == "0.0%"
    assert segments["F1"].value == "RFM cell (share)" and segments["I1"].value == "description"
    assert segments.max_row == 5 and segments["I2"].value  # a description per segment
    rules = book["Rules"]
    assert rules["C1"].value == "precision" and rules["C2"].number_format == "0.0%"
    charts = [n for n in zipfile.ZipFile(out / "segments.xlsx").namelist() if "charts/chart" in n]
    assert len(charts) == 3  # the elbow, the silhouette and the gap, as Excel draws them


def test_the_command_says_what_it_uses_first_and_a_line_per_k(
    shop_xlsx: Path, tmp_path: Path
) -> None:
    ran = segscope("sweep", shop_xlsx, "--k", "2-4", "--out", tmp_path / "o")
    assert ran.code == 0
    lines = ran.err.strip().splitlines()
    assert lines[0].startswith("shop.xlsx: 2,000 customers; features: join_date,")
    assert [ln.split(":")[0] for ln in lines[1:4]] == ["sweep 1/3", "sweep 2/3", "sweep 3/3"]


def test_a_wide_tables_preview_shows_its_first_columns_and_says_how_many_more() -> None:
    """The Data screen's preview of the real credit table cut to its first five columns ends in a
    column saying how many more there are, its cells empty; a table no wider than the cut shows
    every column and nothing more; the column saying so never takes a name the data uses."""
    import pandas as pd

    from segscope.core.describing.views import preview_view

    credit = pd.read_csv(Path(__file__).parent / "data" / "credit_data.csv.gz")
    cut = preview_view(credit, rows=20, columns=5)
    assert [c.header for c in cut.columns[:5]] == [str(c) for c in credit.columns[:5]]
    assert cut.columns[5].header == f"+{credit.shape[1] - 5:,} more columns (Columns lists them)"
    assert len(cut.rows) == 20 and all(len(r) == 6 and r[5] is None for r in cut.rows)
    assert all(cells[5] == "" for cells in cut.cells())
    whole = preview_view(credit, rows=20, columns=credit.shape[1])
    assert [c.header for c in whole.columns] == [str(c) for c in credit.columns]
    named = preview_view(credit.rename(columns={credit.columns[0]: "…"}), rows=3, columns=2)
    assert len({c.key for c in named.columns}) == 3
