"""The output folders of `sweep` and `score`: which files, written into a temporary folder and
renamed into place (segscope.core.files' rules)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pandas as pd

from segscope.core.clustering.sweep import SweepSetup, sweep_rows
from segscope.core.engines.results import Labelled, Segmentation
from segscope.core.files import (
    MODEL_FILE,
    OUTPUT_FILES,
    SCORE_FILES,
    OutputFolder,
    write_csv_atomic,
    write_text_atomic,
)
from segscope.core.locations import local_or_url
from segscope.core.models.model import SegmentModel, save_model
from segscope.core.models.scoring import ScoreResult
from segscope.core.outputs.markdown import report_markdown, score_markdown
from segscope.core.outputs.per_customer import customers_frame, rules_sql
from segscope.core.outputs.summary import score_summary, summary
from segscope.core.outputs.workbook import write_workbook
from segscope.core.processes import Standby, spare_core
from segscope.core.threads import Background, in_parallel


def end_of_run_libraries(setup: SweepSetup, standby: Standby | None = None) -> tuple[str, ...]:
    """What choosing k and writing the outputs import, for a caller that knows outputs will be
    written to import while the sweep runs: kneed and xlsxwriter, and skops (half a second)
    unless the model's bytes will be made elsewhere (SegmentModel.dump_ahead): in `standby`, or
    in a helper given a spare core."""
    elsewhere = (standby is not None and standby.ready()) or spare_core(setup.threads, setup.rows)
    return ("kneed", "xlsxwriter", *(() if elsewhere else ("skops.io",)))


def sweep_frame(seg: Segmentation) -> pd.DataFrame:
    """sweep.csv: one row per k (k = 1 first, with only the gap statistic's figures)."""
    return pd.DataFrame(sweep_rows(seg.setup, seg.results))


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
        if p.rfm:
            row["RFM cell (most common)"], row["RFM cell share"] = p.rfm[0]
        if p.rule is not None:
            row["rule"] = p.rule.words() if p.rule.good else ""
            row["rule precision"], row["rule recall"] = p.rule.precision, p.rule.recall
        row["description"] = p.description
        row["action (heuristic)"] = p.action
        row["recommendation (heuristic)"] = p.recommendation
        rows.append(row)
    return pd.DataFrame(rows)


def write_outputs(
    seg: Segmentation, target: Path, force: bool = False, inputs: Sequence[Path] = ()
) -> list[Path | str]:
    """Write every output file into `target` atomically (segscope.core.files' rules for `force`).

    Returns the files written: the folder's, then where the labels went (a URL stays text)."""
    with sweep_outputs(target, force, inputs) as outputs:
        return outputs.write(seg)


@contextmanager
def sweep_outputs(
    target: Path, force: bool = False, inputs: Sequence[Path] = ()
) -> Iterator[SweepOutputs]:
    """A sweep's output folder while the run goes on, filled by SweepOutputs: written into a
    temporary folder from its first file on, put in place when the block ends (OutputFolder.
    writing), removed should it fail, or be interrupted, or end before every file is written."""
    with contextlib.ExitStack() as stack:
        outputs = SweepOutputs(OutputFolder(target, force, inputs), stack)
        try:
            yield outputs
        except BaseException:
            outputs.stop()
            raise
        finally:  # the folder is put in place or given up only once its writing has ended
            outputs.settle()
        if outputs.opened and not outputs.written:
            raise RuntimeError("a sweep's output folder was left before all was written")


class SweepOutputs:
    """A sweep's output files, written into a temporary folder as their parts are known:
    features.csv as soon as the customers are labelled (`labelled`, which an engine is given as
    SweepSettings.ahead), on a thread beside the rest of the run, then the others (`write`)."""

    def __init__(self, folder: OutputFolder, stack: contextlib.ExitStack) -> None:
        self.folder, self._stack = folder, stack
        self._tmp: Path | None = None
        self._features: Background[None] | None = None
        self._stopping = threading.Event()
        self.written = False

    @property
    def opened(self) -> bool:
        return self._tmp is not None

    @property
    def tmp(self) -> Path:
        """The temporary folder, made at the first file (core.files.OutputFolder.writing)."""
        if self._tmp is None:
            self._tmp = self._stack.enter_context(self.folder.writing(OUTPUT_FILES))
        return self._tmp

    def labelled(self, customers: Labelled) -> None:
        """Start writing features.csv now, on a thread of its own (Arrow's work, mostly: it
        leaves the interpreter to the run)."""
        if self._features is not None:
            raise RuntimeError("features.csv is already being written")
        tmp = self.tmp
        work = partial(self._write_features, tmp, customers)
        self._features = Background(work, "segscope-out")

    def _write_features(self, tmp: Path, customers: Labelled) -> None:
        frame = customers_frame(customers)
        write_csv_atomic(tmp / "features.csv", frame, exact=True, stop=self._stopping)

    def stop(self) -> None:
        """Stop writing features.csv, at its next block (the run failed, or was interrupted)."""
        self._stopping.set()

    def settle(self) -> None:
        """Wait for features.csv's thread, if one runs, whatever became of it (a second Ctrl-C
        does not cut the wait short: what it writes is in the folder about to be removed)."""
        while self._features is not None:
            try:
                self._features()
            except KeyboardInterrupt:
                self.stop()
                continue
            except BaseException:  # its failure is said by `write`, or the run's own failure is
                pass
            return

    def write(self, seg: Segmentation) -> list[Path | str]:
        """Write the rest (and features.csv, unless it was started); the files written: the
        folder's, then where the labels went (a URL stays text)."""
        tmp, folder = self.tmp, self.folder
        with seg.timings.stage("write"):  # summary.json, written last, holds the time so far

            def features() -> list[str]:
                if self._features is None:
                    self._write_features(tmp, seg.labelled())
                else:
                    self._features()
                return []

            def the_rest() -> list[str]:  # and where the labels went
                labels = seg.labels_out.write(seg, tmp, folder.target, folder.force)
                write_text_atomic(tmp / "rules.sql", rules_sql(seg))
                profiles = profiles_frame(seg)
                write_csv_atomic(tmp / "segments.csv", profiles)
                write_workbook(seg, tmp / "segments.xlsx", profiles)
                write_csv_atomic(tmp / "sweep.csv", sweep_frame(seg))
                write_text_atomic(tmp / "report.md", report_markdown(seg))
                save_model(seg.model, tmp / MODEL_FILE)
                return labels

            # side by side when a core is free (core.threads); after an error or a signal the
            # folder is given up only once what runs has ended (the pool waits for it)
            _, labels = in_parallel(lambda write: write(), [features, the_rest])
        text = json.dumps({**summary(seg), "labels": labels[0]}, indent=2, default=str)
        write_text_atomic(tmp / "summary.json", text)
        self.written = True
        files = [n for n in OUTPUT_FILES if n != "labels.csv"]
        return [*(folder.target / n for n in files), *map(local_or_url, labels)]


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
