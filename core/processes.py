"""Helper processes for the work that Python's interpreter lock would run one step at a time.

A small table's sweep is thousands of short steps (k-means++ seeding, Lloyd's iterations of a few
hundred microseconds per call, bootstrap refits): threads take turns at the interpreter lock and
run it no faster than one thread (core.threads). Helper processes run the k values side by side.

Helpers are forked from this process, and only while it runs no other Python thread (a command
between its stages): no import and no object's lock can be inherited half taken. The native pools
of Arrow, jemalloc and OpenBLAS reset themselves in a forked child, and OpenMP runs one thread (no
pool). A process that runs threads of its own while it works (the app) does its work on threads.
The work is built once, here, and each helper has it as forked (nothing is copied until written);
a `Standby` helper, forked before the work exists, is sent it pickled.
A helper ignores Ctrl-C (the command stops it), ends when the command ends, however it ends, and
runs one native thread, as every piece of work in core.threads does: the results are those of
threads, in the same order.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import multiprocessing
import os
import signal
import threading
import warnings
from collections.abc import Callable, Generator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar, cast

from segscope.core.threads import free_cores, in_parallel, loading_libraries, one_native_thread

T = TypeVar("T")
R = TypeVar("R")

HELPER_ROWS = 2_000_000  # work on more rows runs on threads (see on_helpers)
_DONE = None  # what tells a helper to leave (no item is None)
_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}  # a helper's are its own from the start
_PR_SET_PDEATHSIG = 1  # Linux prctl: a signal for this process when its parent ends
_seen: dict[str, dict[Any, Any]] = {}  # per file, the warnings given back so far (shown once)


def can_help() -> bool:
    """Whether helper processes can be forked now: this process runs no other Python thread and
    is not a helper itself."""
    return (
        threading.active_count() == 1
        and not multiprocessing.current_process().daemon
        and "fork" in multiprocessing.get_all_start_methods()
    )


def spare_core(threads: int, rows: int) -> bool:
    """Whether work given `threads` threads, over a matrix of `rows` rows, is for helpers: with
    two threads or more, on at most HELPER_ROWS rows (each k sends back a label per row; on more
    rows its work is passes over them, which numpy runs without the interpreter lock, on threads
    that share the labels as they are; and a helper forked from a process that large would
    make it copy what it writes)."""
    return threads > 1 and rows <= HELPER_ROWS


def on_helpers(threads: int, rows: int) -> bool:
    """Whether such work runs in helper processes now: spare_core, and helpers can be forked."""
    return spare_core(threads, rows) and can_help()


def side_by_side(
    work: Callable[[T], R], items: Sequence[T], threads: int, rows: int
) -> Generator[R, None, None]:
    """work(item) for every item, in order, as each becomes ready: in helper processes where
    on_helpers says so, else on core.threads' pool of `threads`."""
    if on_helpers(threads, rows):
        return in_helpers(work, items, threads)
    return in_parallel(work, items, threads)


def in_helpers(
    work: Callable[[T], R], items: Sequence[T], helpers: int
) -> Generator[R, None, None]:
    """work(item) for every item, in order, as each becomes ready, in up to `helpers` helper
    processes (forked: each has `work` as built). A warning raised in a helper is raised here;
    an exception is raised here as the work raised it. Should a helper die (the kernel ending
    it), what it had not given back is done in this process. Closing the iterator early stops
    the helpers."""
    started = _start(work, min(helpers, len(items)))
    try:
        yield from _share(work, items, [conn for _, conn in started])
    finally:
        for helper, conn in started:
            _stop(helper, conn)


def beside(work: Callable[..., R], *args: Any) -> Callable[[], R]:
    """Start work(*args) in a helper now, when one can be made, and give a function that waits
    for its result (raising what it raised); without a helper, that function does the work.
    For a caller with a core to spare (core.threads.thread_count); the result is sent back."""
    started = _start(_Call(work, args), 1)
    if not started:
        return lambda: work(*args)
    helper, conn = started[0]
    try:
        conn.send(0)
    except OSError:
        _stop(helper, conn)
        return lambda: work(*args)

    return _waiter(helper, conn, work, args)


def _waiter(
    helper: Any,
    conn: Connection,
    work: Callable[..., R],
    args: tuple[Any, ...],
    answered: bool = True,
) -> Callable[[], R]:
    """A function that waits for the helper's reply to work(*args), raising what it raised, and
    lets the helper go; the work is done here should the helper die. `answered`: False while
    its answer to loading its modules comes first (a standby's: when it declined, done here)."""

    def result() -> R:
        try:
            if not answered and not _given_back(conn.recv()):
                return work(*args)  # it declined: its modules are not loaded there
            reply = conn.recv()
        except Exception:  # the helper died, or its reply cannot be read: done here
            return work(*args)
        finally:
            _stop(helper, conn)
        return cast(R, _given_back(reply))

    return result


class Standby:
    """A helper forked before the command loads its libraries, for one call at the run's end:
    while this process loads pandas and scikit-learn on one core, it loads `modules` on another,
    at a lower priority (speculative work yields to the run), or declines at once when no core
    is free. The call's work and arguments are sent to it pickled: it was forked before they
    existed."""

    def __init__(self, *modules: str) -> None:
        started = _start(_SentCall(), 1)
        self._helper: tuple[Any, Connection] | None = started[0] if started else None
        self._ready: bool | None = None  # None: not known yet
        if self._helper is not None:
            try:
                self._helper[1].send((_load_if_free, (modules,)))
            except OSError:
                self.close()

    def ready(self) -> bool:
        """Whether the helper has loaded its modules by now (without waiting for it)."""
        self._hear()
        return bool(self._ready) and self._helper is not None

    def _hear(self) -> None:
        """Take the helper's answer, if it has come: a helper that declined is let go."""
        if self._ready is None and self._helper is not None:
            conn = self._helper[1]
            try:
                if conn.poll():
                    self._ready = bool(_given_back(conn.recv()))
            except Exception:  # it died, or could not load them
                self._ready = False
            if self._ready is False:
                self.close()

    def call(self, work: Callable[..., R], *args: Any) -> Callable[[], R] | None:
        """Start work(*args) in the helper, and give a function that waits for its result
        (raising what it raised; done here should the helper die); None when it declined, or
        has had its call. A helper still loading its modules does the work once they are."""
        self._hear()
        if self._helper is None:
            return None
        helper, conn = self._helper
        self._helper = None
        try:
            conn.send((work, args))
        except Exception:  # arguments that cannot be sent: done by the caller
            _stop(helper, conn)
            return None

        return _waiter(helper, conn, work, args, answered=self._ready is not None)

    def close(self) -> None:
        """Let the helper go (it ends with the command anyway)."""
        if self._helper is not None:
            _stop(*self._helper)
            self._helper = None


STANDBY_NICE = 10  # how much lower a standby helper's priority is than the command's


class _SentCall:
    """A standby helper's work: each call it is sent, as (function, arguments)."""

    def __call__(self, item: tuple[Callable[..., Any], tuple[Any, ...]]) -> Any:
        work, args = item
        return work(*args)


def _load_if_free(modules: tuple[str, ...]) -> bool:
    """In a standby helper: import `modules` when other processes leave a core free (measured
    over core.threads' shortest window), at a lower priority, as a command loads its libraries
    (without the cyclic garbage collector); whether it did."""
    free_cores()  # the first reading: the window starts here
    if free_cores() < 0.5:
        return False
    with contextlib.suppress(OSError):
        os.nice(STANDBY_NICE)
    with loading_libraries():
        for name in modules:
            importlib.import_module(name)
    return True


class _Call:
    """One call's work, for `beside`."""

    def __init__(self, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.work, self.args = work, args

    def __call__(self, _: object) -> Any:
        return self.work(*self.args)


def _start(work: Callable[[Any], Any], helpers: int) -> list[tuple[Any, Connection]]:
    """Up to `helpers` helpers doing `work` (fewer when no more can be made). The signals a
    helper handles itself are held back until it has set its own handlers. What this process
    holds is frozen for the garbage collector as they are forked: a helper reads it but never
    collects it, so no finalizer of this process's runs in a helper (one of a database
    connection's, whose threads a helper does not have, can crash it)."""
    started: list[tuple[Any, Connection]] = []
    if not can_help():
        return started
    maker = multiprocessing.get_context("fork")
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    gc.freeze()
    try:
        with warnings.catch_warnings():  # Python 3.12+: forking beside native threads (above)
            warnings.filterwarnings("ignore", "This process .* multi-threaded", DeprecationWarning)
            for _ in range(helpers):
                mine, theirs = maker.Pipe()
                helper = maker.Process(
                    target=_serve,
                    args=(theirs, work, os.getpid()),
                    name="segscope-helper",
                    daemon=True,
                )
                helper.start()
                theirs.close()
                started.append((helper, mine))
    except OSError:  # no more processes: this process does the rest
        pass
    finally:
        gc.unfreeze()
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return started


def _stop(helper: Any, conn: Connection) -> None:
    """Tell a helper to leave; end it if it is still at an item nobody will take."""
    with contextlib.suppress(OSError):
        conn.send(_DONE)
    conn.close()
    helper.join(0.1)
    if helper.is_alive():
        helper.terminate()
        helper.join()


def _given_back(reply: tuple[bool, Any, list[Any]]) -> Any:
    """A helper's reply: its warnings raised here (each shown as the command's filters say,
    once per place by default), then its result, or the exception it raised."""
    ok, value, said = reply
    for message, category, filename, lineno in said:
        registry = _seen.setdefault(filename, {})
        warnings.warn_explicit(message, category, filename, lineno, registry=registry)
    if not ok:
        raise value
    return value


def _share(
    work: Callable[[T], R], items: Sequence[T], helpers: list[Connection]
) -> Generator[R, None, None]:
    """Hand the items out one at a time to whichever helper is free; yield results in order."""
    todo = iter(range(len(items)))
    busy: dict[Connection, int] = {}
    done: dict[int, tuple[bool, Any, list[Any]]] = {}
    left: list[int] = []  # items a dead helper took: done here
    nxt = 0

    def give(conn: Connection) -> None:
        for index in todo:
            try:
                conn.send(items[index])
            except OSError:
                left.append(index)
                return
            busy[conn] = index
            return

    for conn in helpers:
        give(conn)
    while nxt < len(items):
        if nxt in done:
            yield _given_back(done.pop(nxt))
            nxt += 1
        elif busy:
            for ready in wait(list(busy)):
                conn = cast(Connection, ready)
                index = busy.pop(conn)
                try:
                    done[index] = conn.recv()
                except Exception:  # the helper died, or its reply cannot be read: done here
                    left.append(index)
                    continue
                give(conn)
        else:  # no helper left (or none made): the rest here
            with one_native_thread():
                for index in sorted([*left, *todo]):
                    done[index] = (True, work(items[index]), [])
            left.clear()


def _serve(conn: Connection, work: Callable[[Any], Any], parent: int) -> None:
    """A helper: do each item it is sent until told to leave, or until the command ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle
    for sig in (signal.SIGTERM, signal.SIGHUP):  # a forked helper had the command's handlers
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    with contextlib.suppress(OSError, AttributeError):  # Linux: ended with the command
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before that was set
        os._exit(0)
    with contextlib.suppress(BaseException), one_native_thread():  # nothing printed here
        while (item := conn.recv()) is not _DONE:
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")  # the command's filters decide
                reply: tuple[bool, Any, list[Any]]
                try:
                    reply = (True, work(item), [])
                except Exception as exc:
                    reply = (False, exc, [])
            reply[2].extend((w.message, w.category, w.filename, w.lineno) for w in said)
            conn.send(reply)
    os._exit(0)  # not the command's exit: its buffers and clean-ups are not a helper's
