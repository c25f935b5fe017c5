"""The app's part that hands the result over: export, copy, score new data, number like a model,
say who moved since an earlier run."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

from segscope.core.text import one_line
from segscope.tui import jobs
from segscope.tui.base import SessionAppBase
from segscope.tui.messages import (
    ChooseK,
    CopySegments,
    Exported,
    ExportTo,
    LikeLoaded,
    PreviousLoaded,
    Scored,
    ScoreWith,
)
from segscope.tui.screens.score import PathPrompt, ScoreScreen

COPIED = ["segment", "customers", "share", "action (heuristic)", "description",
          "recommendation (heuristic)"]  # fmt: skip


class HandingOver(SessionAppBase):
    """ExportTo, CopySegments and ScoreWith in; Exported, Scored, LikeLoaded and PreviousLoaded
    back."""

    def on_export_to(self, msg: ExportTo) -> None:
        s = self.session
        if s.segmentation is None:
            self.notify("Nothing to export yet: run a sweep (screen 2).", severity="warning")
            return
        inputs = s.inputs
        job = partial(jobs.export, s.segmentation, msg.target, msg.force, inputs, self.post_message)
        self.work(job, "export")

    def on_exported(self, msg: Exported) -> None:
        self.session.exported = msg.files
        folder = one_line(Path(msg.files[0]).parent, 120)
        self.notify(f"Wrote {len(msg.files)} outputs to {folder}", markup=False)
        self.changed()

    def on_copy_segments(self, _: CopySegments) -> None:
        seg = self.session.segmentation
        if seg is None:
            self.notify("No segments yet.", severity="warning")
            return
        from segscope.core.outputs.folders import profiles_frame

        self.copy_to_clipboard(profiles_frame(seg)[COPIED].to_csv(sep="\t", index=False))
        self.notify(f"Copied {len(seg.profiles)} segments to the clipboard.")

    def ask_score(self) -> None:
        self.push_screen(ScoreScreen())

    def on_score_with(self, msg: ScoreWith) -> None:
        job = partial(jobs.score, msg.model, msg.data, msg.target, msg.previous, self.post_message)
        self.work(job, "score")

    def on_scored(self, msg: Scored) -> None:
        if isinstance(self.screen, ScoreScreen):
            self.screen.show(msg.model, msg.result, msg.written)

    def ask_like(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.work(partial(jobs.load_like, path, self.post_message), "like")

        self.push_screen(PathPrompt("Saved model whose segment numbers to keep:"), chosen)

    def ask_previous(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.work(partial(jobs.load_previous, path, self.post_message), "previous")

        self.push_screen(
            PathPrompt("An earlier run's labels.csv (or its output folder), to say who moved:"),
            chosen,
        )

    def on_previous_loaded(self, msg: PreviousLoaded) -> None:
        s = self.session
        s.settings = replace(s.settings, previous=msg.earlier)
        shown = one_line(msg.path.name, 60)
        if s.engine_settings.engine != "local":
            self.notify(
                f"Who moved since {shown} is said with the local engine only (s switches it).",
                severity="warning",
                markup=False,
            )
        else:
            self.notify(f"Who moved since {shown}: m on the Segments screen.", markup=False)
        if s.segmentation is not None:
            self.post_message(ChooseK(s.segmentation.choice.k))

    def on_like_loaded(self, msg: LikeLoaded) -> None:
        s = self.session
        for w in msg.warnings:
            self.notify(one_line(w), severity="warning", markup=False)
        s.settings = replace(s.settings, like=msg.model, like_path=str(msg.path))
        self.notify(f"Segments will be numbered like {one_line(msg.path.name, 60)}.", markup=False)
        if s.segmentation is not None:
            self.post_message(ChooseK(s.segmentation.choice.k))
