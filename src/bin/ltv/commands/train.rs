//! `ltv train`: cross-validated training and the model file.
use crate::settings::{self, InputArgs, LifecycleArgs};
use anyhow::Context;
use ltv::models::btyd::TimeUnit;
use ltv::models::value::{ModelKind, TrainSettings};
use ltv::pipeline::{self, ModelChoice, TrainJob};
use std::path::PathBuf;

/// Train an LTV model: features at the cutoff, the label over (cutoff, cutoff + horizon],
/// k-fold cross-validation over customers (the same seeded folds for every model), then a fit
/// on all customers, written atomically to a JSON model file.
///
/// Models: linear, tweedie, tree, boosting, bgnbd (BG/NBD × Gamma-Gamma), hybrid (boosting +
/// BG/NBD outputs), auto (all of them; best out-of-fold normalized Gini wins, ties by RMSE).
///
/// Example:
///   ltv train --orders orders.csv --cutoff 1997-09-30 --horizon 39w --model auto --folds 5 --seed 42 -o models/cdnow.json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// The training cutoff (a date = the end of that day).
    #[arg(long, value_name = "DATE")]
    cutoff: String,
    /// Prediction horizon, in days (`90d`) or weeks (`39w`).
    #[arg(long, default_value = "90d", value_name = "DURATION")]
    horizon: String,
    /// Model: linear, tweedie, tree, boosting, bgnbd, hybrid or auto.
    #[arg(long, default_value = "auto", value_name = "MODEL")]
    model: String,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Seed of the folds and the models.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Time unit of the BG/NBD parameters: `weeks` or `days`.
    #[arg(long, default_value = "weeks", value_parser = ["weeks", "days"])]
    time_unit: String,
    /// L2 penalty of the BG/NBD and Gamma-Gamma fits (lifetimes' penalizer_coef).
    #[arg(long, default_value_t = 0.0, value_name = "COEF")]
    penalizer: f64,
    /// `linear`: fit log1p(spend) and back-transform with Duan's smearing.
    #[arg(long)]
    log_target: bool,
    /// `tweedie`: variance power in [1, 2].
    #[arg(long, default_value_t = 1.5)]
    tweedie_power: f64,
    /// `tree`: maximum depth.
    #[arg(long, default_value_t = 6)]
    max_depth: usize,
    /// `tree`, `boosting`: minimum customers per leaf.
    #[arg(long, default_value_t = 20)]
    min_samples_leaf: usize,
    /// `boosting`, `hybrid`: maximum iterations (early stopping on an inner 10% split).
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// `boosting`, `hybrid`: learning rate.
    #[arg(long, default_value_t = 0.05)]
    learning_rate: f64,
    /// `boosting`, `hybrid`: loss, `squared_error` or `poisson`.
    #[arg(long, default_value = "squared_error", value_parser = ["squared_error", "poisson"])]
    loss: String,
    /// Train even when the label window (cutoff + horizon) ends after the last order or event
    /// in the inputs; the missing days then count as no purchases (a warning says so).
    #[arg(long)]
    allow_partial_window: bool,
    /// The model file to write (atomically).
    #[arg(long, short, value_name = "JSON")]
    output: PathBuf,
    #[command(flatten)]
    lifecycle: LifecycleArgs,
}

/// Runs `ltv train`.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    args.input.guard_output(Some(&args.output), &[])?;
    let read = args.input.read_options()?;
    let model = if args.model == "auto" {
        ModelChoice::Auto
    } else {
        ModelChoice::One(ModelKind::parse(&args.model).with_context(|| {
            format!(
                "unknown --model `{}`\nhint: one of linear, tweedie, tree, boosting, bgnbd, hybrid, auto",
                args.model
            )
        })?)
    };
    let settings = TrainSettings {
        seed: args.seed,
        folds: args.folds,
        time_unit: if args.time_unit == "days" {
            TimeUnit::Days
        } else {
            TimeUnit::Weeks
        },
        btyd_penalizer: args.penalizer,
        linear_log_target: args.log_target,
        tweedie_power: args.tweedie_power,
        tree_max_depth: args.max_depth,
        min_samples_leaf: args.min_samples_leaf,
        boosting_iterations: args.iterations,
        learning_rate: args.learning_rate,
        boosting_loss: args.loss.clone(),
        ..TrainSettings::default()
    };
    let job = TrainJob {
        cutoff: settings::cutoff(&args.cutoff, &read)?,
        horizon_days: settings::horizon_days(&args.horizon)?,
        inputs: args.input.open()?,
        input_paths: args.input.paths(),
        read,
        lifecycle: args.lifecycle.thresholds(),
        model,
        settings,
        allow_partial_window: args.allow_partial_window,
    };
    let spinner = crate::output::spinner(quiet);
    let outcome = pipeline::train(job, &|m| spinner.set_message(m.to_string()))?;
    spinner.finish_and_clear();
    crate::output::report_skipped(&outcome.table.report, quiet);
    let f = &outcome.file;
    if !quiet {
        eprintln!(
            "{}",
            crate::output::comparison_table(&f.model_comparison, f.model)
        );
        if let Some(a) = f.metrics.auc {
            eprintln!("churn classifier: out-of-fold AUC {a:.4}");
        }
    }
    f.save(&args.output)
        .with_context(|| format!("cannot write `{}`", args.output.display()))?;
    if !quiet {
        eprintln!(
            "chose `{}`; {} customers; wrote `{}`",
            f.model.name(),
            f.training_customers,
            args.output.display()
        );
    }
    Ok(())
}
