//! The library's one error type, [`Error`], and its [`Result`] alias.
//!
//! Input errors carry the file, line, column and offending value so that a user can fix the
//! row; parameter errors name the parameter and the value that was rejected.
use std::path::PathBuf;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O failure on a named file.
    #[error("cannot access `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A row or header of an input file that cannot be read.
    #[error(transparent)]
    Input(#[from] crate::data::InputError),
    /// A hyper-parameter or option outside its valid range.
    #[error("invalid value `{value}` for `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value, as text.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A fit that did not converge.
    #[error("{model} did not converge after {iterations} iterations: {detail}")]
    NotConverged {
        /// The model.
        model: String,
        /// Iterations run.
        iterations: usize,
        /// What went wrong.
        detail: String,
    },
    /// There is not enough data to do what was asked.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// A model file that cannot be used.
    #[error("model file `{path}`: {reason}")]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A failure of an underlying ML crate.
    #[error("model fit failed: {0}")]
    Fit(String),
    /// JSON (de)serialisation failure.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    // Helpers: add new variants below this line, one per line group, with doc comments.
    /// A configuration file (`ltv.toml`) that cannot be used.
    #[error("config `{path}`: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong (names the key).
        reason: String,
    },
    /// Another run holds the lock of an output directory.
    #[error("`{path}` is held by process {pid}: another `ltv run` is running")]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The process holding it.
        pid: u32,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
