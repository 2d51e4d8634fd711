//! Messages on stderr, progress bars, error reporting and exit codes.
use crate::args::GlobalArgs;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Records global output settings.
pub fn init(global: &GlobalArgs) {
    QUIET.store(global.quiet, Ordering::Relaxed);
}

/// Whether progress and summaries are suppressed.
#[allow(dead_code)]
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints an error chain and returns the exit code: 0 for a broken pipe (a reader such as
/// `head` went away), 1 for user or data errors, 2 for internal errors.
pub fn report_error(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return 0;
            }
        }
    }
    eprintln!("error: {err:#}");
    let internal = err.chain().any(|c| {
        matches!(
            c.downcast_ref::<ltv::Error>(),
            Some(ltv::Error::NotConverged { .. }) | Some(ltv::Error::Fit(_))
        )
    });
    if internal {
        2
    } else {
        1
    }
}
