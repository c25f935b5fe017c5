"""Helpers for driving the app in tests."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot


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


async def swept(pilot: Pilot[None]) -> None:
    """Wait for the file to load, run the sweep (2, r) and wait for the segments."""
    s = pilot.app.session  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: s.prepared is not None)
    await pilot.press("2", "r")
    await wait_until(pilot, lambda: s.segmentation is not None)
