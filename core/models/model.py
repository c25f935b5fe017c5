"""The fitted model (preprocessing + K-Means) and its metadata: saved without executable code."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import platform
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from segscope.core.errors import ZIP_ERRORS, DataError
from segscope.core.files import write_bytes_atomic
from segscope.core.limits import MAX_K, MAX_SEED
from segscope.core.locations import first_line
from segscope.core.processes import Standby, beside
from segscope.core.roles import Schema
from segscope.core.text import names, one_line

FORMAT = "segscope-model"
FORMAT_VERSION = 1
TRUSTED_TYPES = [
    "numpy.dtype"
]  # the only non-default type a Pipeline(ColumnTransformer+KMeans) holds


PART_LIMITS = {"meta.json": 10 * 1024**2, "pipeline.skops": 1024**3}  # unpacked bytes
UNPACKED_PIPELINE = 256 * 1024**2  # the pipeline's own zip, unpacked (9,000 columns: 24 MB)


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
    actions: list[str] = field(default_factory=list)  # each segment's suggested action, 1..k
    # the pipeline's bytes, once asked for (dump_ahead: being made in a helper process)
    _dumped: Callable[[], bytes] | None = field(default=None, init=False, repr=False, compare=False)

    def dump_ahead(self, standby: Standby | None = None, spare: bool = True) -> None:
        """Start making the pipeline's bytes for save_model now, beside whatever the run does
        before it writes: in `standby` when it has skops loaded, else, for a caller with a core
        to `spare`, in a helper process when one can be made (core.processes.beside: skops'
        import and work, half a second). The pipeline must not change after this."""
        made = standby.call(pipeline_bytes, _without_labels(self.pipeline)) if standby else None
        if made is None and spare:
            made = beside(pipeline_bytes, self.pipeline)
        self._dumped = made

    def pipeline_bytes(self) -> bytes:
        """The pipeline as the model file holds it."""
        blob = self._dumped() if self._dumped else pipeline_bytes(self.pipeline)
        self._dumped = lambda: blob
        return blob

    @property
    def fingerprint(self) -> str:
        """What identifies the model's segments: a hash of its features and centres (the same
        after saving and loading). Outputs record it, so that labels numbered by this model
        (its own run's, a scoring's, a sweep numbered like it) are known to be."""
        centres = np.asarray(self.pipeline.named_steps["kmeans"].cluster_centers_, np.float64)
        digest = hashlib.sha256("\x1f".join(self.schema.features).encode("utf-8", "replace"))
        digest.update(np.ascontiguousarray(centres).tobytes())
        return digest.hexdigest()[:16]

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
            "segment_actions": self.actions,
        }


def save_model(model: SegmentModel, path: Path) -> None:
    """Write the model as a zip of a skops file (no pickle) and a JSON metadata file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", json.dumps(model.meta(), indent=2, default=str))
        zf.writestr("pipeline.skops", model.pipeline_bytes())
    write_bytes_atomic(path, buf.getvalue())


def pipeline_bytes(pipeline: Pipeline) -> bytes:
    """The pipeline as skops writes it, without the training rows' labels."""
    import skops.io as sio

    return sio.dumps(_without_labels(pipeline))


def _without_labels(pipeline: Pipeline) -> Pipeline:
    """The pipeline with a K-Means that does not carry the training rows' labels (scoring
    predicts; the labels are in labels.csv): a model file's size does not grow with the rows."""
    km = copy.copy(pipeline.named_steps["kmeans"])
    if hasattr(km, "labels_"):
        del km.labels_
    return Pipeline([("preprocess", pipeline.named_steps["preprocess"]), ("kmeans", km)])


def load_model(path: Path) -> tuple[SegmentModel, list[str]]:
    """Load a model file; returns the model and warnings (e.g. library versions differ).

    Everything is checked before use: the zip's declared sizes, every metadata field's type,
    the pipeline's types (only what segscope writes is trusted: loading runs no code) and its
    shape. Anything else is a DataError naming the file.
    """
    path = Path(path)
    name = one_line(path.name, 80)
    if not path.is_file():
        raise DataError(f"{one_line(path, 200)}: no such model file.")
    meta, blob = _read_parts(path, name)
    try:
        model = _model_from(meta, _load_pipeline(blob, name))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            f"{name}: its metadata is malformed ({first_line(exc)}). It was not written by "
            "segscope or was altered."
        ) from exc
    _check_shape(model, name)
    now = versions()
    warnings = [
        f"model was trained with {lib} {then}, this is {now[lib]}"
        for lib in ("scikit-learn", "numpy")
        if (then := model.versions.get(lib)) and then.split(".")[:2] != now[lib].split(".")[:2]
    ]
    return model, warnings


def _read_parts(path: Path, name: str) -> tuple[dict[str, Any], bytes]:
    """meta.json (checked for format) and the pipeline's bytes, within their size limits."""
    try:
        with zipfile.ZipFile(path) as zf:
            for part, limit in PART_LIMITS.items():
                if zf.getinfo(part).file_size > limit:
                    raise DataError(
                        f"{name}: its {part} unpacks to more than {limit:,} bytes. It was not "
                        "written by segscope or was altered."
                    )
            meta = json.loads(zf.read("meta.json"))
            blob = zf.read("pipeline.skops")
    except DataError:
        raise
    except ZIP_ERRORS + (KeyError, ValueError) as exc:
        raise DataError(f"{name} is not a segscope model file ({first_line(exc)}).") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(f"{name} is not a segscope model file.")
    if meta.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"{name} has model format {one_line(meta.get('format_version'), 20)}, this segscope "
            f"reads {FORMAT_VERSION}. Re-train the model with this version."
        )
    return meta, blob


def _load_pipeline(blob: bytes, name: str) -> Pipeline:
    import skops.io as sio

    _check_unpacked(blob, name)
    try:
        untrusted = set(sio.get_untrusted_types(data=blob))
    except Exception as exc:  # skops raises assorted errors for a broken file
        raise DataError(f"{name}: the model cannot be read ({first_line(exc)}).") from exc
    unexpected = sorted(untrusted - set(TRUSTED_TYPES))
    if unexpected:
        raise DataError(
            f"{name} holds types segscope does not load ({names(unexpected, 3)}). It was not "
            "written by segscope or was altered."
        )
    try:
        pipeline = sio.loads(blob, trusted=sorted(untrusted))
    except Exception as exc:  # skops raises assorted errors for an incompatible file
        raise DataError(f"{name}: the model cannot be loaded ({first_line(exc)}).") from exc
    steps = getattr(pipeline, "named_steps", {})
    if not (
        isinstance(pipeline, Pipeline)
        and isinstance(steps.get("preprocess"), ColumnTransformer)
        and isinstance(steps.get("kmeans"), KMeans)
    ):
        raise DataError(
            f"{name}: its pipeline is not preprocessing + K-Means. It was not written by "
            "segscope or was altered."
        )
    return pipeline


def _check_unpacked(blob: bytes, name: str) -> None:
    """The pipeline part is a zip of its own (skops' schema and arrays): what it unpacks to is
    held to UNPACKED_PIPELINE before skops reads it."""
    limit = UNPACKED_PIPELINE
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as inner:
            unpacked = sum(info.file_size for info in inner.infolist())
    except ZIP_ERRORS as exc:
        raise DataError(f"{name}: the model cannot be read ({first_line(exc)}).") from exc
    if unpacked > limit:
        raise DataError(
            f"{name}: its pipeline unpacks to more than {limit:,} bytes. It was not written by "
            "segscope or was altered."
        )


def _model_from(meta: dict[str, Any], pipeline: Pipeline) -> SegmentModel:
    """The SegmentModel of checked metadata (TypeError or ValueError name what is wrong)."""
    return SegmentModel(
        pipeline=pipeline,
        schema=Schema.from_dict(_typed(meta["schema"], dict, "schema")),
        k=_whole(meta["k"], "k", 2, MAX_K),
        seed=_whole(meta["seed"], "seed", 0, MAX_SEED),
        key=_text_or_none(meta.get("key"), "key"),
        customers_sheet=_text_or_none(meta.get("customers_sheet"), "customers_sheet"),
        transactions_sheet=_text_or_none(meta.get("transactions_sheet"), "transactions_sheet"),
        segment_sizes=[_whole(n, "segment_sizes", 0) for n in meta.get("segment_sizes", [])],
        numeric_summary={
            str(c): {str(s): _number(v, "numeric_summary") for s, v in _dict(f).items()}
            for c, f in _dict(meta.get("numeric_summary", {})).items()
        },
        category_shares={
            str(c): {str(v): _number(s, "category_shares") for v, s in _dict(f).items()}
            for c, f in _dict(meta.get("category_shares", {})).items()
        },
        distance_p99=_number(meta.get("distance_p99", float("inf")), "distance_p99"),
        weights={str(c): _number(w, "weights") for c, w in _dict(meta.get("weights", {})).items()},
        metrics=list(_typed(meta.get("metrics", []), list, "metrics")),
        versions={str(k): str(v) for k, v in _dict(meta.get("versions", {})).items()},
        actions=[
            _text(a, "segment_actions")
            for a in _typed(meta.get("segment_actions", []), list, "segment_actions")
        ],
    )


def _check_shape(model: SegmentModel, name: str) -> None:
    """The pipeline fits its metadata: k centres, over the preprocessing's columns."""
    km = model.pipeline.named_steps["kmeans"]
    pre = model.pipeline.named_steps["preprocess"]
    centres = getattr(km, "cluster_centers_", None)
    try:
        width = len(pre.get_feature_names_out())
    except Exception:  # an unfitted or altered transformer
        width = -1
    features = set(model.schema.features)
    if (
        centres is None
        or centres.shape != (model.k, width)
        or not features
        or any(c not in features for c in model.numeric_summary)
        or len(model.actions) not in (0, model.k)
    ):
        raise DataError(
            f"{name}: its pipeline does not match its metadata (k, features). It was not "
            "written by segscope or was altered."
        )


def _typed(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"{what} is not a {kind.__name__}")
    return value


def _dict(value: Any) -> dict[str, Any]:
    return _typed(value, dict, "a field")


def _whole(value: Any, what: str, low: int, high: int | None = None) -> int:
    if type(value) is not int or value < low or (high is not None and value > high):
        raise ValueError(f"{what} is not a whole number from {low}")
    return value


def _number(value: Any, what: str) -> float:
    if type(value) not in (int, float) and value is not None:
        raise TypeError(f"{what} holds something that is not a number")
    return float("nan") if value is None else float(value)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} holds something that is not text")
    return value


def _text_or_none(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} is not text")
    return value
