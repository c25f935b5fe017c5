"""Starting Spark quietly, and cancelling its jobs from another thread."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from segscope.core.errors import Cancelled, DataError
from segscope.core.locations import first_line
from segscope.core.settings import DEFAULT_SPARK_MASTER
from segscope.core.text import one_line

# The JVM's output (Spark's log included) goes to a file: on the terminal it would scribble
# over the app.
LOG_FILE = Path(tempfile.gettempdir()) / "segscope-spark.log"
_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


NETLIB = ("blas", "lapack", "arpack")
MESSAGE_CHARS = 300  # Spark's first lines are long (they name the file); keep that much
POLL_SECONDS = 0.2  # how often a running job checks whether it should stop


def spark_message(exc: BaseException) -> str:
    """What Spark said, in one line: the Java exception's message rather than py4j's wrapper."""
    java = getattr(exc, "java_exception", None)
    text = str(exc)
    if java is not None:
        with contextlib.suppress(Exception):
            text = str(java.getMessage() or java.toString())
    lines = text.strip().splitlines()
    return one_line(lines[0], MESSAGE_CHARS) if lines else type(exc).__name__


def is_local(master: str) -> bool:
    return master.startswith("local")


_sessions: dict[str, Any] = {}  # master -> its session (Spark allows one per process)


def get_session(master: str | None = None) -> Any:
    """The (one) SparkSession of this process, on `master` (default: settings.DEFAULT_SPARK_MASTER).

    Asking for another master stops the running session first.
    """
    master = master or DEFAULT_SPARK_MASTER
    if master in _sessions:
        return _sessions[master]
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise DataError(
            "the Spark engine needs Java 17 or newer and none was found (no java on PATH, "
            "JAVA_HOME unset). Install it, e.g. apt install openjdk-17-jre-headless."
        )
    for running in _sessions.values():
        running.stop()
    _sessions.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandas 3: only small results cross
        from pyspark import SparkContext
        from pyspark.java_gateway import launch_gateway
        from pyspark.sql import SparkSession

        conf = _conf(master)
        try:
            gateway = None  # a JVM started for an earlier master is reused
            if SparkContext._gateway is None:
                with LOG_FILE.open("ab") as log:  # the JVM's own output: never on the terminal
                    gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
            SparkContext(conf=conf, gateway=gateway)
            session = SparkSession.builder.getOrCreate()
        except Exception as exc:  # the JVM failed to start or the master refused us
            raise DataError(
                f"Spark could not start on {one_line(master, 80)}: {first_line(exc)}. Spark's "
                f"log: {LOG_FILE}."
            ) from exc
    session.sparkContext.setLogLevel("ERROR")
    _sessions[master] = session
    return session


def _conf(master: str) -> Any:
    """Spark's settings: quiet (log to a file), UTC, Arrow; in local mode, this host only."""
    from pyspark import SparkConf

    config = Path(tempfile.gettempdir()) / "segscope-log4j2.properties"
    config.write_text(_LOG4J)
    java = [f"-Dlog4j.configurationFile={config}"]
    if is_local(master):  # no native BLAS here: do not let its loader print on the terminal
        java += [f"-Ddev.ludovic.netlib.{lib}.allowNative=false" for lib in NETLIB]
    conf = (
        SparkConf()
        .setMaster(master)
        .setAppName("segscope")
        .set("spark.driver.extraJavaOptions", " ".join(java))
        .set("spark.sql.session.timeZone", "UTC")
        .set("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if is_local(master):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        cores = os.cpu_count() or 2
        conf.set("spark.driver.host", "127.0.0.1").set("spark.ui.enabled", "false")
        conf.set("spark.sql.shuffle.partitions", str(2 * cores))
    return conf


@contextmanager
def cancellable(spark: Any, group: str, should_stop: Callable[[], bool] | None) -> Iterator[None]:
    """Run the block's Spark jobs in job group `group`; cancel them when `should_stop()`.

    Raises Cancelled (instead of Spark's error) when the jobs were cancelled that way, and
    DataError with Spark's first line when Spark fails (never a JVM stack trace to the user).
    """
    sc = spark.sparkContext
    sc.setJobGroup(group, "segscope", interruptOnCancel=True)
    done = threading.Event()
    stopped = threading.Event()

    def watch(stop: Callable[[], bool]) -> None:
        while not done.wait(POLL_SECONDS):
            if stop():
                stopped.set()
                sc.cancelJobGroup(group)
                return

    watcher = None
    if should_stop is not None:  # nothing to watch otherwise
        watcher = threading.Thread(target=watch, args=(should_stop,), daemon=True)
        watcher.start()
    try:
        yield
    except Exception as exc:
        if stopped.is_set():
            raise Cancelled() from exc
        if type(exc).__module__.startswith(("py4j", "pyspark")):
            raise DataError(
                f"Spark failed: {spark_message(exc)}. Spark's log: {LOG_FILE}."
            ) from exc
        raise
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    if stopped.is_set():
        raise Cancelled()
