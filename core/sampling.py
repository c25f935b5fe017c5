"""Random samples of a table's rows: the same rows for the same seed, drawn without shuffling
every row of a large table."""

from __future__ import annotations

import numpy as np


def row_sample(n: int, size: int, seed: int) -> np.ndarray:
    """`size` of `n` row positions drawn at random, in order (every row when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))
