//! Typed Parquet output: tables written row block by row block into a Parquet stream with a
//! fixed schema (ids as strings, counts as int64, values as float64, instants as timestamps,
//! categories such as stages, segments and tiers as dictionary-encoded strings), zstd
//! compressed. The bytes depend only on the rows (no clock, no thread count), so the same
//! inputs give the same file.
use crate::{Error, Result};
use arrow_array::builder::{
    Decimal128Builder, Float64Builder, Int64Builder, StringBuilder, StringDictionaryBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Rows per row group of the files written.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// The type of one output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// Free text (ids): utf8.
    Text,
    /// A small set of names (stages, segments, tiers, languages): dictionary<int32, utf8>.
    Category,
    /// Whole numbers: int64.
    Int,
    /// Real numbers and money: float64; a value that is not finite (undefined, written empty
    /// in CSV) is null.
    Float,
    /// Money in cents, exactly: decimal128(18, 2) (values given as [`Value::Int`] cents).
    Cents,
    /// Instants: timestamp[ms] in the zone `+HH:MM` of the given offset (seconds east of UTC);
    /// Parquet has no second unit, and readers other than arrow-rs would see plain int64.
    Time(i32),
}

impl ColumnType {
    fn data_type(&self) -> DataType {
        match self {
            ColumnType::Text => DataType::Utf8,
            ColumnType::Category => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
            }
            ColumnType::Int => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::Cents => DataType::Decimal128(18, 2),
            ColumnType::Time(offset) => {
                DataType::Timestamp(TimeUnit::Millisecond, Some(offset_name(*offset).into()))
            }
        }
    }
}

/// `+08:00` for 28,800 seconds east of UTC.
pub fn offset_name(offset_seconds: i32) -> String {
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let a = offset_seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// One value of an output row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Undefined (null).
    Null,
    /// For [`ColumnType::Text`] and [`ColumnType::Category`] columns.
    Text(&'a str),
    /// For [`ColumnType::Int`] columns.
    Int(i64),
    /// For [`ColumnType::Float`] columns.
    Float(f64),
    /// UTC seconds, for [`ColumnType::Time`] columns.
    Time(i64),
}

enum Builder {
    Text(StringBuilder),
    Category(StringDictionaryBuilder<Int32Type>),
    Int(Int64Builder),
    Float(Float64Builder),
    Cents(Decimal128Builder),
    Time(TimestampMillisecondBuilder, Arc<str>),
}

impl Builder {
    fn new(t: &ColumnType) -> Builder {
        match t {
            ColumnType::Text => Builder::Text(StringBuilder::new()),
            ColumnType::Category => Builder::Category(StringDictionaryBuilder::new()),
            ColumnType::Int => Builder::Int(Int64Builder::new()),
            ColumnType::Float => Builder::Float(Float64Builder::new()),
            ColumnType::Cents => Builder::Cents(Decimal128Builder::new()),
            ColumnType::Time(o) => {
                Builder::Time(TimestampMillisecondBuilder::new(), offset_name(*o).into())
            }
        }
    }

    /// Appends `v`; a value of the wrong kind for the column is an internal error.
    fn push(&mut self, v: Value<'_>) -> std::result::Result<(), ()> {
        match (self, v) {
            (Builder::Text(b), Value::Text(s)) => b.append_value(s),
            (Builder::Text(b), Value::Null) => b.append_null(),
            (Builder::Category(b), Value::Text(s)) => {
                b.append(s).map_err(|_| ())?;
            }
            (Builder::Category(b), Value::Null) => b.append_null(),
            (Builder::Int(b), Value::Int(x)) => b.append_value(x),
            (Builder::Int(b), Value::Null) => b.append_null(),
            (Builder::Float(b), Value::Float(x)) if x.is_finite() => b.append_value(x),
            (Builder::Float(b), Value::Float(_)) => b.append_null(),
            (Builder::Float(b), Value::Null) => b.append_null(),
            (Builder::Cents(b), Value::Int(x)) => b.append_value(i128::from(x)),
            (Builder::Cents(b), Value::Null) => b.append_null(),
            (Builder::Time(b, _), Value::Time(t)) => b.append_value(t.checked_mul(1000).ok_or(())?),
            (Builder::Time(b, _), Value::Null) => b.append_null(),
            _ => return Err(()),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Category(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Cents(b) => Arc::new(
                b.finish()
                    .with_precision_and_scale(18, 2)
                    .unwrap_or_else(|_| arrow_array::Decimal128Array::from(Vec::<i128>::new())),
            ),
            Builder::Time(b, tz) => Arc::new(b.finish().with_timezone(tz.clone())),
        }
    }
}

/// A `Write` the Parquet writer owns whose bytes the table writer moves to the real output
/// after each row group (the real output need not be `Send`).
#[derive(Clone, Default)]
struct Spool(Arc<Mutex<Vec<u8>>>);

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut v = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        v.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Rows of a table, one at a time: a Parquet file ([`TableWriter`]) or Arrow record batches in
/// memory ([`BatchCollector`]) take them alike.
pub trait RowSink {
    /// Appends one row (one value per column, in order).
    fn push_row(&mut self, values: &[Value<'_>]) -> Result<()>;
}

/// Rows per record batch built.
pub const BATCH_ROWS: usize = 1 << 16;

/// Typed column builders of a fixed schema, turned into a record batch every [`BATCH_ROWS`]
/// rows.
pub struct TableBuilder {
    schema: SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
}

impl TableBuilder {
    /// Builders for `columns` (name and type).
    pub fn new(columns: &[(&str, ColumnType)]) -> TableBuilder {
        let schema: SchemaRef = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, t)| Field::new(*n, t.data_type(), true))
                .collect::<Vec<_>>(),
        ));
        TableBuilder {
            schema,
            builders: columns.iter().map(|(_, t)| Builder::new(t)).collect(),
            rows: 0,
        }
    }

    /// The schema of the batches built.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Appends a row; returns a batch when [`BATCH_ROWS`] rows are pending.
    pub fn push_row(&mut self, values: &[Value<'_>]) -> Result<Option<RecordBatch>> {
        if values.len() != self.builders.len() {
            return Err(Error::Fit(format!(
                "table output: a row of {} values for {} columns",
                values.len(),
                self.builders.len()
            )));
        }
        for (n, (b, v)) in self.builders.iter_mut().zip(values).enumerate() {
            b.push(*v).map_err(|()| {
                Error::Fit(format!(
                    "table output: value {v:?} does not fit column {} ({})",
                    self.schema.field(n).name(),
                    self.schema.field(n).data_type()
                ))
            })?;
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            return self.flush();
        }
        Ok(None)
    }

    /// The pending rows as a batch (`None` when there are none).
    pub fn flush(&mut self) -> Result<Option<RecordBatch>> {
        if self.rows == 0 {
            return Ok(None);
        }
        let cols: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), cols)
            .map(Some)
            .map_err(|e| Error::Fit(format!("table output: {e}")))
    }
}

/// Collects rows into Arrow record batches in memory (for callers such as Python).
pub struct BatchCollector {
    builder: TableBuilder,
    batches: Vec<RecordBatch>,
}

impl BatchCollector {
    /// A collector of `columns` (name and type).
    pub fn new(columns: &[(&str, ColumnType)]) -> BatchCollector {
        BatchCollector {
            builder: TableBuilder::new(columns),
            batches: vec![],
        }
    }

    /// The schema and the batches (none for an empty table).
    pub fn finish(mut self) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        if let Some(b) = self.builder.flush()? {
            self.batches.push(b);
        }
        Ok((self.builder.schema(), self.batches))
    }
}

impl RowSink for BatchCollector {
    fn push_row(&mut self, values: &[Value<'_>]) -> Result<()> {
        if let Some(b) = self.builder.push_row(values)? {
            self.batches.push(b);
        }
        Ok(())
    }
}

/// Writes rows of a fixed schema as Parquet to `out`, [`ROW_GROUP_ROWS`] rows per row group.
pub struct TableWriter<'w> {
    out: &'w mut dyn Write,
    name: PathBuf,
    spool: Spool,
    writer: ArrowWriter<Spool>,
    builder: TableBuilder,
}

impl<'w> TableWriter<'w> {
    /// A writer of `columns` (name and type) to `out`; `name` is the output's name for
    /// messages.
    pub fn new(
        out: &'w mut dyn Write,
        name: &Path,
        columns: &[(&str, ColumnType)],
    ) -> Result<TableWriter<'w>> {
        let builder = TableBuilder::new(columns);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_created_by(format!("ltv {}", env!("CARGO_PKG_VERSION")))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let spool = Spool::default();
        let writer = ArrowWriter::try_new(spool.clone(), builder.schema(), Some(props))
            .map_err(|e| write_error(name, e))?;
        Ok(TableWriter {
            out,
            name: name.to_path_buf(),
            spool,
            writer,
            builder,
        })
    }

    fn write_batch(&mut self, batch: Option<RecordBatch>) -> Result<()> {
        let Some(batch) = batch else { return Ok(()) };
        self.writer
            .write(&batch)
            .map_err(|e| write_error(&self.name, e))?;
        self.drain()
    }

    fn drain(&mut self) -> Result<()> {
        let bytes = {
            let mut v = self
                .spool
                .0
                .lock()
                .map_err(|_| write_error(&self.name, "poisoned spool"))?;
            std::mem::take(&mut *v)
        };
        self.out
            .write_all(&bytes)
            .map_err(|e| Error::io(&self.name, e))
    }

    /// Writes the last rows and the file footer.
    pub fn finish(mut self) -> Result<()> {
        let last = self.builder.flush()?;
        self.write_batch(last)?;
        self.writer
            .finish()
            .map_err(|e| write_error(&self.name, e))?;
        self.drain()?;
        self.out.flush().map_err(|e| Error::io(&self.name, e))
    }
}

impl RowSink for TableWriter<'_> {
    fn push_row(&mut self, values: &[Value<'_>]) -> Result<()> {
        let batch = self.builder.push_row(values)?;
        self.write_batch(batch)
    }
}

fn write_error(name: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(name, std::io::Error::other(format!("writing Parquet: {e}")))
}

/// The format of a table written by `ltv` (features, scores, sentiment scores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// CSV text.
    #[default]
    Csv,
    /// Parquet with typed columns ([`TableWriter`]).
    Parquet,
}

impl OutputFormat {
    /// Parquet when `path` ends in `.parquet`, CSV otherwise (and for standard output).
    pub fn of_path(path: Option<&Path>) -> OutputFormat {
        let parquet = path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if parquet {
            OutputFormat::Parquet
        } else {
            OutputFormat::Csv
        }
    }
}
