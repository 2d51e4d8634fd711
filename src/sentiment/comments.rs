//! Scoring a `comments.csv` file (`customer_id, created_at, text[, rating]`, header, any column
//! order; or the same as Parquet) into `customer_id, created_at, lang, score, label`, one row per
//! input row, in input order, written atomically (CSV, or Parquet for a `.parquet` output).
//!
//! Streams in chunks of [`CHUNK_ROWS`] rows (memory ≈ one chunk), each chunk scored in parallel.
//! Fields with invalid UTF-8 are decoded lossily (each bad byte sequence becomes U+FFFD) and the
//! row is scored as usual; such rows are counted in [`CommentsReport::invalid_utf8_rows`]. A
//! text with nothing readable (empty, emoji only) gets lang `unknown`, score 0, label neutral.
use super::corpus::csv_error;
use super::SentimentScorer;
use crate::data::InputError;
use crate::{Error, Result};
use std::borrow::Cow;
use std::path::Path;

/// Rows scored per parallel chunk.
pub const CHUNK_ROWS: usize = 16_384;

/// What happened while scoring a comments file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommentsReport {
    /// Rows read and written.
    pub rows: u64,
    /// Rows with at least one field that was not valid UTF-8 (decoded lossily).
    pub invalid_utf8_rows: u64,
    /// Rows whose text had nothing to score (lang `unknown`).
    pub unknown_lang_rows: u64,
}

/// Scores `input` (a comments CSV; `-` is standard input, `.gz`/`.zst` are decompressed) into
/// `output` with `scorer`; `None` or `-` writes standard output.
pub fn score_comments_csv(
    input: &Path,
    output: Option<&Path>,
    scorer: &SentimentScorer,
) -> Result<CommentsReport> {
    let (input, mut rdr) = crate::data::chunks::checked_csv_reader(input)?;
    let input = input.as_path();
    let headers = rdr.byte_headers().map_err(|e| csv_error(input, e))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name.as_bytes())
            .ok_or_else(|| {
                Error::Input(InputError {
                    place: crate::data::Place::Line,
                    column_index: None,
                    path: input.to_path_buf(),
                    line: 1,
                    column: name.to_string(),
                    value: String::from_utf8_lossy(headers.as_slice())
                        .chars()
                        .take(80)
                        .collect(),
                    kind: "missing column in header".into(),
                })
            })
    };
    let (ci, ti, xi) = (col("customer_id")?, col("created_at")?, col("text")?);
    let mut report = CommentsReport::default();
    let out_name = output.unwrap_or(Path::new("<stdout>"));
    let format = crate::data::parquet::write::OutputFormat::of_path(output);
    let mut body = |w: &mut dyn std::io::Write| -> Result<()> {
        let output = out_name;
        let mut wtr = ScoresOut::new(format, w, output)?;
        let mut chunk: Vec<csv::ByteRecord> = Vec::with_capacity(CHUNK_ROWS);
        let mut rec = csv::ByteRecord::new();
        let mut done = false;
        while !done {
            chunk.clear();
            while chunk.len() < CHUNK_ROWS {
                if !rdr
                    .read_byte_record(&mut rec)
                    .map_err(|e| csv_error(input, e))?
                {
                    done = true;
                    break;
                }
                let line = rec.position().map_or(0, |p| p.line());
                if is_blank(rec.get(ci)) {
                    return Err(Error::Input(InputError {
                        place: crate::data::Place::Line,
                        column_index: None,
                        path: input.to_path_buf(),
                        line,
                        column: "customer_id".into(),
                        value: "".into(),
                        kind: "empty required value".into(),
                    }));
                }
                chunk.push(rec.clone());
            }
            let texts: Vec<Cow<'_, str>> = chunk
                .iter()
                .map(|r| String::from_utf8_lossy(r.get(xi).unwrap_or(b"")))
                .collect();
            let scores = scorer.score_batch(&texts);
            for (r, s) in chunk.iter().zip(&scores) {
                let id = String::from_utf8_lossy(r.get(ci).unwrap_or(b""));
                let at = String::from_utf8_lossy(r.get(ti).unwrap_or(b""));
                if std::str::from_utf8(r.as_slice()).is_err() {
                    report.invalid_utf8_rows += 1;
                }
                if s.lang == super::Lang::Unknown {
                    report.unknown_lang_rows += 1;
                }
                wtr.push(&id, &at, s.lang.as_str(), s.score, s.label.as_str())?;
                report.rows += 1;
            }
        }
        wtr.finish()
    };
    match output {
        Some(p) if p.as_os_str() != "-" => crate::io_util::write_atomic(p, body)?,
        _ => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            body(&mut w)?;
            std::io::Write::flush(&mut w).map_err(|e| Error::io(out_name, e))?;
        }
    }
    Ok(report)
}

/// The scored comments' output: CSV (score with six decimals) or Parquet (customer_id and
/// created_at as given, lang and label dictionary strings, score float64).
enum ScoresOut<'w> {
    Csv(csv::Writer<&'w mut dyn std::io::Write>, &'w Path),
    Parquet(crate::data::parquet::write::TableWriter<'w>),
}

impl<'w> ScoresOut<'w> {
    fn new(
        format: crate::data::parquet::write::OutputFormat,
        w: &'w mut dyn std::io::Write,
        name: &'w Path,
    ) -> Result<ScoresOut<'w>> {
        use crate::data::parquet::write::{ColumnType as T, OutputFormat, TableWriter};
        Ok(match format {
            OutputFormat::Csv => {
                let mut wtr = csv::Writer::from_writer(w);
                wtr.write_record(["customer_id", "created_at", "lang", "score", "label"])
                    .map_err(|e| csv_write_error(name, e))?;
                ScoresOut::Csv(wtr, name)
            }
            OutputFormat::Parquet => ScoresOut::Parquet(TableWriter::new(
                w,
                name,
                &[
                    ("customer_id", T::Text),
                    ("created_at", T::Text),
                    ("lang", T::Category),
                    ("score", T::Float),
                    ("label", T::Category),
                ],
            )?),
        })
    }

    fn push(&mut self, id: &str, at: &str, lang: &str, score: f64, label: &str) -> Result<()> {
        use crate::data::parquet::write::Value;
        match self {
            ScoresOut::Csv(w, name) => {
                let score = format!("{score:.6}");
                w.write_record([id, at, lang, score.as_str(), label])
                    .map_err(|e| csv_write_error(name, e))
            }
            ScoresOut::Parquet(t) => crate::data::parquet::write::RowSink::push_row(
                t,
                &[
                    Value::Text(id),
                    Value::Text(at),
                    Value::Text(lang),
                    Value::Float(score),
                    Value::Text(label),
                ],
            ),
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            ScoresOut::Csv(mut w, name) => w.flush().map_err(|e| Error::io(name, e)),
            ScoresOut::Parquet(t) => t.finish(),
        }
    }
}

fn csv_write_error(name: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(name, io),
        k => Error::Fit(format!("csv writer: {k:?}")),
    }
}

/// Whether a field is missing or blank.
fn is_blank(f: Option<&[u8]>) -> bool {
    f.is_none_or(|b| b.iter().all(|c| c.is_ascii_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> Result<(String, CommentsReport)> {
        let dir = tempfile::tempdir().unwrap();
        let i = dir.path().join("comments.csv");
        let o = dir.path().join("out.csv");
        std::fs::write(&i, input).unwrap();
        let r = score_comments_csv(&i, Some(&o), SentimentScorer::shared())?;
        Ok((std::fs::read_to_string(&o).unwrap(), r))
    }

    #[test]
    fn scores_rows_in_order_with_any_column_order() {
        let (out, r) = run("text,rating,created_at,customer_id\n\
             质量很好，下次还买,5,2025-01-01,c1\n\
             \"Awful, stale and broken.\",1,2025-01-02,c2\n\
             ,3,2025-01-03,c3\n"
            .as_bytes())
        .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "customer_id,created_at,lang,score,label");
        assert!(lines[1].starts_with("c1,2025-01-01,zh,") && lines[1].ends_with(",positive"));
        assert!(lines[2].starts_with("c2,2025-01-02,en,") && lines[2].ends_with(",negative"));
        assert_eq!(lines[3], "c3,2025-01-03,unknown,0.000000,neutral");
        assert_eq!(r.rows, 3);
        assert_eq!(r.unknown_lang_rows, 1);
        assert_eq!(r.invalid_utf8_rows, 0);
    }

    #[test]
    fn byte_order_mark_in_header_is_ignored() {
        let (out, r) =
            run(b"\xEF\xBB\xBFcustomer_id,created_at,text\nc1,2025-01-01,good\n").unwrap();
        assert_eq!(r.rows, 1);
        assert!(out.lines().nth(1).unwrap().starts_with("c1,2025-01-01,en,"));
    }

    #[test]
    fn invalid_utf8_is_scored_lossily_and_counted() {
        let (out, r) = run(b"customer_id,created_at,text\nc\xff1,2025-01-01,\xfe\xff\nc2,2025-01-02,good \xff stuff\n").unwrap();
        assert_eq!(r.invalid_utf8_rows, 2);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "c\u{FFFD}1,2025-01-01,unknown,0.000000,neutral");
        assert!(lines[2].starts_with("c2,2025-01-02,en,"));
    }

    #[test]
    fn missing_column_and_empty_id_are_located_errors() {
        let e = run(b"customer_id,text\nc1,hi\n").unwrap_err();
        assert!(e.to_string().contains("created_at"), "{e}");
        let e =
            run(b"customer_id,created_at,text\nc1,2025-01-01,hi\n,2025-01-01,hi\n").unwrap_err();
        assert!(e.to_string().contains(":3:"), "{e}");
        let e = run(b"customer_id,created_at,text\nc1,2025-01-01\n").unwrap_err();
        assert!(e.to_string().contains(":2"), "{e}");
    }
}
