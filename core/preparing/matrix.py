"""The transformed matrix of a long table, held as its parts rather than written out.

A category's one-hot columns take one of a few rows of values (one per category, scaled by its
weight), so a long table keeps, per category, one small code per row into a table of those rows,
and writes out only the numbers' columns: ten million customers with a 50-value city take 230 MB
instead of 1.4 GB. Any rows asked for (`X[rows]`) come back written out, the same values as the
whole matrix holds; the passes over every row (core.clustering.centres) find nearest centres and
sum segments through the codes: the squared distance over a category's columns is its row of the
table's squared norm, less twice that row's product with the centre, plus the centre's part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Coded:
    """One category's columns, start:stop of the matrix: `table` holds their distinct rows,
    `codes` each row's (a position in the table)."""

    start: int
    stop: int
    table: np.ndarray  # float32, (values + 1, stop - start)
    codes: np.ndarray  # the smallest unsigned integers that hold the table's rows

    @classmethod
    def of(cls, start: int, table: np.ndarray, codes: np.ndarray) -> Coded:
        """From a table of each distinct value's columns and pandas' codes into it (-1: missing,
        the table's last row). Values with the same columns (the rare ones grouped, or unseen
        by the fit) share one row, so the table has at most a row per column and one more,
        however many distinct values the column holds."""
        rows, inverse = np.unique(table, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        kind = np.min_scalar_type(len(rows) - 1)
        held = inverse[np.where(codes < 0, len(table) - 1, codes)].astype(kind)
        return cls(start, start + table.shape[1], rows, held)


@dataclass(frozen=True)
class CodedMatrix:
    """A float32 matrix of `width` columns: `numbers` hold the columns `number_columns` (in
    order), each Coded part the columns of one category."""

    numbers: np.ndarray  # float32, (rows, len(number_columns))
    number_columns: np.ndarray  # their positions in the matrix
    categories: tuple[Coded, ...]
    width: int

    dtype = np.dtype(np.float32)
    ndim = 2

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.numbers), self.width)

    @property
    def nbytes(self) -> int:
        return self.numbers.nbytes + sum(c.codes.nbytes + c.table.nbytes for c in self.categories)

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, rows: Any) -> np.ndarray:
        """Rows (a slice, positions or a mask) written out: the matrix's own values."""
        if isinstance(rows, tuple | int | np.integer):
            raise TypeError(
                "a CodedMatrix gives whole rows: index it by a slice, positions or a mask"
            )
        numbers = self.numbers[rows]
        out = np.empty((len(numbers), self.width), dtype=np.float32)
        out[:, self.number_columns] = numbers
        for c in self.categories:
            out[:, c.start : c.stop] = np.take(c.table, c.codes[rows], axis=0)
        return out

    def __array__(self, *_: Any, **__: Any) -> np.ndarray:
        raise TypeError("a CodedMatrix is not written out whole: ask for the rows needed (X[rows])")

    def row_squares(self, rows: slice) -> np.ndarray:
        """The rows' squared norms (float64)."""
        numbers = self.numbers[rows]
        out = np.einsum("ij,ij->i", numbers, numbers, dtype=np.float64)
        for c in self.categories:
            out += np.take(np.einsum("ij,ij->i", c.table, c.table, dtype=np.float64), c.codes[rows])
        return out

    def nearest(
        self, rows: slice, centres: np.ndarray, squares: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows' nearest centres and squared distances (float64, given the rows' `squares`),
        a category's part looked up per value: the written-out rows' labels, but for a row within
        float32 rounding of two centres (the sums are taken in another order)."""
        c = centres.astype(np.float32)
        d2 = (-2.0 * c[:, self.number_columns]) @ self.numbers[rows].T
        for part in self.categories:
            d2 += np.take(
                (-2.0 * c[:, part.start : part.stop]) @ part.table.T, part.codes[rows], axis=1
            )
        d2 += np.einsum("ij,ij->i", c, c)[:, None]
        labels, best = closest(d2)
        best = best + squares
        return labels, np.maximum(best, 0.0, out=best)

    def sums(self, rows: slice, labels: np.ndarray, k: int) -> np.ndarray:
        """Each of the k segments' sum of its rows (float64, k x width), `labels` the rows'."""
        out = np.zeros((k, self.width))
        out[:, self.number_columns] = segment_sums(self.numbers[rows], labels, k)
        for c in self.categories:
            values = len(c.table)
            pairs = labels.astype(np.int64) * values + c.codes[rows]
            counts = np.bincount(pairs, minlength=k * values).reshape(k, values)
            out[:, c.start : c.stop] = counts @ c.table.astype(np.float64)
        return out


def closest(d2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest centre and its distance, from `d2` (centres x rows, no NaN: the matrix
    is finite): the first of equals, as `argmin(axis=0)` gives, in one pass per centre over
    contiguous rows (a call per row, as numpy's argmin makes for a few centres, takes longer).
    A centre closer than all before it has a higher number than any of them, so a row's label
    is the larger of its label so far and the centre's number where it is closer: arithmetic,
    without the branch per row a masked assignment takes (twice as fast on random rows)."""
    best = d2[0].copy()
    labels = np.zeros(d2.shape[1], dtype=np.intp)
    closer = np.empty(d2.shape[1], dtype=bool)
    step = np.empty(d2.shape[1], dtype=np.intp)
    for centre in range(1, len(d2)):
        np.less(d2[centre], best, out=closer)
        np.minimum(best, d2[centre], out=best)
        np.multiply(closer, centre, out=step)
        np.maximum(labels, step, out=labels)
    return labels, best


def segment_sums(rows: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Each of the k segments' sum of `rows` (float64, k x columns), `labels` the rows'."""
    onehot = sparse.csr_array(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
    )
    return np.asarray(onehot @ rows.astype(np.float64))


Matrix = np.ndarray | CodedMatrix  # the transformed matrix, held whole or as its parts
