"""Preprocessing in Spark ML, built to match the local scikit-learn pipeline.

Numbers: median Imputer, VectorAssembler, StandardScaler. Categories: the most frequent value
fills gaps, rare categories share one 'infrequent' value (as scikit-learn's OneHotEncoder
groups them), then StringIndexer and OneHotEncoder. A weight multiplies its feature's slots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml import Pipeline
from pyspark.ml.feature import (
    ElementwiseProduct,
    Imputer,
    OneHotEncoder,
    SQLTransformer,
    StandardScaler,
    StringIndexer,
    VectorAssembler,
)
from pyspark.ml.linalg import Vectors
from pyspark.sql import functions as F
from sklearn.compose import ColumnTransformer

from segscope.core.engines.spark.features import days_before, is_numeric_type, to_pandas
from segscope.core.errors import DataError
from segscope.core.preparing.preprocess import (
    FLOAT32_MAX,
    INDICATOR_SHARE,
    MAX_ONEHOT,
    MIN_CATEGORY_SHARE,
    MISSING_CATEGORY,
    part_name,
)
from segscope.core.roles import Role, Schema
from segscope.core.text import names, quoted

INFREQUENT = "infrequent_sklearn"  # scikit-learn's name for the grouped rare categories
INDICATOR = "missingindicator_"  # scikit-learn's name for where a number's gaps were
FEATURES = "features"


def spark_typed_features(
    table: Any, schema: Schema, reference_date: pd.Timestamp | None, keep: Sequence[str] = ()
) -> tuple[Any, dict[str, float]]:
    """The key and the feature columns, typed as preparing.preprocess.typed_features types them:
    numbers as doubles (inf -> missing), dates as days before the reference, categories as
    text; and the share of rows each feature is missing on (those with gaps)."""
    cols = [F.col(schema.key)] if schema.key else []
    types = dict(table.dtypes)
    for col in schema.columns:
        c = F.col(col.name)
        if col.role is Role.DATETIME:
            ref = reference_date
            if ref is None:
                ref = to_pandas(table.agg(F.max(c).alias("m")))["m"].iloc[0]
            cols.append(days_before(ref, c.cast("timestamp")).alias(col.name))
        elif col.role is Role.NUMERIC:
            num = c.cast("double") if is_numeric_type(types[col.name]) else c.try_cast("double")
            usable = F.isnan(num) | (F.abs(num) > FLOAT32_MAX)
            cols.append(F.when(usable, None).otherwise(num).cast("double").alias(col.name))
        elif col.role is Role.CATEGORICAL:
            cols.append(c.cast("string").alias(col.name))
    out = table.select(*cols, *keep)
    counts = out.agg(
        F.count(F.lit(1)).alias("__rows"), *[F.count(F.col(c)).alias(c) for c in schema.features]
    ).first()
    empty = [c for c in schema.numeric if counts[c] == 0]
    if empty:
        raise DataError(
            f"column(s) {names(empty)} have no usable numbers (all empty or inf). "
            "Exclude them or fix the data."
        )
    rows = max(1, counts["__rows"])
    return out, {c: 1 - counts[c] / rows for c in schema.features if counts[c] < rows}


@dataclass
class SparkPreprocessing:
    """The fitted Spark ML pipeline and what each slot of its output vector is."""

    model: Any  # pyspark.ml.PipelineModel
    slots: list[str]  # sklearn-style names: the feature, missingindicator_feature, or
    # feature_category
    owners: list[str]  # the feature each slot belongs to
    means: dict[str, float]  # per numeric slot, what StandardScaler subtracts ...
    stds: dict[str, float]  # ... and divides by
    weights: dict[str, float]

    def transform(self, table: Any) -> Any:
        return self.model.transform(table)


def fit_spark_preprocessing(
    table: Any,
    rows: int,
    schema: Schema,
    weights: Mapping[str, float] | None = None,
    missing: Mapping[str, float] | None = None,
) -> SparkPreprocessing:
    """Fit the preprocessing on every row of `table` (the output of spark_typed_features, `rows`
    long), keeping where the gaps were as preparing.preprocess does (`missing`: share per
    feature)."""
    num, cats = schema.numeric, schema.categorical
    kept_gaps = {c for c, s in (missing or {}).items() if s >= INDICATOR_SHARE}
    flagged = [c for c in num if c in kept_gaps]
    stages: list[Any] = []
    parts = []
    if num:
        imputed = [f"__imp_{c}" for c in num]
        flags = [f"__miss_{c}" for c in flagged]
        if flags:
            marks = ", ".join(
                f"CAST({_quote(c)} IS NULL AS DOUBLE) AS {_quote(m)}"
                for c, m in zip(flagged, flags, strict=True)
            )
            stages.append(SQLTransformer(statement=f"SELECT *, {marks} FROM __THIS__"))
        stages += [
            Imputer(inputCols=num, outputCols=imputed, strategy="median"),
            VectorAssembler(inputCols=[*imputed, *flags], outputCol="__num"),
            StandardScaler(inputCol="__num", outputCol="__num_scaled", withMean=True, withStd=True),
        ]
        parts.append("__num_scaled")
    if cats:
        grouped = [f"__grp_{c}" for c in cats]
        indexed = [f"__idx_{c}" for c in cats]
        encoded = [f"__ohe_{c}" for c in cats]
        grouping = ", ".join(
            f"{_grouping_sql(table, rows, c, c in kept_gaps)} AS {_quote(g)}"
            for c, g in zip(cats, grouped, strict=True)
        )
        stages += [
            SQLTransformer(statement=f"SELECT *, {grouping} FROM __THIS__"),
            StringIndexer(inputCols=grouped, outputCols=indexed, stringOrderType="alphabetAsc"),
            OneHotEncoder(inputCols=indexed, outputCols=encoded, dropLast=False),
        ]
        parts += encoded
    weights = {c: float(w) for c, w in (weights or {}).items() if c in schema.features}
    weighted = any(w != 1.0 for w in weights.values())
    assembled = "__unweighted" if weighted else FEATURES
    stages.append(VectorAssembler(inputCols=parts, outputCol=assembled))
    fitted = Pipeline(stages=stages).fit(table)
    slots, owners = _slots(fitted, num, flagged, cats)
    if weighted:
        scaling = Vectors.dense([weights.get(o, 1.0) for o in owners])
        fitted.stages.append(
            ElementwiseProduct(scalingVec=scaling, inputCol=assembled, outputCol=FEATURES)
        )
    means, stds = {}, {}
    if num:
        scaler: Any = next(s for s in fitted.stages if hasattr(s, "std"))
        numeric_slots = slots[: len(num) + len(flagged)]
        means = dict(zip(numeric_slots, scaler.mean.toArray().tolist(), strict=True))
        stds = dict(zip(numeric_slots, scaler.std.toArray().tolist(), strict=True))
    return SparkPreprocessing(fitted, slots, owners, means, stds, weights)


def _grouping_sql(table: Any, rows: int, col: str, own_category: bool = False) -> str:
    """SQL for the column with gaps filled (by the most frequent value, or by '(missing)' as a
    category of its own) and rare categories grouped, as scikit-learn's SimpleImputer +
    OneHotEncoder(min_frequency, max_categories) do it."""
    counts = {
        str(r[0]): int(r[1])
        for r in table.groupBy(col).count().where(F.col(col).isNotNull()).collect()
    }
    if not counts:
        raise DataError(f"column {quoted(col)} is empty: exclude it or fix the data.")
    gaps = rows - sum(counts.values())
    mode = MISSING_CATEGORY if own_category else min(counts, key=lambda v: (-counts[v], v))
    counts[mode] = counts.get(mode, 0) + gaps
    names = sorted(counts)
    size = np.array([counts[v] for v in names])
    rare = size < MIN_CATEGORY_SHARE * rows
    if len(names) - rare.sum() + 1 > MAX_ONEHOT:
        rare[np.argsort(size, kind="mergesort")[: -(MAX_ONEHOT - 1)]] = True
    filled = f"coalesce(CAST({_quote(col)} AS STRING), {_literal(mode)})"
    if not rare.any():
        return filled
    kept = [_literal(v) for v, r in zip(names, rare, strict=True) if not r]
    if not kept:
        return _literal(INFREQUENT)
    return (
        f"CASE WHEN {filled} IN ({', '.join(kept)}) THEN {filled} ELSE {_literal(INFREQUENT)} END"
    )


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _slots(
    fitted: Any, num: list[str], flagged: list[str], cats: list[str]
) -> tuple[list[str], list[str]]:
    """Slot names of the output vector, and the feature each slot belongs to."""
    names = [*num, *(f"{INDICATOR}{c}" for c in flagged)]
    owners = [*num, *flagged]
    if cats:
        indexer = next(s for s in fitted.stages if hasattr(s, "labelsArray"))
        for col, labels in zip(cats, indexer.labelsArray, strict=True):
            names += [f"{col}_{label}" for label in labels]
            owners += [col] * len(labels)
    return names, owners


def to_sklearn_centres(
    centres: np.ndarray, prep: SparkPreprocessing, pre: ColumnTransformer
) -> np.ndarray:
    """Spark's cluster centres re-expressed in the columns of a scikit-learn preprocessor of
    the same features (numbers rescaled by its means and scales; categories by name)."""
    names = [str(n) for n in pre.get_feature_names_out()]
    where = {n: i for i, n in enumerate(names)}
    out = np.zeros((len(centres), len(names)))
    for j, (slot, owner) in enumerate(zip(prep.slots, prep.owners, strict=True)):
        if slot in prep.means:
            w = prep.weights.get(owner, 1.0)
            scaler = pre.named_transformers_[part_name(owner)].named_steps["scale"]
            i = 1 if slot.startswith(INDICATOR) else 0  # [value, where its gaps were]
            raw = centres[:, j] / w * prep.stds[slot] + prep.means[slot]
            out[:, where[slot]] = (raw - scaler.mean_[i]) / scaler.scale_[i] * w
            continue
        column = slot if slot in where else f"{owner}_{INFREQUENT}"
        if column in where:  # a category scikit-learn groups as rare goes to its rare column
            out[:, where[column]] += centres[:, j]
    return out
