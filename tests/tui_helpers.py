"""Helpers for driving the app in tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot

from segscope.core.engines.local import LocalEngine


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 60
) -> None:
    """Let the app run until `condition()` holds (workers finish in their own threads)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the app did not reach the expected state in time")


async def swept(pilot: Pilot[None], ks: str | None = None) -> None:
    """Wait for the file to load, run the sweep (2, r) and wait for the segments; `ks`: the k
    range typed first (a short one where the range is not what a test is about)."""
    from textual.widgets import Input

    s = pilot.app.session  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: s.prepared is not None)
    await pilot.press("2")
    if ks is not None:
        pilot.app.screen.query_one("#ks", Input).value = ks
    await pilot.press("r")
    await wait_until(pilot, lambda: s.segmentation is not None)


def hold_sweep_after_two(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make every local sweep stop after its second k until the returned event is set: a sweep
    caught in the middle, whatever the machine's speed."""
    gate = threading.Event()
    real = LocalEngine.start_sweep

    def gated(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        setup, results = real(self, *args, **kwargs)

        def slow() -> Iterator:  # type: ignore[type-arg]
            for i, r in enumerate(results):
                yield r
                if i == 1:
                    gate.wait(30)

        return setup, slow()

    monkeypatch.setattr(LocalEngine, "start_sweep", gated)
    return gate
