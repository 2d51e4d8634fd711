#!/usr/bin/env python3
"""Seeded synthetic orders.csv + events.csv for the `ltv features` benchmark.

Full scale (default): ~10M order rows + 20M event rows over ~1M customers.
`--small`: ~50k order rows + 100k event rows over 5k customers (correctness checks).

Random draws are numpy (seeded); CSV formatting and writing use polars because it is the
fastest writer available in the venv. Timestamps are RFC 3339 with a `+08:00` offset at whole
seconds between 2024-01-01 and 2025-12-31 (UTC+8), so calendar days in UTC and in UTC+8 differ.

orders.csv: order_id,customer_id,ordered_at,amount,channel
  - ~3% refund rows: negative amount, own order id `R…`, 10 min–30 days after the refunded
    order (so some fall on the purchase day itself and net into its day total).
  - ~0.2% exact duplicate rows (same order id) to exercise the "counted once" rule.
events.csv: customer_id,occurred_at,event,channel with the ten contract kinds.
"""
import argparse
import os
import sys
import time

import numpy as np
import polars as pl

START = int(np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)) - 8 * 3600
END = int(np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64)) - 8 * 3600
CHANNELS = np.array(["wechat_mp", "app", "store", "tmall", "douyin"])
KINDS = np.array(["push_sent", "push_open", "click", "visit", "share",
                  "review", "like", "comment", "join_group", "live_view"])
KIND_P = np.array([0.30, 0.08, 0.10, 0.25, 0.05, 0.03, 0.08, 0.04, 0.02, 0.05])


def stamps(ts: pl.Expr) -> pl.Expr:
    """UTC seconds -> 'YYYY-MM-DDTHH:MM:SS+08:00'."""
    local = pl.from_epoch(ts + 8 * 3600, time_unit="s")
    return local.dt.strftime("%Y-%m-%dT%H:%M:%S") + pl.lit("+08:00")


def draw_times(rng, start, n):
    """Uniform instants between each row's customer start and END."""
    span = (END - start).astype(np.float64)
    return start + (rng.random(n) * span).astype(np.int64)


def generate(n_customers, n_orders, n_events, seed, out_dir):
    rng = np.random.default_rng(seed)
    t0 = time.time()
    # Customers: acquisition instant (skewed towards later dates), heterogeneous activity.
    cust_start = START + (rng.beta(1.3, 1.0, n_customers) * (END - START)).astype(np.int64)
    buy_rate = rng.gamma(0.6, 1.0, n_customers)
    buy_rate[rng.random(n_customers) < 0.25] = 0.0  # a quarter never buy (potential)
    engage = rng.gamma(0.8, 1.0, n_customers) * (0.5 + buy_rate)
    width = len(str(n_customers - 1))
    ids = np.char.add("C", np.char.zfill(np.arange(n_customers).astype(str), width))

    # Orders (purchases), then refunds of ~3% of them, then ~0.2% exact duplicates.
    n_refund = int(round(n_orders * 0.03))
    n_dup = int(round(n_orders * 0.002))
    n_buy = n_orders - n_refund - n_dup
    p = buy_rate / buy_rate.sum()
    cust = rng.choice(n_customers, size=n_buy, p=p)
    ts = draw_times(rng, cust_start[cust], n_buy)
    amount = np.round(np.exp(rng.normal(4.6, 0.9, n_buy)), 2)  # median ~100
    chan = rng.integers(0, len(CHANNELS), n_buy)
    oid = np.arange(n_buy)
    r = rng.choice(n_buy, size=n_refund, replace=False)
    r_ts = ts[r] + rng.integers(600, 30 * 86400, n_refund)  # some on the order's own day
    r_amount = -np.round(amount[r] * rng.uniform(0.2, 1.0, n_refund), 2)
    r_amount = np.minimum(r_amount, -0.01)
    d = rng.choice(n_buy, size=n_dup, replace=False)
    all_cust = np.concatenate([cust, cust[r], cust[d]])
    all_ts = np.concatenate([ts, r_ts, ts[d]])
    all_amt = np.concatenate([amount, r_amount, amount[d]])
    all_chan = np.concatenate([chan, chan[r], chan[d]])
    prefix = np.concatenate([np.zeros(n_buy, bool), np.ones(n_refund, bool), np.zeros(n_dup, bool)])
    all_oid = np.concatenate([oid, oid[r], oid[d]])
    order = np.argsort(all_ts, kind="stable")  # files are roughly in time order
    orders = pl.DataFrame({
        "oid": all_oid[order], "refund": prefix[order], "cust": all_cust[order],
        "ts": all_ts[order], "amount": all_amt[order], "chan": all_chan[order],
    })
    orders = orders.select(
        order_id=pl.when(pl.col("refund")).then(pl.lit("R")).otherwise(pl.lit("O"))
        + pl.col("oid").cast(pl.String),
        customer_id=pl.lit(pl.Series(ids)).gather(pl.col("cust")),
        ordered_at=stamps(pl.col("ts")),
        amount=pl.col("amount").round(2),
        channel=pl.lit(pl.Series(CHANNELS)).gather(pl.col("chan")),
    )
    os.makedirs(out_dir, exist_ok=True)
    orders.write_csv(os.path.join(out_dir, "orders.csv"), float_precision=2)
    del orders
    print(f"orders.csv: {n_orders} rows ({time.time() - t0:.1f}s)", file=sys.stderr)

    # Events.
    p = engage / engage.sum()
    ecust = rng.choice(n_customers, size=n_events, p=p)
    ets = np.sort(draw_times(rng, cust_start[ecust], n_events))
    kind = rng.choice(len(KINDS), size=n_events, p=KIND_P)
    echan = rng.integers(0, len(CHANNELS), n_events)
    events = pl.DataFrame({"cust": ecust, "ts": ets, "kind": kind, "chan": echan}).select(
        customer_id=pl.lit(pl.Series(ids)).gather(pl.col("cust")),
        occurred_at=stamps(pl.col("ts")),
        event=pl.lit(pl.Series(KINDS)).gather(pl.col("kind")),
        channel=pl.lit(pl.Series(CHANNELS)).gather(pl.col("chan")),
    )
    events.write_csv(os.path.join(out_dir, "events.csv"))
    print(f"events.csv: {n_events} rows ({time.time() - t0:.1f}s)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="~50k orders, 100k events, 5k customers")
    ap.add_argument("--customers", type=int)
    ap.add_argument("--orders", type=int)
    ap.add_argument("--events", type=int)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", help="output directory (default benches/compare/data/{full,small})")
    a = ap.parse_args()
    scale = "small" if a.small else "full"
    n_c, n_o, n_e = (5_000, 50_000, 100_000) if a.small else (1_000_000, 10_000_000, 20_000_000)
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", scale)
    generate(a.customers or n_c, a.orders or n_o, a.events or n_e, a.seed, out)


if __name__ == "__main__":
    main()
