"""Models: the saved segmentation, and using it on new customers.

`model` saves and loads a `SegmentModel` (skops and JSON, no pickle); `scoring` labels new customers
and reports drift; `numbering` keeps an earlier model's segment numbers; `movement` reads an earlier
run's labels and says who moved since.

Imports only the foundation and the stages before it (up to describing).
"""
