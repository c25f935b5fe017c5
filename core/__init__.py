"""segscope's engine: loading, features, preprocessing, the k-sweep, segments and models.

UI-independent by contract: nothing here imports textual, rich or segscope.tui. Installed as
`segscope.core` (the folder is core/ in the repository); importing it as plain `core` is refused,
so that no module is ever loaded twice under two names.
"""

if __name__ != "segscope.core":
    raise ImportError(f"import segscope.core, not {__name__} (segscope has one import root)")

__version__ = "0.1.0"
DEFAULT_SEED = 42
LOCAL = "local"  # the engine on this machine (pandas and scikit-learn)
ENGINES = (LOCAL, "spark")  # where the work runs: this machine, or Spark (segscope.core.engines)
