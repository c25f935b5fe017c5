"""summary.json and score.json: everything needed to know what a run did, as JSON-ready data
(text from the data made visible, NaN as null)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from segscope.core.clustering.sweep import sweep_rows
from segscope.core.describing.rfm import Rfm, table_rows
from segscope.core.describing.rules import Rules
from segscope.core.describing.views import (
    score_sizes_view,
    tally,
)
from segscope.core.describing.words import compare_text
from segscope.core.engines.results import Segmentation
from segscope.core.locations import masked
from segscope.core.models.model import SegmentModel, versions
from segscope.core.models.numbering import LikeReport
from segscope.core.models.scoring import ScoreResult
from segscope.core.text import visible


def compare_summary(table: pd.DataFrame) -> dict[str, Any]:
    """The crosstab of two k of the sweep, as JSON-ready data."""
    return {
        "between": [str(table.index.name), str(table.columns.name)],
        "rows": [int(i) for i in table.index],
        "columns": [int(c) for c in table.columns],
        "customers": table.to_numpy().tolist(),
        "text": compare_text(table),
    }


def summary(seg: Segmentation) -> dict[str, Any]:
    """Everything needed to know what was done (summary.json)."""
    prep, setup = seg.prepared, seg.prepared.frame.plan
    gap = seg.setup.gap
    return clean(
        {
            "no_clear_segments": seg.choice.headline or None,
            "input": masked(prep.source),
            "engine": seg.setup.engine,
            "customers_sheet": setup.customers,
            "transactions_sheet": setup.transactions,
            "key": setup.key,
            "rows": prep.rows,
            "k": seg.choice.k,
            "best_silhouette_k": seg.choice.best_silhouette_k,
            "knee": seg.choice.knee,
            "reason": seg.choice.reason,
            "vote": [
                {"index": v.index, "k": v.k, "value": v.value, "rule": v.rule}
                for v in seg.choice.votes
            ],
            "votes_per_k": {str(k): n for k, n in tally(seg.choice.votes).items()},
            "seed": seg.setup.seed,
            "features": {"numeric": prep.schema.numeric, "categorical": prep.schema.categorical},
            "weights": prep.weights,
            "transformed_columns": len(prep.columns),
            "left_out": prep.schema.left_out,
            "roles": prep.schema.to_dict(),
            "gaps": {
                c: {
                    "missing": g.missing,
                    "share": g.share,
                    "filled_with": g.filled,
                    "indicator": g.indicator,
                }
                for c, g in prep.gaps.items()
            },
            "decisions": prep.frame.decisions,
            "sampling": {
                "fit_rows": seg.setup.fit_rows,
                "silhouette_rows": seg.setup.silhouette_rows,
                "gap_rows": None if gap is None else len(gap.rows),
                "gap_references": None if gap is None else gap.references,
                "notes": seg.setup.notes(),
            },
            "warnings": seg.warnings,
            "what_the_words_rest_on": prep.words_rest_on(),
            "segments": [
                {
                    "segment": p.segment,
                    "customers": p.size,
                    "share": p.share,
                    "description": p.description,
                    "action_heuristic": p.action,
                    "recommendation_heuristic": p.recommendation,
                    "stability": p.stability,
                    "rule": None if p.rule is None or not p.rule.good else p.rule.words(),
                    "rfm_cells": dict(p.rfm) or None,
                }
                for p in seg.profiles
            ],
            "relevance": [
                {"feature": r.feature, "kind": r.kind, "score": r.score, "weak": r.weak}
                for r in seg.relevance
            ],
            "compare": None if seg.comparison is None else compare_summary(seg.comparison),
            "model_fingerprint": seg.model.fingerprint,
            "numbered_like": None if seg.like is None else like_summary(seg.like),
            "rules": None if seg.rules is None else rules_summary(seg.rules),
            "rfm": rfm_summary(seg.rfm, {p.segment: p.rfm for p in seg.profiles}, seg.choice.k)
            if seg.rfm
            else None,
            "rfm_missing": seg.rfm_missing or None,
            "movement": None if seg.movement is None else seg.movement.to_dict(),
            "sweep": sweep_rows(seg.setup, seg.results),
            "timings": seg.timings.to_dict(),
            "versions": versions(),
        }
    )


def rules_summary(rules: Rules) -> dict[str, Any]:
    """Every segment's rule, its fit, and the rules' agreement with K-Means (summary.json)."""
    return {
        "agreement": rules.agreement,
        "covered": rules.covered,
        "customers": rules.customers,
        "learnt_on": rules.learnt_on,
        "notes": list(rules.notes),
        "text": rules.summary_line(),
        "order": [r.segment for r in rules.order],
        "segments": [
            {
                "segment": r.segment,
                "describes_it_well": r.good,
                "rule": r.words() if r.alternatives else None,
                "sql": r.sql() if r.alternatives else None,
                "conditions": r.conditions,
                "precision": r.precision,
                "recall": r.recall,
                "picked": r.picked,
                "customers": r.size,
                "text": r.sentence(),
            }
            for r in rules.rules
        ],
    }


def rfm_summary(rfm: Rfm, mixes: Mapping[int, list[tuple[str, float]]], k: int) -> dict[str, Any]:
    """What the RFM cells rest on, the bounds used and each segment's mix (summary.json;
    `mixes`: the segments' cells, as their profiles hold them; none for a segment without
    customers)."""
    return {
        "measures": list(rfm.measures),
        "columns": rfm.columns,
        "text": rfm.what(),
        "customers_scored": rfm.customers,
        "notes": list(rfm.notes),
        "score_bounds": [b.__dict__ for b in rfm.bounds],
        "cells": [
            {"cell": name, "R": r, "F": f, "M": m, "description": d}
            for name, r, f, m, d in table_rows(rfm.measures)
        ],
        "customers_per_cell": {c: n for c, n in rfm.counts().items() if c != "not scored"},
        "segments": {str(s): dict(mixes.get(s, [])) for s in range(1, k + 1)},
    }


def like_summary(like: LikeReport) -> dict[str, Any]:
    """How the segments were numbered like an earlier model's (summary.json)."""
    return {
        "model": like.model,
        "fingerprint": like.fingerprint,
        "earlier_k": like.earlier_k,
        "agreement": like.agreement,
        "segments": [
            {
                "segment": m.segment,
                "in_earlier_model": m.earlier,
                "centre_distance": m.distance if m.earlier else None,
                "same_as_earlier": m.same,
            }
            for m in like.matches
        ],
        "text": like.lines(),
    }


def clean(value: Any) -> Any:
    """JSON-safe: NaN and inf become null; text from the data is made visible."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def score_summary(model: SegmentModel, result: ScoreResult, source: str) -> dict[str, Any]:
    """What a scoring run found (score.json)."""
    sizes = score_sizes_view(result.sizes, model.segment_sizes)
    return clean(
        {
            "input": masked(source),
            "rows": int(sum(result.sizes)),
            "k": model.k,
            "seed": model.seed,
            "segments": [
                {
                    "segment": s,
                    "customers": n,
                    "share": share,
                    "share_at_training": then,
                    "action": model.actions[s - 1] if len(model.actions) >= s else None,
                }
                for s, n, share, then in sizes.rows
            ],
            "unseen_categories": result.unseen,
            "outliers": result.outliers,
            "drift": dict(result.moved(len(result.drift))),
            "model_fingerprint": model.fingerprint,
            "movement": None if result.movement is None else result.movement.to_dict(),
            "warnings": result.warnings,
            "model_versions": model.versions,
            "versions": versions(),
        }
    )
