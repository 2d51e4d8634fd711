//! `ltv._ltv`: the Python door of the `ltv` library. It converts Python values into library
//! types (paths or Arrow C streams into `Source`s, keyword options into `ReadOptions`), calls
//! the library with the GIL released, and hands tables back as Arrow C streams (PyCapsules the
//! Python side turns into pyarrow Tables). No pipeline logic lives here.
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::{ArrowError, SchemaRef};
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

const STREAM: &CStr = c"arrow_array_stream";

/// A library error as the Python exception of `ltv._errors` (`InputError` with `.path`,
/// `.line`, `.column`; `ModelError`; `LtvError`), or `OSError` for I/O.
fn py_err(py: Python<'_>, e: ltv::Error) -> PyErr {
    use ltv::Error as E;
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

/// Runs `f` without the GIL, on `threads` worker threads (all cores when `None`).
fn run<T: Send>(
    py: Python<'_>,
    threads: Option<usize>,
    f: impl FnOnce() -> ltv::Result<T> + Send,
) -> PyResult<T> {
    let out = py.detach(|| match threads {
        None => Ok(f()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map(|pool| pool.install(f))
            .map_err(|e| e.to_string()),
    });
    match out {
        Ok(r) => r.map_err(|e| py_err(py, e)),
        Err(msg) => Err(PyValueError::new_err(format!(
            "cannot start {threads:?} threads: {msg}"
        ))),
    }
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
                .find_map(|b| b.as_ref().ok())
                .and_then(|b| ltv::data::arrow::sniff_utc_offset(&b.schema()))),
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
        let py = orders.py();
        let input = |o: Option<&Bound<'_, PyAny>>, name: &str| -> PyResult<Option<Input>> {
            o.filter(|o| !o.is_none())
                .map(|o| Input::from_py(o, name))
                .transpose()
        };
        let orders = Input::from_py(orders, "orders")?;
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
            events: input(events, "events")?,
            comments: input(comments, "comments")?,
            customers: input(customers, "customers")?,
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
    let py = orders.py();
    let call = Call::new(orders, events, comments, customers, opts)?;
    let params = FeatureParams {
        cutoff: call.cutoff(cutoff, "cutoff")?,
        horizon_days: if label {
            Some(horizon(horizon_text)?)
        } else {
            None
        },
        lifecycle: lifecycle(opts)?,
    };
    let table = run(py, threads, move || {
        let (inputs, read) = call.open()?;
        ltv::features::fold_features(inputs, &params, &read, &|_| {})?.to_arrow()
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
        let table = run(py, threads, move || {
            let (inputs, read) = call.open()?;
            let scored = ltv::pipeline::score_customers(model, inputs, &read, as_of, &|_| {})?;
            let tiers = scored.tier_cutoffs(tier_a, tier_b)?;
            scored.to_arrow(&tiers)
        })?;
        export(py, table)
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
        let metrics = run(py, threads, move || {
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
    let file = run(py, threads, move || {
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
        Ok(ltv::pipeline::train(job, &|_| {})?.file)
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
    let table = run(py, threads, move || ltv::sentiment::score_table(&texts))?;
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
    run(py, threads, move || {
        ltv::synth::generate_as(&params, &dir, format, &|_| {}).map(|_| ())
    })?;
    Ok(format
        .file_names()
        .iter()
        .map(|n| out_dir.join(n))
        .collect())
}

/// The extension module.
#[pymodule]
fn _ltv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(sentiment, m)?)?;
    m.add_function(wrap_pyfunction!(synth, m)?)?;
    m.add_class::<PyModelFile>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
