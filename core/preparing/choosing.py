"""The roles of the customer table's columns as the user chose: inferred (preparing.schema), then
the user's roles, weights and features applied, and numbers that repeat others left out."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from segscope.core.errors import DataError
from segscope.core.features.frame import CustomerFrame
from segscope.core.limits import MAX_FEATURES
from segscope.core.preparing.preprocess import (
    typed_features,
)
from segscope.core.preparing.redundancy import determined_features, redundant_features
from segscope.core.preparing.schema import infer_schema
from segscope.core.roles import ColumnRole, Role, Schema
from segscope.core.settings import DataChoices
from segscope.core.text import names, quoted


def decide_features(
    frame: CustomerFrame, choices: DataChoices, left_out: dict[str, str] | None = None
) -> tuple[Schema, pd.DataFrame]:
    """The roles of the customer table's columns and its typed features: inferred, the user's
    choices applied, and numbers that repeat others left out (unless kept)."""
    schema = resolve_schema(frame, choices, left_out)
    prefer = [c for c in frame.meanings.values() if c in schema.features]
    if len(schema.features) > MAX_FEATURES:  # the rest left out, said: every stage bounded
        order = [*prefer, *(c for c in map(str, frame.data.columns) if c not in prefer)]
        features = set(schema.features)
        beyond = [c for c in order if c in features][MAX_FEATURES:]
        why = (
            f"past the first {MAX_FEATURES:,} features, the most segscope segments on: choose "
            "the features (--features) to use others"
        )
        schema = _leaving_out(schema, dict.fromkeys(beyond, why), frame, choices)
    features = typed_features(frame.data, schema, frame.reference_date)
    if choices.keep_redundant:
        return schema, features
    weak = [c.name for c in schema.columns if c.guess]
    repeated = determined_features(features, choices.roles, prefer, weak)
    numbers = [c for c in schema.numeric if c not in repeated]
    repeated |= redundant_features(features[numbers], choices.roles, prefer)
    if not repeated:
        return schema, features
    schema = _leaving_out(schema, repeated, frame, choices)
    kept = set(schema.features)
    return schema, features[[c for c in features.columns if c in kept]]


def _leaving_out(
    schema: Schema, reasons: dict[str, str], frame: CustomerFrame, choices: DataChoices
) -> Schema:
    """`schema` with the features in `reasons` left out, each with its reason (a role the user
    chose stays), the weights checked again (a weighted feature cannot go unsaid)."""
    columns = [
        ColumnRole(c.name, Role.IGNORED, reasons[c.name])
        if c.name in reasons and not c.overridden
        else c
        for c in schema.columns
    ]
    out = Schema(columns)
    _check_weights(out, choices, frame.plan.coded)
    return out


def resolve_schema(
    frame: CustomerFrame, choices: DataChoices, left_out: dict[str, str] | None = None
) -> Schema:
    """The roles of `frame`'s columns: inferred, then the user's roles, weights and features."""
    roles = dict(choices.roles)
    columns = set(map(str, frame.data.columns))
    coded = frame.plan.coded
    built = {m.name: m.title for m in frame.plan.measures if m.kind.computed}
    for name, weight in choices.weights.items():
        if name not in columns:
            raise DataError(f"the weight names an unknown column {quoted(name)}.")
        if weight == 0:
            roles[name] = Role.IGNORED
    if choices.only_features is not None:
        unknown = [c for c in choices.only_features if c not in columns]
        if unknown:
            raise DataError(
                f"unknown feature column(s) {names(unknown)}. Columns are: "
                f"{names(map(str, frame.data.columns), 3)}."
            )
        auto = infer_schema(frame.data, frame.key, roles, coded, left_out, built)
        for col in auto.columns:
            if col.name not in choices.only_features and col.role is not Role.KEY:
                roles.setdefault(col.name, Role.IGNORED)
            elif col.name in choices.only_features and col.role is Role.IGNORED:
                roles.setdefault(col.name, _forced_feature_role(frame.data[col.name]))
    schema = infer_schema(frame.data, frame.key, roles, coded, left_out, built)
    _check_weights(schema, choices, coded)
    return schema


def _check_weights(schema: Schema, choices: DataChoices, coded: Mapping[str, str]) -> None:
    """Refuse a weight on a column that is not a feature, saying why it is not."""
    for name, weight in choices.weights.items():
        if weight and name not in schema.features:
            instead = (
                f"weight {quoted(coded[name])} instead" if name in coded else "weight a feature"
            )
            raise DataError(
                f"the weight is for {quoted(name)}, which is not a feature "
                f"({schema[name].reason}): {instead}, or make it a feature first."
            )


def _forced_feature_role(s: pd.Series) -> Role:
    return Role.NUMERIC if pd.api.types.is_numeric_dtype(s) else Role.CATEGORICAL
