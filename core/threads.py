"""How many threads segscope's work may use on a shared machine, and running work on them.

segscope parallelises its own work (the k values of a sweep, each with its bootstrap refits; blocks
of rows) over a pool of Python threads, and every piece of work runs with one native thread (OpenMP,
BLAS). So results never depend on the number of threads (every fit is single-threaded, and blocks of
rows have fixed bounds), and no native pool spins while other processes wait for a core. The pool's
size is the smallest of: the pieces of work, the cores this process may use (affinity and a cgroup
quota), the cores other processes left free (measured from /proc/stat since the last measurement)
and SEGSCOPE_THREADS (or the CLI's --threads)."""

from __future__ import annotations

import contextlib
import gc
import importlib
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any, Generic, TypeVar

from segscope.core.environment import THREADS
from segscope.core.limits import whole_number

THREADS_ENV = THREADS.name
NATIVE_POOLS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MIN_WINDOW = 0.1  # seconds: the shortest interval the free cores are measured over
AHEAD = 2  # pieces of work per thread started before their turn (a bound on results held)
PARALLEL_ROWS = 200_000  # per-column work runs side by side on tables this long (below: one thread)

T = TypeVar("T")
R = TypeVar("R")


def one_native_thread_by_default() -> None:
    """Make one native thread the default for OpenMP and BLAS (before numpy is imported): what
    the CLI and the app do first, so that only segscope's own pool runs in parallel."""
    for name in NATIVE_POOLS:
        os.environ[name] = "1"


def parse_threads(text: str, where: str = THREADS_ENV) -> int:
    """A thread cap: a whole number of at least 1."""
    return whole_number(text, where, "threads")


_cap: int | None = None


def set_thread_cap(threads: int | None) -> None:
    """Cap segscope's threads (None: SEGSCOPE_THREADS, or no cap)."""
    global _cap
    _cap = threads


def thread_cap() -> int | None:
    """The cap asked for, if any (--threads, else SEGSCOPE_THREADS)."""
    if _cap is not None:
        return _cap
    return THREADS.value()


def usable_cores() -> int:
    """The cores this process may run on: its affinity, within a cgroup CPU quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = _cgroup_quota()
    return max(1, min(cores or 1, quota or cores or 1))


def _cgroup_quota() -> int | None:
    try:
        limit, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(1, math.ceil(int(limit) / int(period)))


@dataclass(frozen=True)
class CpuSample:
    """Busy and total time of the usable cores, and this process's own, at one moment (ticks)."""

    busy: int
    total: int
    own: int  # this process's and its descendants' (the helper processes working for it)
    at: float


def cpu_sample() -> CpuSample | None:
    """A reading of /proc/stat and of this process's tree (None where there is no /proc)."""
    try:
        stat = Path("/proc/stat").read_text().splitlines()
        own = _tree_ticks(os.getpid())
    except OSError:
        return None
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    busy = total = 0
    for line in stat:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        if usable is not None and int(name[3:]) not in usable:
            continue
        ticks = [int(f) for f in fields[:8]]
        idle = ticks[3] + ticks[4]  # idle and iowait
        busy += sum(ticks) - idle
        total += sum(ticks)
    return CpuSample(busy, total, own, time.monotonic())


def _tree_ticks(pid: int) -> int:
    """CPU ticks of process `pid` and of its descendants, living (their own time) and ended (the
    time the kernel adds to their parent's), as far as /proc names its children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    for child in _children(pid):
        with contextlib.suppress(OSError, ValueError):  # gone meanwhile: its time is its parent's
            ticks += _tree_ticks(child)
    return ticks


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):  # no such listing on this kernel: the process alone
        for task in Path(f"/proc/{pid}/task").iterdir():
            out.extend(int(c) for c in (task / "children").read_text().split())
    return out


_last = cpu_sample()
_lock = threading.Lock()


def free_cores() -> float:
    """The usable cores other processes left idle since the last measurement (at least
    MIN_WINDOW seconds: waits for the rest of it); every usable core where /proc is missing."""
    global _last
    with _lock:
        before = _last
        if before is not None and time.monotonic() - before.at < MIN_WINDOW:
            time.sleep(MIN_WINDOW - (time.monotonic() - before.at))
        now = cpu_sample()
        _last = now
    cores = usable_cores()
    if before is None or now is None or now.total <= before.total:
        return float(cores)
    others = (now.busy - before.busy) - (now.own - before.own)
    busy_share = min(1.0, max(0.0, others / (now.total - before.total)))
    return cores * (1.0 - busy_share)


def thread_count(tasks: int) -> int:
    """Threads for `tasks` independent pieces of work, on this machine as it is now (one piece
    of work or none: one thread, without measuring the free cores)."""
    if tasks <= 1:
        return 1
    free = max(1, math.floor(free_cores() + 0.5))
    return max(1, min(tasks, usable_cores(), free, thread_cap() or tasks))


def column_threads(rows: int) -> int | None:
    """Threads for per-column work on a table of `rows` rows: the pool (None) when it is long
    enough to gain from it, else one."""
    return None if rows >= PARALLEL_ROWS else 1


@cache
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_native_thread(blas: bool = True) -> Iterator[None]:
    """Run the block with one OpenMP thread (in this thread) and, with `blas`, one BLAS thread
    (process-wide: set it around a whole parallel section, not in each piece)."""
    with _controller().limit(limits=1, user_api="openmp"):
        if blas:
            with _controller().limit(limits=1, user_api="blas"):
                yield
        else:
            yield


class Background(Generic[T]):
    """Work started on a thread of its own (a daemon: leaving does not wait for it): called, it
    waits for the work and returns its result (or raises what it raised)."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._done: Future[T] = Future()
        threading.Thread(target=self._run, args=(work,), name=name, daemon=True).start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._done.set_result(work())
        except BaseException as exc:  # handed over: the caller raises it
            self._done.set_exception(exc)

    def __call__(self) -> T:
        return self._done.result()

    def unless(self, failing: Background[Any]) -> T:
        """This work's result, or, should `failing` fail first, what it raised, at once."""
        wait([self._done, failing._done], return_when=FIRST_COMPLETED)
        if failing._done.done() and failing._done.exception() is not None:
            failing()
        return self()


@contextmanager
def loading_libraries() -> Iterator[None]:
    """While libraries load: without the cyclic garbage collector. Loading pandas and
    scikit-learn makes about a million long-lived objects, which it scans again and again for no
    garbage (0.2 s of every run)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def import_in_background(*modules: str) -> None:
    """Import `modules` on a thread of their own while other work runs (the libraries the end of
    a run needs, so that it does not wait for them); a missing one is left to its first use."""

    def load() -> None:
        for name in modules:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)

    Background(load, "segscope-imports")


def row_blocks(n: int, size: int) -> list[slice]:
    """Slices of `size` rows covering rows 0..n (the last one shorter): the same bounds however
    many threads work on them."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def in_blocks(work: Callable[[slice], None], n: int, size: int, threads: int | None = None) -> None:
    """work(rows) for every block of `size` of n rows (row_blocks), on `threads` threads (None:
    thread_count); returns when every block is done."""
    for _ in in_parallel(work, row_blocks(n, size), threads):
        pass


def in_parallel(
    work: Callable[[T], R], items: Iterable[T], threads: int | None = None
) -> Generator[R, None, None]:
    """work(item) for every item, in order, as each becomes ready: on `threads` threads (None:
    thread_count), each with one native thread, at most AHEAD pieces per thread started before
    their turn (what waits to be taken stays bounded). Closing the iterator early cancels the
    rest."""
    todo = list(items)
    n = thread_count(len(todo)) if threads is None else max(1, min(threads, len(todo)))
    if n <= 1:
        with one_native_thread():
            for item in todo:
                yield work(item)
        return

    def task(item: T) -> R:
        with one_native_thread(blas=False):
            return work(item)

    with one_native_thread(), ThreadPoolExecutor(n, thread_name_prefix="segscope") as pool:
        items = iter(todo)  # at most AHEAD pieces per thread wait, done, to be taken in order
        futures = deque(pool.submit(task, item) for item in islice(items, AHEAD * n))
        try:
            while futures:
                result = futures.popleft().result()
                for item in islice(items, 1):
                    futures.append(pool.submit(task, item))
                yield result
        finally:
            for future in futures:
                future.cancel()
