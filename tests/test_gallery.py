"""The gallery of real tables (tests/data/gallery): segscope's decisions against each analyst's
truth table, and every figure its words cite against the data.

A table differs from its truth table exactly where differences.toml says, with the reason
accepted there: a new difference fails, and so does a documented one that is gone. The words
are checked on every table of the gallery: each figure a sentence cites is the segment's and the
base's own, a share is of the whole segment, "close to the average" only where every number is,
and what the words rest on names features in use.
"""

from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import pytest

from segscope.core.describing.words import SOME_Z, figure, is_average, notable_numbers
from segscope.core.engines.local import segment, start_sweep
from segscope.core.engines.results import Segmentation
from segscope.core.settings import SweepSettings
from segscope.core.sources.reading import read_source

from .gallery import GALLERY, Truth, prepared, tomllib, truths, verdict

TRUTHS = truths()
DIFFERENCES = tomllib.loads((GALLERY / "differences.toml").read_text(encoding="utf-8"))


def test_the_gallery_holds_thirty_tables_and_more_of_many_shapes() -> None:
    shapes = {t.shape for t in TRUTHS}
    assert len(TRUTHS) >= 30 and shapes == {"customers", "log", "workbook"}
    assert sum(t.held_out for t in TRUTHS) >= 5
    for truth in TRUTHS:  # a source and a licence for every copy
        assert truth.path.exists() and truth.table["source"] and truth.table["licence"]


@pytest.mark.parametrize("truth", TRUTHS, ids=lambda t: t.name)
def test_columns_are_decided_as_the_analyst_did(truth: Truth) -> None:
    v = verdict(truth)
    documented = DIFFERENCES.get(truth.name, {})
    plan = prepared(truth.name).frame.plan
    if "*" in documented:  # a log whose key is not named as one: read as rows, the key said
        assert plan.transactions is None
        if "said" in documented["*"]:
            assert truth.table["key"] in plan.like_keys
        return
    assert set(v.disagreements) == set(documented), v.disagreements
    if truth.shape != "customers":  # a log (or a workbook's) is read per its entity
        assert plan.transactions is not None and plan.key is not None
        assert _same_entities(truth, plan.key, truth.table["key"])


def _same_entities(truth: Truth, a: str, b: str) -> bool:
    """Whether two columns of the log name the same entities (an id and its name, one to one)."""
    if a == b:
        return True
    log = prepared(truth.name).frame.plan.transactions or ""
    table = read_source(truth.path).tables[log]
    pairs = table[[a, b]].drop_duplicates()
    return bool(pairs[a].is_unique and pairs[b].is_unique)


@cache
def segmented(name: str) -> Segmentation:
    prep = prepared(name)
    setup, results = start_sweep(prep, SweepSettings((4,), seed=0))
    return segment(prep, setup, list(results), SweepSettings((4,), seed=0))


WORDED = [t for t in TRUTHS if "*" not in DIFFERENCES.get(t.name, {})]


@pytest.mark.parametrize("truth", WORDED, ids=lambda t: t.name)
def test_every_figure_the_words_cite_is_the_datas(truth: Truth) -> None:
    seg = segmented(truth.name)
    typed, labels = seg.prepared.typed, seg.labels
    for p in seg.profiles:
        members = labels == p.segment
        for d in p.numeric:  # the profile's figures are the data's
            values = typed[d.feature].astype("float64")
            assert _same(d.mean, values[members].mean()) and _same(d.base_mean, values.mean())
        for d in notable_numbers(p)[:3]:  # each cited figure reads as the data says
            said = f"{figure(d.mean, d)} vs {figure(d.base_mean, d)}"
            assert said in p.description or "days ago" in p.description, (d, p.description)
            if d.share:  # a share in percentage points, never "3x the average"
                assert not re.search(rf"{re.escape(d.label)} [\d.,]+×", p.description)
        for c in p.categories:  # a share of the whole segment, those without a value too
            column = typed[c.feature].astype(object)
            share = float((column[members].astype(str) == c.category).sum()) / members.sum()
            assert math.isclose(c.share, share, rel_tol=1e-9)
        if "close to the average" in p.description.lower():
            assert all(is_average(d) for d in p.numeric)
            assert all(abs(d.z) < SOME_Z for d in p.numeric)
    rest = seg.prepared.words_rest_on()
    said = rest.split(";")[0] if rest.startswith("The suggestions rest on") else ""
    for feature in re.findall(r"\(([^()]+)\)", said):
        titles = {seg.prepared.frame.title(c) for c in seg.prepared.schema.features}
        assert feature in titles, (feature, rest)


def _same(a: float, b: float) -> bool:
    return bool(np.isclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))


def test_a_category_share_counts_the_customers_without_a_value() -> None:
    """Class 8 on a real table with gaps in a category: the shares are of whole segments."""

    def gappy(name: str) -> bool:
        prep = prepared(name)
        return any(prep.typed[c].isna().mean() > 0.05 for c in prep.schema.categorical)

    name = next(t.name for t in WORDED if gappy(t.name))
    seg = segmented(name)
    for p in seg.profiles:
        for feature in {c.feature for c in p.categories}:
            shown = sum(c.share for c in p.categories if c.feature == feature)
            members = seg.labels == p.segment
            filled = seg.prepared.typed[feature][members].notna().mean()
            assert shown <= filled + 1e-9
