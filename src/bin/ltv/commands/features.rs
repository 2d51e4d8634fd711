//! `ltv features`: one row of features per customer at a cutoff.
use crate::output;
use crate::settings::{self, InputArgs, LifecycleArgs};
use ltv::features::{fold_features, FeatureParams};
use std::path::PathBuf;

/// Build one row of features per customer at a cutoff.
///
/// Streams the inputs once on all cores; memory grows with the number of customers, not rows.
/// Features use only rows at or before the cutoff; with --label, `future_spend`,
/// `future_orders` and `future_purchase_days` cover (cutoff, cutoff + horizon].
///
/// Examples:
///   ltv features --orders orders.csv --events events.csv --cutoff 2025-06-30 --horizon 90d --label -o features.csv
///   ltv features --orders shop.csv --map customer_id=user_id,ordered_at=pay_time,amount=gmv --time-format '%Y%m%d' --cutoff 2025-06-30 -o features.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// The cutoff: a date (the end of that day in --utc-offset) or an RFC 3339 timestamp.
    #[arg(long, value_name = "DATE")]
    cutoff: String,
    /// Label window after the cutoff, in days (`90d`) or weeks (`39w`).
    #[arg(long, default_value = "90d", value_name = "DURATION")]
    horizon: String,
    /// Add the label columns (future spend and orders in the horizon).
    #[arg(long)]
    label: bool,
    /// Output file (written atomically): CSV, or Parquet with typed columns when the name ends
    /// in `.parquet`. `-` or absent writes CSV to stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    lifecycle: LifecycleArgs,
}

/// Runs `ltv features`.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let opts = args.input.read_options()?;
    let params = FeatureParams {
        cutoff: settings::cutoff(&args.cutoff, &opts)?,
        horizon_days: if args.label {
            Some(settings::horizon_days(&args.horizon)?)
        } else {
            None
        },
        lifecycle: args.lifecycle.thresholds(),
    };
    args.input.guard_output(args.output.as_deref(), &[])?;
    let inputs = args.input.open()?;
    let bar = output::bytes_bar(args.input.total_bytes(), "reading", quiet);
    let build = fold_features(inputs, &params, &opts, &|b| bar.set_position(b))?;
    bar.finish_and_clear();
    output::report_skipped(build.report(), quiet);
    if let Some(gap) = build.label_shortfall() {
        // Always shown: a label over missing days is a silent zero otherwise.
        eprintln!(
            "warning: the label window ends {}, after the last order or event ({}): labels there count missing days as no purchases",
            gap.window_end, gap.last
        );
    }
    let (format, name) = output::format_of(args.output.as_deref());
    output::write_output(args.output.as_deref(), |w| build.write_as(format, w, &name))?;
    if !quiet {
        eprintln!(
            "{} customers, {} rows read{}",
            build.len(),
            build.report().rows,
            match args.output {
                Some(p) if p.as_os_str() != "-" => format!(" → `{}`", p.display()),
                _ => String::new(),
            }
        );
    }
    Ok(())
}
