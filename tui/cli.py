"""The `segscope` command: open the app, or run a sweep or a scoring headless.

Exit codes: 0 success, 2 usage error, 3 bad input, 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM), 129 hung up (SIGHUP, an SSH session dropping). Whatever stops a run, nothing is left
behind: output folders are written atomically.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from segscope.core import DEFAULT_SEED, ENGINES, LOCAL
from segscope.core.environment import check_environment, system_allocator_for_arrow
from segscope.core.errors import DataError, UsageError
from segscope.core.limits import MAX_K, MAX_WEIGHT
from segscope.core.locations import database_kind
from segscope.core.settings import DEFAULT_SPARK_MASTER, check_seed, check_weight, parse_ks
from segscope.core.text import one_line
from segscope.core.threads import (
    THREADS_ENV,
    loading_libraries,
    one_native_thread_by_default,
    parse_threads,
    set_thread_cap,
)

if TYPE_CHECKING:
    from segscope.core.processes import Standby

EXIT_OK, EXIT_USAGE, EXIT_DATA, EXIT_INTERRUPTED = 0, 2, 3, 130


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by a signal (SIGTERM, SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)


def _argument(convert: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type from a core check: a UsageError becomes argparse's usage error."""

    def parse(text: str) -> object:
        try:
            return convert(text)
        except (UsageError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    parse.__name__ = convert.__name__
    return parse


def _csv_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _seed(text: str) -> int:
    try:
        return check_seed(int(text))
    except ValueError as exc:
        raise UsageError(f"the seed must be a whole number; got {text!r}.") from exc


def _k(text: str) -> int:
    k = int(text)
    if not 2 <= k <= MAX_K:
        raise UsageError(f"k must be from 2 to {MAX_K}; got {text!r}.")
    return k


def _weight(text: str) -> dict[str, float]:
    out = {}
    for item in _csv_list(text):
        name, sep, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise UsageError(f"--weight takes COLUMN=NUMBER, e.g. city_id=0.5; got {item!r}.")
        out[name.strip()] = check_weight(name.strip(), weight)
    return out


def _pair(text: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.split(","))
    except ValueError as exc:
        raise UsageError(f"--compare takes two k values, e.g. 4,5; got {text!r}.") from exc
    for k in (a, b):
        _k(str(k))
    return a, b


def _sweep_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segscope sweep",
        description="Sweep k, choose it, segment customers and write the outputs, headless.",
    )
    p.add_argument(
        "path",
        help="customer data: CSV/TSV (.gz), Parquet or .xlsx; a database: "
        "postgresql://user@host/db (password from PGPASSWORD, ~/.pgpass or a service file), a "
        "DuckDB file (.duckdb) or "
        "Parquet/CSV files through DuckDB ('lake/*.parquet'); with --engine spark also a folder "
        "of tables or any URL Spark reads (hdfs://, s3a://, ...)",
    )
    p.add_argument("--sheet", help="the customers sheet or table (default: guessed)")
    p.add_argument("--transactions", help="the transactions sheet (default: guessed)")
    p.add_argument("--no-transactions", action="store_true", help="ignore any transaction log")
    p.add_argument("--key", help="the customer key column (default: guessed)")
    p.add_argument("--features", type=_csv_list, help="use only these feature columns: A,B,C")
    p.add_argument("--categorical", type=_csv_list, default=[], help="treat as categories: A,B")
    p.add_argument("--numeric", type=_csv_list, default=[], help="treat as numbers: A,B")
    p.add_argument("--exclude", type=_csv_list, default=[], help="leave these columns out: A,B")
    p.add_argument(
        "--weight",
        action="append",
        type=_argument(_weight),
        default=[],
        metavar="COL=W",
        help=f"weight a feature (0 drops it, 0.5 halves it, at most {MAX_WEIGHT:g}); repeat or "
        "give A=0.5,B=2",
    )
    p.add_argument(
        "--k",
        type=_argument(parse_ks),
        default=parse_ks("2-10"),
        help=f"k range '2-10', list '3,5,8' or one k '5' (k from 2 to {MAX_K})",
    )
    p.add_argument("--choose", type=_argument(_k), help="use this k, not the best silhouette")
    p.add_argument(
        "--seed",
        type=_argument(_seed),
        default=DEFAULT_SEED,
        help=f"random seed, 0 to 2**32-1 (default {DEFAULT_SEED})",
    )
    p.add_argument(
        "--compare", type=_argument(_pair), help="how the segments at k=A split at k=B: A,B"
    )
    p.add_argument(
        "--like", type=Path, metavar="MODEL", help="number segments to match an earlier model"
    )
    _previous_argument(p)
    p.add_argument("--out", type=Path, help="output folder (default: segscope-<name>-<time>)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an earlier segscope output folder (or labels table)",
    )
    p.add_argument("--json", action="store_true", help="print summary.json only, on stdout")
    db = p.add_argument_group("Databases (needs the extra: pip install 'segscope[db]')")
    db.add_argument(
        "--query", metavar="SQL", help="the customers as the result of this SELECT (read-only)"
    )
    db.add_argument(
        "--labels-table",
        metavar="NAME",
        help="also write the labels into this new table of the database (one transaction)",
    )
    _engine_arguments(p)
    _threads_argument(p)
    return p


def _sweep_args(args: list[str]) -> argparse.Namespace:
    """The sweep's options, checked against each other (a usage error exits 2)."""
    parser = _sweep_parser()
    a = parser.parse_args(args)
    if (a.query or a.labels_table) and not database_kind(a.path):
        option = "--query" if a.query else "--labels-table"
        parser.error(f"{option} needs a database: a postgresql:// URL or a DuckDB file")
    if a.previous and a.engine != LOCAL:
        parser.error(
            "--previous needs the local engine: with Spark, every customer's labels are "
            "written by Spark (compare them there)"
        )
    for option, ks in (("--choose", [a.choose]), ("--compare", list(a.compare or ()))):
        outside = [k for k in ks if k is not None and k not in a.k]
        if outside:
            parser.error(
                f"{option} {outside[0]} is not among the k values swept ({a.k[0]}..{a.k[-1]})"
            )
    return a


def _engine_arguments(p: argparse.ArgumentParser) -> None:
    spark = p.add_argument_group("Spark (needs the extra: pip install 'segscope[spark]')")
    spark.add_argument(
        "--engine",
        choices=ENGINES,
        default=LOCAL,
        help="where the work runs: this machine (local, default) or Spark",
    )
    spark.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master: local[4], spark://host:7077, yarn, k8s://... "
        f"(default: {DEFAULT_SPARK_MASTER})",
    )
    spark.add_argument(
        "--labels-uri",
        metavar="URI",
        help="where Spark writes the labels as Parquet (default: <out>-labels.parquet beside "
        "the output folder; on a cluster give a shared location)",
    )


def _previous_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--previous",
        type=Path,
        metavar="LABELS",
        help="say who moved since an earlier run: its labels.csv (or its output folder); "
        "customers are matched by the key",
    )


def _threads_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads",
        type=_argument(lambda text: parse_threads(text, "--threads")),
        metavar="N",
        help=f"use at most N threads (default: ${THREADS_ENV}, else the cores other processes "
        "leave free)",
    )


def _score_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segscope score", description="Label new customers with a saved model, headless."
    )
    p.add_argument("model", type=Path, help="a model file written by 'segscope sweep'")
    p.add_argument(
        "path",
        help="customer data in the same layout as the training data: a file, or a database "
        "(postgresql://..., a DuckDB file, a glob of files)",
    )
    p.add_argument("--out", type=Path, help="output folder (default: segscope-<name>-<time>)")
    p.add_argument("--force", action="store_true", help="replace an earlier segscope output folder")
    p.add_argument("--json", action="store_true", help="print the scoring summary only, as JSON")
    _previous_argument(p)
    _threads_argument(p)
    return p


def _app_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segscope",
        description="Customer segmentation with K-Means, in the terminal.",
        epilog="Headless: 'segscope sweep PATH ...' and 'segscope score MODEL PATH' "
        "(see their --help).",
    )
    p.add_argument("path", nargs="?", help="open the app with this file loaded")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    _engine_arguments(p)
    _threads_argument(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    one_native_thread_by_default()  # before numpy loads: segscope's own pool does the parallel work
    system_allocator_for_arrow()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        check_environment()
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    try:
        if args and args[0] == "sweep":
            return _guarded(lambda: _run_sweep(_threads(_sweep_args(args[1:]))))
        if args and args[0] == "score":
            return _guarded(lambda: _run_score(_threads(_score_parser().parse_args(args[1:]))))
        opts = _threads(_app_parser().parse_args(args))
    except SystemExit as exc:  # argparse: --help exits 0, a usage error 2
        return int(exc.code or 0)
    if opts.version:
        from segscope.core import __version__

        print(f"segscope {__version__}")
        return EXIT_OK
    if opts.path and not database_kind(opts.path) and not Path(opts.path).exists():
        print(f"segscope: {one_line(opts.path, 200)}: no such file.", file=sys.stderr)
        return EXIT_DATA
    from segscope.core.settings import EngineSettings
    from segscope.tui.app import SegscopeApp

    engine_settings = EngineSettings(opts.engine, opts.spark_master, opts.labels_uri)
    app = SegscopeApp(path=opts.path, engine_settings=engine_settings)
    app.run()
    return app.return_code or EXIT_OK


def _threads(a: argparse.Namespace) -> argparse.Namespace:
    """Apply --threads (a cap on every pool segscope starts)."""
    if a.threads is not None:
        set_thread_cap(a.threads)
    return a


def _guarded(run: Callable[[], int]) -> int:
    """Run a headless command: bad input exits 3 with a short message; a signal or Ctrl-C
    stops it with nothing written (130, 143 for SIGTERM, 129 for SIGHUP)."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        return run()
    except SystemExit as exc:  # argparse: --help exits 0, a usage error 2
        return int(exc.code or 0)
    except DataError as exc:
        _error(str(exc))
        return EXIT_DATA
    except UsageError as exc:  # an environment variable's value that cannot work
        _error(str(exc))
        return EXIT_USAGE
    except MemoryError:
        _error("ran out of memory. Use fewer rows or columns, or a machine with more memory.")
        return EXIT_DATA
    except Stopped as exc:  # what was half written is gone already (the writers clean up)
        _error(f"stopped by signal {signal.Signals(exc.signum).name}; nothing was written.")
        _stopped.append(exc.signum)
        return 128 + exc.signum
    except KeyboardInterrupt:
        _error("interrupted; nothing was written.")
        _stopped.append(signal.SIGINT)
        return EXIT_INTERRUPTED


_stopped: list[int] = []  # the signals that stopped a command of this process


def entry() -> NoReturn:
    """The console script: main(), and the exit, without the interpreter's own teardown of
    every module and object (0.2-0.3 s after a sweep, for nothing: every output is written and
    closed by then). The clean-ups libraries registered run first (a Spark session's,
    logging's), except after a signal or Ctrl-C: that leaves at once, without waiting on a
    library (a driver closing a connection whose statement is still being cancelled)."""
    code = main()
    if not _stopped:
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe says nothing more
            stream.flush()
    os._exit(code)


def _error(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    text = Text.assemble(("segscope:", "bold red"), " ", one_line(message, 600))
    Console(stderr=True).print(text, highlight=False, soft_wrap=True)


def _run_sweep(a: argparse.Namespace) -> int:
    from segscope.core.processes import Standby

    # the model file's library (skops) loads on the core that idles while this process loads
    # the rest, when one is free, in a helper forked before anything else starts
    standby = Standby("skops.io", "segscope.core.models.model") if a.engine == LOCAL else None
    try:
        return _sweep(a, standby)
    finally:
        if standby is not None:
            standby.close()


def _sweep(a: argparse.Namespace, standby: Standby | None) -> int:
    with loading_libraries():
        from segscope.core.files import OutputFolder, default_out_dir
        from segscope.core.locations import about
        from segscope.core.sources.reading import read_ahead
        from segscope.core.threads import Background

        earlier = [p for p in (a.like, a.previous) if p]
        inputs = [Path(a.path), *earlier]
        folder = OutputFolder(a.out or default_out_dir(a.path), a.force, inputs)
        # the file is read while scikit-learn and the rest load (seconds, on a large table); a
        # file that cannot be read is said as soon as it is known, not once they have loaded,
        # after an output that cannot be written (the local engine's check, said first)
        opened = read_ahead(a.path) if a.engine == LOCAL else None
        if opened is not None:
            folder.check()
            load = partial(importlib.import_module, "segscope.core.engines.interface")
            with about(a.path):  # as the engine names the file in what it says
                Background(load, "segscope-imports").unless(opened)
        from rich.console import Console

        from segscope.core.clustering.sweep import KResult, SweepSetup
        from segscope.core.engines.interface import analyse, engine_for
        from segscope.core.models.model import load_model
        from segscope.core.models.movement import read_earlier
        from segscope.core.outputs.folders import end_of_run_libraries, sweep_outputs
        from segscope.core.outputs.summary import summary
        from segscope.core.roles import Role
        from segscope.core.settings import DataChoices, EngineSettings, SweepSettings
        from segscope.core.threads import import_in_background
        from segscope.tui.render import (
            ProgressReporter,
            print_prepared,
            print_results,
            print_timings,
        )

    roles = {c: Role.CATEGORICAL for c in a.categorical}
    roles.update({c: Role.NUMERIC for c in a.numeric})
    roles.update({c: Role.IGNORED for c in a.exclude})
    weights = {name: w for item in a.weight for name, w in item.items()}
    choices = DataChoices(
        customers=a.sheet,
        transactions=a.transactions,
        use_transactions=not a.no_transactions,
        only_features=a.features,
        roles=roles,
        weights=weights,
        query=a.query,
    )
    if a.key:
        choices = choices.with_key(a.key)
    like = load_model(a.like)[0] if a.like else None
    previous = read_earlier(a.previous) if a.previous else None
    engine = engine_for(EngineSettings(a.engine, a.spark_master, a.labels_uri))
    engine.check_outputs(folder)
    if a.labels_table:  # only then the database's modules
        from segscope.core.outputs.labels_table import check_labels_table, write_labels

        check_labels_table(a.path, a.labels_table, a.force)
    err = Console(stderr=True)

    # the output folder is open while the run goes on: the per-customer files are written as
    # soon as the customers are labelled (settings.ahead), the rest once they are described
    with sweep_outputs(folder.target, a.force, inputs) as outputs:
        settings = SweepSettings(
            a.k,
            a.seed,
            a.choose,
            like,
            str(a.like) if a.like else None,
            a.compare,
            previous,
            saving=True,
            standby=standby,
            ahead=outputs.labelled,
        )
        with ProgressReporter(err) as progress:

            def result(result: KResult, setup: SweepSetup) -> None:
                if result.k == setup.ks[0]:
                    # loaded while the sweep runs, once its helpers are forked (core.processes
                    # forks none beside another thread); not earlier, where they would compete
                    # with the preparation for the interpreter (0.3 s instead of 0.07 s beside it)
                    import_in_background(*end_of_run_libraries(setup, standby))
                progress.update(result, setup)

            seg = analyse(
                a.path,
                choices,
                settings,
                engine,
                on_prepared=lambda prepared: print_prepared(err, prepared),
                on_result=result,
                opened=opened,
            )
        written = outputs.write(seg)
    if a.labels_table:
        customers = seg.prepared.frame.plan.customers  # the key's table, for its type
        written.append(write_labels(a.path, a.labels_table, seg.labels_frame(), a.force, customers))
    print_timings(err, seg.timings)
    if a.json:
        data = summary(seg)
        data["output"] = str(folder.target)
        print(json.dumps(data, indent=2, default=str))
    else:
        print_results(Console(), seg, written)
    return EXIT_OK


def _run_score(a: argparse.Namespace) -> int:
    from rich.console import Console

    from segscope.core.files import OutputFolder, default_out_dir
    from segscope.core.models.movement import read_earlier
    from segscope.core.models.scoring import score_file
    from segscope.core.outputs.folders import write_score_outputs
    from segscope.tui.render import print_score

    data = [] if database_kind(a.path) == "postgresql" else [Path(a.path)]
    inputs = [*data, a.model, *([a.previous] if a.previous else [])]
    folder = OutputFolder(a.out or default_out_dir(a.path), a.force, inputs)
    folder.check()
    previous = read_earlier(a.previous) if a.previous else None
    model, result = score_file(a.model, a.path, previous)
    written = write_score_outputs(model, result, a.path, folder.target, a.force, inputs)
    if a.json:
        print((written[0].parent / "score.json").read_text())
    else:
        print_score(Console(), model, result, written)
    return EXIT_OK


if __name__ == "__main__":
    entry()
