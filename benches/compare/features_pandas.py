#!/usr/bin/env python3
"""`ltv features --cutoff C --label --horizon H` re-implemented with pandas (eager).

read_csv -> parse -> dedup -> groupby/agg -> merge -> derived columns -> to_csv.
Same definitions as features_polars.py (see its docstring) and src/features/.
"""
import argparse

import numpy as np
import pandas as pd

from features_polars import COLUMNS, DAY, GRID, SCALE, cutoff_end_of


def instants(s: pd.Series) -> np.ndarray:
    t = pd.to_datetime(s.str.strip(), format="%Y-%m-%dT%H:%M:%S%z", utc=True)
    return (t - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)


def stamp(sec: pd.Series, offset: int) -> pd.Series:
    off = f"{'-' if offset < 0 else '+'}{abs(offset) // 3600:02}:{abs(offset) % 3600 // 60:02}"
    t = pd.to_datetime(sec + offset, unit="s")
    return t.dt.strftime("%Y-%m-%dT%H:%M:%S") + off


def build(orders, events, cutoff, horizon, offset, thresholds=(30, 30, 90)) -> pd.DataFrame:
    c_end = cutoff_end_of(cutoff, offset)
    l_end = c_end + horizon * DAY
    cutoff_day = (c_end - 1 + offset) // DAY

    o = pd.read_csv(orders, usecols=["customer_id", "order_id", "ordered_at", "amount"],
                    dtype={"customer_id": str, "order_id": str, "ordered_at": str,
                           "amount": np.float64}, keep_default_na=False, na_values=[""])
    o["ts"] = instants(o.pop("ordered_at"))
    o["amt"] = np.round(o.pop("amount").to_numpy() * SCALE).astype(np.int64)
    o = o[o["ts"] < l_end]
    o["pre"] = o["ts"] < c_end
    o["purchase"] = o["amt"] >= 0
    oid = o["order_id"].str.strip()
    has_id = oid.notna() & (oid != "")
    dup = o[has_id].duplicated(["customer_id", "order_id", "ts", "amt"], keep="first")
    o = pd.concat([o[has_id][~dup.to_numpy()], o[~has_id]])
    o["day"] = (o["ts"] + offset) // DAY
    pre = o[o["pre"]]
    fut = o[~o["pre"]]

    buy = pre[pre["purchase"]]
    g = pre.groupby("customer_id", sort=False)
    agg = pd.DataFrame({
        "first_seen_o": g["ts"].min(),
        "orders_total": g["purchase"].sum(),
        "spend_total_u": g["amt"].sum(),
        "refund_amount": -pre[~pre["purchase"]].groupby("customer_id")["amt"].sum(),
        "purchase_amount": buy.groupby("customer_id")["amt"].sum(),
        "first_order_ts": buy.groupby("customer_id")["ts"].min(),
        "last_order_ts": buy.groupby("customer_id")["ts"].max(),
    })
    for w in (30, 90, 365):
        inw = pre[pre["ts"] >= c_end - w * DAY]
        gw = inw.groupby("customer_id")
        agg[f"orders_{w}d"] = gw["purchase"].sum()
        agg[f"spend_{w}d_u"] = gw["amt"].sum()
    d = pre.groupby(["customer_id", "day"], sort=False).agg(net=("amt", "sum"),
                                                            purchase=("purchase", "any"))
    d = d[d["purchase"]].reset_index().sort_values(["customer_id", "day"])
    gd = d.groupby("customer_id")
    agg["n_days"] = gd.size()
    agg["first_day"] = gd["day"].min()
    agg["last_day"] = gd["day"].max()
    agg["first_day_net"] = gd["net"].first()
    gf = fut.groupby("customer_id")
    fb = fut[fut["purchase"]].groupby("customer_id")
    fut_agg = pd.DataFrame({"future_spend_u": gf["amt"].sum(), "future_orders": fb.size(),
                            "future_purchase_days": fb["day"].nunique()})

    ecols = ["events_30d", "events_90d", "interactions_90d", "push_sent_90d", "push_open_90d",
             "click_90d", "shares_90d", "reviews_90d"]
    if events:
        e = pd.read_csv(events, usecols=["customer_id", "occurred_at", "event"],
                        dtype=str, keep_default_na=False, na_values=[""])
        e["ts"] = instants(e.pop("occurred_at"))
        e = e[e["ts"] < c_end]
        kind = e.pop("event").fillna("").str.strip().str.lower()
        in90 = e["ts"] >= c_end - 90 * DAY
        inter = kind != "push_sent"
        flags = pd.DataFrame({
            "customer_id": e["customer_id"],
            "events_30d": e["ts"] >= c_end - 30 * DAY,
            "events_90d": in90,
            "interactions_90d": in90 & inter,
            "push_sent_90d": in90 & (kind == "push_sent"),
            "push_open_90d": in90 & (kind == "push_open"),
            "click_90d": in90 & (kind == "click"),
            "shares_90d": in90 & (kind == "share"),
            "reviews_90d": in90 & (kind == "review"),
        })
        ge = flags.groupby("customer_id")
        e_agg = ge.sum()
        e_agg["first_seen_e"] = e.groupby("customer_id")["ts"].min()
        e_agg["last_interaction"] = e[inter].groupby("customer_id")["ts"].max()
        agg = agg.join(e_agg, how="outer")
    else:
        for col in ecols:
            agg[col] = 0
        agg["first_seen_e"] = np.nan
        agg["last_interaction"] = np.nan
    agg = agg.join(fut_agg, how="left")
    zero = ["orders_total", "purchase_amount", "refund_amount", "spend_total_u", "orders_30d",
            "orders_90d", "orders_365d", "spend_30d_u", "spend_90d_u", "spend_365d_u",
            *ecols, "future_spend_u", "future_orders", "future_purchase_days"]
    agg[zero] = agg[zero].fillna(0).astype(np.int64)

    a = agg
    out = pd.DataFrame(index=a.index)
    out["first_order_at"] = stamp(a["first_order_ts"], offset)
    out["last_order_at"] = stamp(a["last_order_ts"], offset)
    out["orders_total"] = a["orders_total"]
    out["repeat_purchase_days"] = (a["n_days"] - 1).astype("Int64")
    out["days_first_to_last_order"] = (a["last_day"] - a["first_day"]).astype("Int64")
    out["customer_age_days"] = (cutoff_day - a["first_day"]).astype("Int64")
    out["days_since_last_order"] = (cutoff_day - a["last_day"]).astype("Int64")
    out["spend_total"] = a["spend_total_u"] / SCALE
    buyer = a["orders_total"] > 0
    out["spend_avg_order"] = (a["spend_total_u"] / SCALE / a["orders_total"]).where(buyer)
    rep = a["n_days"] - 1
    out["repeat_spend_avg"] = ((a["spend_total_u"] - a["first_day_net"]) / SCALE / rep).where(rep > 0)
    out["refund_rate"] = (a["refund_amount"] / a["purchase_amount"]).where(a["purchase_amount"] > 0)
    for w in (30, 90, 365):
        out[f"orders_{w}d"] = a[f"orders_{w}d"]
    for w in (30, 90, 365):
        out[f"spend_{w}d"] = a[f"spend_{w}d_u"] / SCALE
    first_seen = a[["first_seen_o", "first_seen_e"]].min(axis=1)
    dsfs = (cutoff_day - (first_seen + offset) // DAY).astype(np.int64)
    out["events_30d"] = a["events_30d"]
    out["events_90d"] = a["events_90d"]
    out["interactions_per_month"] = a["interactions_90d"] * 30.0 / (dsfs + 1).clip(1, 90)
    sent = a["push_sent_90d"]
    out["push_open_rate"] = (a["push_open_90d"] / sent).where(sent > 0)
    out["click_rate"] = (a["click_90d"] / sent).where(sent > 0)
    out["shares_90d"] = a["shares_90d"]
    out["reviews_90d"] = a["reviews_90d"]
    dsli = cutoff_day - (a["last_interaction"] + offset) // DAY
    out["days_since_last_interaction"] = dsli.astype("Int64")
    new_within, silent_after, churned_after = thresholds
    dslo = cutoff_day - a["last_day"]
    idle = np.fmin(dsli, dslo)  # NaN interaction -> last order
    stage = np.select(
        [a["first_day"].isna(), (cutoff_day - a["first_day"]) < new_within,
         idle < silent_after, idle <= churned_after],
        ["potential", "new", "active", "silent"], "churned")
    out["lifecycle_stage"] = stage
    n = int(buyer.sum())
    r = 1 + (5 * (n - dslo.where(buyer).rank(method="max"))) // n
    f = 1 + (5 * (a["orders_total"].where(buyer).rank(method="min") - 1)) // n
    m = 1 + (5 * (a["spend_total_u"].where(buyer).rank(method="min") - 1)) // n
    out["rfm_r"] = r.astype("Int64")
    out["rfm_f"] = f.astype("Int64")
    out["rfm_m"] = m.astype("Int64")
    fm = (f + m + 1) // 2
    flat = np.array([GRID[i][j] for i in range(5) for j in range(5)], dtype=object)
    idx = ((r - 1) * 5 + fm - 1)
    seg = pd.Series(None, index=a.index, dtype=object)
    ok = idx.notna()
    seg[ok] = flat[idx[ok].astype(int).to_numpy()]
    out["rfm_segment"] = seg
    out["days_since_first_seen"] = dsfs
    out["future_spend"] = a["future_spend_u"] / SCALE
    out["future_orders"] = a["future_orders"]
    out["future_purchase_days"] = a["future_purchase_days"]
    out.index.name = "customer_id"
    out = out.reset_index()
    # Python compares str by code point, which is the UTF-8 byte order Rust sorts by.
    out = out.sort_values("customer_id", kind="stable")
    return out[COLUMNS]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orders", required=True)
    ap.add_argument("--events")
    ap.add_argument("--cutoff", required=True, help="YYYY-MM-DD")
    ap.add_argument("--horizon-days", type=int, default=90)
    ap.add_argument("--utc-offset-seconds", type=int, default=0)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    df = build(a.orders, a.events, a.cutoff, a.horizon_days, a.utc_offset_seconds)
    df.to_csv(a.output, index=False, float_format="%.6f")


if __name__ == "__main__":
    main()
