#!/usr/bin/env python3
"""`ltv features --cutoff C --label --horizon H` re-implemented with a polars LazyFrame.

scan_csv -> parse -> dedup -> group_by/agg -> join -> derived columns -> sink_csv.
Same columns and definitions as src/features/ (table.rs FEATURE_COLUMNS + LABEL_COLUMNS):

* instants are UTC seconds; calendar days are `floor((t + offset) / 86400)` (offset 0 = UTC);
* the cutoff date C means rows with t < cutoff_end = start of day C+1; windows `Nd` are
  [cutoff_end - N days, cutoff_end); the label covers [cutoff_end, cutoff_end + H days);
* amounts are fixed-point integers (1/10,000); refunds are negative rows, netted;
* a repeated order row (customer, order_id, instant, amount) counts once, separately before
  the cutoff and inside the label window; rows without an order id are kept;
* a customer exists at the cutoff if any order or event is at or before it.
"""
import argparse
import datetime as dt

import polars as pl

DAY = 86_400
SCALE = 10_000
GRID = [
    ["lost", "hibernating", "at_risk", "at_risk", "cant_lose"],
    ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
    ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    ["promising", "potential_loyalist", "potential_loyalist", "loyal", "champions"],
    ["new", "potential_loyalist", "potential_loyalist", "loyal", "champions"],
]
COLUMNS = [
    "customer_id", "first_order_at", "last_order_at", "orders_total", "repeat_purchase_days",
    "days_first_to_last_order", "customer_age_days", "days_since_last_order", "spend_total",
    "spend_avg_order", "repeat_spend_avg", "refund_rate", "orders_30d", "orders_90d",
    "orders_365d", "spend_30d", "spend_90d", "spend_365d", "events_30d", "events_90d",
    "interactions_per_month", "push_open_rate", "click_rate", "shares_90d", "reviews_90d",
    "days_since_last_interaction", "lifecycle_stage", "rfm_r", "rfm_f", "rfm_m", "rfm_segment",
    "days_since_first_seen", "future_spend", "future_orders", "future_purchase_days",
]


def cutoff_end_of(date: str, offset: int) -> int:
    d = dt.date.fromisoformat(date)
    return (d - dt.date(1970, 1, 1)).days * DAY + DAY - offset


def instant(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%z", time_unit="us").dt.epoch("s")


def build(orders: str, events: str | None, cutoff: str, horizon: int, offset: int,
          thresholds=(30, 30, 90), parquet: bool = False) -> pl.LazyFrame:
    """The feature table as a LazyFrame. With `parquet`, the inputs are Parquet files with
    typed columns (timestamps with a zone, decimal amounts, categorical channels and events),
    read with `scan_parquet`; otherwise CSV text read with `scan_csv`."""
    c_end = cutoff_end_of(cutoff, offset)
    l_end = c_end + horizon * DAY
    cutoff_day = (c_end - 1 + offset) // DAY

    def day(e: pl.Expr) -> pl.Expr:
        return (e + offset) // DAY

    if parquet:
        o = pl.scan_parquet(orders).select(
            pl.col("customer_id").cast(pl.String),
            pl.col("order_id").cast(pl.String),
            ts=pl.col("ordered_at").dt.epoch("s"),
            amt=(pl.col("amount").cast(pl.Float64) * SCALE).round().cast(pl.Int64),
        )
    else:
        o = pl.scan_csv(orders, schema_overrides={
            "customer_id": pl.String, "order_id": pl.String,
            "ordered_at": pl.String, "amount": pl.String}).select(
            pl.col("customer_id"),
            pl.col("order_id").str.strip_chars(),
            ts=instant("ordered_at"),
            amt=(pl.col("amount").str.strip_chars().cast(pl.Float64) * SCALE).round().cast(pl.Int64),
        )
    o = (
        o
        .filter(pl.col("ts") < l_end)
        .with_columns(pre=pl.col("ts") < c_end, purchase=pl.col("amt") >= 0)
    )
    with_id = pl.col("order_id").is_not_null() & (pl.col("order_id") != "")
    o = pl.concat([
        o.filter(with_id).unique(["customer_id", "order_id", "ts", "amt"], keep="any"),
        o.filter(~with_id),
    ])
    o = o.with_columns(day=day(pl.col("ts")))
    pre = o.filter(pl.col("pre"))
    fut = o.filter(~pl.col("pre"))

    amt, ts, purchase = pl.col("amt"), pl.col("ts"), pl.col("purchase")
    win = {w: ts >= c_end - w * DAY for w in (30, 90, 365)}
    o_agg = pre.group_by("customer_id").agg(
        first_seen_o=ts.min(),
        orders_total=purchase.sum(),
        purchase_amount=amt.filter(purchase).sum(),
        refund_amount=-amt.filter(~purchase).sum(),
        spend_total_u=amt.sum(),
        first_order_ts=ts.filter(purchase).min(),
        last_order_ts=ts.filter(purchase).max(),
        **{f"orders_{w}d": (purchase & win[w]).sum() for w in win},
        **{f"spend_{w}d_u": amt.filter(win[w]).sum() for w in win},
    )
    days = (
        pre.group_by("customer_id", "day")
        .agg(net=amt.sum(), purchase=purchase.any())
        .filter(pl.col("purchase"))
        .group_by("customer_id")
        .agg(
            n_days=pl.len(),
            first_day=pl.col("day").min(),
            last_day=pl.col("day").max(),
            first_day_net=pl.col("net").sort_by("day").first(),
        )
    )
    f_agg = fut.group_by("customer_id").agg(
        future_spend_u=amt.sum(),
        future_orders=purchase.sum(),
        future_purchase_days=pl.col("day").filter(purchase).n_unique(),
    )
    base = o_agg
    if events:
        if parquet:
            e = pl.scan_parquet(events).select(
                pl.col("customer_id").cast(pl.String), ts=pl.col("occurred_at").dt.epoch("s"),
                kind=pl.col("event").cast(pl.String).str.strip_chars().str.to_lowercase())
        else:
            e = pl.scan_csv(events, schema_overrides={
                "customer_id": pl.String, "occurred_at": pl.String, "event": pl.String}).select(
                pl.col("customer_id"), ts=instant("occurred_at"),
                kind=pl.col("event").str.strip_chars().str.to_lowercase())
        e = e.filter(pl.col("ts") < c_end)
        kind = pl.col("kind")
        in90 = ts >= c_end - 90 * DAY
        inter = kind.fill_null("") != "push_sent"
        e_agg = e.group_by("customer_id").agg(
            first_seen_e=ts.min(),
            events_30d=(ts >= c_end - 30 * DAY).sum(),
            events_90d=in90.sum(),
            interactions_90d=(in90 & inter).sum(),
            push_sent_90d=(in90 & (kind == "push_sent")).sum(),
            push_open_90d=(in90 & (kind == "push_open")).sum(),
            click_90d=(in90 & (kind == "click")).sum(),
            shares_90d=(in90 & (kind == "share")).sum(),
            reviews_90d=(in90 & (kind == "review")).sum(),
            last_interaction=ts.filter(inter).max(),
        )
        base = base.join(e_agg, on="customer_id", how="full", coalesce=True)
    else:
        base = base.with_columns(
            first_seen_e=pl.lit(None, pl.Int64), last_interaction=pl.lit(None, pl.Int64),
            **{k: pl.lit(0, pl.UInt32) for k in (
                "events_30d", "events_90d", "interactions_90d", "push_sent_90d",
                "push_open_90d", "click_90d", "shares_90d", "reviews_90d")})
    base = base.join(days, on="customer_id", how="left").join(f_agg, on="customer_id", how="left")

    zero_cols = ["orders_total", "purchase_amount", "refund_amount", "spend_total_u",
                 "orders_30d", "orders_90d", "orders_365d", "spend_30d_u", "spend_90d_u",
                 "spend_365d_u", "events_30d", "events_90d", "interactions_90d",
                 "push_sent_90d", "push_open_90d", "click_90d", "shares_90d", "reviews_90d",
                 "future_spend_u", "future_orders", "future_purchase_days"]
    base = base.with_columns([pl.col(c).fill_null(0) for c in zero_cols])

    new_within, silent_after, churned_after = thresholds
    c = pl.col
    first_seen = pl.min_horizontal("first_seen_o", "first_seen_e")
    base = base.with_columns(
        repeat_purchase_days=c("n_days") - 1,
        days_first_to_last_order=c("last_day") - c("first_day"),
        customer_age_days=cutoff_day - c("first_day"),
        days_since_last_order=cutoff_day - c("last_day"),
        days_since_last_interaction=cutoff_day - day(c("last_interaction")),
        days_since_first_seen=cutoff_day - day(first_seen),
    )
    idle = pl.when(c("days_since_last_interaction").is_null()).then(c("days_since_last_order")) \
        .otherwise(pl.min_horizontal("days_since_last_interaction", "days_since_last_order"))
    buyer = c("orders_total") > 0
    n_buyers = buyer.sum()
    r_v = pl.when(buyer).then(c("days_since_last_order"))
    f_v = pl.when(buyer).then(c("orders_total"))
    m_v = pl.when(buyer).then(c("spend_total_u"))
    base = base.with_columns(
        spend_avg_order=pl.when(buyer).then(c("spend_total_u") / SCALE / c("orders_total")),
        repeat_spend_avg=pl.when(c("repeat_purchase_days") > 0).then(
            (c("spend_total_u") - c("first_day_net")) / SCALE / c("repeat_purchase_days")),
        refund_rate=pl.when(c("purchase_amount") > 0).then(
            c("refund_amount") / c("purchase_amount")),
        interactions_per_month=c("interactions_90d") * 30.0
        / (c("days_since_first_seen") + 1).clip(1, 90),
        push_open_rate=pl.when(c("push_sent_90d") > 0).then(c("push_open_90d") / c("push_sent_90d")),
        click_rate=pl.when(c("push_sent_90d") > 0).then(c("click_90d") / c("push_sent_90d")),
        lifecycle_stage=pl.when(c("first_day").is_null()).then(pl.lit("potential"))
        .when(c("customer_age_days") < new_within).then(pl.lit("new"))
        .when(idle < silent_after).then(pl.lit("active"))
        .when(idle <= churned_after).then(pl.lit("silent"))
        .otherwise(pl.lit("churned")),
        rfm_r=1 + (5 * (n_buyers - r_v.rank("max"))) // n_buyers,
        rfm_f=1 + (5 * (f_v.rank("min") - 1)) // n_buyers,
        rfm_m=1 + (5 * (m_v.rank("min") - 1)) // n_buyers,
    )
    fm = (c("rfm_f") + c("rfm_m") + 1) // 2
    grid = {r * 5 + f: GRID[r][f] for r in range(5) for f in range(5)}
    off = f"{'-' if offset < 0 else '+'}{abs(offset) // 3600:02}:{abs(offset) % 3600 // 60:02}"

    def stamp(e: pl.Expr) -> pl.Expr:
        return pl.from_epoch(e + offset, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S") + off

    return base.with_columns(
        rfm_segment=((c("rfm_r") - 1) * 5 + fm - 1).replace_strict(grid, default=None,
                                                                   return_dtype=pl.String),
        first_order_at=stamp(c("first_order_ts")),
        last_order_at=stamp(c("last_order_ts")),
        spend_total=c("spend_total_u") / SCALE,
        spend_30d=c("spend_30d_u") / SCALE,
        spend_90d=c("spend_90d_u") / SCALE,
        spend_365d=c("spend_365d_u") / SCALE,
        future_spend=c("future_spend_u") / SCALE,
    ).select(COLUMNS).sort("customer_id")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orders", required=True)
    ap.add_argument("--events")
    ap.add_argument("--cutoff", required=True, help="YYYY-MM-DD")
    ap.add_argument("--horizon-days", type=int, default=90)
    ap.add_argument("--utc-offset-seconds", type=int, default=0)
    ap.add_argument("--parquet", action="store_true", help="inputs are Parquet (scan_parquet)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    lf = build(a.orders, a.events, a.cutoff, a.horizon_days, a.utc_offset_seconds,
               parquet=a.parquet)
    lf.sink_csv(a.output, float_precision=6)


if __name__ == "__main__":
    main()
