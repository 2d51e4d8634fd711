//! Input errors that name the file, line, column and value.
use std::path::PathBuf;

/// A row or header of an input file that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{line}: column `{column}`: {kind} `{value}`", path.display())]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number (physical line where the record starts).
    pub line: u64,
    /// The column name (or `-` where no column applies).
    pub column: String,
    /// The offending value, shortened to 80 characters.
    pub value: String,
    /// What is wrong.
    pub kind: String,
}
