"""The sweep: metrics on the transformed matrix, planted recovery, clamping, sampling, choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from segscope.core.clustering import sweep as sweep_mod
from segscope.core.clustering.choice import choose_k
from segscope.core.clustering.sweep import run_sweep, set_up_sweep
from segscope.core.engines.local import prepare_tables, segment, start_sweep
from segscope.core.errors import Cancelled, DataError, UsageError
from segscope.core.roles import Role
from segscope.core.settings import DataChoices, SweepSettings, parse_ks


def _tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"customers": df}


def test_silhouette_is_on_the_transformed_matrix(planted: pd.DataFrame) -> None:
    prep = prepare_tables(_tables(planted), DataChoices(roles={"planted": Role.IGNORED}))
    setup, results = start_sweep(prep, SweepSettings((3, 4), 0))
    for r in results:
        assert r.silhouette == pytest.approx(silhouette_score(prep.X, r.labels), abs=1e-6)
        raw = planted[["age", "annual_income"]].to_numpy()
        assert abs(r.silhouette - silhouette_score(raw, r.labels)) > 1e-3
    # gender and city were one-hot encoded, never scaled as numbers
    names = prep.columns
    assert "city_id_1" in names and "city_id" not in names


def test_planted_segments_are_recovered(planted: pd.DataFrame) -> None:
    informative = [
        "age",
        "annual_income",
        "spending_score",
        "visits_per_month",
        "days_since_last_visit",
    ]
    prep = prepare_tables(_tables(planted), DataChoices(only_features=informative))
    setup, it = start_sweep(prep, SweepSettings(tuple(range(2, 9)), 42))
    seg = segment(prep, setup, list(it))
    assert seg.choice.k == 4
    assert adjusted_rand_score(planted["planted"], seg.labels) >= 0.99
    sizes = [p.size for p in seg.profiles]
    assert sizes == sorted(sizes, reverse=True)  # segments numbered by size


def test_same_seed_same_labels(planted: pd.DataFrame) -> None:
    runs = []
    for _ in range(2):
        prep = prepare_tables(_tables(planted), DataChoices(roles={"planted": Role.IGNORED}))
        setup, it = start_sweep(prep, SweepSettings((2, 3, 4, 5), 7))
        runs.append(segment(prep, setup, list(it)).labels)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_k_range_clamped_to_distinct_rows() -> None:
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], dtype=np.float32), 10, axis=0)
    setup = set_up_sweep(X, range(2, 11), seed=0)
    assert setup.ks == [2, 3]
    assert "only 3 distinct rows" in setup.warnings[0]


def test_too_few_rows_and_identical_rows() -> None:
    with pytest.raises(DataError, match="only 2 row"):
        set_up_sweep(np.zeros((2, 3), dtype=np.float32), [2], 0)
    with pytest.raises(DataError, match="same feature values"):
        set_up_sweep(np.ones((20, 3), dtype=np.float32), [2], 0)


def test_sampled_path_agrees_with_exact(
    monkeypatch: pytest.MonkeyPatch, planted: pd.DataFrame
) -> None:
    prep = prepare_tables(_tables(planted), DataChoices(roles={"planted": Role.IGNORED}))
    exact = list(run_sweep(prep.X, set_up_sweep(prep.X, [3, 4, 5], 0)))
    monkeypatch.setattr(sweep_mod, "KMEANS_ROWS", 600)
    monkeypatch.setattr(sweep_mod, "SILHOUETTE_LIMIT", 500)
    setup = set_up_sweep(prep.X, [3, 4, 5], 0)
    assert (setup.fit_rows, setup.silhouette_rows) == (600, 500)
    assert any("sample of 600" in n for n in setup.notes())
    sampled = list(run_sweep(prep.X, setup))
    for e, s in zip(exact, sampled, strict=True):
        assert s.silhouette_sample_size == 500
        assert s.inertia <= e.inertia * 1.02
        assert s.silhouette == pytest.approx(e.silhouette, abs=0.03)
    assert choose_k(sampled).k == choose_k(exact).k


def test_cancel_between_steps(planted: pd.DataFrame) -> None:
    prep = prepare_tables(_tables(planted), DataChoices(roles={"planted": Role.IGNORED}))
    done: list[int] = []
    setup = set_up_sweep(prep.X, [2, 3, 4, 5], 0)
    with pytest.raises(Cancelled):
        for r in run_sweep(prep.X, setup, should_stop=lambda: len(done) >= 2):
            done.append(r.k)
    assert done == [2, 3]


def test_choose_k_override_and_warnings(planted: pd.DataFrame) -> None:
    prep = prepare_tables(_tables(planted), DataChoices(roles={"planted": Role.IGNORED}))
    setup, it = start_sweep(prep, SweepSettings((2, 3, 4, 5, 6), 0))
    results = list(it)
    best = max(results, key=lambda r: r.silhouette)
    assert choose_k(results).k == best.k
    forced = choose_k(results, override=6)
    assert forced.k == 6 and "chosen by you" in forced.reason
    with pytest.raises(DataError, match="k=9 was not in the sweep"):
        choose_k(results, override=9)


def test_parse_ks() -> None:
    assert parse_ks("2-5") == (2, 3, 4, 5)
    assert parse_ks("5") == (5,)
    assert parse_ks("8,3,5") == (3, 5, 8)
    for bad in ("1-4", "a-b", "", "5-3", "2-51", "2-1000000000"):
        with pytest.raises(UsageError):
            parse_ks(bad)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_silhouette_from_distances_equals_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    X[:5] = X[0]  # duplicate rows: zero distances off the diagonal
    D = sweep_mod.pairwise_euclidean(X)
    for k in (2, 3, 7):
        labels = rng.integers(0, k, len(X))
        labels[-1] = k  # a singleton segment scores 0, as in scikit-learn
        expected = silhouette_score(X.astype(np.float64), labels)
        # float32 distances: the mean within 1e-6 of scikit-learn's float64 (shown to 3 places)
        assert sweep_mod.silhouette_from_distances(D, labels) == pytest.approx(expected, abs=1e-6)
    assert np.isnan(sweep_mod.silhouette_from_distances(D, np.zeros(len(X), dtype=int)))


def test_the_chosen_ks_row_shows_the_final_fit(
    monkeypatch: pytest.MonkeyPatch, planted: pd.DataFrame
) -> None:
    """Above KMEANS_ROWS the sweep fits on a sample; the chosen k is then refined on every row,
    and its row in the sweep (sweep.csv) shows that final fit: the labels written."""
    monkeypatch.setattr(sweep_mod, "KMEANS_ROWS", 600)
    prep = prepare_tables(_tables(planted), DataChoices(roles={"planted": Role.IGNORED}))
    setup, it = start_sweep(prep, SweepSettings((3, 4, 5), 0))
    swept = list(it)
    seg = segment(prep, setup, swept)
    row = next(r for r in seg.results if r.k == seg.choice.k)
    km = seg.model.pipeline.named_steps["kmeans"]
    assert row.inertia == pytest.approx(float(km.inertia_))
    assert sorted(row.sizes, reverse=True) == [p.size for p in seg.profiles]
    assert row.silhouette == pytest.approx(silhouette_score(prep.X, seg.labels), abs=1e-6)
    assert seg.setup.refined == seg.choice.k
    assert any(f"row of k={seg.choice.k} shows the final fit" in n for n in seg.setup.notes())


def test_a_near_tie_within_the_silhouettes_noise_is_named() -> None:
    from segscope.core.clustering.choice import near_tie
    from segscope.core.clustering.sweep import KResult

    rng = np.random.default_rng(0)
    base = rng.normal(0.11, 0.2, 5000)

    def result(k: int, values: np.ndarray) -> KResult:
        return KResult(k, 1.0, float(values.mean()), len(values), 1.0, 1.0, 1.0, 0.0, [1],
                       np.zeros(1), None, silhouettes=values.astype(np.float32))  # fmt: skip

    close = [result(4, base), result(5, base - 0.0004 + rng.normal(0, 0.05, 5000))]
    said = near_tie(close, close[0])
    assert "k=4 and k=5 are a near tie" in said
    apart = [result(4, base), result(5, base - 0.05 + rng.normal(0, 0.05, 5000))]
    assert near_tie(apart, apart[0]) == ""
