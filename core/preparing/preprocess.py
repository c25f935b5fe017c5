"""The preprocessing pipeline: impute, scale numbers, one-hot categories (fit and score)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from segscope.core.errors import DataError
from segscope.core.features.dates import parse_dates
from segscope.core.features.values import compact_offsets, numpy_kind, offsets_present
from segscope.core.preparing.matrix import Coded, CodedMatrix, Matrix
from segscope.core.roles import Role, Schema
from segscope.core.sampling import row_sample
from segscope.core.text import names, number, quoted
from segscope.core.threads import in_blocks, in_parallel, row_blocks

MAX_ONEHOT = 30  # categories per column kept apart; rarer ones share one 'infrequent' column
MIN_CATEGORY_SHARE = 0.005  # categories under 0.5% of rows are grouped as 'infrequent'
FLOAT32_MAX = float(np.finfo(np.float32).max)  # beyond this (or inf) a number counts as missing
INDICATOR_SHARE = 0.05  # gaps on this share of rows or more are kept as information
MISSING_CATEGORY = "(missing)"
PREPROCESS_ROWS = 50_000  # medians, scales and category shares are learnt on this many rows


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
            out[col.name] = pd.Series(as_float32(s), index=s.index, name=s.name)
        else:
            out[col.name] = as_text(s)
    frame = pd.DataFrame(out, index=df.index)
    empty = [c for c in schema.numeric if frame[c].isna().all()]
    if empty:
        raise DataError(
            f"column(s) {names(empty)} have no usable numbers (all empty or inf). "
            "Exclude them or fix the data."
        )
    return frame


def as_float32(s: pd.Series) -> np.ndarray:
    """A number's values as float32, those beyond its range (and inf) missing: taken from the
    column as numpy holds it (copied only to be widened to float64 first, as other types are
    rounded from float64), text read as numbers where it is one."""
    if numpy_kind(s) in ("b", "i", "u", "f"):
        values = s.to_numpy()
    else:  # pandas' own types (gaps as NA), text
        values = pd.to_numeric(s, errors="coerce").to_numpy("float64", na_value=np.nan)
    wide = values if values.dtype == np.float64 else values.astype(np.float64)
    beyond = beyond_float32(wide)
    with np.errstate(over="ignore"):  # beyond float32's range: missing, just below
        out = wide.astype(np.float32)
    if beyond is not None:
        out[beyond] = np.nan
    return out


def beyond_float32(values: np.ndarray) -> np.ndarray | None:
    """Where numbers (float64) are beyond float32's range (inf too: a gap is not), or None when
    none is: the least and greatest are looked at first, without a copy of a long column."""
    least, greatest = np.fmin.reduce(values, initial=0.0), np.fmax.reduce(values, initial=0.0)
    if least >= -FLOAT32_MAX and greatest <= FLOAT32_MAX:
        return None
    with np.errstate(invalid="ignore"):
        return np.abs(values) > FLOAT32_MAX


def as_text(s: pd.Series) -> pd.Series:
    """A category column as text (missing stays missing), held as pandas categories: each
    distinct value is written once, in order (values written alike are one), and each row is a
    small code into them, not ten million strings to hash again wherever values are counted.
    Whole numbers in a short range (codes) are found by marking them, not by hashing."""
    compact = compact_offsets(s)
    if compact is not None:
        offsets, low, span = compact
        held = offsets_present(offsets, span)
        text = np.asarray((held.astype(s.dtype) + s.dtype.type(low)).astype(str), dtype=object)
        place, distinct = pd.factorize(text, sort=True)
        lookup = np.zeros(span, dtype=np.int32)  # fewer values than rows
        lookup[held] = place
        coded = lookup[offsets]
    else:
        codes, uniques = pd.factorize(s)
        text = np.asarray(uniques.astype(str), dtype=object)
        place, distinct = pd.factorize(text, sort=True)
        coded = np.where(codes < 0, -1, place[codes]) if len(place) else codes
    values = pd.Categorical.from_codes(coded, categories=pd.Index(distinct, dtype=object))
    return pd.Series(values, index=s.index, name=s.name)


@dataclass(frozen=True)
class Gap:
    """The missing values of one feature, and what filled them."""

    missing: int
    share: float
    filled: str  # in words: "the median 42", "'(missing)', a category of its own"
    indicator: bool  # a 0/1 column says where the gaps were


def _numeric(indicator: bool) -> Pipeline:
    impute: SimpleImputer | FeatureUnion = SimpleImputer(strategy="median")
    if indicator:  # the value, and a 0/1 column saying where it was missing (whatever the fit saw)
        gaps = MissingIndicator(features="all")
        union = [("value", impute), ("gaps", gaps)]
        impute = FeatureUnion(union, verbose_feature_names_out=False)
    return Pipeline([("impute", impute), ("scale", StandardScaler())])


def _categorical(own_category: bool) -> Pipeline:
    onehot = OneHotEncoder(
        handle_unknown="ignore",
        min_frequency=MIN_CATEGORY_SHARE,
        max_categories=MAX_ONEHOT,
        sparse_output=False,
        dtype=np.float32,
    )
    impute = (
        SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)
        if own_category
        else SimpleImputer(strategy="most_frequent")
    )
    return Pipeline([("impute", impute), ("onehot", onehot)])


def missing_shares(
    features: pd.DataFrame, schema: Schema, raw: pd.DataFrame | None = None
) -> dict[str, float]:
    """The share of rows each feature is missing on (features with gaps only). With `raw`, the
    table `features` were typed from, a category's gaps are counted on its own values: the same
    gaps (see as_text), without looking at millions of text cells."""
    own = raw if raw is not None else features
    categories = set(schema.categorical)
    shares = {
        c: float((own if c in categories else features)[c].isna().mean()) for c in schema.features
    }
    return {str(c): s for c, s in shares.items() if s > 0}


def build_preprocessor(
    schema: Schema,
    weights: Mapping[str, float] | None = None,
    missing: Mapping[str, float] | None = None,
) -> ColumnTransformer:
    """One transformer per feature, so each can carry a weight.

    Numeric: median impute + StandardScaler; categorical: most-frequent impute + one-hot (rare
    categories grouped, unseen ones ignored). A feature missing on INDICATOR_SHARE of its rows
    or more, where the gaps themselves may mean something, keeps that information: a number
    gets a 0/1 column saying where its gaps were, a category gets '(missing)' as a category of
    its own. A weight multiplies the feature's columns.
    """
    gaps = {c: s >= INDICATOR_SHARE for c, s in (missing or {}).items()}
    parts = [(part_name(c), _numeric(gaps.get(c, False)), [c]) for c in schema.numeric]
    parts += [(part_name(c), _categorical(gaps.get(c, False)), [c]) for c in schema.categorical]
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
    missing: Mapping[str, float] | None = None,
) -> ColumnTransformer:
    """Fit the preprocessing on the features (a random sample of PREPROCESS_ROWS above that);
    `missing` (share per feature) when `features` is a sample of a larger table."""
    if missing is None:
        missing = missing_shares(features, schema)
    pre = build_preprocessor(schema, weights, missing)
    if len(features) > PREPROCESS_ROWS:
        features = features.iloc[row_sample(len(features), PREPROCESS_ROWS, seed)]
    return pre.fit(features)


def fit_and_transform(
    schema: Schema,
    features: pd.DataFrame,
    seed: int,
    weights: Mapping[str, float] | None = None,
    missing: Mapping[str, float] | None = None,
) -> tuple[ColumnTransformer, np.ndarray]:
    """fit_preprocessor, and the transformed matrix (see transform): up to PREPROCESS_ROWS rows,
    the fit's own output, not a second pass."""
    if len(features) > PREPROCESS_ROWS:
        pre = fit_preprocessor(schema, features, seed, weights, missing)
        return pre, transform(pre, features)
    pre = build_preprocessor(
        schema, weights, missing_shares(features, schema) if missing is None else missing
    )
    return pre, np.ascontiguousarray(pre.fit_transform(features), dtype=np.float32)


def fit_and_hold(
    schema: Schema,
    features: pd.DataFrame,
    seed: int,
    weights: Mapping[str, float] | None = None,
    missing: Mapping[str, float] | None = None,
) -> tuple[ColumnTransformer, Matrix]:
    """fit_and_transform for a whole table to be segmented: above TRANSFORM_ROWS rows its
    matrix is held as its parts (coded_transform)."""
    if len(features) <= TRANSFORM_ROWS:
        return fit_and_transform(schema, features, seed, weights, missing)
    pre = fit_preprocessor(schema, features, seed, weights, missing)
    return pre, coded_transform(pre, features)


def gaps_of(
    pre: ColumnTransformer, schema: Schema, missing: Mapping[str, float], rows: int
) -> dict[str, Gap]:
    """For every feature with missing values (`missing`: share of the `rows`): how many, and
    what the fitted pipeline fills in."""
    out = {}
    for col, share in missing.items():
        impute = pre.named_transformers_[part_name(col)].named_steps["impute"]
        indicator = isinstance(impute, FeatureUnion)
        if indicator:
            impute = impute.transformer_list[0][1]
        fill = impute.statistics_[0]
        if col in schema.numeric:
            filled = f"the median {number(float(fill))}"
        elif fill == MISSING_CATEGORY:
            filled = f"'{MISSING_CATEGORY}', a category of its own"
        else:
            filled = f"the most frequent value {quoted(fill, 30)}"
        out[col] = Gap(round(share * rows), share, filled, indicator)
    return out


TRANSFORM_ROWS = 100_000  # larger tables are transformed in blocks of (at least) this many rows
PART_CELLS = 1_000_000  # a long table's numbers are transformed a part at a time, this many cells


def transform(pre: ColumnTransformer, features: pd.DataFrame) -> np.ndarray:
    """The transformed matrix as C-contiguous float32, as K-Means and silhouette want it.

    Large tables are transformed block by block on core.threads' pool, each block written into
    one array. A category's part turns each value into the same columns wherever it appears, so
    it is transformed once per distinct value and its rows look their value up (the same numbers
    as transforming every row, without handling millions of strings).
    """
    n = len(features)
    if n <= TRANSFORM_ROWS:
        return np.ascontiguousarray(pre.transform(features), dtype=np.float32)
    parts, bounds = _parts(pre, features)
    out = np.empty((n, bounds[-1]), dtype=np.float32)

    def block(rows: slice) -> None:
        for part, start, stop in zip(parts, bounds[:-1], bounds[1:], strict=True):
            out[rows, start:stop] = part.rows(features, rows)

    in_blocks(block, n, TRANSFORM_ROWS)
    return out


def coded_transform(pre: ColumnTransformer, features: pd.DataFrame) -> CodedMatrix:
    """The transformed matrix of a long table held as its parts (preparing.matrix): the numbers'
    columns written out (a part at a time, in blocks of rows, in parallel), each category as
    codes into its columns per value. The same values as `transform`'s, a fraction of the
    memory."""
    parts, bounds = _parts(pre, features)
    categories = tuple(
        Coded.of(int(start), part.table, part.codes)
        for part, start in zip(parts, bounds[:-1], strict=True)
        if part.table is not None and part.codes is not None
    )
    numeric = [
        (part, np.arange(start, stop))
        for part, start, stop in zip(parts, bounds[:-1], bounds[1:], strict=True)
        if part.table is None
    ]
    columns = np.concatenate([c for _, c in numeric]) if numeric else np.empty(0, dtype=int)
    numbers = np.empty((len(features), len(columns)), dtype=np.float32)
    places = np.cumsum([0, *(len(c) for _, c in numeric)])
    # each number's part on its own, in blocks of PART_CELLS cells (a part is a column or two:
    # a call per TRANSFORM_ROWS rows would be mostly scikit-learn's checks)
    pieces = [
        (part, int(start), int(stop), rows)
        for (part, _), start, stop in zip(numeric, places[:-1], places[1:], strict=True)
        for rows in row_blocks(len(features), max(TRANSFORM_ROWS, PART_CELLS // max(1, part.width)))
    ]

    def piece(work: tuple[_Part, int, int, slice]) -> None:
        part, start, stop, rows = work
        numbers[rows, start:stop] = part.rows(features, rows)

    for _ in in_parallel(piece, pieces):
        pass
    return CodedMatrix(numbers, columns, categories, int(bounds[-1]))


def _parts(pre: ColumnTransformer, features: pd.DataFrame) -> tuple[list[_Part], np.ndarray]:
    """The fitted parts and where each one's columns start (and the last ends)."""
    weights = pre.transformer_weights or {}
    parts = [_Part.of(t, cols, weights.get(name, 1.0), features) for name, t, cols in _fitted(pre)]
    return parts, np.cumsum([0, *(p.width for p in parts)])


def column_owners(pre: ColumnTransformer) -> list[str]:
    """The feature each column of the transformed matrix comes from (each part holds one)."""
    owners: list[str] = []
    for name, _, columns in _fitted(pre):
        part = pre.output_indices_[name]
        owners += [str(columns[0])] * (part.stop - part.start)
    return owners


def _fitted(pre: ColumnTransformer) -> list[tuple[str, Any, list[str]]]:
    """The fitted ColumnTransformer's parts that make columns, in its output order."""
    return [
        (name, t, list(cols))
        for name, t, cols in pre.transformers_
        if not (isinstance(t, str) and t == "drop") and len(cols)
    ]


@dataclass(frozen=True)
class _Part:
    """One fitted part of the preprocessing and how its rows are made."""

    transformer: Any
    columns: list[str]
    weight: float
    width: int
    table: np.ndarray | None = None  # a category's columns per distinct value (missing last)
    codes: np.ndarray | None = None  # each row's distinct value (-1: missing)

    @classmethod
    def of(cls, t: Any, columns: list[str], weight: float, features: pd.DataFrame) -> _Part:
        values = features[columns[0]]
        if len(columns) > 1 or pd.api.types.is_numeric_dtype(values):
            width = np.asarray(t.transform(features.iloc[:1][columns])).shape[1]
            return cls(t, columns, weight, int(width))
        codes, uniques = pd.factorize(values)
        distinct = pd.DataFrame({columns[0]: [*uniques, np.nan]}, dtype=object)
        table = np.asarray(t.transform(distinct), dtype=np.float32) * np.float32(weight)
        return cls(t, columns, weight, table.shape[1], table, codes)

    def rows(self, features: pd.DataFrame, rows: slice) -> np.ndarray:
        if self.table is not None and self.codes is not None:
            return self.table[self.codes[rows]]  # -1 (missing) is the table's last row
        values = np.asarray(self.transformer.transform(features.iloc[rows][self.columns]))
        return values * self.weight if self.weight != 1.0 else values
