//! The input data contract: schemas, streaming parallel readers of CSV text and of Arrow record
//! batches (Parquet files or batches in memory), validation, and errors that name the file, the
//! line (or row group and row), the column and the value.
pub mod amount;
pub mod arrow;
pub mod chunks;
mod error;
pub mod options;
pub mod parquet;
pub mod reader;
pub mod time;

pub use error::{escaped_excerpt, InputError, Place};
pub use options::{BadRowPolicy, ColumnMap, Delimiter, InputKind, ReadOptions};
pub use reader::{InputFormat, ReadReport, Source, SourceData};
pub use time::{Cutoff, TimeFormat, TimeParser};
