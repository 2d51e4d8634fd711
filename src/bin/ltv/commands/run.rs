//! `ltv run`: the monthly job (train, champion/challenger, score, tiers), for a scheduler.
use anyhow::Context;
use ltv::config::{Config, Overrides};
use ltv::monthly::{run_month, RunHooks};
use std::path::PathBuf;

/// Run the monthly job for one month, idempotently: train a challenger (cross-validated) at
/// the end of the month minus the horizon, compare it with the champion on the same folds,
/// score every customer at the end of the month with the winner, re-tune the tiers and write
/// `<output>/<M>/{scores.csv, model.json, tiers.json, metrics.json, run.log}`.
///
/// Settings: flags > LTV_* environment variables (LTV_OUTPUT_DIR, LTV_MODEL, LTV_HORIZON,
/// LTV_FOLDS, LTV_SEED) > ltv.toml > defaults.
///
/// Exit codes: 0 ok, 1 bad input or config, 2 internal error, 3 another run holds the lock
/// (`<output>/.lock`; retry later).
///
/// Example (cron, on the 1st of each month):
///   ltv run --config ltv.toml --month 2025-06
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The configuration file.
    #[arg(long, default_value = "ltv.toml", value_name = "TOML")]
    config: PathBuf,
    /// The month to run, `YYYY-MM` (cutoff: the end of its last day).
    #[arg(long, value_name = "YYYY-MM")]
    month: String,
    /// The runs directory (overrides `[output] dir` and LTV_OUTPUT_DIR).
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// The model (overrides `[model] name` and LTV_MODEL): auto, linear, tweedie, tree,
    /// boosting, bgnbd, hybrid.
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// The label horizon (overrides `[model] horizon` and LTV_HORIZON), e.g. `90d`.
    #[arg(long, value_name = "DURATION")]
    horizon: Option<String>,
    /// Run even when the month's label window ends after the last order or event (the missing
    /// days count as no purchases; a warning is logged). Without it such a month is an error.
    #[arg(long)]
    allow_partial_window: bool,
}

/// The exit code for an error of the monthly job: 3 locked, 1 bad input or config, 2 internal.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<ltv::Error>() {
            return match e {
                ltv::Error::Locked { .. } => 3,
                e if e.is_internal() => 2,
                _ => 1,
            };
        }
    }
    1
}

/// Prints the error and exits with [`exit_code`].
pub fn fail(err: anyhow::Error) -> ! {
    eprintln!("error: {err:#}");
    if let Some(ltv::Error::Locked { .. }) = err.downcast_ref::<ltv::Error>() {
        eprintln!("hint: wait for the other run to finish; the lock dies with its holder, so a crashed run never blocks the next one");
    }
    std::process::exit(exit_code(&err))
}

/// Loads the config with the flags and the process environment.
pub fn load_config(path: &std::path::Path, cli: &Overrides) -> anyhow::Result<Config> {
    Config::load(path, cli, &|k| std::env::var(k).ok())
        .with_context(|| format!("cannot use config `{}`", path.display()))
}

/// Runs `ltv run`.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    inner(args, quiet).unwrap_or_else(|e| fail(e));
    Ok(())
}

fn inner(args: Args, quiet: bool) -> anyhow::Result<()> {
    let cli = Overrides {
        output_dir: args.output_dir.clone(),
        model: args.model.clone(),
        horizon: args.horizon.clone(),
    };
    let mut config = load_config(&args.config, &cli)?;
    config.allow_partial_window = args.allow_partial_window;
    // Test hook: LTV_TEST_PAUSE_AFTER=<stage> sleeps after that stage so a test can kill the run.
    let pause = std::env::var("LTV_TEST_PAUSE_AFTER").ok();
    let after_stage = |stage: &str| {
        if pause.as_deref() == Some(stage) {
            eprintln!("paused after {stage}");
            std::thread::sleep(std::time::Duration::from_secs(600));
        }
    };
    let progress = |m: &str| {
        if !quiet {
            eprintln!("{m}");
        }
    };
    let report = |dir: &std::path::Path, m: &ltv::monthly::MonthMetrics| {
        ltv::monthly::write_month_report(&config, dir, m)
    };
    let hooks = RunHooks {
        progress: &progress,
        after_stage: &after_stage,
        report: Some(&report),
    };
    let out = run_month(&config, &args.month, &hooks)?;
    if !quiet {
        eprintln!(
            "{}: {}; wrote `{}`",
            args.month,
            out.metrics.decision,
            out.run_dir.display()
        );
    }
    Ok(())
}
