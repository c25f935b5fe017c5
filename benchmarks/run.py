"""`make bench`: segscope against the scikit-learn baseline in the same run; writes RESULTS.md.

Every measurement runs in its own process (peak memory is its own). Speed is reported as
medians of 3 repeats and as ratios to the baseline measured here, never as absolute promises.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPEATS = 3
SIZES = [100_000, 1_000_000]
BIG = 10_000_000


def run(module: str, *args: object) -> dict[str, Any]:
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *map(str, args)]
    print("  $", " ".join(cmd[2:]), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def repeat(case: str, n: int) -> list[dict[str, Any]]:
    return [run("measure", case, n) for _ in range(REPEATS)]


def med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def machine() -> list[str]:
    import numpy
    import sklearn
    from threadpoolctl import threadpool_info

    blas = [
        f"{i['internal_api']} {i.get('version') or ''} ({i.get('architecture', '?')}, "
        f"{i['num_threads']} threads)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    return [
        f"- date: {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        f"- cores: {os.cpu_count()}; platform: {platform.platform()}",
        f"- Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"scikit-learn {sklearn.__version__}",
        f"- BLAS: {'; '.join(dict.fromkeys(blas))}",
        f"- OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
    ]


def ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def main() -> None:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (benchmarks/run.py).",
        "",
        "## Machine",
        "",
    ]
    lines += machine()
    lines += [
        "",
        "## Data",
        "",
        "`benchmarks.measure.table(n)`: `gender_id` (2 values), `city_id` (50 skewed values), 5 "
        "numeric behaviour columns, 4 planted segments; prepared by segscope (37 columns after "
        "one-hot). Both methods sweep k = 2..10 with silhouette on the same prepared matrix.",
        "",
        "- baseline: `KMeans(n_init='auto', random_state=0)` per k on every row + "
        "`silhouette_score(sample_size=10_000, random_state=0)`",
        "- segscope: `core.sweep` (fits on a 50,000-row sample with several starts, assigns every "
        "row, exact silhouette on one shared 6,000-row sample)",
        "",
        "## Sweep: segscope vs baseline (median of 3)",
        "",
        "| rows | baseline s | segscope s | speed-up | worst inertia vs baseline | chosen k "
        "(baseline / segscope / exact on 50k) | peak MiB (baseline / segscope) |",
        "|---|---|---|---|---|---|---|",
    ]
    checks: dict[str, tuple[bool, str]] = {}
    growth = []
    for n in SIZES:
        seg, base, ref = (
            repeat("segscope", n),
            repeat("baseline", n),
            run("measure", "reference", n),
        )
        s_t, b_t = med(seg, "seconds"), med(base, "seconds")
        worst = max(a / b - 1 for a, b in zip(seg[0]["inertia"], base[0]["inertia"], strict=True))
        mem = (med(base, "peak_mib"), med(seg, "peak_mib"))
        ks = (base[0]["k"], seg[0]["k"], ref["k"])
        lines.append(
            f"| {n:,} | {b_t:.2f} | {s_t:.2f} | {b_t / s_t:.1f}× | {worst:+.2%} | "
            f"{ks[0]} / {ks[1]} / {ks[2]} | {mem[0]:,.0f} / {mem[1]:,.0f} |"
        )
        growth.append((n, s_t, mem[1], med(seg, "final_fit_seconds")))
        if n == 1_000_000:
            checks["1M sweep ≤ 5 s"] = (s_t <= 5, f"{s_t:.2f} s")
            checks["≥ 6× faster than baseline"] = (b_t / s_t >= 6, f"{b_t / s_t:.1f}×")
            checks["inertia within 1% of baseline"] = (worst <= 0.01, f"worst {worst:+.2%}")
            checks["same k as exact silhouette on 50k"] = (ks[1] == ks[2], f"{ks[1]} vs {ks[2]}")
            checks["peak memory ≤ 1.5 GiB"] = (mem[1] <= 1536, f"{mem[1]:,.0f} MiB")
    load = repeat("load", 1_000_000)
    l_t = med(load, "seconds")
    checks["1M-row CSV loads ≤ 0.5 s"] = (
        l_t <= 0.5,
        f"{l_t:.2f} s (pandas.read_csv {med(load, 'pandas_seconds'):.2f} s)",
    )
    big = run("measure", "segscope", BIG)
    growth.append((BIG, big["seconds"], big["peak_mib"], big["final_fit_seconds"]))
    e2e = run("measure", "e2e", BIG)
    checks["10M rows: sweep + every output within 24 GiB"] = (
        e2e["peak_mib"] < 24 * 1024,
        f"{e2e['seconds']:.1f} s end to end from Parquet, peak {e2e['peak_mib']:,.0f} MiB",
    )
    tui = run("tui_latency", 1_000_000)
    checks["TUI key handled ≤ 100 ms during a 1M sweep"] = (
        tui["latency_max_ms"] <= 100,
        f"max {tui['latency_max_ms']:.1f} ms over {tui['key_presses']} presses",
    )
    checks["TUI progress at least once a second"] = (
        tui["progress_max_gap_s"] <= 1,
        f"longest gap {tui['progress_max_gap_s']:.2f} s",
    )
    lines += [
        "",
        "## Growth (segscope sweep, one run at 10M)",
        "",
        "| rows | sweep s | final fit of chosen k s | peak MiB |",
        "|---|---|---|---|",
        *[f"| {n:,} | {t:.2f} | {f:.2f} | {m:,.0f} |" for n, t, m, f in growth],
        "",
        "## TUI during a 1M-row sweep (Pilot, headless)",
        "",
        f"- key press to handler: median {tui['latency_median_ms']:.1f} ms, max "
        f"{tui['latency_max_ms']:.1f} ms ({tui['key_presses']} presses)",
        f"- key press until Pilot finds the screen settled (repaint included): median "
        f"{tui['settled_median_ms']:.0f} ms",
        f"- progress updates: {tui['progress_updates']}, "
        f"longest gap {tui['progress_max_gap_s']:.2f} s",
        "",
        "## Targets",
        "",
        "| target | result | figure |",
        "|---|---|---|",
        *[f"| {name} | {ok(flag)} | {fig} |" for name, (flag, fig) in checks.items()],
        "",
    ]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
