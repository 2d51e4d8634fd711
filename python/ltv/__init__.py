"""`ltv`: customer lifetime value for private-domain commerce, from Python.

The Rust engine of the `ltv` CLI, called in-process: inputs are paths (CSV or Parquet, read with
the CLI's options) or in-memory tables (polars, pyarrow, DuckDB, pandas), outputs are pyarrow
Tables (or polars / pandas with `to=`), and the numbers are the CLI's.

>>> import ltv, polars as pl
>>> orders = pl.read_csv("datasets/example/orders.csv")
>>> feats = ltv.features(orders, cutoff="2025-06-30", horizon="90d", label=True, to="polars")
>>> feats.height
3026
>>> model = ltv.train(orders, cutoff="2025-03-31", horizon="90d", model="tweedie")
>>> scores = model.score(orders, as_of="2025-06-30", to="polars")
>>> scores.group_by("tier").len().sort("tier").rows()
[('A', 606), ('B', 907), ('C', 1513)]

Long calls release the GIL, stop on Ctrl-C (`KeyboardInterrupt`) within about a second, take
`threads=` (all cores by default) and show a tqdm bar with `progress=True` when tqdm is
installed. Errors are `ltv.InputError` (bad data, located), `ltv.ModelError` and `OSError`.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, Optional, Sequence, Union

import pyarrow as pa

from . import _ltv
from ._errors import InputError, LtvError, ModelError

BTYD_FEATURE_COLUMNS = ("repeat_purchase_days", "days_first_to_last_order", "customer_age_days",
                        "repeat_spend_avg")
"""The feature columns the BTYD models (`bgnbd`, `hybrid`) read besides `Model.feature_names`."""

__all__ = [
    "features",
    "train",
    "load_model",
    "Model",
    "sentiment",
    "synth",
    "kpis",
    "report",
    "Report",
    "run",
    "BTYD_FEATURE_COLUMNS",
    "InputError",
    "ModelError",
    "LtvError",
]
__version__ = _ltv.__version__

Table = Any
"""A path (str or os.PathLike, CSV or Parquet) or a table with `__arrow_c_stream__`."""


class _Stream:
    """Wraps an Arrow C stream capsule so pyarrow can import it (`pa.table(...)`)."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __arrow_c_stream__(self, requested_schema=None):
        return self._capsule


def _table(capsule, to: str):
    table = pa.table(_Stream(capsule))
    if to == "pyarrow":
        return table
    if to == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if to == "pandas":
        return table.to_pandas()
    raise ValueError(f"to= must be 'pyarrow', 'polars' or 'pandas', not {to!r}")


class _Bar:
    """The engine's progress callback `(done, total, stage)` drawn as a tqdm bar (`tqdm.auto`:
    a widget in Jupyter, text elsewhere); completed when the call succeeds, closed either way."""

    def __init__(self, tqdm, desc: str, unit: Optional[str]):
        self._tqdm = tqdm
        self._desc = desc
        self._unit = unit
        self.bar = None

    def __call__(self, done: int, total: int, stage: str) -> None:
        if self.bar is None:
            if self._unit is None:  # stages only: the stage and the time taken
                self.bar = self._tqdm(desc=self._desc, bar_format="{desc} [{elapsed}]")
            else:
                self.bar = self._tqdm(
                    total=total or None, desc=self._desc, unit=self._unit, unit_scale=True,
                    unit_divisor=1024 if self._unit == "B" else 1000,
                )
        if stage:
            self.bar.set_description(f"{self._desc}: {stage}", refresh=False)
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, trace):
        if self.bar is not None:
            if kind is None and self.bar.total and self.bar.n < self.bar.total:
                self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, kind, value, trace):
        return None


def _progress(enabled: bool, desc: str, *inputs, stages: bool = False):
    """A context giving the progress callback: a tqdm bar when `enabled` and tqdm is installed
    (counting bytes when every input is a path, rows otherwise; with `stages`, the stage
    only), else nothing."""
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoBar()
    if stages:
        return _Bar(tqdm, desc, None)
    paths = all(isinstance(i, (str, os.PathLike)) for i in inputs if i is not None)
    return _Bar(tqdm, desc, "B" if paths else " rows")


def _input(obj):
    """A path or Arrow-stream object as the engine takes it (pandas goes through pyarrow)."""
    if obj is None or isinstance(obj, (str, os.PathLike)):
        return obj
    if hasattr(obj, "__arrow_c_stream__"):
        return obj
    try:
        import pandas as pd

        if isinstance(obj, pd.DataFrame):
            return pa.Table.from_pandas(obj, preserve_index=False)
    except ImportError:
        pass
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    raise TypeError(
        f"expected a path or a table (polars, pyarrow, pandas, DuckDB), not {type(obj).__name__}"
    )


def _opts(
    map=None,
    time_format=None,
    delimiter=None,
    utc_offset=None,
    no_header=False,
    on_bad_rows="fail",
    input_format="auto",
    new_within_days=None,
    silent_after_days=None,
    churned_after_days=None,
    allow_partial_window=False,
    progress=None,
) -> Dict[str, Any]:
    if isinstance(map, dict):
        map = ",".join(f"{k}={v}" for k, v in map.items())
    return {
        "map": map,
        "time_format": time_format,
        "delimiter": delimiter,
        "utc_offset": utc_offset,
        "no_header": no_header,
        "on_bad_rows": on_bad_rows,
        "input_format": input_format,
        "new_within_days": new_within_days,
        "silent_after_days": silent_after_days,
        "churned_after_days": churned_after_days,
        "allow_partial_window": allow_partial_window,
        "progress": progress,
    }


def features(
    orders: Table,
    events: Optional[Table] = None,
    comments: Optional[Table] = None,
    customers: Optional[Table] = None,
    *,
    cutoff: str,
    horizon: Optional[str] = None,
    label: bool = False,
    to: str = "pyarrow",
    threads: Optional[int] = None,
    progress: bool = False,
    **read_options,
):
    """One row of features per customer at `cutoff` (the CLI's `ltv features`).

    Inputs are paths (CSV or Parquet file, or a directory of Parquet parts) or tables with the
    Arrow C stream interface (polars DataFrame, pyarrow Table or RecordBatchReader, DuckDB
    relation; a pandas DataFrame goes through pyarrow). `cutoff` is a date (`"2025-06-30"`,
    the end of that day) or an RFC 3339 instant. With `label=True`, the label columns cover the
    `horizon` after the cutoff (`"90d"`, `"39w"`; default 90 days).

    Read options (as the CLI's flags): `map` (`{"customer_id": "user_id"}` or
    `"customer_id=user_id,..."`), `time_format`, `delimiter`, `utc_offset` (`"+08:00"`; default
    the offset the orders carry), `no_header`, `on_bad_rows` (`"fail"` or `"skip"`),
    `input_format` (`"auto"`, `"csv"`, `"parquet"`); lifecycle thresholds `new_within_days`,
    `silent_after_days`, `churned_after_days`. `threads` sets the worker count (all cores by
    default); the GIL is released while the engine works and Ctrl-C stops it. `progress=True`
    shows a tqdm bar (when tqdm is installed).

    Returns a pyarrow Table (`to="polars"` or `to="pandas"` for those) with the typed columns of
    `ltv features -o f.parquet`.

    >>> t = ltv.features("datasets/example/orders.csv", "datasets/example/events.csv",
    ...                  cutoff="2025-06-30", horizon="90d", label=True)
    >>> t.num_rows
    4032
    >>> t.column_names[:4]
    ['customer_id', 'first_order_at', 'last_order_at', 'orders_total']
    >>> import polars as pl
    >>> frame = pl.read_csv("datasets/example/orders.csv")
    >>> ltv.features(frame, cutoff="2025-06-30", to="polars").equals(
    ...     ltv.features("datasets/example/orders.csv", cutoff="2025-06-30", to="polars"))
    True
    """
    with _progress(progress, "features", orders, events, comments, customers) as bar:
        capsule = _ltv.features(
            _input(orders),
            _input(events),
            _input(comments),
            _input(customers),
            cutoff,
            horizon or "90d",
            label,
            _opts(progress=bar, **read_options),
            threads,
        )
    return _table(capsule, to)


class Model:
    """A fitted `ltv` model: the model file of `ltv train`, in memory.

    Get one from `ltv.train(...)` or `ltv.load_model(path)`; `save(path)` writes a file the CLI
    reads (`ltv score --model path`), and the CLI's files load here.

    Attributes: `name` (the model kind chosen), `params` (fitted parameters and
    hyper-parameters, a dict), `metrics` (out-of-fold metrics of every model tried, a pyarrow
    Table), `feature_names`, `info` (the whole model file as a dict).
    """

    def __init__(self, file):
        self._file = file
        self.info: Dict[str, Any] = json.loads(file.to_json())

    @property
    def name(self) -> str:
        """The model kind (`"tweedie"`, `"boosting"`, …)."""
        return self.info["model"]

    @property
    def feature_names(self):
        """The feature columns the model reads, in order."""
        return list(self.info.get("feature_names", []))

    @property
    def params(self) -> Dict[str, Any]:
        """Hyper-parameters and the fitted models (value model, BTYD, churn)."""
        return {
            "hyperparameters": self.info.get("hyperparameters"),
            "value_model": self.info.get("value_model"),
            "btyd": self.info.get("btyd"),
            "churn": self.info.get("churn"),
        }

    @property
    def metrics(self):
        """Out-of-fold metrics of every model tried (one row each), as a pyarrow Table."""
        rows = []
        for r in self.info.get("model_comparison", []):
            row = {"model": r.get("model"), "rejected": r.get("rejected")}
            row.update(r.get("metrics") or {})
            row.pop("deciles", None)
            rows.append(row)
        return pa.Table.from_pylist(rows)

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the model file (atomically), readable by `ltv score --model`."""
        self._file.save(os.fspath(path))

    def score(
        self,
        orders: Table,
        events: Optional[Table] = None,
        comments: Optional[Table] = None,
        customers: Optional[Table] = None,
        *,
        as_of: str,
        tier_a: float = 0.2,
        tier_b: float = 0.3,
        to: str = "pyarrow",
        threads: Optional[int] = None,
        progress: bool = False,
        **read_options,
    ):
        """Scores every customer at `as_of` (the CLI's `ltv score`): customer_id,
        predicted_value, churn_probability, p_alive, expected_orders, lifecycle_stage,
        rfm_segment, tier (A: the top `tier_a` share of predicted value, B: the next `tier_b`).
        Inputs and read options as in `ltv.features`; give the inputs the model was trained
        with (`ModelError` otherwise).

        >>> model = ltv.train("datasets/example/orders.csv", cutoff="2025-03-31", model="tweedie")
        >>> scores = model.score("datasets/example/orders.csv", as_of="2025-06-30", to="polars")
        >>> scores.columns
        ['customer_id', 'predicted_value', 'churn_probability', 'p_alive', 'expected_orders', \
'lifecycle_stage', 'rfm_segment', 'tier']
        >>> scores.filter(pl.col("tier") == "A").height, scores.height
        (606, 3026)
        """
        with _progress(progress, "score", orders, events, comments, customers) as bar:
            capsule = self._file.score(
                _input(orders),
                _input(events),
                _input(comments),
                _input(customers),
                as_of,
                tier_a,
                tier_b,
                _opts(progress=bar, **read_options),
                threads,
            )
        return _table(capsule, to)

    def predict(self, features: Table, *, threads: Optional[int] = None):
        """Predicted value for each row of a features table (scikit-learn's `predict`): a
        numpy array, in row order. `features` is a table (pyarrow, polars, pandas) holding the
        model's `feature_names` and the BTYD columns (`ltv.BTYD_FEATURE_COLUMNS`), as
        `ltv.features` makes them; the numbers equal `score`'s for the same customers when the
        features were made at the same cutoff (`as_of`).

        >>> model = ltv.train("datasets/example/orders.csv", cutoff="2025-03-31", model="tweedie")
        >>> feats = ltv.features("datasets/example/orders.csv", cutoff="2025-06-30")
        >>> values = model.predict(feats)
        >>> scores = model.score("datasets/example/orders.csv", as_of="2025-06-30")
        >>> bool((values == scores.column("predicted_value").to_numpy()).all())
        True
        """
        table = self.predict_table(features, threads=threads)
        return table.column("predicted_value").to_numpy()

    def predict_table(self, features: Table, *, to: str = "pyarrow", threads: Optional[int] = None):
        """All four predictions for each row of a features table (see `predict`):
        `predicted_value`, `churn_probability`, `p_alive`, `expected_orders`, with the
        table's `customer_id` first when it has one.

        >>> model = ltv.train("datasets/example/orders.csv", cutoff="2025-03-31", model="bgnbd")
        >>> feats = ltv.features("datasets/example/orders.csv", cutoff="2025-06-30")
        >>> model.predict_table(feats).column_names
        ['customer_id', 'predicted_value', 'churn_probability', 'p_alive', 'expected_orders']
        """
        features = _input(features)
        if isinstance(features, (str, os.PathLike)):
            raise TypeError("features: expected a table (the output of ltv.features), not a path")
        if not isinstance(features, pa.Table):
            features = pa.table(features)
        out = pa.table(_Stream(self._file.predict(features, threads)))
        if "customer_id" in features.column_names:
            out = out.add_column(0, "customer_id", features.column("customer_id"))
        return _table_from(out, to) if to != "pyarrow" else out

    def evaluate(
        self,
        orders: Table,
        events: Optional[Table] = None,
        comments: Optional[Table] = None,
        customers: Optional[Table] = None,
        *,
        cutoff: str,
        horizon: str,
        threads: Optional[int] = None,
        progress: bool = False,
        **read_options,
    ) -> Dict[str, Any]:
        """The model at `cutoff` against what happened in the `horizon` after it (the CLI's
        `ltv evaluate --format json`), as a dict.

        >>> model = ltv.train("datasets/example/orders.csv", cutoff="2025-03-31", model="tweedie")
        >>> m = model.evaluate("datasets/example/orders.csv", cutoff="2025-03-31", horizon="90d")
        >>> sorted(k for k in m if k in ("normalized_gini", "rmse", "mae"))
        ['mae', 'normalized_gini', 'rmse']
        """
        with _progress(progress, "evaluate", orders, events, comments, customers) as bar:
            text = self._file.evaluate(
                _input(orders),
                _input(events),
                _input(comments),
                _input(customers),
                cutoff,
                horizon,
                _opts(progress=bar, **read_options),
                threads,
            )
        return json.loads(text)

    def __repr__(self) -> str:
        return f"ltv.Model({self.name!r}, {len(self.feature_names)} features)"


def train(
    orders: Table,
    events: Optional[Table] = None,
    comments: Optional[Table] = None,
    customers: Optional[Table] = None,
    *,
    cutoff: str,
    horizon: str = "90d",
    model: str = "auto",
    folds: int = 5,
    seed: int = 42,
    threads: Optional[int] = None,
    progress: bool = False,
    read_options: Optional[Dict[str, Any]] = None,
    **hyper_parameters,
) -> Model:
    """Trains an LTV model (the CLI's `ltv train`): features at `cutoff`, the label over the
    `horizon` after it, `folds`-fold cross-validation of every candidate (`model="auto"`) or of
    one kind (`"linear"`, `"tweedie"`, `"tree"`, `"boosting"`, `"bgnbd"`, `"hybrid"`), then a
    final fit on all customers.

    Hyper-parameters use the model file's names, e.g. `tree_max_depth=8`,
    `boosting_iterations=300`, `learning_rate=0.1`, `tweedie_power=1.3`, `btyd_penalizer=0.001`.
    `read_options` is a dict of the read options of `ltv.features`. `progress=True` shows the
    stage (features, each candidate's cross-validation, the final fit) on a tqdm bar.

    >>> m = ltv.train("datasets/example/orders.csv", "datasets/example/events.csv",
    ...               cutoff="2025-03-31", horizon="90d", model="auto", folds=3)
    >>> sorted(m.metrics.column("model").to_pylist())
    ['bgnbd', 'boosting', 'hybrid', 'linear', 'tree', 'tweedie']
    >>> m.name in m.metrics.column("model").to_pylist()
    True
    """
    settings = dict(hyper_parameters, folds=folds, seed=seed)
    with _progress(progress, "train", stages=True) as bar:
        file = _ltv.train(
            _input(orders),
            _input(events),
            _input(comments),
            _input(customers),
            cutoff,
            horizon,
            model,
            json.dumps(settings),
            _opts(progress=bar, **(read_options or {})),
            threads,
        )
    return Model(file)


def load_model(path: Union[str, os.PathLike]) -> Model:
    """Reads a model file written by `ltv train` (CLI) or `Model.save`.

    >>> m = ltv.train("datasets/example/orders.csv", cutoff="2025-03-31", model="tweedie")
    >>> m.save(tmp / "model.json")       # `ltv score --model` reads it
    >>> ltv.load_model(tmp / "model.json").info == m.info
    True
    """
    return Model(_ltv.ModelFile.load(os.fspath(path)))


def sentiment(texts: Sequence[str], *, to: str = "pyarrow", threads: Optional[int] = None):
    """Sentiment of each text (Chinese or English): `lang`, `score` in [-1, 1] and `label`
    (`positive`, `neutral`, `negative`), one row per text in order. `texts` is a list, a
    numpy array or a column (polars/pandas Series, pyarrow Array) of strings.

    >>> t = ltv.sentiment(["质量很好，下次还买", "Awful, stale and broken."])
    >>> t.column("lang").to_pylist(), t.column("label").to_pylist()
    (['zh', 'en'], ['positive', 'negative'])
    """
    if hasattr(texts, "to_pylist"):
        texts = texts.to_pylist()
    elif hasattr(texts, "to_list"):
        texts = texts.to_list()
    texts = ["" if t is None else str(t) for t in texts]
    return _table(_ltv.sentiment(texts, threads), to)


def synth(
    customers: int = 5000,
    seed: int = 42,
    *,
    out_dir: Optional[Union[str, os.PathLike]] = None,
    format: str = "parquet",
    to: str = "pyarrow",
    threads: Optional[int] = None,
):
    """The seeded synthetic example data (`ltv synth`): a dict of tables `customers`,
    `orders`, `events`, `comments` in memory, or, with `out_dir`, the files written there
    (`format="csv"` or `"parquet"`) and a dict of their paths.

    >>> data = ltv.synth(customers=1000, seed=7)
    >>> sorted(data)
    ['comments', 'customers', 'events', 'orders']
    >>> ltv.features(data["orders"], data["events"], cutoff="2025-06-30").num_rows > 0
    True
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"format= must be 'csv' or 'parquet', not {format!r}")
    names = ["customers", "orders", "events", "comments"]
    if out_dir is not None:
        paths = _ltv.synth(os.fspath(out_dir), customers, seed, format == "parquet", threads)
        return dict(zip(names, [os.fspath(p) for p in paths]))
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as d:
        paths = _ltv.synth(d, customers, seed, True, threads)
        tables = {n: pq.read_table(p) for n, p in zip(names, paths)}
    if to == "pyarrow":
        return tables
    return {n: _table_from(t, to) for n, t in tables.items()}


def _table_from(table: pa.Table, to: str):
    if to == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if to == "pandas":
        return table.to_pandas()
    raise ValueError(f"to= must be 'pyarrow', 'polars' or 'pandas', not {to!r}")


def kpis(
    orders: Table,
    events: Optional[Table] = None,
    customers: Optional[Table] = None,
    *,
    as_of: str,
    period: str = "30d",
    scores: Optional[Table] = None,
    threads: Optional[int] = None,
    progress: bool = False,
    **read_options,
) -> Dict[str, Any]:
    """The KPIs at `as_of` over the last `period` (the CLI's `ltv report --format json`): reach,
    push open and click rates, interactions, conversion, cohort retention, repurchase rate, net
    spend, ARPU/ARPPU, lifecycle counts and, with `scores` (a scores table or file), the tiers.

    >>> k = ltv.kpis("datasets/example/orders.csv", "datasets/example/events.csv",
    ...              as_of="2025-06-30")
    >>> 0 < k["repurchase_rate_3m"] < 1 and k["arppu"] > 0
    True
    """
    with _progress(progress, "kpis", orders, events, customers) as bar:
        text = _ltv.kpis(
            _input(orders),
            _input(events),
            _input(customers),
            as_of,
            period,
            _input(scores),
            _opts(progress=bar, **read_options),
            threads,
        )
    return json.loads(text)


class Report:
    """The self-contained HTML report of `ltv report`: shown inline in Jupyter, `save(path)`
    writes it (one file, no scripts, no network). Made by `ltv.report(...)`.

    >>> r = ltv.Report("<p>hello</p>")
    >>> r._repr_html_()
    '<p>hello</p>'
    """

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the report (atomically: a temporary file renamed into place)."""
        path = os.fspath(path)
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".ltv-report-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.html)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def __repr__(self) -> str:
        return f"ltv.Report({len(self.html):,} bytes of HTML)"


def report(
    orders: Table,
    events: Optional[Table] = None,
    customers: Optional[Table] = None,
    *,
    scores: Table,
    as_of: str,
    period: str = "30d",
    model: Optional[Model] = None,
    previous_scores: Optional[Table] = None,
    actuals: Optional[Union[str, os.PathLike]] = None,
    threads: Optional[int] = None,
    progress: bool = False,
    **read_options,
) -> Report:
    """The HTML report of `ltv report` (KPIs, tiers, migration from `previous_scores`, the
    model's calibration and drivers with `model`, a gain curve from `actuals`, a features file
    with `future_spend`).

    >>> model = ltv.train("datasets/example/orders.csv", cutoff="2025-03-31", model="tweedie")
    >>> scores = model.score("datasets/example/orders.csv", as_of="2025-06-30")
    >>> r = ltv.report("datasets/example/orders.csv", scores=scores, as_of="2025-06-30",
    ...                model=model)
    >>> r                                   # in a notebook: the report itself, inline
    ltv.Report(...)
    >>> r.save(tmp / "report.html")
    """
    with _progress(progress, "report", orders, events, customers) as bar:
        html = _ltv.report(
            _input(orders),
            _input(events),
            _input(customers),
            _input(scores),
            as_of,
            period,
            model._file if model is not None else None,
            _input(previous_scores),
            os.fspath(actuals) if actuals is not None else None,
            _opts(progress=bar, **read_options),
            threads,
        )
    return Report(html)


def run(
    config: Union[str, os.PathLike],
    month: str,
    *,
    output_dir: Optional[Union[str, os.PathLike]] = None,
    allow_partial_window: bool = False,
    progress: bool = False,
) -> Dict[str, Any]:
    """The monthly job of `ltv run` (train, champion/challenger, score, tiers, report) for
    `month` (`"2025-06"`) from the `ltv.toml` at `config`; returns the month's metrics (as
    `metrics.json`) with `run_dir`, the directory written. Paths in the config are read from
    its folder:

    >>> orders = os.path.abspath("datasets/example/orders.csv")
    >>> _ = (tmp / "ltv.toml").write_text(
    ...     f'[data]\\norders = "{orders}"\\n[model]\\nname = "tweedie"\\nfolds = 3\\n')
    >>> m = ltv.run(tmp / "ltv.toml", "2025-06", output_dir=tmp / "runs")
    >>> m["month"], os.path.basename(m["run_dir"])
    ('2025-06', '2025-06')

    In Airflow (`from airflow.operators.python import PythonOperator`):

    >>> PythonOperator(task_id="ltv", python_callable=ltv.run,  # doctest: +SKIP
    ...                op_kwargs={"config": "/etc/ltv/ltv.toml", "month": "{{ ds[:7] }}"})
    """
    with _progress(progress, f"run {month}", stages=True) as bar:
        text, run_dir = _ltv.run_month(
            os.fspath(config),
            month,
            os.fspath(output_dir) if output_dir is not None else None,
            allow_partial_window,
            bar,
        )
    metrics = json.loads(text)
    metrics["run_dir"] = os.fspath(run_dir)
    return metrics
