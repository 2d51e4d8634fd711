//! The generator's rows as Parquet: each block's CSV rows (the exact bytes `ltv synth` writes
//! as CSV) parsed back into typed columns, so both formats carry the same data.
use crate::data::amount::parse_amount;
use crate::data::parquet::write::{ColumnType, TableWriter, Value};
use crate::data::{TimeFormat, TimeParser};
use crate::{Error, Result};
use std::path::Path;

/// Seconds east of UTC of the generated timestamps (`+08:00`).
const OFFSET: i32 = 8 * 3600;

/// Column types per file, in [`super::FILE_NAMES`] order (the CSV headers' column order).
fn schema(file: usize) -> Vec<(&'static str, ColumnType)> {
    use ColumnType::*;
    match file {
        0 => vec![
            ("customer_id", Text),
            ("first_seen_at", Time(OFFSET)),
            ("acquisition_channel", Category),
        ],
        1 => vec![
            ("order_id", Text),
            ("customer_id", Text),
            ("ordered_at", Time(OFFSET)),
            ("amount", Cents),
            ("channel", Category),
        ],
        2 => vec![
            ("customer_id", Text),
            ("occurred_at", Time(OFFSET)),
            ("event", Category),
            ("channel", Category),
        ],
        _ => vec![
            ("customer_id", Text),
            ("created_at", Time(OFFSET)),
            ("text", Text),
            ("rating", Int),
        ],
    }
}

/// A Parquet writer for generated file `file`.
pub(crate) fn writer<'w>(
    file: usize,
    out: &'w mut dyn std::io::Write,
    path: &Path,
) -> Result<TableWriter<'w>> {
    TableWriter::new(out, path, &schema(file))
}

/// Appends the rows of `csv` (headerless CSV of generated file `file`) to `t`.
pub(crate) fn push_csv_rows(file: usize, t: &mut TableWriter<'_>, csv: &[u8]) -> Result<()> {
    let types = schema(file);
    let time = TimeParser::new(TimeFormat::Rfc3339, OFFSET);
    let bad = |what: &str, v: &[u8]| {
        Error::Fit(format!(
            "synth: generated {what} `{}` is not readable",
            String::from_utf8_lossy(v)
        ))
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv);
    let mut rec = csv::ByteRecord::new();
    while r
        .read_byte_record(&mut rec)
        .map_err(|e| Error::Fit(format!("synth: {e}")))?
    {
        let mut values: Vec<Value<'_>> = Vec::with_capacity(types.len());
        for (field, (_, ty)) in rec.iter().zip(&types) {
            let v = if field.is_empty() {
                Value::Null
            } else {
                match ty {
                    ColumnType::Text | ColumnType::Category => {
                        Value::Text(std::str::from_utf8(field).map_err(|_| bad("text", field))?)
                    }
                    ColumnType::Time(_) => {
                        Value::Time(time.parse(field).ok_or_else(|| bad("timestamp", field))?)
                    }
                    ColumnType::Cents => {
                        Value::Int(parse_amount(field).ok_or_else(|| bad("amount", field))? / 100)
                    }
                    ColumnType::Int | ColumnType::Float => Value::Int(
                        std::str::from_utf8(field)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or_else(|| bad("number", field))?,
                    ),
                }
            };
            values.push(v);
        }
        crate::data::parquet::write::RowSink::push_row(t, &values)?;
    }
    Ok(())
}
