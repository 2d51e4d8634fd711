"""scikit-learn baselines for `cargo bench --bench trees`, on the same CSV files.

Run `cargo bench --bench trees` first (it writes target/bench-data/trees_{rows}_*.csv), then:
    benches/compare/.venv/bin/python benches/compare/trees_sklearn.py [rows]
Creates the venv (scikit-learn, pandas) if it is missing.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
if Path(sys.prefix).resolve() != VENV.resolve():
    if not (VENV / "bin" / "python").exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
        subprocess.check_call([str(VENV / "bin" / "pip"), "install", "-q", "scikit-learn", "pandas"])
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), __file__, *sys.argv[1:]])

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.tree import DecisionTreeRegressor  # noqa: E402

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
data = HERE.parent.parent / "target" / "bench-data"
t = time.perf_counter()
train = pd.read_csv(data / f"trees_{rows}_train.csv", engine="c")
test = pd.read_csv(data / f"trees_{rows}_test.csv", engine="c")
x, y = train.drop(columns="y").to_numpy(np.float64), train["y"].to_numpy(np.float64)
xt, yt = test.drop(columns="y").to_numpy(np.float64), test["y"].to_numpy(np.float64)
print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, cpus {os.cpu_count()}; "
      f"read {x.shape} in {time.perf_counter() - t:.1f} s")

t, c = time.perf_counter(), time.process_time()
tree = DecisionTreeRegressor(max_depth=8, random_state=0).fit(x, y)
fit, cpu = time.perf_counter() - t, time.process_time() - c
t = time.perf_counter()
p = tree.predict(xt)
pred = time.perf_counter() - t
print(f"sklearn DecisionTreeRegressor(max_depth=8): fit {fit:.3f} s (cpu {cpu:.2f} s), "
      f"predict {len(xt) / pred:.2e} rows/s, test R² {r2_score(yt, p):.4f}")

t, c = time.perf_counter(), time.process_time()
hgb = HistGradientBoostingRegressor(max_iter=200, early_stopping=False, random_state=0).fit(x, y)
fit, cpu = time.perf_counter() - t, time.process_time() - c
t = time.perf_counter()
p = hgb.predict(xt)
pred = time.perf_counter() - t
print(f"sklearn HistGradientBoostingRegressor(max_iter=200, early_stopping=False): fit {fit:.3f} s (cpu {cpu:.2f} s), "
      f"predict {len(xt) / pred:.2e} rows/s, test R² {r2_score(yt, p):.4f}")
