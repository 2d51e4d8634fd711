//! Top-level arguments and the subcommand list.
use crate::commands;
use clap::{Args, Parser, Subcommand};

/// Customer lifetime value for private-domain commerce.
///
/// Typical flow: `ltv synth` (or your own exports) → `ltv features` → `ltv train` → `ltv score`.
#[derive(Debug, Parser)]
#[command(name = "ltv", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Options shared by every subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Worker threads (default: all cores). Outputs are byte-identical for any value.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Print no progress bars or summaries on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    #[command(
        about = "Build one row of features per customer at a cutoff (and optionally the future label)"
    )]
    Features(commands::features::Args),
    #[command(
        about = "Generate a realistic synthetic dataset (orders, events, comments, customers)"
    )]
    Synth(commands::synth::Args),
    #[command(about = "Train an LTV model with k-fold cross-validation and write a model file")]
    Train(commands::train::Args),
    #[command(about = "Evaluate a model at a cutoff against what happened after it")]
    Evaluate(commands::evaluate::Args),
    #[command(about = "Score every customer: predicted value, churn risk, P(alive), stage, tier")]
    Score(commands::score::Args),
    #[command(about = "KPIs from the logs and a self-contained HTML report with charts")]
    Report(commands::report::Args),
    /// Inspect model files; promote an earlier month's model to champion.
    #[command(subcommand)]
    Model(commands::model::Command),
    #[command(
        about = "The monthly job: train, champion/challenger, score, tiers (for cron/Airflow)"
    )]
    Run(commands::run::Args),
    /// Monthly tier re-tune and the migration matrix between months.
    #[command(subcommand)]
    Tiers(commands::tiers::Command),
    /// Score, train and evaluate the sentiment models (Chinese and English).
    #[command(subcommand)]
    Sentiment(commands::sentiment::Command),
}
