"""Speed without changing answers: the thread pool, the refinement over every row, and where the
time goes. No timing is asserted here (`make bench` measures speed); these check that the fast
paths give the same results as the plain ones and say what they did."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.metrics import adjusted_rand_score

from sample_data.generate import planted_customers
from segscope.core import threads
from segscope.core.clustering import seeding, sweep
from segscope.core.clustering.centres import assign, refine
from segscope.core.clustering.final import refined
from segscope.core.describing import profiles
from segscope.core.engines.interface import analyse
from segscope.core.engines.local import prepare_tables
from segscope.core.engines.results import Labelled, Prepared
from segscope.core.preparing import preprocess
from segscope.core.preparing.matrix import CodedMatrix, closest
from segscope.core.preparing.preprocess import TRANSFORM_ROWS, coded_transform, transform
from segscope.core.roles import Role
from segscope.core.settings import DataChoices, SweepSettings
from segscope.core.sources.reading import read_source
from segscope.core.timings import STAGES
from segscope.tui.app import SegscopeApp
from segscope.tui.messages import StageStarted

from .hostile.cli import ROOT, segscope
from .tui_helpers import wait_until

DATA = Path(__file__).parent / "data"


@pytest.fixture
def cap() -> Iterator[None]:
    yield
    threads.set_thread_cap(None)


def _labels(
    path: Path, cap: int, choices: DataChoices | None = None, k: int | None = None
) -> np.ndarray:
    threads.set_thread_cap(cap)
    seg = analyse(path, choices, SweepSettings(ks=(2, 3, 4, 5), k=k))
    assert seg.timings.threads <= cap
    return seg.labels


def test_labels_do_not_depend_on_the_thread_count(cap: None) -> None:
    real = DATA / "credit_data.csv.gz"  # real credit data: 4,454 customers
    assert np.array_equal(_labels(real, 1), _labels(real, 2))


def test_a_sampled_sweep_refined_over_every_row_is_the_same_on_any_threads(
    cap: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep, "KMEANS_ROWS", 3_000)  # fit on a sample, then refine on all
    table = planted_customers(n=12_000, k=4, seed=5)
    path = tmp_path / "planted.csv"
    table.to_csv(path, index=False)
    choices = DataChoices(roles={"planted": Role.IGNORED})
    one, two = _labels(path, 1, choices, k=4), _labels(path, 2, choices, k=4)
    assert np.array_equal(one, two)
    assert adjusted_rand_score(table["planted"], one) > 0.9  # the planted segments, found


def test_the_final_fits_silhouette_is_that_of_its_own_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refined over every row, the chosen k keeps the sweep's silhouette only where the final fit
    makes the same groups of the silhouette's rows; otherwise it is measured again: either way
    it is the silhouette of the labels written."""
    monkeypatch.setattr(sweep, "KMEANS_ROWS", 3_000)  # fit on a sample, then refine on all
    path = tmp_path / "planted.csv"
    planted_customers(n=12_000, k=4, seed=5).to_csv(path, index=False)
    seg = analyse(path, DataChoices(roles={"planted": Role.IGNORED}), SweepSettings(ks=(3, 4)))
    X, final = seg.prepared.X, next(r for r in seg.results if r.k == seg.choice.k)
    _, rows = sweep.sample_rows(seg.setup)
    distances = sweep.pairwise_euclidean(X[rows])
    assert final.silhouette == float(sweep.silhouette_values(distances, final.labels[rows]).mean())
    renumbered = (final.labels + 1) % seg.choice.k  # the same groups: the sweep's figure kept
    kept = replace(final, labels=renumbered, silhouette=-1.0)
    assert refined(X, seg.setup, [kept], final.model)[1][0].silhouette == -1.0
    other = next(r for r in seg.results if r.k != seg.choice.k).labels  # other groups: measured
    moved = replace(final, labels=other, silhouette=-1.0)
    assert refined(X, seg.setup, [moved], final.model)[1][0].silhouette == final.silhouette


def test_refining_reaches_what_scikit_learn_reaches_from_the_same_start() -> None:
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 3, size=(5, 6))
    X = (centres[rng.integers(0, 5, 200_000)] + rng.normal(0, 1, (200_000, 6))).astype(np.float32)
    start = X[rng.choice(len(X), 5, replace=False)].astype(np.float64)
    ours = refine(X, start, seed=0, threads=2)
    theirs = KMeans(5, init=start, n_init=1, random_state=0).fit(X)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-3)
    assert adjusted_rand_score(theirs.labels_, ours.labels_) > 0.99
    assert np.array_equal(ours.predict(X[:1000]), ours.labels_[:1000])  # a usable model
    again = assign(X, ours.cluster_centers_, threads=1)
    assert np.array_equal(again.labels, ours.labels_)
    assert again.inertia == pytest.approx(ours.inertia_, rel=1e-6)


def test_thread_count_follows_the_cap_the_work_and_the_free_cores(
    cap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "free_cores", lambda: 4.0)  # a quiet machine
    assert threads.thread_count(9) == 4  # every core
    assert threads.thread_count(3) == 3  # no more threads than pieces of work
    threads.set_thread_cap(2)
    assert threads.thread_count(9) == 2  # --threads / SEGSCOPE_THREADS
    threads.set_thread_cap(None)
    monkeypatch.setattr(threads, "free_cores", lambda: 1.2)  # other processes hold ~3 cores
    assert threads.thread_count(9) == 1
    monkeypatch.setattr(threads, "free_cores", lambda: 0.0)  # every core busy: still one
    assert threads.thread_count(9) == 1


def test_a_thread_cap_that_cannot_work_is_a_usage_error(shop_xlsx: Path) -> None:
    ran = segscope("sweep", shop_xlsx, "--threads", "0")
    assert ran.code == 2 and "--threads" in ran.err
    ran = segscope("sweep", shop_xlsx, env={"SEGSCOPE_THREADS": "many"})
    assert ran.code == 2 and "SEGSCOPE_THREADS" in ran.err and "Traceback" not in ran.err


def test_summary_says_where_the_time_went(shop_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = segscope("sweep", shop_xlsx, "--out", out, "--threads", "1", "--k", "3-5")
    assert ran.code == 0, ran.err
    timings = json.loads((out / "summary.json").read_text())["timings"]
    assert list(timings["seconds"]) == list(STAGES)  # every stage, in order
    assert all(s >= 0 for s in timings["seconds"].values())
    assert timings["total"] == pytest.approx(sum(timings["seconds"].values()), abs=0.01)
    assert timings["threads"] == 1
    assert "Done in" in ran.err and "on 1 core " in ran.err


async def test_the_app_says_each_stage_as_it_runs(shop_xlsx: Path) -> None:
    said: list[str] = []

    class Listening(SegscopeApp):
        def on_stage_started(self, msg: StageStarted) -> None:  # the app's own handler runs too
            said.append(msg.name)

    app = Listening(shop_xlsx)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session.prepared is not None)
        await pilot.press("2", "r")
        await wait_until(pilot, lambda: app.session.segmentation is not None)
    assert said[:3] == ["load", "features", "preprocess"]
    assert {"final fit", "stability", "relevance"} <= set(said)


def _long_credit() -> tuple[Prepared, pd.DataFrame]:
    """The real credit table's preparation, weighted, and its features repeated past
    TRANSFORM_ROWS rows with a category's gaps, a value the fit never saw and a number's gaps."""
    weights = {"Job": 2.5, "Age": 0.5}
    prepared = prepare_tables(
        read_source(DATA / "credit_data.csv.gz"), DataChoices(weights=weights)
    )
    copies = TRANSFORM_ROWS // len(prepared.typed) + 2
    big = prepared.typed.sample(frac=copies, replace=True, random_state=0).reset_index(drop=True)
    big.loc[::7, "Home"] = np.nan  # a category's gaps
    big["Job"] = big["Job"].cat.add_categories(["never seen"])  # categories, as typed
    big.loc[::11, "Job"] = "never seen"  # a value the fit never saw
    big.loc[::13, "Income"] = np.nan  # a number's gaps (Income keeps a 0/1 column for them)
    assert len(big) > TRANSFORM_ROWS
    return prepared, big


def test_k_means_plus_plus_picks_the_rows_scikit_learn_picks() -> None:
    """segscope's k-means++ seeding (less work per centre) draws the same random numbers and picks
    the same rows as scikit-learn's on a real matrix, at every k, start after start; seeded by
    it, K-Means makes scikit-learn's own fit, and says it used k-means++."""
    X = prepare_tables(read_source(DATA / "credit_data.csv.gz")).X
    assert isinstance(X, np.ndarray) and X.dtype == np.float32
    centred = X - X.mean(axis=0)  # as K-Means hands the matrix to its seeding
    for k in range(2, 11):
        theirs, ours = np.random.RandomState(k), np.random.RandomState(k)
        for _ in range(3):
            expected = kmeans_plusplus(centred, k, random_state=theirs)[0]
            assert np.array_equal(seeding.plus_plus(centred, k, ours), expected)
    for k in (2, 5, 9):
        fit = seeding.fit_plus_plus(X, k, 0, 10)
        reference = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X)
        assert np.array_equal(fit.labels_, reference.labels_)
        assert np.array_equal(fit.cluster_centers_, reference.cluster_centers_)
        assert fit.inertia_ == reference.inertia_ and fit.init == "k-means++"


def test_a_large_table_is_transformed_exactly_as_scikit_learn_transforms_it() -> None:
    """Above TRANSFORM_ROWS the matrix is built in blocks and a category's part once per distinct
    value: the numbers must be scikit-learn's own, weights, gaps and unseen values included."""
    prepared, big = _long_credit()
    ours = transform(prepared.preprocessor, big)
    theirs = np.ascontiguousarray(prepared.preprocessor.transform(big), dtype=np.float32)
    assert ours.flags.c_contiguous and ours.dtype == np.float32
    assert np.array_equal(ours, theirs)


def test_a_long_tables_far_distance_is_that_of_its_sample_written_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above P99_ROWS the distance scoring calls far is measured on a sample whose rows are
    written out a block at a time: the figure of the whole sample written out (smaller limits
    here, so that the real table is long and the sample spans several blocks)."""
    from segscope.core.clustering import centres, final
    from segscope.core.sampling import row_sample

    monkeypatch.setattr(final, "P99_ROWS", 20_000)
    monkeypatch.setattr(final, "BLOCK_ROWS", 3_000)
    monkeypatch.setattr(centres, "BLOCK_ROWS", 3_000)
    prepared, big = _long_credit()
    held = coded_transform(prepared.preprocessor, big)
    rows = row_sample(len(big), 20_000, 0)
    for k in (2, 7):
        middles = held[np.random.default_rng(k).choice(len(big), k, replace=False)]
        whole = np.percentile(assign(held[rows], middles).distances, 99)
        assert final.distance_p99(held, middles) == whole


def test_a_long_tables_matrix_held_as_codes_finds_what_the_written_out_one_finds() -> None:
    """Above TRANSFORM_ROWS a category is held as a code per row into its columns per value: any
    rows asked for are the written-out matrix's own, in a fraction of its memory, and the passes
    over every row (nearest centres, Lloyd's refinement) label every row alike."""
    prepared, big = _long_credit()
    held, written = (
        coded_transform(prepared.preprocessor, big),
        transform(prepared.preprocessor, big),
    )
    assert isinstance(held, CodedMatrix) and held.shape == written.shape
    with pytest.MonkeyPatch.context() as patch:  # each number's part in several pieces
        patch.setattr(preprocess, "PART_CELLS", 1_000)
        patch.setattr(preprocess, "TRANSFORM_ROWS", 30_000)
        pieces = coded_transform(prepared.preprocessor, big)
    assert np.array_equal(pieces.numbers, held.numbers)
    rows = np.random.default_rng(0).choice(len(big), 5_000, replace=False)
    assert np.array_equal(held[rows], written[rows]) and np.array_equal(held[::97], written[::97])
    assert held.nbytes < written.nbytes / 2
    assert all(len(c.table) <= c.stop - c.start + 1 for c in held.categories)  # a row per column
    with pytest.raises(TypeError, match="whole rows"):
        held[:, 0]
    start = written[rows[:5]].astype(np.float64)
    ours, theirs = assign(held, start), assign(written, start)
    assert np.array_equal(ours.labels, theirs.labels)
    assert np.array_equal(ours.sizes, np.bincount(theirs.labels, minlength=len(start)))
    # a category's part of the distances is a product per value, rounded once for every row that
    # holds it, so the two sums part in float32's last digits (1.2e-9 of the total here; each
    # within 2e-8 of the float64 sum): within float32's rounding
    assert ours.inertia == pytest.approx(theirs.inertia, rel=1e-7)
    ours_km, theirs_km = refine(held, start, seed=0), refine(written, start, seed=0)
    assert np.array_equal(ours_km.labels_, theirs_km.labels_)
    np.testing.assert_allclose(ours_km.cluster_centers_, theirs_km.cluster_centers_, rtol=1e-6)


def test_the_nearest_centre_is_argmins_first_of_equals_on_real_distances() -> None:
    """The passes over every row take each row's nearest centre one centre at a time (numpy's
    argmin makes a call per row): on the real credit matrix's distances to 2, 6 and 10 of its
    rows, each centre's repeated (exact ties), the labels and distances are argmin's."""
    X = prepare_tables(read_source(DATA / "credit_data.csv.gz")).X
    for k in (2, 6, 10):
        centres = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
        d2 = (-2.0 * centres) @ X.T + np.einsum("ij,ij->i", centres, centres)[:, None]
        d2 = np.vstack([d2, d2[::-1]])  # every centre's distances twice: exact ties
        labels, best = closest(d2)
        assert np.array_equal(labels, d2.argmin(axis=0))
        assert np.array_equal(best, d2.min(axis=0))


REAL_TABLES = sorted(p for p in DATA.iterdir() if p.name.endswith((".csv.gz", ".txt")))


def test_categories_counted_block_by_block_are_counted_as_a_cross_table_counts_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long table's categories are counted a block of rows at a time (pandas' table of values
    is sized by the rows it is given): on the real credit table, in blocks of 1,000 rows (a
    value first seen in a later block, gaps in some), the counts of pandas' cross table, each
    value's column in order of first appearance."""
    credit = pd.read_csv(DATA / "credit_data.csv.gz")
    labels = credit["Job"].fillna("none").factorize()[0]  # five groups of rows, real and uneven
    values = credit["Marital"].astype("string").astype(object).where(credit.index % 97 > 0)
    values.iloc[3_500:] = values.iloc[3_500:].replace("widow", "widowed")  # first seen late
    monkeypatch.setattr(profiles, "COUNT_ROWS", 1_000)
    counted = profiles.category_counts(values, labels)
    crossed = pd.crosstab(labels, values).rename_axis(index=None, columns=None)
    assert len(values) > 4 * profiles.COUNT_ROWS and values.isna().any()
    assert list(counted.columns) == list(values.dropna().unique())
    assert counted.columns[-1] == "widowed"
    pd.testing.assert_frame_equal(
        counted, crossed[counted.columns], check_dtype=False, check_column_type=False
    )


def test_repeated_keys_are_found_whatever_the_order_of_the_rows() -> None:
    """all_different (a quick look when numbers increase, a bitmap for whole numbers in a short
    range) says what pandas' is_unique says, on every column of the real tables: as stored,
    sorted, shuffled, and sorted or shuffled with one value repeated."""
    from segscope.core.features.tables import all_different
    from segscope.core.sources.reading import read_source

    checked = 0
    for path in REAL_TABLES:
        for table in read_source(path).tables.values():
            for name in table.columns:
                column = table[name]
                ordered = column.sort_values(ignore_index=True)
                shuffled = column.sample(frac=1.0, random_state=0, ignore_index=True)
                repeated = pd.concat([ordered, ordered.iloc[-1:]], ignore_index=True)
                again = pd.concat([shuffled, shuffled.iloc[:1]], ignore_index=True)
                for s in (column, ordered, shuffled, repeated, again):
                    assert all_different(s) == s.is_unique, (path.name, name)
                assert not all_different(repeated) and not all_different(again)
                checked += 1
    assert checked > 100


def test_codes_and_flags_judged_without_hashing_are_what_hashing_finds() -> None:
    """Whole numbers in a short range are made categories, and numbers judged flags, without
    hashing every value: on every column of the real tables (as stored, shuffled, and as 0/1),
    the categories are the values written as text, in text order, each row its own value's,
    and a flag is exactly a column of 0 and 1."""
    from segscope.core.features.tables import all_different
    from segscope.core.features.values import compact_offsets, is_flag
    from segscope.core.preparing.preprocess import as_text

    def flag_by_hashing(s: pd.Series) -> bool:
        return pd.api.types.is_bool_dtype(s) or (
            pd.api.types.is_numeric_dtype(s) and set(pd.unique(s.dropna())) in ({0, 1},)
        )

    compact = flags = 0
    for path in REAL_TABLES:
        for table in read_source(path).tables.values():
            for name in table.columns:
                column = table[name]
                shuffled = column.sample(frac=1.0, random_state=0, ignore_index=True)
                zero_one = (column == column.iloc[0]).astype(int)
                for s in (column, shuffled, zero_one, zero_one.astype(float).where(column.notna())):
                    text = as_text(s)
                    held = text.notna()
                    assert held.equals(s.notna()), (path.name, name)
                    assert text[held].astype(str).equals(s[held].astype(str)), (path.name, name)
                    assert list(text.cat.categories) == sorted(set(s[held].astype(str)))
                    assert is_flag(s) == flag_by_hashing(s), (path.name, name)
                    compact += compact_offsets(s) is not None
                    flags += is_flag(s)
    assert compact > 100 and flags > 100
    # where the arithmetic could wrap: every width, at its ends, across zero, shuffled
    for kind in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        low, high = np.iinfo(kind).min, np.iinfo(kind).max
        rng = np.random.default_rng(0)
        for values in ([low, high, low], [high - 2, high, high - 1], [low, low + 3, low + 1]):
            s = pd.Series(np.array(values, dtype=kind))
            assert as_text(s).astype(str).tolist() == [str(v) for v in values]
            assert all_different(s) == s.is_unique
        around = np.arange(max(low, -100), min(high, 100) + 1).astype(kind)
        s = pd.Series(rng.permutation(around))
        assert compact_offsets(s) is not None and all_different(s)
        assert as_text(s).astype(str).tolist() == [str(v) for v in s]
        assert not all_different(pd.concat([s, s.iloc[:1]], ignore_index=True))


def test_numbers_are_made_float32_as_written_whatever_holds_them() -> None:
    """A number's column becomes float32 from the values as they are held (no copies through
    pandas): the values read as numbers, rounded from float64, those beyond float32's range and
    infinities missing; on every numeric column of the real tables and on every kind of holder."""
    from segscope.core.preparing.preprocess import FLOAT32_MAX, as_float32

    def expected(s: pd.Series) -> np.ndarray:
        wide = pd.to_numeric(s, errors="coerce").astype("float64")
        return wide.where(wide.abs() <= FLOAT32_MAX).astype("float32").to_numpy()

    held = [
        pd.Series([1e39, -np.inf, np.nan, 3.0, -2.5]),
        pd.Series(["1", "x", "2.5", None, "1e40"], dtype=object),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([1.5, None], dtype="Float64"),
        pd.Series([True, False]),
        pd.Series([2**62 + 1, 16_777_217, -5]),  # whole numbers float32 rounds
        pd.Series(np.array([1.5, 3e38, np.nan], dtype=np.float32)),
        pd.Series(np.array([200, 3], dtype=np.uint8)),
        pd.Series([], dtype=float),
    ]
    for path in REAL_TABLES:
        for table in read_source(path).tables.values():
            held += [table[c] for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    for s in held:
        made = as_float32(s)
        assert made.dtype == np.float32 and np.array_equal(made, expected(s), equal_nan=True)
    assert len(held) > 100


def test_gaps_counted_on_the_table_are_the_typed_features_gaps() -> None:
    """A category's gaps are counted on its own values (quick when they are codes): the shares
    must be those of the typed features, on real tables with gaps in numbers and in text."""
    from segscope.core.features.executors import source_frame
    from segscope.core.preparing.choosing import decide_features
    from segscope.core.preparing.preprocess import missing_shares
    from segscope.core.sources.reading import read_source

    with_gaps = 0
    for path in REAL_TABLES:
        frame, _ = source_frame(read_source(path), DataChoices())
        schema, features = decide_features(frame, DataChoices())
        shares = missing_shares(features, schema, frame.data)
        assert shares == missing_shares(features, schema), path.name
        with_gaps += any(c in shares for c in schema.categorical)
    assert with_gaps >= 1


def test_a_file_read_ahead_is_the_file_read(tmp_path: Path) -> None:
    """read_ahead reads a text or Parquet file on its own thread: the same tables as
    read_source, and the same refusal for a bad file; a workbook is left to read_source."""
    from segscope.core.errors import DataError
    from segscope.core.sources.reading import read_ahead, read_source

    credit = DATA / "credit_data.csv.gz"
    parquet = tmp_path / "credit.parquet"
    read_source(credit).tables["credit_data"].to_parquet(parquet)
    for path in (credit, parquet):
        opened = read_ahead(path)
        assert opened is not None
        ahead, now = opened().tables, read_source(path).tables
        assert list(ahead) == list(now)
        for name in now:
            pd.testing.assert_frame_equal(ahead[name], now[name])
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n1,2\n\x00\x01\x02")
    opened = read_ahead(bad)
    assert opened is not None
    with pytest.raises(DataError) as ahead_error:
        opened()
    with pytest.raises(DataError) as now_error:
        read_source(bad)
    assert str(ahead_error.value) == str(now_error.value)
    assert read_ahead(ROOT / "sample_data" / "shop.xlsx") is None
    assert read_ahead(tmp_path / "missing.csv") is not None  # refused when asked, as read_source


def test_background_work_is_waited_for_unless_other_work_fails_first() -> None:
    """Background.unless: this work's result once the other work has succeeded; the other's
    error at once when it fails first, this work still running (for 30 s here, unless set)."""
    from segscope.core.errors import DataError
    from segscope.core.threads import Background

    def refused() -> None:
        raise DataError("bad.csv: refused")

    never, slow = threading.Event(), threading.Event()
    endless = Background(lambda: never.wait(30), "test-endless")
    with pytest.raises(DataError, match="bad.csv: refused"):
        endless.unless(Background(refused, "test-refused"))
    read = Background(lambda: "read", "test-read")
    assert read() == "read"
    loaded = Background(lambda: slow.wait(5) and "loaded", "test-loaded")
    slow.set()
    assert loaded.unless(read) == "loaded"
    never.set()


def test_work_in_parallel_runs_ahead_of_its_reader_only_so_far() -> None:
    """A slow reader (a writer of the rows' text) does not have every piece made and held."""
    started: list[int] = []

    def work(i: int) -> int:
        started.append(i)
        return i

    pieces = threads.in_parallel(work, range(100), 2)
    taken = [next(pieces)]
    threading.Event().wait(0.3)  # room for the pool to run ahead, were it unbounded
    assert len(started) <= threads.AHEAD * 2 + 1
    taken += list(pieces)
    assert taken == list(range(100))


def test_the_customers_written_ahead_are_those_written_from_the_finished_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On more rows than helpers take, with two cores, the engine hands the customers over once
    they are labelled, before they are described: features.csv, written then beside the profiles
    and the rules, is the file written from the finished run (real CDNOW purchases: RFM cells).
    A run stopped meanwhile leaves nothing."""
    from segscope.core import processes
    from segscope.core.outputs.folders import sweep_outputs, write_outputs

    monkeypatch.setattr(processes, "HELPER_ROWS", 100)  # every table is a long one here
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    handed = []
    with sweep_outputs(tmp_path / "ahead") as outputs:

        def ahead(customers: Labelled) -> None:
            handed.append(customers)
            outputs.labelled(customers)

        seg = analyse(DATA / "cdnow_master.txt", settings=SweepSettings(ks=(2, 3), ahead=ahead))
        outputs.write(seg)
    write_outputs(seg, tmp_path / "end")
    assert len(handed) == 1 and handed[0].rfm is seg.rfm is not None
    early, late = (tmp_path / name / "features.csv" for name in ("ahead", "end"))
    assert early.read_bytes() == late.read_bytes()

    with pytest.raises(KeyboardInterrupt), sweep_outputs(tmp_path / "stopped") as outputs:
        outputs.labelled(handed[0])
        raise KeyboardInterrupt  # the run stopped while its customers were being written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ahead", "end"]  # nothing else left


def test_the_base_mean_and_spread_are_pandas_figures_for_a_copy_of_the_column() -> None:
    """Real columns with gaps, whole numbers and decimals: the same mean and standard deviation
    as pandas' mean() and std(ddof=0), to the last bit."""
    frames = [pd.read_csv(DATA / name) for name in ("credit_data.csv.gz", "churn.csv.gz")]
    columns = [f[c] for f in frames for c in f.select_dtypes("number").columns]
    columns.append(columns[0].where(columns[0] > columns[0].median()))  # half of it missing
    columns.append(pd.Series([np.nan, np.nan]))
    assert len(columns) > 20
    for values in columns:
        wide = values.astype("float64")
        with pd.option_context("compute.use_bottleneck", False):  # its sums are not numpy's
            expected = (float(wide.mean()), float(wide.std(ddof=0)))
        np.testing.assert_array_equal(profiles.mean_and_spread(values), expected)


def test_a_csv_told_to_stop_ends_at_its_next_block_and_leaves_no_file(tmp_path: Path) -> None:
    from segscope.core.errors import Cancelled
    from segscope.core.files import write_csv_atomic

    frame = pd.DataFrame({"n": np.arange(1_000_000)})
    stop = threading.Event()
    write_csv_atomic(tmp_path / "all.csv", frame, stop=stop)
    assert len((tmp_path / "all.csv").read_bytes().splitlines()) == 1_000_001
    stop.set()
    with pytest.raises(Cancelled):
        write_csv_atomic(tmp_path / "none.csv", frame, stop=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.csv"]
