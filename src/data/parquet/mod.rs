//! Parquet files: telling them from CSV, the parts of a directory (`part-*.parquet` as Spark
//! and DuckDB write them), the UTC offset their timestamps carry, parallel decoding of row
//! groups for [`crate::data::arrow`], and typed, deterministic Parquet output ([`write`]).
pub mod write;

use crate::data::arrow::{parse_batch, resolve, UNIT_ROWS};
use crate::data::options::{InputKind, ReadOptions};
use crate::data::reader::{ParsedChunk, ReadReport, RowParse};
use crate::data::{InputError, Place};
use crate::{Error, Result};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Parquet's magic bytes, at the start and the end of every file.
const MAGIC: &[u8; 4] = b"PAR1";

/// Whether `path` is Parquet: a directory (of parts), a name ending in `.parquet` or `.parq`,
/// or a regular file starting with Parquet's `PAR1` magic.
pub fn looks_like_parquet(path: &Path) -> bool {
    if path.is_dir() {
        return true;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext.eq_ignore_ascii_case("parquet") || ext.eq_ignore_ascii_case("parq") {
        return true;
    }
    let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if !regular {
        return false;
    }
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == MAGIC
}

/// The Parquet files of an input: `path` itself, or for a directory its regular files whose
/// names end in `.parquet` (or `.parq`), sorted by name; names starting with `_` or `.`
/// (`_SUCCESS`, `.crc` files) are skipped. Subdirectories (Hive partitions) are not read: their
/// partition values live in the directory names, not in the files.
pub fn part_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        // Opened now so a missing file is the usual I/O error, before any work starts.
        std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = vec![];
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let p = entry.path();
        if name.starts_with('_') || name.starts_with('.') || !p.is_file() {
            continue;
        }
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext.eq_ignore_ascii_case("parquet") || ext.eq_ignore_ascii_case("parq") {
            files.push(p);
        }
    }
    if files.is_empty() {
        return Err(InputError::file(
            path,
            "",
            "no Parquet files (`*.parquet`) in this directory",
            "",
        )
        .into());
    }
    files.sort();
    Ok(files)
}

fn corrupt(path: &Path, e: impl std::fmt::Display) -> Error {
    InputError::file(
        path,
        "",
        "not a readable Parquet file (truncated or corrupt?)",
        e.to_string(),
    )
    .into()
}

fn metadata(path: &Path) -> Result<(std::fs::File, ArrowReaderMetadata)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| corrupt(path, e))?;
    Ok((file, meta))
}

/// The UTC offset, in seconds, of a fixed time zone name (`+08:00`, `+0800`, `-05`, `UTC`,
/// `Z`, `Etc/UTC`, `GMT`, and the POSIX-style `Etc/GMT-8` = UTC+8 that polars writes for
/// `+08:00`); `None` for a named zone such as `Asia/Shanghai`.
pub fn fixed_offset_of(tz: &str) -> Option<i32> {
    let t = tz.trim();
    if let Some(rest) = t.strip_prefix("Etc/GMT") {
        // POSIX sign: `Etc/GMT-8` is 8 hours east of UTC.
        let hours: i32 = match rest.as_bytes().first() {
            Some(b'+' | b'-') => rest.parse().ok()?,
            None => 0,
            Some(_) => return None,
        };
        return (-14..=14).contains(&hours).then_some(-hours * 3600);
    }
    if matches!(
        t.to_ascii_uppercase().as_str(),
        "UTC" | "Z" | "ETC/UTC" | "GMT" | "UCT" | "ZULU"
    ) {
        return Some(0);
    }
    crate::data::time::parse_utc_offset(t)
}

/// The UTC offset the first Parquet file of `path` carries: the fixed zone of its first
/// time-zoned timestamp column, else that of the first text timestamp in a `*_at` column.
pub fn sniff_utc_offset(path: &Path) -> Result<Option<i32>> {
    let Some(first) = part_files(path)?.into_iter().next() else {
        return Ok(None);
    };
    let (file, meta) = metadata(&first)?;
    let schema = meta.schema().clone();
    if schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Timestamp(_, Some(_))))
    {
        return Ok(crate::data::arrow::sniff_utc_offset(&schema));
    }
    let Some(i) = crate::data::arrow::text_timestamp_column(&schema) else {
        return Ok(None);
    };
    if meta.metadata().num_row_groups() == 0 {
        return Ok(None);
    }
    let mask = ProjectionMask::roots(meta.parquet_schema(), [i]);
    let mut reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta)
        .with_projection(mask)
        .with_batch_size(64)
        .build()
        .map_err(|e| corrupt(&first, e))?;
    let Some(batch) = reader.next().transpose().map_err(|e| corrupt(&first, e))? else {
        return Ok(None);
    };
    Ok(crate::data::arrow::sniff_text_utc_offset(
        batch.column(0).as_ref(),
    ))
}

/// Reads `files` in order; in each, `rayon::current_num_threads()` row groups at a time are
/// decoded and parsed in parallel (only the contract's columns), then folded in file order.
pub(crate) fn read_files<T, P, F>(
    files: &[PathBuf],
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
    let mut bytes_done = 0u64;
    for path in files {
        let (_, meta) = metadata(path)?;
        let resolved = resolve(path, meta.schema(), kind, opts)?;
        let mask = ProjectionMask::roots(meta.parquet_schema(), resolved.projection());
        let groups = meta.metadata().row_groups();
        let mut starts = Vec::with_capacity(groups.len());
        let mut total = 0u64;
        for g in groups {
            starts.push(total);
            total += u64::try_from(g.num_rows()).unwrap_or(0);
        }
        let at_once = rayon::current_num_threads().max(1);
        let indices: Vec<usize> = (0..groups.len()).collect();
        for wave in indices.chunks(at_once) {
            let parsed: Vec<Vec<ParsedChunk<T>>> = wave
                .par_iter()
                .map(|&g| -> Result<Vec<ParsedChunk<T>>> {
                    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                    let reader =
                        ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
                            .with_row_groups(vec![g])
                            .with_projection(mask.clone())
                            .with_batch_size(UNIT_ROWS)
                            .build()
                            .map_err(|e| corrupt(path, e))?;
                    let mut out = vec![];
                    let mut in_group = 0u64;
                    for batch in reader {
                        opts.cancel.check()?;
                        let batch = batch.map_err(|e| {
                            InputError::file(
                                path,
                                "",
                                format!(
                                    "row group {g} could not be decoded (truncated or corrupt?)"
                                ),
                                e.to_string(),
                            )
                        })?;
                        let first = in_group;
                        let place = |i: u64| {
                            (
                                starts[g] + first + i,
                                Place::RowGroup {
                                    group: u32::try_from(g).unwrap_or(u32::MAX),
                                    row: u32::try_from(first + i).unwrap_or(u32::MAX),
                                },
                            )
                        };
                        out.push(parse_batch(
                            path,
                            &batch,
                            Some(&resolved),
                            kind,
                            opts,
                            parse,
                            &place,
                        )?);
                        in_group += batch.num_rows() as u64;
                    }
                    Ok(out)
                })
                .collect::<Result<_>>()?;
            let parsed: Vec<ParsedChunk<T>> = parsed.into_iter().flatten().collect();
            crate::data::arrow::merge_parsed(&mut report, &parsed)?;
            fold(&parsed);
            bytes_done += wave
                .iter()
                .map(|&g| u64::try_from(groups[g].compressed_size()).unwrap_or(0))
                .sum::<u64>();
            progress(bytes_done);
        }
    }
    Ok(report)
}

/// The table in the Parquet file (or directory of parts) at `path` as CSV text with a header,
/// produced a batch at a time: the door through which the readers of `ltv`'s own tables
/// (scores, tiers, actuals, labelled corpora, comments to score) read Parquet. Values are
/// written as Arrow displays them (timestamps as RFC 3339, decimals exactly, nulls empty).
pub fn csv_text(path: &Path) -> Result<Box<dyn std::io::Read + Send>> {
    let files = part_files(path)?;
    let mut readers = Vec::with_capacity(files.len());
    let mut header: Option<Vec<String>> = None;
    for f in &files {
        let (file, meta) = metadata(f)?;
        let names: Vec<String> = meta
            .schema()
            .fields()
            .iter()
            .map(|x| x.name().clone())
            .collect();
        match &header {
            None => header = Some(names),
            Some(h) if *h != names => {
                return Err(InputError::file(
                    f,
                    "",
                    "its columns differ from the first part's",
                    names.join(","),
                )
                .into())
            }
            Some(_) => {}
        }
        let r = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta)
            .with_batch_size(8192)
            .build()
            .map_err(|e| corrupt(f, e))?;
        readers.push((f.clone(), r));
    }
    let mut buf = Vec::new();
    for (i, n) in header.unwrap_or_default().iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        crate::features::table::push_csv_text(&mut buf, n);
    }
    buf.push(b'\n');
    Ok(Box::new(CsvText {
        readers: readers.into_iter(),
        current: None,
        buf,
        at: 0,
    }))
}

/// Appends the rows of `batch` to `out` as CSV text (with a header line first when
/// `header`), each value as Arrow displays it (see [`csv_text`]).
pub fn write_csv_text(
    batch: &arrow_array::RecordBatch,
    header: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    use std::fmt::Write;
    if header {
        for (i, f) in batch.schema().fields().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            crate::features::table::push_csv_text(out, f.name());
        }
        out.push(b'\n');
    }
    let opts = arrow_cast::display::FormatOptions::default();
    let formatters = batch
        .columns()
        .iter()
        .map(|c| arrow_cast::display::ArrayFormatter::try_new(c.as_ref(), &opts))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Fit(format!("formatting a record batch: {e}")))?;
    let mut cell = String::new();
    for row in 0..batch.num_rows() {
        for (i, f) in formatters.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            cell.clear();
            write!(cell, "{}", f.value(row))
                .map_err(|e| Error::Fit(format!("formatting a record batch: {e}")))?;
            crate::features::table::push_csv_text(out, &cell);
        }
        out.push(b'\n');
    }
    Ok(())
}

struct CsvText {
    readers: std::vec::IntoIter<(
        PathBuf,
        parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    )>,
    current: Option<(
        PathBuf,
        parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    )>,
    buf: Vec<u8>,
    at: usize,
}

impl CsvText {
    /// Refills `buf` with the next batch's rows; `false` at the end.
    fn refill(&mut self) -> std::io::Result<bool> {
        loop {
            if self.current.is_none() {
                match self.readers.next() {
                    Some(r) => self.current = Some(r),
                    None => return Ok(false),
                }
            }
            let Some((path, reader)) = self.current.as_mut() else {
                return Ok(false);
            };
            let batch = match reader.next() {
                None => {
                    self.current = None;
                    continue;
                }
                Some(b) => b.map_err(|e| std::io::Error::other(corrupt(path, e).to_string()))?,
            };
            self.buf.clear();
            self.at = 0;
            write_csv_text(&batch, false, &mut self.buf)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
            return Ok(true);
        }
    }
}

impl std::io::Read for CsvText {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.buf.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::fixed_offset_of;

    #[test]
    fn fixed_zone_names() {
        assert_eq!(fixed_offset_of("+08:00"), Some(28_800));
        assert_eq!(fixed_offset_of("-0530"), Some(-19_800));
        assert_eq!(fixed_offset_of("UTC"), Some(0));
        assert_eq!(fixed_offset_of("Etc/GMT-8"), Some(28_800));
        assert_eq!(fixed_offset_of("Etc/GMT+5"), Some(-18_000));
        assert_eq!(fixed_offset_of("Etc/GMT"), Some(0));
        assert_eq!(fixed_offset_of("Asia/Shanghai"), None);
        assert_eq!(fixed_offset_of("Etc/GMTx"), None);
    }
}
