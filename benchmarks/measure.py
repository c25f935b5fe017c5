"""One measurement per process (so peak memory is its own): `python -m benchmarks.measure CASE N`.

Cases:
- `segscope`: segscope's sweep (k=2..10, silhouette included) on the prepared matrix.
- `baseline`: the careful scikit-learn way on the same matrix: `KMeans(n_init="auto",
  random_state=0)` per k on every row, then `silhouette_score(sample_size=10_000, random_state=0)`.
- `reference`: exact silhouette of segscope's labels on a 50,000-row sample (the k it would pick).
- `load`: reading a CSV of N rows with segscope vs plain `pandas.read_csv`.
- `e2e`: load a CSV, sweep, segment and write every output (the 10M run).
Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from sample_data.generate import planted_customers
from segscope.core.analysis import prepare_tables, segment, start_sweep
from segscope.core.schema import Role
from segscope.core.settings import DataChoices, SweepSettings

KS = list(range(2, 11))


def table(n: int):  # type: ignore[no-untyped-def]
    """The synthetic table: gender_id (2), city_id (50 skewed), 5 numbers, 4 planted segments."""
    return planted_customers(n=n, k=4, seed=1)


def prepared(n: int):  # type: ignore[no-untyped-def]
    return prepare_tables({"customers": table(n)}, DataChoices(roles={"planted": Role.IGNORED}))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def segscope_sweep(n: int) -> dict[str, Any]:
    prep = prepared(n)
    started = time.perf_counter()
    plan, results = start_sweep(prep, SweepSettings(tuple(KS), 42))
    done = list(results)
    seconds = time.perf_counter() - started
    best = max(done, key=lambda r: r.silhouette)
    started = time.perf_counter()
    segment(prep, plan, done)
    final = time.perf_counter() - started
    return {
        "seconds": seconds,
        "final_fit_seconds": final,
        "inertia": [r.inertia for r in done],
        "silhouette": [r.silhouette for r in done],
        "k": best.k,
        "notes": plan.notes(),
    }


def baseline_sweep(n: int) -> dict[str, Any]:
    X = prepared(n).X
    started = time.perf_counter()
    inertia, sil = [], []
    for k in KS:
        km = KMeans(n_clusters=k, n_init="auto", random_state=0).fit(X)
        inertia.append(float(km.inertia_))
        sil.append(
            float(silhouette_score(X, km.labels_, sample_size=min(10_000, n), random_state=0))
        )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "inertia": inertia, "silhouette": sil, "k": KS[int(np.argmax(sil))]}


def exact_silhouettes(
    X: np.ndarray, labels: dict[int, np.ndarray], chunk: int = 2_000
) -> dict[int, float]:
    """Exact silhouette for several labelings of X, sharing each block of pairwise distances."""
    X = X.astype(np.float64)
    sq = np.einsum("ij,ij->i", X, X)
    sums = {k: np.zeros((len(X), k)) for k in labels}
    onehots = {k: np.eye(k)[y] for k, y in labels.items()}
    for start in range(0, len(X), chunk):
        block = X[start : start + chunk]
        d2 = sq[start : start + chunk, None] + sq[None, :] - 2 * block @ X.T
        d = np.sqrt(np.maximum(d2, 0))
        for k, oh in onehots.items():
            sums[k][start : start + chunk] = d @ oh
    out = {}
    for k, y in labels.items():
        counts = np.bincount(y, minlength=k).astype(float)
        own = sums[k][np.arange(len(y)), y]
        a = own / np.maximum(counts[y] - 1, 1)
        means = sums[k] / counts
        means[np.arange(len(y)), y] = np.inf
        b = means.min(axis=1)
        s = np.where(counts[y] > 1, (b - a) / np.maximum(a, b), 0.0)
        out[k] = float(s.mean())
    return out


def reference(n: int) -> dict[str, Any]:
    prep = prepared(n)
    plan, results = start_sweep(prep, SweepSettings(tuple(KS), 42))
    done = list(results)
    idx = np.random.default_rng(123).choice(n, min(n, 50_000), replace=False)
    sil = exact_silhouettes(prep.X[idx], {r.k: r.labels[idx] for r in done})
    return {"silhouette": [sil[k] for k in KS], "k": max(sil, key=lambda k: sil[k])}


def load(n: int) -> dict[str, Any]:
    import pandas as pd

    from segscope.core.readers import read_source

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        table(n).to_csv(path, index=False)
        timings = {}
        for name, read in (
            ("pandas", lambda: pd.read_csv(path)),
            ("segscope", lambda: read_source(path)),
        ):
            started = time.perf_counter()
            read()
            timings[name] = time.perf_counter() - started
    return {"seconds": timings["segscope"], "pandas_seconds": timings["pandas"]}


def e2e(n: int) -> dict[str, Any]:
    from segscope.core.engine import analyse
    from segscope.core.report import write_outputs

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.parquet"
        table(n).drop(columns="planted").to_parquet(path)
        started = time.perf_counter()
        seg = analyse(path)
        write_outputs(seg, Path(tmp) / "out")
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "k": seg.choice.k}


CASES = {
    "segscope": segscope_sweep,
    "baseline": baseline_sweep,
    "reference": reference,
    "load": load,
    "e2e": e2e,
}


def main() -> None:
    case, n = sys.argv[1], int(sys.argv[2])
    result = CASES[case](n)
    result.update({"case": case, "rows": n, "peak_mib": peak_mib()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
