//! Splits a byte stream into chunks that end on record boundaries, so chunks can be parsed in
//! parallel, and checks the quoting on the way.
//!
//! Quoting follows RFC 4180 as the csv crate reads it: a `"` opens a quoted field only at the
//! start of a field (after a delimiter, a line end or the start of the file); elsewhere it is a
//! literal character. Inside a quoted field `""` is one quote, line ends are part of the value,
//! and the closing quote must be followed by a delimiter, a line end or the end of the input.
//! An unclosed quote at the end of the input, text after a closing quote, and a quoted field
//! longer than [`Chunker::with_max_quoted_bytes`] are [`ChunkError::Malformed`], naming the
//! line where the quote opened — never a silently swallowed rest of the file.
//!
//! Line ends: LF, CRLF and a bare CR (old Mac / Excel exports) all end a line. A bare CR is
//! rewritten to LF as bytes arrive (also inside quoted fields), so line numbers count every kind
//! of line end. A UTF-8 byte-order mark at the very start of the stream is dropped.
//!
//! Chunk sizes do not depend on the number of threads.
use std::io::Read;

/// The default limit on one quoted field: 1 MiB.
pub const DEFAULT_MAX_QUOTED_BYTES: usize = 1 << 20;

/// A run of whole records and the physical line its first record starts on.
#[derive(Debug)]
pub struct Chunk {
    /// The bytes, ending just after a record's newline (or at end of input).
    pub bytes: Vec<u8>,
    /// 1-based line number of the first byte.
    pub first_line: u64,
}

/// Why the stream could not be cut into records.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The quoting is broken, so where records start is unknown.
    #[error("line {line}: {kind}")]
    Malformed {
        /// 1-based line where the offending quoted field opened.
        line: u64,
        /// What is wrong.
        kind: String,
        /// The start of the offending field.
        excerpt: Vec<u8>,
    },
}

impl ChunkError {
    /// A quoting error as the [`InputError`](crate::data::InputError) of `path`; an I/O error
    /// stays one.
    pub fn located(
        self,
        path: &std::path::Path,
    ) -> std::result::Result<crate::data::InputError, std::io::Error> {
        match self {
            ChunkError::Io(e) => Err(e),
            ChunkError::Malformed {
                line,
                kind,
                excerpt,
            } => Ok(crate::data::InputError::new(
                path, line, None, "", kind, excerpt,
            )),
        }
    }
}

/// Reads whole-record chunks from a stream.
pub struct Chunker<R> {
    reader: R,
    buf: Vec<u8>,
    /// Bytes of `buf` whose bare CRs have been rewritten.
    normalized: usize,
    next_line: u64,
    eof: bool,
    /// The field delimiter when `"` quotes fields; `None` for unquoted (whitespace) input.
    quoting: Option<u8>,
    max_quoted: usize,
    started: bool,
}

impl<R: Read> Chunker<R> {
    /// A chunker over `reader`; `quoting` is the delimiter when `"` quotes fields (`None`: no
    /// quoting, records end at line ends).
    pub fn new(reader: R, quoting: Option<u8>) -> Self {
        Chunker {
            reader,
            buf: Vec::new(),
            normalized: 0,
            next_line: 1,
            eof: false,
            quoting,
            max_quoted: DEFAULT_MAX_QUOTED_BYTES,
            started: false,
        }
    }

    /// Sets the longest quoted field accepted, in bytes (default 1 MiB).
    pub fn with_max_quoted_bytes(mut self, max: usize) -> Self {
        self.max_quoted = max.max(1);
        self
    }

    fn fill_to(&mut self, len: usize) -> std::io::Result<()> {
        while self.buf.len() < len && !self.eof {
            let old = self.buf.len();
            let want = (len - old).max(64 * 1024);
            self.buf.resize(old + want, 0);
            let n = loop {
                match self.reader.read(&mut self.buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
        if !self.started && (self.buf.len() >= 3 || self.eof) {
            self.started = true;
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
        }
        self.normalize_line_ends();
        Ok(())
    }

    /// Rewrites bare CRs to LF in the bytes not yet looked at. A CR that is the last byte
    /// before more input arrives waits until the next byte is known.
    fn normalize_line_ends(&mut self) {
        let b = &mut self.buf;
        let end = if self.eof {
            b.len()
        } else {
            b.len().saturating_sub(1)
        };
        let mut from = self.normalized;
        while let Some(i) = memchr::memchr(b'\r', &b[from..end]) {
            let i = from + i;
            if b.get(i + 1) != Some(&b'\n') {
                b[i] = b'\n';
            }
            from = i + 1;
        }
        self.normalized = end.max(self.normalized);
    }

    fn line_of(&self, pos: usize) -> u64 {
        self.next_line + memchr::memchr_iter(b'\n', &self.buf[..pos]).count() as u64
    }

    fn malformed(&self, open: usize, kind: String) -> ChunkError {
        let end = (open + 60).min(self.buf.len());
        ChunkError::Malformed {
            line: self.line_of(open),
            kind,
            excerpt: self.buf[open..end].to_vec(),
        }
    }

    fn too_long(&self, open: usize) -> ChunkError {
        self.malformed(
            open,
            format!(
                "quoted field longer than {} bytes (an unclosed quote?); raise the limit with \
                 --max-field-bytes",
                self.max_quoted
            ),
        )
    }

    /// Finds the end of the last (or, with `first_only`, the first) complete record in the
    /// normalized part of `buf` (`None`: no complete record yet), checking the quoting on the
    /// way.
    fn boundary(&self, first_only: bool) -> Result<Option<usize>, ChunkError> {
        let b = &self.buf[..self.normalized];
        let Some(delim) = self.quoting else {
            let cut = if first_only {
                memchr::memchr(b'\n', b)
            } else {
                memchr::memrchr(b'\n', b)
            };
            return Ok(cut.map(|i| i + 1));
        };
        let at_end = self.eof && self.normalized == self.buf.len();
        let mut last = None;
        let mut open: Option<usize> = None;
        let mut skip_quote = false;
        for i in memchr::memchr2_iter(b'"', b'\n', b) {
            if b[i] == b'\n' {
                if open.is_none() {
                    last = Some(i + 1);
                    if first_only {
                        break;
                    }
                }
                continue;
            }
            if skip_quote {
                skip_quote = false;
                continue;
            }
            match open {
                None => {
                    let at_field_start =
                        i == 0 || matches!(b[i - 1], b'\n' | b'\r') || b[i - 1] == delim;
                    if at_field_start {
                        open = Some(i);
                    }
                }
                Some(o) => match b.get(i + 1) {
                    Some(b'"') => skip_quote = true,
                    Some(&c) if c == delim || c == b'\n' || c == b'\r' => {
                        if i - o > self.max_quoted {
                            return Err(self.too_long(o));
                        }
                        open = None;
                    }
                    None if at_end => {
                        if i - o > self.max_quoted {
                            return Err(self.too_long(o));
                        }
                        open = None;
                    }
                    None => break,
                    Some(_) => {
                        return Err(self.malformed(
                            o,
                            "text after the closing quote of a quoted field (a quote inside a \
                             quoted field is written \"\")"
                                .into(),
                        ))
                    }
                },
            }
        }
        if let Some(o) = open {
            if at_end {
                return Err(self.malformed(
                    o,
                    "unclosed quote: the quoted field that opens here never ends".into(),
                ));
            }
            if b.len() - o > self.max_quoted {
                return Err(self.too_long(o));
            }
        }
        Ok(last)
    }

    /// The next chunk of about `target` bytes (at least one whole record), or `None` at the end.
    pub fn next_chunk(&mut self, target: usize) -> Result<Option<Chunk>, ChunkError> {
        self.take(target, false)
    }

    /// The next single record (used for the header).
    pub fn next_record(&mut self) -> Result<Option<Chunk>, ChunkError> {
        self.take(64 * 1024, true)
    }

    fn take(&mut self, target: usize, first_only: bool) -> Result<Option<Chunk>, ChunkError> {
        let mut want = target.max(1);
        loop {
            self.fill_to(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            let cut = match self.boundary(first_only)? {
                Some(c) => Some(c),
                None if self.eof => Some(self.buf.len()),
                None => None,
            };
            if let Some(cut) = cut {
                let rest = self.buf.split_off(cut);
                let bytes = std::mem::replace(&mut self.buf, rest);
                self.normalized = self.normalized.saturating_sub(cut);
                let first_line = self.next_line;
                self.next_line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
                return Ok(Some(Chunk { bytes, first_line }));
            }
            want = self.buf.len() * 2;
        }
    }
}

/// A csv crate reader over checked input bytes (see [`checked_csv_reader`]).
pub type CheckedCsvReader = csv::Reader<CheckedReader<Box<dyn Read + Send>>>;

/// A csv crate reader over the file at `path` (`-` = stdin, `.gz`/`.zst` decompressed; a
/// Parquet file or directory is read as CSV text, [`crate::data::parquet::csv_text`]) whose
/// bytes went through a [`CheckedReader`]: line ends normalized, quoting checked. Returns the
/// name messages should use (`<stdin>` for `-`) with it.
pub fn checked_csv_reader(
    path: &std::path::Path,
) -> crate::Result<(std::path::PathBuf, CheckedCsvReader)> {
    if path.as_os_str() != "-" && crate::data::parquet::looks_like_parquet(path) {
        let text = crate::data::parquet::csv_text(path)?;
        let checked = CheckedReader::new(text, b',', path);
        return Ok((
            path.to_path_buf(),
            csv::ReaderBuilder::new().from_reader(checked),
        ));
    }
    let source = crate::data::Source::open_as(path, crate::data::InputFormat::Csv)?;
    let crate::data::reader::SourceData::Csv(reader) = source.data else {
        return Err(crate::Error::io(
            path,
            std::io::Error::other("not a CSV input"),
        ));
    };
    let checked = CheckedReader::new(reader, b',', &source.path);
    Ok((source.path, csv::ReaderBuilder::new().from_reader(checked)))
}

/// A [`Read`] over a [`Chunker`]: the stream's bytes with bare CRs rewritten to LF and the
/// quoting checked, for readers that hand the bytes to the csv crate themselves (sentiment
/// comments and corpora). A quoting error becomes an `InvalidData` I/O error whose message
/// names `path` and the line.
pub struct CheckedReader<R> {
    chunker: Chunker<R>,
    path: std::path::PathBuf,
    current: Vec<u8>,
    pos: usize,
}

impl<R: Read> CheckedReader<R> {
    /// Checks `reader` (named `path` in messages) as CSV with `delimiter`.
    pub fn new(reader: R, delimiter: u8, path: impl Into<std::path::PathBuf>) -> Self {
        CheckedReader {
            chunker: Chunker::new(reader, Some(delimiter)),
            path: path.into(),
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl<R: Read> Read for CheckedReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.current.len() {
            match self.chunker.next_chunk(1 << 20) {
                Ok(Some(c)) => {
                    self.current = c.bytes;
                    self.pos = 0;
                }
                Ok(None) => return Ok(0),
                Err(e) => {
                    let located = e.located(&self.path)?;
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        located,
                    ));
                }
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(data: &[u8], target: usize, quoting: bool) -> Vec<(Vec<u8>, u64)> {
        let mut c = Chunker::new(data, quoting.then_some(b','));
        let mut out = vec![];
        while let Some(ch) = c.next_chunk(target).unwrap() {
            out.push((ch.bytes, ch.first_line));
        }
        out
    }

    #[test]
    fn chunks_cover_input_and_end_on_records() {
        let data = b"a,b\n1,\"x\ny\"\n2,z\n3,\"q\"\"\n\"\n4,w";
        for target in 1..data.len() + 2 {
            let cs = chunks(data, target, true);
            let joined: Vec<u8> = cs.iter().flat_map(|c| c.0.clone()).collect();
            assert_eq!(joined, data.to_vec());
            for (bytes, _) in &cs[..cs.len() - 1] {
                assert_eq!(*bytes.last().unwrap(), b'\n');
                let quotes = bytes.iter().filter(|&&b| b == b'"').count();
                assert_eq!(quotes % 2, 0, "chunk splits a quoted field: {bytes:?}");
            }
            // Line numbers: line of first byte = 1 + newlines before it.
            let mut seen = 0u64;
            for (bytes, line) in &cs {
                assert_eq!(*line, 1 + seen);
                seen += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            }
        }
    }

    #[test]
    fn header_is_first_record() {
        let mut c = Chunker::new(&b"\"a\nb\",c\n1,2\n"[..], Some(b','));
        let h = c.next_record().unwrap().unwrap();
        assert_eq!(h.bytes, b"\"a\nb\",c\n");
        let rest = c.next_chunk(100).unwrap().unwrap();
        assert_eq!(rest.first_line, 3);
        assert!(c.next_chunk(100).unwrap().is_none());
    }
}
