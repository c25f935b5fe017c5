"""The Spark engine: prepare, sweep and segment with Spark; only small results reach the driver.

What crosses to the driver: a few thousand rows of each table (to decide what to build), one
sample of SAMPLE_ROWS customers with their transformed vectors (Euclidean silhouette, the
Calinski-Harabasz and Davies-Bouldin indices, stability, feature relevance and the saved
model's check), cluster centres, and per-segment aggregates. Everything else stays in Spark."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml.clustering import KMeans as SparkKMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances_argmin

from segscope.core.clustering.choice import choose_k
from segscope.core.clustering.crosstab import results_for
from segscope.core.clustering.final import inverse_order, size_order
from segscope.core.clustering.stability import stability_sample
from segscope.core.clustering.sweep import KResult, SampleScorer, SweepSetup, set_up_sweep
from segscope.core.describing.profiles import TOP_CATEGORIES, SegmentStats
from segscope.core.engines.results import Prepared, Segmentation
from segscope.core.engines.spark.features import build_customer_table, spark_plan, to_pandas
from segscope.core.engines.spark.pipeline import (
    FEATURES,
    SparkPreprocessing,
    fit_spark_preprocessing,
    spark_typed_features,
    to_sklearn_centres,
)
from segscope.core.engines.spark.session import cancellable, get_session
from segscope.core.engines.spark.tables import read_spark_tables
from segscope.core.engines.steps import finish_segmentation, segment_model, sweep_timings
from segscope.core.errors import Cancelled, DataError, OutputExists
from segscope.core.features.frame import described
from segscope.core.files import OutputFolder
from segscope.core.locations import URL, about, database_kind, display_name, first_line
from segscope.core.models.numbering import earlier_space, like_report, match_to_model
from segscope.core.preparing.choosing import decide_features
from segscope.core.preparing.preprocess import fit_preprocessor, gaps_of, transform
from segscope.core.roles import Schema
from segscope.core.settings import DEFAULT_SPARK_MASTER, DataChoices, SweepSettings
from segscope.core.sources.reading import Source
from segscope.core.text import one_line
from segscope.core.timings import Timings

SAMPLE_ROWS = 5_000  # customers brought to the driver (as the local engine's silhouette sample)
MAX_ITER = 100  # Lloyd iterations per k (Spark's default of 20 stops short)
STARTS = 3  # k-means|| starts per k (on every row); the lowest cost after START_ITER is kept
START_ITER = 5
PICK = "__pick"  # a hash of each customer's row: the same sample whatever the partitioning
CLUSTER = "__cluster"
SEGMENT = "segment"
PREPARE_SEED = 0  # the driver sample is the same every run (as the local preprocessing's)


@dataclass
class SparkData:
    """What a Spark-prepared data set keeps in Spark: every customer's features and vector."""

    table: Any  # Spark DataFrame: key, typed features, the feature vector
    preprocessing: SparkPreprocessing


@dataclass
class SparkLabels:
    """Labels written by Spark as Parquet, beside the output folder or at the labels URI."""

    labelled: Any  # Spark DataFrame: key (or the features) and segment
    uri: str | None = None

    def write(self, seg: Segmentation, folder: Path, target: Path, force: bool) -> list[str]:
        """Every customer's segment as Parquet, never over existing labels unless `force`."""
        uri = labels_location(target, self.uri)
        try:
            self.labelled.write.mode("overwrite" if force else "errorifexists").parquet(uri)
        except Exception as exc:
            if "already exists" in str(exc).lower() or "PATH_ALREADY_EXISTS" in str(exc):
                raise OutputExists(
                    f"{one_line(uri, 200)} already exists. Choose another output or labels "
                    "location, or allow overwriting (--force)."
                ) from exc
            raise DataError(
                f"Spark could not write the labels to {one_line(uri, 200)}: {first_line(exc)}"
            ) from exc
        return [uri]


class SparkEngine:
    """Features with Spark SQL, preprocessing with Spark ML, K-Means with pyspark.ml."""

    name = "spark"

    def __init__(self, master: str | None = None, labels_uri: str | None = None) -> None:
        self.master = master or DEFAULT_SPARK_MASTER
        self.labels_uri = labels_uri

    @property
    def identity(self) -> str:
        return f"spark {self.master}"

    def open(self, location: str) -> Source:
        if database_kind(location):
            raise DataError(
                f"{display_name(location)}: the Spark engine reads files; a database is read by "
                "the local engine (--engine local), which lets the database aggregate the log."
            )
        spark = get_session(self.master)
        timings = Timings()
        with timings.stage("load"), cancellable(spark, "segscope-open", None):
            tables = read_spark_tables(spark, location)
        return Source(location, tables, engine=self.identity, timings=timings)

    def prepare(self, source: Source, choices: DataChoices) -> Prepared:
        spark = get_session(self.master)
        timings = source.timings.then()
        stage = timings.stage("features")  # Spark computes lazily: features and preprocessing
        with stage, about(source.location), cancellable(spark, "segscope-prepare", None):
            setup, lookups = spark_plan(source.tables, choices)
            table, findings = build_customer_table(source.tables, setup, lookups)
            table = table.withColumn(PICK, _pick(table.columns, PREPARE_SEED)).persist()
            count = findings.customer_rows
            if count < 3:
                raise DataError(
                    f"{display_name(source.location)}: only {count} customer(s): segmenting "
                    "needs at least 3 rows."
                )
            frame = described(to_pandas(_sample(table, count).drop(PICK)), setup, findings)
            schema, features = decide_features(frame, choices)
            typed, missing = spark_typed_features(table, schema, frame.reference_date, [PICK])
            spark_prep = fit_spark_preprocessing(typed, count, schema, choices.weights, missing)
            keep = [c for c in (schema.key, *schema.features) if c]
            vectors = spark_prep.transform(typed).select(*keep, FEATURES, PICK).persist()
            X = _vectors(_sample(vectors, count))
            table.unpersist()
        pre = fit_preprocessor(schema, features, PREPARE_SEED, choices.weights, missing)
        return Prepared(
            source.location,
            self.identity,
            choices,
            tuple(source.tables),
            frame,
            schema,
            features,
            pre,
            X,
            count,
            list(spark_prep.slots),
            list(spark_prep.owners),
            gaps_of(pre, schema, missing, count),
            full=SparkData(vectors.drop(PICK), spark_prep),
            timings=timings,
        )

    def check_outputs(self, folder: OutputFolder) -> bool:
        replaces = folder.check()
        uri = labels_location(folder.target, self.labels_uri)
        if not folder.force and not URL.match(uri) and Path(uri).exists():
            raise OutputExists(
                f"{one_line(uri, 200)} already exists. Choose another output or --labels-uri, or "
                "allow overwriting (--force)."
            )
        return replaces

    def compare(self, prepared: Prepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
        with cancellable(get_session(self.master), "segscope-compare", None):
            return _compare(prepared, results, a, b)

    def start_sweep(
        self,
        prepared: Prepared,
        settings: SweepSettings,
        should_stop: Callable[[], bool] | None = None,
    ) -> tuple[SweepSetup, Iterator[KResult]]:
        _spark(prepared)
        sampled = set_up_sweep(prepared.X, settings.ks, settings.seed)
        spark = get_session(self.master)
        setup = SweepSetup(
            sampled.ks,
            prepared.rows,
            prepared.rows,
            len(prepared.X),
            settings.seed,
            sampled.warnings,
            engine="spark",
            gap=sampled.gap,
            engine_notes=(
                f"Spark engine on {self.master} (Spark {spark.version}): features, preprocessing "
                f"and K-Means on all {prepared.rows:,} rows (the best of {STARTS} k-means|| "
                f"starts after {START_ITER} iterations, seeds from {settings.seed}, run to "
                "convergence)",
                "silhouette is Euclidean on the driver sample, as the local engine's; "
                "silhouette_sq_spark is Spark's ClusteringEvaluator (squared Euclidean, all rows), "
                "a different number",
            ),
        )
        return setup, self._sweep(prepared, setup, should_stop)

    def _sweep(
        self, prep: Prepared, setup: SweepSetup, should_stop: Callable[[], bool] | None
    ) -> Iterator[KResult]:
        spark = get_session(self.master)
        data = _spark(prep)
        X = prep.X[:]  # the driver's sample, written out
        stab_idx = stability_sample(len(X), setup.seed)
        scorer = SampleScorer(X, X[stab_idx], setup.seed, setup.gap)
        evaluator = ClusteringEvaluator(
            featuresCol=FEATURES, predictionCol=CLUSTER, distanceMeasure="squaredEuclidean"
        )
        for k in setup.ks:
            if should_stop and should_stop():
                raise Cancelled()
            started = time.perf_counter()
            with cancellable(spark, f"segscope-k{k}", should_stop):
                km = fit_spark_kmeans(data.table, k, setup.seed)
                summary = km.summary
                inertia, sizes = float(summary.trainingCost), list(summary.clusterSizes)
                if len(sizes) < k:
                    raise DataError(
                        f"at k={k} Spark's K-Means found only {len(sizes)} distinct centres: "
                        "the data has too few distinct rows. Lower the k range."
                    )
                squared = float(evaluator.evaluate(summary.predictions))
            labels = pairwise_distances_argmin(X, np.array(km.clusterCenters()))
            yield scorer.result(
                k,
                labels,
                labels,
                labels[stab_idx],
                inertia=inertia,
                sizes=sizes,
                model=km,
                started=started,
                extra={"silhouette_sq_spark": squared},
                should_stop=should_stop,
            )

    def segment(
        self, prepared: Prepared, setup: SweepSetup, results: list[KResult], settings: SweepSettings
    ) -> Segmentation:
        data = _spark(prepared)
        spark = get_session(self.master)
        timings = sweep_timings(prepared, setup, results)
        with timings.stage("final fit"):
            choice = choose_k(results, settings.k, setup.one)
            result = next(r for r in results if r.k == choice.k)
            order = size_order(result.sizes)
            like, X_old = settings.like, None
            if like is not None:
                X_old = earlier_space(prepared.frame.data, prepared.frame.reference_date, like)
                order = order[
                    match_to_model(X_old, inverse_order(order)[result.labels], choice.k, like)
                ]
            remap = inverse_order(order)
            sample_labels = remap[result.labels]
            with cancellable(spark, "segscope-segment", None):
                compare = settings.compare
                comparison = _compare(prepared, results, *compare) if compare else None
                labelled = _label(data, result.model, remap)
                stats = spark_segment_stats(labelled, prepared.schema)
            centres = np.array(result.model.clusterCenters())[order]
            sk_centres = to_sklearn_centres(centres, data.preprocessing, prepared.preprocessor)
            sk_centres = sk_centres.astype(np.float32)
            km = KMeans(n_clusters=choice.k, init=sk_centres, n_init=1, max_iter=1).fit(sk_centres)
            X_sk = transform(prepared.preprocessor, prepared.typed)
            agree = float(np.mean(km.predict(X_sk) == sample_labels))
            setup = dataclasses.replace(
                setup,
                engine_notes=(
                    *setup.engine_notes,
                    f"the saved model is Spark's centres in a scikit-learn pipeline learnt on "
                    f"the {len(X_sk):,}-row sample: it gives {agree:.1%} of that sample Spark's "
                    "segment",
                ),
            )
            model = segment_model(prepared, setup, results, choice.k, km, X_sk, stats)
        seg = finish_segmentation(
            prepared, setup, results, choice, model, sample_labels, stats, comparison, timings
        )
        key = prepared.schema.key
        out = labelled.select(key, SEGMENT) if key else labelled.drop(FEATURES)
        seg.labels_out = SparkLabels(out, self.labels_uri)
        if like is not None and X_old is not None:
            where = settings.like_path or "an earlier model"
            seg.like = like_report(X_old, sample_labels, choice.k, like, where)
        return seg


def fit_spark_kmeans(table: Any, k: int, seed: int, starts: int = STARTS) -> Any:
    """pyspark.ml K-Means from the best of `starts` k-means|| starts.

    One start often stops in a poor local optimum (seen: a cost at k=6 above that at k=4), so
    each seed runs START_ITER iterations and only the lowest-cost one runs to convergence: the
    same seed gives the same start, so that fit continues the chosen one's path.
    """

    def fit(s: int, iterations: int) -> Any:
        return SparkKMeans(
            k=k, seed=s, maxIter=iterations, featuresCol=FEATURES, predictionCol=CLUSTER
        ).fit(table)

    seeds = range(seed, seed + starts)
    best = min(seeds, key=lambda s: fit(s, START_ITER).summary.trainingCost) if starts > 1 else seed
    return fit(best, MAX_ITER)


def labels_location(target: Path, labels_uri: str | None) -> str:
    """Where the labels go: `labels_uri`, or <output folder>-labels.parquet beside it."""
    target = target.resolve()
    return labels_uri or str(target.parent / f"{target.name}-labels.parquet")


def _spark(prepared: Prepared) -> SparkData:
    if not isinstance(prepared.full, SparkData):
        raise DataError("the data was prepared by another engine: prepare it with Spark first.")
    return prepared.full


def _pick(columns: list[str], seed: int) -> Any:
    """A number from each row's content: the driver sample is the rows with the lowest."""
    return F.pmod(F.xxhash64(F.lit(seed), *[F.col(c) for c in columns]), F.lit(2**31))


def _sample(table: Any, count: int) -> Any:
    """The same SAMPLE_ROWS customers of any table that carries PICK."""
    if count <= SAMPLE_ROWS:
        return table.orderBy(PICK)
    cut = min(2**31, int(2**31 * 2 * SAMPLE_ROWS / count))
    return table.where(F.col(PICK) < cut).orderBy(PICK).limit(SAMPLE_ROWS)


def _vectors(table: Any) -> np.ndarray:
    arrays = table.select(vector_to_array(F.col(FEATURES)).alias("v")).toArrow()
    return np.ascontiguousarray(np.array(arrays.column("v").to_pylist(), dtype=np.float32))


def _label(data: SparkData, model: Any, remap: np.ndarray) -> Any:
    """Every customer with their segment number (1..k, largest first)."""
    numbers = F.array(*[F.lit(int(s) + 1) for s in remap])
    predicted = model.setPredictionCol(CLUSTER).transform(data.table)
    return predicted.withColumn(SEGMENT, F.element_at(numbers, F.col(CLUSTER) + 1)).drop(CLUSTER)


def _compare(prep: Prepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
    """Customers in each pair of segments of k=a and k=b, counted by Spark."""
    ra, rb = results_for(results, a, b)
    t = ra.model.setPredictionCol("__a").transform(_spark(prep).table)
    t = rb.model.setPredictionCol("__b").transform(t)
    pairs = t.groupBy("__a", "__b").count().collect()
    ma, mb = inverse_order(size_order(ra.sizes)), inverse_order(size_order(rb.sizes))
    table = pd.DataFrame(0, index=range(1, a + 1), columns=range(1, b + 1))
    for row in pairs:
        table.at[int(ma[row["__a"]]) + 1, int(mb[row["__b"]]) + 1] += int(row["count"])
    table.index.name, table.columns.name = f"k={a}", f"k={b}"
    return table


def spark_segment_stats(labelled: Any, schema: Schema) -> SegmentStats:
    """SegmentStats aggregated by Spark (means, approximate medians, category shares).

    One pass for the numbers: per segment the count, sum and sum of squares of each, from
    which the whole base's mean and SD follow on the driver; one pass per category column.
    """
    num, cats = schema.numeric, schema.categorical
    aggs = [F.count(F.lit(1)).alias("__n")]
    for c in num:
        value = F.col(c)
        aggs += [
            F.count(value).alias(f"n:{c}"),
            F.sum(value).alias(f"sum:{c}"),
            F.sum(value * value).alias(f"sq:{c}"),
            F.percentile_approx(value, 0.5, 10_000).alias(f"median:{c}"),
        ]
    rows = sorted(labelled.groupBy(SEGMENT).agg(*aggs).collect(), key=lambda r: r[SEGMENT])
    segs = [int(r[SEGMENT]) for r in rows]

    def table(prefix: str) -> pd.DataFrame:
        data = [[_float(r[f"{prefix}:{c}"]) for c in num] for r in rows]
        return pd.DataFrame(data, index=segs, columns=num, dtype="float64")

    counts, sums, squares = table("n"), table("sum"), table("sq")
    total = counts.sum()
    base_mean = sums.sum() / total
    base_var = (squares.sum() / total - base_mean**2).clip(lower=0)
    sizes = {s: int(r["__n"]) for s, r in zip(segs, rows, strict=True)}
    everyone = sum(sizes.values())
    base_shares: dict[str, pd.Series] = {}
    shares: dict[int, dict[str, pd.Series]] = {s: {} for s in segs}
    for c in cats:  # shares of all customers (those without a value too), as profiles' are
        frame = to_pandas(labelled.where(F.col(c).isNotNull()).groupBy(SEGMENT, c).count())
        per_category = frame.groupby(c)["count"].sum().sort_values(ascending=False, kind="stable")
        base_shares[c] = per_category / everyone
        for s in segs:
            part = frame[frame[SEGMENT] == s].set_index(c)["count"]
            part = part.sort_values(ascending=False, kind="stable")
            shares[s][c] = (part / sizes[s]).head(TOP_CATEGORIES)
    return SegmentStats(
        rows=everyone,
        sizes=sizes,
        means=sums / counts,
        medians=table("median"),
        base_mean=base_mean.astype("float64"),
        base_std=np.sqrt(base_var).astype("float64"),
        base_shares=base_shares,
        shares=shares,
    )


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)
