"""Scoring new customers with a saved model: same loading, joins, aggregation and preprocessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from segscope.core.errors import DataError
from segscope.core.features.executors import source_frame
from segscope.core.features.frame import CustomerFrame
from segscope.core.locations import about, display_name
from segscope.core.models.model import SegmentModel, load_model
from segscope.core.models.movement import EarlierLabels, Movement, who_moved
from segscope.core.preparing.preprocess import transform, typed_features
from segscope.core.settings import DataChoices
from segscope.core.sources.reading import Source, read_source
from segscope.core.text import names, one_line, quoted


@dataclass
class ScoreResult:
    """Labels for new customers and what differed from the training data."""

    labels: pd.DataFrame  # key (or row) + segment
    unseen: dict[str, int] = field(default_factory=dict)  # column -> rows with an unseen category
    warnings: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    drift: dict[str, float] = field(default_factory=dict)  # feature -> how far it moved
    outliers: int = 0  # customers farther from every centre than 99% of training customers
    movement: Movement | None = None  # who moved since an earlier run's labels

    def moved(self, n: int = 5) -> list[tuple[str, float]]:
        """The features whose distribution moved most since training."""
        return sorted(self.drift.items(), key=lambda kv: -kv[1])[:n]


def score_tables(
    model: SegmentModel, tables: Source | dict[str, pd.DataFrame], source: str
) -> ScoreResult:
    """Label every customer of `tables` (a file's, or a database's) with `model`."""
    read = tables if isinstance(tables, Source) else Source(source, dict(tables))
    frame = _customer_frame(model, read, display_name(source))
    features = typed_features(frame.data, model.schema, frame.reference_date)
    X = transform(model.pipeline.named_steps["preprocess"], features)
    to_centres = model.pipeline.named_steps["kmeans"].transform(X)
    segments = to_centres.argmin(axis=1).astype(np.int64) + 1  # what model.predict gives
    outliers = int((to_centres.min(axis=1) > model.distance_p99).sum())
    unseen = {}
    for col, known in model.category_shares.items():
        count = int((~features[col].dropna().isin(set(known))).sum())
        if count:
            unseen[col] = count
    keys = (
        frame.data[frame.key]
        if frame.key
        else pd.Series(np.arange(1, len(segments) + 1), name="row")
    )
    warnings = [
        f"{one_line(col, 40)}: {n:,} rows have categories not seen in training (scored as none "
        "of them)"
        for col, n in unseen.items()
    ]
    if outliers > 0.02 * len(segments):
        warnings.append(
            f"{outliers:,} customers ({outliers / len(segments):.1%}) are farther from every "
            "segment than 99% of the training customers were: the model may be out of date"
        )
    return ScoreResult(
        pd.DataFrame({keys.name: keys.to_numpy(), "segment": segments}),
        unseen,
        warnings,
        np.bincount(segments - 1, minlength=model.k).tolist(),
        drift(model, features),
        outliers,
    )


def _customer_frame(model: SegmentModel, source: Source, where: str) -> CustomerFrame:
    """The customer table built as at training, with every feature the model needs."""
    tables = source.tables
    customers = model.customers_sheet if model.customers_sheet in tables else None
    transactions = model.transactions_sheet if model.transactions_sheet in tables else None
    if model.transactions_sheet and transactions is None and len(tables) > 1:
        raise DataError(
            f"{where}: the model was trained with a {quoted(model.transactions_sheet)} sheet, "
            f"which is missing. Sheets are: {names(tables, 8)}."
        )
    if customers is None and transactions is None and len(tables) == 1:
        only = next(iter(tables))
        customers, transactions = (None, only) if model.transactions_sheet else (only, None)
    choices = DataChoices(customers=customers, transactions=transactions, key=model.key)
    frame = source_frame(source, choices)[0]
    missing = [c for c in model.schema.features if c not in frame.data.columns]
    if missing:
        raise DataError(
            f"{where} lacks the feature column(s) the model needs: {names(missing)}. Give data "
            "in the layout the model was trained on."
        )
    return frame


def drift(model: SegmentModel, features: pd.DataFrame) -> dict[str, float]:
    """How far each feature moved since training: numbers as |mean shift| in training SDs,
    categories as the share of customers that would have to change category (total variation)."""
    out = {}
    for col, stats in model.numeric_summary.items():
        if col in features and stats.get("std"):
            shift = (
                abs(float(features[col].astype("float64").mean()) - stats["mean"]) / stats["std"]
            )
            out[col] = shift
    for col, before in model.category_shares.items():
        if col in features:
            now = features[col].value_counts() / max(1, len(features))  # of all, as at training
            cats = set(before) | set(map(str, now.index))
            now_d = {str(k): float(v) for k, v in now.items()}
            out[col] = 0.5 * sum(abs(before.get(c, 0.0) - now_d.get(c, 0.0)) for c in cats)
    return out


def score_file(
    model_path: Path, data_path: str | Path, previous: EarlierLabels | None = None
) -> tuple[SegmentModel, ScoreResult]:
    """Load a model and a data file (or a database: a URL, a DuckDB file, a glob) and label the
    data's customers; with `previous` (an earlier run's labels), say who moved since."""
    model, warnings = load_model(model_path)
    with about(data_path):
        source = read_source(data_path)
        try:
            result = score_tables(model, source, str(data_path))
        finally:
            source.close()  # a database's connection let go of
    result.warnings[:0] = warnings
    if previous is not None:
        names = display_name(str(model_path)), display_name(str(data_path))
        result.movement = moved_since(model, result, previous, *names)
    return model, result


def moved_since(
    model: SegmentModel, result: ScoreResult, previous: EarlierLabels, model_name: str, data: str
) -> Movement:
    """Who moved between `previous` and the customers of `data` that `model` labelled (numbered
    by it)."""
    return who_moved(
        previous,
        result.labels,
        model.k,
        dict(enumerate(model.actions, start=1)),
        model.fingerprint,
        f"the model {model_name}",
        data,
    )
