"""The customer frame: one row per customer, with the plan that made it and what carrying it
out found (its titles, behaviour meanings and decision lines come from those)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from segscope.core.features.decisions import decision_lines
from segscope.core.features.findings import Findings
from segscope.core.features.meanings import column_meanings
from segscope.core.features.plan import FeaturePlan


@dataclass
class CustomerFrame:
    """One row per customer, the plan that made it and what carrying it out found."""

    data: pd.DataFrame  # every customer (an engine working elsewhere: its sample of them)
    plan: FeaturePlan
    findings: Findings
    titles: dict[str, str] = field(default_factory=dict)  # column -> what it holds, in words
    meanings: dict[str, str] = field(default_factory=dict)  # recency, frequency, ... -> column

    @property
    def key(self) -> str | None:
        return self.plan.key

    @property
    def reference_date(self) -> pd.Timestamp | None:
        return self.findings.reference_date

    @property
    def decisions(self) -> list[str]:
        return decision_lines(self.plan, self.findings)

    def title(self, column: str) -> str:
        """What a column holds, in words."""
        return self.titles.get(column, column.replace("_", " "))


def described(data: pd.DataFrame, plan: FeaturePlan, findings: Findings) -> CustomerFrame:
    """A CustomerFrame of `data` with its columns' titles and meanings."""
    dates = [str(c) for c in data.columns if pd.api.types.is_datetime64_any_dtype(data[c])]
    numeric = [str(c) for c in data.columns if pd.api.types.is_numeric_dtype(data[c])]
    titles, meanings = column_meanings(plan, list(map(str, data.columns)), numeric, dates)
    return CustomerFrame(data.reset_index(drop=True), plan, findings, titles, meanings)
