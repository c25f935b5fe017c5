"""Rich rendering for the headless command: progress on stderr, tables and charts on stdout."""

from __future__ import annotations

import math
from pathlib import Path
from types import TracebackType

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from segscope.core.analysis import Segmentation
from segscope.core.charts import charts_text
from segscope.core.compare import compare_text
from segscope.core.model import SegmentModel
from segscope.core.scoring import ScoreResult
from segscope.core.sweep import KResult, SweepPlan


class ProgressReporter:
    """A progress bar over the k values of a sweep, on stderr."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: int | None = None

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

    def update(self, result: KResult, plan: SweepPlan) -> None:
        """Advance by one finished k."""
        if self._task is None:
            self._task = self._progress.add_task("", total=len(plan.ks))
        self._progress.update(
            self._task, advance=1, description=f"k={result.k} silhouette {result.silhouette:.3f}"
        )


def fmt(x: float, digits: int = 3) -> str:
    """A number for a table cell; blank for NaN."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:,.{digits}f}"


def sweep_table(seg: Segmentation) -> Table:
    t = Table(title="Sweep (computed on the transformed matrix)", title_justify="left")
    extra = list(seg.results[0].extra) if seg.results else []  # an engine's own figures
    for col in ("k", "inertia", "silhouette", "Calinski-H.", "Davies-B.", "stability", "seconds"):
        t.add_column(col, justify="right")
    for col in extra:
        t.add_column(col.replace("_", " "), justify="right")
    for r in seg.results:
        sil = fmt(r.silhouette)
        if r.silhouette_sample_size < seg.prepared.rows:
            sil += f" (n={r.silhouette_sample_size:,})"
        style = "bold reverse" if r.k == seg.choice.k else None
        t.add_row(
            str(r.k),
            fmt(r.inertia, 1),
            sil,
            fmt(r.calinski_harabasz, 1),
            fmt(r.davies_bouldin),
            fmt(r.stability, 2),
            fmt(r.seconds, 2),
            *(fmt(r.extra.get(c, math.nan)) for c in extra),
            style=style,
        )
    return t


def segment_table(seg: Segmentation) -> Table:
    t = Table(title=f"Segments (k={seg.choice.k})", title_justify="left", show_lines=True)
    t.add_column("seg", justify="right")
    t.add_column("customers", justify="right")
    t.add_column("share", justify="right")
    t.add_column("stab.", justify="right")
    t.add_column("what sets it apart")
    t.add_column("recommendation (heuristic)")
    for p in seg.profiles:
        t.add_row(
            str(p.segment),
            f"{p.size:,}",
            f"{p.share:.1%}",
            fmt(p.stability, 2),
            p.description,
            p.recommendation,
        )
    return t


def relevance_table(seg: Segmentation) -> Table:
    t = Table(title="Features by how much they separate the segments", title_justify="left")
    t.add_column("feature")
    t.add_column("relevance", justify="right")
    t.add_column("")
    for r in seg.relevance:
        t.add_row(
            r.feature,
            f"{r.score:.2f}",
            "separates nothing" if r.weak else "",
            style="dim" if r.weak else None,
        )
    return t


def crosstab_table(table: pd.DataFrame) -> Table:
    """Customers per pair of segments of two k (core.compare.compare_k), with the sentences."""
    t = Table(
        title=f"How the segments at {table.index.name} (rows) become {table.columns.name} "
        "(columns)",
        title_justify="left",
        caption="\n".join(compare_text(table)),
        caption_justify="left",
    )
    t.add_column(str(table.index.name), justify="right")
    for c in table.columns:
        t.add_column(str(c), justify="right")
    for seg_no, row in table.iterrows():
        t.add_row(str(seg_no), *[f"{v:,}" if v else "·" for v in row])
    return t


def print_results(console: Console, seg: Segmentation, written: list[Path | str]) -> None:
    """Everything a headless run shows: sweep table, charts, choice, warnings, segments, files."""
    console.print(sweep_table(seg))
    console.print(
        Text.from_ansi(
            charts_text(seg.results, seg.choice.knee, seg.choice.k, color=console.is_terminal)
        )
    )
    console.print(
        Text.assemble(
            ("chosen k = ", "bold"), (str(seg.choice.k), "bold green"), f"  ({seg.choice.reason})"
        )
    )
    for note in seg.plan.notes():
        console.print(Text(f"note: {note}", style="dim"))
    for w in seg.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))
    console.print(segment_table(seg))
    console.print(relevance_table(seg))
    if seg.comparison is not None:
        console.print(crosstab_table(seg.comparison))
    folder = Path(written[0]).parent
    inside = [p for p in written if isinstance(p, Path) and p.parent == folder]
    console.print(Text(f"wrote {len(inside)} files to {folder}", style="bold"), soft_wrap=True)
    for p in written:
        if p not in inside:  # paths are never wrapped: they are copied from here
            console.print(Text(f"wrote the labels to {p}", style="bold"), soft_wrap=True)


def print_score(
    console: Console, model: SegmentModel, result: ScoreResult, written: list[Path]
) -> None:
    """Segment sizes now against training, and the warnings of a scoring run."""
    t = Table(title=f"Scored {sum(result.sizes):,} customers (k={model.k})", title_justify="left")
    for col in ("segment", "customers", "share", "share at training"):
        t.add_column(col, justify="right")
    now, then = sum(result.sizes) or 1, sum(model.segment_sizes) or 1
    for i, n in enumerate(result.sizes):
        before = model.segment_sizes[i] / then if i < len(model.segment_sizes) else float("nan")
        t.add_row(str(i + 1), f"{n:,}", f"{n / now:.1%}", f"{before:.1%}")
    console.print(t)
    moved = Table(title="Features that moved most since training", title_justify="left")
    moved.add_column("feature")
    moved.add_column("moved", justify="right")
    for name, value in result.moved():
        moved.add_row(name, f"{value:.2f}")
    console.print(moved)
    console.print(
        Text(f"{result.outliers:,} customers are farther from every segment than 99% of training")
    )
    for w in result.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))
    console.print(Text(f"wrote {len(written)} files to {written[0].parent}", style="bold"))
