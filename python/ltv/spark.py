"""`ltv` on Apache Spark: features and scores of a whole customer base where it already lives.

The work runs on the executors, in the same Rust engine as the CLI: the inputs are put in one
table partitioned by customer id (every row of a customer, from every input, in one
partition), each partition is handed to the engine as Arrow batches (`mapInArrow`, no pandas),
and nothing but a few numbers is collected on the driver. The two quantities that depend on
the whole base are computed exactly, not approximately: the RFM quintile bounds (four order
statistics of recency, frequency and monetary value among buyers) and the tier cut-offs (two
order statistics of the predicted value), each found with a bracketing sketch
(`approxQuantile`), a count and the few values inside the bracket.

The results equal the CLI's on the same data, value for value, for any number of partitions and
any order of the input rows (the fold's rules do not depend on row order; see the README).

>>> from pyspark.sql import SparkSession                              # doctest: +SKIP
>>> spark = SparkSession.builder.master("local[*]").getOrCreate()      # doctest: +SKIP
>>> orders = spark.read.parquet("lake/orders")                          # doctest: +SKIP
>>> feats = ltv.spark.features(orders, cutoff="2025-06-30")             # doctest: +SKIP
>>> model = ltv.load_model("model.json")                                # doctest: +SKIP
>>> scores = ltv.spark.score(orders, model=model, as_of="2025-06-30")   # doctest: +SKIP
>>> scores.write.partitionBy("month").parquet("lake/scores")           # doctest: +SKIP

Needs `pyspark` (tested with 4.3 on Java 17) and the `ltv` package installed on the executors
(see the README for `spark-submit` with a packed venv).
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any, Dict, List, Optional, Sequence

import pyarrow as pa

from . import Model, _ltv, _opts, _Stream
from ._errors import InputError, ModelError

__all__ = ["features", "score", "train"]

# (input, contract columns, how many of them are required), in the engine's kind order
_INPUTS = [
    ("orders", ["customer_id", "ordered_at", "amount", "order_id", "channel"], 3),
    ("events", ["customer_id", "occurred_at", "event", "channel"], 3),
    ("comments", ["customer_id", "created_at", "text", "rating"], 3),
    ("customers", ["customer_id", "first_seen_at", "acquisition_channel"], 1),
]
_STRUCT = {name: f"_ltv_{name}" for name, _, _ in _INPUTS}


def _mapping(map) -> Dict[str, str]:
    if map is None:
        return {}
    if isinstance(map, dict):
        return dict(map)
    out = {}
    for part in str(map).split(","):
        if part.strip():
            k, _, v = part.partition("=")
            out[k.strip()] = v.strip()
    return out


def _union(inputs, column_map: Dict[str, str]):
    """One DataFrame of every input's rows: customer_id (string), _ltv_kind, one struct column
    per input with its contract columns (null on the other inputs' rows)."""
    from pyspark.sql import functions as F

    parts = []
    for kind, (name, columns, required) in enumerate(_INPUTS):
        df = inputs[kind]
        if df is None:
            continue
        present = []
        for i, c in enumerate(columns):
            source = column_map.get(c, c)
            if source in df.columns:
                present.append((c, source))
            elif i < required:
                raise InputError(
                    f"{name}: missing required column `{source}`"
                    + (f" (mapped from `{c}`)" if source != c else "")
                    + f"; columns: {', '.join(df.columns)}"
                )
        fields = [F.col(f"`{s}`").alias(c) for c, s in present if c != "customer_id"]
        parts.append((kind, df.select(
            F.col(f"`{column_map.get('customer_id', 'customer_id')}`").cast("string")
            .alias("customer_id"),
            F.lit(kind).cast("int").alias("_ltv_kind"),
            F.struct(*fields).alias(_STRUCT[name]),
        )))
    types = {kind: df.schema[_STRUCT[_INPUTS[kind][0]]].dataType for kind, df in parts}
    union = None
    for kind, df in parts:
        cols = [F.col("customer_id"), F.col("_ltv_kind")]
        for other, t in types.items():
            struct = _STRUCT[_INPUTS[other][0]]
            cols.append(F.col(struct) if other == kind else F.lit(None).cast(t).alias(struct))
        df = df.select(*cols)
        union = df if union is None else union.unionByName(df)
    return union


def _spark_type_of(t: pa.DataType) -> pa.DataType:
    """The Arrow type Spark takes back for an engine column: dictionaries as their values,
    instants as microsecond UTC timestamps."""
    if pa.types.is_dictionary(t):
        return t.value_type
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    return t


def _spark_schema(arrow_schema: pa.Schema):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(
        pa.schema([pa.field(f.name, _spark_type_of(f.type), True) for f in arrow_schema]),
        prefer_timestamp_ntz=False,
    )


def _conform(table: pa.Table, target: pa.Schema):
    """`table`'s batches cast to the Arrow schema Spark expects."""
    for batch in table.to_batches():
        yield batch.cast(target)


def _target_schema(spark_schema, spark) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    large = str(spark.conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false")).lower()
    zone = spark.conf.get("spark.sql.session.timeZone", "UTC")
    return to_arrow_schema(spark_schema, timezone=zone, prefers_large_types=large == "true")


def _fold_partition(batches, *, given, cutoff, horizon, label, opts, threads, target):
    batches = [b for b in batches if b.num_rows]
    if not batches:
        return
    reader = pa.RecordBatchReader.from_batches(batches[0].schema, batches)
    out = pa.table(_Stream(_ltv.spark_fold(reader, given, cutoff, horizon, label, opts, threads)))
    yield from _conform(out, target)


def _rescore_partition(batches, *, bounds, target):
    batches = [b for b in batches if b.num_rows]
    if not batches:
        return
    table = pa.Table.from_batches(batches)
    yield from _conform(pa.table(_Stream(_ltv.spark_rescore(table, bounds))), target)


def _predict_partition(batches, *, model_json, threads, target):
    batches = [b for b in batches if b.num_rows]
    if not batches:
        return
    feats = pa.Table.from_batches(batches)
    model = Model(_ltv.ModelFile.from_json(model_json))
    p = model.predict_table(feats, threads=threads)
    import pyarrow.compute as pc

    # NaN is written as null, as the CLI's score files have it
    for i, name in enumerate(p.column_names):
        if pa.types.is_floating(p.schema.field(name).type):
            col = p.column(name)
            p = p.set_column(i, name, pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col))
    out = p.append_column("lifecycle_stage", feats.column("lifecycle_stage")).append_column(
        "rfm_segment", feats.column("rfm_segment"))
    yield from _conform(out, target)


def _tier_partition(batches, *, a, b, target):
    batches = [x for x in batches if x.num_rows]
    if not batches:
        return
    table = pa.Table.from_batches(batches)
    yield from _conform(pa.table(_Stream(_ltv.spark_tiers(table, "predicted_value", a, b))),
                        target)


def _order_statistics(df, wanted: Dict[str, Sequence[int]], n: int, eps: float = 1e-3):
    """For each column of `wanted`, the values at its 0-based ranks of the ascending order of
    its `n` values (none null or NaN), exactly, in three jobs for all columns together:
    brackets from `approxQuantile`, the count below each bracket, and the values inside the
    brackets (≈ 4·eps·n per rank). A bracket the sketch missed is widened to every value and
    the last two jobs repeated."""
    from pyspark.sql import functions as F

    wanted = {c: list(r) for c, r in wanted.items() if r}
    if not wanted:
        return {}
    names = list(wanted)
    v = df.select(*[F.col(f"`{c}`").cast("double").alias(f"v{i}") for i, c in enumerate(names)])
    slack = int(2 * eps * n) + 2
    brackets = {}  # column index → [(rank, lo, hi)]
    probs = {i: [max(0.0, (r - slack) / n) for r in wanted[c]]
             + [min(1.0, (r + slack + 1) / n) for r in wanted[c]] for i, c in enumerate(names)}
    # approxQuantile takes one list of probabilities for all columns: ask for the union
    grid = sorted({p for ps in probs.values() for p in ps})
    qs = v.approxQuantile([f"v{i}" for i in range(len(names))], grid, eps)
    for i, c in enumerate(names):
        at = dict(zip(grid, qs[i]))
        k = len(wanted[c])
        brackets[i] = [(r, at[probs[i][j]], at[probs[i][k + j]]) for j, r in enumerate(wanted[c])]
    for attempt in range(2):
        counts = v.agg(*[F.sum((F.col(f"v{i}") < lo).cast("long"))
                         for i in brackets for _, lo, _ in brackets[i]]).first()
        below, j = {}, 0
        for i in brackets:
            for r, lo, hi in brackets[i]:
                below[(i, r)] = int(counts[j] or 0)
                j += 1
        # the values inside the brackets, each tagged with its column
        inside_parts = []
        for i in brackets:
            cond = None
            for _, lo, hi in brackets[i]:
                c = (F.col(f"v{i}") >= lo) & (F.col(f"v{i}") <= hi)
                cond = c if cond is None else cond | c
            inside_parts.append(v.where(cond).select(F.lit(i).alias("i"),
                                                     F.col(f"v{i}").alias("v")))
        inside_df = inside_parts[0]
        for part in inside_parts[1:]:
            inside_df = inside_df.unionByName(part)
        inside: Dict[int, List[float]] = {i: [] for i in brackets}
        for row in inside_df.collect():
            inside[row[0]].append(row[1])
        out, missed = {c: [] for c in names}, False
        for i, c in enumerate(names):
            values = sorted(inside[i])
            for r, lo, hi in brackets[i]:
                vals = [x for x in values if lo <= x <= hi]
                idx = r - below[(i, r)]
                if 0 <= idx < len(vals):
                    out[c].append(vals[idx])
                else:
                    missed = True
        if not missed:
            return out
        brackets = {i: [(r, -math.inf, math.inf) for r, _, _ in b] for i, b in brackets.items()}
    raise RuntimeError("ltv.spark: could not select the order statistics exactly")


def _rfm_bounds(folded) -> str:
    from pyspark.sql import functions as F

    buyers = folded.where(F.col("orders_total") > 0)
    n = buyers.count()
    metrics = (("recency", "days_since_last_order", False),
               ("frequency", "orders_total", True),
               ("monetary", "spend_total", True))
    if n == 0:
        return json.dumps({k: {"higher_is_better": h, "bounds": [0.0] * 4}  # nobody to score
                           for k, _, h in metrics})
    values = _order_statistics(buyers, {c: list(_ltv.quintile_ranks(n, h)) for _, c, h in metrics}, n)
    return json.dumps({k: {"higher_is_better": h, "bounds": values[c]} for k, c, h in metrics})


def _resolve_offset(orders, utc_offset: Optional[str], column_map: Dict[str, str]):
    """The offset to count days in: as given, else the one the orders carry (a zoned timestamp
    column, else the first timestamps written as text), as `ltv features` does."""
    if utc_offset is not None:
        return utc_offset
    sample = orders.limit(64)
    try:
        table = sample.toArrow()
    except AttributeError:  # pyspark < 4
        table = pa.Table.from_pandas(sample.toPandas(), preserve_index=False)
    renamed = {v: k for k, v in column_map.items()}
    table = table.rename_columns([renamed.get(c, c) for c in table.column_names])
    seconds = _ltv.sniff_utc_offset(table)
    if seconds is None:
        return "+00:00"
    sign = "-" if seconds < 0 else "+"
    s = abs(seconds)
    return f"{sign}{s // 3600:02d}:{s % 3600 // 60:02d}"


def _features(orders, events, comments, customers, *, cutoff, horizon, label, partitions,
              threads_per_task, read_options, lifecycle=None):
    spark = orders.sparkSession
    column_map = _mapping(read_options.pop("map", None))
    opts = _opts(**read_options)
    opts["utc_offset"] = _resolve_offset(orders, opts.get("utc_offset"), column_map)
    if lifecycle:
        opts.update(lifecycle)
    inputs = [orders, events, comments, customers]
    given = [d is not None for d in inputs]
    union = _union(inputs, column_map)
    p = partitions or spark.sparkContext.defaultParallelism
    parts = union.repartition(max(int(p), 1), "customer_id")
    # the output schema: the engine's, from an empty partition on the driver
    empty = pa.Table.from_batches([], schema=_arrow_schema_of(union))
    probe = pa.table(_Stream(_ltv.spark_fold(empty, given, cutoff, horizon or "90d", label,
                                             opts, 1)))
    schema = _spark_schema(probe.schema)
    target = _target_schema(schema, spark)
    fold = functools.partial(_fold_partition, given=given, cutoff=cutoff,
                             horizon=horizon or "90d", label=label, opts=opts,
                             threads=threads_per_task, target=target)
    folded = parts.mapInArrow(fold, schema).persist()
    bounds = _rfm_bounds(folded)
    rescore = functools.partial(_rescore_partition, bounds=bounds, target=target)
    return folded.mapInArrow(rescore, schema), opts


def _arrow_schema_of(df) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(df.schema, timezone="UTC")


def features(
    orders,
    events=None,
    comments=None,
    customers=None,
    *,
    cutoff: str,
    horizon: Optional[str] = None,
    label: bool = False,
    partitions: Optional[int] = None,
    threads_per_task: int = 1,
    **read_options,
):
    """`ltv features` on Spark DataFrames: one row per customer at `cutoff`, with exactly the
    columns and values of the CLI (and of `ltv.features`), as a Spark DataFrame.

    Inputs are Spark DataFrames with the contract's columns (or `map={"customer_id":
    "user_id", ...}`); Spark's timestamp, date, decimal, string and integer types are read as
    in Parquet. `partitions` sets how many tasks fold the customers (default: the default
    parallelism); each holds its customers' rows in memory (about the size of those rows
    in Arrow). Read options as in `ltv.features` (`utc_offset`, `time_format`,
    `on_bad_rows`, lifecycle thresholds); without `utc_offset`, days count in the offset the
    orders carry, as on the command line.

    >>> feats = ltv.spark.features(orders_df, events_df, cutoff="2025-06-30",   # doctest: +SKIP
    ...                            horizon="90d", label=True)
    """
    df, _ = _features(orders, events, comments, customers, cutoff=cutoff, horizon=horizon,
                      label=label, partitions=partitions, threads_per_task=threads_per_task,
                      read_options=dict(read_options))
    return df


def _check_trained_with(model: Model, given: Sequence[bool]):
    trained = model.info.get("trained_with") or {}
    for (name, _, _), has in zip(_INPUTS[1:], given[1:]):
        if trained.get(name) and not has:
            raise ModelError(
                f"the model was trained with `{name}`; give them to score "
                f"(their features would silently be zeros)")


def score(
    orders,
    events=None,
    comments=None,
    customers=None,
    *,
    model: Model,
    as_of: str,
    tier_a: float = 0.2,
    tier_b: float = 0.3,
    partitions: Optional[int] = None,
    threads_per_task: int = 1,
    **read_options,
):
    """`ltv score` on Spark DataFrames: every customer's predicted value, churn probability,
    P(alive), expected orders, lifecycle stage, RFM segment and tier, as a Spark DataFrame with
    the CLI's columns and values. The tier cut-offs are the whole base's (the values at ranks
    `ceil(tier_a·n)` and `ceil((tier_a + tier_b)·n)` of the descending predicted values, found
    exactly), so the tiers equal the single-machine ones.

    >>> scores = ltv.spark.score(orders_df, model=ltv.load_model("model.json"),  # doctest: +SKIP
    ...                          as_of="2025-06-30")
    """
    from pyspark.sql import functions as F

    if not (tier_a > 0 and tier_b >= 0 and tier_a + tier_b <= 1):
        raise InputError(f"invalid tier shares {tier_a}/{tier_b}: need 0 < A, 0 <= B, A + B <= 1")
    _check_trained_with(model, [d is not None for d in (orders, events, comments, customers)])
    lifecycle = model.info.get("lifecycle") or {}
    feats, _ = _features(orders, events, comments, customers, cutoff=as_of, horizon=None,
                         label=False, partitions=partitions, threads_per_task=threads_per_task,
                         read_options=dict(read_options), lifecycle={
                             k: lifecycle.get(k) for k in
                             ("new_within_days", "silent_after_days", "churned_after_days")})
    spark = orders.sparkSession
    model_json = model._file.to_json()
    pred_schema = pa.schema([
        ("customer_id", pa.string()), ("predicted_value", pa.float64()),
        ("churn_probability", pa.float64()), ("p_alive", pa.float64()),
        ("expected_orders", pa.float64()), ("lifecycle_stage", pa.string()),
        ("rfm_segment", pa.string()),
    ])
    schema = _spark_schema(pred_schema)
    predict = functools.partial(_predict_partition, model_json=model_json,
                                threads=threads_per_task, target=_target_schema(schema, spark))
    predicted = feats.mapInArrow(predict, schema).persist()
    # a NaN prediction is written as null; the engine orders NaN above every value
    counts = predicted.agg(F.count(F.lit(1)),
                           F.sum(F.col("predicted_value").isNull().cast("long"))).first()
    n, nans = int(counts[0]), int(counts[1] or 0)
    if n == 0:
        raise InputError("no customers to score")
    ra, rb = _ltv.tier_ranks(n, tier_a, tier_b)
    # descending ranks with NaN highest (as the engine's total order) → ascending ranks
    want = [n - 1 - r for r in (ra, rb)]
    finite = [w for w in want if w < n - nans]
    values = dict(zip(finite, _order_statistics(
        predicted.where(F.col("predicted_value").isNotNull()), {"predicted_value": finite},
        n - nans).get("predicted_value", [])))
    a, b = (values.get(w, math.nan) for w in want)
    tiered_schema = _spark_schema(pred_schema.append(pa.field("tier", pa.string())))
    tier = functools.partial(_tier_partition, a=a, b=b,
                             target=_target_schema(tiered_schema, spark))
    return predicted.mapInArrow(tier, tiered_schema)


def train(
    orders,
    events=None,
    comments=None,
    customers=None,
    *,
    cutoff: str,
    horizon: str = "90d",
    model: str = "auto",
    sample: Optional[float] = None,
    seed: int = 42,
    **kwargs: Any,
) -> Model:
    """Trains on the driver: the inputs (or a `sample` fraction of the customers, all their
    rows kept together) are brought to the driver as Arrow and `ltv.train` runs there, giving
    the same `ltv.Model` as the Python API. Limits: the driver must hold the (sampled) rows;
    the features of a sample are those of the sampled customers' own rows, and the RFM scores
    are ranked within the sample.

    >>> m = ltv.spark.train(orders_df, cutoff="2025-03-31", sample=0.1)   # doctest: +SKIP
    """
    from pyspark.sql import functions as F

    from . import train as train_local

    def bring(df):
        if df is None:
            return None
        if sample is not None:
            keep = (F.abs(F.xxhash64(F.col("customer_id").cast("string"), F.lit(seed)))
                    % 1_000_000) < int(sample * 1_000_000)
            df = df.where(keep)
        return df.toArrow()

    return train_local(bring(orders), bring(events), bring(comments), bring(customers),
                       cutoff=cutoff, horizon=horizon, model=model, seed=seed, **kwargs)
