"""The output folder of a run: labels, profiles, sweep, summary, report and model."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from segscope.core.analysis import Segmentation
from segscope.core.charts import charts_text
from segscope.core.compare import compare_text
from segscope.core.io import local_or_url, output_dir, write_csv_atomic, write_text_atomic
from segscope.core.model import MODEL_SUFFIX, SegmentModel, save_model, versions
from segscope.core.scoring import ScoreResult
from segscope.core.segments import profiles_frame

OUTPUT_FILES = (
    "labels.csv",
    "segments.csv",
    "sweep.csv",
    "summary.json",
    "report.md",
    "model" + MODEL_SUFFIX,
)


def default_out_dir(source: str | Path, now: datetime | None = None) -> Path:
    """'segscope-<input name>-<timestamp>' in the current folder."""
    stem = re.sub(r"\W+", "-", Path(source).name.split(".")[0]).strip("-") or "data"
    return Path(f"segscope-{stem}-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}")


def sweep_frame(seg: Segmentation) -> pd.DataFrame:
    return pd.DataFrame([r.to_dict() for r in seg.results])


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
    prep = seg.prepared
    return _clean(
        {
            "input": prep.source,
            "customers_sheet": prep.frame.customers_sheet,
            "transactions_sheet": prep.frame.transactions_sheet,
            "key": prep.frame.key,
            "rows": prep.rows,
            "k": seg.choice.k,
            "best_silhouette_k": seg.choice.best_silhouette_k,
            "knee": seg.choice.knee,
            "reason": seg.choice.reason,
            "seed": seg.plan.seed,
            "engine": seg.plan.engine,
            "features": {"numeric": prep.schema.numeric, "categorical": prep.schema.categorical},
            "weights": prep.weights,
            "transformed_columns": len(prep.feature_names()),
            "excluded": prep.schema.excluded,
            "roles": prep.schema.to_dict(),
            "decisions": prep.frame.decisions,
            "sampling": {
                "fit_rows": seg.plan.fit_rows,
                "silhouette_rows": seg.plan.silhouette_rows,
                "notes": seg.plan.notes(),
            },
            "warnings": seg.warnings,
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
            "sweep": [r.to_dict() for r in seg.results],
            "versions": versions(),
        }
    )


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and inf become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _md_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.4g}"
    return str(v).replace("|", "/")


def report_markdown(seg: Segmentation) -> str:
    """A readable report: inputs, choice, warnings, sweep table, charts, segments."""
    prep, choice = seg.prepared, seg.choice
    segs = pd.DataFrame(
        [
            {
                "segment": p.segment,
                "customers": p.size,
                "share": f"{p.share:.1%}",
                "stability": round(p.stability, 2),
                "description": p.description,
                "action (heuristic)": p.action,
                "recommendation (heuristic)": p.recommendation,
            }
            for p in seg.profiles
        ]
    )
    parts = [
        f"# segscope report: {Path(prep.source).name or 'data'}",
        "",
        f"- customers: {prep.rows:,}; seed: {seg.plan.seed}",
        f"- chosen k: **{choice.k}** ({choice.reason})",
        f"- numeric features: {', '.join(prep.schema.numeric) or 'none'}",
        f"- categorical features: {', '.join(prep.schema.categorical) or 'none'}",
        *[f"- excluded: {c} ({r})" for c, r in prep.schema.excluded.items()],
        *[f"- {n}" for n in seg.plan.notes()],
        "",
        "## Warnings",
        "",
        *([f"- {w}" for w in seg.warnings] or ["- none"]),
        "",
        "## Segments",
        "",
        _md_table(segs),
        "",
        "## Features by how much they separate the segments",
        "",
        _md_table(
            pd.DataFrame(
                [
                    {
                        "feature": r.feature,
                        "measure": r.kind,
                        "relevance": r.score,
                        "separates": "no" if r.weak else "yes",
                    }  # fmt: skip
                    for r in seg.relevance
                ]
            )
        ),
        "",
        "Relevance: share of a number's variance explained by the segments (eta squared), or "
        "bias-corrected Cramér's V for a category.",
        "",
        *_compare_section(seg.comparison),
        "## Sweep",
        "",
        _md_table(sweep_frame(seg)),
        "",
        "```",
        charts_text(seg.results, choice.knee, choice.k),
        "```",
        "",
        "## How the table was built",
        "",
        *[f"- {d}" for d in prep.frame.decisions],
        "",
    ]
    return "\n".join(parts)


def _compare_section(table: pd.DataFrame | None) -> list[str]:
    if table is None:
        return []
    frame = table.reset_index().rename(columns={table.index.name: f"{table.index.name} \\ "})
    frame.columns = [str(c) for c in frame.columns]
    return [
        f"## How {table.index.name} becomes {table.columns.name}",
        "",
        _md_table(frame),
        "",
        *[f"- {t}" for t in compare_text(table)],
        "",
    ]


def write_outputs(seg: Segmentation, target: Path, force: bool = False) -> list[Path | str]:
    """Write every output file into `target` atomically; a non-empty one only with `force`.

    Returns the files written: the folder's, then where the labels went (a URL stays text)."""
    with output_dir(target, force) as tmp:
        labels = seg.write_labels(tmp, target, force)
        write_csv_atomic(tmp / "segments.csv", profiles_frame(seg.profiles))
        write_csv_atomic(tmp / "sweep.csv", sweep_frame(seg))
        text = json.dumps({**summary(seg), "labels": labels[0]}, indent=2, default=str)
        write_text_atomic(tmp / "summary.json", text)
        write_text_atomic(tmp / "report.md", report_markdown(seg))
        save_model(seg.model, tmp / ("model" + MODEL_SUFFIX))
    final = target.resolve()
    folder: list[Path | str] = [final / n for n in OUTPUT_FILES if n != "labels.csv"]
    return [*folder, *map(local_or_url, labels)]


def score_summary(model: SegmentModel, result: ScoreResult, source: str) -> dict[str, Any]:
    """What a scoring run found (score.json)."""
    trained = sum(model.segment_sizes) or 1
    now = sum(result.sizes) or 1
    return _clean(
        {
            "input": source,
            "rows": int(sum(result.sizes)),
            "k": model.k,
            "seed": model.seed,
            "segments": [
                {
                    "segment": i + 1,
                    "customers": n,
                    "share": n / now,
                    "share_at_training": (model.segment_sizes[i] / trained)
                    if i < len(model.segment_sizes)
                    else None,
                }
                for i, n in enumerate(result.sizes)
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
    model: SegmentModel, result: ScoreResult, source: str, target: Path, force: bool = False
) -> list[Path]:
    """labels.csv, score.json and report.md (the drift report), written atomically."""
    data = score_summary(model, result, source)
    with output_dir(target, force) as tmp:
        write_csv_atomic(tmp / "labels.csv", result.labels)
        write_text_atomic(tmp / "score.json", json.dumps(data, indent=2, default=str))
        write_text_atomic(tmp / "report.md", score_markdown(data))
    final = target.resolve()
    return [final / "labels.csv", final / "score.json", final / "report.md"]


def score_markdown(data: dict[str, Any]) -> str:
    """The drift report of a scoring run."""
    sizes = pd.DataFrame(data["segments"])
    drift = pd.DataFrame([{"feature": f, "moved": v} for f, v in list(data["drift"].items())[:10]])
    return "\n".join(
        [
            f"# segscope scoring report: {Path(data['input']).name}",
            "",
            f"- customers scored: {data['rows']:,}; k = {data['k']}",
            f"- far from every segment (beyond the training 99th percentile): {data['outliers']:,}",
            *[
                f"- unseen categories in {c}: {n:,} rows"
                for c, n in data["unseen_categories"].items()
            ],
            "",
            "## Warnings",
            "",
            *([f"- {w}" for w in data["warnings"]] or ["- none"]),
            "",
            "## Segment sizes now vs at training",
            "",
            _md_table(sizes),
            "",
            "## Features that moved most",
            "",
            "Numbers: shift of the mean in training standard deviations; categories: share of "
            "customers whose category mix changed (total variation distance).",
            "",
            _md_table(drift) if not drift.empty else "none",
            "",
        ]
    )
