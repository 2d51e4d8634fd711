#!/usr/bin/env python3
"""`ltv features --cutoff C --label --horizon H` re-implemented in plain PySpark SQL (the
DataFrame API), on the Parquet inputs of features_parquet_compare.py: the peer of
`ltv.spark.features` in spark_features_compare.py. A translation of features_polars.py (same
definitions; see its docstring), with Spark's own tools: group-bys, joins, and window ranks
for the RFM quintiles (a window without a partition: Spark moves the buyers to one task, as
any plain SQL `rank() over (order by …)` does).

    python features_pyspark.py --orders O.parquet --events E.parquet --cutoff 2025-09-30 \
        --horizon-days 90 --utc-offset-seconds 28800 -o out_dir [--master local[2]]
"""
import argparse
import datetime as dt
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# the definitions shared with the polars pipeline this translates
from features_polars import COLUMNS, DAY, GRID, SCALE  # noqa: E402


def build(spark, orders, events, cutoff, horizon, offset, thresholds=(30, 30, 90)):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    d = dt.date.fromisoformat(cutoff)
    c_end = (d - dt.date(1970, 1, 1)).days * DAY + DAY - offset
    l_end = c_end + horizon * DAY
    cutoff_day = (c_end - 1 + offset) // DAY
    c = F.col

    def day(e):
        return F.floor((e + offset) / DAY).cast("long")

    o = spark.read.parquet(orders).select(
        c("customer_id").cast("string").alias("customer_id"),
        F.trim(c("order_id").cast("string")).alias("order_id"),
        F.unix_timestamp(c("ordered_at")).alias("ts"),
        F.round(c("amount").cast("double") * SCALE).cast("long").alias("amt"),
    ).where(c("ts") < l_end).withColumn("pre", c("ts") < c_end) \
        .withColumn("purchase", c("amt") >= 0)
    with_id = c("order_id").isNotNull() & (c("order_id") != "")
    o = o.where(with_id).dropDuplicates(["customer_id", "order_id", "ts", "amt"]) \
        .unionByName(o.where(~with_id))
    o = o.withColumn("day", day(c("ts")))
    pre, fut = o.where(c("pre")), o.where(~c("pre"))
    ts, amt, purchase = c("ts"), c("amt"), c("purchase")

    def when_sum(cond, value=F.lit(1)):
        return F.sum(F.when(cond, value).otherwise(0))

    win = {w: ts >= c_end - w * DAY for w in (30, 90, 365)}
    o_agg = pre.groupBy("customer_id").agg(
        F.min(ts).alias("first_seen_o"),
        when_sum(purchase).alias("orders_total"),
        when_sum(purchase, amt).alias("purchase_amount"),
        (-when_sum(~purchase, amt)).alias("refund_amount"),
        F.sum(amt).alias("spend_total_u"),
        F.min(F.when(purchase, ts)).alias("first_order_ts"),
        F.max(F.when(purchase, ts)).alias("last_order_ts"),
        *[when_sum(purchase & win[w]).alias(f"orders_{w}d") for w in win],
        *[when_sum(win[w], amt).alias(f"spend_{w}d_u") for w in win],
    )
    per_day = pre.groupBy("customer_id", "day").agg(F.sum(amt).alias("net"),
                                                    F.max(purchase.cast("int")).alias("p"))
    days = per_day.where(c("p") == 1).groupBy("customer_id").agg(
        F.count("*").alias("n_days"), F.min("day").alias("first_day"),
        F.max("day").alias("last_day"),
        F.min(F.struct("day", "net")).getField("net").alias("first_day_net"))
    f_agg = fut.groupBy("customer_id").agg(
        F.sum(amt).alias("future_spend_u"), when_sum(purchase).alias("future_orders"),
        F.countDistinct(F.when(purchase, c("day"))).alias("future_purchase_days"))
    e = spark.read.parquet(events).select(
        c("customer_id").cast("string").alias("customer_id"),
        F.unix_timestamp(c("occurred_at")).alias("ts"),
        F.lower(F.trim(c("event").cast("string"))).alias("kind")).where(c("ts") < c_end)
    kind, in90 = c("kind"), c("ts") >= c_end - 90 * DAY
    inter = F.coalesce(kind, F.lit("")) != "push_sent"
    e_agg = e.groupBy("customer_id").agg(
        F.min(ts).alias("first_seen_e"),
        when_sum(ts >= c_end - 30 * DAY).alias("events_30d"),
        when_sum(in90).alias("events_90d"),
        when_sum(in90 & inter).alias("interactions_90d"),
        *[when_sum(in90 & (kind == k)).alias(n) for k, n in (
            ("push_sent", "push_sent_90d"), ("push_open", "push_open_90d"),
            ("click", "click_90d"), ("share", "shares_90d"), ("review", "reviews_90d"))],
        F.max(F.when(inter, ts)).alias("last_interaction"))
    base = o_agg.join(e_agg, "customer_id", "full").join(days, "customer_id", "left") \
        .join(f_agg, "customer_id", "left")
    zero = ["orders_total", "purchase_amount", "refund_amount", "spend_total_u", "orders_30d",
            "orders_90d", "orders_365d", "spend_30d_u", "spend_90d_u", "spend_365d_u",
            "events_30d", "events_90d", "interactions_90d", "push_sent_90d", "push_open_90d",
            "click_90d", "shares_90d", "reviews_90d", "future_spend_u", "future_orders",
            "future_purchase_days"]
    base = base.fillna(0, subset=zero)
    new_within, silent_after, churned_after = thresholds
    first_seen = F.least("first_seen_o", "first_seen_e")
    base = base.select(
        "*",
        (c("n_days") - 1).alias("repeat_purchase_days"),
        (c("last_day") - c("first_day")).alias("days_first_to_last_order"),
        (F.lit(cutoff_day) - c("first_day")).alias("customer_age_days"),
        (F.lit(cutoff_day) - c("last_day")).alias("days_since_last_order"),
        (F.lit(cutoff_day) - day(c("last_interaction"))).alias("days_since_last_interaction"),
        (F.lit(cutoff_day) - day(first_seen)).alias("days_since_first_seen"),
    )
    idle = F.when(c("days_since_last_interaction").isNull(), c("days_since_last_order")) \
        .otherwise(F.least("days_since_last_interaction", "days_since_last_order"))
    buyer = c("orders_total") > 0
    buyers = base.where(buyer)
    n = buyers.count()
    # RFM quintiles over all buyers: plain SQL ranks on a global window
    ranked = buyers.select(
        "customer_id",
        # w = buyers with a strictly worse value: rank − 1 in the worse-first order
        (1 + F.floor(5 * (F.rank().over(Window.orderBy(c("days_since_last_order").desc())) - 1)
                     / n)).cast("long").alias("rfm_r"),
        (1 + F.floor(5 * (F.rank().over(Window.orderBy("orders_total")) - 1) / n))
        .cast("long").alias("rfm_f"),
        (1 + F.floor(5 * (F.rank().over(Window.orderBy("spend_total_u")) - 1) / n))
        .cast("long").alias("rfm_m"),
    )
    base = base.join(ranked, "customer_id", "left")
    fm = F.floor((c("rfm_f") + c("rfm_m") + 1) / 2).cast("long")
    grid = F.create_map(*[x for r in range(5) for f in range(5)
                          for x in (F.lit(r * 5 + f), F.lit(GRID[r][f]))])
    return base.select(
        "*",
        F.when(buyer, c("spend_total_u") / SCALE / c("orders_total")).alias("spend_avg_order"),
        F.when(c("repeat_purchase_days") > 0, (c("spend_total_u") - c("first_day_net")) / SCALE
               / c("repeat_purchase_days")).alias("repeat_spend_avg"),
        F.when(c("purchase_amount") > 0, c("refund_amount") / c("purchase_amount"))
        .alias("refund_rate"),
        (c("interactions_90d") * 30.0 / F.least(F.greatest(c("days_since_first_seen") + 1,
                                                            F.lit(1)), F.lit(90)))
        .alias("interactions_per_month"),
        F.when(c("push_sent_90d") > 0, c("push_open_90d") / c("push_sent_90d"))
        .alias("push_open_rate"),
        F.when(c("push_sent_90d") > 0, c("click_90d") / c("push_sent_90d")).alias("click_rate"),
        F.when(c("first_day").isNull(), "potential")
        .when(c("customer_age_days") < new_within, "new")
        .when(idle < silent_after, "active").when(idle <= churned_after, "silent")
        .otherwise("churned").alias("lifecycle_stage"),
        grid[(c("rfm_r") - 1) * 5 + fm - 1].alias("rfm_segment"),
        F.timestamp_seconds(c("first_order_ts")).alias("first_order_at"),
        F.timestamp_seconds(c("last_order_ts")).alias("last_order_at"),
        (c("spend_total_u") / SCALE).alias("spend_total"),
        (c("spend_30d_u") / SCALE).alias("spend_30d"),
        (c("spend_90d_u") / SCALE).alias("spend_90d"),
        (c("spend_365d_u") / SCALE).alias("spend_365d"),
        (c("future_spend_u") / SCALE).alias("future_spend"),
    ).select(COLUMNS)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orders", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--cutoff", required=True)
    ap.add_argument("--horizon-days", type=int, default=90)
    ap.add_argument("--utc-offset-seconds", type=int, default=0)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--driver-memory", default="4g")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    t0 = time.time()
    spark = (SparkSession.builder.master(a.master).appName("pyspark-features")
             .config("spark.driver.memory", a.driver_memory)
             .config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    t1 = time.time()
    build(spark, a.orders, a.events, a.cutoff, a.horizon_days, a.utc_offset_seconds) \
        .write.mode("overwrite").parquet(a.output)
    print(f"session_s={t1 - t0:.2f} job_s={time.time() - t1:.2f}", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()
