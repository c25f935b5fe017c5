"""SVG snapshots of every screen at 100x30 and 80x24 (pytest-textual-snapshot).

Timings are the only thing that varies between runs: the sweep's clock is replaced by one that
ticks 0.125 s per reading, and the sweep runs on one thread (so the ticks come in one order
whatever the machine's load); the export folder name is fixed instead of time-stamped.
Update after an intended change with: pytest tests/test_snapshots.py --snapshot-update"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.pilot import Pilot

from segscope.core import threads
from segscope.core.clustering import sweep as sweep_mod
from segscope.core.engines.local import LocalEngine
from segscope.core.engines.results import Prepared
from segscope.core.settings import DEFAULT_KS, DataChoices, SweepSettings
from segscope.core.sources.reading import Source
from segscope.tui.app import SegscopeApp
from segscope.tui.screens import export as export_mod
from segscope.tui.screens.dialogs import CompareScreen, HelpScreen

from .tui_helpers import swept, wait_until

SIZES = [(100, 30), (80, 24)]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "shop.xlsx"


@pytest.fixture(scope="module")
def computed() -> dict[object, object]:
    """The sample as read, prepared and swept, once for every screen: the screens are what these
    tests are about (tests/test_tui.py runs the whole flow, reading and sweeping in the app, and
    cancelling: a sweep here runs to its end whatever asks it to stop)."""
    return {}


@pytest.fixture(autouse=True)
def steady(monkeypatch: pytest.MonkeyPatch, computed: dict[object, object]) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(
        sweep_mod, "time", SimpleNamespace(perf_counter=lambda: next(ticks) * 0.125)
    )
    monkeypatch.setattr(export_mod, "default_out_dir", lambda _: Path("segscope-shop-out"))
    monkeypatch.setattr(threads, "_cap", 1)
    monkeypatch.chdir(SAMPLE.parent.parent)
    opened, prepared, swept = LocalEngine.open, LocalEngine.prepare, LocalEngine.start_sweep

    def once(key: object, work: Callable[[], object]) -> Any:
        if key not in computed:
            computed[key] = work()
        return computed[key]

    def open_once(self: LocalEngine, location: str) -> Any:
        return once(("open", location), lambda: opened(self, location))

    def prepare_once(self: LocalEngine, source: Source, choices: DataChoices) -> Any:
        return once(("prepare", id(source), repr(choices)), lambda: prepared(self, source, choices))

    def sweep(self: LocalEngine, prep: Prepared, settings: SweepSettings) -> Any:
        setup, results = swept(self, prep, settings)
        return setup, list(results)

    def sweep_once(self: LocalEngine, prep: Prepared, settings: SweepSettings, *rest: Any) -> Any:
        key = ("sweep", id(prep), repr(settings))
        setup, results = once(key, lambda: sweep(self, prep, settings))
        return setup, iter(results)

    monkeypatch.setattr(LocalEngine, "open", open_once)
    monkeypatch.setattr(LocalEngine, "prepare", prepare_once)
    monkeypatch.setattr(LocalEngine, "start_sweep", sweep_once)


def _app(ks: tuple[int, ...] = DEFAULT_KS) -> SegscopeApp:
    """The app on the sample; `ks`: the k range its sweep runs (short where the screen shown
    is not about the range: the segments of k=4 are the same)."""
    app = SegscopeApp(Path("sample_data/shop.xlsx"))
    app.session.settings = SweepSettings(ks)
    app.animation_level = "none"  # tab underlines and scrolls land at once
    return app


NEAR = (3, 4, 5)  # around the sample's k=4


async def _loaded(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, SegscopeApp)
    await wait_until(pilot, lambda: app.session.prepared is not None)
    app.clear_notifications()
    await pilot.pause()


async def _swept(pilot: Pilot[None]) -> None:
    await swept(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


def _then(*keys: str):  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot[None]) -> None:
        await _swept(pilot)
        await pilot.press(*keys)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_data_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=_loaded)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sweep_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=_swept)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_segments_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(NEAR), terminal_size=size, run_before=_then("3"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_segment_detail(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(NEAR), terminal_size=size, run_before=_then("3", "enter"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_export_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(NEAR), terminal_size=size, run_before=_then("4"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot[None]) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_why_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=_then("3", "i"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compare_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot[None]) -> None:
        await _swept(pilot)
        await pilot.press("down", "x")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(_app(NEAR), terminal_size=size, run_before=run)
