//! The library's one error type, [`Error`], and its [`Result`] alias.
//!
//! Input errors carry the file, line, column and offending value so that a user can fix the
//! row; parameter errors name the parameter and the value that was rejected.
use std::path::PathBuf;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O failure on a named file.
    #[error("cannot access `{}`: {}", path.display(), io_reason(cause))]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (its words are part of this error's message, so it is not repeated as a
        /// source in error chains).
        cause: std::io::Error,
    },
    /// An output path names one of the inputs: writing it would destroy the input.
    #[error("the output `{output}` is the input `{input}`: refusing to overwrite an input (write the output elsewhere)")]
    OutputIsInput {
        /// The output path as given.
        output: PathBuf,
        /// The input it is the same file as.
        input: PathBuf,
    },
    /// An input the job needs was not given.
    #[error("missing input: {0}")]
    MissingInput(String),
    /// The label window reaches past the data: its labels would be counted as zeros.
    #[error("the label window ends {window_end}, after the last timestamp in the inputs ({last}): labels there would count as zero\nhint: choose an earlier cutoff or a shorter horizon, or pass --allow-partial-window to accept it")]
    PartialLabelWindow {
        /// The end of the label window.
        window_end: String,
        /// The last timestamp in the inputs.
        last: String,
    },
    /// Money sums do not fit in the fixed-point range.
    #[error("`{path}`: the amounts of customer `{customer}` add up beyond ±{limit} (fixed-point overflow); check the amount column's unit")]
    AmountOverflow {
        /// The input file.
        path: PathBuf,
        /// The customer whose sum overflowed.
        customer: String,
        /// The largest representable magnitude.
        limit: String,
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
    /// The caller asked the job to stop ([`crate::cancel::Cancel`]), e.g. Ctrl-C in Python.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }
}

impl Error {
    /// Whether the error is a failure of the tool itself (exit code 2) rather than of the
    /// data, the flags or the environment (exit code 1). A model that does not converge on the
    /// user's data is the latter: its message says what to change.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Fit(_))
    }
}

/// The OS error's own words without the ` (os error N)` suffix (the error itself stays in
/// [`Error::Io`]'s `cause`).
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
