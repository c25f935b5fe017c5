"""The values the flow hands on: `Prepared` (customers, roles and the transformed matrix, bound to
the engine and choices that made them), `Segmentation` (the final result) and `LabelsOut`
(where a segmentation's labels are written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from segscope.core.clustering.choice import Choice
from segscope.core.clustering.sweep import (
    KResult,
    SweepSetup,
)
from segscope.core.describing.profiles import (
    SegmentProfile,
)
from segscope.core.describing.relevance import Relevance
from segscope.core.describing.rfm import Rfm
from segscope.core.describing.rules import Rules
from segscope.core.describing.words import what_can_be_said
from segscope.core.features.decisions import like_key_lines
from segscope.core.features.frame import CustomerFrame
from segscope.core.features.values import is_flag
from segscope.core.files import write_csv_atomic
from segscope.core.models.model import SegmentModel
from segscope.core.models.movement import Movement
from segscope.core.models.numbering import LikeReport
from segscope.core.preparing.matrix import Matrix
from segscope.core.preparing.preprocess import (
    Gap,
)
from segscope.core.roles import Schema
from segscope.core.settings import DataChoices
from segscope.core.timings import Timings


@dataclass
class Prepared:
    """Customers, their roles and the transformed matrix, bound to the engine that prepared
    them and the choices they were prepared with."""

    source: str
    engine: str  # the engine (and where it runs) that prepared it: see Engine.identity
    choices: DataChoices
    tables: tuple[str, ...]  # the source's tables (a workbook's sheets)
    frame: CustomerFrame
    schema: Schema
    typed: (
        pd.DataFrame
    )  # the features typed for the pipeline (an engine working elsewhere: of its sample)
    preprocessor: ColumnTransformer
    X: Matrix  # a long table's held as its parts (preparing.matrix)
    rows: int  # customers
    columns: list[str]  # the transformed matrix's columns
    owners: list[str]  # the feature each of them comes from
    gaps: dict[str, Gap] = field(default_factory=dict)  # features with missing values
    full: Any = None  # the engine's own handle on the whole table (Spark: SparkData)
    timings: Timings = field(default_factory=Timings)  # reading and preparing it

    @property
    def meanings(self) -> dict[str, str]:
        """The behaviours the words may rest on (recency, frequency, ...), each with a feature in
        use (a column left out, say as redundant, carries none)."""
        return {m: c for m, c in self.frame.meanings.items() if c in self.schema.features}

    def words_rest_on(self) -> str:
        """What the suggestions rest on, in a sentence naming each behaviour's feature."""
        return what_can_be_said(self.meanings, self.frame.titles)

    @property
    def shares(self) -> set[str]:
        """The numeric features that are shares (0..1): a log's shares and 0/1 flags."""
        built = {m.name for m in self.frame.plan.measures if m.kind.share}
        return {c for c in self.schema.numeric if c in built or is_flag(self.typed[c])}

    @property
    def weights(self) -> dict[str, float]:
        return {c: w for c, w in self.choices.weights.items() if c in self.schema.features}


class LabelsOut(Protocol):
    """Where a segmentation's labels are written."""

    def write(self, seg: Segmentation, folder: Path, target: Path, force: bool) -> list[str]:
        """Write every customer's segment; returns where they went (files or URLs)."""
        ...


class CsvLabels:
    """labels.csv in the output folder: the key (or a row number) and the segment."""

    def write(self, seg: Segmentation, folder: Path, target: Path, force: bool) -> list[str]:
        write_csv_atomic(folder / "labels.csv", seg.labels_frame())
        return [str(target / "labels.csv")]


@dataclass(frozen=True, eq=False)
class Labelled:
    """A run's customers once labelled, before their segments are described: what the
    per-customer outputs need (core.outputs.per_customer), which an engine hands over as soon as
    it has them (SweepSettings.ahead) so that they are written while the run goes on."""

    prepared: Prepared
    labels: np.ndarray  # 1..k per row of prepared.typed (Spark: of its driver sample)
    rfm: Rfm | None = None  # each customer's RFM cell, when the data has them

    def labels_frame(self, rows: int | None = None) -> pd.DataFrame:
        """The key column (or a row number) and the segment of every customer (of the first
        `rows`)."""
        frame = self.prepared.frame
        labels = self.labels[:rows]
        if frame.key:
            keys = frame.data[frame.key].iloc[:rows]
        else:
            keys = pd.Series(np.arange(1, len(labels) + 1), name="row")
        return pd.DataFrame({keys.name: keys.to_numpy(), "segment": labels}, copy=False)


@dataclass
class Segmentation:
    """The final result: model, labels, profiles, and the sweep behind the choice."""

    prepared: Prepared
    setup: SweepSetup
    results: list[KResult]
    choice: Choice
    model: SegmentModel
    labels: np.ndarray  # 1..k per row of prepared.typed (Spark: of its driver sample)
    profiles: list[SegmentProfile]
    relevance: list[Relevance] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)  # what the relevance check suggests
    comparison: pd.DataFrame | None = None  # customers per pair of segments of two k
    labels_out: LabelsOut = field(default_factory=CsvLabels)
    like: LikeReport | None = None  # how the segments were numbered like an earlier model's
    timings: Timings = field(default_factory=Timings)  # every stage from reading to labels
    rules: Rules | None = None  # a short rule per segment (describing.rules)
    rfm: Rfm | None = None  # each customer's RFM cell (describing.rfm) ...
    rfm_missing: str = ""  # ... or why there are none
    movement: Movement | None = None  # who moved since an earlier run's labels

    def numbered_like(self) -> str | None:
        """The fingerprint of the model this run's segment numbers follow: an earlier model's
        (--like), else none (numbered by size)."""
        return None if self.like is None else self.like.fingerprint

    @property
    def warnings(self) -> list[str]:
        frame = like_key_lines(self.prepared.frame.plan)
        like = self.like.warnings if self.like is not None else []
        return [*frame, *self.setup.warnings, *self.choice.warnings, *like, *self.advice]

    def labelled(self) -> Labelled:
        """Its customers as labelled (what the per-customer outputs are made from)."""
        return Labelled(self.prepared, self.labels, self.rfm)

    def labels_frame(self, rows: int | None = None) -> pd.DataFrame:
        """The key column (or a row number) and the segment of every customer (of the first
        `rows`)."""
        return self.labelled().labels_frame(rows)
