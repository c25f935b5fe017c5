"""The preprocessing pipeline: impute, scale numbers, one-hot categories (fit and score)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from segscope.core.dates import parse_dates
from segscope.core.errors import DataError
from segscope.core.schema import Role, Schema
from segscope.core.text import names

MAX_ONEHOT = 30  # categories per column kept apart; rarer ones share one 'infrequent' column
MIN_CATEGORY_SHARE = 0.005  # categories under 0.5% of rows are grouped as 'infrequent'
FLOAT32_MAX = float(np.finfo(np.float32).max)  # beyond this (or inf) a number counts as missing
PREPROCESS_ROWS = 200_000  # medians, scales and category shares are learnt on this many rows


def typed_features(
    df: pd.DataFrame, schema: Schema, reference_date: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The feature columns, typed for the pipeline: numbers as float32 (inf, and beyond float32's
    range, -> missing),
    dates as days before `reference_date`, categories as text."""
    missing = [c for c in schema.features if c not in df.columns]
    if missing:
        raise DataError(
            f"missing feature column(s): {names(missing)}. The data must have the columns "
            "the model was trained on."
        )
    out = {}
    for col in schema.columns:
        if col.role not in (Role.NUMERIC, Role.CATEGORICAL, Role.DATETIME):
            continue
        s = df[col.name]
        if col.role is Role.DATETIME:
            when = s if pd.api.types.is_datetime64_any_dtype(s) else parse_dates(s, "text")
            ref = reference_date if reference_date is not None else when.max()
            out[col.name] = ((ref - when).dt.days).astype("float32")
        elif col.role is Role.NUMERIC:
            values = pd.to_numeric(s, errors="coerce").astype("float64")
            out[col.name] = values.where(values.abs() <= FLOAT32_MAX).astype("float32")
        else:
            out[col.name] = s.astype(str).astype(object).where(s.notna(), np.nan)
    frame = pd.DataFrame(out, index=df.index)
    empty = [c for c in schema.numeric if frame[c].isna().all()]
    if empty:
        raise DataError(
            f"column(s) {names(empty)} have no usable numbers (all empty or inf). "
            "Exclude them or fix the data."
        )
    return frame


def _numeric() -> Pipeline:
    return Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])


def _categorical() -> Pipeline:
    onehot = OneHotEncoder(
        handle_unknown="ignore",
        min_frequency=MIN_CATEGORY_SHARE,
        max_categories=MAX_ONEHOT,
        sparse_output=False,
        dtype=np.float32,
    )
    return Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("onehot", onehot)])


def build_preprocessor(
    schema: Schema, weights: Mapping[str, float] | None = None
) -> ColumnTransformer:
    """One transformer per feature, so each can carry a weight.

    Numeric: median impute + StandardScaler; categorical: most-frequent impute + one-hot (rare
    categories grouped, unseen ones ignored). A weight multiplies the feature's columns.
    """
    parts = [(part_name(c), _numeric(), [c]) for c in schema.numeric]
    parts += [(part_name(c), _categorical(), [c]) for c in schema.categorical]
    scaled = {part_name(c): float(w) for c, w in (weights or {}).items() if c in schema.features}
    return ColumnTransformer(
        parts,
        remainder="drop",
        transformer_weights={k: w for k, w in scaled.items() if w != 1.0} or None,
        verbose_feature_names_out=False,
    )


def part_name(column: str) -> str:
    """The ColumnTransformer part that holds `column`."""
    return column.replace("__", "_")


def fit_preprocessor(
    schema: Schema,
    features: pd.DataFrame,
    seed: int,
    weights: Mapping[str, float] | None = None,
) -> ColumnTransformer:
    """Fit the preprocessing on the features (a random sample of PREPROCESS_ROWS above that)."""
    pre = build_preprocessor(schema, weights)
    if len(features) > PREPROCESS_ROWS:
        features = features.sample(PREPROCESS_ROWS, random_state=seed)
    return pre.fit(features)


def transform(pre: ColumnTransformer, features: pd.DataFrame) -> np.ndarray:
    """The transformed matrix as C-contiguous float32, as K-Means and silhouette want it."""
    return np.ascontiguousarray(pre.transform(features), dtype=np.float32)
