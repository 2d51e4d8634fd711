//! How a call runs the engine: on a worker thread (in a pool of `threads` when given) while the
//! calling thread, without the GIL, waits for it; every [`POLL`] the calling thread takes the
//! GIL back to let Python handle signals (Ctrl-C sets the job's [`Cancel`] flag, the engine
//! stops at its next check and the call raises `KeyboardInterrupt`) and to report progress.
//! A panic in the engine becomes a Python `RuntimeError`, never an abort or a `PanicException`.
use ltv::cancel::Cancel;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

/// How often the calling thread looks at signals and progress.
const POLL: Duration = Duration::from_millis(100);

/// What the engine reports while it works, read by the calling thread.
#[derive(Default)]
pub struct Ticker {
    done: AtomicU64,
    stage: Mutex<String>,
}

impl Ticker {
    /// Records the amount of work done so far (bytes or rows read over all inputs).
    pub fn done(&self, n: u64) {
        self.done.store(n, Ordering::Relaxed);
    }

    /// Records the stage the job is in (`"cross-validating boosting"`).
    pub fn stage(&self, text: &str) {
        if let Ok(mut s) = self.stage.lock() {
            text.clone_into(&mut s);
        }
    }

    fn snapshot(&self) -> (u64, String) {
        let stage = self.stage.lock().map(|s| s.clone()).unwrap_or_default();
        (self.done.load(Ordering::Relaxed), stage)
    }
}

/// The running of one call: worker threads, the cancel flag its read options carry, and the
/// Python progress callback `progress(done, total, stage)` (called on the calling thread).
pub struct Runner<'py> {
    py: Python<'py>,
    threads: Option<usize>,
    cancel: Cancel,
    progress: Option<Bound<'py, PyAny>>,
    total: u64,
}

impl<'py> Runner<'py> {
    /// A runner on `threads` workers (all cores when `None`), stopping jobs through `cancel`.
    pub fn new(py: Python<'py>, threads: Option<usize>, cancel: Cancel) -> Runner<'py> {
        Runner {
            py,
            threads,
            cancel,
            progress: None,
            total: 0,
        }
    }

    /// Calls `progress(done, total, stage)` while the job runs (`None`: no progress).
    pub fn with_progress(mut self, progress: Option<Bound<'py, PyAny>>, total: u64) -> Self {
        self.progress = progress.filter(|p| !p.is_none());
        self.total = total;
        self
    }

    /// Reports the stage only (`done` and `total` stay 0).
    pub fn stages_only(mut self) -> Self {
        self.total = 0;
        self
    }

    /// Runs `job` and returns its result, a Python exception for its error
    /// ([`crate::py_err`]), `KeyboardInterrupt` (or another signal handler's exception) when
    /// interrupted, or a `RuntimeError` when the engine panicked.
    pub fn run<T: Send>(&self, job: impl FnOnce(&Ticker) -> ltv::Result<T> + Send) -> PyResult<T> {
        let py = self.py;
        let ticker = Ticker::default();
        let pool = match self.threads {
            None => None,
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n.max(1))
                    .build()
                    .map_err(|e| PyValueError::new_err(format!("cannot start {n} threads: {e}")))?,
            ),
        };
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|scope| {
            let ticker = &ticker;
            let pool = pool.as_ref();
            scope.spawn(move || {
                let work = move || match pool {
                    Some(p) => p.install(|| job(ticker)),
                    None => job(ticker),
                };
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
                let _ = tx.send(outcome);
            });
            let mut rx = rx;
            let mut shown = None;
            loop {
                let (back, got) = py.detach(move || {
                    let got = rx.recv_timeout(POLL);
                    (rx, got)
                });
                rx = back;
                match got {
                    Ok(Ok(result)) => {
                        self.report(ticker, &mut shown)?;
                        return result.map_err(|e| crate::py_err(py, e));
                    }
                    Ok(Err(panic)) => return Err(panicked(&*panic)),
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(PyRuntimeError::new_err("ltv: the engine thread ended"))
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                }
                let interrupted = py
                    .check_signals()
                    .and_then(|()| self.report(ticker, &mut shown));
                if let Err(e) = interrupted {
                    // Stop the engine, wait for it (it checks the flag between units of
                    // work), then raise what stopped us.
                    self.cancel.cancel();
                    py.detach(move || drop(rx.recv()));
                    return Err(e);
                }
            }
        })
    }

    /// Calls the progress callback when there is news since `shown`.
    fn report(&self, ticker: &Ticker, shown: &mut Option<(u64, String)>) -> PyResult<()> {
        let Some(callback) = &self.progress else {
            return Ok(());
        };
        let now = ticker.snapshot();
        if shown.as_ref() != Some(&now) {
            callback.call1((now.0, self.total, now.1.as_str()))?;
            *shown = Some(now);
        }
        Ok(())
    }
}

/// The `RuntimeError` of a panic in the engine (a bug: the message asks for a report).
fn panicked(payload: &(dyn std::any::Any + Send)) -> PyErr {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    PyRuntimeError::new_err(format!(
        "ltv: internal error (please report it with the input that caused it): {text}"
    ))
}
