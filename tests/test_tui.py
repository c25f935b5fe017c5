"""The app driven from the keyboard with Pilot: load, sweep, segments, export, cancel, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from textual.widgets import DataTable, Input

from segscope.core.engines.interface import analyse
from segscope.core.engines.local import LocalEngine
from segscope.core.roles import Role
from segscope.tui.app import SegscopeApp
from segscope.tui.screens.dialogs import HelpScreen, SegmentDetailScreen

from .tui_helpers import hold_sweep_after_two, swept, wait_until


def _messages(app: SegscopeApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def test_whole_flow_matches_the_engine(shop_xlsx: Path, tmp_path: Path) -> None:
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None)
        roles = app.screen.query_one("#roles", DataTable)
        assert roles.row_count == len(s.prepared.schema.columns)
        await pilot.press("2", "r")
        await wait_until(pilot, lambda: s.segmentation is not None)
        ktable = app.screen.query_one("#ktable", DataTable)
        assert ktable.row_count == 10  # k=1 (the gap statistic's baseline) and k=2..10
        assert s.segmentation.choice.k == 4
        await pilot.press("3")
        segments = app.screen.query_one("#segments", DataTable)
        assert segments.row_count == 4
        await pilot.press("enter")
        assert isinstance(app.screen, SegmentDetailScreen)
        assert app.screen.profile.segment == 1
        await pilot.press("escape", "4")
        out = tmp_path / "export"
        app.screen.query_one("#out-path", Input).value = str(out)
        await pilot.press("w")
        await wait_until(pilot, lambda: bool(s.exported))
    engine = analyse(shop_xlsx)
    labels = pd.read_csv(out / "labels.csv")
    pd.testing.assert_frame_equal(labels, engine.labels_frame())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == engine.choice.k and summary["seed"] == 42


async def test_change_k_with_plus_and_minus(shop_xlsx: Path) -> None:
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await swept(pilot, "3-5")  # around the sample's k=4
        await pilot.press("plus")
        await wait_until(pilot, lambda: s.segmentation.choice.k == 5)
        assert len(s.segmentation.profiles) == 5
        await pilot.press("minus", "minus")
        await wait_until(pilot, lambda: s.segmentation.choice.k == 3)


async def test_cancel_keeps_finished_rows(shop_xlsx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = hold_sweep_after_two(monkeypatch)
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None)
        await pilot.press("2", "r")
        await wait_until(pilot, lambda: len(s.results) == 2)
        await pilot.press("escape")
        gate.set()
        await wait_until(pilot, lambda: s.cancelled)
        assert [r.k for r in s.results] == [2, 3]
        assert s.segmentation is None and not s.sweeping
        assert app.screen.query_one("#ktable", DataTable).row_count == 3  # and k=1's gap
        await pilot.press("enter")  # a finished k can still be chosen
        await wait_until(pilot, lambda: s.segmentation is not None)
        assert s.segmentation.choice.k == 2
        await pilot.press("r")  # and the app is usable: a full sweep runs again
        await wait_until(pilot, lambda: len(s.results) == 9 and s.segmentation is not None)


async def test_bad_file_shows_error_then_good_file_works(
    tmp_path: Path, customers_csv: Path
) -> None:
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"definitely not parquet")
    app = SegscopeApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("o")
        path = app.screen.query_one("#path", Input)
        path.value = str(bad)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "broken.parquet" in _messages(app))
        assert "not a readable Parquet" in _messages(app)
        assert app.session.prepared is None and app.is_running
        await pilot.press("o")
        path.value = str(customers_csv)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.prepared is not None)
        assert app.session.prepared.rows == 3000


async def test_roles_change_from_the_keyboard(customers_csv: Path) -> None:
    app = SegscopeApp(customers_csv)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None)
        roles = app.screen.query_one("#roles", DataTable)
        row = [c.name for c in s.prepared.schema.columns].index("city_id")
        roles.move_cursor(row=row)
        await pilot.press("x")
        await wait_until(pilot, lambda: s.prepared.schema["city_id"].role is Role.IGNORED)
        assert "city_id" not in s.prepared.schema.features
        await pilot.press("a")
        await wait_until(pilot, lambda: s.prepared.schema["city_id"].role is Role.CATEGORICAL)


async def test_sweep_before_loading_and_help(tmp_path: Path) -> None:
    app = SegscopeApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "r")
        assert "Load a file first" in _messages(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "q")
    assert not app.is_running


async def test_export_asks_before_overwriting(customers_csv: Path, tmp_path: Path) -> None:
    """An earlier segscope output is replaced only after a yes; another folder never."""
    from segscope.tui.screens.dialogs import ConfirmScreen

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    out = tmp_path / "out"
    app = SegscopeApp(customers_csv)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await swept(pilot, "2-4")  # the export is what is tested
        await pilot.press("4")
        path = app.screen.query_one("#out-path", Input)
        path.value = str(foreign)
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)  # nothing to ask: never replaced
        assert "not written by segscope" in _messages(app)
        path.value = str(out)
        await pilot.press("w")
        await wait_until(pilot, lambda: bool(s.exported))
        first = (out / "summary.json").stat().st_ino
        s.exported = []
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert (out / "summary.json").stat().st_ino == first
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(s.exported))
    assert (foreign / "mine.txt").read_text() == "keep"
    assert (out / "summary.json").stat().st_ino != first and (out / "labels.csv").exists()


async def test_compare_weight_score_and_like_in_the_app(shop_xlsx: Path, tmp_path: Path) -> None:
    from segscope.core.outputs.folders import write_outputs
    from segscope.core.settings import SweepSettings
    from segscope.tui.messages import LikeLoaded
    from segscope.tui.screens.dialogs import CompareScreen
    from segscope.tui.screens.score import ScoreScreen

    engine = analyse(shop_xlsx, settings=SweepSettings((4,)))
    write_outputs(engine, tmp_path / "m")
    model = tmp_path / "m" / "model.segscope"
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None)
        roles = app.screen.query_one("#roles", DataTable)
        roles.move_cursor(row=[c.name for c in s.prepared.schema.columns].index("city_name"))
        await pilot.press("w")
        await wait_until(pilot, lambda: s.prepared.weights.get("city_name") == 0.5)
        await pilot.press("2")
        app.screen.query_one("#ks", Input).value = "2-5"  # k=2 to compare, the model's k=4
        await pilot.press("r")
        await wait_until(pilot, lambda: s.segmentation is not None)
        assert s.segmentation.prepared.weights == {"city_name": 0.5}
        ktable = app.screen.query_one("#ktable", DataTable)
        ktable.move_cursor(row=1)  # k=2 (row 0 is k=1, the gap statistic's baseline)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert app.screen.table.to_numpy().sum() == 2000
        await pilot.press("escape")
        before = s.segmentation
        app.post_message(LikeLoaded(engine.model, model, []))  # the palette's "Number like"
        await wait_until(pilot, lambda: s.segmentation is not before)
        assert s.segmentation.choice.k == 4
        assert (s.segmentation.labels == engine.labels).mean() > 0.95  # numbered like the model
        app.ask_score()  # what the palette's Score new customers does
        await pilot.pause()
        assert isinstance(app.screen, ScoreScreen)
        app.screen.query_one("#model", Input).value = str(model)
        app.screen.query_one("#data", Input).value = str(shop_xlsx)
        app.screen.query_one("#out", Input).value = str(tmp_path / "scored")
        app.screen.run_score()
        await wait_until(pilot, lambda: (tmp_path / "scored" / "labels.csv").exists())
    scored = pd.read_csv(tmp_path / "scored" / "labels.csv")
    pd.testing.assert_frame_equal(scored, engine.labels_frame())


async def test_command_palette_reaches_actions(shop_xlsx: Path) -> None:
    from segscope.tui.screens.score import ScoreScreen

    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session.prepared is not None)
        await pilot.press("ctrl+p")
        await pilot.press(*"Go to Sweep")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.current_mode == "sweep")
        await pilot.press("ctrl+p")
        await pilot.press(*"Score new")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ScoreScreen))


async def test_escape_leaves_an_input_so_keys_work_again(shop_xlsx: Path) -> None:
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session.prepared is not None)
        await pilot.press("o", "2")  # typed into the path input: no screen change
        assert app.current_mode == "data" and isinstance(app.focused, Input)
        await pilot.press("escape", "2")
        assert app.current_mode == "sweep"
        await pilot.press("e", "escape", "4", "e", "escape", "1")
        assert app.current_mode == "data"


async def test_settings_and_engine_are_apart(
    shop_xlsx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new k range or seed re-sweeps without preparing again; after switching the engine,
    +, - and x still work on the sweep that ran (on the engine that ran it)."""
    from segscope.tui.screens.dialogs import CompareScreen

    calls: list[str] = []
    real = LocalEngine.prepare

    def counted(self, source, choices):  # type: ignore[no-untyped-def]
        calls.append(source.location)
        return real(self, source, choices)

    monkeypatch.setattr(LocalEngine, "prepare", counted)
    app = SegscopeApp(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        await swept(pilot, "2-4")
        prepared = s.prepared
        app.screen.query_one("#ks", Input).value = "3-5"
        app.screen.query_one("#seed", Input).value = "7"
        await pilot.press("r")
        await wait_until(pilot, lambda: s.segmentation is not None and s.settings.seed == 7)
        assert [r.k for r in s.results] == [3, 4, 5]
        assert s.prepared is prepared and len(calls) == 1  # prepared once, when opened
        await pilot.press("s")
        assert s.engine_settings.engine == "spark"
        await pilot.press("plus")
        await wait_until(pilot, lambda: s.segmentation.choice.k == 5)
        app.screen.query_one("#ktable", DataTable).move_cursor(row=1)  # k=3 (row 0: k=1)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert "another engine" not in _messages(app)
    assert len(calls) == 1
