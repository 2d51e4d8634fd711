"""ltv's models vs scikit-learn and lifetimes on the same features of generated customers.

    python3 benches/compare/models_compare.py                      # 1M customers, 2 threads
    python3 benches/compare/models_compare.py --customers 20000    # quick check

Steps: build the release binary; `ltv synth --customers N --seed 7` into
benches/compare/data/models_N/ (skipped when present); `ltv features … --cutoff 2025-06-30
--label --horizon 90d` → features.csv (skipped when present); `cargo bench --bench fit_compare`
(ltv's fits, see benches/fit_compare.rs); then scikit-learn (in benches/compare/.venv) and
lifetimes (in benches/compare/.venv-lifetimes), each in its own process, on the same
features.csv, columns and train/test split (FNV-1a 64 of customer_id, test when ≡ 0 mod 5).
ltv's test predictions are re-scored here with the Python metrics (cross-check), and the
section between the `models_compare` markers of RESULTS.md is rewritten.
"""
import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = HERE / ".venv"
VENV_LT = HERE / ".venv-lifetimes"
LT_PKGS = ["lifetimes==0.11.3", "numpy<2", "pandas<2", "scipy<1.12", "autograd>=1.6",
           "scikit-learn<1.5", "setuptools"]
BEGIN = "<!-- models_compare: begin (rewritten by models_compare.py) -->"
END = "<!-- models_compare: end -->"
HGB_SETTINGS = dict(max_iter=200, learning_rate=0.1, max_leaf_nodes=31, max_depth=None,
                    min_samples_leaf=20, l2_regularization=0.0, max_bins=255,
                    early_stopping=False, random_state=0)


# ---------------------------------------------------------------------------------------------
# Shared: split rule and metrics (the same definitions as benches/fit_compare.rs / ltv::evaluate)
# ---------------------------------------------------------------------------------------------

def fnv1a(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_mask(ids):
    import numpy as np
    return np.fromiter((fnv1a(s) % 5 == 0 for s in ids), dtype=bool, count=len(ids))


def r2(y, p):
    import numpy as np
    y, p = np.asarray(y, float), np.asarray(p, float)
    return float(1.0 - ((y - p) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def _gini_raw(a, key):
    """Kaggle Gini, rows sorted by key descending, ties given their group's mean actual."""
    import numpy as np
    n, total = len(a), a.sum()
    if total == 0:
        return None
    order = np.argsort(-key, kind="stable")
    k, s = key[order], a[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, n])
    means = np.add.reduceat(s, starts) / sizes
    cum = np.cumsum(np.repeat(means, sizes))
    return (cum.sum() / total - (n + 1) / 2) / n


def normalized_gini(y, p):
    import numpy as np
    y, p = np.asarray(y, float), np.asarray(p, float)
    model, perfect = _gini_raw(y, p), _gini_raw(y, y)
    if model is None or not perfect:
        return 0.0
    return float(model / perfect)


def load(features, columns):
    import pandas as pd
    d = pd.read_csv(features, usecols=["customer_id", "future_spend", *columns],
                    dtype={"customer_id": str}, engine="c")
    return d, test_mask(d["customer_id"].tolist())


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


# ---------------------------------------------------------------------------------------------
# Workers (run in their own venv and process)
# ---------------------------------------------------------------------------------------------

def worker_sklearn(features, columns, out):
    import numpy as np
    import sklearn
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.tree import DecisionTreeRegressor

    d, test = load(features, columns)
    x = d[columns].to_numpy(np.float64)
    y = d["future_spend"].to_numpy(np.float64)
    xf = np.nan_to_num(x, nan=0.0)  # ltv's Dataset::x_filled
    res = []

    def run(name, model, xx, note=""):
        m, wall, cpu = timed(lambda: model.fit(xx[~test], y[~test]))
        p = m.predict(xx[test])
        # scoring the whole base: predict every customer, best of 3
        score_s = min(timed(lambda: m.predict(xx))[1] for _ in range(3))
        res.append(dict(model=name, fit_s=wall, cpu_s=cpu, r2=r2(y[test], p),
                        gini=normalized_gini(y[test], p), score_s=score_s,
                        note=note(m) if note else ""))
        print(f"sklearn {name}: fit {wall:.3f} s (cpu {cpu:.2f} s), score all {len(xx)} "
              f"{score_s:.3f} s, test R² {res[-1]['r2']:.4f}, Gini {res[-1]['gini']:.4f}",
              file=sys.stderr)

    run("linear", LinearRegression(), xf)
    run("tree", DecisionTreeRegressor(max_depth=8, random_state=0), xf,
        lambda m: f"{m.get_n_leaves()} leaves")
    run("boosting", HistGradientBoostingRegressor(**HGB_SETTINGS), x,
        lambda m: f"{m.n_iter_} iterations")
    info = dict(tool=f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
                train=int((~test).sum()), test=int(test.sum()), models=res)
    Path(out).write_text(json.dumps(info, indent=1))


def worker_lifetimes(features, columns, out, horizon_days):
    import warnings

    import lifetimes
    import numpy as np
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    warnings.simplefilter("ignore")
    btyd = ["repeat_purchase_days", "days_first_to_last_order", "customer_age_days",
            "repeat_spend_avg"]
    d, test = load(features, btyd)
    y = d["future_spend"].to_numpy(np.float64)
    buyer = d["repeat_purchase_days"].notna().to_numpy()
    freq = d["repeat_purchase_days"].to_numpy(np.float64)
    rec = d["days_first_to_last_order"].to_numpy(np.float64) / 7.0  # --time-unit weeks
    age = d["customer_age_days"].to_numpy(np.float64) / 7.0
    m = d["repeat_spend_avg"].to_numpy(np.float64)
    tr = buyer & ~test
    bgf, bg_s, bg_cpu = timed(lambda: BetaGeoFitter().fit(freq[tr], rec[tr], age[tr]))
    rep = tr & (freq > 0) & (m > 0)
    ggf, gg_s, gg_cpu = timed(lambda: GammaGammaFitter().fit(freq[rep], m[rep]))
    print(f"lifetimes BG/NBD fit {bg_s:.3f} s (cpu {bg_cpu:.2f}), Gamma-Gamma {gg_s:.3f} s "
          f"(cpu {gg_cpu:.2f})", file=sys.stderr)

    te = buyer & test
    n = np.asarray(bgf.conditional_expected_number_of_purchases_up_to_time(
        horizon_days / 7.0, freq[te], rec[te], age[te]), float)
    spend = np.asarray(ggf.conditional_expected_average_profit(
        freq[te], np.clip(np.nan_to_num(m[te], nan=0.0), 0.0, None)), float)
    value = np.zeros(len(d))
    value[te] = np.where(n > 0, n * spend, 0.0)
    p = value[test]
    q = dict(r2=r2(y[test], p), gini=normalized_gini(y[test], p))

    def score_all():
        # what ltv scores per customer: expected purchases, P(alive), expected spend
        n = bgf.conditional_expected_number_of_purchases_up_to_time(
            horizon_days / 7.0, freq[buyer], rec[buyer], age[buyer])
        alive = bgf.conditional_probability_alive(freq[buyer], rec[buyer], age[buyer])
        spend = ggf.conditional_expected_average_profit(
            freq[buyer], np.clip(np.nan_to_num(m[buyer], nan=0.0), 0.0, None))
        return n, alive, spend

    score_s = min(timed(score_all)[1] for _ in range(3))
    print(f"lifetimes score all {len(d)} customers ({int(buyer.sum())} buyers): {score_s:.3f} s",
          file=sys.stderr)
    bp, gp = bgf.params_, ggf.params_
    res = [
        dict(model="bgnbd", fit_s=bg_s, cpu_s=bg_cpu, score_s=score_s, **q,
             note=f"{int(tr.sum())} buyers; r={bp['r']:.4f} alpha={bp['alpha']:.4f} "
                  f"a={bp['a']:.4f} b={bp['b']:.4f}"),
        dict(model="gamma_gamma", fit_s=gg_s, cpu_s=gg_cpu, **q,
             note=f"{int(rep.sum())} repeat buyers; p={gp['p']:.4f} q={gp['q']:.4f} "
                  f"v={gp['v']:.4f}"),
    ]
    # The same BG/NBD fit on unique (x, t_x, T) rows with counts as weights (what ltv does
    # internally): how much of the gap is that one trick.
    try:
        import pandas as pd
        u = pd.DataFrame(dict(f=freq[tr], r=rec[tr], t=age[tr])).value_counts().reset_index()
        idx = u.columns[-1]
        bgw, w_s, w_cpu = timed(lambda: BetaGeoFitter().fit(
            u["f"].to_numpy(), u["r"].to_numpy(), u["t"].to_numpy(), weights=u[idx].to_numpy()))
        res.append(dict(model="bgnbd_weighted", fit_s=w_s, cpu_s=w_cpu, r2=None, gini=None,
                        note=f"{len(u)} unique rows; r={bgw.params_['r']:.4f} "
                             f"alpha={bgw.params_['alpha']:.4f} a={bgw.params_['a']:.4f} "
                             f"b={bgw.params_['b']:.4f}"))
        print(f"lifetimes BG/NBD on {len(u)} weighted unique rows: {w_s:.3f} s", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - informational extra only
        print(f"weighted BG/NBD fit skipped: {e}", file=sys.stderr)
    info = dict(tool=f"lifetimes {lifetimes.__version__}, numpy {np.__version__}",
                train=int((~test).sum()), test=int(test.sum()), models=res)
    Path(out).write_text(json.dumps(info, indent=1))


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------

def ensure_venv(venv, pkgs):
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
        subprocess.check_call([str(venv / "bin" / "pip"), "install", "-q", *pkgs])
    return py


def sh(cmd, env=None, log=True):
    if log:
        print("$ " + " ".join(str(c) for c in cmd), file=sys.stderr)
    subprocess.check_call([str(c) for c in cmd], cwd=ROOT, env=env)


def thread_env(n):
    env = dict(os.environ)
    for k in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(n)
    return env


def loadavg():
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def wait_for_quiet(max_load, max_wait):
    """Waits (up to max_wait s) for the 1-minute load average to fall to max_load."""
    t = time.time()
    while os.getloadavg()[0] > max_load and time.time() - t < max_wait:
        time.sleep(10)


def fmt(v, nd=4):
    return "—" if v is None else f"{v:.{nd}f}"


def write_results(info):
    names = {"linear": "linear least squares (NaN → 0)",
             "tree": "regression tree, depth 8 (NaN → 0)",
             "boosting": "gradient boosting, 200 iterations (NaN kept)",
             "bgnbd": "BG/NBD (weeks)", "gamma_gamma": "Gamma-Gamma",
             "bgnbd_weighted": "BG/NBD, lifetimes on unique rows + weights"}
    refs = {"linear": "sklearn LinearRegression", "tree": "sklearn DecisionTreeRegressor",
            "boosting": "sklearn HistGradientBoostingRegressor", "bgnbd": "lifetimes BetaGeoFitter",
            "gamma_gamma": "lifetimes GammaGammaFitter", "bgnbd_weighted": "lifetimes BetaGeoFitter"}
    ltv = {m["model"]: m for m in info["ltv"]["models"]}
    ref = {m["model"]: m for part in ("sklearn", "lifetimes") if part in info
           for m in info[part]["models"]}
    lines = [
        BEGIN,
        f"## ltv's models vs scikit-learn and lifetimes on the same features ({info['when']})",
        "",
        "Generated by `python3 benches/compare/models_compare.py` (see README.md). Supersedes the "
        "synthetic-matrix comparisons (`cargo bench --bench trees` + `trees_sklearn.py`, "
        "`cargo bench --bench btyd` + `btyd_lifetimes.py`, whose numbers live in those benches' "
        "doc comments): here both sides fit the same `ltv features` table of generated "
        "customers.",
        "",
        f"- Data: `ltv synth --customers {info['customers']:,} --seed {info['seed']}`; "
        f"`ltv features` at cutoff {info['cutoff']} with the {info['horizon']}-day label "
        f"(`future_spend`) → {info['ltv']['customers']:,} customers × "
        f"{len(info['ltv']['features'])} numeric features (the columns ltv's models use). "
        f"Split: FNV-1a 64 of `customer_id`, test when ≡ 0 mod 5 → "
        f"{info['ltv']['train']:,} train / {info['ltv']['test']:,} test.",
        f"- Threads: {info['threads']} on both sides (`RAYON_NUM_THREADS`, `OMP_NUM_THREADS`, "
        "BLAS threads); scikit-learn's decision tree and lifetimes are single-threaded by design.",
        f"- Machine: {info['machine']}; shared with other jobs. Load average (1/5/15 min) before "
        f"ltv: {info['load']['ltv']}; before scikit-learn: {info['load'].get('sklearn', '—')}; "
        f"before lifetimes: {info['load'].get('lifetimes', '—')}.",
        f"- Versions: ltv {info['ltv_version']}; {info.get('sklearn', {}).get('tool', '—')}; "
        f"{info.get('lifetimes', {}).get('tool', '—')}; Python {platform.python_version()}.",
        "- Settings: ltv tree `min_samples_leaf(1)` (scikit-learn's default); boosting both "
        "sides learning rate 0.1, 31 leaves, no depth limit, 20 rows per leaf, 255 bins, "
        "no L2, early stopping off; BG/NBD and Gamma-Gamma unpenalised on the training "
        "buyers (GG: repeat buyers with positive `repeat_spend_avg`); the BTYD test "
        "prediction is expected purchase days in the horizon × expected spend "
        "(0 for non-buyers).",
        "",
        "| model | ltv fit s (CPU s) | reference | reference fit s (CPU s) | ratio ref/ltv wall (CPU) | ltv test R² / Gini | reference test R² / Gini |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for key in ("linear", "tree", "boosting", "bgnbd", "gamma_gamma", "bgnbd_weighted"):
        a, b = ltv.get(key if key != "bgnbd_weighted" else "bgnbd"), ref.get(key)
        if a is None or b is None:
            continue
        ratio = f"{b['fit_s'] / a['fit_s']:.1f}× ({b['cpu_s'] / max(a['cpu_s'], 1e-9):.1f}×)"
        lq = "(same)" if key == "bgnbd_weighted" else f"{fmt(a['r2'])} / {fmt(a['gini'])}"
        rq = "—" if b["r2"] is None else f"{fmt(b['r2'])} / {fmt(b['gini'])}"
        lines.append(f"| {names[key]} | {a['fit_s']:.3f} ({a['cpu_s']:.2f}) | {refs[key]} | "
                     f"{b['fit_s']:.3f} ({b['cpu_s']:.2f}) | {ratio} | {lq} | {rq} |")
    bg = (ltv["bgnbd"]["fit_s"] + ltv["gamma_gamma"]["fit_s"],
          ref["bgnbd"]["fit_s"] + ref["gamma_gamma"]["fit_s"]) if "bgnbd" in ref else None
    n_all = info["ltv"]["customers"]
    lines += ["", f"Scoring the whole base ({n_all:,} customers, train and test) with the fitted "
              "model, best of 3 runs: ltv with the predictor `ltv score` uses (compiled trees; "
              "BTYD expected purchases, P(alive) and expected spend), scikit-learn's `predict`, "
              "lifetimes' `conditional_expected_number_of_purchases_up_to_time` + "
              "`conditional_probability_alive` + `conditional_expected_average_profit`; both "
              "on their prepared matrix (no CSV).", "",
              "| model | ltv score s (customers/s) | reference score s (customers/s) | ratio ref/ltv |",
              "|---|---:|---:|---:|"]
    for key in ("linear", "tree", "boosting", "bgnbd"):
        a, b = ltv.get(key), ref.get(key)
        if a is None or a.get("score_s") is None:
            continue
        rs = "—" if b is None or b.get("score_s") is None else \
            f"{b['score_s']:.3f} ({n_all / b['score_s'] / 1e6:.2f}M/s)"
        ratio = "—" if b is None or b.get("score_s") is None else \
            f"{b['score_s'] / a['score_s']:.1f}×"
        lines.append(f"| {names[key]} | {a['score_s']:.3f} ({n_all / a['score_s'] / 1e6:.2f}M/s) "
                     f"| {rs} | {ratio} |")
    lines += ["", "Fitted parameters / sizes:", ""]
    for key in ("tree", "boosting", "bgnbd", "gamma_gamma", "bgnbd_weighted"):
        for side, d in (("ltv", ltv), ("reference", ref)):
            if key in d and d[key].get("note"):
                lines.append(f"- {key}, {side}: {d[key]['note']}")
    lines += ["", "Targets (issue 3):", ""]
    if "bgnbd" in ref:
        r = ref["bgnbd"]["fit_s"] / ltv["bgnbd"]["fit_s"]
        lines.append(f"- BG/NBD fit ≥ 20× faster than lifetimes: **{r:.1f}×** "
                     f"({'met' if r >= 20 else 'missed'}); BG/NBD + Gamma-Gamma together: "
                     f"{bg[1] / bg[0]:.1f}×.")
    for key, what in (("tree", "tree"), ("boosting", "boosting")):
        if key in ref:
            r = ref[key]["fit_s"] / ltv[key]["fit_s"]
            lines.append(f"- {what} training at least as fast as scikit-learn: **{r:.1f}×** "
                         f"({'met' if r >= 1 else 'missed'}).")
    scored = [m for m in info["ltv"]["models"] if m.get("score_s")]
    if scored:
        slowest = min(n_all / m["score_s"] for m in scored)
        lines.append(f"- scoring ≥ 2M customers/s (model on prepared features, above): slowest "
                     f"**{slowest / 1e6:.2f}M/s** ({'met' if slowest >= 2e6 else 'missed'}); "
                     "the whole score stage incl. feature rows, churn, tiers and CSV is "
                     "`cargo bench --bench score`.")
    lines += ["", f"Cross-check: {info['crosscheck']}", "", "Commands:", ""]
    lines += [f"    {c}" for c in info["commands"]]
    if info.get("notes"):
        lines += ["", "Notes:", ""] + [f"- {n}" for n in info["notes"]]
    lines.append(END)
    section = "\n".join(lines) + "\n"
    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
    print(f"wrote {path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cutoff", default="2025-06-30")
    ap.add_argument("--horizon-days", type=int, default=90)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-load", type=float, default=None,
                    help="before each timed part, wait (≤ 10 min) for the 1-min load to fall to this")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--skip-lifetimes", action="store_true")
    ap.add_argument("--reuse-reference", action="store_true",
                    help="re-time only ltv; take scikit-learn's and lifetimes' results (and their "
                         "load averages) from the previous run's out/results.json")
    ap.add_argument("--no-results", action="store_true", help="do not rewrite RESULTS.md")
    ap.add_argument("--note", action="append", default=[])
    a = ap.parse_args()

    data = HERE / "data" / f"models_{a.customers}"
    out = data / "out"
    out.mkdir(parents=True, exist_ok=True)
    ltv_bin = ROOT / "target" / "release" / "ltv"
    features = data / "features.csv"
    commands = []
    sh(["cargo", "build", "--release", "--quiet"])
    if not (data / "orders.csv").exists():
        sh([ltv_bin, "--threads", a.threads, "-q", "synth", "--customers", a.customers,
            "--seed", a.seed, "-o", data])
    commands.append(f"target/release/ltv synth --customers {a.customers} --seed {a.seed} "
                    f"-o {data.relative_to(ROOT)}")
    fcmd = [ltv_bin, "--threads", a.threads, "-q", "features", "--orders", data / "orders.csv",
            "--events", data / "events.csv", "--customers", data / "customers.csv",
            "--cutoff", a.cutoff, "--label", "--horizon", f"{a.horizon_days}d", "-o", features]
    if not features.exists():
        sh(fcmd)
    commands.append(" ".join(str(c) for c in fcmd).replace(str(ROOT) + "/", ""))

    env = thread_env(a.threads)
    info = dict(customers=a.customers, seed=a.seed, cutoff=a.cutoff, horizon=a.horizon_days,
                threads=a.threads, load={}, notes=a.note,
                when=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    sh(["cargo", "bench", "--bench", "fit_compare", "--no-run", "--quiet"])
    if a.max_load is not None:
        wait_for_quiet(a.max_load, 600)
    info["load"]["ltv"] = loadavg()
    bcmd = ["cargo", "bench", "--quiet", "--bench", "fit_compare", "--", features, out,
            a.horizon_days]
    sh(bcmd, env=env)
    commands.append(f"RAYON_NUM_THREADS={a.threads} "
                    + " ".join(str(c) for c in bcmd).replace(str(ROOT) + "/", ""))
    info["ltv"] = json.loads((out / "ltv_results.json").read_text())
    columns = info["ltv"]["features"]

    me = str(Path(__file__).resolve())
    if a.reuse_reference:
        old = json.loads((out / "results.json").read_text())
        for part in ("sklearn", "lifetimes"):
            if part in old:
                info[part] = old[part]
                load = old["load"][part]
                # a reference reused twice keeps the date of the run that measured it
                info["load"][part] = load if "(run of " in load else load + f" (run of {old['when']})"
                a.skip_sklearn = a.skip_lifetimes = True
        commands = old["commands"]
        info["notes"] = old.get("notes", []) + a.note
    if not a.skip_sklearn:
        py = VENV / "bin" / "python"
        if a.max_load is not None:
            wait_for_quiet(a.max_load, 600)
        info["load"]["sklearn"] = loadavg()
        cmd = [py, me, "--worker", "sklearn", features, ",".join(columns), out / "sklearn.json"]
        sh(cmd, env=env, log=False)
        info["sklearn"] = json.loads((out / "sklearn.json").read_text())
        commands.append(f"OMP_NUM_THREADS={a.threads} OPENBLAS_NUM_THREADS={a.threads} "
                        f"{VENV.relative_to(ROOT)}/bin/python {Path(me).relative_to(ROOT)} "
                        f"--worker sklearn {features.relative_to(ROOT)} <ltv's feature columns> "
                        f"{(out / 'sklearn.json').relative_to(ROOT)}")
    if not a.skip_lifetimes:
        py = ensure_venv(VENV_LT, LT_PKGS)
        if a.max_load is not None:
            wait_for_quiet(a.max_load, 600)
        info["load"]["lifetimes"] = loadavg()
        cmd = [py, me, "--worker", "lifetimes", features, ",".join(columns),
               out / "lifetimes.json", a.horizon_days]
        sh(cmd, env=env, log=False)
        info["lifetimes"] = json.loads((out / "lifetimes.json").read_text())
        commands.append(f"{VENV_LT.relative_to(ROOT)}/bin/python {Path(me).relative_to(ROOT)} "
                        f"--worker lifetimes {features.relative_to(ROOT)} - "
                        f"{(out / 'lifetimes.json').relative_to(ROOT)} {a.horizon_days}")

    # Cross-check: the same split on both sides, and this file's metrics on ltv's predictions.
    import pandas as pd
    pr = pd.read_csv(out / "ltv_test_predictions.csv", dtype={"customer_id": str})
    worst = 0.0
    for m in info["ltv"]["models"]:
        if m["model"] in pr:
            for k, f in (("r2", r2), ("gini", normalized_gini)):
                v = f(pr["future_spend"], pr[m["model"]])
                worst = max(worst, abs(v - m[k]))
    sizes = {part: (info[part]["train"], info[part]["test"]) for part in ("sklearn", "lifetimes")
             if part in info}
    same = all(s == (info["ltv"]["train"], info["ltv"]["test"]) for s in sizes.values())
    info["crosscheck"] = (f"train/test sizes {'identical' if same else 'DIFFER: ' + str(sizes)} "
                          f"on all sides; ltv's test predictions re-scored with this script's "
                          f"R² and normalized Gini differ from ltv's own by at most {worst:.1e}.")
    print(info["crosscheck"], file=sys.stderr)
    info["commands"] = list(dict.fromkeys(commands))
    info["ltv_version"] = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
        text=True).stdout.strip()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    info["machine"] = f"{os.cpu_count()} × {cpu}"
    (out / "results.json").write_text(json.dumps(info, indent=1))
    if not a.no_results:
        write_results(info)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        kind, features, columns, out = sys.argv[2:6]
        cols = columns.split(",")
        if kind == "sklearn":
            worker_sklearn(features, cols, out)
        else:
            worker_lifetimes(features, cols, out, float(sys.argv[6]))
    else:
        # The driver itself runs in .venv (pandas/numpy for the cross-check).
        py = ensure_venv(VENV, ["-r", str(HERE / "requirements.txt")])
        if Path(sys.prefix).resolve() != VENV.resolve():
            os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])
        main()
