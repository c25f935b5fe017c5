"""Describing: what the segments are, in figures, words, tables and charts.

`profiles` computes each segment's figures against the whole base; `words` says what sets a
segment apart and suggests an action, each sentence resting on a feature and an effect size;
`relevance` scores how much each feature separates the segments; `rules` finds a short rule per
segment in the features' own units (and its SQL); `rfm` scores recency, frequency and monetary
value in quintiles and names the cells; `views` turns figures into the
tables every screen and file shows (the one place figures become text); `charts` draws the elbow
and silhouette.

Imports only the foundation and the stages before it (up to clustering).
"""
