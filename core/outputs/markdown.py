"""report.md of a sweep and of a scoring run: the same facts as the summaries, in prose, tables
and charts as text."""

from __future__ import annotations

from segscope.core.describing.charts import charts_text
from segscope.core.describing.views import (
    View,
    crosstab_view,
    drift_view,
    gaps_view,
    movement_view,
    relevance_view,
    rfm_bounds_view,
    rfm_mix_view,
    rfm_table_view,
    rules_view,
    score_sizes_view,
    segments_view,
    sweep_view,
    vote_view,
)
from segscope.core.describing.words import compare_text
from segscope.core.engines.results import Segmentation
from segscope.core.locations import display_name
from segscope.core.models.model import SegmentModel
from segscope.core.models.movement import Movement
from segscope.core.models.scoring import ScoreResult
from segscope.core.text import markdown_text


def markdown_table(view: View) -> str:
    """A view as a Markdown table (pipes in cells escaped)."""
    header = [c.header for c in view.columns]
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in view.cells()]
    return "\n".join(lines)


def _md(text: object) -> str:
    """Text for the report (from the data or segscope's own words holding it): escaped for
    Markdown and for the HTML it renders to (core.text.markdown_text, the one function)."""
    return markdown_text(text)


def _section(title: str, *lines: str) -> list[str]:
    """A section: its title is text (escaped here), its lines Markdown already made."""
    return [f"## {_md(title)}", "", *lines, ""]


def _view_section(view: View, title: str = "") -> list[str]:
    note = ["", _md(view.note)] if view.note else []
    return _section(title or view.title, markdown_table(view), *note)


def rules_section(seg: Segmentation) -> list[str]:
    """The rules, their fit and where the SQL is."""
    rules = seg.rules
    if rules is None:
        return []
    lines = [
        f"{_md(rules.summary_line())}. The rules as SQL are in `rules.sql`, the features they "
        "read in `features.csv`.",
        *[f"- {_md(r.sentence())}" for r in rules.rules if not r.good],
        *[f"- measured {_md(n)}" for n in rules.notes],
        "",
        markdown_table(rules_view(seg.profiles)),
        "",
        _md(rules_view(seg.profiles).note),
    ]
    return _section("A rule per segment", *lines)


def rfm_section(seg: Segmentation) -> list[str]:
    """The RFM cells of each segment, what they rest on and the bounds used."""
    if seg.rfm is None:
        return _section("RFM cells", _md(seg.rfm_missing)) if seg.rfm_missing else []
    rfm = seg.rfm
    return _section(
        "RFM cells",
        f"{_md(rfm.what())}.",
        *[f"- computed {_md(n)}" for n in rfm.notes],
        "",
        *_subsection(rfm_mix_view(seg.profiles), "Each segment's mix of RFM cells"),
        *_subsection(rfm_bounds_view(rfm), "The bounds used"),
        *_subsection(rfm_table_view(rfm.measures), "The named cells"),
    )


def _subsection(view: View, title: str) -> list[str]:
    note = [_md(view.note), ""] if view.note else []
    return [f"### {_md(title)}", "", markdown_table(view), "", *note]


def movement_section(movement: Movement) -> list[str]:
    """Who moved since the earlier labels."""
    view = movement_view(movement.table, movement.new, movement.gone)
    return _section(
        f"Who moved since {movement.earlier}",
        *[f"- {_md(line)}" for line in movement.lines()],
        *[f"- warning: {_md(w)}" for w in movement.warnings],
        "",
        markdown_table(view),
        "",
        _md(view.note),
    )


def report_markdown(seg: Segmentation) -> str:
    """A readable report: inputs, choice, warnings, segments, relevance, sweep, charts, steps."""
    prep, choice = seg.prepared, seg.choice
    head = [
        f"# segscope report: {_md(display_name(prep.source) or 'data')}",
        "",
        *([f"**{choice.headline}**", ""] if choice.headline else []),
        f"- customers: {prep.rows:,}; seed: {seg.setup.seed}",
        f"- chosen k: **{choice.k}** ({_md(choice.reason)})",
        f"- numeric features: {_md(', '.join(prep.schema.numeric)) or 'none'}",
        f"- categorical features: {_md(', '.join(prep.schema.categorical)) or 'none'}",
        *[f"- left out: {_md(c)} ({_md(r)})" for c, r in prep.schema.left_out.items()],
        *[f"- {_md(n)}" for n in seg.setup.notes()],
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
            *_view_section(vote_view(choice.votes)),
            *_view_section(segments_view(seg.profiles)),
            *rules_section(seg),
            *rfm_section(seg),
            *(movement_section(seg.movement) if seg.movement is not None else []),
            *_section("What the words rest on", _md(prep.words_rest_on())),
            *_view_section(relevance_view(seg.relevance)),
            *compare,
            *_view_section(sweep_view(seg.results, prep.rows, choice.k, seg.setup.one)),
            *charts,
            *(_view_section(gaps_view(prep.gaps)) if prep.gaps else []),
            *_section("How the table was built", *[f"- {_md(d)}" for d in prep.frame.decisions]),
        ]
    )


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
            *(movement_section(result.movement) if result.movement is not None else []),
            *_view_section(drift_view(result.moved(10))),
        ]
    )
