"""Engines: the one door the app and the command use, and where the work runs.

`interface` holds the `Engine` protocol, `engine_for` and `analyse` (read, prepare, sweep and
segment in one call); `results` the values the flow hands on (`Prepared`, `Segmentation`,
`LabelsOut`); `local` the engine on this machine (pandas and scikit-learn); `steps` the post-fit
steps every engine shares; `spark` the Spark engine (an optional extra).

Imports only the foundation and the stages before it (up to models).
"""
