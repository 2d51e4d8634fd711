//! Stopping a long job from outside: a [`Cancel`] flag that a caller sets (the Python package on
//! Ctrl-C) and the readers and the training loop check between units of work, ending the job
//! with [`Error::Cancelled`] instead of running it to the end.
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A shared flag that asks a running job to stop. Clones share the flag; the default flag is
/// never set, so jobs that nobody may cancel pay one relaxed load per unit of work.
///
/// ```
/// let cancel = ltv::cancel::Cancel::new();
/// let seen_by_the_job = cancel.clone();
/// assert!(seen_by_the_job.check().is_ok());
/// cancel.cancel();
/// assert!(matches!(seen_by_the_job.check(), Err(ltv::Error::Cancelled)));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag that is not set.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks every job holding a clone of this flag to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Error::Cancelled)` once the flag is set: the check a job makes between units of
    /// work (a batch of chunks or row groups, a cross-validation fold).
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}
