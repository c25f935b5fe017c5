"""Features: one row per customer, built from the source's tables by a plan decided once.

`tables` guesses which table holds the customers and which the log, and the key; `dates`
recognises dates however they are held; `names` holds every hint taken from a column's name (the
values decide, names only hint); `measures` decides what each log column gives per customer;
`values` reads what a column's values are (labels, flags, counts, identifiers); `plan` makes the
`FeaturePlan` (tables, key, lookups to join, measures) from a peek at the tables; `meanings` and
`decisions` turn it into titles, behaviour meanings and the sentences the user reads; `findings`
holds what carrying it out found. Executors carry the plan out: `pandas_executor` on a file's
tables, `sql_executor` in a database (Spark's is in engines.spark), sharing `executing`'s steps;
`executors.source_frame` picks one; the pandas and SQL executors end in `executing.combined`,
Spark's in `frame.described`; each makes the `CustomerFrame`.

Imports only the foundation and sources.
"""
