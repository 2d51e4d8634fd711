"""Fit lifetimes' BetaGeoFitter + GammaGammaFitter on the summaries written by
`cargo bench --bench btyd` and print wall times, for comparison with ltv.

Usage: python3 benches/compare/btyd_lifetimes.py [target/btyd_bench/summaries_1000000.csv]
Re-executes itself in benches/compare/.venv (created with lifetimes 0.11.3) when lifetimes is
not importable.
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".venv")
PY = os.path.join(VENV, "bin", "python")
PKGS = ["lifetimes==0.11.3", "numpy<2", "pandas<2", "scipy<1.12", "autograd>=1.6",
        "scikit-learn<1.5", "setuptools"]

try:
    import lifetimes  # noqa: F401
except ImportError:
    if os.path.abspath(sys.executable) == os.path.abspath(PY):
        raise
    if not os.path.exists(PY):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([PY, "-m", "pip", "install", "-q", *PKGS])
    os.execv(PY, [PY, *sys.argv])

import warnings

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

warnings.simplefilter("ignore")
root = os.path.dirname(os.path.dirname(HERE))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target/btyd_bench/summaries_1000000.csv")
d = pd.read_csv(path)
n = len(d)

cpu0 = time.process_time()
t = time.perf_counter()
bgf = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
bg_time = time.perf_counter() - t
p = bgf.params_
print(f"lifetimes BG/NBD fit: {n} customers, {bg_time:.3f} s, "
      f"r={p['r']:.4f} alpha={p['alpha']:.4f} a={p['a']:.4f} b={p['b']:.4f}")

r = d[d["frequency"] > 0]
t = time.perf_counter()
ggf = GammaGammaFitter().fit(r["frequency"], r["monetary_value"])
gg_time = time.perf_counter() - t
fit_cpu = time.process_time() - cpu0
g = ggf.params_
print(f"lifetimes Gamma-Gamma fit: {len(r)} repeat customers, {gg_time:.3f} s, "
      f"p={g['p']:.4f} q={g['q']:.4f} v={g['v']:.4f}")
print(f"lifetimes total fit (BG/NBD + Gamma-Gamma): wall {bg_time + gg_time:.3f} s, cpu {fit_cpu:.2f} s")
