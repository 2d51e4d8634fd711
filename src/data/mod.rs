//! The input data contract: schemas, streaming parallel CSV readers, validation, and errors that
//! name the file, line, column and value.
pub mod amount;
pub mod chunks;
mod error;
pub mod options;
pub mod reader;
pub mod time;

pub use error::{escaped_excerpt, InputError};
pub use options::{BadRowPolicy, ColumnMap, Delimiter, InputKind, ReadOptions};
pub use reader::{ReadReport, Source};
pub use time::{Cutoff, TimeFormat, TimeParser};
