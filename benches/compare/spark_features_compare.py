#!/usr/bin/env python3
"""`ltv.spark.features` on a local Spark vs the single-machine `ltv features`, side by side,
and how the Spark job grows with customers and partitions.

    python benches/compare/spark_features_compare.py [--scale full|small] [--repeat 2]
        [--partitions 2,8,32] [--python target/ci-venv/bin/python]

Data: gen_data.py's log as Parquet (features_parquet_compare.py's conversion: timestamps
[us, UTC], decimal amounts, categorical strings; ~1M customers, 10M orders + 20M events at
full scale). Variants, each a fresh process, alternating, `--repeat` times:
- `cli parquet`: `ltv features --threads 2 … -o out.csv` on the Parquet files;
- `spark local[2]`: spark_job.py (session start, read Parquet, `ltv.spark.features`, write
  Parquet) with the default partitions (2);
- `pyspark sql local[2]`: features_pyspark.py, the same columns in plain PySpark SQL;
then, once each, the Spark job with every `--partitions`. Memory is the peak of the summed RSS
of the whole process tree (driver JVM, Python driver and workers), sampled every 0.2 s; the
CLI's the same way. Outputs are checked: Spark's features equal the CLI's, customer by
customer. Writes data/results_spark_<scale>.json and RESULTS_spark.md.
"""
import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)


def tree_rss_kib(pid: int) -> int:
    """Summed RSS of `pid` and its descendants (from /proc)."""
    children = {}
    rss = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(d))
            with open(f"/proc/{d}/statm") as f:
                rss[int(d)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def offset_seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    hh, mm = text.lstrip("+-").split(":")
    return sign * (int(hh) * 3600 + int(mm) * 60)


def disagreements(want, got, names):
    """Columns of `got` that differ from `want` (joined by customer_id): exact for text,
    ints and instants, within 1e-9 relative for floats."""
    import pyarrow as pa

    out = []
    w = want.sort_by("customer_id")
    g = got.sort_by("customer_id")
    if w.column("customer_id").to_pylist() != g.column("customer_id").to_pylist():
        return ["customer_id"]
    for name in names:
        a, b = w.column(name), g.column(name)
        if pa.types.is_dictionary(a.type):
            a = a.cast(a.type.value_type)
        if pa.types.is_timestamp(a.type):
            a, b = a.cast(pa.timestamp("us", tz="UTC")), b.cast(pa.timestamp("us", tz="UTC"))
        av, bv = a.to_pylist(), b.cast(a.type).to_pylist()
        if pa.types.is_floating(a.type):
            bad = any((x is None) != (y is None) or (x is not None and abs(x - y) >
                      1e-9 * max(1.0, abs(x))) for x, y in zip(av, bv))
        else:
            bad = av != bv
        if bad:
            out.append(name)
    return out


def run(cmd, env=None):
    load = os.getloadavg()
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, **(env or {})})
    peak = 0
    while p.poll() is None:
        peak = max(peak, tree_rss_kib(p.pid))
        time.sleep(0.2)
    out, err = p.communicate()
    wall = time.time() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return {"wall_s": wall, "rss_mib": peak / 1024, "load_before": [round(x, 2) for x in load],
            "stderr_tail": err.strip().splitlines()[-1:] if err.strip() else []}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="full", help="full or small")
    ap.add_argument("--customers", type=int, default=None,
                    help="another size: N customers, 10·N orders, 20·N events (data/cN)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--partitions", default="2,8,32")
    ap.add_argument("--cutoff", default="2025-09-30")
    ap.add_argument("--utc-offset", default="+08:00")
    ap.add_argument("--python", default=sys.executable,
                    help="a Python with ltv (release build), pyspark and polars")
    ap.add_argument("--ltv", default=os.path.join(ROOT, "target", "release", "ltv"))
    ap.add_argument("--note", action="append", default=[])
    a = ap.parse_args()

    import features_compare as fc
    from features_parquet_compare import to_parquet

    if a.customers:
        a.scale = f"c{a.customers}"
    data = os.path.join(HERE, "data", a.scale)
    csv_orders, csv_events = os.path.join(data, "orders.csv"), os.path.join(data, "events.csv")
    if not (os.path.exists(csv_orders) and os.path.exists(csv_events)):
        size = (["--small"] if a.scale == "small" else
                ["--customers", str(a.customers), "--orders", str(10 * a.customers),
                 "--events", str(20 * a.customers), "--out", data] if a.customers else [])
        subprocess.run([sys.executable, os.path.join(HERE, "gen_data.py")] + size, check=True)
    orders, events = to_parquet(csv_orders, csv_events, os.path.join(data, "parquet"))
    out = os.path.join(data, "out_spark")
    os.makedirs(out, exist_ok=True)
    job = os.path.join(HERE, "spark_job.py")
    cmds = {
        "cli parquet": [a.ltv, "--threads", "2", "--quiet", "features", "--orders", orders,
                        "--events", events, "--cutoff", a.cutoff, "--label", "--horizon", "90d",
                        "--utc-offset", a.utc_offset, "-o", os.path.join(out, "cli.parquet")],
        "spark local[2]": [a.python, job, orders, events, os.path.join(out, "spark"),
                           "--cutoff", a.cutoff, "--utc-offset", a.utc_offset],
        "pyspark sql local[2]": [a.python, os.path.join(HERE, "features_pyspark.py"),
                                 "--orders", orders, "--events", events, "--cutoff", a.cutoff,
                                 "--horizon-days", "90", "--utc-offset-seconds",
                                 str(offset_seconds(a.utc_offset)),
                                 "-o", os.path.join(out, "pyspark")],
    }
    runs = {n: [] for n in cmds}
    for r in range(a.repeat):
        for name in (list(cmds) if r % 2 == 0 else list(cmds)[::-1]):
            m = run(cmds[name])
            runs[name].append(m)
            print(f"run {r + 1} {name}: {m}", file=sys.stderr, flush=True)
    parts = {}
    for p in [int(x) for x in a.partitions.split(",") if x]:
        m = run(cmds["spark local[2]"] + ["--partitions", str(p)])
        parts[p] = m
        print(f"partitions {p}: {m}", file=sys.stderr, flush=True)

    import pyarrow.parquet as pq

    cli_t = pq.read_table(os.path.join(out, "cli.parquet")).sort_by("customer_id")
    spark_t = pq.read_table(os.path.join(out, "spark")).sort_by("customer_id")
    mismatched = []
    for name in cli_t.column_names:
        w, g = cli_t.column(name), spark_t.column(name)
        import pyarrow as pa

        if pa.types.is_dictionary(w.type):
            w = w.cast(w.type.value_type)
        if pa.types.is_timestamp(w.type):
            w, g = w.cast(pa.timestamp("us", tz="UTC")), g.cast(pa.timestamp("us", tz="UTC"))
        if g.cast(w.type).to_pylist() != w.to_pylist():
            mismatched.append(name)
    peer = pq.read_table(os.path.join(out, "pyspark"))
    peer_mismatched = disagreements(cli_t, peer, [c for c in peer.column_names
                                                  if c != "customer_id"])
    med = {n: {"wall_s": statistics.median(x["wall_s"] for x in ms),
               "rss_mib": statistics.median(x["rss_mib"] for x in ms),
               "all_wall_s": [round(x["wall_s"], 2) for x in ms],
               "all_rss_mib": [round(x["rss_mib"]) for x in ms],
               "loads_before": [x["load_before"][0] for x in ms],
               "spark_times": [x["stderr_tail"] for x in ms]} for n, ms in runs.items()}
    result = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "scale": a.scale, "customers": cli_t.num_rows,
        "data": {"orders_rows": fc.file_rows(csv_orders), "events_rows": fc.file_rows(csv_events)},
        "machine": fc.machine(), "medians": med,
        "partitions": {p: {"wall_s": round(m["wall_s"], 2), "rss_mib": round(m["rss_mib"]),
                           "spark_times": m["stderr_tail"]} for p, m in parts.items()},
        "spark_equals_cli": not mismatched, "mismatched_columns": mismatched,
        "pyspark_sql_disagrees_on": peer_mismatched, "notes": a.note,
    }
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    with open(os.path.join(HERE, "data", f"results_spark_{a.scale}.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = [f"## `ltv.spark.features` (local[2]) vs `ltv features` — {a.scale} scale", "",
             f"{result['date']}; {result['customers']:,} customers, "
             f"{result['data']['orders_rows']:,} orders + {result['data']['events_rows']:,} events "
             f"as Parquet; machine: {result['machine']}.", "",
             "| variant | wall s (median) | peak RSS MiB, process tree (median) | all wall s | load before |",
             "|---|---:|---:|---|---|"]
    for n, m in med.items():
        lines.append(f"| {n} | {m['wall_s']:.2f} | {m['rss_mib']:.0f} | {m['all_wall_s']} | "
                     f"{m['loads_before']} |")
    lines += ["", "| Spark partitions | wall s | peak RSS MiB | session / job s |", "|---:|---:|---:|---|"]
    for p, m in parts.items():
        lines.append(f"| {p} | {m['wall_s']:.2f} | {m['rss_mib']:.0f} | {m['stderr_tail']} |")
    lines += ["", "ltv.spark's features equal the CLI's for every customer and column: "
              + ("yes" if not mismatched else f"NO ({mismatched})"),
              "PySpark SQL's columns agree with the CLI's (floats to 1e-9): "
              + ("all" if not peer_mismatched else f"all but {peer_mismatched}")]
    lines += [f"- note: {n}" for n in a.note]
    text = "\n".join(lines) + "\n"
    path = os.path.join(HERE, "RESULTS_spark.md")
    previous = open(path).read() if os.path.exists(path) else "# ltv on Spark: benchmarks\n\n"
    marker = f"## `ltv.spark.features` (local[2]) vs `ltv features` — {a.scale} scale"
    if marker in previous:
        head, _, rest = previous.partition(marker)
        nxt = rest.find("\n## ")
        previous = head + (rest[nxt + 1:] if nxt >= 0 else "")
    with open(path, "w") as f:
        f.write(previous.rstrip("\n") + "\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
