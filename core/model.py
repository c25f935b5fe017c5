"""The fitted model (preprocessing + K-Means) and its metadata: saved without executable code."""

from __future__ import annotations

import io
import json
import platform
import zipfile
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from segscope.core.errors import DataError
from segscope.core.io import write_bytes_atomic
from segscope.core.schema import Schema

FORMAT = "segscope-model"
FORMAT_VERSION = 1
MODEL_SUFFIX = ".segscope"
TRUSTED_TYPES = [
    "numpy.dtype"
]  # the only non-default type a Pipeline(ColumnTransformer+KMeans) holds


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape a result."""
    out = {"python": platform.python_version()}
    for dist in ("segscope", "scikit-learn", "pandas", "numpy"):
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


@dataclass
class SegmentModel:
    """A fitted pipeline and what is needed to score new customers the same way."""

    pipeline: Pipeline
    schema: Schema
    k: int
    seed: int
    key: str | None
    customers_sheet: str | None
    transactions_sheet: str | None
    segment_sizes: list[int] = field(default_factory=list)
    numeric_summary: dict[str, dict[str, float]] = field(default_factory=dict)
    category_shares: dict[str, dict[str, float]] = field(default_factory=dict)  # seen categories
    distance_p99: float = float("inf")  # 99th percentile of training distance to nearest centre
    weights: dict[str, float] = field(default_factory=dict)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=versions)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Segment numbers 1..k for prepared feature rows."""
        return np.asarray(self.pipeline.predict(features)).astype(np.int64) + 1

    def meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "k": self.k,
            "seed": self.seed,
            "key": self.key,
            "customers_sheet": self.customers_sheet,
            "transactions_sheet": self.transactions_sheet,
            "schema": self.schema.to_dict(),
            "segment_sizes": self.segment_sizes,
            "numeric_summary": self.numeric_summary,
            "category_shares": self.category_shares,
            "distance_p99": self.distance_p99,
            "weights": self.weights,
            "metrics": self.metrics,
            "versions": self.versions,
        }


def save_model(model: SegmentModel, path: Path) -> None:
    """Write the model as a zip of a skops file (no pickle) and a JSON metadata file."""
    import skops.io as sio

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", json.dumps(model.meta(), indent=2, default=str))
        zf.writestr("pipeline.skops", sio.dumps(model.pipeline))
    write_bytes_atomic(path, buf.getvalue())


def load_model(path: Path) -> tuple[SegmentModel, list[str]]:
    """Load a model file; returns the model and warnings (e.g. library versions differ)."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such model file.")
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("meta.json"))
            blob = zf.read("pipeline.skops")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise DataError(f"{path.name} is not a segscope model file ({exc}).") from exc
    if meta.get("format") != FORMAT:
        raise DataError(f"{path.name} is not a segscope model file.")
    if meta.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"{path.name} has model format {meta.get('format_version')}, this segscope reads "
            f"{FORMAT_VERSION}. Re-train the model with this version."
        )
    untrusted = set(sio.get_untrusted_types(data=blob))
    unexpected = sorted(untrusted - set(TRUSTED_TYPES))
    if unexpected:
        raise DataError(
            f"{path.name} holds types segscope does not load ({', '.join(unexpected)}). "
            "It was not written by segscope or was altered."
        )
    try:
        pipeline = sio.loads(blob, trusted=sorted(untrusted))
    except Exception as exc:  # skops raises assorted errors for an incompatible file
        raise DataError(f"{path.name}: the model cannot be loaded ({exc}).") from exc
    warnings = []
    now = versions()
    for lib in ("scikit-learn", "numpy"):
        then = meta.get("versions", {}).get(lib)
        if then and then.split(".")[:2] != now[lib].split(".")[:2]:
            warnings.append(f"model was trained with {lib} {then}, this is {now[lib]}")
    model = SegmentModel(
        pipeline=pipeline,
        schema=Schema.from_dict(meta["schema"]),
        k=int(meta["k"]),
        seed=int(meta["seed"]),
        key=meta.get("key"),
        customers_sheet=meta.get("customers_sheet"),
        transactions_sheet=meta.get("transactions_sheet"),
        segment_sizes=meta.get("segment_sizes", []),
        numeric_summary=meta.get("numeric_summary", {}),
        category_shares=meta.get("category_shares", {}),
        distance_p99=float(meta.get("distance_p99", float("inf"))),
        weights=meta.get("weights", {}),
        metrics=meta.get("metrics", []),
        versions=meta.get("versions", {}),
    )
    return model, warnings
