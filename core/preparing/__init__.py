"""Preparing: each column's role, and the matrix K-Means sees.

`schema` infers a role (key, number, category, dates, left out) and its reason from the values;
`redundancy` finds numbers that repeat others; `choosing` applies the user's choices and leaves
repeats out; `preprocess` builds and fits the scikit-learn ColumnTransformer and transforms.

Imports only the foundation, sources and features.
"""
