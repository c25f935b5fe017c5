"""Key-press latency and progress cadence in the app during a large sweep (Pilot, headless).

`python -m benchmarks.tui_latency N`: writes an N-row table to Parquet, opens it in the app,
starts the sweep, and every 0.25 s presses a key that switches screens, timing from the key
press to the moment the app's handler runs (the event loop's responsiveness; the repaint that
follows is measured apart, as the time until Pilot finds the screen settled). Progress is
sampled every 10 ms on the event loop. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measure import table
from segscope.tui.app import SegscopeApp


async def measure(path: Path) -> dict[str, float | int]:
    app = SegscopeApp(path)
    handled: list[float] = []
    switch = app.switch_mode

    def timed_switch(mode: str):  # type: ignore[no-untyped-def]
        handled.append(time.perf_counter())
        return switch(mode)

    app.switch_mode = timed_switch  # type: ignore[method-assign]
    latencies: list[float] = []
    settled: list[float] = []
    updates: list[float] = []

    async def watch_progress() -> None:
        seen = 0
        while True:
            if len(app.session.results) != seen:
                seen = len(app.session.results)
                updates.append(time.perf_counter())
            await asyncio.sleep(0.01)

    async with app.run_test(size=(100, 30)) as pilot:
        s = app.session
        while s.prepared is None:
            await pilot.pause(0.05)
        await pilot.press("2", "r")
        watcher = asyncio.create_task(watch_progress())
        updates.append(time.perf_counter())
        target = "segments"
        while s.sweeping or s.segmentation is None:
            key = "3" if target == "segments" else "2"
            before = len(handled)
            started = time.perf_counter()
            await pilot.press(key)
            while len(handled) == before:
                await asyncio.sleep(0.001)
            latencies.append(handled[-1] - started)
            settled.append(time.perf_counter() - started)
            target = "sweep" if target == "segments" else "segments"
            await pilot.pause(0.25)
        watcher.cancel()
    gaps = [b - a for a, b in zip(updates, updates[1:], strict=False)]
    return {
        "key_presses": len(latencies),
        "latency_median_ms": statistics.median(latencies) * 1000,
        "latency_max_ms": max(latencies) * 1000,
        "settled_median_ms": statistics.median(settled) * 1000,
        "progress_updates": len(updates),
        "progress_max_gap_s": max(gaps) if gaps else 0.0,
    }


def main() -> None:
    n = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.parquet"
        table(n).drop(columns="planted").to_parquet(path)
        result = asyncio.run(measure(path))
    result["rows"] = n
    print(json.dumps(result))


if __name__ == "__main__":
    main()
