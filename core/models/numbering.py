"""Numbering a new run's segments like an earlier model's, so that segment 3 stays segment 3, and
how well the two agree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segscope.core.errors import DataError
from segscope.core.models.model import SegmentModel
from segscope.core.preparing.preprocess import transform, typed_features


@dataclass(frozen=True)
class Matched:
    """One segment of this run and the earlier model's segment whose number it took."""

    segment: int  # its number (1..k)
    earlier: bool  # the earlier model had a segment of that number (else: a new one)
    distance: float  # between the two centres, in the earlier model's space
    same: float  # share of its customers the earlier model puts in the segment of that number
    mostly: int = 0  # the earlier segment most of its customers are in (1..earlier k)


@dataclass(frozen=True)
class LikeReport:
    """How a run's segments were numbered like an earlier model's, and how well they match."""

    model: str  # where the earlier model was read from
    earlier_k: int
    matches: tuple[Matched, ...]
    agreement: float  # share of all customers both number alike
    fingerprint: str = ""  # the earlier model's (SegmentModel.fingerprint)

    def lines(self) -> list[str]:
        """The matching in sentences."""
        out = [
            f"segments numbered like {self.model} (k={self.earlier_k}) by who is in which "
            f"segment: {self.agreement:.0%} of customers get the number the earlier model "
            "gives them"
        ]
        for m in self.matches:
            if m.earlier:
                out.append(
                    f"segment {m.segment}: centre {m.distance:.2f} from the earlier segment "
                    f"{m.segment}; {m.same:.0%} of its customers were in it"
                )
            else:
                out.append(f"segment {m.segment}: new (the earlier model had {self.earlier_k})")
        return out

    @property
    def warnings(self) -> list[str]:
        """Kept numbers whose customers were mostly in another earlier segment."""
        return [
            f"segment {m.segment} keeps its number, but only {m.same:.0%} of its customers were "
            f"in the earlier segment {m.segment} (most were in {m.mostly}): the number may not "
            "mean the same customers as before"
            for m in self.matches
            if m.earlier and m.same < KEPT
        ]


def earlier_space(
    data: pd.DataFrame, reference_date: pd.Timestamp | None, old: SegmentModel
) -> np.ndarray:
    """The customers in the earlier model's feature space."""
    try:
        features = typed_features(data, old.schema, reference_date)
    except DataError as exc:
        raise DataError(f"cannot match to the earlier model: {exc}") from exc
    return transform(old.pipeline.named_steps["preprocess"], features)


def _centres(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    sizes = np.bincount(labels, minlength=k)
    return np.vstack(
        [X[labels == c].mean(axis=0) if sizes[c] else np.full(X.shape[1], np.inf) for c in range(k)]
    )


def match_to_model(X: np.ndarray, labels: np.ndarray, k: int, old: SegmentModel) -> np.ndarray:
    """order[i] = the new cluster that takes number i, matching who is in which segment.

    The earlier model assigns these customers (`X`, in its space) to its own segments; each new
    segment (`labels`, 0-based) takes the number of the earlier segment it shares the most
    customers with, all pairs decided at once (Hungarian assignment; the nearer centre breaks a
    tie). New segments beyond the earlier k follow, by size.
    """
    km = old.pipeline.named_steps["kmeans"]
    before = km.predict(X.astype(km.cluster_centers_.dtype, copy=False))
    old_k = len(km.cluster_centers_)
    shared = np.zeros((k, old_k))
    np.add.at(shared, (labels, before), 1)
    diff = _centres(X, labels, k)[:, None, :].astype(np.float64) - km.cluster_centers_[None, :, :]
    distance = np.nan_to_num(np.sqrt((diff**2).sum(axis=2)), posinf=1e12)
    cost = -shared + distance / (1.0 + distance.max())  # overlap first; a tie: the nearer centre
    new_idx, old_idx = linear_sum_assignment(cost)
    order = np.full(max(k, old_k), -1)
    order[old_idx] = new_idx
    sizes = np.bincount(labels, minlength=k)
    rest = [c for c in np.argsort(-sizes, kind="stable") if c not in set(new_idx)]
    slots = [i for i in range(len(order)) if order[i] == -1]
    order[slots[: len(rest)]] = rest
    return order[order >= 0]


KEPT = 0.5  # a kept number whose customers were less often in the earlier segment: a warning


def like_report(
    X: np.ndarray, labels: np.ndarray, k: int, old: SegmentModel, path: str
) -> LikeReport:
    """How well the numbered segments (`labels`, 0-based) match the earlier model's."""
    km = old.pipeline.named_steps["kmeans"]
    before = km.predict(X.astype(km.cluster_centers_.dtype, copy=False))
    centres = _centres(X, labels, k)
    matches = []
    for c in range(k):
        members = labels == c
        earlier = c < len(km.cluster_centers_)
        distance = float(np.linalg.norm(centres[c] - km.cluster_centers_[c])) if earlier else 0.0
        same = float(np.mean(before[members] == c)) if members.any() else 0.0
        mostly = int(np.bincount(before[members]).argmax()) + 1 if members.any() else 0
        matches.append(Matched(c + 1, earlier, distance, same, mostly))
    return LikeReport(
        path,
        len(km.cluster_centers_),
        tuple(matches),
        float(np.mean(before == labels)),
        old.fingerprint,
    )
