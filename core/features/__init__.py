"""Features: one row per customer, built from the source's tables by a plan decided once.

`tables` guesses which table holds the customers and which the log, and the key; `dates`
recognises dates however they are held; `names` holds every hint taken from a column's name (the
values decide, names only hint); `measures` decides what each log column gives per customer;
`plan` makes the `FeaturePlan` (tables, key, lookups to join, measures) from a peek at the tables;
`meanings` and `decisions` turn it into titles, behaviour meanings and the sentences the user
reads. Executors carry the plan out: `pandas_executor` on a file's tables, `sql_executor` in a
database (Spark's is in engines.spark); `executors.source_frame` picks one; every executor ends in
`frame.combined`, which makes the `CustomerFrame`.

Imports only the foundation and sources.
"""
