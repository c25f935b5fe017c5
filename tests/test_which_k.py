"""Which k, argued: the gap statistic against a plain implementation of the paper, its rule, the
vote of the indices, and "no segments here" on data that has none (each decision tested where it
is made: the rule on a list of figures, the vote on sweep results; few whole sweeps)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist
from sklearn.cluster import KMeans

from segscope.core.clustering import gap as gap_mod
from segscope.core.clustering.choice import choose_k, gap_doubts, no_segments, one_group
from segscope.core.clustering.gap import GapFigures, GapReferences, rule
from segscope.core.clustering.stability import UNSTABLE
from segscope.core.clustering.sweep import KResult, run_sweep, set_up_sweep
from segscope.core.clustering.vote import dissent, index_votes, stability_k
from segscope.core.describing.profiles import NumericDiff, SegmentProfile
from segscope.core.describing.views import tally, tally_text, vote_view
from segscope.core.describing.words import CONVENIENT_CUT, describe, recommend
from segscope.core.engines.local import prepare_tables, segment, start_sweep
from segscope.core.errors import Cancelled
from segscope.core.outputs.folders import write_outputs
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.sources.reading import read_source

DATA = Path(__file__).resolve().parent / "data"


# --- the gap statistic, as the paper defines it ------------------------------------------------


def paper_w(X: np.ndarray, labels: np.ndarray) -> float:
    """The paper's W_k = sum over clusters r of D_r / (2 n_r), D_r the sum of the squared
    distances between all pairs of points in r (each pair counted twice)."""
    total = 0.0
    for r in np.unique(labels):
        points = X[labels == r].astype(np.float64)
        if len(points) > 1:
            total += 2 * pdist(points, "sqeuclidean").sum() / (2 * len(points))
    return total


def paper_references(X: np.ndarray, seed: int, B: int) -> list[np.ndarray]:
    """The paper's second method: uniform over the box aligned with the principal components.
    Centre X, take X' = X V (V from the SVD, each axis signed so that its largest entry is
    positive), draw each column of Z' uniformly over the range of that column of X', and
    back-transform Z = Z' V^T (plus the mean). The draws: numpy's generator seeded with
    [seed + 7207, b], uniform on [0, 1), rows by columns; kept in float32 as K-Means sees them."""
    mean = X.mean(axis=0)
    centred = X - mean
    V = np.linalg.svd(centred, full_matrices=False)[2].T
    for j in range(V.shape[1]):
        if V[np.argmax(np.abs(V[:, j])), j] < 0:
            V[:, j] = -V[:, j]
    rotated = centred @ V
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    out = []
    for b in range(B):
        u = np.random.default_rng([seed + 7207, b]).random(rotated.shape)
        out.append(((low + u * (high - low)) @ V.T + mean).astype(np.float32))
    return out


def paper_gap(X: np.ndarray, labels_by_k: dict[int, np.ndarray], seed: int, B: int):  # type: ignore[no-untyped-def]
    """Gap(k), s_k and the rule, straight from the paper: the references clustered by K-Means
    (one random start, seed + b)."""
    refs = paper_references(X, seed, B)
    gaps, s = {}, {}
    for k, labels in labels_by_k.items():
        logs = []
        for b, Z in enumerate(refs):
            z_labels = (
                np.zeros(len(Z), int)
                if k == 1
                else KMeans(k, init="random", n_init=1, random_state=seed + b).fit(Z).labels_
            )
            logs.append(math.log(paper_w(Z, z_labels)))
        lbar = sum(logs) / B
        gaps[k] = lbar - math.log(paper_w(X, labels))
        sd = math.sqrt(sum((x - lbar) ** 2 for x in logs) / B)
        s[k] = sd * math.sqrt(1 + 1 / B)
    ks = sorted(gaps)
    chosen = next((k for k in ks[:-1] if gaps[k] >= gaps[k + 1] - s[k + 1]), None)
    return gaps, s, chosen


def blobs(n: int, centres: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return centres[rng.integers(0, len(centres), n)] + rng.normal(size=(n, centres.shape[1]))


def test_the_gap_equals_a_plain_implementation_of_the_paper() -> None:
    """Planted data (three groups in four columns), sampled as a large table's would be: the
    same rows, the same references from the same seed, the same figures and the same rule."""
    X = blobs(900, np.array([[0, 0, 0, 0], [6, 0, 0, 0], [0, 6, 3, 0.0]]), 1).astype(np.float32)
    seed, B = 5, 10
    references = GapReferences(X, seed, rows=600, references=B)
    assert len(references.rows) == 600 and len(set(references.rows)) == 600
    sample = X[references.rows].astype(np.float64)
    labels = {1: np.zeros(len(X), int)}
    labels |= {k: KMeans(k, n_init=10, random_state=0).fit(X).labels_ for k in (2, 3, 4, 5)}
    ours = [references.one] + [
        references.figures(k, labels[k][references.rows]) for k in (2, 3, 4, 5)
    ]
    gaps, s, chosen = paper_gap(sample, {k: v[references.rows] for k, v in labels.items()}, seed, B)
    for f in ours:
        assert f.gap == pytest.approx(gaps[f.k], rel=1e-9, abs=1e-9)
        assert f.s == pytest.approx(s[f.k], rel=1e-9, abs=1e-12)
        assert f.references == B
    assert rule(ours) == chosen == 3


def test_the_rule_on_a_list_of_figures() -> None:
    def figures(*gaps: tuple[float, float]) -> list[GapFigures]:
        return [GapFigures(k, 0.0, g, s / math.sqrt(1.1), 10) for k, (g, s) in enumerate(gaps, 1)]

    # Gap(1) >= Gap(2) - s(2): one group
    assert rule(figures((0.50, 0.01), (0.505, 0.01), (0.40, 0.01))) == 1
    # rising to 3, flat after: 3
    assert rule(figures((0.1, 0.01), (0.4, 0.01), (0.8, 0.01), (0.79, 0.01))) == 3
    # a rise within s(k+1) does not count as a rise
    assert rule(figures((0.1, 0.01), (0.4, 0.01), (0.405, 0.01))) == 2
    # still rising at the last k: no answer in this sweep
    assert rule(figures((0.1, 0.01), (0.4, 0.01), (0.8, 0.01))) is None
    # k must be consecutive: a sweep of 3,5,8 has no k+1 to test
    spaced = [GapFigures(k, 0.0, g, 0.01, 10) for k, g in ((3, 0.5), (5, 0.4), (8, 0.3))]
    assert rule(spaced) is None
    # one group needs the rule's 1 and no gap clearly above Gap(1) anywhere
    shop_like = figures((0.68, 0.01), (0.689, 0.01), (0.83, 0.01), (1.05, 0.01), (1.07, 0.01))
    assert rule(shop_like) == 1 and not one_group(shop_like)
    flat = figures((0.9, 0.01), (0.88, 0.01), (0.9, 0.02), (0.89, 0.01))
    assert rule(flat) == 1 and one_group(flat)


def _result(k: int, sil: float, stab: float, ch: float = 100.0, db: float = 1.0) -> KResult:
    return KResult(k, 1000.0 / k, sil, 100, ch, db, stab, 0.0, [1] * k, np.zeros(1), None)


def test_each_index_votes_by_its_rule() -> None:
    ones = GapFigures(1, 0.0, 0.5, 0.01, 10)
    results = [
        _result(2, 0.30, 0.99, ch=900, db=0.9),
        _result(3, 0.35, 0.97, ch=800, db=1.1),
        _result(4, 0.33, 0.98, ch=700, db=1.2),
        _result(5, 0.20, 0.60, ch=650, db=1.4),
    ]
    for r, g in zip(results, (0.6, 0.9, 0.85, 0.8), strict=True):
        r.gap = GapFigures(r.k, 0.0, g, 0.01, 10)
    votes = {v.index: v for v in index_votes(results, ones, knee=3)}
    assert votes["silhouette"].k == 3 and votes["silhouette"].value == 0.35
    assert votes["Calinski-Harabasz"].k == 2 and votes["Davies-Bouldin"].k == 2
    assert votes["gap statistic"].k == 3 and votes["elbow"].k == 3
    # stability: 0.99 at k=2, and 0.97 and 0.98 within 0.02 of it: the largest of those, 4
    assert votes["stability"].k == 4 and votes["stability"].value == 0.98
    counts = tally(list(votes.values()))
    assert counts == {3: 3, 2: 2, 4: 1}
    assert tally_text(list(votes.values())) == "k=3: 3 votes, k=2: 2 votes, k=4: 1 vote"
    view = vote_view(list(votes.values()))
    assert [row[1] for row in view.rows] == [3, 2, 2, 3, 3, 4]
    assert view.cells()[0][2] == "0.350" and "Votes: k=3: 3 votes" in view.note
    # an index with no answer abstains, saying why
    unstable = [_result(k, 0.1, 0.5) for k in (2, 3)]
    assert stability_k(unstable) is None
    none = {v.index: v for v in index_votes(unstable, None, knee=None)}
    assert none["stability"].k is None and "no k is stable" in none["stability"].rule
    assert none["elbow"].k is None and none["gap statistic"].k is None
    assert none["elbow"].rule.endswith("needs three k or more")
    assert none["gap statistic"].rule.endswith("not measured")
    spaced = [_result(k, 0.3, 0.9) for k in (3, 5)]
    for r in spaced:
        r.gap = GapFigures(r.k, 0.0, 0.5, 0.01, 10)
    gap_alone = index_votes(spaced, GapFigures(1, 0.0, 0.4, 0.01, 10), None)[3]
    assert gap_alone.k is None and gap_alone.rule.endswith("needs consecutive k")
    assert vote_view(list(none.values())).cells()[5][1] == "none"


def test_most_indices_preferring_another_k_is_a_doubt_named_with_their_k() -> None:
    ones = GapFigures(1, 0.0, 0.5, 0.01, 10)
    results = [_result(2, 0.30, 0.99, ch=900, db=0.9), _result(3, 0.31, 0.70, ch=800, db=1.1)]
    for r, g in zip(results, (0.9, 0.7), strict=True):
        r.gap = GapFigures(r.k, 0.0, g, 0.01, 10)
    choice = choose_k(results, one=ones)
    assert choice.k == 3  # silhouette keeps choosing
    said = [w for w in choice.warnings if w.startswith("most indices prefer")]
    assert said == [
        "most indices prefer k=2 to the chosen k=3 (4 of 5: Calinski-Harabasz k=2, "
        "Davies-Bouldin k=2, gap statistic k=2, stability k=2)"
    ]
    assert dissent(choice.votes, 2) == ""


def test_weak_and_unstable_everywhere_is_no_segments() -> None:
    weak = [_result(k, 0.12, 0.55) for k in (2, 3, 4)]
    assert no_segments(weak, None) == "every k is weak and unstable"
    choice = choose_k(weak)
    assert choice.headline.startswith("The data shows no clear segments (every k is weak and")
    assert "partition for convenience, not groups that exist" in choice.headline
    one_stable = [*weak, _result(5, 0.12, 0.95)]
    assert no_segments(one_stable, None) == "" and choose_k(one_stable).headline == ""


def test_a_gap_rule_stopping_at_one_below_a_clear_peak_is_no_verdict() -> None:
    """The paper's rule stops at k=1 when two segments fit no better than one, even with a
    far higher gap at four: that is said, and the data is not called segment-free."""
    results = [_result(k, 0.34 if k == 4 else 0.25, 0.9) for k in (2, 3, 4, 5)]
    for r, g in zip(results, (0.689, 0.83, 1.05, 1.06), strict=True):
        r.gap = GapFigures(r.k, 0.0, g, 0.01, 10)
    one = GapFigures(1, 0.0, 0.68, 0.01, 10)
    choice = choose_k(results, one=one)
    assert choice.headline == ""
    assert [v.k for v in choice.votes if v.index == "gap statistic"] == [1]
    assert any("not read as a table without segments" in w for w in gap_doubts(results, one))


# --- where there are no segments, and where there are four ------------------------------------


@pytest.mark.parametrize("kind", ["uniform", "blob"])
def test_noise_and_a_single_blob_hold_one_group(kind: str) -> None:
    """10,000 rows of 5 features with no groups: the gap rule says 1, and so does the choice's
    first sentence (the rule needs k = 1, 2 and 3 only)."""
    rng = np.random.default_rng(0)
    data = rng.random((10_000, 5)) if kind == "uniform" else rng.normal(size=(10_000, 5))
    prep = prepare_tables({"customers": pd.DataFrame(data, columns=list("abcde"))})
    setup, it = start_sweep(prep, SweepSettings((2, 3), 42))
    results = list(it)
    figures = [setup.one, *(r.gap for r in results)]
    assert rule(figures) == 1 and one_group(figures)
    choice = choose_k(results, one=setup.one)
    assert "the gap statistic prefers one group" in choice.no_segments
    assert choice.headline.startswith("The data shows no clear segments")
    assert next(v for v in choice.votes if v.index == "gap statistic").k == 1
    assert any(w.startswith("the gap statistic prefers one group") for w in choice.warnings)


def test_the_planted_sample_says_four(shop_xlsx: Path) -> None:
    """The sample workbook (four planted segments), every k of the default sweep: the gap rule
    and the vote say 4, and nothing says there are no segments."""
    prep = prepare_tables(read_source(shop_xlsx))
    setup, it = start_sweep(prep, SweepSettings(tuple(range(2, 11)), 42))
    results = list(it)
    assert rule([setup.one, *(r.gap for r in results)]) == 4
    choice = choose_k(results, one=setup.one)
    assert choice.k == 4 and choice.no_segments == "" and choice.headline == ""
    counts = tally(choice.votes)
    assert next(iter(counts)) == 4 and counts[4] >= 5
    assert not [w for w in choice.warnings if "no clear segments" in w or "one group" in w]
    assert not [w for w in choice.warnings if w.startswith("most indices")]


def test_a_table_without_segments_says_so_everywhere(tmp_path: Path) -> None:
    """One Gaussian blob with a behaviour column: the first sentence of the report, the summary
    and the workbook; the words speak of slices of a continuum; the partition is kept."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(1_500, 3)), columns=["spend", "visits", "age"])
    frame["spend"] = 200 + 60 * frame["spend"]
    prep = prepare_tables({"customers": frame})
    settings = SweepSettings((2, 3, 4), 42)
    setup, it = start_sweep(prep, settings)
    seg = segment(prep, setup, list(it), settings)
    assert seg.choice.headline and len(seg.profiles) == seg.choice.k  # the partition is kept
    for p in seg.profiles:
        assert p.description.startswith(("Slice with", "A slice"))
        assert p.recommendation.endswith(CONVENIENT_CUT)
    out = tmp_path / "out"
    write_outputs(seg, out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["no_clear_segments"] == seg.choice.headline
    assert list(summary)[0] == "no_clear_segments"
    assert [row["k"] for row in summary["sweep"]] == [1, 2, 3, 4]
    assert summary["sweep"][0]["gap"] is not None and summary["sweep"][0]["silhouette"] is None
    assert len(summary["vote"]) == 6 and summary["votes_per_k"]
    report = (out / "report.md").read_text().splitlines()
    assert report[2] == f"**{seg.choice.headline}**"
    assert "## Which k each index prefers" in report
    sweep = pd.read_csv(out / "sweep.csv")
    assert list(sweep["k"]) == [1, 2, 3, 4] and {"gap", "gap_s"} <= set(sweep.columns)
    sheets = pd.read_excel(out / "segments.xlsx", sheet_name=None)
    assert {"Which k", "Sweep"} <= set(sheets)
    assert list(sheets["Sweep"]["k"]) == [1, 2, 3, 4] and "gap" in sheets["Sweep"]
    warnings = sheets["Warnings"]
    assert warnings.iloc[0].tolist() == ["no clear segments", seg.choice.headline]


def test_words_of_a_continuum_name_slices_not_kinds() -> None:
    p = SegmentProfile(
        1,
        500,
        0.25,
        numeric=[
            NumericDiff("days_since_last", "days since last", 400.0, 390.0, 200.0, 1.1),
            NumericDiff("spend", "spend", 90.0, 80.0, 200.0, -0.9),
        ],
    )
    meanings = {"recency": "days_since_last", "monetary": "spend"}
    kind = describe(p, meanings)
    slice_ = describe(p, meanings, continuum=True)
    assert kind.startswith("Lapsed")
    assert slice_.startswith("Slice with less recently active and lower spend, of a continuum")
    assert "lapsed" not in slice_.lower()
    action, text = recommend(p, meanings, continuum=True)
    assert action == recommend(p, meanings)[0] == "win-back"
    assert text.endswith("This rests on a convenient cut of a continuum, not a distinct group: "
                         "customers just across its edge differ little, so expect them to respond "
                         "alike.")  # fmt: skip


# --- streamed, cancellable, the same on any number of threads ----------------------------------


def test_the_gap_is_streamed_deterministic_and_cancellable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X = blobs(3_000, np.array([[0, 0, 0], [5, 5, 0], [0, 5, 5.0]]), 2).astype(np.float32)
    setup = set_up_sweep(X, [2, 3, 4], 9)
    assert any("gap statistic measured on a random sample of 750 rows" in n for n in setup.notes())
    first = [r.gap for r in run_sweep(X, setup)]
    assert all(isinstance(g, GapFigures) for g in first)
    from segscope.core import threads

    monkeypatch.setattr(threads, "_cap", 1)
    again = [r.gap for r in run_sweep(X, set_up_sweep(X, [2, 3, 4], 9))]
    assert again == first  # the same figures, on one thread as on the pool
    calls = iter(range(100))
    with pytest.raises(Cancelled):
        setup.gap.figures(3, np.zeros(750, int), should_stop=lambda: next(calls) >= 4)
    assert gap_mod.REFERENCES == 10 and gap_mod.GAP_ROWS == 750


def test_real_tables_show_the_vote() -> None:
    """Three real public tables: every index votes or says why not; the credit data, weak and
    unstable at every k, is said to show no clear segments."""
    for name in ("credit_data.csv.gz", "churn.csv.gz", "flights.csv.gz"):
        prep = prepare_tables(read_source(DATA / name), DataChoices())
        setup, it = start_sweep(prep, SweepSettings(tuple(range(2, 11)), 42))
        results = list(it)
        choice = choose_k(results, one=setup.one)
        view = vote_view(choice.votes)
        assert [row[0] for row in view.rows] == [
            "silhouette", "Calinski-Harabasz", "Davies-Bouldin", "gap statistic", "elbow",
            "stability",
        ]  # fmt: skip
        assert all(v.k is not None or "; " in v.rule for v in choice.votes)
        if name == "credit_data.csv.gz":
            assert "every k is weak and unstable" in choice.no_segments
            assert max(r.stability for r in results) < UNSTABLE


@pytest.mark.filterwarnings("error")
def test_segments_that_fit_the_sample_exactly_leave_the_gap_undefined() -> None:
    """Nearly every row the same: the sampled rows fall into k exact groups, log W_k would be
    minus infinity; the gap is left undefined (no figure of 700), and its vote says why."""
    X = np.zeros((10_000, 4), dtype=np.float32)
    X[:8] = np.arange(32).reshape(8, 4)
    setup = set_up_sweep(X, [2, 3], 0)
    results = list(run_sweep(X, setup))
    assert all(math.isnan(r.gap.gap) for r in results if r.gap is not None)
    vote = next(v for v in choose_k(results, one=setup.one).votes if v.index == "gap statistic")
    assert vote.k is None and vote.rule.endswith("fit the sampled rows exactly")
