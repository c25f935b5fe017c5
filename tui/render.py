"""Rich layout for the headless command and the app's dialogs: views as tables, progress.

Every cell is a plain Text (never parsed as markup), written out by core.describing.views.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from segscope.core.describing.charts import charts_text
from segscope.core.describing.views import (
    View,
    crosstab_view,
    drift_view,
    gaps_view,
    movement_view,
    relevance_view,
    rfm_bounds_view,
    rfm_cells_view,
    rules_view,
    score_sizes_view,
    segments_view,
    sweep_view,
    timings_line,
    vote_view,
)
from segscope.core.describing.words import compare_text
from segscope.core.locations import display_name
from segscope.core.text import gap, one_line, quoted, silhouette

if TYPE_CHECKING:
    from segscope.core.clustering.sweep import KResult, SweepSetup
    from segscope.core.engines.results import Prepared, Segmentation
    from segscope.core.models.model import SegmentModel
    from segscope.core.models.movement import Movement
    from segscope.core.models.scoring import ScoreResult
    from segscope.core.timings import Timings


def rich_table(view: View, **options: object) -> Table:
    """A view as a Rich table."""
    table = Table(title=Text(view.title), title_justify="left", **options)  # type: ignore[arg-type]
    for column in view.columns:
        table.add_column(Text(column.header), justify="right" if column.right else "left")
    keys = view.keys or [str(i) for i in range(len(view.rows))]
    for key, row in zip(keys, view.cells(), strict=True):
        style = "bold reverse" if key == view.highlight else "dim" if key in view.dim else None
        table.add_row(*(Text(v) for v in row), style=style)
    if view.note:
        table.caption = Text(view.note)
        table.caption_justify = "left"
    return table


class ProgressReporter:
    """Sweep progress on stderr: a bar on a terminal, one plain line per k otherwise."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._bar = console.is_terminal
        self._progress = Progress(
            TextColumn("sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self._bar,
            auto_refresh=False,  # drawn at each k: no thread of its own (core.processes)
        )
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressReporter:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def update(self, result: KResult, setup: SweepSetup) -> None:
        """One finished k."""
        text = f"k={result.k} silhouette {silhouette(result.silhouette)}"
        if result.gap is not None:
            text += f" gap {gap(result.gap.gap)}"
        if not self._bar:
            done = setup.ks.index(result.k) + 1
            print(f"sweep {done}/{len(setup.ks)}: {text} ({result.seconds:.1f} s)", file=sys.stderr)
            return
        if self._task is None:
            self._task = self._progress.add_task("", total=len(setup.ks))
        self._progress.update(self._task, advance=1, description=text, refresh=True)


LEFT_OUT_SHOWN = 6  # columns left out named before the sweep (report.md names every one)


def print_prepared(console: Console, prepared: Prepared) -> None:
    """What the run will use, on one line before the sweep: the file, the customers, the
    features, and what it leaves out and why (short whatever the table)."""
    schema = prepared.schema
    key = prepared.frame.key
    left = [(quoted(c, 40), why) for c, why in schema.left_out.items() if c != key]
    left += [
        (f"table {quoted(t, 40)}", why)
        for t, why in prepared.frame.findings.tables_left_out.items()
    ]
    said = ""
    if left:
        shown = "; ".join(f"{name} ({one_line(why, 70)})" for name, why in left[:LEFT_OUT_SHOWN])
        more = f"; and {len(left) - LEFT_OUT_SHOWN:,} more" if len(left) > LEFT_OUT_SHOWN else ""
        said = f"; left out: {shown}{more}"
    console.print(
        Text(
            f"{one_line(display_name(prepared.source), 80)}: {prepared.rows:,} customers; "
            f"features: {one_line(', '.join(schema.features), 300)}{said}",
        ),
        soft_wrap=True,
    )


def print_timings(console: Console, timings: Timings) -> None:
    """The run's total time and its stages (on stderr, after the outputs are written)."""
    console.print(Text(timings_line(timings), style="dim"), soft_wrap=True)


def print_results(console: Console, seg: Segmentation, written: list[Path | str]) -> None:
    """Everything a headless run shows: whether the data shows segments at all, the sweep
    table, charts, choice and each index's vote, warnings, segments, files."""
    choice = seg.choice
    if choice.headline:
        console.print(Text(one_line(choice.headline), style="bold yellow"))
    view = sweep_view(seg.results, seg.prepared.rows, choice.k, seg.setup.one)
    console.print(rich_table(view))
    charts = charts_text(seg.results, choice.knee, choice.k, color=console.is_terminal)
    console.print(Text.from_ansi(charts))
    console.print(
        Text.assemble(
            ("chosen k = ", "bold"),
            (str(choice.k), "bold green"),
            f"  ({one_line(choice.reason)})",
        )
    )
    if choice.votes:
        console.print(rich_table(vote_view(choice.votes)))
    for note in seg.setup.notes():
        console.print(Text(f"note: {one_line(note)}", style="dim"))
    for w in seg.warnings:
        console.print(Text(f"warning: {one_line(w)}", style="yellow"))
    console.print(rich_table(segments_view(seg.profiles), show_lines=True))
    print_rules_and_rfm(console, seg)
    console.print(Text(seg.prepared.words_rest_on(), style="dim"))
    console.print(rich_table(relevance_view(seg.relevance)))
    if seg.prepared.gaps:
        console.print(rich_table(gaps_view(seg.prepared.gaps)))
    if seg.like is not None:
        for line in seg.like.lines():
            console.print(Text(one_line(line)))
    if seg.comparison is not None:
        console.print(rich_table(crosstab_view(seg.comparison, compare_text(seg.comparison))))
    if seg.movement is not None:
        print_movement(console, seg.movement)
    folder = Path(written[0]).parent
    inside = [p for p in written if isinstance(p, Path) and p.parent == folder]
    console.print(
        Text(f"wrote {len(inside)} files to {one_line(folder)}", style="bold"), soft_wrap=True
    )
    for p in written:
        if p not in inside:  # paths are never wrapped: they are copied from here
            console.print(Text(f"wrote the labels to {one_line(p)}", style="bold"), soft_wrap=True)


def print_rules_and_rfm(console: Console, seg: Segmentation) -> None:
    """Each segment's rule with its fit, and its RFM cells with the bounds used."""
    if seg.rules is not None:
        console.print(rich_table(rules_view(seg.profiles), show_lines=True))
        console.print(Text(one_line(seg.rules.summary_line()), style="bold"))
        for note in seg.rules.notes:
            console.print(Text(f"note: rules measured {one_line(note)}", style="dim"))
    if seg.rfm is not None:
        console.print(rich_table(rfm_cells_view(seg.profiles)))
        console.print(Text(one_line(seg.rfm.what()), style="dim"), soft_wrap=True)
        console.print(rich_table(rfm_bounds_view(seg.rfm)))
        for note in seg.rfm.notes:
            console.print(Text(f"note: RFM computed {one_line(note)}", style="dim"))
    elif seg.rfm_missing:
        console.print(Text(one_line(seg.rfm_missing), style="dim"))


def print_movement(console: Console, movement: Movement) -> None:
    """Who moved since the earlier labels: the table, the largest movements, the warnings."""
    view = movement_view(movement.table, movement.new, movement.gone)
    console.print(rich_table(view))
    for line in movement.lines():
        console.print(Text(one_line(line)))
    for w in movement.warnings:
        console.print(Text(f"warning: {one_line(w)}", style="yellow"))


def print_score(
    console: Console, model: SegmentModel, result: ScoreResult, written: list[Path]
) -> None:
    """Segment sizes now against training, and the warnings of a scoring run."""
    console.print(rich_table(score_sizes_view(result.sizes, model.segment_sizes)))
    console.print(rich_table(drift_view(result.moved())))
    console.print(
        Text(f"{result.outliers:,} customers are farther from every segment than 99% of training")
    )
    for w in result.warnings:
        console.print(Text(f"warning: {one_line(w)}", style="yellow"))
    if result.movement is not None:
        print_movement(console, result.movement)
    console.print(
        Text(f"wrote {len(written)} files to {one_line(written[0].parent)}", style="bold"),
        soft_wrap=True,
    )
