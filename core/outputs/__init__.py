"""Outputs: what a run hands over.

`folders` writes the output folders of `sweep` and `score` (atomically, through
segscope.core.files); `summary` the JSON summaries; `markdown` report.md; `workbook`
segments.xlsx; `per_customer` features.csv and rules.sql; `labels_table` the labels into a
database table.

The last stage: imports anything in core, nothing imports it but the UIs.
"""
