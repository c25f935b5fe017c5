"""The Spark engine: the same features, sweep and segments, computed on a Spark cluster.

Needs the optional extra (`pip install 'segscope[spark]'`) and Java 17 or newer."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from segscope.core.errors import DataError

if TYPE_CHECKING:
    from segscope.core.engines.spark.engine import SparkEngine


INSTALL_HINT = (
    "the Spark engine needs pyspark: install it with pip install 'segscope[spark]' "
    "(in this checkout: .venv/bin/pip install -e '.[spark]'); it also needs Java 17 or newer."
)


def spark_engine(master: str | None = None, labels_uri: str | None = None) -> SparkEngine:
    """A Spark engine on `master` (default: settings.DEFAULT_SPARK_MASTER)."""
    if importlib.util.find_spec("pyspark") is None:
        raise DataError(INSTALL_HINT)
    from segscope.core.engines.spark.engine import SparkEngine

    return SparkEngine(master, labels_uri)
