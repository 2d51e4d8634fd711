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
        let io = match cause.downcast_ref::<ltv::Error>() {
            Some(ltv::Error::Io { cause, .. }) => Some(cause),
            _ => cause.downcast_ref::<std::io::Error>(),
        };
        if io.is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) {
            return 0;
        }
    }
    eprintln!("error: {err:#}");
    let internal = err.chain().any(|c| {
        c.downcast_ref::<ltv::Error>()
            .is_some_and(ltv::Error::is_internal)
    });
    if internal {
        2
    } else {
        1
    }
}

/// A progress bar over bytes on stderr; hidden when quiet or stderr is not a terminal.
pub fn bytes_bar(total: u64, what: &str, quiet: bool) -> indicatif::ProgressBar {
    if quiet || std::env::var_os("NO_PROGRESS").is_some() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr_with_hz(5),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:>9} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// Reports rows skipped under `--on-bad-rows skip` on stderr (always, even when quiet).
pub fn report_skipped(report: &ltv::data::ReadReport, _quiet: bool) {
    if report.bad_rows == 0 {
        return;
    }
    eprintln!(
        "warning: skipped {} bad row{} of {}; first {}:",
        report.bad_rows,
        if report.bad_rows == 1 { "" } else { "s" },
        report.rows,
        report.first_bad_rows.len()
    );
    for e in &report.first_bad_rows {
        eprintln!("  {e}");
    }
}

/// The table format an output path asks for (Parquet for a `.parquet` name) and the name to
/// use for it in messages.
pub fn format_of(
    path: Option<&std::path::Path>,
) -> (ltv::data::parquet::write::OutputFormat, std::path::PathBuf) {
    let name = match path {
        Some(p) if p.as_os_str() != "-" => p.to_path_buf(),
        _ => std::path::PathBuf::from("<stdout>"),
    };
    (ltv::data::parquet::write::OutputFormat::of_path(path), name)
}

/// Writes to `path` atomically, or to stdout when `path` is absent or `-`.
pub fn write_output<F>(path: Option<&std::path::Path>, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&mut dyn std::io::Write) -> ltv::Result<()>,
{
    use anyhow::Context;
    match path {
        Some(p) if p.as_os_str() != "-" => ltv::io_util::write_atomic(p, write)
            .with_context(|| format!("cannot write `{}`", p.display())),
        _ => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            write(&mut lock)?;
            std::io::Write::flush(&mut lock).map_err(|e| ltv::Error::io("<stdout>", e))?;
            Ok(())
        }
    }
}

/// A spinner with a message on stderr for long jobs; hidden when quiet.
pub fn spinner(quiet: bool) -> indicatif::ProgressBar {
    if quiet || std::env::var_os("NO_PROGRESS").is_some() {
        return indicatif::ProgressBar::hidden();
    }
    let s = indicatif::ProgressBar::new_spinner();
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}

/// The out-of-fold comparison table of a training run.
pub fn comparison_table(
    rows: &[ltv::models::file::ModelScore],
    chosen: ltv::models::value::ModelKind,
) -> String {
    let mut s = String::from(
        "model      norm_gini  top10_capture  spearman        rmse         mae  pred_total/actual\n",
    );
    for r in rows {
        let mark = if r.model == chosen { "*" } else { " " };
        match &r.metrics {
            Some(m) => s.push_str(&format!(
                "{mark}{:<9} {:>9.4} {:>14.4} {:>9.4} {:>11.3} {:>11.3} {:>18.3}\n",
                r.model.name(),
                m.normalized_gini,
                m.top_decile_capture,
                m.spearman,
                m.rmse,
                m.mae,
                if m.actual_total != 0.0 {
                    m.predicted_total / m.actual_total
                } else {
                    f64::NAN
                }
            )),
            None => s.push_str(&format!(
                "{mark}{:<9} failed: {}\n",
                r.model.name(),
                r.error.as_deref().unwrap_or("")
            )),
        }
    }
    for r in rows {
        if let Some(why) = &r.rejected {
            s.push_str(&format!("not chosen: {}: {why}\n", r.model.name()));
        }
    }
    s.trim_end().to_string()
}

/// Writes text to stdout; a closed pipe ends the program quietly (exit 0) instead of panicking.
pub fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| anyhow::Error::new(e).context("cannot write to stdout"))
}
