"""The Python package against the CLI on the same inputs: the same features, models, scores and
errors, from paths and from in-memory tables.

The CLI binary is `$LTV_BIN`, else `target/release/ltv` or `target/debug/ltv` of this checkout;
CDNOW comes from `../shared/datasets` beside the checkout.
"""

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

import ltv

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "datasets"
if not SHARED.exists():
    SHARED = Path("/work/shared/datasets")
CDNOW = SHARED / "cdnow" / "cdnow_master_orders.csv"


def cli_path() -> str:
    env = os.environ.get("LTV_BIN")
    if env:
        return env
    for p in (ROOT / "target" / "release" / "ltv", ROOT / "target" / "debug" / "ltv"):
        if p.exists():
            return str(p)
    pytest.skip("no ltv binary: build it with `cargo build` or set LTV_BIN")


def cli(*args, cwd=None) -> str:
    r = subprocess.run([cli_path(), "-q", *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The same synthetic data as CSV and as Parquet (written by the CLI)."""
    d = tmp_path_factory.mktemp("data")
    cli("synth", "--customers", 1500, "--seed", 11, "-o", d / "c")
    cli("synth", "--customers", 1500, "--seed", 11, "-o", d / "p", "--format", "parquet")
    return d


KINDS = ["orders", "events", "comments", "customers"]


def paths(d: Path, ext: str):
    return {k: str(d / f"{k}.{ext}") for k in KINDS}


def cli_inputs(files):
    out = []
    for k in KINDS:
        out += [f"--{k}", files[k]]
    return out


def test_features_are_the_clis_from_csv_parquet_polars_pandas_and_pyarrow(data, tmp_path):
    out = tmp_path / "cli.parquet"
    cli("features", *cli_inputs(paths(data / "c", "csv")), "--cutoff", "2025-06-30",
        "--horizon", "90d", "--label", "-o", out)
    want = pq.read_table(out)
    pqp = paths(data / "p", "parquet")
    sources = {
        "csv paths": paths(data / "c", "csv"),
        "parquet paths": pqp,
        "polars": {k: pl.read_parquet(v) for k, v in pqp.items()},
        "pandas": {k: pd.read_parquet(v) for k, v in pqp.items()},
        "pyarrow": {k: pq.read_table(v) for k, v in pqp.items()},
        # a reader is consumed by one call: made anew for each below
        "record batch reader": {k: (lambda v=v: pq.read_table(v).to_reader(max_chunksize=700))
                                for k, v in pqp.items()},
    }
    for name, src in sources.items():
        for threads in (1, 2):
            s = {k: v() if callable(v) else v for k, v in src.items()}
            got = ltv.features(s["orders"], s["events"], s["comments"], s["customers"],
                               cutoff="2025-06-30", horizon="90d", label=True, threads=threads)
            assert got.schema == want.schema, name
            assert got.equals(want), f"{name} at {threads} threads"
    as_polars = ltv.features(pqp["orders"], cutoff="2025-06-30", to="polars")
    assert isinstance(as_polars, pl.DataFrame) and as_polars.height > 0
    assert isinstance(ltv.features(pqp["orders"], cutoff="2025-06-30", to="pandas"), pd.DataFrame)


def test_cdnow_from_a_polars_frame_with_float_amounts_is_the_clis(tmp_path):
    if not CDNOW.exists():
        pytest.skip("../shared/datasets is not beside the checkout")
    out = tmp_path / "cli.parquet"
    cli("features", "--orders", CDNOW, "--cutoff", "1997-09-30", "--label", "--horizon", "39w",
        "-o", out)
    frame = pl.read_csv(CDNOW, schema_overrides={"customer_id": pl.String, "ordered_at": pl.String,
                                                 "amount": pl.Float64})
    got = ltv.features(frame, cutoff="1997-09-30", label=True, horizon="39w")
    assert got.num_rows == 23_570
    assert got.equals(pq.read_table(out))


def test_train_score_and_model_files_round_trip_with_the_cli(data, tmp_path):
    c = paths(data / "c", "csv")
    ins = cli_inputs(c)[:6]  # orders, events, comments
    cli("train", *ins, "--cutoff", "2025-03-31", "--horizon", "90d", "--model", "boosting",
        "-o", tmp_path / "cli.json")
    m = ltv.train(c["orders"], c["events"], c["comments"], cutoff="2025-03-31", horizon="90d",
                  model="boosting")
    cli_model = json.loads((tmp_path / "cli.json").read_text())
    assert m.info == cli_model  # same paths, so the same data hash too
    assert m.name == "boosting" and m.feature_names == cli_model["feature_names"]
    assert m.metrics.column("model").to_pylist() == ["boosting"]
    # CLI model → Python scores, Python model → CLI scores: all the CLI's scores.
    cli("score", "--model", tmp_path / "cli.json", *ins, "--as-of", "2025-06-30",
        "-o", tmp_path / "cli_scores.parquet")
    want = pq.read_table(tmp_path / "cli_scores.parquet")
    loaded = ltv.load_model(tmp_path / "cli.json")
    pqp = paths(data / "p", "parquet")
    for orders, events, comments in [(c["orders"], c["events"], c["comments"]),
                                     (pl.read_parquet(pqp["orders"]), pq.read_table(pqp["events"]),
                                      pd.read_parquet(pqp["comments"]))]:
        assert loaded.score(orders, events, comments, as_of="2025-06-30").equals(want)
    m.save(tmp_path / "py.json")
    cli("score", "--model", tmp_path / "py.json", *ins, "--as-of", "2025-06-30",
        "-o", tmp_path / "py_scores.parquet")
    assert pq.read_table(tmp_path / "py_scores.parquet").equals(want)
    # evaluate = the CLI's JSON
    got = m.evaluate(c["orders"], c["events"], c["comments"], cutoff="2025-03-31", horizon="90d")
    want_eval = json.loads(cli("evaluate", "--model", tmp_path / "cli.json", *ins,
                               "--cutoff", "2025-03-31", "--horizon", "90d", "--format", "json"))
    assert got["normalized_gini"] == pytest.approx(want_eval["normalized_gini"], abs=0, rel=0)


def test_hyper_parameters_are_checked_by_name(data):
    c = paths(data / "c", "csv")
    with pytest.raises(ValueError, match="unknown `max_dept`"):
        ltv.train(c["orders"], cutoff="2025-03-31", model="tree", max_dept=3)
    m = ltv.train(c["orders"], cutoff="2025-03-31", model="tree", tree_max_depth=3, folds=3)
    assert m.info["hyperparameters"]["tree_max_depth"] == 3
    assert m.info["hyperparameters"]["folds"] == 3


def test_errors_are_python_exceptions_with_their_location(tmp_path):
    bad = tmp_path / "orders.csv"
    bad.write_text("customer_id,ordered_at,amount\nC1,2025-01-01,5\nC2,2025-01-02,12,5x\n")
    with pytest.raises(ltv.InputError) as e:
        ltv.features(bad, cutoff="2025-06-30")
    assert isinstance(e.value, ValueError)
    assert e.value.path == str(bad) and e.value.line == 3
    frame = pl.DataFrame({"customer_id": ["a", "b"], "ordered_at": ["2025-01-01", "2025-01-02"],
                          "amount": [1.0, None]})
    with pytest.raises(ltv.InputError, match=r"row 1 \(batch 0, row 1\): column 3 `amount`: missing value"):
        ltv.features(frame, cutoff="2025-06-30")
    try:
        ltv.features(frame, cutoff="2025-06-30")
    except ltv.InputError as err:
        assert err.line == 1 and err.column == "amount"
    with pytest.raises(ltv.InputError, match="missing required column"):
        ltv.features(pl.DataFrame({"user": ["a"]}), cutoff="2025-06-30")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ltv.ModelError):
        ltv.load_model(tmp_path / "m.json")
    with pytest.raises(TypeError, match="expected a path or a table"):
        ltv.features(42, cutoff="2025-06-30")
    with pytest.raises(ValueError, match="invalid cutoff"):
        ltv.features(bad, cutoff="June")


def test_the_gil_is_released_while_the_engine_works(tmp_path):
    d = ltv.synth(customers=40_000, seed=3, out_dir=tmp_path, format="parquet")
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.002)

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.05)
    start = time.perf_counter()
    ltv.features(d["orders"], d["events"], d["comments"], cutoff="2025-06-30", threads=1)
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # A thread blocked on the GIL would not tick at all during the call.
    assert end - start > 0.1, "the call was too short to tell"
    assert len(during) >= (end - start) / 0.002 * 0.3, (len(during), end - start)


def test_sentiment_is_the_clis(tmp_path):
    texts = ["质量很好，下次还买", "Awful, stale and broken.", "", "还行吧"]
    got = ltv.sentiment(texts)
    assert got.column_names == ["lang", "score", "label"]
    assert got.column("label").to_pylist()[:2] == ["positive", "negative"]
    src = tmp_path / "c.csv"
    pl.DataFrame({"customer_id": ["a"] * 4, "created_at": ["2025-01-01"] * 4, "text": texts}).write_csv(src)
    cli("sentiment", "score", "--comments", src, "-o", tmp_path / "s.parquet")
    want = pq.read_table(tmp_path / "s.parquet")
    assert got.column("lang").to_pylist() == want.column("lang").to_pylist()
    assert got.column("score").to_pylist() == want.column("score").to_pylist()
    assert ltv.sentiment(pl.Series(texts)).num_rows == 4


def test_synth_in_memory_is_the_clis_parquet(tmp_path):
    tables = ltv.synth(customers=500, seed=9)
    cli("synth", "--customers", 500, "--seed", 9, "-o", tmp_path, "--format", "parquet")
    for k in KINDS:
        assert tables[k].equals(pq.read_table(tmp_path / f"{k}.parquet")), k


def test_kpis_and_report_are_the_clis(data, tmp_path):
    c = paths(data / "c", "csv")
    ins = cli_inputs(c)[:6]
    cli("train", *ins, "--cutoff", "2025-03-31", "--horizon", "90d", "--model", "tweedie",
        "-o", tmp_path / "m.json")
    cli("score", "--model", tmp_path / "m.json", *ins, "--as-of", "2025-06-30",
        "-o", tmp_path / "s.csv")
    rep = ["--orders", c["orders"], "--events", c["events"], "--customers", c["customers"]]
    want = json.loads(cli("report", "--scores", tmp_path / "s.csv", *rep, "--as-of", "2025-06-30",
                          "--format", "json"))
    got = ltv.kpis(c["orders"], c["events"], c["customers"], as_of="2025-06-30",
                   scores=tmp_path / "s.csv")
    assert got == want
    # scores given as the table Model.score returns: the same KPIs
    model = ltv.load_model(tmp_path / "m.json")
    table = model.score(c["orders"], c["events"], c["comments"], as_of="2025-06-30")
    again = ltv.kpis(c["orders"], c["events"], c["customers"], as_of="2025-06-30", scores=table)
    assert again["tiers"][0]["customers"] == want["tiers"][0]["customers"]
    html = cli("report", "--scores", tmp_path / "s.csv", *rep, "--as-of", "2025-06-30",
               "--model", tmp_path / "m.json")
    r = ltv.report(c["orders"], c["events"], c["customers"], scores=tmp_path / "s.csv",
                   as_of="2025-06-30", model=model)
    assert r._repr_html_() == html
    r.save(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html


def test_run_is_the_monthly_job(data, tmp_path):
    c = paths(data / "c", "csv")
    cfg = tmp_path / "ltv.toml"
    cfg.write_text(f'[data]\norders = "{c["orders"]}"\nevents = "{c["events"]}"\n'
                   f'[model]\nname = "tree"\nfolds = 3\n[output]\ndir = "runs"\n')
    got = ltv.run(cfg, "2025-06", output_dir=tmp_path / "py")
    cli("run", "--config", cfg, "--month", "2025-06", "--output-dir", tmp_path / "cli")
    assert got["month"] == "2025-06"
    assert Path(got["run_dir"]) == tmp_path / "py" / "2025-06"
    for f in ("scores.csv", "metrics.json", "tiers.json", "report.html"):
        assert (tmp_path / "py" / "2025-06" / f).read_bytes() == \
            (tmp_path / "cli" / "2025-06" / f).read_bytes(), f


def test_sklearn_regressor_in_pipelines_and_search():
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ltv.sklearn import LTVRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    y = 3.0 * X[:, 0] + np.where(X[:, 1] > 0, 2.0, -1.0) + rng.normal(scale=0.1, size=2000)
    for model in ("boosting", "tree", "linear"):
        r2 = cross_val_score(LTVRegressor(model=model), X, y, cv=3).mean()
        assert r2 > (0.7 if model == "linear" else 0.9), (model, r2)
    pipe = make_pipeline(StandardScaler(), LTVRegressor(model="boosting", iterations=50))
    assert pipe.fit(X, y).score(X, y) > 0.9
    grid = GridSearchCV(LTVRegressor(model="tree"), {"max_depth": [1, 6]}, cv=3).fit(X, y)
    assert grid.best_params_ == {"max_depth": 6}
    est = LTVRegressor().set_params(iterations=10)
    assert est.get_params()["iterations"] == 10
    # Deterministic for a seed; the predictions survive pickling.
    import pickle

    a = LTVRegressor(iterations=30).fit(X, y)
    b = pickle.loads(pickle.dumps(a))
    assert np.array_equal(a.predict(X), b.predict(X))
    assert np.array_equal(a.predict(X), LTVRegressor(iterations=30).fit(X, y).predict(X))
    # Tweedie on a non-negative target recovers a log-linear mean.
    yt = rng.poisson(np.exp(0.5 * np.sign(X[:, 0]) * np.log1p(np.abs(X[:, 0])) + 1.0))
    assert LTVRegressor(model="tweedie").fit(X, yt).score(X, yt) > 0.1


def _estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    from ltv.sklearn import LTVRegressor

    return check_estimator(LTVRegressor(iterations=20, min_samples_leaf=1), on_fail=None)


def test_sklearn_estimator_checks():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = _estimator_checks()
    failed = [r for r in results if r["status"] == "failed"]
    assert not failed, [(r["check_name"], str(r["exception"])[:200]) for r in failed]
    passed = sum(r["status"] == "passed" for r in results)
    assert passed >= 30, (passed, len(results))
    del caught


def _without_data_hash(info):
    """A model file's JSON without the hash of its training files (in-memory inputs have no
    files to hash)."""
    return {k: v for k, v in info.items() if k != "training_data_sha256"}


def _sources(pqp):
    return {
        "parquet paths": pqp,
        "polars": {k: pl.read_parquet(v) for k, v in pqp.items()},
        "pandas": {k: pd.read_parquet(v) for k, v in pqp.items()},
        "pyarrow": {k: pq.read_table(v) for k, v in pqp.items()},
    }


def test_train_metrics_predictions_scores_and_tiers_are_the_clis_from_every_source(data, tmp_path):
    c = paths(data / "c", "csv")
    ins = cli_inputs(c)
    cli("train", *ins, "--cutoff", "2025-03-31", "--horizon", "90d", "--model", "boosting",
        "-o", tmp_path / "cli.json")
    want_model = json.loads((tmp_path / "cli.json").read_text())
    cli("score", "--model", tmp_path / "cli.json", *ins, "--as-of", "2025-06-30",
        "-o", tmp_path / "cli_scores.parquet")
    want_scores = pq.read_table(tmp_path / "cli_scores.parquet")
    for name, s in _sources(paths(data / "p", "parquet")).items():
        m = ltv.train(s["orders"], s["events"], s["comments"], s["customers"],
                      cutoff="2025-03-31", horizon="90d", model="boosting", threads=2)
        assert _without_data_hash(m.info) == _without_data_hash(want_model), name
        assert m.metrics.equals(ltv.load_model(tmp_path / "cli.json").metrics), name
        scores = m.score(s["orders"], s["events"], s["comments"], s["customers"],
                         as_of="2025-06-30", threads=1)
        assert scores.equals(want_scores), name
        # predict on the features table: the scores' numbers, customer by customer
        feats = ltv.features(s["orders"], s["events"], s["comments"], s["customers"],
                             cutoff="2025-06-30")
        assert feats.column("customer_id").equals(want_scores.column("customer_id"))
        p = m.predict_table(feats)
        for col in ("predicted_value", "churn_probability", "p_alive", "expected_orders"):
            np.testing.assert_array_equal(p.column(col).to_numpy(),
                                          want_scores.column(col).to_numpy(), err_msg=col)
        np.testing.assert_array_equal(m.predict(feats.to_pandas()),
                                      want_scores.column("predicted_value").to_numpy())


def test_cdnow_train_and_scores_are_the_clis_from_polars_pandas_and_pyarrow(tmp_path):
    if not CDNOW.exists():
        pytest.skip("../shared/datasets is not beside the checkout")
    for model in ("tweedie", "hybrid"):
        cli("train", "--orders", CDNOW, "--cutoff", "1997-09-30", "--horizon", "39w",
            "--model", model, "-o", tmp_path / f"{model}.json")
        cli("score", "--model", tmp_path / f"{model}.json", "--orders", CDNOW,
            "--as-of", "1998-06-30", "-o", tmp_path / f"{model}.parquet")
    frame = pl.read_csv(CDNOW, schema_overrides={"customer_id": pl.String,
                                                 "ordered_at": pl.String, "amount": pl.Float64})
    for name, orders in {"polars": frame, "pandas": frame.to_pandas(),
                         "pyarrow": frame.to_arrow()}.items():
        for model in ("tweedie", "hybrid"):
            want = json.loads((tmp_path / f"{model}.json").read_text())
            m = ltv.train(orders, cutoff="1997-09-30", horizon="39w", model=model)
            assert _without_data_hash(m.info) == _without_data_hash(want), (name, model)
            scores = m.score(orders, as_of="1998-06-30")
            assert scores.equals(pq.read_table(tmp_path / f"{model}.parquet")), (name, model)
            assert scores.num_rows == 23_570


def test_model_predict_explains_a_missing_column(data):
    c = paths(data / "c", "csv")
    m = ltv.train(c["orders"], cutoff="2025-03-31", model="tweedie", folds=3)
    feats = ltv.features(c["orders"], cutoff="2025-06-30").drop_columns(["repeat_spend_avg"])
    with pytest.raises(ValueError, match="no column `repeat_spend_avg`"):
        m.predict(feats)
    with pytest.raises(TypeError, match="not a path"):
        m.predict(c["orders"])


class _RecordingBar:
    """Stands in for tqdm: records what the progress bar was told."""

    made = []

    def __init__(self, total=None, desc="", **kw):
        self.total, self.desc, self.n, self.closed = total, desc, 0, False
        self.descriptions = []
        _RecordingBar.made.append(self)

    def update(self, k):
        self.n += k

    def set_description(self, d, refresh=True):
        self.descriptions.append(d)

    def close(self):
        self.closed = True


def test_progress_true_draws_a_tqdm_bar_over_the_input_bytes(data, monkeypatch, capsys):
    import tqdm.auto

    c = paths(data / "c", "csv")
    ltv.features(c["orders"], c["events"], cutoff="2025-06-30", progress=True)
    assert "features" in capsys.readouterr().err  # the real tqdm drew on stderr
    monkeypatch.setattr(tqdm.auto, "tqdm", _RecordingBar)
    _RecordingBar.made.clear()
    ltv.features(c["orders"], c["events"], cutoff="2025-06-30", progress=True)
    (bar,) = _RecordingBar.made
    size = os.path.getsize(c["orders"]) + os.path.getsize(c["events"])
    assert bar.total == size and bar.n == size and bar.closed
    ltv.train(c["orders"], cutoff="2025-03-31", model="auto", folds=2, progress=True)
    # the stage is polled every 0.1 s: the last one is always shown
    stages = _RecordingBar.made[-1].descriptions
    assert stages and stages[-1].startswith("train: fitting "), stages
    _RecordingBar.made.clear()
    ltv.features(c["orders"], cutoff="2025-06-30")  # silent by default
    assert _RecordingBar.made == []


def test_ctrl_c_stops_a_long_call_and_the_engine_with_it(tmp_path):
    import signal

    d = ltv.synth(customers=60_000, seed=5, out_dir=tmp_path, format="csv")
    seen = []
    opts = ltv._opts(progress=lambda done, total, stage: seen.append((done, total)))
    timer = threading.Timer(0.15, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        # the raw call: progress reports how far the engine got before it stopped
        ltv._ltv.features(d["orders"], d["events"], None, None, "2025-06-30", "90d", False,
                          opts, 1)
    stopped = time.perf_counter() - start
    timer.join()
    assert stopped < 0.15 + 2.0, stopped
    assert seen and seen[-1][0] < seen[-1][1], "the read ran to the end: nothing was stopped"
    # training stops between folds
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ltv.train(d["orders"], d["events"], cutoff="2025-03-31", model="auto", threads=1)
    stopped = time.perf_counter() - start
    timer.join()
    assert stopped < 0.5 + 2.0, stopped
    # the package still works after an interrupted call
    assert ltv.features(d["orders"], cutoff="2025-06-30").num_rows > 0
