"""Where a run's time goes: seconds per stage, recorded as the work runs and said as it starts.

A run's stages are STAGES; each is timed where it happens (`Timings.stage`) and the record
travels with the result (Source, Prepared, Segmentation) into summary.json. Whoever shows
progress (the app) listens with `stages_to`: the stage's name is passed on as it starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

STAGES = (
    "load",
    "features",
    "preprocess",
    "sweep",
    "final fit",
    "profiles",
    "stability",
    "relevance",
    "rules",
    "write",
)
_listener: ContextVar[Callable[[str], None] | None] = ContextVar("stage_listener", default=None)


@dataclass
class Timings:
    """Seconds spent in each stage so far, and the threads the parallel stages ran on."""

    seconds: dict[str, float] = field(default_factory=dict)
    threads: int = 1

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage `name` (added to any earlier time of that stage)."""
        listener = _listener.get()
        if listener is not None:
            listener(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def then(self, threads: int | None = None) -> Timings:
        """A copy to go on recording a later part of the run in."""
        return Timings(dict(self.seconds), self.threads if threads is None else threads)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def to_dict(self) -> dict[str, object]:
        ordered = {s: round(self.seconds[s], 3) for s in STAGES if s in self.seconds}
        return {"seconds": ordered, "total": round(self.total, 3), "threads": self.threads}


@contextmanager
def stages_to(listener: Callable[[str], None]) -> Iterator[None]:
    """Pass the name of every stage started in this context (this thread) to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
