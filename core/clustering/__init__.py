"""Clustering: the k-sweep, how far to trust each k, the choice of k and the final fit.

`centres` assigns rows to centres and refines them in fixed blocks; `sweep` fits and scores every
k; `stability` refits on bootstrap resamples; `gap` measures the gap statistic against reference
sets; `vote` says which k each index prefers; `choice` picks k and says why to doubt it; `final`
fits the chosen k on every row and numbers segments by size; `crosstab` compares two k.

Imports only the foundation and the stages before it (sources, features, preparing).
"""
