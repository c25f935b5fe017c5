"""Column roles: codes are categories, keys are never features, junk is left out with a reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segscope.core.errors import DataError
from segscope.core.features.pandas_executor import build_customer_frame
from segscope.core.preparing.schema import infer_schema
from segscope.core.roles import Role, Schema
from segscope.core.sources.reading import read_source

DATA = Path(__file__).parent / "data"


def test_roles_of_a_customer_table(planted: pd.DataFrame) -> None:
    df = planted.drop(columns="planted").assign(
        note=[f"free text {i}" for i in range(len(planted))],
        constant=1,
        empty=np.nan,
        joined=pd.date_range("2020-01-01", periods=len(planted), freq="D").astype(str),
        vip=np.arange(len(planted)) % 2 == 0,
    )
    frame = build_customer_frame({"customers": df})  # the plan parses the text dates
    schema = infer_schema(frame.data, key="customer_id")
    roles = {c.name: c.role for c in schema.columns}
    assert roles["customer_id"] is Role.KEY
    assert roles["gender_id"] is Role.CATEGORICAL
    assert roles["city_id"] is Role.CATEGORICAL
    assert roles["annual_income"] is Role.NUMERIC
    assert roles["note"] is Role.IGNORED
    assert roles["constant"] is Role.IGNORED
    assert roles["empty"] is Role.IGNORED
    assert roles["joined"] is Role.DATETIME
    assert roles["vip"] is Role.CATEGORICAL
    assert schema["constant"].reason == "constant: every value is 1"  # a number, not np.int64(1)
    assert "empty" in schema["empty"].reason
    assert "city_id" in schema.categorical and "city_id" not in schema.numeric


def test_overrides_win(planted: pd.DataFrame) -> None:
    schema = infer_schema(planted, "customer_id", {"age": "categorical", "planted": Role.IGNORED})
    assert schema["age"].role is Role.CATEGORICAL and schema["age"].overridden
    assert schema["planted"].role is Role.IGNORED


def test_an_identifier_forced_as_category_is_refused() -> None:
    df = pd.DataFrame({"order_ref": [f"R{i}" for i in range(50_000)], "spend": np.arange(50_000.0)})
    with pytest.raises(DataError, match="'order_ref' has 50,000 distinct values"):
        infer_schema(df, overrides={"order_ref": Role.CATEGORICAL})


def test_no_usable_feature_says_why() -> None:
    df = pd.DataFrame({"customer_id": range(30), "comment": [f"text {i}" for i in range(30)]})
    with pytest.raises(DataError, match="no usable feature") as err:
        infer_schema(df, key="customer_id")
    assert "comment" in str(err.value)


def test_unknown_override_column_is_named() -> None:
    with pytest.raises(DataError, match="'nope'"):
        infer_schema(pd.DataFrame({"a": [1.0, 2.0]}), overrides={"nope": Role.NUMERIC})


def test_a_schema_written_and_read_back_is_the_same() -> None:
    """A model file keeps every column's role with its reason, and whether it was a guess or
    the user's choice (the Data screen's ? and *): on a real table full of guesses."""
    frame = build_customer_frame(read_source(DATA / "caravan.csv.gz").tables)
    schema = infer_schema(frame.data, overrides={"MOSTYPE": "numeric"})
    assert any(c.guess for c in schema.columns) and any(c.overridden for c in schema.columns)
    assert Schema.from_dict(schema.to_dict()) == schema
