//! Input errors that name the file, line, column and value.
use std::fmt;
use std::path::PathBuf;

/// Where a bad row sits in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Place {
    /// A CSV line: `line` is the 1-based physical line where the record starts.
    #[default]
    Line,
    /// A Parquet row: `line` is its 0-based row number in the file; `group` and `row` are the
    /// row group and the row within it, both 0-based (as pyarrow's `read_row_group` counts).
    RowGroup {
        /// 0-based row group.
        group: u32,
        /// 0-based row within the row group.
        row: u32,
    },
    /// A row of an in-memory stream of Arrow record batches: `line` is its 0-based row number
    /// in the stream; `batch` and `row` are the batch and the row within it, both 0-based.
    Batch {
        /// 0-based batch.
        batch: u32,
        /// 0-based row within the batch.
        row: u32,
    },
    /// A columnar input as a whole (its schema, metadata or encoding), not one row.
    File,
}

/// A row or header of an input file that cannot be read.
///
/// Displayed as `` orders.csv:5: column 3 `amount`: not a number: `12,5x` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// 1-based physical line where the record starts (CSV), or the 0-based row number in the
    /// file or stream (Arrow/Parquet; see [`InputError::place`]).
    pub line: u64,
    /// Where in a columnar input the row sits (row group or batch); [`Place::Line`] for CSV.
    pub place: Place,
    /// 1-based column position, when one applies.
    pub column_index: Option<u32>,
    /// The column name (as in the file's header, or the contract name), empty if none applies.
    pub column: String,
    /// What is wrong.
    pub kind: Box<str>,
    /// The offending value, shortened to 80 characters.
    pub value: Box<str>,
}

impl InputError {
    /// Builds an error, shortening `value` to 80 characters.
    pub fn new(
        path: impl Into<PathBuf>,
        line: u64,
        column_index: Option<usize>,
        column: impl Into<String>,
        kind: impl Into<String>,
        value: impl AsRef<[u8]>,
    ) -> Self {
        let value = escaped_excerpt(value.as_ref(), 80);
        InputError {
            path: path.into(),
            line,
            place: Place::Line,
            column_index: column_index.map(|c| u32::try_from(c).unwrap_or(u32::MAX)),
            column: column.into(),
            kind: kind.into().into_boxed_str(),
            value: value.into_boxed_str(),
        }
    }

    /// Builds an error about a columnar input as a whole: a missing column, a wrong type, a
    /// corrupt or truncated file.
    pub fn file(
        path: impl Into<PathBuf>,
        column: impl Into<String>,
        kind: impl Into<String>,
        value: impl AsRef<[u8]>,
    ) -> Self {
        InputError {
            place: Place::File,
            ..InputError::new(path, 0, None, column, kind, value)
        }
    }

    /// `file:line` (CSV) or `file: row N (row group G, row R)` (Parquet) of the error, for
    /// listings of skipped rows.
    pub fn location(&self) -> String {
        let path = self.path.display();
        match (self.place, self.column_index) {
            (Place::Line, Some(c)) => format!("{path}:{}:{c}", self.line),
            (Place::Line, None) => format!("{path}:{}", self.line),
            (Place::RowGroup { group, row }, _) => {
                format!("{path}: row {} (row group {group}, row {row})", self.line)
            }
            (Place::Batch { batch, row }, _) => {
                format!("{path}: row {} (batch {batch}, row {row})", self.line)
            }
            (Place::File, _) => format!("{path}"),
        }
    }
}

/// `bytes` as printable text of at most `max` characters: control characters (line ends, NUL,
/// escape sequences) are written as `\n`, `\r`, `\t`, `\0` or `\u{..}` and bytes that are not
/// UTF-8 as `\xNN`, so a message never carries raw binary from the input to the terminal.
pub fn escaped_excerpt(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0usize;
    let mut push = |out: &mut String, piece: &str| -> bool {
        if shown >= max.saturating_sub(3) {
            out.push_str("...");
            return false;
        }
        out.push_str(piece);
        shown += piece.chars().count();
        true
    };
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let piece = match c {
                '\n' => "\\n".to_string(),
                '\r' => "\\r".to_string(),
                '\t' => "\\t".to_string(),
                '\0' => "\\0".to_string(),
                c if c.is_control() || c == '\u{feff}' => format!("\\u{{{:x}}}", c as u32),
                c => c.to_string(),
            };
            if !push(&mut out, &piece) {
                return out;
            }
        }
        for b in chunk.invalid() {
            if !push(&mut out, &format!("\\x{b:02x}")) {
                return out;
            }
        }
    }
    out
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            Place::Line => write!(f, "{}:{}: ", self.path.display(), self.line)?,
            _ => write!(f, "{}: ", self.location())?,
        }
        match (self.column_index, self.column.is_empty()) {
            (Some(i), false) => write!(f, "column {i} `{}`: ", self.column)?,
            (Some(i), true) => write!(f, "column {i}: ")?,
            (None, false) => write!(f, "column `{}`: ", self.column)?,
            (None, true) => {}
        }
        write!(f, "{}: `{}`", self.kind, self.value)
    }
}

impl std::error::Error for InputError {}
