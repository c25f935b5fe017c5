"""What the gap statistic adds to the sweep: the sweep stage with and without it, taking turns in
one process (the data prepared once, so only the sweep is timed), on the sample workbook and on
1M planted customers. Without it is the sweep as it was before the gap statistic (its setup
carries no reference sets, so no k measures a gap).

`python -m benchmarks.gap_cost [REPEATS]` prints the lines `make bench` adds to RESULTS.md."""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.measure import KS, table
from segscope.core.clustering import gap
from segscope.core.clustering.sweep import run_sweep, set_up_sweep
from segscope.core.engines.local import prepare_tables
from segscope.core.roles import Role
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import read_source

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 5
LIMIT = 4 / 3  # issue 23: the gap statistic may add at most a third to the sweep's time


def sweep_seconds(X: np.ndarray, with_gap: bool, seed: int = 42) -> float:
    """One sweep of k = 2..10 as `segscope sweep` runs it (setup included), in seconds."""
    started = time.perf_counter()
    setup = set_up_sweep(X, KS, seed)
    if not with_gap:
        setup = dataclasses.replace(setup, gap=None)
    for _ in run_sweep(X, setup):
        pass
    return time.perf_counter() - started


def measure(X: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median seconds without and with the gap statistic, the two taking turns."""
    without, with_ = [], []
    for _ in range(repeats):
        without.append(sweep_seconds(X, False))
        with_.append(sweep_seconds(X, True))
    return statistics.median(without), statistics.median(with_)


def lines_for(repeats: int = REPEATS) -> tuple[list[str], dict[str, tuple[bool, str]]]:
    shop = prepare_tables(read_source(ROOT / "sample_data" / "shop.xlsx"))
    planted = prepare_tables(
        {"customers": table(1_000_000)}, DataChoices(roles={"planted": Role.IGNORED})
    )
    lines = [
        "## The gap statistic's cost",
        "",
        f"The sweep stage (k = 2..10, setup included) with and without the gap statistic "
        f"(B = {gap.REFERENCES} reference sets, on a sample of {gap.GAP_ROWS:,} rows), taking "
        f"turns in one process, median of {repeats}:",
        "",
        "| data | matrix | without s | with s | added |",
        "|---|---|---|---|---|",
    ]
    checks = {}
    for name, X in (("sample workbook", shop.X), ("1M planted customers", planted.X)):
        sweep_seconds(X, True)  # warm: imports, caches
        without, with_ = measure(X, repeats)
        added = with_ / without - 1
        lines.append(
            f"| {name} | {X.shape[0]:,} × {X.shape[1]} | {without:.2f} | {with_:.2f} | "
            f"{added:+.0%} |"
        )
        checks[f"gap statistic adds at most a third to the sweep ({name})"] = (
            with_ <= LIMIT * without,
            f"{added:+.0%}",
        )
    return [*lines, ""], checks


if __name__ == "__main__":
    shown, _ = lines_for(int(sys.argv[1]) if len(sys.argv) > 1 else REPEATS)
    print("\n".join(shown))
