//! `ltv._ltv`: the Python door of the `ltv` library. It converts Python values into library
//! types (paths or Arrow C streams into `Source`s, keyword options into `ReadOptions`), calls
//! the library with the GIL released, and hands tables back as Arrow C streams (PyCapsules the
//! Python side turns into pyarrow Tables). No pipeline logic lives here.
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::{ArrowError, SchemaRef};
use ltv::cancel::Cancel;
use ltv::data::time::{parse_duration_days, parse_utc_offset};
use ltv::data::{
    BadRowPolicy, ColumnMap, Cutoff, Delimiter, InputFormat, ReadOptions, Source, TimeFormat,
    TimeParser,
};
use ltv::features::{FeatureParams, Inputs, LifecycleThresholds};
use ltv::models::file::ModelFile;
use ltv::pipeline::{ModelChoice, TrainJob};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods, PyDict};
use std::ffi::CStr;
use std::path::PathBuf;

mod runner;
mod spark;

use runner::Runner;

const STREAM: &CStr = c"arrow_array_stream";

/// A library error as the Python exception of `ltv._errors` (`InputError` with `.path`,
/// `.line`, `.column`; `ModelError`; `LtvError`), or `OSError` for I/O.
pub(crate) fn py_err(py: Python<'_>, e: ltv::Error) -> PyErr {
    use ltv::Error as E;
    if matches!(e, E::Cancelled) {
        return pyo3::exceptions::PyKeyboardInterrupt::new_err("ltv: cancelled");
    }
    let (class, path, line, column) = match &e {
        E::Input(i) => (
            "InputError",
            Some(i.path.display().to_string()),
            Some(i.line),
            (!i.column.is_empty()).then(|| i.column.clone()),
        ),
        E::Io { .. } => return PyOSError::new_err(e.to_string()),
        E::ModelFile { path, .. } => ("ModelError", Some(path.display().to_string()), None, None),
        E::NotConverged { .. } | E::NotEnoughData(_) | E::Fit(_) => {
            ("ModelError", None, None, None)
        }
        E::MissingInput(_)
        | E::PartialLabelWindow { .. }
        | E::AmountOverflow { .. }
        | E::InvalidParameter { .. }
        | E::OutputIsInput { .. }
        | E::Config { .. } => ("InputError", None, None, None),
        _ => ("LtvError", None, None, None),
    };
    let make = || -> PyResult<PyErr> {
        let cls = py.import("ltv._errors")?.getattr(class)?;
        let obj = cls.call1((e.to_string(),))?;
        obj.setattr("path", path)?;
        obj.setattr("line", line)?;
        obj.setattr("column", column)?;
        Ok(PyErr::from_value(obj))
    };
    make().unwrap_or_else(|err| err)
}

/// An input: a path (CSV or Parquet) or an object with `__arrow_c_stream__`, whose batches are
/// imported zero-copy while the GIL is held.
enum Input {
    Path(PathBuf),
    Batches(String, Vec<Result<RecordBatch, ArrowError>>),
}

impl Input {
    fn from_py(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Input> {
        if let Ok(p) = obj.extract::<PathBuf>() {
            return Ok(Input::Path(p));
        }
        if !obj.hasattr("__arrow_c_stream__")? {
            return Err(PyTypeError::new_err(format!(
                "`{name}`: expected a path or a table with `__arrow_c_stream__` (polars, pyarrow, \
                 DuckDB; pandas through pyarrow), not {}",
                obj.get_type().name()?
            )));
        }
        let capsule = obj.call_method0("__arrow_c_stream__")?;
        let capsule = capsule.cast::<PyCapsule>().map_err(PyErr::from)?;
        let ptr = capsule.pointer_checked(Some(STREAM))?;
        // SAFETY: the capsule holds an `ArrowArrayStream` (its name says so, per the Arrow
        // PyCapsule interface); `from_raw` moves the stream out and marks the original released.
        let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
        let reader = RecordBatchStreamReader::try_new(stream)
            .map_err(|e| PyValueError::new_err(format!("`{name}`: {e}")))?;
        Ok(Input::Batches(name.to_string(), reader.collect()))
    }

    fn open(self, format: InputFormat) -> ltv::Result<Source<'static>> {
        match self {
            Input::Path(p) => Source::open_as(&p, format),
            Input::Batches(name, batches) => Ok(Source::from_batches(name, batches)),
        }
    }

    /// The calendar offset the data carries ([`Source::sniff_utc_offset`] for paths).
    fn sniff_utc_offset(&self, format: InputFormat) -> ltv::Result<Option<i32>> {
        match self {
            Input::Path(p) => Source::sniff_utc_offset_as(p, format),
            Input::Batches(_, b) => Ok(b
                .iter()
                .filter_map(|b| b.as_ref().ok())
                .find(|b| b.num_rows() > 0)
                .and_then(ltv::data::arrow::sniff_batch_utc_offset)),
        }
    }

    /// The amount of work reading this input reports as progress: bytes of a file (of every
    /// part of a Parquet directory), rows of batches in memory.
    fn work(&self) -> u64 {
        match self {
            Input::Path(p) if p.is_dir() => ltv::data::parquet::part_files(p)
                .map(|parts| {
                    parts
                        .iter()
                        .filter_map(|f| std::fs::metadata(f).ok())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0),
            Input::Path(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Input::Batches(_, b) => b
                .iter()
                .filter_map(|b| b.as_ref().ok())
                .map(|b| b.num_rows() as u64)
                .sum(),
        }
    }

    fn path(&self) -> Option<PathBuf> {
        match self {
            Input::Path(p) => Some(p.clone()),
            Input::Batches(..) => None,
        }
    }
}

/// The four inputs of a call and how to read them.
struct Call {
    orders: Input,
    events: Option<Input>,
    comments: Option<Input>,
    customers: Option<Input>,
    read: ReadOptions,
    format: InputFormat,
}

fn opt_str(opts: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<String>> {
    match opts.get_item(key)? {
        Some(v) if !v.is_none() => Ok(Some(v.extract()?)),
        _ => Ok(None),
    }
}

fn invalid(name: &str, value: &str, hint: &str) -> PyErr {
    PyValueError::new_err(format!("invalid {name} `{value}`\nhint: {hint}"))
}

impl Call {
    fn new(
        orders: &Bound<'_, PyAny>,
        events: Option<&Bound<'_, PyAny>>,
        comments: Option<&Bound<'_, PyAny>>,
        customers: Option<&Bound<'_, PyAny>>,
        opts: &Bound<'_, PyDict>,
    ) -> PyResult<Call> {
        let input = |o: Option<&Bound<'_, PyAny>>, name: &str| -> PyResult<Option<Input>> {
            o.filter(|o| !o.is_none())
                .map(|o| Input::from_py(o, name))
                .transpose()
        };
        Call::with_inputs(
            Input::from_py(orders, "orders")?,
            input(events, "events")?,
            input(comments, "comments")?,
            input(customers, "customers")?,
            opts,
        )
    }

    /// A call on batches already imported: the four inputs of a Spark partition (`given[k]`
    /// says whether input k — orders, events, comments, customers — was given at all).
    fn from_batches(
        name: &str,
        batches: [Vec<Result<RecordBatch, ArrowError>>; 4],
        given: [bool; 4],
        opts: &Bound<'_, PyDict>,
    ) -> PyResult<Call> {
        let [o, e, c, u] = batches;
        let part = |kind: usize, input: &str, b| {
            given[kind].then(|| Input::Batches(format!("{name} ({input})"), b))
        };
        Call::with_inputs(
            Input::Batches(format!("{name} (orders)"), o),
            part(1, "events", e),
            part(2, "comments", c),
            part(3, "customers", u),
            opts,
        )
    }

    fn with_inputs(
        orders: Input,
        events: Option<Input>,
        comments: Option<Input>,
        customers: Option<Input>,
        opts: &Bound<'_, PyDict>,
    ) -> PyResult<Call> {
        let py = opts.py();
        let format = match opt_str(opts, "input_format")? {
            None => InputFormat::Auto,
            Some(f) => InputFormat::parse(&f).map_err(|e| py_err(py, e))?,
        };
        let offset = match opt_str(opts, "utc_offset")? {
            Some(t) => parse_utc_offset(&t).ok_or_else(|| {
                invalid("utc_offset", &t, "write it like `+08:00`, `-05:00` or `Z`")
            })?,
            None => orders
                .sniff_utc_offset(format)
                .map_err(|e| py_err(py, e))?
                .unwrap_or(0),
        };
        let time_format = match opt_str(opts, "time_format")? {
            Some(f) => TimeFormat::Custom(f),
            None => TimeFormat::Rfc3339,
        };
        let delimiter = opt_str(opts, "delimiter")?.unwrap_or_else(|| ",".into());
        let on_bad_rows = match opt_str(opts, "on_bad_rows")?.as_deref() {
            None | Some("fail") => BadRowPolicy::Fail,
            Some("skip") => BadRowPolicy::Skip,
            Some(other) => return Err(invalid("on_bad_rows", other, "`fail` or `skip`")),
        };
        let no_header = match opts.get_item("no_header")? {
            Some(v) if !v.is_none() => v.extract::<bool>()?,
            _ => false,
        };
        let read = ReadOptions {
            delimiter: Delimiter::parse(&delimiter).map_err(|e| py_err(py, e))?,
            has_header: !no_header,
            time: TimeParser::new(time_format, offset),
            on_bad_rows,
            columns: match opt_str(opts, "map")? {
                Some(m) => ColumnMap::parse(&m).map_err(|e| py_err(py, e))?,
                None => ColumnMap::default(),
            },
            ..ReadOptions::default()
        };
        Ok(Call {
            orders,
            events,
            comments,
            customers,
            read,
            format,
        })
    }

    fn paths(&self) -> Vec<PathBuf> {
        [
            Some(&self.orders),
            self.events.as_ref(),
            self.customers.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter_map(Input::path)
        .collect()
    }

    /// The runner of this call: `threads` workers, Ctrl-C through the read options' cancel
    /// flag, progress to `opts["progress"]` (a callable `(done, total, stage)`) over the work
    /// of reading every input.
    fn runner<'py>(
        &self,
        py: Python<'py>,
        threads: Option<usize>,
        opts: &Bound<'py, PyDict>,
    ) -> PyResult<Runner<'py>> {
        let total = [
            Some(&self.orders),
            self.events.as_ref(),
            self.comments.as_ref(),
            self.customers.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(Input::work)
        .sum();
        Ok(Runner::new(py, threads, self.read.cancel.clone())
            .with_progress(opts.get_item("progress")?, total))
    }

    fn cutoff(&self, text: &str, what: &str) -> PyResult<Cutoff> {
        Cutoff::parse(text, &self.read.time).ok_or_else(|| {
            invalid(
                what,
                text,
                "use a date (`2025-06-30`, meaning the end of that day) or an RFC 3339 timestamp",
            )
        })
    }

    fn open(self) -> ltv::Result<(Inputs<'static>, ReadOptions)> {
        let f = self.format;
        let open = |i: Option<Input>| i.map(|i| i.open(f)).transpose();
        Ok((
            Inputs {
                orders: self.orders.open(f)?,
                events: open(self.events)?,
                customers: open(self.customers)?,
                comments: open(self.comments)?,
            },
            self.read,
        ))
    }
}

fn horizon(text: &str) -> PyResult<i64> {
    parse_duration_days(text)
        .ok_or_else(|| invalid("horizon", text, "use days or weeks, e.g. `90d` or `39w`"))
}

/// The columns `names` of the table `name` as float64 values (nulls as NaN), each over all
/// batches in order; a missing column or one that is not numeric is a `ValueError` naming it.
fn float_columns(
    name: &str,
    batches: Vec<Result<RecordBatch, ArrowError>>,
    names: &[&str],
) -> PyResult<Vec<Vec<f64>>> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    let bad = |e: String| PyValueError::new_err(format!("`{name}`: {e}"));
    let mut out: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for batch in batches {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        for (column, want) in out.iter_mut().zip(names) {
            let i = batch.schema().index_of(want).map_err(|_| {
                bad(format!(
                    "no column `{want}`: the model reads {} (make them with `ltv.features`)",
                    names.join(", ")
                ))
            })?;
            let values = arrow_cast::cast(batch.column(i), &arrow_schema::DataType::Float64)
                .map_err(|e| bad(format!("column `{want}`: {e}")))?;
            column.extend(
                values
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|v| v.unwrap_or(f64::NAN)),
            );
        }
    }
    Ok(out)
}

/// A float64 Arrow column (NaN stays NaN).
fn float_column(values: Vec<f64>) -> arrow_array::ArrayRef {
    std::sync::Arc::new(arrow_array::Float64Array::from(values))
}

/// `(schema, batches)` as an Arrow C stream capsule.
fn export(py: Python<'_>, table: (SchemaRef, Vec<RecordBatch>)) -> PyResult<Bound<'_, PyCapsule>> {
    let (schema, batches) = table;
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    PyCapsule::new_with_value(py, stream, STREAM)
}

fn lifecycle(opts: &Bound<'_, PyDict>) -> PyResult<LifecycleThresholds> {
    let d = LifecycleThresholds::default();
    let get = |k: &str, default: i64| -> PyResult<i64> {
        match opts.get_item(k)? {
            Some(v) if !v.is_none() => v.extract(),
            _ => Ok(default),
        }
    };
    let t = LifecycleThresholds {
        new_within_days: get("new_within_days", d.new_within_days)?,
        silent_after_days: get("silent_after_days", d.silent_after_days)?,
        churned_after_days: get("churned_after_days", d.churned_after_days)?,
    };
    t.check().map_err(|e| py_err(opts.py(), e))?;
    Ok(t)
}

/// Features per customer at `cutoff` (see `ltv.features`), as an Arrow C stream.
#[pyfunction]
#[pyo3(signature = (orders, events, comments, customers, cutoff, horizon_text, label, opts, threads))]
#[allow(clippy::too_many_arguments)]
fn features<'py>(
    orders: &Bound<'py, PyAny>,
    events: Option<&Bound<'py, PyAny>>,
    comments: Option<&Bound<'py, PyAny>>,
    customers: Option<&Bound<'py, PyAny>>,
    cutoff: &str,
    horizon_text: &str,
    label: bool,
    opts: &Bound<'py, PyDict>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let call = Call::new(orders, events, comments, customers, opts)?;
    fold_to_stream(
        orders.py(),
        call,
        cutoff,
        horizon_text,
        label,
        opts,
        threads,
    )
}

/// The features of `call`'s inputs at `cutoff` (with the label over `horizon_text` when
/// `label`), folded by the library, as an Arrow C stream: `ltv.features` and one Spark
/// partition of `ltv.spark.features`.
#[allow(clippy::too_many_arguments)]
fn fold_to_stream<'py>(
    py: Python<'py>,
    call: Call,
    cutoff: &str,
    horizon_text: &str,
    label: bool,
    opts: &Bound<'py, PyDict>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let params = FeatureParams {
        cutoff: call.cutoff(cutoff, "cutoff")?,
        horizon_days: if label {
            Some(horizon(horizon_text)?)
        } else {
            None
        },
        lifecycle: lifecycle(opts)?,
    };
    let runner = call.runner(py, threads, opts)?;
    let table = runner.run(move |t| {
        let (inputs, read) = call.open()?;
        ltv::features::fold_features(inputs, &params, &read, &|n| t.done(n))?.to_arrow()
    })?;
    export(py, table)
}

/// A fitted model (a model file in memory).
#[pyclass(module = "ltv._ltv", name = "ModelFile")]
struct PyModelFile {
    file: ModelFile,
}

#[pymethods]
impl PyModelFile {
    /// Reads a model file written by `ltv train` or `Model.save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyModelFile> {
        ModelFile::load(&path)
            .map(|file| PyModelFile { file })
            .map_err(|e| py_err(py, e))
    }

    /// A model file from its JSON text (as `to_json` gives it; how `ltv.spark` ships a model
    /// to its executors).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<PyModelFile> {
        serde_json::from_str(text)
            .map(|file| PyModelFile { file })
            .map_err(|e| PyValueError::new_err(format!("not an ltv model file: {e}")))
    }

    /// Writes the model file (atomically), readable by the CLI.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.file.save(&path).map_err(|e| py_err(py, e))
    }

    /// The model file as JSON text (the same as the file `save` writes).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.file).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Scores every customer at `as_of` (an Arrow C stream of the scores table).
    #[pyo3(signature = (orders, events, comments, customers, as_of, tier_a, tier_b, opts, threads))]
    #[allow(clippy::too_many_arguments)]
    fn score<'py>(
        &self,
        orders: &Bound<'py, PyAny>,
        events: Option<&Bound<'py, PyAny>>,
        comments: Option<&Bound<'py, PyAny>>,
        customers: Option<&Bound<'py, PyAny>>,
        as_of: &str,
        tier_a: f64,
        tier_b: f64,
        opts: &Bound<'py, PyDict>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let py = orders.py();
        let call = Call::new(orders, events, comments, customers, opts)?;
        let as_of = call.cutoff(as_of, "as_of")?;
        let model = &self.file;
        let runner = call.runner(py, threads, opts)?;
        let table = runner.run(move |t| {
            let (inputs, read) = call.open()?;
            let scored =
                ltv::pipeline::score_customers(model, inputs, &read, as_of, &|n| t.done(n))?;
            let tiers = scored.tier_cutoffs(tier_a, tier_b)?;
            scored.to_arrow(&tiers)
        })?;
        export(py, table)
    }

    /// Predictions for customers whose features are already made: `features` is a table
    /// (an Arrow C stream) holding the model's feature columns and the four BTYD columns
    /// (`repeat_purchase_days`, …), as `ltv.features` returns them; any numeric type, nulls
    /// read as missing. Returns the table `predicted_value`, `churn_probability`, `p_alive`,
    /// `expected_orders`, one row per input row in order.
    #[pyo3(signature = (features, threads))]
    fn predict<'py>(
        &self,
        features: &Bound<'py, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let py = features.py();
        let Input::Batches(name, batches) = Input::from_py(features, "features")? else {
            return Err(PyTypeError::new_err(
                "`features`: expected a table (the output of `ltv.features`), not a path; \
                 read the file first, e.g. `pyarrow.parquet.read_table(path)`",
            ));
        };
        let names: Vec<&str> = self
            .file
            .feature_names
            .iter()
            .map(String::as_str)
            .chain(ltv::models::btyd::BTYD_FEATURE_COLUMNS)
            .collect();
        let mut columns = float_columns(&name, batches, &names)?;
        let btyd_columns = columns.split_off(self.file.feature_names.len());
        let rows = btyd_columns[0].len();
        let x = ndarray::Array2::from_shape_fn((rows, columns.len()), |(i, j)| columns[j][i]);
        let btyd: Vec<[f64; 4]> = (0..rows)
            .map(|i| std::array::from_fn(|j| btyd_columns[j][i]))
            .collect();
        let model = &self.file;
        let p = Runner::new(py, threads, Cancel::new()).run(move |_| {
            ltv::pipeline::predict_feature_columns(model, ltv::pipeline::FeatureColumns { x, btyd })
        })?;
        let batch = RecordBatch::try_from_iter([
            ("predicted_value", float_column(p.value)),
            ("churn_probability", float_column(p.churn_probability)),
            ("p_alive", float_column(p.p_alive)),
            ("expected_orders", float_column(p.expected_orders)),
        ])
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        export(py, (batch.schema(), vec![batch]))
    }

    /// Metrics of the model at `cutoff` against the `horizon` after it, as JSON text.
    #[pyo3(signature = (orders, events, comments, customers, cutoff, horizon_text, opts, threads))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        orders: &Bound<'_, PyAny>,
        events: Option<&Bound<'_, PyAny>>,
        comments: Option<&Bound<'_, PyAny>>,
        customers: Option<&Bound<'_, PyAny>>,
        cutoff: &str,
        horizon_text: &str,
        opts: &Bound<'_, PyDict>,
        threads: Option<usize>,
    ) -> PyResult<String> {
        let py = orders.py();
        let call = Call::new(orders, events, comments, customers, opts)?;
        let cutoff = call.cutoff(cutoff, "cutoff")?;
        let h = horizon(horizon_text)?;
        let partial = opts
            .get_item("allow_partial_window")?
            .map(|v| v.is_truthy())
            .transpose()?
            .unwrap_or(false);
        let model = &self.file;
        let runner = call.runner(py, threads, opts)?;
        let metrics = runner.run(move |_| {
            let (inputs, read) = call.open()?;
            ltv::pipeline::evaluate(model, inputs, &read, cutoff, h, partial)
        })?;
        serde_json::to_string(&metrics).map_err(|e| PyValueError::new_err(e.to_string()))
    }
}

/// The defaults of every hyper-parameter with `overrides_json` (an object of field names and
/// values) applied; an unknown name is an error listing the known ones.
fn train_settings(overrides_json: &str) -> PyResult<ltv::models::value::TrainSettings> {
    use ltv::models::value::TrainSettings;
    let bad = |e: String| PyValueError::new_err(format!("invalid hyper-parameters: {e}"));
    let mut v = serde_json::to_value(TrainSettings::default()).map_err(|e| bad(e.to_string()))?;
    let overrides: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(overrides_json).map_err(|e| bad(e.to_string()))?;
    let known = v.as_object_mut().ok_or_else(|| bad("defaults".into()))?;
    for (k, val) in overrides {
        if !known.contains_key(&k) {
            let names: Vec<&String> = known.keys().collect();
            return Err(bad(format!("unknown `{k}`; known: {names:?}")));
        }
        known.insert(k, val);
    }
    serde_json::from_value(v).map_err(|e| bad(e.to_string()))
}

/// Trains a model (see `ltv.train`); returns the model file.
#[pyfunction]
#[pyo3(signature = (orders, events, comments, customers, cutoff, horizon_text, model, settings_json, opts, threads))]
#[allow(clippy::too_many_arguments)]
fn train(
    orders: &Bound<'_, PyAny>,
    events: Option<&Bound<'_, PyAny>>,
    comments: Option<&Bound<'_, PyAny>>,
    customers: Option<&Bound<'_, PyAny>>,
    cutoff: &str,
    horizon_text: &str,
    model: &str,
    settings_json: &str,
    opts: &Bound<'_, PyDict>,
    threads: Option<usize>,
) -> PyResult<PyModelFile> {
    let py = orders.py();
    let call = Call::new(orders, events, comments, customers, opts)?;
    let choice = if model == "auto" {
        ModelChoice::Auto
    } else {
        ModelChoice::One(ltv::models::value::ModelKind::parse(model).ok_or_else(|| {
            invalid(
                "model",
                model,
                "one of linear, tweedie, tree, boosting, bgnbd, hybrid, auto",
            )
        })?)
    };
    let settings = train_settings(settings_json)?;
    let cutoff = call.cutoff(cutoff, "cutoff")?;
    let horizon_days = horizon(horizon_text)?;
    let lifecycle = lifecycle(opts)?;
    let partial = opts
        .get_item("allow_partial_window")?
        .map(|v| v.is_truthy())
        .transpose()?
        .unwrap_or(false);
    let input_paths = call.paths();
    // progress here is the stage (features, each candidate's folds, the final fit)
    let runner = call.runner(py, threads, opts)?.stages_only();
    let file = runner.run(move |t| {
        let (inputs, read) = call.open()?;
        let job = TrainJob {
            inputs,
            input_paths,
            read,
            cutoff,
            horizon_days,
            lifecycle,
            model: choice,
            settings,
            allow_partial_window: partial,
        };
        Ok(ltv::pipeline::train(job, &|stage| t.stage(stage))?.file)
    })?;
    Ok(PyModelFile { file })
}

/// Sentiment of each text: (lang, score, label) columns as an Arrow C stream.
#[pyfunction]
#[pyo3(signature = (texts, threads))]
fn sentiment(
    py: Python<'_>,
    texts: Vec<String>,
    threads: Option<usize>,
) -> PyResult<Bound<'_, PyCapsule>> {
    let table = Runner::new(py, threads, Cancel::new())
        .run(move |_| ltv::sentiment::score_table(&texts))?;
    export(py, table)
}

/// Writes the synthetic example data (`customers`, `orders`, `events`, `comments`) into
/// `out_dir` as CSV or Parquet; returns the paths written.
#[pyfunction]
#[pyo3(signature = (out_dir, customers, seed, parquet, threads))]
fn synth(
    py: Python<'_>,
    out_dir: PathBuf,
    customers: u64,
    seed: u64,
    parquet: bool,
    threads: Option<usize>,
) -> PyResult<Vec<PathBuf>> {
    let format = if parquet {
        ltv::synth::SynthFormat::Parquet
    } else {
        ltv::synth::SynthFormat::Csv
    };
    let params = ltv::synth::SynthParams::default()
        .customers(customers)
        .seed(seed);
    let dir = out_dir.clone();
    Runner::new(py, threads, Cancel::new())
        .run(move |_| ltv::synth::generate_as(&params, &dir, format, &|_| {}).map(|_| ()))?;
    Ok(format
        .file_names()
        .iter()
        .map(|n| out_dir.join(n))
        .collect())
}

/// Score rows (`customer_id`, `predicted_value`, `tier`, optional `lifecycle_stage`) from a
/// path (`ltv score`'s CSV or Parquet) or an Arrow stream (a scores table in memory).
fn score_rows(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    name: &str,
) -> PyResult<Vec<ltv::kpi::ScoreRow>> {
    match Input::from_py(obj, name)? {
        Input::Path(p) => ltv::kpi::read_scores(&p).map_err(|e| py_err(py, e)),
        Input::Batches(name, batches) => {
            let mut csv = Vec::new();
            for b in batches {
                let b = b.map_err(|e| PyValueError::new_err(format!("`{name}`: {e}")))?;
                ltv::data::parquet::write_csv_text(&b, csv.is_empty(), &mut csv)
                    .map_err(|e| py_err(py, e))?;
            }
            ltv::kpi::read_scores_from(std::path::Path::new(&name), &csv[..])
                .map_err(|e| py_err(py, e))
        }
    }
}

/// The KPIs at `as_of` over the last `period` (see `ltv.kpis`), as JSON text; with `scores`,
/// the tier KPIs too.
#[pyfunction]
#[pyo3(signature = (orders, events, customers, as_of, period, scores, opts, threads))]
#[allow(clippy::too_many_arguments)]
fn kpis(
    orders: &Bound<'_, PyAny>,
    events: Option<&Bound<'_, PyAny>>,
    customers: Option<&Bound<'_, PyAny>>,
    as_of: &str,
    period: &str,
    scores: Option<&Bound<'_, PyAny>>,
    opts: &Bound<'_, PyDict>,
    threads: Option<usize>,
) -> PyResult<String> {
    let py = orders.py();
    let k = compute_kpis(
        py, orders, events, customers, as_of, period, scores, opts, threads,
    )?;
    serde_json::to_string(&k.0).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
fn compute_kpis(
    py: Python<'_>,
    orders: &Bound<'_, PyAny>,
    events: Option<&Bound<'_, PyAny>>,
    customers: Option<&Bound<'_, PyAny>>,
    as_of: &str,
    period: &str,
    scores: Option<&Bound<'_, PyAny>>,
    opts: &Bound<'_, PyDict>,
    threads: Option<usize>,
) -> PyResult<(ltv::kpi::Kpis, Vec<ltv::kpi::ScoreRow>)> {
    let call = Call::new(orders, events, None, customers, opts)?;
    let params = ltv::kpi::KpiParams {
        as_of: call.cutoff(as_of, "as_of")?,
        period_days: horizon(period)?,
        lifecycle: lifecycle(opts)?,
    };
    let rows = scores
        .filter(|s| !s.is_none())
        .map(|s| score_rows(py, s, "scores"))
        .transpose()?
        .unwrap_or_default();
    let runner = call.runner(py, threads, opts)?;
    let k = runner.run(move |_| {
        let (inputs, read) = call.open()?;
        ltv::kpi::compute_kpis(inputs, &params, &read)
    })?;
    Ok((k.with_tiers(&rows), rows))
}

/// The self-contained HTML report (see `ltv.report`).
#[pyfunction]
#[pyo3(signature = (orders, events, customers, scores, as_of, period, model, previous_scores, actuals, opts, threads))]
#[allow(clippy::too_many_arguments)]
fn report(
    orders: &Bound<'_, PyAny>,
    events: Option<&Bound<'_, PyAny>>,
    customers: Option<&Bound<'_, PyAny>>,
    scores: &Bound<'_, PyAny>,
    as_of: &str,
    period: &str,
    model: Option<PyRef<'_, PyModelFile>>,
    previous_scores: Option<&Bound<'_, PyAny>>,
    actuals: Option<PathBuf>,
    opts: &Bound<'_, PyDict>,
    threads: Option<usize>,
) -> PyResult<String> {
    let py = orders.py();
    let (k, rows) = compute_kpis(
        py,
        orders,
        events,
        customers,
        as_of,
        period,
        Some(scores),
        opts,
        threads,
    )?;
    let previous = previous_scores
        .filter(|s| !s.is_none())
        .map(|s| score_rows(py, s, "previous_scores"))
        .transpose()?;
    let actuals = actuals
        .map(|p| ltv::report::read_actuals(&p))
        .transpose()
        .map_err(|e| py_err(py, e))?;
    let input = ltv::report::ReportInput {
        kpis: &k,
        scores: &rows,
        previous_scores: previous.as_deref(),
        model: model.as_ref().map(|m| &m.file),
        actuals: actuals.as_deref(),
    };
    Ok(ltv::report::render_html(&input))
}

/// Runs the monthly job of `ltv.toml` at `config` for `month` (`YYYY-MM`); returns the month's
/// metrics as JSON text and the run directory.
#[pyfunction]
#[pyo3(signature = (config, month, output_dir, allow_partial_window, progress))]
fn run_month<'py>(
    py: Python<'py>,
    config: PathBuf,
    month: String,
    output_dir: Option<PathBuf>,
    allow_partial_window: bool,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<(String, PathBuf)> {
    let cli = ltv::config::Overrides {
        output_dir,
        ..Default::default()
    };
    let mut config = ltv::config::Config::load(&config, &cli, &|k| std::env::var(k).ok())
        .map_err(|e| py_err(py, e))?;
    config.allow_partial_window = allow_partial_window;
    let runner = Runner::new(py, None, config.read.cancel.clone()).with_progress(progress, 0);
    let out = runner.run(move |t| {
        let report = |dir: &std::path::Path, m: &ltv::monthly::MonthMetrics| {
            ltv::monthly::write_month_report(&config, dir, m)
        };
        let hooks = ltv::monthly::RunHooks {
            progress: &|stage| t.stage(stage),
            after_stage: &|_| {},
            report: Some(&report),
        };
        ltv::monthly::run_month(&config, &month, &hooks)
    })?;
    let metrics =
        serde_json::to_string(&out.metrics).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((metrics, out.run_dir))
}

fn matrix(bytes: &[u8], rows: usize, cols: usize) -> PyResult<ndarray_compat::Array2> {
    ndarray_compat::from_le_bytes(bytes, rows, cols)
        .ok_or_else(|| PyValueError::new_err("X: expected rows × cols float64 values"))
}

/// A value model fitted on a numeric matrix (`ltv.sklearn.LTVRegressor.fit`): `x` is
/// `rows × cols` little-endian float64 in row-major order, `y` `rows` values. Returns the fitted
/// model as JSON.
#[pyfunction]
#[pyo3(signature = (kind, x, rows, cols, y, settings_json, threads))]
#[allow(clippy::too_many_arguments)]
fn fit_matrix(
    py: Python<'_>,
    kind: &str,
    x: &[u8],
    rows: usize,
    cols: usize,
    y: &[u8],
    settings_json: &str,
    threads: Option<usize>,
) -> PyResult<String> {
    let kind = ltv::models::value::ModelKind::parse(kind)
        .filter(|k| !matches!(k, ltv::models::value::ModelKind::Bgnbd | ltv::models::value::ModelKind::Hybrid))
        .ok_or_else(|| invalid("model", kind, "one of linear, tweedie, tree, boosting (BTYD models need purchase histories, not a matrix)"))?;
    let settings = train_settings(settings_json)?;
    let x = matrix(x, rows, cols)?;
    let y = matrix(y, rows, 1)?;
    let data = ltv::models::value::Dataset::from_matrix(x, y.column(0).to_owned());
    let fitted = Runner::new(py, threads, Cancel::new()).run(move |_| {
        let all: Vec<usize> = (0..rows).collect();
        ltv::models::value::ValueModel::fit(kind, &data, &all, 0.0, &settings)
    })?;
    serde_json::to_string(&fitted).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Predictions of a model from [`fit_matrix`] for `x` (`rows × cols` float64).
#[pyfunction]
#[pyo3(signature = (model_json, x, rows, cols, threads))]
fn predict_matrix(
    py: Python<'_>,
    model_json: &str,
    x: &[u8],
    rows: usize,
    cols: usize,
    threads: Option<usize>,
) -> PyResult<Vec<f64>> {
    let model: ltv::models::value::ValueModel = serde_json::from_str(model_json)
        .map_err(|e| PyValueError::new_err(format!("not a fitted ltv regressor: {e}")))?;
    let x = matrix(x, rows, cols)?;
    let data = ltv::models::value::Dataset::from_matrix(x, ndarray_compat::Array1::zeros(rows));
    Runner::new(py, threads, Cancel::new()).run(move |_| {
        let all: Vec<usize> = (0..rows).collect();
        model.predict(&data, &all)
    })
}

/// ndarray types as the library uses them, and the bytes → matrix conversion.
mod ndarray_compat {
    /// A float64 matrix.
    pub type Array2 = ndarray::Array2<f64>;
    /// A float64 vector.
    pub type Array1 = ndarray::Array1<f64>;

    /// A `rows × cols` matrix from little-endian f64 bytes in row-major order.
    pub fn from_le_bytes(bytes: &[u8], rows: usize, cols: usize) -> Option<Array2> {
        if bytes.len() != rows.checked_mul(cols)?.checked_mul(8)? {
            return None;
        }
        let v: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        Array2::from_shape_vec((rows, cols), v).ok()
    }
}

/// The UTC offset (seconds east) a table carries, as `ltv` would read it (`None`: none).
#[pyfunction]
fn sniff_utc_offset(table: &Bound<'_, PyAny>) -> PyResult<Option<i32>> {
    let py = table.py();
    Input::from_py(table, "table")?
        .sniff_utc_offset(InputFormat::Auto)
        .map_err(|e| py_err(py, e))
}

/// The extension module.
#[pymodule]
fn _ltv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(sentiment, m)?)?;
    m.add_function(wrap_pyfunction!(synth, m)?)?;
    m.add_function(wrap_pyfunction!(kpis, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(run_month, m)?)?;
    m.add_function(wrap_pyfunction!(fit_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(predict_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(sniff_utc_offset, m)?)?;
    m.add_function(wrap_pyfunction!(spark::spark_fold, m)?)?;
    m.add_function(wrap_pyfunction!(spark::spark_rescore, m)?)?;
    m.add_function(wrap_pyfunction!(spark::spark_tiers, m)?)?;
    m.add_function(wrap_pyfunction!(spark::quintile_ranks, m)?)?;
    m.add_function(wrap_pyfunction!(spark::tier_ranks, m)?)?;
    m.add_class::<PyModelFile>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
