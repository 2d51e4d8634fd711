#!/usr/bin/env python3
"""`ltv.features` from Python vs the `ltv features` CLI on the same files, and beside them polars
computing the same columns, in one run, alternating.

    python3 benches/compare/python_features_compare.py [--scale full|small] [--repeat 3]

Needs the package in benches/compare/.venv (`pip install ./python`), the release binary and
the data of features_compare.py / features_parquet_compare.py (generated if missing). Variants:
- `cli csv` / `cli parquet`: `ltv features … -o out.csv` (whole process);
- `python csv paths` / `python parquet paths`: a Python process running `ltv.features(paths)`
  (whole process, interpreter start and `import ltv` included; the call alone is reported too);
- `python polars in memory`: `ltv.features(df_orders, df_events)` on DataFrames already read
  by `pl.read_parquet` (the call alone: the data are in memory, as in a notebook);
- `polars parquet`: features_polars.py --parquet (whole process).
Targets (issue 14): python paths ≤ 1.05 × cli on the same files; python in-memory ≤ cli parquet.
Writes data/results_python_<scale>.json and RESULTS_python.md.
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
import features_parquet_compare as fpc  # noqa: E402

CALL = """
import sys, time, json
import ltv
orders, events, cutoff, offset, threads, mode = sys.argv[1:7]
if mode == "polars":
    import polars as pl
    orders, events = pl.read_parquet(orders), pl.read_parquet(events)
t0 = time.perf_counter()
t = ltv.features(orders, events, cutoff=cutoff, horizon="90d", label=True,
                 utc_offset=offset, threads=int(threads))
t1 = time.perf_counter()
print(json.dumps({"call_s": t1 - t0, "rows": t.num_rows}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["full", "small"], default="full")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--cutoff", default="2025-09-30")
    ap.add_argument("--utc-offset", default="+08:00")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ltv", default=os.path.join(ROOT, "target", "release", "ltv"))
    a = ap.parse_args()
    data = os.path.join(HERE, "data", a.scale)
    csv_o, csv_e = os.path.join(data, "orders.csv"), os.path.join(data, "events.csv")
    if not (os.path.exists(csv_o) and os.path.exists(csv_e)):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_data.py")]
                       + (["--small"] if a.scale == "small" else []), check=True)
    pq_o, pq_e = fpc.to_parquet(csv_o, csv_e, os.path.join(data, "parquet"))
    out = os.path.join(data, "out")
    os.makedirs(out, exist_ok=True)
    sign = 1 if a.utc_offset[0] == "+" else -1
    hh, mm = a.utc_offset[1:].split(":")
    off_s = sign * (int(hh) * 3600 + int(mm) * 60)
    t = str(a.threads)
    def cli(o, e):
        return [a.ltv, "--threads", t, "--quiet", "features", "--orders", o, "--events", e,
                "--cutoff", a.cutoff, "--label", "--horizon", "90d", "--utc-offset",
                a.utc_offset, "-o", os.path.join(out, "cli.csv")]

    def py(o, e, mode):
        return [sys.executable, "-c", CALL, o, e, a.cutoff, a.utc_offset, t, mode]
    variants = {
        "cli csv": cli(csv_o, csv_e),
        "python csv paths": py(csv_o, csv_e, "paths"),
        "cli parquet": cli(pq_o, pq_e),
        "python parquet paths": py(pq_o, pq_e, "paths"),
        "python polars in memory": py(pq_o, pq_e, "polars"),
        "polars parquet": [sys.executable, os.path.join(HERE, "features_polars.py"), "--parquet",
                           "--orders", pq_o, "--events", pq_e, "--cutoff", a.cutoff,
                           "--horizon-days", "90", "--utc-offset-seconds", str(off_s),
                           "-o", os.path.join(out, "polars_parquet.csv")],
    }
    env = {"POLARS_MAX_THREADS": t}
    runs = {n: [] for n in variants}
    for r in range(a.repeat):
        order = list(variants) if r % 2 == 0 else list(variants)[::-1]
        for name in order:
            m = fc.timed(variants[name], env)
            stdout = m.pop("stdout", "")
            if name.startswith("python"):
                m["call_s"] = json.loads(stdout.strip().splitlines()[-1])["call_s"]
            runs[name].append(m)
            print(f"run {r + 1} {name}: {m}", file=sys.stderr, flush=True)
    med = {}
    for n, ms in runs.items():
        med[n] = {"wall_s": statistics.median(x["wall_s"] for x in ms),
                  "rss_mib": statistics.median(x["rss_mib"] for x in ms),
                  "all_wall_s": [round(x["wall_s"], 2) for x in ms],
                  "loads_before": [x["load_before"][0] for x in ms]}
        if "call_s" in ms[0]:
            med[n]["call_s"] = statistics.median(x["call_s"] for x in ms)
            med[n]["all_call_s"] = [round(x["call_s"], 2) for x in ms]
    ratios = {
        "python csv paths (process) / cli csv": med["python csv paths"]["wall_s"] / med["cli csv"]["wall_s"],
        "python csv paths (call) / cli csv": med["python csv paths"]["call_s"] / med["cli csv"]["wall_s"],
        "python parquet paths (process) / cli parquet": med["python parquet paths"]["wall_s"] / med["cli parquet"]["wall_s"],
        "python parquet paths (call) / cli parquet": med["python parquet paths"]["call_s"] / med["cli parquet"]["wall_s"],
        "python polars in memory (call) / cli parquet": med["python polars in memory"]["call_s"] / med["cli parquet"]["wall_s"],
        "polars parquet / python polars in memory (call)": med["polars parquet"]["wall_s"] / med["python polars in memory"]["call_s"],
    }
    result = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "scale": a.scale, "threads": a.threads, "machine": fc.machine(),
              "medians": med, "ratios": ratios}
    with open(os.path.join(HERE, "data", f"results_python_{a.scale}.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = ["# `ltv.features` from Python vs the CLI (and polars)", "",
             f"{result['date']}; {a.scale} scale (gen_data.py: 10M orders + 20M events at full); "
             f"{a.threads} threads; {a.repeat} alternating runs, medians; machine {result['machine']}.", "",
             "| variant | wall s (process) | call s | peak RSS MiB | all wall s | load before |",
             "|---|---:|---:|---:|---|---|"]
    for n, m in med.items():
        call = f"{m['call_s']:.2f}" if "call_s" in m else ""
        lines.append(f"| {n} | {m['wall_s']:.2f} | {call} | {m['rss_mib']:.0f} | {m['all_wall_s']} | "
                     f"{'; '.join(f'{x:.2f}' for x in m['loads_before'])} |")
    lines += [""] + [f"- {k}: **{v:.3f}**" for k, v in ratios.items()]
    with open(os.path.join(HERE, "RESULTS_python.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
