//! `ltv score`: predictions, tiers, stages and churn risk for every customer.
use crate::output;
use crate::settings::{self, InputArgs};
use anyhow::Context;
use ltv::models::file::ModelFile;
use std::path::PathBuf;

/// Score every customer at --as-of with a trained model (no future data needed). Writes
/// customer_id, predicted_value, churn_probability, p_alive, expected_orders, lifecycle_stage,
/// rfm_segment, tier (A = top 20% of predicted value, B = next 30%, C = rest).
///
/// Example:
///   ltv score --model models/cdnow.json --orders orders.csv --as-of 1998-06-30 -o scores.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The model file.
    #[arg(long, value_name = "JSON")]
    model: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// Score as of this date (the end of that day) or timestamp.
    #[arg(long, value_name = "DATE")]
    as_of: String,
    /// Share of customers in tier A.
    #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
    tier_a: f64,
    /// Share of customers in tier B.
    #[arg(long, default_value_t = 0.3, value_name = "SHARE")]
    tier_b: f64,
    /// Output file (written atomically): CSV, or Parquet with typed columns when the name ends
    /// in `.parquet`. `-` or absent writes CSV to stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `ltv score`: the inputs are folded once, then customers are scored in blocks; the
/// memory held is the folded inputs plus ≈ 33 bytes per customer (no feature table).
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    args.input
        .guard_output(args.output.as_deref(), &[args.model.as_path()])?;
    let model = ModelFile::load(&args.model)?;
    let read = args.input.read_options()?;
    let as_of = settings::cutoff(&args.as_of, &read)?;
    let bar = output::bytes_bar(args.input.total_bytes(), "reading", quiet);
    let scored = ltv::pipeline::score_customers(&model, args.input.open()?, &read, as_of, &|b| {
        bar.set_position(b)
    })
    .with_context(|| format!("cannot score with `{}`", args.model.display()))?;
    bar.finish_and_clear();
    output::report_skipped(scored.report(), quiet);
    let tiers = scored.tier_cutoffs(args.tier_a, args.tier_b)?;
    let (format, name) = output::format_of(args.output.as_deref());
    output::write_output(args.output.as_deref(), |w| {
        scored.write_as(&tiers, format, w, &name)
    })?;
    if !quiet {
        eprintln!(
            "scored {} customers with `{}` (tier A from {:.2}, B from {:.2})",
            scored.len(),
            model.model.name(),
            tiers.a,
            tiers.b
        );
    }
    Ok(())
}
