//! Input errors that name the file, line, column and value.
use std::fmt;
use std::path::PathBuf;

/// A row or header of an input file that cannot be read.
///
/// Displayed as `` orders.csv:5: column 3 `amount`: not a number: `12,5x` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// 1-based physical line where the record starts.
    pub line: u64,
    /// 1-based column position, when one applies.
    pub column_index: Option<usize>,
    /// The column name (as in the file's header, or the contract name), empty if none applies.
    pub column: String,
    /// What is wrong.
    pub kind: String,
    /// The offending value, shortened to 80 characters.
    pub value: String,
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
        let text = String::from_utf8_lossy(value.as_ref());
        let value: String = if text.chars().count() > 80 {
            let mut s: String = text.chars().take(77).collect();
            s.push_str("...");
            s
        } else {
            text.into_owned()
        };
        InputError {
            path: path.into(),
            line,
            column_index,
            column: column.into(),
            kind: kind.into(),
            value,
        }
    }

    /// `file:line` of the error, for listings of skipped rows.
    pub fn location(&self) -> String {
        match self.column_index {
            Some(c) => format!("{}:{}:{}", self.path.display(), self.line, c),
            None => format!("{}:{}", self.path.display(), self.line),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.line)?;
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
