"""`make bench`: what a user waits for, against the careful baseline measured in the same run.

Every measurement is a command in its own process, timed from start to exit (imports, reading,
writing included), with its own peak memory; medians of REPEATS runs (one run each where a
single run takes minutes: the 10M-row baseline). Speed is reported as ratios to the baseline
and to the quiet machine, never as absolute promises. Writes benchmarks/RESULTS.md.

`python -m benchmarks.run [--quick]`: --quick skips the 10M rows and the app's latency check.
"""

from __future__ import annotations

import json
import os
import platform
import pty
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import adjusted_rand_score

from benchmarks import databases, gap_cost
from benchmarks.measure import table

HERE = Path(__file__).parent
ROOT = HERE.parent
SEGSCOPE = str(Path(sys.executable).parent / "segscope")
SMALL = ROOT / "tests" / "data" / "credit_data.csv.gz"  # real: 4,454 customers x 14 columns
REPEATS = 3
SIZES = (100_000, 1_000_000)
BIG = 10_000_000
# Commands run as a user's would: Python keeps its compiled-module cache (this machine's shell
# turns it off; an installed package has it).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Run:
    """One command: wall seconds, peak memory, its output folder's summary."""

    seconds: float
    peak_mib: float
    out: Path | None = None
    stdout: str = ""

    def summary(self) -> dict[str, Any]:
        assert self.out is not None
        return dict(json.loads((self.out / "summary.json").read_text()))


def timed(cmd: list[str], out: Path | None = None) -> Run:
    """Run `cmd` to its end: its wall time and peak resident memory (wait4's: at least its own,
    as a child started by vfork starts from this runner's peak, a few hundred MiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return Run(seconds, usage.ru_maxrss / 1024, out, stdout)


def segscope(data: Path | str, work: Path, *options: str) -> Run:
    out = Path(tempfile.mkdtemp(dir=work)) / "out"
    return timed([SEGSCOPE, "sweep", str(data), "--out", str(out), *options], out)


def baseline(data: Path, work: Path, *options: str, script: str = "baseline") -> Run:
    """benchmarks/baseline.py (the plain script), or `script`: same_work (segscope's work done
    by hand with scikit-learn)."""
    labels = Path(tempfile.mkdtemp(dir=work)) / "labels.csv"
    cmd = [sys.executable, "-m", f"benchmarks.{script}", str(data), str(labels), *options]
    run = timed(cmd, labels.parent)
    run.out = labels
    return run


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def seconds(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def first_screen(columns: int = 100, lines: int = 30) -> float:
    """Seconds from starting `segscope` in a terminal to its first screen (the top bar drawn)."""
    import fcntl
    import struct
    import termios

    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app in a terminal of this size
        os.execve(SEGSCOPE, [SEGSCOPE], {**ENV, "TERM": "xterm-256color"})
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    seen = b""
    try:
        while b"Segments" not in seen:  # the top bar names the screens
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                raise SystemExit("the app drew nothing in 30 s")
            seen += os.read(fd, 65536)
        return time.perf_counter() - started
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)


def ari_to_truth(labels_csv: Path, truth: pd.Series, key: str = "customer_id") -> float:
    labels = pd.read_csv(labels_csv)
    joined = labels.merge(truth.rename("planted"), left_on=key, right_index=True)
    return float(adjusted_rand_score(joined["planted"], joined["segment"]))


def spinners(n: int) -> list[subprocess.Popen[bytes]]:
    """`n` CPU-bound processes, as other users' work on a shared server."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def taking_turns(*runs: Callable[[], Run], repeats: int = REPEATS) -> list[list[Run]]:
    """Each of `runs` `repeats` times, taking turns (ABCABC...): a machine whose speed drifts
    over minutes then weighs on each alike. One list of results per run."""
    out: list[list[Run]] = [[] for _ in runs]
    for _ in range(repeats):
        for results, run in zip(out, runs, strict=True):
            results.append(run())
    return out


def machine() -> list[str]:
    import numpy
    import sklearn

    return [
        f"- date: {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        f"- cores: {os.cpu_count()}; platform: {platform.platform()}",
        f"- Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"scikit-learn {sklearn.__version__}, pandas {pd.__version__}",
    ]


# what every run on the small table imports before it reads a row (`python -c`)
LIBRARIES = "import pandas, sklearn.cluster, sklearn.compose, sklearn.metrics"


def ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def stages(run: Run) -> str:
    t = run.summary()["timings"]
    parts = ", ".join(f"{name} {s:.1f}" for name, s in t["seconds"].items())
    return f"{t['total']:.1f} s on {t['threads']} core(s): {parts}"


def main() -> None:
    quick = "--quick" in sys.argv
    work = Path(tempfile.mkdtemp(prefix="segscope-bench-"))
    checks: dict[str, tuple[bool, str]] = {}
    lines = ["# Benchmarks", "", "Produced by `make bench` (benchmarks/run.py).", "", "## Machine"]
    lines += ["", *machine(), ""]
    try:
        # --- starting ---------------------------------------------------------------------
        help_s = seconds([timed([SEGSCOPE, "--help"]) for _ in range(REPEATS)])
        screen_s = statistics.median(first_screen() for _ in range(REPEATS))
        checks["`segscope --help` instant"] = (help_s <= 1.0, f"{help_s:.2f} s")
        checks["app's first screen within 1 s"] = (screen_s <= 1.0, f"{screen_s:.2f} s")

        # --- a small real table, quiet and busy -------------------------------------------
        def crowded() -> Run:
            others = spinners(2)
            try:
                return segscope(SMALL, work)
            finally:
                for p in others:
                    p.kill()
                    p.wait()

        small_seg, small_base, small_same, busy, floor = taking_turns(
            partial(segscope, SMALL, work),
            partial(baseline, SMALL, work),
            partial(baseline, SMALL, work, script="same_work"),
            crowded,
            partial(timed, [sys.executable, "-c", LIBRARIES]),
        )
        quiet = seconds(small_seg)
        ratio = seconds(small_base) / quiet
        checks["small table no slower than the baseline"] = (ratio >= 1.0, f"{ratio:.2f}×")
        same_ratio = seconds(small_same) / quiet
        checks["small table ≥ 3× the same-work script"] = (same_ratio >= 3, f"{same_ratio:.2f}×")
        slowdown = seconds(busy) / quiet
        checks["busy machine: at most 2× the quiet time"] = (slowdown <= 2.0, f"{slowdown:.2f}×")
        one = segscope(SMALL, work, "--threads", "1")
        same_small = (one.out / "labels.csv").read_bytes() == (  # type: ignore[operator]
            median_run(small_seg).out / "labels.csv"  # type: ignore[operator]
        ).read_bytes()
        lines += [
            "## Starting",
            "",
            f"- `segscope --help`: {help_s:.2f} s (median of {REPEATS})",
            f"- the app's first screen (100×30 terminal, from the command to the top bar drawn): "
            f"{screen_s:.2f} s",
            "",
            "## A small real table (credit data, 4,454 customers × 14 columns)",
            "",
            "| run | seconds (median of 3) | ratio |",
            "|---|---|---|",
            f"| baseline | {seconds(small_base):.2f} | 1 |",
            f"| same work by hand (`benchmarks/same_work.py`) | {seconds(small_same):.2f} | "
            f"{seconds(small_base) / seconds(small_same):.2f}× |",
            f"| segscope, quiet | {quiet:.2f} | {ratio:.2f}× faster than the baseline, "
            f"{same_ratio:.2f}× than the same work by hand |",
            f"| segscope, two CPU-bound processes running | {seconds(busy):.2f} | "
            f"{slowdown:.2f}× its quiet time |",
            "",
            f"- importing pandas and scikit-learn alone, what each of the three runs pays "
            f"before its first row: {seconds(floor):.2f} s; a third of the same work by hand: "
            f"{seconds(small_same) / 3:.2f} s",
            f"- segscope's stages (quiet): {stages(median_run(small_seg))}",
            f"- segscope's stages (busy): {stages(median_run(busy))}",
            f"- labels with `--threads 1` and with the default threads: "
            f"{'identical' if same_small else '**different**'}",
            "",
        ]
        checks["identical labels whatever the threads"] = (same_small, "small table")

        # --- planted tables: 100k and 1M (CSV), 10M (Parquet) -----------------------------
        lines += [
            "## End to end on planted tables (4 segments; `gender_id`, `city_id` as codes)",
            "",
            "| rows | baseline s | segscope s | speed-up | k baseline / segscope | ARI to the "
            "planted truth, baseline / segscope | peak MiB baseline / segscope |",
            "|---|---|---|---|---|---|---|",
        ]
        sizes = [*SIZES, *([] if quick else [BIG])]
        notes = []
        for n in sizes:
            frame = table(n)
            truth = frame.set_index("customer_id")["planted"]
            data = work / (f"planted-{n}.parquet" if n == BIG else f"planted-{n}.csv")
            if n == BIG:
                frame.to_parquet(data)
            else:
                frame.to_csv(data, index=False)
            del frame
            repeats = 1 if n == BIG else REPEATS
            ours, base = taking_turns(
                partial(segscope, data, work, "--exclude", "planted"),
                partial(baseline, data, work, "--key", "customer_id", "--drop", "planted"),
                repeats=repeats,
            )
            mine, theirs = median_run(ours), median_run(base)
            k_ours = mine.summary()["k"]
            k_base = json.loads(theirs.stdout.strip().splitlines()[-1])["k"]
            ari_ours = ari_to_truth(mine.out / "labels.csv", truth)  # type: ignore[operator]
            ari_base = ari_to_truth(theirs.out, truth)  # type: ignore[arg-type]
            speed = seconds(base) / seconds(ours)
            lines.append(
                f"| {n:,} | {seconds(base):.1f} | {seconds(ours):.1f} | {speed:.1f}× | "
                f"{k_base} / {k_ours} | {ari_base:.3f} / {ari_ours:.3f} | "
                f"{theirs.peak_mib:,.0f} / {mine.peak_mib:,.0f} |"
            )
            notes.append(f"- {n:,} rows, segscope's stages: {stages(mine)}")
            if n == 1_000_000:
                checks["1M rows ≥ 6× faster than the baseline"] = (speed >= 6, f"{speed:.1f}×")
                checks["1M: same k as the baseline, ARI no worse"] = (
                    k_ours == k_base and ari_ours >= ari_base - 1e-9,
                    f"k {k_base} / {k_ours}, ARI {ari_base:.4f} / {ari_ours:.4f}",
                )
                checks["1M: peak memory ≤ 1.5 GiB"] = (
                    mine.peak_mib <= 1536,
                    f"{mine.peak_mib:,.0f} MiB",
                )
                one = segscope(data, work, "--exclude", "planted", "--threads", "1")
                same = (one.out / "labels.csv").read_bytes() == (  # type: ignore[operator]
                    mine.out / "labels.csv"  # type: ignore[operator]
                ).read_bytes()
                notes.append(
                    f"- 1M rows, labels with `--threads 1` and the default: "
                    f"{'identical' if same else '**different**'}"
                )
            if n == BIG:
                t = mine.summary()["timings"]["seconds"]
                checks["10M rows ≥ 15× faster than the baseline"] = (speed >= 15, f"{speed:.1f}×")
                checks["10M: peak memory ≤ 2.5 GiB"] = (
                    mine.peak_mib <= 2560,
                    f"{mine.peak_mib:,.0f} MiB ({mine.seconds:.1f} s end to end)",
                )
                checks["10M: final fit no slower than the sweep"] = (
                    t["final fit"] <= t["sweep"],
                    f"final fit {t['final fit']:.1f} s, sweep {t['sweep']:.1f} s",
                )
            data.unlink()
        lines += ["", *notes, ""]

        # --- a database's tables, the log aggregated there -----------------------------------
        def located(location: str) -> tuple[float, bytes]:
            run = segscope(location, work)
            return run.seconds, (run.out / "labels.csv").read_bytes()  # type: ignore[operator]

        db_lines, db_checks = databases.lines_for(work, located)
        lines += db_lines
        checks.update(db_checks)

        # --- what the gap statistic adds to the sweep (one process, the data prepared once) --
        gap_lines, gap_checks = gap_cost.lines_for()
        lines += gap_lines
        checks.update(gap_checks)

        # --- the app during a 1M-row sweep ------------------------------------------------
        if not quick:
            cmd = [sys.executable, "-m", "benchmarks.tui_latency", "1000000"]
            tui = json.loads(timed(cmd).stdout.strip().splitlines()[-1])
            lines += [
                "## The app during a 1M-row sweep (Pilot, headless)",
                "",
                f"- key press to handler: median {tui['latency_median_ms']:.1f} ms, max "
                f"{tui['latency_max_ms']:.1f} ms ({tui['key_presses']} presses)",
                f"- progress updates: {tui['progress_updates']}, longest gap "
                f"{tui['progress_max_gap_s']:.2f} s",
                "",
            ]
            checks["app: a key handled within 100 ms during a 1M sweep"] = (
                tui["latency_max_ms"] <= 100,
                f"max {tui['latency_max_ms']:.1f} ms",
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines += [
        "## Targets",
        "",
        "| target | result | figure |",
        "|---|---|---|",
        *[f"| {name} | {ok(flag)} | {fig} |" for name, (flag, fig) in checks.items()],
        "",
        "Baseline: `benchmarks/baseline.py`, the careful scikit-learn analysis an analyst writes "
        "by hand (`ColumnTransformer`, `KMeans(n_init='auto')` per k, "
        "`silhouette_score(sample_size=10_000)`, labels written). segscope: `segscope sweep FILE "
        "--out DIR` (10 starts and 5 bootstrap refits per k, relevance check, every output).",
        "",
    ]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
