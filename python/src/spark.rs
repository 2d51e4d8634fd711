//! The engine's side of `ltv.spark`: what one Spark task does with one partition, as Arrow in
//! and Arrow out. A partition holds every row of its customers from all four inputs, as one
//! table: `customer_id`, `_ltv_kind` (0 orders, 1 events, 2 comments, 3 customers) and one
//! struct column per input (`_ltv_orders`, …) holding that input's contract columns. The
//! numbers are the library's: the fold of [`ltv::features::fold_features`], the RFM scores of
//! [`ltv::features::rfm::rescore_batch`] with the whole base's bounds, the tiers of
//! [`ltv::tiers::TierCutoffs::tier`].
use crate::{export, py_err, Call, Input};
use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use std::sync::Arc;

/// The struct column of each input, in `_ltv_kind` order.
const INPUT_COLUMNS: [&str; 4] = [
    "_ltv_orders",
    "_ltv_events",
    "_ltv_comments",
    "_ltv_customers",
];

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("ltv.spark: {e}"))
}

/// The rows of input `kind` of a partition's batch, as that input's own table:
/// `customer_id` and the fields of its struct column.
fn input_rows(batch: &RecordBatch, kind: usize) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let kinds = arrow_cast::cast(
        batch.column(schema.index_of("_ltv_kind")?),
        &DataType::Int32,
    )?;
    let kinds = kinds.as_primitive::<arrow_array::types::Int32Type>();
    let keep: arrow_array::BooleanArray =
        kinds.iter().map(|k| Some(k == Some(kind as i32))).collect();
    let rows = arrow_select::filter::filter_record_batch(batch, &keep)?;
    let id = rows.column(schema.index_of("customer_id")?).clone();
    let data = rows
        .column(schema.index_of(INPUT_COLUMNS[kind])?)
        .as_struct()
        .clone();
    let mut fields = vec![Field::new("customer_id", id.data_type().clone(), true)];
    let mut columns: Vec<ArrayRef> = vec![id];
    for (f, c) in data.fields().iter().zip(data.columns()) {
        fields.push(Field::new(f.name(), c.data_type().clone(), true));
        columns.push(c.clone());
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Features of the customers of one partition (the rows of a `mapInArrow` task): the fold of
/// `ltv features` over the partition's rows of each input `given` (an input not given is
/// `None`, as on the command line), RFM scores within the partition (`rescore` makes them the
/// whole base's).
#[pyfunction]
#[pyo3(signature = (partition, given, cutoff, horizon_text, label, opts, threads))]
#[allow(clippy::too_many_arguments)]
pub fn spark_fold<'py>(
    partition: &Bound<'py, PyAny>,
    given: [bool; 4],
    cutoff: &str,
    horizon_text: &str,
    label: bool,
    opts: &Bound<'py, PyDict>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let (name, batches) = table_batches(partition, "partition")?;
    let mut per_input: [Vec<RecordBatch>; 4] = Default::default();
    for b in &batches {
        for (kind, out) in per_input.iter_mut().enumerate() {
            if given[kind] {
                out.push(input_rows(b, kind).map_err(value_error)?);
            }
        }
    }
    let call = Call::from_batches(
        &name,
        per_input.map(|batches| batches.into_iter().map(Ok).collect()),
        given,
        opts,
    )?;
    crate::fold_to_stream(
        partition.py(),
        call,
        cutoff,
        horizon_text,
        label,
        opts,
        threads,
    )
}

/// The 0-based ascending positions, among `n` buyers' values, of the four order statistics
/// the quintile scores are made of ([`ltv::features::rfm::QuintileBounds::ranks`]).
#[pyfunction]
pub fn quintile_ranks(n: usize, higher_is_better: bool) -> [usize; 4] {
    ltv::features::rfm::QuintileBounds::ranks(n, higher_is_better)
}

/// The 0-based positions, in descending order of `n` predictions, of the tier cut-offs A and B
/// ([`ltv::tiers::TierCutoffs::quantile_ranks`]).
#[pyfunction]
pub fn tier_ranks(n: usize, a_share: f64, b_share: f64) -> (usize, usize) {
    ltv::tiers::TierCutoffs::quantile_ranks(n, a_share, b_share)
}

/// A features (or scores) table with the RFM scores and segments of the whole base:
/// `bounds_json` is an [`ltv::features::rfm::RfmBounds`].
#[pyfunction]
pub fn spark_rescore<'py>(
    table: &Bound<'py, PyAny>,
    bounds_json: &str,
) -> PyResult<Bound<'py, PyCapsule>> {
    let py = table.py();
    let bounds: ltv::features::rfm::RfmBounds =
        serde_json::from_str(bounds_json).map_err(value_error)?;
    let (schema, batches) = batches_of(table)?;
    let out = batches
        .iter()
        .map(|b| ltv::features::rfm::rescore_batch(b, &bounds))
        .collect::<ltv::Result<Vec<_>>>()
        .map_err(|e| py_err(py, e))?;
    export(py, (schema, out))
}

/// `table` with a `tier` column (utf8) from `value_column` and the cut-offs `a`, `b`.
#[pyfunction]
pub fn spark_tiers<'py>(
    table: &Bound<'py, PyAny>,
    value_column: &str,
    a: f64,
    b: f64,
) -> PyResult<Bound<'py, PyCapsule>> {
    let py = table.py();
    let cutoffs = ltv::tiers::TierCutoffs { a, b };
    let (schema, batches) = batches_of(table)?;
    let i = schema.index_of(value_column).map_err(value_error)?;
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("tier", DataType::Utf8, true));
    let out_schema = Arc::new(Schema::new(fields));
    let mut out = Vec::with_capacity(batches.len());
    for batch in &batches {
        let values = arrow_cast::cast(batch.column(i), &DataType::Float64).map_err(value_error)?;
        let tiers: StringArray = values
            .as_primitive::<arrow_array::types::Float64Type>()
            .iter()
            // a null prediction is a NaN the output wrote as null: tier C, as the engine's
            .map(|v| Some(cutoffs.tier(v.unwrap_or(f64::NAN)).as_str()))
            .collect();
        let mut columns = batch.columns().to_vec();
        columns.push(Arc::new(tiers));
        out.push(RecordBatch::try_new(out_schema.clone(), columns).map_err(value_error)?);
    }
    export(py, (out_schema, out))
}

/// The name and batches of a table given as an Arrow C stream (`what` names it in errors).
fn table_batches(table: &Bound<'_, PyAny>, what: &str) -> PyResult<(String, Vec<RecordBatch>)> {
    let Input::Batches(name, batches) = Input::from_py(table, what)? else {
        return Err(value_error(format!(
            "`{what}`: expected a table, not a path"
        )));
    };
    let batches = batches
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(value_error)?;
    Ok((name, batches))
}

/// The schema and batches of a table given as an Arrow C stream.
fn batches_of(table: &Bound<'_, PyAny>) -> PyResult<(arrow_schema::SchemaRef, Vec<RecordBatch>)> {
    let (_, batches) = table_batches(table, "table")?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => Arc::new(Schema::empty()),
    };
    Ok((schema, batches))
}
