"""segscope's engine: loading, features, preprocessing, the k-sweep, segments and models.

UI-independent by contract: nothing here imports textual, rich or tui.
"""

__version__ = "0.1.0"
DEFAULT_SEED = 42
ENGINES = ("local", "spark")  # where the work runs: this machine, or Spark (core.engine)
