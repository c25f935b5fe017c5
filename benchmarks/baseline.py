"""The careful scikit-learn baseline, end to end, as an analyst would write it by hand.

`python -m benchmarks.baseline FILE OUT.csv [--key COLUMN] [--drop COLUMN ...]`: read the file,
a `ColumnTransformer` (median-imputed, scaled numbers; one-hot text and `*_id` codes), K-Means
(`n_init="auto"`) for k = 2..10 scored by `silhouette_score(sample_size=10_000)`, the best k's
labels written to OUT.csv. Prints one JSON object: seconds, the chosen k and the peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

started = time.perf_counter()

import numpy as np  # noqa: E402  (imports are part of what the user waits for)
import pandas as pd  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.metrics import silhouette_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

KS = range(2, 11)


def read(path: str) -> pd.DataFrame:
    if path.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep=None if path.endswith((".txt", ".tsv")) else ",", engine="c")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("out")
    parser.add_argument("--key")
    parser.add_argument("--drop", nargs="*", default=[])
    return parser.parse_args()


def matrix(a: argparse.Namespace) -> tuple[pd.Series, np.ndarray]:
    """The customers' keys and the transformed matrix, as the analyst builds it."""
    data = read(a.file)
    keys = data[a.key] if a.key else pd.Series(np.arange(len(data)), name="row")
    features = data.drop(columns=[c for c in [a.key, *a.drop] if c])
    codes = [c for c in features if features[c].dtype == object or c.endswith("_id")]
    numbers = [c for c in features if c not in codes and pd.api.types.is_numeric_dtype(features[c])]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), codes),
        ]
    )
    return keys, pre.fit_transform(features.astype({c: str for c in codes}))


def finish(keys: pd.Series, labels: np.ndarray, out: str, k: int) -> None:
    """Write the labels and print the run's figures (one JSON object)."""
    pd.DataFrame({keys.name: keys, "segment": labels + 1}).to_csv(out, index=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "k": k, "peak_mib": peak}))


def main() -> None:
    a = arguments()
    keys, X = matrix(a)
    best_k, best_score, best_labels = 0, -2.0, np.empty(0)
    for k in KS:
        labels = KMeans(n_clusters=k, n_init="auto", random_state=0).fit_predict(X)
        score = silhouette_score(X, labels, sample_size=min(10_000, len(X)), random_state=0)
        if score > best_score:
            best_k, best_score, best_labels = k, score, labels
    finish(keys, best_labels, a.out, best_k)


if __name__ == "__main__":
    sys.exit(main())
