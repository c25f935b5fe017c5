"""The `segscope` command: open the app, or run a sweep or a scoring headless.

Exit codes: 0 success, 2 usage error, 3 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from segscope.core import DEFAULT_SEED, ENGINES
from segscope.core.errors import DataError

EXIT_OK, EXIT_USAGE, EXIT_DATA, EXIT_INTERRUPTED = 0, 2, 3, 130


def _csv_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _sweep_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segscope sweep",
        description="Sweep k, choose it, segment customers and write the outputs, headless.",
    )
    p.add_argument(
        "path",
        help="customer data: CSV/TSV (.gz), Parquet or .xlsx; with --engine spark also a folder "
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
        default=[],
        metavar="COL=W",
        help="weight a feature (0 drops it, 0.5 halves it); repeat or give A=0.5,B=2",
    )
    p.add_argument("--k", default="2-10", help="k range '2-10', list '3,5,8' or one k '5'")
    p.add_argument("--choose", type=int, help="use this k instead of the best silhouette")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
    p.add_argument("--compare", help="show how the segments at k=A split or merge at k=B: A,B")
    p.add_argument(
        "--like", type=Path, metavar="MODEL", help="number segments to match an earlier model"
    )
    p.add_argument("--out", type=Path, help="output folder (default: segscope-<name>-<time>)")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty output folder")
    p.add_argument("--json", action="store_true", help="print summary.json only, on stdout")
    _engine_arguments(p)
    return p


def _engine_arguments(p: argparse.ArgumentParser) -> None:
    spark = p.add_argument_group("Spark (needs the extra: pip install 'segscope[spark]')")
    spark.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="where the work runs: this machine (local, default) or Spark",
    )
    spark.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master: local[4], spark://host:7077, yarn, k8s://... (default: local[*])",
    )
    spark.add_argument(
        "--labels-uri",
        metavar="URI",
        help="where Spark writes the labels as Parquet (default: <out>-labels.parquet beside "
        "the output folder; on a cluster give a shared location)",
    )


def _score_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segscope score", description="Label new customers with a saved model, headless."
    )
    p.add_argument("model", type=Path, help="a model file written by 'segscope sweep'")
    p.add_argument("path", type=Path, help="customer data in the same layout as the training data")
    p.add_argument("--out", type=Path, help="output folder (default: segscope-<name>-<time>)")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty output folder")
    p.add_argument("--json", action="store_true", help="print the scoring summary only, as JSON")
    return p


def _weights(items: list[str]) -> dict[str, float]:
    out = {}
    for item in (part for text in items for part in _csv_list(text)):
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise DataError(f"--weight takes COLUMN=NUMBER, e.g. city_id=0.5; got {item!r}.")
    return out


def _pair(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        a, b = (int(x) for x in text.split(","))
    except ValueError as exc:
        raise DataError(f"--compare takes two k values, e.g. 4,5; got {text!r}.") from exc
    return a, b


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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "sweep":
            return _run_sweep(_sweep_parser().parse_args(args[1:]))
        if args and args[0] == "score":
            return _run_score(_score_parser().parse_args(args[1:]))
        opts = _app_parser().parse_args(args)
    except SystemExit as exc:  # argparse: --help exits 0, a usage error 2
        return int(exc.code or 0)
    if opts.version:
        from segscope.core import __version__

        print(f"segscope {__version__}")
        return EXIT_OK
    if opts.path and not Path(opts.path).exists():
        print(f"segscope: {opts.path}: no such file.", file=sys.stderr)
        return EXIT_DATA
    from segscope.core.analysis import Options
    from segscope.tui.app import SegscopeApp

    options = Options(
        engine=opts.engine, spark_master=opts.spark_master, labels_uri=opts.labels_uri
    )
    SegscopeApp(path=opts.path, options=options).run()
    return EXIT_OK


def _guarded(run: Callable[[], int]) -> int:
    """Run a headless command: bad input exits 3 with a short message, Ctrl-C exits 130."""
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True)
    try:
        return run()
    except DataError as exc:
        err.print(f"[bold red]segscope:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return EXIT_DATA
    except KeyboardInterrupt:
        err.print("segscope: interrupted; nothing was written.")
        return EXIT_INTERRUPTED


def _run_sweep(a: argparse.Namespace) -> int:
    from rich.console import Console

    from segscope.core.analysis import Options
    from segscope.core.engine import analyse, engine_for
    from segscope.core.model import load_model
    from segscope.core.report import default_out_dir, summary, write_outputs
    from segscope.core.schema import Role
    from segscope.core.sweep import parse_ks
    from segscope.tui.render import ProgressReporter, print_results

    def run() -> int:
        roles = {c: Role.CATEGORICAL for c in a.categorical}
        roles.update({c: Role.NUMERIC for c in a.numeric})
        roles.update({c: Role.IGNORED for c in a.exclude})
        options = Options(
            customers=a.sheet,
            transactions=a.transactions,
            use_transactions=not a.no_transactions,
            key=a.key,
            features=a.features,
            roles=roles,
            ks=parse_ks(a.k),
            seed=a.seed,
            k=a.choose,
            weights=_weights(a.weight),
            like=load_model(a.like)[0] if a.like else None,
            compare=_pair(a.compare),
            engine=a.engine,
            spark_master=a.spark_master,
            labels_uri=a.labels_uri,
        )
        out = a.out or default_out_dir(a.path)
        engine_for(options).check_outputs(out, a.force)
        with ProgressReporter(Console(stderr=True)) as progress:
            seg = analyse(a.path, options, on_result=progress.update)
        written = write_outputs(seg, out, force=a.force)
        if a.json:
            data = summary(seg)
            data["output"] = str(Path(written[0]).parent)
            print(json.dumps(data, indent=2, default=str))
        else:
            print_results(Console(), seg, written)
        return EXIT_OK

    return _guarded(run)


def _run_score(a: argparse.Namespace) -> int:
    from rich.console import Console

    from segscope.core.io import check_output_dir
    from segscope.core.report import default_out_dir, write_score_outputs
    from segscope.core.scoring import score_file
    from segscope.tui.render import print_score

    def run() -> int:
        out = a.out or default_out_dir(a.path)
        check_output_dir(out, a.force)
        model, result = score_file(a.model, a.path)
        written = write_score_outputs(model, result, str(a.path), out, force=a.force)
        if a.json:
            print((written[0].parent / "score.json").read_text())
        else:
            print_score(Console(), model, result, written)
        return EXIT_OK

    return _guarded(run)


if __name__ == "__main__":
    sys.exit(main())
