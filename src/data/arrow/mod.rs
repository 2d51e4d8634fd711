//! Arrow record batches as an input, beside CSV text: a stream of batches held in memory (the
//! door for Python and Spark) or Parquet files (decoded row group by row group, in parallel,
//! reading only the contract's columns). Each batch's rows go through the same per-row parse,
//! validation, bad-row policy and shard routing as CSV records ([`crate::data::reader`]), so
//! everything downstream sees one kind of row.
mod columns;

pub use columns::{resolve, Resolved, Role, View};

use crate::data::options::{InputKind, ReadOptions};
use crate::data::reader::{ChunkParser, Layout, ParsedChunk, ReadReport, RowParse};
use crate::data::{InputError, Place};
use crate::Result;
use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The UTC offset, in seconds, of the first time-zoned timestamp column of `schema` when its
/// zone is a fixed offset (`+08:00`, `UTC`): the calendar such data carries. `None` without one
/// or for a named zone.
pub fn sniff_utc_offset(schema: &arrow_schema::Schema) -> Option<i32> {
    schema.fields().iter().find_map(|f| match f.data_type() {
        arrow_schema::DataType::Timestamp(_, Some(tz)) => {
            Some(crate::data::parquet::fixed_offset_of(tz))
        }
        _ => None,
    })?
}

/// The UTC offset a batch held in memory carries: that of its first time-zoned timestamp
/// column ([`sniff_utc_offset`]), else that of the first timestamp written as text in its
/// first string column named `*_at` (as [`crate::data::time::sniff_utc_offset`] reads a CSV
/// file's), so that a table read from a CSV file with its timestamps kept as strings counts
/// days as the file itself does. `None` when neither carries an offset.
pub fn sniff_batch_utc_offset(batch: &RecordBatch) -> Option<i32> {
    let schema = batch.schema();
    if schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), arrow_schema::DataType::Timestamp(_, Some(_))))
    {
        return sniff_utc_offset(&schema);
    }
    let i = text_timestamp_column(&schema)?;
    sniff_text_utc_offset(batch.column(i).slice(0, batch.num_rows().min(64)).as_ref())
}

/// The first string column named `*_at` (timestamps written as text).
pub(crate) fn text_timestamp_column(schema: &arrow_schema::Schema) -> Option<usize> {
    schema.fields().iter().position(|f| {
        f.name().ends_with("_at")
            && matches!(
                f.data_type(),
                arrow_schema::DataType::Utf8
                    | arrow_schema::DataType::LargeUtf8
                    | arrow_schema::DataType::Utf8View
            )
    })
}

/// The offset of the first timestamp text among the values of a string column.
pub(crate) fn sniff_text_utc_offset(column: &dyn arrow_array::Array) -> Option<i32> {
    let text = arrow_cast::cast(column, &arrow_schema::DataType::Utf8).ok()?;
    let text = arrow_array::cast::AsArray::as_string::<i32>(&text);
    let lines: Vec<&str> = text.iter().flatten().collect();
    crate::data::time::sniff_utc_offset(lines.join("\n").as_bytes())
}

/// Rows parsed by one task (a batch longer than this is sliced, zero-copy).
pub const UNIT_ROWS: usize = 65_536;
/// Units of an in-memory stream parsed in parallel before their rows are folded.
const BATCH_UNITS: usize = 6;

/// Arrow record batches to read: an in-memory stream or Parquet files.
pub struct Batches<'a>(Kind<'a>);

type BatchIter<'a> =
    Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send + 'a>;

enum Kind<'a> {
    Stream(BatchIter<'a>),
    Parquet(Vec<PathBuf>),
}

impl<'a> Batches<'a> {
    /// Batches produced by `batches`, in order.
    pub fn stream<I>(batches: I) -> Batches<'a>
    where
        I: IntoIterator<Item = std::result::Result<RecordBatch, ArrowError>>,
        I::IntoIter: Send + 'a,
    {
        Batches(Kind::Stream(Box::new(batches.into_iter())))
    }

    /// The Parquet file at `path`, or every Parquet file in the directory `path`
    /// ([`crate::data::parquet::part_files`]).
    pub fn parquet(path: &Path) -> Result<Batches<'static>> {
        Ok(Batches(Kind::Parquet(crate::data::parquet::part_files(
            path,
        )?)))
    }
}

/// The one layout of Arrow fields: views come in contract order, so contract column `i` is
/// field `i` when present.
fn layout_of(resolved: &Resolved, kind: InputKind) -> Layout {
    let columns = resolved
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| c.map(|_| i))
        .collect();
    Layout {
        columns,
        names: resolved.names.clone(),
        width: resolved.names.len(),
        // A null id, instant or amount is a bad row (their CSV text cannot be empty either); a
        // null event or comment text is empty text, as an empty CSV field is.
        required: kind
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.required && (c.name == "customer_id" || Role::of(c.name) != Role::Text)
            })
            .map(|(i, _)| i)
            .collect(),
    }
}

pub(crate) fn merge_parsed<T>(report: &mut ReadReport, parsed: &[ParsedChunk<T>]) -> Result<()> {
    for p in parsed {
        if let Some(e) = &p.fatal {
            return Err(e.clone().into());
        }
        report.merge(ReadReport {
            rows: p.rows,
            bad_rows: p.bad_rows,
            first_bad_rows: p.errors.clone(),
        });
    }
    Ok(())
}

/// Reads Arrow batches like [`crate::data::reader::read_sharded`] reads CSV: every row parsed
/// by `parse`, bad rows located (row group and row, or batch and row) and handled by the
/// bad-row policy, parsed rows handed to `fold` in input order. `progress` receives bytes read
/// (Parquet: compressed row-group bytes) or rows read (a stream).
pub(crate) fn read_sharded<T, P, F>(
    path: &Path,
    batches: Batches<'_>,
    kind: InputKind,
    opts: &ReadOptions,
    parse: P,
    fold: F,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ReadReport>
where
    T: Send,
    P: RowParse<T>,
    F: FnMut(&[ParsedChunk<T>]),
{
    match batches.0 {
        Kind::Stream(iter) => read_stream(path, iter, kind, opts, &parse, fold, progress),
        Kind::Parquet(files) => {
            crate::data::parquet::read_files(&files, kind, opts, &parse, fold, progress)
        }
    }
}

/// Parses the rows of one batch (or slice of one) read from `path`; `place(i)` locates its row
/// `i`.
pub(crate) fn parse_batch<T, P>(
    path: &Path,
    batch: &RecordBatch,
    projected: Option<&Resolved>,
    kind: InputKind,
    opts: &ReadOptions,
    parse: &P,
    place: &(dyn Fn(u64) -> (u64, Place) + Sync),
) -> Result<ParsedChunk<T>>
where
    P: RowParse<T>,
{
    let own;
    let resolved = match projected {
        Some(r) => r,
        None => {
            own = resolve(path, &batch.schema(), kind, opts)?;
            &own
        }
    };
    let views = resolved
        .views(batch, projected.is_some())
        .map_err(|e| InputError::file(path, "", "unreadable record batch", e))?;
    let layout = layout_of(resolved, kind);
    let parser = ChunkParser {
        path,
        layout: &layout,
        policy: opts.on_bad_rows,
        parse,
        id_column: 0,
    };
    Ok(parser.parse_batch(&views, batch.num_rows(), place))
}

fn read_stream<T, P, F>(
    path: &Path,
    mut iter: BatchIter<'_>,
    kind: InputKind,
    opts: &ReadOptions,
    parse: &P,
    mut fold: F,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ReadReport>
where
    T: Send,
    P: RowParse<T>,
    F: FnMut(&[ParsedChunk<T>]),
{
    let mut report = ReadReport::default();
    let (mut batch_no, mut row_base) = (0u64, 0u64);
    let mut done = false;
    while !done {
        opts.cancel.check()?;
        // (slice, batch number, first row in the batch, first row in the stream)
        let mut units: Vec<(RecordBatch, u64, u64, u64)> = Vec::with_capacity(BATCH_UNITS);
        while units.len() < BATCH_UNITS {
            let Some(next) = iter.next() else {
                done = true;
                break;
            };
            let batch = next.map_err(|e| {
                InputError::file(
                    path,
                    "",
                    format!("record batch {batch_no} could not be read"),
                    e.to_string(),
                )
            })?;
            let mut start = 0;
            while start < batch.num_rows() {
                let len = UNIT_ROWS.min(batch.num_rows() - start);
                units.push((
                    batch.slice(start, len),
                    batch_no,
                    start as u64,
                    row_base + start as u64,
                ));
                start += len;
            }
            row_base += batch.num_rows() as u64;
            batch_no += 1;
        }
        let parsed: Vec<ParsedChunk<T>> = units
            .par_iter()
            .map(|(b, batch, first_in_batch, first)| {
                let place = |i: u64| {
                    (
                        first + i,
                        Place::Batch {
                            batch: u32::try_from(*batch).unwrap_or(u32::MAX),
                            row: u32::try_from(first_in_batch + i).unwrap_or(u32::MAX),
                        },
                    )
                };
                parse_batch(path, b, None, kind, opts, parse, &place)
            })
            .collect::<Result<_>>()?;
        drop(units);
        merge_parsed(&mut report, &parsed)?;
        fold(&parsed);
        progress(row_base);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use crate::data::{ReadOptions, Source, TimeFormat, TimeParser};
    use crate::features::{build_features, FeatureParams, Inputs, LifecycleThresholds};
    use arrow_array::{ArrayRef, Float64Array, LargeStringArray, RecordBatch, StringArray};
    use std::sync::Arc;

    /// Regression: a table read from a CSV file with its timestamps kept as strings (polars'
    /// `read_csv`) counted days in UTC in the Python package, not in the offset the text
    /// carries as the CLI does on the same file.
    #[test]
    fn string_timestamps_in_memory_carry_their_offset() {
        let ids: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let zoned = batch(
            ids.clone(),
            &["2025-01-01T23:30:00+08:00", "2025-01-02T01:00:00+08:00"],
            &[Some(1.0), Some(2.0)],
        );
        assert_eq!(super::sniff_batch_utc_offset(&zoned), Some(8 * 3600));
        let west = batch(
            ids.clone(),
            &["2025-01-01T23:30:00-05:30", ""],
            &[None, None],
        );
        assert_eq!(
            super::sniff_batch_utc_offset(&west),
            Some(-(5 * 3600 + 1800))
        );
        let naive = batch(ids, &["2025-01-01 23:30:00", "2025-01-02"], &[None, None]);
        assert_eq!(super::sniff_batch_utc_offset(&naive), None);
    }

    fn batch(ids: ArrayRef, times: &[&str], amounts: &[Option<f64>]) -> RecordBatch {
        RecordBatch::try_from_iter([
            ("customer_id", ids),
            (
                "ordered_at",
                Arc::new(StringArray::from(times.to_vec())) as ArrayRef,
            ),
            (
                "amount",
                Arc::new(Float64Array::from(amounts.to_vec())) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    fn features(orders: Source<'_>, opts: &ReadOptions) -> crate::Result<Vec<u8>> {
        let params = FeatureParams {
            cutoff: crate::data::Cutoff::parse("2025-06-30", &opts.time).unwrap(),
            horizon_days: None,
            lifecycle: LifecycleThresholds::default(),
        };
        let inputs = Inputs {
            orders,
            events: None,
            customers: None,
            comments: None,
        };
        let t = build_features(inputs, &params, opts, &|_| {})?;
        let mut out = vec![];
        t.write_csv(&mut out)?;
        Ok(out)
    }

    #[test]
    fn in_memory_batches_of_different_schemas_read_like_csv_and_errors_name_the_batch() {
        let opts = ReadOptions {
            time: TimeParser::new(TimeFormat::Rfc3339, 8 * 3600),
            ..ReadOptions::default()
        };
        let csv =
            "customer_id,ordered_at,amount\na,2025-01-01,10\nb,2025-02-01,2.5\na,2025-03-01,1\n";
        let want = features(Source::from_bytes("o.csv", csv.as_bytes()), &opts).unwrap();
        let first = batch(
            Arc::new(StringArray::from(vec!["a", "b"])),
            &["2025-01-01", "2025-02-01"],
            &[Some(10.0), Some(2.5)],
        );
        // A later batch may carry another string layout (large strings here).
        let second = batch(
            Arc::new(LargeStringArray::from(vec!["a"])),
            &["2025-03-01"],
            &[Some(1.0)],
        );
        let got = features(
            Source::from_batches("orders", [Ok(first.clone()), Ok(second)]),
            &opts,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
        let bad = batch(
            Arc::new(StringArray::from(vec!["c", "d"])),
            &["2025-01-01", "2025-01-01"],
            &[Some(1.0), None],
        );
        let e = features(Source::from_batches("orders", [Ok(first), Ok(bad)]), &opts)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "orders: row 3 (batch 1, row 1): column 3 `amount`: missing value (null): `null`"
        );
        // A failing producer is an error naming the batch.
        let failing = vec![Err(arrow_schema::ArrowError::ComputeError("boom".into()))];
        let e = features(Source::from_batches("orders", failing), &opts)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("record batch 0 could not be read") && e.contains("boom"),
            "{e}"
        );
    }
}
