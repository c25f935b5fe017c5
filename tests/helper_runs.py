"""Runs of core.processes in a process of their own (`python -m tests.helper_runs CASE`): helpers
are forked only from a process that runs no other Python thread, and a test worker runs several.
Each case prints one JSON object on its last line of standard output."""

from __future__ import annotations

import json
import os
import sys
import threading
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from segscope.core import processes
from segscope.core.clustering.sweep import (
    SilhouetteWork,
    SweepWork,
    run_sweep,
    set_up_sweep,
)
from segscope.core.engines.local import prepare_tables
from segscope.core.sources.reading import read_source
from segscope.core.threads import in_parallel

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data"
PARENT = os.getpid()


def _figures(r: Any) -> dict[str, Any]:
    return {
        **{k: v for k, v in r.to_dict().items() if k != "seconds"},
        "sizes": r.sizes,
        "labels": r.labels.tolist(),
        "silhouettes": r.silhouettes.tolist(),
        "resamples": [x.tolist() for x in r.resamples],
        "centres": r.model.cluster_centers_.tolist(),
    }


def sweep() -> dict[str, Any]:
    """The credit table's sweep on two helpers, and on this process alone."""
    X = prepare_tables(read_source(str(DATA / "credit_data.csv.gz"))).X
    setup = replace(set_up_sweep(X, range(2, 11), 0), threads=2)
    assert processes.on_helpers(2, len(X))
    seen = []
    on_helpers = []
    for result in run_sweep(X, setup):
        on_helpers.append(len(processes.multiprocessing.active_children()))
        seen.append(_figures(result))
    here = [_figures(r) for r in in_parallel(SweepWork(X, setup), setup.ks, 1)]
    quick = list(processes.in_helpers(SilhouetteWork(X[:1500], 0, 4), [2, 3, 4], 2))
    quick_here = [SilhouetteWork(X[:1500], 0, 4)(k) for k in [2, 3, 4]]
    return {
        "ks": [s["k"] for s in seen],
        "helpers": max(on_helpers),
        "same": seen == here,
        "quick_same": all(
            a[0] == b[0] and a[1] == b[1] and np.array_equal(a[2], b[2])
            for a, b in zip(quick, quick_here, strict=True)
        ),
        "left": len(processes.multiprocessing.active_children()),
    }


class Unlucky:
    """Work that a helper cannot finish at item 3 (the kernel ends it), raises at item 5 and
    warns at item 1; done here, it finishes every item but 5."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def __call__(self, item: int) -> int:
        if item == 3 and os.getpid() != PARENT:
            os._exit(9)
        if item == 1:
            warnings.warn(f"item {item} is odd", UserWarning, stacklevel=1)
        if item == 5:
            raise ValueError(f"item {item} cannot be done")
        return item + self.offset


def fallbacks() -> dict[str, Any]:
    """A helper that dies, an item that raises, a warning, and a thread running beside."""
    got: list[int] = []
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        try:
            for value in processes.in_helpers(Unlucky(100), list(range(8)), 2):
                got.append(value)
        except ValueError as exc:
            raised = str(exc)
    with warnings.catch_warnings(record=True) as once:
        warnings.simplefilter("default")  # Python's own: once per place
        list(processes.in_helpers(Unlucky(0), [1, 1, 1, 1], 2))
    died = processes.beside(Unlucky(0), 3)()  # its helper dies: done here
    try:
        processes.beside(Unlucky(0), 5)()
    except ValueError as exc:
        beside_raised = str(exc)
    waiting = threading.Event()
    beside = threading.Thread(target=waiting.wait)
    beside.start()
    try:
        with_thread = processes.can_help(), list(processes.in_helpers(Unlucky(0), [0, 4], 2))
    finally:
        waiting.set()
        beside.join()
    return {
        "got": got,
        "raised": raised,
        "warned": [str(w.message) for w in said],
        "warned_once": [str(w.message) for w in once],
        "beside": [died, beside_raised],
        "with_thread": [with_thread[0], with_thread[1]],
        "alone_again": processes.can_help(),
        "left": len(processes.multiprocessing.active_children()),
    }


def model() -> dict[str, Any]:
    """The model's bytes made beside (in a helper) and here: skops names its arrays by their
    objects' ids, so the two are compared as read back."""
    import skops.io as sio

    from segscope.core.engines.interface import analyse
    from segscope.core.models.model import pipeline_bytes
    from segscope.core.settings import SweepSettings

    seg = analyse(DATA / "credit_data.csv.gz", settings=SweepSettings(ks=(2, 3)))
    seg.model.dump_ahead()
    helped = processes.multiprocessing.active_children()
    beside, here = seg.model.pipeline_bytes(), pipeline_bytes(seg.model.pipeline)
    a, b = (sio.loads(blob, trusted=sio.get_untrusted_types(data=blob)) for blob in (beside, here))
    features = seg.prepared.typed
    return {
        "helped": len(helped),
        "same": bool(
            np.array_equal(a.predict(features), b.predict(features))
            and np.array_equal(a[-1].cluster_centers_, b[-1].cluster_centers_)
            and np.array_equal(a[0].transform(features), b[0].transform(features))
            and np.array_equal(a.predict(features), seg.labels - 1)
        ),
        "again": seg.model.pipeline_bytes() == beside,
        "left": len(processes.multiprocessing.active_children()),
    }


def standby() -> dict[str, Any]:
    """A standby helper forked first, told a core is free: it loads skops while this process
    loads the engine, then makes the model's bytes; told none is, it leaves, and the bytes are
    made here. Compared as read back (skops names arrays by their objects' ids)."""
    import time

    free = processes.free_cores
    processes.free_cores = lambda: 1.0  # type: ignore[assignment]  # as forked: the helper's
    ready = processes.Standby("skops.io")
    queued = processes.Standby("json")
    processes.free_cores = lambda: 0.0  # type: ignore[assignment]
    busy = processes.Standby("skops.io")
    processes.free_cores = free
    summed = queued.call(sum, [1, 2, 3])  # sent before it has loaded: done once it has
    done_there = summed is not None and summed() == 6

    from segscope.core.engines.interface import analyse
    from segscope.core.settings import SweepSettings
    from segscope.core.threads import set_thread_cap

    def answered(helper: processes.Standby) -> bool:
        for _ in range(600):  # up to a minute for its imports on a loaded machine
            if helper.ready() or helper._ready is False:
                return True
            time.sleep(0.1)
        return False

    waited = answered(ready) and answered(busy) and ready.ready()
    set_thread_cap(1)  # no core to spare: no other helper could make the model's bytes
    settings = SweepSettings(ks=(2, 3), saving=True, standby=ready)
    seg = analyse(DATA / "credit_data.csv.gz", settings=settings)
    made_there = ready._helper is None and seg.model._dumped is not None  # the run's one call
    there = seg.model.pipeline_bytes()
    loaded_here = "skops.io" in sys.modules
    import skops.io as sio

    from segscope.core.models.model import pipeline_bytes

    here = pipeline_bytes(seg.model.pipeline)
    a, b = (sio.loads(blob, trusted=sio.get_untrusted_types(data=blob)) for blob in (there, here))
    features = seg.prepared.typed
    return {
        "answered": waited,
        "queued": done_there,
        "declined": not busy.ready() and busy.call(len, ()) is None,
        "made_there": made_there,
        "loaded_here": loaded_here,
        "same": bool(
            np.array_equal(a.predict(features), b.predict(features))
            and np.array_equal(a[-1].cluster_centers_, b[-1].cluster_centers_)
            and np.array_equal(a.predict(features), seg.labels - 1)
        ),
        "left": len(processes.multiprocessing.active_children()),
    }


def beside_the_profiles() -> dict[str, Any]:
    """The sample workbook segmented with a core to spare (the sweep given two: the rules found
    in a helper, the model's bytes made in another) and without: the same rules, RFM cells and
    summary."""
    from segscope.core.engines import local
    from segscope.core.outputs.per_customer import rules_sql
    from segscope.core.outputs.summary import summary
    from segscope.core.settings import SweepSettings

    def run(cores: int) -> tuple[Any, int]:
        settings = SweepSettings(ks=(3, 4), saving=True)
        path = ROOT / "sample_data" / "shop.xlsx"
        prepared = local.prepare_tables(read_source(str(path)))
        setup = replace(set_up_sweep(prepared.X, settings.ks, settings.seed), threads=cores)
        results = list(run_sweep(prepared.X, setup))
        helped: list[int] = []
        started = processes._start

        def counted(work: Any, helpers: int) -> Any:
            out = started(work, helpers)
            helped.append(len(out) if isinstance(work, processes._Call) else 0)  # beside, only
            return out

        processes._start = counted  # type: ignore[assignment]
        try:
            return local.segment(prepared, setup, results, settings), sum(helped)
        finally:
            processes._start = started  # type: ignore[assignment]

    (spare, helped), (alone, none) = run(2), run(1)
    spare.model.pipeline_bytes()  # the model's bytes, waited for (as written)

    def said(seg: Any) -> dict[str, Any]:
        whole = summary(seg)
        return {key: whole[key] for key in ("segments", "rules", "rfm")}

    return {
        "helpers": [helped, none],
        "rfm": spare.rfm is not None and np.array_equal(spare.rfm.codes, alone.rfm.codes),
        "same": rules_sql(spare) == rules_sql(alone)
        and json.dumps(said(spare), default=str) == json.dumps(said(alone), default=str),
        "left": len(processes.multiprocessing.active_children()),
    }


class _Finalized:
    """Garbage (a cycle) whose finalizer says, in a file, which process ran it."""

    def __init__(self, said: Path) -> None:
        self.said, self.me = said, self

    def __del__(self) -> None:
        with self.said.open("a") as out:
            out.write(f"{os.getpid()}\n")


def _collect(item: int) -> int:
    import gc

    gc.collect()
    return item


def finalizers() -> dict[str, Any]:
    """Garbage of this process when its helpers are forked (a cycle with a finalizer, as a
    database connection's): the helpers collect their own garbage, never this process's."""
    import gc
    import tempfile

    said = Path(tempfile.mkdtemp()) / "finalized"
    gc.disable()  # the cycle stays garbage until the helpers have run
    _Finalized(said)
    got = list(processes.in_helpers(_collect, [1, 2, 3, 4], 2))
    gc.enable()
    gc.collect()
    ran = [int(pid) for pid in said.read_text().split()] if said.exists() else []
    return {"got": got, "finalized_by": ["this" if pid == PARENT else "helper" for pid in ran]}


def interrupted() -> dict[str, Any]:
    """A sweep on helpers that Ctrl-C stops: prints 'helping' when its helpers run, then waits
    for the signal the test sends to the whole process group."""
    X = np.repeat(prepare_tables(read_source(str(DATA / "credit_data.csv.gz"))).X, 6, axis=0)
    results = run_sweep(X, replace(set_up_sweep(X, range(2, 11), 0), threads=2))
    try:
        next(results)
        print("helping", len(processes.multiprocessing.active_children()), flush=True)
        for _ in results:
            pass
        return {"interrupted": False}
    except KeyboardInterrupt:
        results.close()
        return {"interrupted": True, "left": len(processes.multiprocessing.active_children())}


if __name__ == "__main__":
    print(json.dumps(globals()[sys.argv[1]]()))
