#!/usr/bin/env python3
"""`ltv features` on Parquet inputs vs polars `scan_parquet` (lazy, all cores), side by side.

    python3 benches/compare/features_parquet_compare.py [--scale full|small] [--repeat 3]

The data are `gen_data.py`'s orders.csv + events.csv (10M orders + 20M events over ~1M
customers at full scale), converted once to Parquet as a warehouse would export them:
`ordered_at`/`occurred_at` as timestamp[us, UTC], `amount` as decimal(18, 2), `channel` and
`event` as dictionary (categorical) strings, ids as strings, zstd, row groups of 1M rows.
Each tool runs as its own process under `/usr/bin/time -v`, alternating (ltv, polars, ltv, …),
`--repeat` times each; the table reports medians of wall time and peak RSS (and every run).
The outputs are cross-checked column by column (as in features_compare.py), and ltv's output
from Parquet is checked byte for byte against ltv's output from the same data as CSV.
Writes data/results_parquet_<scale>.json and RESULTS_parquet.md.
"""
import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV_PY = os.path.join(HERE, ".venv", "bin", "python")
if os.path.exists(VENV_PY) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(HERE, ".venv")):
    os.execv(VENV_PY, [VENV_PY, *sys.argv])

sys.path.insert(0, HERE)
import features_compare as fc  # noqa: E402
import polars as pl  # noqa: E402


def to_parquet(csv_orders, csv_events, out_dir):
    """Writes orders.parquet and events.parquet (typed) from the CSV files."""
    os.makedirs(out_dir, exist_ok=True)
    ts = lambda c: pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_unit="us").dt.convert_time_zone("UTC")
    orders = os.path.join(out_dir, "orders.parquet")
    events = os.path.join(out_dir, "events.parquet")
    if not os.path.exists(orders):
        (pl.scan_csv(csv_orders, infer_schema=False)
         .select(pl.col("order_id"), pl.col("customer_id"), ordered_at=ts("ordered_at"),
                 amount=pl.col("amount").cast(pl.Decimal(18, 2)),
                 channel=pl.col("channel").cast(pl.Categorical))
         .sink_parquet(orders + ".tmp", compression="zstd", row_group_size=1_000_000))
        os.replace(orders + ".tmp", orders)
    if not os.path.exists(events):
        (pl.scan_csv(csv_events, infer_schema=False)
         .select(pl.col("customer_id"), occurred_at=ts("occurred_at"),
                 event=pl.col("event").cast(pl.Categorical),
                 channel=pl.col("channel").cast(pl.Categorical))
         .sink_parquet(events + ".tmp", compression="zstd", row_group_size=1_000_000))
        os.replace(events + ".tmp", events)
    return orders, events


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["full", "small"], default="full")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="ltv --threads and POLARS_MAX_THREADS (default: all cores)")
    ap.add_argument("--cutoff", default="2025-09-30")
    ap.add_argument("--utc-offset", default="+08:00")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ltv", default=os.path.join(ROOT, "target", "release", "ltv"))
    ap.add_argument("--note", action="append", default=[])
    a = ap.parse_args()

    data = os.path.join(HERE, "data", a.scale)
    csv_orders, csv_events = os.path.join(data, "orders.csv"), os.path.join(data, "events.csv")
    if not (os.path.exists(csv_orders) and os.path.exists(csv_events)):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_data.py")]
                       + (["--small"] if a.scale == "small" else []), check=True)
    orders, events = to_parquet(csv_orders, csv_events, os.path.join(data, "parquet"))
    out = os.path.join(data, "out")
    os.makedirs(out, exist_ok=True)
    sign = 1 if a.utc_offset[0] == "+" else -1
    hh, mm = a.utc_offset[1:].split(":")
    off_s = sign * (int(hh) * 3600 + int(mm) * 60)
    cmds = {
        "ltv": [a.ltv, "--threads", str(a.threads), "--quiet", "features", "--orders", orders,
                "--events", events, "--cutoff", a.cutoff, "--label", "--horizon", "90d",
                "--utc-offset", a.utc_offset, "-o", os.path.join(out, "ltv_parquet.csv")],
        "polars": [sys.executable, os.path.join(HERE, "features_polars.py"), "--parquet",
                   "--orders", orders, "--events", events, "--cutoff", a.cutoff,
                   "--horizon-days", "90", "--utc-offset-seconds", str(off_s),
                   "-o", os.path.join(out, "polars_parquet.csv")],
    }
    env = {"POLARS_MAX_THREADS": str(a.threads)}
    runs = {n: [] for n in cmds}
    for r in range(a.repeat):
        order = list(cmds) if r % 2 == 0 else list(cmds)[::-1]
        for name in order:
            m = fc.timed(cmds[name], env)
            m.pop("stdout", None)
            runs[name].append(m)
            print(f"run {r + 1} {name}: {m}", file=sys.stderr, flush=True)
    med = {n: {"wall_s": statistics.median(x["wall_s"] for x in ms),
               "rss_mib": statistics.median(x["rss_mib"] for x in ms),
               "cpu_s": statistics.median(x["cpu_s"] for x in ms),
               "all_wall_s": [round(x["wall_s"], 2) for x in ms],
               "all_rss_mib": [round(x["rss_mib"]) for x in ms],
               "loads_before": [x["load_before"] for x in ms]} for n, ms in runs.items()}
    speed = med["polars"]["wall_s"] / med["ltv"]["wall_s"]
    memory = med["ltv"]["rss_mib"] / med["polars"]["rss_mib"]

    # ltv from CSV, once, for the byte-for-byte check (not timed).
    csv_cmd = cmds["ltv"][:]
    csv_cmd[csv_cmd.index(orders)] = csv_orders
    csv_cmd[csv_cmd.index(events)] = csv_events
    csv_cmd[-1] = os.path.join(out, "ltv_csv.csv")
    subprocess.run(csv_cmd, check=True)
    with open(os.path.join(out, "ltv_csv.csv"), "rb") as f1, open(os.path.join(out, "ltv_parquet.csv"), "rb") as f2:
        same_as_csv = f1.read() == f2.read()
    check = fc.compare("ltv", fc.read_out(os.path.join(out, "ltv_parquet.csv")),
                       "polars", fc.read_out(os.path.join(out, "polars_parquet.csv")))

    versions = (f"ltv {fc.sh([a.ltv, '--version']).split()[-1]} "
                f"(git {fc.sh(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])}), "
                f"polars {pl.__version__}")
    result = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "data": {"orders_rows": fc.file_rows(csv_orders), "events_rows": fc.file_rows(csv_events),
                 "orders_parquet_mib": os.path.getsize(orders) / 2 ** 20,
                 "events_parquet_mib": os.path.getsize(events) / 2 ** 20},
        "threads": a.threads, "machine": fc.machine(), "versions": versions, "medians": med,
        "speed_vs_polars": speed, "memory_vs_polars": memory,
        "ltv_parquet_equals_ltv_csv": same_as_csv, "check": check, "notes": a.note,
        "commands": {n: " ".join(os.path.relpath(x, ROOT) if x.startswith(ROOT) else x for x in c)
                     for n, c in cmds.items()},
    }
    with open(os.path.join(HERE, "data", f"results_parquet_{a.scale}.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = ["# `ltv features` on Parquet vs polars `scan_parquet`", "",
             f"{result['date']}; {a.scale} scale: {result['data']['orders_rows']:,} orders "
             f"({result['data']['orders_parquet_mib']:.0f} MiB Parquet) + "
             f"{result['data']['events_rows']:,} events ({result['data']['events_parquet_mib']:.0f} MiB); "
             f"{a.threads} threads each; machine: {result['machine']}; {versions}.", "",
             f"Medians of {a.repeat} alternating runs (wall-clock of the whole process, peak RSS from "
             "`/usr/bin/time -v`; load average before each run listed).", "",
             "| tool | wall s (median) | peak RSS MiB (median) | CPU s | all wall s | all RSS MiB | load before |",
             "|---|---:|---:|---:|---|---|---|"]
    for n, m in med.items():
        loads = "; ".join(f"{l[0]:.2f}" for l in m["loads_before"])
        lines.append(f"| {n} | {m['wall_s']:.2f} | {m['rss_mib']:.0f} | {m['cpu_s']:.1f} | "
                     f"{m['all_wall_s']} | {m['all_rss_mib']} | {loads} |")
    lines += ["", f"- ltv speed vs polars (polars wall / ltv wall; target ≥ 1.5): **{speed:.2f}×**",
              f"- ltv memory vs polars (peak RSS ratio; target ≤ 0.5): **{memory:.3f}**",
              f"- ltv's output from Parquet is byte-identical to its output from the CSV files: {same_as_csv}",
              "- ltv vs polars cross-check: " + ("agree on every column for every customer" if not check
                                                 else "; ".join(check)), "",
              "Commands:", ""] + [f"- {n}: `{c}`" for n, c in result["commands"].items()]
    lines += [f"- note: {n}" for n in a.note]
    with open(os.path.join(HERE, "RESULTS_parquet.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
