"""`make bench-spark`: the Spark engine in local[2] next to the local engine, same data, same run.

Both engines segment the same Parquet file of N planted customers end to end (read, features,
preprocessing, k=2..10 sweep, final segments); reported: seconds, the ratio, the chosen k, the
silhouette per k and the agreement of the labels (with each other and with the planted
segments). Writes benchmarks/SPARK.md. Usage: `python -m benchmarks.spark [N ...]`.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import adjusted_rand_score

from benchmarks.measure import KS, table
from segscope.core.engines.interface import engine_for
from segscope.core.engines.results import Segmentation
from segscope.core.settings import DataChoices, EngineSettings, SweepSettings

HERE = Path(__file__).parent
MASTER = "local[2]"
SIZES = [100_000, 1_000_000]


def labels(seg: Segmentation, key: str) -> pd.Series:
    """Every customer's segment, by key, from either engine."""
    labelled = getattr(seg, "labelled", None)
    frame = labelled.toArrow().to_pandas() if labelled is not None else seg.labels_frame()
    return frame.set_index(key)["segment"]


def measure(n: int) -> dict[str, Any]:
    from segscope.core.engines.spark.session import get_session

    started = time.perf_counter()
    spark = get_session(MASTER)
    start_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        data = table(n)
        path = Path(tmp) / "customers.parquet"
        data.drop(columns="planted").to_parquet(path)
        truth = data.set_index("customer_id")["planted"]
        out: dict[str, Any] = {"n": n, "spark_start": start_seconds, "spark": spark.version}
        for name in ("local", "spark"):
            engine = engine_for(EngineSettings(name, MASTER))
            settings = SweepSettings(tuple(KS))
            started = time.perf_counter()
            prepared = engine.prepare(engine.open(str(path)), DataChoices())
            stages = [time.perf_counter()]
            setup, results = engine.start_sweep(prepared, settings)
            done = list(results)
            stages.append(time.perf_counter())
            seg = engine.segment(prepared, setup, done, settings)
            stages.append(time.perf_counter())
            out[f"{name}_seconds"] = stages[-1] - started
            out[f"{name}_stages"] = [
                b - a for a, b in zip([started, *stages[:-1]], stages, strict=True)
            ]
            out[f"{name}_k"] = seg.choice.k
            out[f"{name}_silhouette"] = [round(r.silhouette, 4) for r in seg.results]
            found = labels(seg, "customer_id")
            out[f"{name}_labels"] = found
            out[f"{name}_ari_planted"] = adjusted_rand_score(truth[found.index], found)
        both = pd.concat([out.pop("local_labels"), out.pop("spark_labels")], axis=1).dropna()
        out["ari_engines"] = adjusted_rand_score(both.iloc[:, 0], both.iloc[:, 1])
    return out


def report(rows: list[dict[str, Any]]) -> str:
    lines = [
        "# The Spark engine next to the local engine",
        "",
        f"`python -m benchmarks.spark` ({platform.platform()}, Python "
        f"{platform.python_version()}, Spark {rows[0]['spark']} in {MASTER}; Spark session "
        f"start {rows[0]['spark_start']:.1f} s, not counted below). Each engine runs end to end "
        "on the same Parquet file: read, features, preprocessing, the k=2..10 sweep, the final "
        "segments. One run each; the ratio is Spark's time over the local engine's.",
        "",
        "| rows | local s | spark s | ratio | k local / spark | silhouette gap at k / max | "
        "ARI engines | ARI planted local / spark |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        pairs = list(zip(r["local_silhouette"], r["spark_silhouette"], strict=True))
        gap = max(abs(a - b) for a, b in pairs)
        at_k = abs(pairs[r["local_k"] - KS[0]][0] - pairs[r["local_k"] - KS[0]][1])
        lines.append(
            f"| {r['n']:,} | {r['local_seconds']:.1f} | {r['spark_seconds']:.1f} | "
            f"{r['spark_seconds'] / r['local_seconds']:.1f}× | {r['local_k']} / {r['spark_k']} | "
            f"{at_k:.3f} / {gap:.3f} | {r['ari_engines']:.3f} | {r['local_ari_planted']:.3f} / "
            f"{r['spark_ari_planted']:.3f} |"
        )
    lines += [
        "",
        "Seconds by stage (prepare: read, features, preprocessing fit; sweep: k=2..10; segment: "
        "final labels, profiles, model):",
        "",
    ]
    for r in rows:
        for name in ("local", "spark"):
            prep, sweep, seg = r[f"{name}_stages"]
            lines.append(
                f"- {r['n']:,} rows, {name}: prepare {prep:.1f}, sweep {sweep:.1f} "
                f"({sweep / len(KS):.1f} per k), segment {seg:.1f}"
            )
    lines += ["", "Silhouette per k (2..10), local then Spark:", ""]
    for r in rows:
        lines.append(f"- {r['n']:,} rows, local: {r['local_silhouette']}")
        lines.append(f"- {r['n']:,} rows, Spark: {r['spark_silhouette']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or SIZES
    rows = []
    for n in sizes:
        print(f"  {n:,} rows…", file=sys.stderr, flush=True)
        rows.append(measure(n))
    (HERE / "SPARK.md").write_text(report(rows))
    print(report(rows))


if __name__ == "__main__":
    main()
