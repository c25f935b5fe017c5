"""The output folder of a run: labels, profiles, sweep, summary, report and model."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from segscope.core.analysis import Segmentation
from segscope.core.charts import charts_text
from segscope.core.compare import LikeReport
from segscope.core.locations import display_name, local_or_url
from segscope.core.model import SegmentModel, save_model, versions
from segscope.core.outputs import (
    MODEL_FILE,
    OUTPUT_FILES,
    SCORE_FILES,
    OutputFolder,
    write_csv_atomic,
    write_text_atomic,
)
from segscope.core.scoring import ScoreResult
from segscope.core.text import visible
from segscope.core.views import (
    View,
    crosstab_view,
    drift_view,
    gaps_view,
    relevance_view,
    score_sizes_view,
    segments_view,
    sweep_view,
)
from segscope.core.words import compare_text, what_can_be_said
from segscope.core.workbook import write_workbook

# What choosing k and writing the outputs import (kneed, skops, xlsxwriter: about a second):
# a caller that knows outputs will be written may import them while the sweep runs.
END_OF_RUN_LIBRARIES = ("kneed", "skops.io", "xlsxwriter")


def sweep_frame(seg: Segmentation) -> pd.DataFrame:
    return pd.DataFrame([r.to_dict() for r in seg.results])


def profiles_frame(seg: Segmentation) -> pd.DataFrame:
    """One row per segment (segments.csv): size, and each feature's figures under its title."""
    rows = []
    for p in seg.profiles:
        row: dict[str, object] = {"segment": p.segment, "customers": p.size, "share": p.share}
        for d in p.numeric:
            row[f"{d.label} (mean)"] = d.mean
            row[f"{d.label} (median)"] = d.median
            row[f"{d.label} (z)"] = round(d.z, 3)
        seen: set[str] = set()
        for c in p.categories:
            if c.feature not in seen:
                seen.add(c.feature)
                row[f"{c.label}: top"] = c.category
                row[f"{c.label}: top share"] = c.share
                row[f"{c.label}: top lift"] = round(c.lift, 3)
        row["stability"] = p.stability
        row["description"] = p.description
        row["action (heuristic)"] = p.action
        row["recommendation (heuristic)"] = p.recommendation
        rows.append(row)
    return pd.DataFrame(rows)


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
    prep, plan = seg.prepared, seg.prepared.frame.plan
    return clean(
        {
            "input": prep.source,
            "engine": seg.plan.engine,
            "customers_sheet": plan.customers,
            "transactions_sheet": plan.transactions,
            "key": plan.key,
            "rows": prep.rows,
            "k": seg.choice.k,
            "best_silhouette_k": seg.choice.best_silhouette_k,
            "knee": seg.choice.knee,
            "reason": seg.choice.reason,
            "seed": seg.plan.seed,
            "features": {"numeric": prep.schema.numeric, "categorical": prep.schema.categorical},
            "weights": prep.weights,
            "transformed_columns": len(prep.columns),
            "excluded": prep.schema.excluded,
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
                "fit_rows": seg.plan.fit_rows,
                "silhouette_rows": seg.plan.silhouette_rows,
                "notes": seg.plan.notes(),
            },
            "warnings": seg.warnings,
            "what_the_words_rest_on": what_can_be_said(prep.frame.meanings),
            "segments": [
                {
                    "segment": p.segment,
                    "customers": p.size,
                    "share": p.share,
                    "description": p.description,
                    "action_heuristic": p.action,
                    "recommendation_heuristic": p.recommendation,
                    "stability": p.stability,
                }
                for p in seg.profiles
            ],
            "relevance": [
                {"feature": r.feature, "kind": r.kind, "score": r.score, "weak": r.weak}
                for r in seg.relevance
            ],
            "compare": None if seg.comparison is None else compare_summary(seg.comparison),
            "numbered_like": None if seg.like is None else like_summary(seg.like),
            "sweep": [r.to_dict() for r in seg.results],
            "timings": seg.timings.to_dict(),
            "versions": versions(),
        }
    )


def like_summary(like: LikeReport) -> dict[str, Any]:
    """How the segments were numbered like an earlier model's (summary.json)."""
    return {
        "model": like.model,
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


def markdown_table(view: View) -> str:
    """A view as a Markdown table (pipes in cells escaped)."""
    header = [c.header for c in view.columns]
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in view.cells()]
    return "\n".join(lines)


def _md(text: str) -> str:
    return visible(text).replace("|", "\\|").replace("\n", " ")


def _section(title: str, *lines: str) -> list[str]:
    return [f"## {title}", "", *lines, ""]


def _view_section(view: View, title: str = "") -> list[str]:
    note = ["", view.note] if view.note else []
    return _section(title or view.title, markdown_table(view), *note)


def report_markdown(seg: Segmentation) -> str:
    """A readable report: inputs, choice, warnings, segments, relevance, sweep, charts, steps."""
    prep, choice = seg.prepared, seg.choice
    head = [
        f"# segscope report: {_md(display_name(prep.source) or 'data')}",
        "",
        f"- customers: {prep.rows:,}; seed: {seg.plan.seed}",
        f"- chosen k: **{choice.k}** ({choice.reason})",
        f"- numeric features: {_md(', '.join(prep.schema.numeric)) or 'none'}",
        f"- categorical features: {_md(', '.join(prep.schema.categorical)) or 'none'}",
        *[f"- excluded: {_md(c)} ({_md(r)})" for c, r in prep.schema.excluded.items()],
        *[f"- {_md(n)}" for n in seg.plan.notes()],
        "",
    ]
    compare = []
    if seg.like is not None:
        compare += _section(
            "Numbered like an earlier model", *[f"- {_md(t)}" for t in seg.like.lines()]
        )
    if seg.comparison is not None:
        table = seg.comparison
        title = f"How {table.index.name} becomes {table.columns.name}"
        compare += _view_section(crosstab_view(table, compare_text(table)), title)
    charts = ["```", charts_text(seg.results, choice.knee, choice.k), "```", ""]
    return "\n".join(
        [
            *head,
            *_section("Warnings", *([f"- {_md(w)}" for w in seg.warnings] or ["- none"])),
            *_view_section(segments_view(seg.profiles)),
            *_section("What the words rest on", what_can_be_said(prep.frame.meanings)),
            *_view_section(relevance_view(seg.relevance)),
            *compare,
            *_view_section(sweep_view(seg.results, prep.rows, choice.k)),
            *charts,
            *(_view_section(gaps_view(prep.gaps)) if prep.gaps else []),
            *_section("How the table was built", *[f"- {_md(d)}" for d in prep.frame.decisions]),
        ]
    )


def write_outputs(
    seg: Segmentation, target: Path, force: bool = False, inputs: Sequence[Path] = ()
) -> list[Path | str]:
    """Write every output file into `target` atomically (core.outputs' rules for `force`).

    Returns the files written: the folder's, then where the labels went (a URL stays text)."""
    folder = OutputFolder(target, force, inputs)
    files = [n for n in OUTPUT_FILES if n != "labels.csv"]
    with folder.writing(OUTPUT_FILES) as tmp:
        with seg.timings.stage("write"):  # summary.json, written last, holds the time so far
            labels = seg.labels_out.write(seg, tmp, folder.target, force)
            profiles = profiles_frame(seg)
            write_csv_atomic(tmp / "segments.csv", profiles)
            write_workbook(seg, tmp / "segments.xlsx", profiles)
            write_csv_atomic(tmp / "sweep.csv", sweep_frame(seg))
            write_text_atomic(tmp / "report.md", report_markdown(seg))
            save_model(seg.model, tmp / MODEL_FILE)
        text = json.dumps({**summary(seg), "labels": labels[0]}, indent=2, default=str)
        write_text_atomic(tmp / "summary.json", text)
    return [*(folder.target / n for n in files), *map(local_or_url, labels)]


def score_summary(model: SegmentModel, result: ScoreResult, source: str) -> dict[str, Any]:
    """What a scoring run found (score.json)."""
    sizes = score_sizes_view(result.sizes, model.segment_sizes)
    return clean(
        {
            "input": source,
            "rows": int(sum(result.sizes)),
            "k": model.k,
            "seed": model.seed,
            "segments": [
                {"segment": s, "customers": n, "share": share, "share_at_training": then}
                for s, n, share, then in sizes.rows
            ],
            "unseen_categories": result.unseen,
            "outliers": result.outliers,
            "drift": dict(result.moved(len(result.drift))),
            "warnings": result.warnings,
            "model_versions": model.versions,
            "versions": versions(),
        }
    )


def write_score_outputs(
    model: SegmentModel,
    result: ScoreResult,
    source: str,
    target: Path,
    force: bool = False,
    inputs: Sequence[Path] = (),
) -> list[Path]:
    """labels.csv, score.json and report.md (the drift report), written atomically."""
    data = score_summary(model, result, source)
    folder = OutputFolder(target, force, inputs)
    with folder.writing(SCORE_FILES) as tmp:
        write_csv_atomic(tmp / "labels.csv", result.labels)
        write_text_atomic(tmp / "score.json", json.dumps(data, indent=2, default=str))
        write_text_atomic(tmp / "report.md", score_markdown(model, result, source))
    return [folder.target / n for n in SCORE_FILES]


def score_markdown(model: SegmentModel, result: ScoreResult, source: str) -> str:
    """The drift report of a scoring run."""
    return "\n".join(
        [
            f"# segscope scoring report: {_md(display_name(source))}",
            "",
            f"- customers scored: {sum(result.sizes):,}; k = {model.k}",
            f"- far from every segment (beyond the training 99th percentile): {result.outliers:,}",
            *[f"- unseen categories in {_md(c)}: {n:,} rows" for c, n in result.unseen.items()],
            "",
            *_section("Warnings", *([f"- {_md(w)}" for w in result.warnings] or ["- none"])),
            *_view_section(score_sizes_view(result.sizes, model.segment_sizes)),
            *_view_section(drift_view(result.moved(10))),
        ]
    )
