//! The input data contract: schemas, CSV readers, validation, located errors.
mod error;
pub use error::InputError;
