//! The parallel streaming reader: header resolution, record validation with located errors,
//! and parsing of whole-record chunks on all cores into per-shard row lists.
//!
//! Memory is bounded by one batch of chunks (`BATCH_CHUNKS` × `CHUNK_BYTES`), whatever the file
//! size. Rows are routed to `SHARDS` shards by a hash of the customer id, and each shard sees its
//! rows in file order, so a fold per shard gives the same result for any number of threads.
use crate::data::chunks::{Chunk, ChunkError, Chunker};
use crate::data::options::{BadRowPolicy, Delimiter, InputKind, ReadOptions};
use crate::data::InputError;
use crate::{Error, Result};
use rayon::prelude::*;
use std::hash::Hasher;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Number of customer shards (fixed, independent of the thread count).
pub const SHARDS: usize = 64;
/// Target chunk size in bytes.
pub const CHUNK_BYTES: usize = 2 << 20;
/// Chunks parsed in parallel before their rows are folded.
pub const BATCH_CHUNKS: usize = 6;
/// The UTF-8 byte-order mark; allowed only as the first bytes of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// How many skipped-row locations are kept for the report.
pub const MAX_REPORTED_BAD_ROWS: usize = 10;

/// An input and the name to use for it in messages.
pub struct Source<'a> {
    /// The name shown in errors (usually the path).
    pub path: PathBuf,
    /// What is read: CSV bytes or Arrow record batches.
    pub data: SourceData<'a>,
}

/// The two kinds of input: CSV bytes or Arrow record batches (Parquet files, or batches held in
/// memory by a caller such as the Python package).
pub enum SourceData<'a> {
    /// CSV (or other delimited) text.
    Csv(Box<dyn Read + Send + 'a>),
    /// Arrow record batches.
    Arrow(crate::data::arrow::Batches<'a>),
}

/// How to tell what an input path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// From the path: a directory, a name ending in `.parquet`, or a file starting with
    /// Parquet's `PAR1` magic is Parquet; anything else is CSV.
    #[default]
    Auto,
    /// CSV (or other delimited) text, possibly gzip/zstd compressed.
    Csv,
    /// A Parquet file, or a directory of Parquet files (`part-*.parquet`).
    Parquet,
}

impl InputFormat {
    /// Parses `auto`, `csv` or `parquet`.
    pub fn parse(text: &str) -> Result<InputFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(InputFormat::Auto),
            "csv" => Ok(InputFormat::Csv),
            "parquet" => Ok(InputFormat::Parquet),
            _ => Err(Error::InvalidParameter {
                name: "input-format",
                value: text.to_string(),
                reason: "expected `csv`, `parquet` or `auto`".into(),
            }),
        }
    }

    /// Whether the input at `path` is Parquet under this setting.
    pub fn is_parquet(self, path: &Path) -> bool {
        match self {
            InputFormat::Csv => false,
            InputFormat::Parquet => true,
            InputFormat::Auto => crate::data::parquet::looks_like_parquet(path),
        }
    }
}

impl<'a> Source<'a> {
    /// Opens an input, telling CSV from Parquet by [`InputFormat::Auto`]. For CSV, `-` is
    /// standard input and a name ending in `.gz` or `.zst` (or a file starting with the gzip or
    /// zstd magic bytes) is decompressed as it is read.
    pub fn open(path: &Path) -> Result<Source<'static>> {
        Source::open_as(path, InputFormat::Auto)
    }

    /// Opens an input of the given format (see [`Source::open`]).
    pub fn open_as(path: &Path, format: InputFormat) -> Result<Source<'static>> {
        if path.as_os_str() == "-" {
            if format == InputFormat::Parquet {
                return Err(Error::InvalidParameter {
                    name: "input-format",
                    value: "parquet".into(),
                    reason: "Parquet cannot be read from standard input; give a file".into(),
                });
            }
            return Ok(Source {
                path: PathBuf::from("<stdin>"),
                data: SourceData::Csv(decompress(Box::new(std::io::stdin()), path)?),
            });
        }
        if format.is_parquet(path) {
            return Ok(Source {
                path: path.to_path_buf(),
                data: SourceData::Arrow(crate::data::arrow::Batches::parquet(path)?),
            });
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Source {
            path: path.to_path_buf(),
            data: SourceData::Csv(decompress(Box::new(file), path)?),
        })
    }

    /// The UTC offset the data at `path` carries: for CSV, that of the first timestamp in the
    /// first 64 KiB ([`crate::data::time::sniff_utc_offset`]); for Parquet, the fixed offset of
    /// the first time-zoned timestamp column (`UTC` is 0), else the first string timestamp's.
    /// `None` for standard input, pipes and other inputs that are not regular files (they
    /// cannot be read twice: a peek would lose rows) and for data whose timestamps carry no
    /// offset.
    pub fn sniff_utc_offset(path: &Path) -> Result<Option<i32>> {
        Source::sniff_utc_offset_as(path, InputFormat::Auto)
    }

    /// [`Source::sniff_utc_offset`] for an input of the given format.
    pub fn sniff_utc_offset_as(path: &Path, format: InputFormat) -> Result<Option<i32>> {
        if path.as_os_str() == "-" {
            return Ok(None);
        }
        if format.is_parquet(path) {
            return crate::data::parquet::sniff_utc_offset(path);
        }
        let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        if !regular {
            return Ok(None);
        }
        let mut s = Source::open_as(path, InputFormat::Csv)?;
        let mut buf = Vec::with_capacity(1 << 16);
        if let SourceData::Csv(reader) = &mut s.data {
            reader
                .take(1 << 16)
                .read_to_end(&mut buf)
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(crate::data::time::sniff_utc_offset(&buf))
    }

    /// Reads CSV from an in-memory buffer (tests, stdin already read).
    pub fn from_bytes(name: impl Into<PathBuf>, bytes: &'a [u8]) -> Source<'a> {
        Source {
            path: name.into(),
            data: SourceData::Csv(Box::new(bytes)),
        }
    }

    /// Reads Arrow record batches held in memory (or produced on the fly): the door for
    /// callers without files (Python, Spark). Batches may differ in schema as long as each
    /// holds the contract's columns; errors name `name`, the batch and the row.
    pub fn from_batches<I>(name: impl Into<PathBuf>, batches: I) -> Source<'a>
    where
        I: IntoIterator<
            Item = std::result::Result<arrow_array::RecordBatch, arrow_schema::ArrowError>,
        >,
        I::IntoIter: Send + 'a,
    {
        Source {
            path: name.into(),
            data: SourceData::Arrow(crate::data::arrow::Batches::stream(batches)),
        }
    }

    /// Whether this source is CSV text.
    pub fn is_csv(&self) -> bool {
        matches!(self.data, SourceData::Csv(_))
    }
}

/// Wraps `reader` in a gzip or zstd decoder when its first bytes are that format's magic
/// number (so `orders.csv.gz`, `orders.csv.zst` and compressed stdin are read transparently).
fn decompress(reader: Box<dyn Read + Send>, path: &Path) -> Result<Box<dyn Read + Send>> {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let head = std::io::BufRead::fill_buf(&mut reader).map_err(|e| Error::io(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(reader)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let d = zstd::stream::read::Decoder::with_buffer(reader).map_err(|e| Error::io(path, e))?;
        Ok(Box::new(d))
    } else {
        Ok(Box::new(reader))
    }
}

/// The fields of one record, addressed by contract column index: a CSV record's text, or one
/// row of an Arrow batch with typed values. Parsers read text with [`Fields::get`] and
/// instants and amounts with [`Fields::instant`] and [`Fields::amount`], which give a CSV field
/// and the same value stored in an Arrow type the same result.
pub struct Fields<'r> {
    record: Record<'r>,
    columns: &'r [Option<usize>],
}

enum Record<'r> {
    Csv(&'r csv::ByteRecord),
    Split(&'r [&'r [u8]]),
    Arrow {
        views: &'r [Option<crate::data::arrow::View>],
        row: usize,
    },
}

impl<'r> Fields<'r> {
    /// The text of contract column `column` (its index in [`InputKind::columns`]); `None` when
    /// the input has no such column (or, for Arrow, the column is not text). An Arrow null is
    /// empty text.
    #[inline]
    pub fn get(&self, column: usize) -> Option<&'r [u8]> {
        let i = (*self.columns.get(column)?)?;
        match self.record {
            Record::Csv(r) => r.get(i),
            Record::Split(f) => f.get(i).copied(),
            Record::Arrow { views, row } => views.get(i)?.as_ref()?.text(row),
        }
    }

    #[inline]
    fn view(&self, column: usize) -> Option<(&'r crate::data::arrow::View, usize)> {
        match self.record {
            Record::Arrow { views, row } => {
                let i = (*self.columns.get(column)?)?;
                Some((views.get(i)?.as_ref()?, row))
            }
            _ => None,
        }
    }

    /// Whether contract column `column` is absent, empty (blank text) or null.
    #[inline]
    pub fn is_blank(&self, column: usize) -> bool {
        match self.view(column) {
            Some((v, row)) => v.is_blank(row),
            None => self.get(column).is_none_or(|t| t.trim_ascii().is_empty()),
        }
    }

    /// The instant (UTC seconds) in contract column `column`: text parsed by `time`, or an
    /// Arrow timestamp/date (see [`crate::data::arrow::View::instant`]).
    #[inline]
    pub fn instant(
        &self,
        column: usize,
        time: &crate::data::TimeParser,
    ) -> std::result::Result<i64, FieldError> {
        let r = match self.view(column) {
            Some((v, row)) => v.instant(row, time),
            None => time
                .parse(self.get(column).unwrap_or(b""))
                .ok_or("unparsable timestamp"),
        };
        r.map_err(|kind| FieldError { column, kind })
    }

    /// The money amount in contract column `column`, in fixed-point units of 1/10,000: text
    /// parsed by [`crate::data::amount::parse_amount`], or an Arrow number (exact for integers
    /// and decimals).
    #[inline]
    pub fn amount(&self, column: usize) -> std::result::Result<i64, FieldError> {
        let r = match self.view(column) {
            Some((v, row)) => v.amount(row),
            None => crate::data::amount::parse_amount(self.get(column).unwrap_or(b""))
                .ok_or("not a number"),
        };
        r.map_err(|kind| FieldError { column, kind })
    }

    fn len(&self) -> usize {
        match self.record {
            Record::Csv(r) => r.len(),
            Record::Split(f) => f.len(),
            Record::Arrow { views, .. } => views.len(),
        }
    }

    /// Field `i` of the record as written (an Arrow value formatted as text), for messages
    /// and checks.
    fn raw(&self, i: usize) -> std::borrow::Cow<'r, [u8]> {
        match self.record {
            Record::Csv(r) => r.get(i).unwrap_or(b"").into(),
            Record::Split(f) => f.get(i).copied().unwrap_or(b"").into(),
            Record::Arrow { views, row } => match views.get(i).and_then(Option::as_ref) {
                Some(v) => v.display(row).into_bytes().into(),
                None => (&b""[..]).into(),
            },
        }
    }
}

/// A per-row parser as the readers take it: a validated record (right field count, UTF-8,
/// non-empty customer id) to a value, `Ok(None)` to drop the row (still counted as read), or a
/// [`FieldError`]. Implemented by every such closure.
pub trait RowParse<T>:
    Fn(&Fields<'_>) -> std::result::Result<Option<T>, FieldError> + Sync
{
}

impl<T, F> RowParse<T> for F where
    F: Fn(&Fields<'_>) -> std::result::Result<Option<T>, FieldError> + Sync
{
}

/// Why a field could not be parsed: the contract column index and a short description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldError {
    /// Contract column index.
    pub column: usize,
    /// What is wrong (`unparsable timestamp`, `not a number`, …).
    pub kind: &'static str,
}

/// One parsed row: where its customer id sits in the chunk's id buffer, and the value.
#[derive(Debug, Clone)]
pub struct Row<T> {
    id_start: u32,
    id_len: u32,
    /// The parsed value.
    pub value: T,
}

/// The rows of one chunk, split by shard, in file order within each shard.
pub struct ParsedChunk<T> {
    /// Rows per shard.
    pub shards: Vec<Vec<Row<T>>>,
    ids: Vec<u8>,
    pub(crate) errors: Vec<InputError>,
    pub(crate) bad_rows: u64,
    pub(crate) rows: u64,
    pub(crate) fatal: Option<InputError>,
}

impl<T> ParsedChunk<T> {
    /// The customer id of a row (validated UTF-8, trimmed).
    #[inline]
    pub fn id(&self, row: &Row<T>) -> &str {
        let b = &self.ids[row.id_start as usize..(row.id_start + row.id_len) as usize];
        std::str::from_utf8(b).unwrap_or("")
    }
}

/// Counts of what a read saw and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Data rows read (not counting the header).
    pub rows: u64,
    /// Rows skipped under `--on-bad-rows skip`.
    pub bad_rows: u64,
    /// The first few skipped rows, with their errors.
    pub first_bad_rows: Vec<InputError>,
}

impl ReadReport {
    /// Adds another report (of a later file) to this one.
    pub fn merge(&mut self, other: ReadReport) {
        self.rows += other.rows;
        self.bad_rows += other.bad_rows;
        for e in other.first_bad_rows {
            if self.first_bad_rows.len() < MAX_REPORTED_BAD_ROWS {
                self.first_bad_rows.push(e);
            }
        }
    }
}

/// The shard of a customer id.
#[inline]
pub fn shard_of(id: &[u8]) -> usize {
    let mut h = rustc_hash::FxHasher::default();
    h.write(id);
    let x = h.finish().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x >> 58) as usize % SHARDS
}

pub(crate) struct Layout {
    /// Contract column → file column.
    pub(crate) columns: Vec<Option<usize>>,
    /// File column names, for messages.
    pub(crate) names: Vec<String>,
    /// Expected fields per record.
    pub(crate) width: usize,
    /// Contract columns that must not be null (Arrow inputs; CSV has no nulls).
    pub(crate) required: Vec<usize>,
}

fn split_fields(line: &[u8]) -> Vec<&[u8]> {
    line.split(|b| matches!(*b, b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|f| !f.is_empty())
        .collect()
}

fn first_record_fields(bytes: &[u8], delimiter: Delimiter) -> Vec<Vec<u8>> {
    match delimiter {
        Delimiter::Whitespace => split_fields(bytes)
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect(),
        Delimiter::Byte(d) => {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(d)
                .from_reader(bytes);
            let mut rec = csv::ByteRecord::new();
            match r.read_byte_record(&mut rec) {
                Ok(true) => rec.iter().map(<[u8]>::to_vec).collect(),
                _ => vec![],
            }
        }
    }
}

fn resolve_layout(
    path: &Path,
    kind: InputKind,
    opts: &ReadOptions,
    first: &[Vec<u8>],
) -> Result<Layout> {
    let width = first.len();
    let specs = kind.columns();
    if opts.has_header {
        let mut names = Vec::with_capacity(width);
        for (i, f) in first.iter().enumerate() {
            let s = std::str::from_utf8(f).map_err(|_| {
                InputError::new(path, 1, Some(i + 1), "", "invalid UTF-8 in header", f)
            })?;
            names.push(s.trim().to_string());
        }
        let mut columns = Vec::with_capacity(specs.len());
        for spec in specs {
            let want = opts.columns.source_name(spec.name);
            let found = names.iter().position(|n| n == want);
            if let Some(first) = found {
                if let Some(again) = names.iter().skip(first + 1).position(|n| n == want) {
                    return Err(InputError::new(
                        path,
                        1,
                        Some(first + 2 + again),
                        want,
                        format!(
                            "duplicate column name in the header (also column {}): which one \
                             to read is ambiguous; rename one, or --map `{}` to another column",
                            first + 1,
                            spec.name
                        ),
                        names.join(","),
                    )
                    .into());
                }
            }
            if found.is_none() && (spec.required || opts.columns.is_mapped(spec.name)) {
                let label = if want == spec.name {
                    format!("`{}`", spec.name)
                } else {
                    format!("`{want}` (mapped to `{}`)", spec.name)
                };
                return Err(InputError::new(
                    path,
                    1,
                    None,
                    want,
                    format!(
                        "missing required column {label} in the {} header; found",
                        kind.name()
                    ),
                    names.join(","),
                )
                .into());
            }
            columns.push(found);
        }
        Ok(Layout {
            columns,
            names,
            width,
            required: vec![],
        })
    } else {
        let names: Vec<String> = (1..=width).map(|i| i.to_string()).collect();
        let mut columns = Vec::with_capacity(specs.len());
        for (pos, spec) in specs.iter().enumerate() {
            let idx = if opts.columns.is_mapped(spec.name) {
                let src = opts.columns.source_name(spec.name);
                match src.parse::<usize>() {
                    Ok(n) if n >= 1 && n <= width => Some(n - 1),
                    _ => {
                        return Err(Error::InvalidParameter {
                            name: "map",
                            value: format!("{}={src}", spec.name),
                            reason: format!(
                                "without a header, columns are numbered 1..={width} in `{}`",
                                path.display()
                            ),
                        })
                    }
                }
            } else if pos < width {
                Some(pos)
            } else {
                None
            };
            if idx.is_none() && spec.required {
                return Err(InputError::new(
                    path,
                    1,
                    None,
                    spec.name,
                    format!("missing required column (the file has {width} fields)"),
                    "",
                )
                .into());
            }
            columns.push(idx);
        }
        Ok(Layout {
            columns,
            names,
            width,
            required: vec![],
        })
    }
}

pub(crate) struct ChunkParser<'a, P> {
    pub(crate) path: &'a Path,
    pub(crate) layout: &'a Layout,
    pub(crate) policy: BadRowPolicy,
    pub(crate) parse: &'a P,
    pub(crate) id_column: usize,
}

impl<'a, P> ChunkParser<'a, P> {
    fn column_error(&self, line: u64, file_col: usize, kind: &str, value: &[u8]) -> InputError {
        let name = self.layout.names.get(file_col).cloned().unwrap_or_default();
        InputError::new(self.path, line, Some(file_col + 1), name, kind, value)
    }

    fn check(
        &self,
        line: u64,
        fields: &Fields<'_>,
        chunk_is_utf8: bool,
        chunk_has_bom: bool,
    ) -> std::result::Result<(), InputError> {
        if fields.len() != self.layout.width {
            let joined: Vec<u8> = (0..fields.len())
                .map(|i| fields.raw(i).into_owned())
                .collect::<Vec<_>>()
                .join(&b","[..]);
            return Err(InputError::new(
                self.path,
                line,
                None,
                "",
                format!(
                    "wrong number of fields: expected {}, found {}",
                    self.layout.width,
                    fields.len()
                ),
                joined,
            ));
        }
        if let Record::Arrow { views, row } = fields.record {
            for &i in &self.layout.required {
                if views
                    .get(i)
                    .and_then(Option::as_ref)
                    .is_some_and(|v| v.is_null(row))
                {
                    return Err(self.column_error(line, i, "missing value (null)", b"null"));
                }
            }
        }
        for i in (0..fields.len()).filter(|_| !chunk_is_utf8) {
            let f = fields.raw(i);
            if std::str::from_utf8(&f).is_err() {
                return Err(self.column_error(line, i, "invalid UTF-8", &f));
            }
        }
        for i in (0..fields.len()).filter(|_| chunk_has_bom) {
            let f = fields.raw(i);
            if memchr::memmem::find(&f, BOM).is_some() {
                return Err(self.column_error(
                    line,
                    i,
                    "byte-order mark (U+FEFF) inside the data (files with a BOM concatenated?)",
                    &f,
                ));
            }
        }
        Ok(())
    }
}

impl<'a, T, P> ChunkParser<'a, P>
where
    P: Fn(&Fields<'_>) -> std::result::Result<Option<T>, FieldError> + Sync,
{
    /// Parses one record; `locate` sets a bad record's place (line) and is called only when
    /// the record is bad (counting lines for every record costs more than the rest of the
    /// validation).
    fn record(
        &self,
        locate: &mut dyn FnMut(&mut InputError),
        (chunk_is_utf8, chunk_has_bom): (bool, bool),
        fields: &Fields<'_>,
        out: &mut ParsedChunk<T>,
    ) -> bool {
        out.rows += 1;
        let result = self
            .check(0, fields, chunk_is_utf8, chunk_has_bom)
            .and_then(|()| {
                let id = fields.get(self.id_column).unwrap_or(b"").trim_ascii();
                if id.is_empty() {
                    let file_col = self.layout.columns[self.id_column].unwrap_or(0);
                    return Err(self.column_error(0, file_col, "empty customer_id", id));
                }
                match (self.parse)(fields) {
                    Ok(v) => Ok(v.map(|v| (id, v))),
                    Err(fe) => {
                        let file_col = self.layout.columns[fe.column].unwrap_or(0);
                        Err(self.column_error(0, file_col, fe.kind, &fields.raw(file_col)))
                    }
                }
            });
        match result {
            Ok(Some((id, value))) => {
                let start = out.ids.len() as u32;
                out.ids.extend_from_slice(id);
                out.shards[shard_of(id)].push(Row {
                    id_start: start,
                    id_len: id.len() as u32,
                    value,
                });
                true
            }
            Ok(None) => true,
            Err(mut e) => {
                locate(&mut e);
                match self.policy {
                    BadRowPolicy::Fail => {
                        out.fatal = Some(e);
                        false
                    }
                    BadRowPolicy::Skip => {
                        out.bad_rows += 1;
                        if out.errors.len() < MAX_REPORTED_BAD_ROWS {
                            out.errors.push(e);
                        }
                        true
                    }
                }
            }
        }
    }

    /// Parses rows `0..len` of one Arrow batch (its columns as `views`, in contract order).
    /// `place(i)` gives row `i`'s row number in the input and its place there.
    pub(crate) fn parse_batch(
        &self,
        views: &[Option<crate::data::arrow::View>],
        len: usize,
        place: &(dyn Fn(u64) -> (u64, crate::data::Place) + Sync),
    ) -> ParsedChunk<T> {
        let per_shard = len / SHARDS + len / SHARDS / 8 + 16;
        let mut out = ParsedChunk {
            shards: (0..SHARDS).map(|_| Vec::with_capacity(per_shard)).collect(),
            ids: Vec::with_capacity(len * 8),
            errors: Vec::new(),
            bad_rows: 0,
            rows: 0,
            fatal: None,
        };
        let has_bom = views.iter().flatten().any(|v| v.has_bom());
        for row in 0..len {
            let fields = Fields {
                record: Record::Arrow { views, row },
                columns: &self.layout.columns,
            };
            let mut locate = |e: &mut InputError| {
                let (line, p) = place(row as u64);
                e.line = line;
                e.place = p;
            };
            if !self.record(&mut locate, (true, has_bom), &fields, &mut out) {
                break;
            }
        }
        out
    }

    fn parse_chunk(&self, chunk: &Chunk, delimiter: Delimiter) -> ParsedChunk<T> {
        // Rows land evenly across shards: size each shard's list for its expected share plus
        // a margin (a few standard deviations), so lists rarely grow and never double.
        let lines = memchr::memchr_iter(b'\n', &chunk.bytes).count() + 1;
        let per_shard = lines / SHARDS + lines / SHARDS / 8 + 16;
        let mut out = ParsedChunk {
            shards: (0..SHARDS).map(|_| Vec::with_capacity(per_shard)).collect(),
            ids: Vec::with_capacity(chunk.bytes.len() / 4),
            errors: Vec::new(),
            bad_rows: 0,
            rows: 0,
            fatal: None,
        };
        let columns = &self.layout.columns;
        let chunk_is_utf8 = std::str::from_utf8(&chunk.bytes).is_ok();
        let chunk_has_bom = memchr::memmem::find(&chunk.bytes, BOM).is_some();
        let flags = (chunk_is_utf8, chunk_has_bom);
        match delimiter {
            Delimiter::Byte(d) => {
                // The csv crate drops a BOM at the start of its input: a chunk that starts with
                // one (a BOM mid-file that fell on a chunk boundary) is fed behind a blank line
                // so the BOM stays in the data and is reported like anywhere else.
                let shift = usize::from(chunk.bytes.starts_with(BOM));
                let lead: &[u8] = if shift == 1 { b"\n" } else { b"" };
                let mut r = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .delimiter(d)
                    .from_reader(lead.chain(&chunk.bytes[..]));
                let mut rec = csv::ByteRecord::new();
                // Line numbers come from byte offsets: the csv crate does not count blank lines.
                let (mut seen_byte, mut seen_line) = (0usize, chunk.first_line);
                let mut line_at = |byte: usize| {
                    // A record's reported start includes any blank lines skipped before it.
                    let byte = byte.saturating_sub(shift);
                    let mut byte = byte.min(chunk.bytes.len()).max(seen_byte);
                    while byte < chunk.bytes.len() && matches!(chunk.bytes[byte], b'\n' | b'\r') {
                        byte += 1;
                    }
                    seen_line +=
                        memchr::memchr_iter(b'\n', &chunk.bytes[seen_byte..byte]).count() as u64;
                    seen_byte = byte;
                    seen_line
                };
                loop {
                    match r.read_byte_record(&mut rec) {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            let line = line_at(e.position().map_or(0, |p| p.byte() as usize));
                            out.fatal = Some(InputError::new(
                                self.path,
                                line,
                                None,
                                "",
                                "unreadable record",
                                e.to_string(),
                            ));
                            break;
                        }
                    }
                    let byte = rec.position().map_or(0, |p| p.byte() as usize);
                    let fields = Fields {
                        record: Record::Csv(&rec),
                        columns,
                    };
                    let mut locate = |e: &mut InputError| e.line = line_at(byte);
                    if !self.record(&mut locate, flags, &fields, &mut out) {
                        break;
                    }
                }
            }
            Delimiter::Whitespace => {
                for (i, line_bytes) in chunk.bytes.split(|b| *b == b'\n').enumerate() {
                    let parts = split_fields(line_bytes);
                    if parts.is_empty() {
                        continue;
                    }
                    let fields = Fields {
                        record: Record::Split(&parts),
                        columns,
                    };
                    let line = chunk.first_line + i as u64;
                    if !self.record(&mut |e| e.line = line, flags, &fields, &mut out) {
                        break;
                    }
                }
            }
        }
        out
    }
}

/// Reads one input file in parallel and hands each batch of parsed chunks, in file order, to
/// `fold`.
///
/// `parse` turns a validated record (right field count, UTF-8, non-empty customer id) into a
/// value, `Ok(None)` to drop it silently (it is still counted as read, e.g. rows beyond the
/// label window), or a [`FieldError`]. `progress` receives the bytes read so far.
pub fn read_sharded<T, P, F>(
    source: Source<'_>,
    kind: InputKind,
    opts: &ReadOptions,
    parse: P,
    fold: F,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ReadReport>
where
    T: Send,
    P: Fn(&Fields<'_>) -> std::result::Result<Option<T>, FieldError> + Sync,
    F: FnMut(&[ParsedChunk<T>]),
{
    let Source { path, data } = source;
    match data {
        SourceData::Csv(reader) => read_sharded_in_chunks(
            Source {
                path,
                data: SourceData::Csv(reader),
            },
            kind,
            opts,
            parse,
            fold,
            progress,
            CHUNK_BYTES,
        ),
        SourceData::Arrow(batches) => {
            crate::data::arrow::read_sharded(&path, batches, kind, opts, parse, fold, progress)
        }
    }
}

/// [`read_sharded`] with chunks of about `chunk_bytes` (tests use tiny chunks to put chunk
/// boundaries everywhere).
fn read_sharded_in_chunks<T, P, F>(
    source: Source<'_>,
    kind: InputKind,
    opts: &ReadOptions,
    parse: P,
    mut fold: F,
    progress: &(dyn Fn(u64) + Sync),
    chunk_bytes: usize,
) -> Result<ReadReport>
where
    T: Send,
    P: RowParse<T>,
    F: FnMut(&[ParsedChunk<T>]),
{
    let Source { path, data } = source;
    let SourceData::Csv(reader) = data else {
        return Err(Error::InvalidParameter {
            name: "input",
            value: path.display().to_string(),
            reason: "not CSV".into(),
        });
    };
    let quoting = match opts.delimiter {
        Delimiter::Byte(d) => Some(d),
        Delimiter::Whitespace => None,
    };
    let mut chunker = Chunker::new(reader, quoting).with_max_quoted_bytes(opts.max_field_bytes);
    let chunk_err = |e: ChunkError| -> Error {
        match e.located(&path) {
            Ok(located) => located.into(),
            Err(e) => Error::io(&path, e),
        }
    };
    let mut first = loop {
        match chunker.next_record().map_err(chunk_err)? {
            None => {
                return Err(InputError::new(&path, 1, None, "", "file is empty", "").into());
            }
            Some(c) => {
                if c.bytes.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                break c;
            }
        }
    };
    let first_fields = first_record_fields(&first.bytes, opts.delimiter);
    let layout = resolve_layout(&path, kind, opts, &first_fields)?;
    let parser = ChunkParser {
        path: &path,
        layout: &layout,
        policy: opts.on_bad_rows,
        parse: &parse,
        id_column: 0,
    };
    let mut report = ReadReport::default();
    let mut pending: Vec<Chunk> = Vec::with_capacity(BATCH_CHUNKS);
    if !opts.has_header {
        pending.push(std::mem::replace(
            &mut first,
            Chunk {
                bytes: vec![],
                first_line: 0,
            },
        ));
    }
    let mut bytes_read = first.bytes.len() as u64;
    let mut done = false;
    while !done {
        opts.cancel.check()?;
        while pending.len() < BATCH_CHUNKS {
            match chunker.next_chunk(chunk_bytes).map_err(chunk_err)? {
                Some(c) => {
                    bytes_read += c.bytes.len() as u64;
                    pending.push(c);
                }
                None => {
                    done = true;
                    break;
                }
            }
        }
        if pending.is_empty() {
            break;
        }
        // Each raw chunk is dropped as soon as it is parsed, not after the whole batch.
        let parsed: Vec<ParsedChunk<T>> = pending
            .par_drain(..)
            .map(|c| parser.parse_chunk(&c, opts.delimiter))
            .collect();
        for p in &parsed {
            if let Some(e) = &p.fatal {
                return Err(e.clone().into());
            }
            report.merge(ReadReport {
                rows: p.rows,
                bad_rows: p.bad_rows,
                first_bad_rows: p.errors.clone(),
            });
        }
        fold(&parsed);
        progress(bytes_read);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::options::ColumnMap;

    /// Parses `(customer_id, amount-as-text)` rows of an orders-like file into a sorted list.
    fn read(data: &[u8], opts: &ReadOptions) -> Result<(Vec<(String, String)>, ReadReport)> {
        let mut rows = vec![];
        let report = read_sharded(
            Source::from_bytes("t.csv", data),
            InputKind::Orders,
            opts,
            |f| {
                let a = f.get(2).unwrap_or(b"");
                if a == b"bad" {
                    return Err(FieldError {
                        column: 2,
                        kind: "not a number",
                    });
                }
                Ok(Some(String::from_utf8_lossy(a).into_owned()))
            },
            |batch| {
                for c in batch {
                    for s in &c.shards {
                        for r in s {
                            rows.push((c.id(r).to_string(), r.value.clone()));
                        }
                    }
                }
            },
            &|_| {},
        )?;
        rows.sort();
        Ok((rows, report))
    }

    fn err_text(r: Result<(Vec<(String, String)>, ReadReport)>) -> String {
        match r {
            Err(e) => e.to_string(),
            Ok(_) => panic!("expected an error"),
        }
    }

    #[test]
    fn reads_bom_crlf_quotes_and_unicode() {
        let data = "\u{feff}customer_id,ordered_at,amount\r\n\"客户,1\",2020-01-01,\"1\n2\"\r\nb,2020-01-01,3\r\n";
        let (rows, rep) = read(data.as_bytes(), &ReadOptions::default()).unwrap();
        assert_eq!(rep.rows, 2);
        assert_eq!(rows[0], ("b".into(), "3".into()));
        assert_eq!(rows[1], ("客户,1".into(), "1\n2".into()));
    }

    #[test]
    fn errors_name_file_line_column_value() {
        let o = ReadOptions::default();
        let e = err_text(read(b"customer_id,ordered_at\na,b\n", &o));
        assert!(e.contains("t.csv:1") && e.contains("amount"), "{e}");
        let e = err_text(read(
            b"customer_id,ordered_at,amount\na,x,1\n\nb,x,bad\n",
            &o,
        ));
        assert_eq!(e, "t.csv:4: column 3 `amount`: not a number: `bad`");
        let e = err_text(read(b"customer_id,ordered_at,amount\n ,x,1\n", &o));
        assert!(
            e.starts_with("t.csv:2: column 1 `customer_id`: empty customer_id"),
            "{e}"
        );
        let e = err_text(read(b"customer_id,ordered_at,amount\na,x\n", &o));
        assert!(
            e.contains("t.csv:2") && e.contains("expected 3, found 2"),
            "{e}"
        );
        let e = err_text(read(b"customer_id,ordered_at,amount\na,\xff\xfe,1\n", &o));
        assert!(
            e.starts_with("t.csv:2: column 2 `ordered_at`: invalid UTF-8"),
            "{e}"
        );
        let e = err_text(read(b"", &o));
        assert!(e.contains("file is empty"), "{e}");
    }

    #[test]
    fn line_numbers_survive_chunking_and_multiline_fields() {
        let mut data = b"customer_id,ordered_at,amount\n".to_vec();
        for i in 0..200_000 {
            data.extend_from_slice(format!("c{i},\"x\ny\",1\n").as_bytes());
        }
        data.extend_from_slice(b"z,x,bad\n");
        let e = err_text(read(&data, &ReadOptions::default()));
        // header line 1, then 200,000 records of two lines each.
        assert!(e.starts_with("t.csv:400002:"), "{e}");
    }

    #[test]
    fn skip_policy_counts_and_reports() {
        let o = ReadOptions {
            on_bad_rows: BadRowPolicy::Skip,
            ..ReadOptions::default()
        };
        let mut data = b"customer_id,ordered_at,amount\n".to_vec();
        for i in 0..15 {
            data.extend_from_slice(format!("c{i},x,bad\nc{i},x,1\n").as_bytes());
        }
        let (rows, rep) = read(&data, &o).unwrap();
        assert_eq!(rows.len(), 15);
        assert_eq!(rep.bad_rows, 15);
        assert_eq!(rep.rows, 30);
        assert_eq!(rep.first_bad_rows.len(), 10);
        assert_eq!(rep.first_bad_rows[0].line, 2);
        assert_eq!(rep.first_bad_rows[9].line, 20);
    }

    #[test]
    fn mapping_whitespace_and_no_header() {
        let o = ReadOptions {
            columns: ColumnMap::parse("customer_id=uid,amount=gmv").unwrap(),
            ..ReadOptions::default()
        };
        let (rows, _) = read(b"gmv,ordered_at,uid\n5,x,a\n", &o).unwrap();
        assert_eq!(rows, vec![("a".into(), "5".into())]);
        let o = ReadOptions {
            delimiter: Delimiter::Whitespace,
            has_header: false,
            columns: ColumnMap::parse("customer_id=1,ordered_at=2,amount=4").unwrap(),
            ..ReadOptions::default()
        };
        let (rows, rep) = read(
            b"  00001   19970101  1  11.77\n\n00002 19970112 5 77.00\n",
            &o,
        )
        .unwrap();
        assert_eq!(rep.rows, 2);
        assert_eq!(rows[0], ("00001".into(), "11.77".into()));
        assert_eq!(rows[1], ("00002".into(), "77.00".into()));
    }

    /// The invariant of issue 12 over generated CSV mutants (unclosed and stray quotes, CR /
    /// LF / CRLF mixes, BOMs, NULs, long fields, wrong field counts, blank lines), split into
    /// chunks of every size: a read either fails with the located quoting error an independent
    /// strict reader reports (same line), or every record is accounted for — rows read + rows
    /// reported as bad == the records the strict reader and the csv crate find in the same
    /// bytes. Never exit 0 with fewer rows.
    mod mutants {
        use super::*;
        use proptest::prelude::*;

        const HEADER: &[u8] = b"customer_id,ordered_at,amount\n";

        fn piece() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                4 => "[a-c0-9]{0,4}".prop_map(String::into_bytes),
                1 => Just(b"\"".to_vec()),
                1 => Just(b"\"\"".to_vec()),
                1 => Just(b",".to_vec()),
                1 => Just(b"\n".to_vec()),
                1 => Just(b"\r".to_vec()),
                1 => Just(b"\r\n".to_vec()),
                1 => Just(b"\xEF\xBB\xBF".to_vec()),
                1 => Just(b"\0".to_vec()),
                1 => Just(b"\xff".to_vec()),
                1 => Just(b"bad".to_vec()),
                1 => Just(b" ".to_vec()),
                1 => (1usize..300).prop_map(|n| vec![b'x'; n]),
                2 => Just(b"c1,2025-01-01,5\n".to_vec()),
                1 => Just(b"c2,\"multi\nline\",7\r\n".to_vec()),
            ]
        }

        fn body() -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec(piece(), 0..40).prop_map(|p| p.concat())
        }

        /// Records of `bytes` (after a leading BOM) by the csv crate, header excluded.
        fn reference_records(bytes: &[u8]) -> u64 {
            let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
            let mut r = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_reader(bytes);
            let mut rec = csv::ByteRecord::new();
            let mut n = 0;
            while r.read_byte_record(&mut rec).unwrap_or(false) {
                n += 1;
            }
            n
        }

        /// An independent strict RFC 4180 reader (a byte-at-a-time state machine): the number
        /// of records after the header, or the line of the quote that opens a broken quoted
        /// field (unclosed, text after its closing quote, or longer than `max` bytes).
        fn strict_reference(bytes: &[u8], max: usize) -> std::result::Result<u64, u64> {
            #[derive(PartialEq)]
            enum S {
                Start,
                Unquoted,
                Quoted,
                QuoteInQuoted,
            }
            let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
            let (mut s, mut started, mut records) = (S::Start, false, 0u64);
            let (mut line, mut open, mut open_line) = (1u64, 0usize, 0u64);
            for (i, &b) in bytes.iter().enumerate() {
                let eol = b == b'\n' || b == b'\r';
                let next_line = if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    1
                } else {
                    0
                };
                match s {
                    S::Start | S::Unquoted if eol => {
                        records += u64::from(started);
                        started = false;
                        s = S::Start;
                    }
                    S::Start | S::Unquoted if b == b',' => {
                        started = true;
                        s = S::Start;
                    }
                    S::Start if b == b'"' => {
                        started = true;
                        (open, open_line) = (i, line);
                        s = S::Quoted;
                    }
                    S::Start | S::Unquoted => {
                        started = true;
                        s = S::Unquoted;
                    }
                    S::Quoted if b == b'"' => {
                        s = S::QuoteInQuoted;
                    }
                    S::Quoted => {}
                    S::QuoteInQuoted if b == b'"' => s = S::Quoted,
                    S::QuoteInQuoted if eol || b == b',' => {
                        if i - 1 - open > max {
                            return Err(open_line);
                        }
                        if eol {
                            records += 1;
                            started = false;
                        }
                        s = S::Start;
                    }
                    S::QuoteInQuoted => return Err(open_line),
                }
                if s == S::Quoted && i - open > max {
                    return Err(open_line);
                }
                line += next_line;
            }
            match s {
                S::Quoted => Err(open_line),
                S::QuoteInQuoted if bytes.len() - 1 - open > max => Err(open_line),
                _ => Ok((records + u64::from(started)).saturating_sub(1)),
            }
        }

        fn ours(bytes: &[u8], chunk: usize) -> Result<(u64, ReadReport)> {
            let opts = ReadOptions {
                on_bad_rows: BadRowPolicy::Skip,
                max_field_bytes: 200,
                ..ReadOptions::default()
            };
            let mut good = 0u64;
            let report = read_sharded_in_chunks(
                Source::from_bytes("m.csv", bytes),
                InputKind::Orders,
                &opts,
                |f| match f.get(2) {
                    Some(b"bad") => Err(FieldError {
                        column: 2,
                        kind: "not a number",
                    }),
                    _ => Ok(Some(())),
                },
                |batch| {
                    good += batch
                        .iter()
                        .flat_map(|c| &c.shards)
                        .map(|s| s.len() as u64)
                        .sum::<u64>()
                },
                &|_| {},
                chunk,
            )?;
            Ok((good, report))
        }

        proptest! {
            #![proptest_config(ProptestConfig {
                cases: std::env::var("LTV_MUTANT_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
                .. ProptestConfig::default()
            })]
            #[test]
            fn every_row_is_read_or_reported(
                bom in any::<bool>(),
                body in body(),
                chunk in 1usize..64,
            ) {
                let mut bytes = if bom { BOM.to_vec() } else { vec![] };
                bytes.extend_from_slice(HEADER);
                bytes.extend_from_slice(&body);
                let lines = 1 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let strict = strict_reference(&bytes, 200);
                match ours(&bytes, chunk) {
                    Ok((good, report)) => {
                        prop_assert_eq!(good + report.bad_rows, report.rows);
                        prop_assert_eq!(Ok(report.rows), strict, "{:?}", text);
                        prop_assert_eq!(report.rows, reference_records(&bytes), "{:?}", text);
                        for e in &report.first_bad_rows {
                            prop_assert!(e.line >= 2 && e.line <= lines, "{e}");
                        }
                        // Any chunk size gives the same counts.
                        let (good_big, report_big) = ours(&bytes, 1 << 20).unwrap();
                        prop_assert_eq!((good_big, report_big.rows), (good, report.rows));
                    }
                    Err(Error::Input(e)) => {
                        // Only broken quoting stops a skip-policy read, and it names a line
                        // of the file.
                        prop_assert!(
                            e.kind.starts_with("unclosed quote")
                                || e.kind.starts_with("text after the closing quote")
                                || e.kind.starts_with("quoted field longer"),
                            "{e}"
                        );
                        prop_assert!(body.contains(&b'"'), "{e}");
                        prop_assert!(e.line >= 2 && e.line <= lines, "{e}");
                        prop_assert_eq!(Err(e.line), strict, "{} {:?}", e, text);
                    }
                    Err(e) => prop_assert!(false, "{e}"),
                }
            }
        }
    }
}
