"""The Spark engine: prepare, sweep and segment with Spark; only small results reach the driver.

What crosses to the driver: a few thousand rows of each table (to decide what to build), one
sample of SAMPLE_ROWS customers with their transformed vectors (Euclidean silhouette, the
Calinski-Harabasz and Davies-Bouldin indices, stability, feature relevance and the saved
model's check), cluster centres, and per-segment aggregates. Everything else stays in Spark.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
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

from segscope.core.analysis import (
    Options,
    Prepared,
    Segmentation,
    finish_segmentation,
    resolve_schema,
    segment_model,
)
from segscope.core.compare import match_to_model, results_for
from segscope.core.errors import Cancelled, DataError, OutputExists
from segscope.core.io import URL, Tables, check_output_dir, first_line
from segscope.core.model import SegmentModel
from segscope.core.preprocess import fit_preprocessor, prepare, transform
from segscope.core.schema import Schema
from segscope.core.segments import TOP_CATEGORIES, SegmentStats, inverse_order, size_order
from segscope.core.spark.features import build_customer_table, to_pandas
from segscope.core.spark.pipeline import (
    FEATURES,
    SparkPreprocessing,
    fit_spark_preprocessing,
    spark_prepare,
    to_sklearn_centres,
)
from segscope.core.spark.session import cancellable, get_session
from segscope.core.spark.tables import read_spark_tables
from segscope.core.stability import resample_labels, stability, stability_sample
from segscope.core.sweep import (
    KResult,
    SweepPlan,
    choose_k,
    pairwise_euclidean,
    plan_sweep,
    silhouette_from_distances,
    sweep_indices,
)

SAMPLE_ROWS = 5_000  # customers brought to the driver (as the local engine's silhouette sample)
MAX_ITER = 100  # Lloyd iterations per k (Spark's default of 20 stops short)
STARTS = 3  # k-means|| starts per k (on every row); the lowest cost after START_ITER is kept
START_ITER = 5
PICK = "__pick"  # a hash of each customer's row: the same sample whatever the partitioning
CLUSTER = "__cluster"
SEGMENT = "segment"


@dataclass
class SparkPrepared(Prepared):
    """Prepared data whose full table lives in Spark; `features` and `X` are the driver sample."""

    table: Any = None  # Spark DataFrame: key, prepared features, the feature vector
    spark_prep: SparkPreprocessing | None = None
    count: int = 0
    master: str = ""
    options: Options | None = None  # what it was prepared with

    @property
    def rows(self) -> int:
        return self.count

    def feature_names(self) -> list[str]:
        assert self.spark_prep is not None
        return list(self.spark_prep.slots)


@dataclass
class SparkSegmentation(Segmentation):
    """Segments whose labels live in Spark (written as Parquet by Spark)."""

    labelled: Any = None  # Spark DataFrame: key (or the features) and segment
    labels_uri: str | None = None

    def write_labels(self, folder: Path, target: Path, force: bool = False) -> list[str]:
        """Every customer's segment as Parquet, written by Spark beside the output folder
        (or to the labels URI given), never over existing labels unless `force`."""
        uri = labels_location(target, self.labels_uri)
        try:
            self.labelled.write.mode("overwrite" if force else "errorifexists").parquet(uri)
        except Exception as exc:
            if "already exists" in str(exc).lower() or "PATH_ALREADY_EXISTS" in str(exc):
                raise OutputExists(
                    f"{uri} already exists. Choose another output or labels location, or allow "
                    "overwriting (--force)."
                ) from exc
            raise DataError(
                f"Spark could not write the labels to {uri}: {first_line(exc)}"
            ) from exc
        return [uri]


class SparkEngine:
    """Features with Spark SQL, preprocessing with Spark ML, K-Means with pyspark.ml."""

    name = "spark"

    def __init__(self, master: str | None = None, labels_uri: str | None = None) -> None:
        self.master = master or "local[*]"
        self.labels_uri = labels_uri

    def prepare(
        self, source: str | Path, options: Options, tables: Tables | None = None
    ) -> SparkPrepared:
        spark = get_session(self.master)
        where = Path(str(source)).name
        with cancellable(spark, "segscope-prepare", None):
            named = read_spark_tables(spark, str(source), tables)
            table, frame = build_customer_table(
                named,
                options.customers,
                options.transactions,
                options.key,
                options.use_transactions,
            )
            table = table.withColumn(PICK, _pick(table.columns, options.seed)).persist()
            count = table.count()
            if count < 3:
                raise DataError(
                    f"{where}: only {count} customer(s): segmenting needs at least 3 rows."
                )
            sample = _sample(table, count).drop(PICK)
            frame.data = to_pandas(sample)
            schema = resolve_schema(frame, options)
            features = prepare(frame.data, schema, frame.reference_date)
            prepared_table = spark_prepare(table, schema, frame.reference_date, keep=[PICK])
            spark_prep = fit_spark_preprocessing(prepared_table, count, schema, options.weights)
            keep = [c for c in (schema.key, *schema.features) if c]
            vectors = spark_prep.transform(prepared_table).select(*keep, FEATURES, PICK).persist()
            X = _vectors(_sample(vectors, count))
            table.unpersist()
        weights = {c: w for c, w in options.weights.items() if c in schema.features}
        return SparkPrepared(
            str(source),
            frame,
            schema,
            features,
            fit_preprocessor(schema, features, options.seed, weights),
            X,
            weights,
            table=vectors.drop(PICK),
            spark_prep=spark_prep,
            count=count,
            master=self.master,
            options=options,
        )

    def ready(
        self, prepared: Prepared, source: str | Path, options: Options, tables: Tables | None
    ) -> SparkPrepared:
        if isinstance(prepared, SparkPrepared):
            if prepared.options == options:
                return prepared
            prepared.table.unpersist()
        return self.prepare(source, options, tables)

    def check_outputs(self, target: Path, force: bool) -> None:
        check_output_dir(target, force)
        uri = labels_location(target, self.labels_uri)
        if not force and not URL.match(uri) and Path(uri).exists():
            raise OutputExists(
                f"{uri} already exists. Choose another output or --labels-uri, or allow "
                "overwriting (--force)."
            )

    def compare(self, prepared: Prepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
        with cancellable(get_session(self.master), "segscope-compare", None):
            return _compare(_spark(prepared), results, a, b)

    def start_sweep(
        self,
        prepared: Prepared,
        ks: Sequence[int],
        seed: int,
        should_stop: Callable[[], bool] | None = None,
    ) -> tuple[SweepPlan, Iterator[KResult]]:
        prep = _spark(prepared)
        sampled = plan_sweep(prep.X, ks, seed)
        spark = get_session(self.master)
        plan = SweepPlan(
            sampled.ks,
            prep.rows,
            prep.rows,
            len(prep.X),
            seed,
            sampled.warnings,
            engine="spark",
            engine_notes=(
                f"Spark engine on {prep.master} (Spark {spark.version}): features, preprocessing "
                f"and K-Means on all {prep.rows:,} rows (the best of {STARTS} k-means|| starts "
                f"after {START_ITER} iterations, seeds from {seed}, run to convergence)",
                "silhouette is Euclidean on the driver sample, as the local engine's; "
                "silhouette_sq_spark is Spark's ClusteringEvaluator (squared Euclidean, all rows), "
                "a different number",
            ),
        )
        return plan, self._sweep(prep, plan, should_stop)

    def _sweep(
        self, prep: SparkPrepared, plan: SweepPlan, should_stop: Callable[[], bool] | None
    ) -> Iterator[KResult]:
        spark = get_session(self.master)
        X = prep.X
        distances = pairwise_euclidean(X)
        stab_idx = stability_sample(len(X), plan.seed)
        evaluator = ClusteringEvaluator(
            featuresCol=FEATURES, predictionCol=CLUSTER, distanceMeasure="squaredEuclidean"
        )
        for k in plan.ks:
            if should_stop and should_stop():
                raise Cancelled()
            started = time.perf_counter()
            with cancellable(spark, f"segscope-k{k}", should_stop):
                km = fit_spark_kmeans(prep.table, k, plan.seed)
                summary = km.summary
                inertia, sizes = float(summary.trainingCost), list(summary.clusterSizes)
                if len(sizes) < k:
                    raise DataError(
                        f"at k={k} Spark's K-Means found only {len(sizes)} distinct centres: "
                        "the data has too few distinct rows. Lower the k range."
                    )
                squared = float(evaluator.evaluate(summary.predictions))
            labels = pairwise_distances_argmin(X, np.array(km.clusterCenters()))
            resamples = resample_labels(X[stab_idx], k, plan.seed)
            ch, db = sweep_indices(X, labels)
            yield KResult(
                k=k,
                inertia=inertia,
                silhouette=silhouette_from_distances(distances, labels),
                silhouette_sample_size=len(X),
                calinski_harabasz=ch,
                davies_bouldin=db,
                stability=stability(labels[stab_idx], resamples),
                seconds=time.perf_counter() - started,
                sizes=sizes,
                labels=labels,
                model=km,
                resamples=resamples,
                extra={"silhouette_sq_spark": squared},
            )

    def segment(
        self,
        prepared: Prepared,
        plan: SweepPlan,
        results: list[KResult],
        k: int | None = None,
        like: SegmentModel | None = None,
        compare: tuple[int, int] | None = None,
    ) -> Segmentation:
        prep = _spark(prepared)
        spark = get_session(self.master)
        choice = choose_k(results, k)
        result = next(r for r in results if r.k == choice.k)
        order = size_order(result.sizes)
        if like is not None:
            remap = inverse_order(order)
            frame = prep.frame
            order = order[
                match_to_model(
                    frame.data, frame.reference_date, remap[result.labels], choice.k, like
                )
            ]
        remap = inverse_order(order)
        sample_labels = remap[result.labels]
        with cancellable(spark, "segscope-segment", None):
            comparison = _compare(prep, results, *compare) if compare else None
            labelled = _label(prep, result.model, remap)
            stats = spark_segment_stats(labelled, prep.schema)
        centres = np.array(result.model.clusterCenters())[order]
        assert prep.spark_prep is not None
        sk_centres = to_sklearn_centres(centres, prep.spark_prep, prep.preprocessor).astype(
            np.float32
        )
        km = KMeans(n_clusters=choice.k, init=sk_centres, n_init=1, max_iter=1).fit(sk_centres)
        X_sk = transform(prep.preprocessor, prep.features)
        agree = float(np.mean(km.predict(X_sk) == sample_labels))
        plan = dataclasses.replace(
            plan,
            engine_notes=(
                *plan.engine_notes,
                f"the saved model is Spark's centres in a scikit-learn pipeline learnt on the "
                f"{len(X_sk):,}-row sample: it gives {agree:.1%} of that sample Spark's segment",
            ),
        )
        model = segment_model(prep, plan, results, choice.k, km, X_sk, stats)
        seg = finish_segmentation(
            prep, plan, results, choice, model, sample_labels, stats, comparison
        )
        key = prep.schema.key
        out = labelled.select(key, SEGMENT) if key else labelled.drop(FEATURES)
        fields = {f.name: getattr(seg, f.name) for f in dataclasses.fields(Segmentation)}
        return SparkSegmentation(**fields, labelled=out, labels_uri=self.labels_uri)


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


def _spark(prepared: Prepared) -> SparkPrepared:
    if not isinstance(prepared, SparkPrepared):
        raise DataError("the data was prepared by another engine: prepare it with Spark first.")
    return prepared


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


def _label(prep: SparkPrepared, model: Any, remap: np.ndarray) -> Any:
    """Every customer with their segment number (1..k, largest first)."""
    numbers = F.array(*[F.lit(int(s) + 1) for s in remap])
    predicted = model.setPredictionCol(CLUSTER).transform(prep.table)
    return predicted.withColumn(SEGMENT, F.element_at(numbers, F.col(CLUSTER) + 1)).drop(CLUSTER)


def _compare(prep: SparkPrepared, results: list[KResult], a: int, b: int) -> pd.DataFrame:
    """Customers in each pair of segments of k=a and k=b, counted by Spark."""
    ra, rb = results_for(results, a, b)
    t = ra.model.setPredictionCol("__a").transform(prep.table)
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
    base_shares: dict[str, pd.Series] = {}
    shares: dict[int, dict[str, pd.Series]] = {s: {} for s in segs}
    for c in cats:
        frame = to_pandas(labelled.where(F.col(c).isNotNull()).groupBy(SEGMENT, c).count())
        per_category = frame.groupby(c)["count"].sum().sort_values(ascending=False, kind="stable")
        base_shares[c] = per_category / per_category.sum()
        for s in segs:
            part = frame[frame[SEGMENT] == s].set_index(c)["count"]
            part = part.sort_values(ascending=False, kind="stable")
            shares[s][c] = (part / part.sum()).head(TOP_CATEGORIES)
    return SegmentStats(
        rows=int(sum(r["__n"] for r in rows)),
        sizes={s: int(r["__n"]) for s, r in zip(segs, rows, strict=True)},
        means=sums / counts,
        medians=table("median"),
        base_mean=base_mean.astype("float64"),
        base_std=np.sqrt(base_var).astype("float64"),
        base_shares=base_shares,
        shares=shares,
    )


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)
