//! `ltv evaluate`: a model against what really happened after a cutoff.
use crate::settings::{self, InputArgs};
use anyhow::Context;
use ltv::models::file::ModelFile;
use std::path::PathBuf;

/// Evaluate a model at a cutoff: predict from data at or before the cutoff, compare with the
/// real net spend in (cutoff, cutoff + horizon]. Prints MAE, RMSE, Spearman, normalized Gini,
/// top-decile capture, totals, the decile table and the churn classifier's AUC.
///
/// Example:
///   ltv evaluate --model models/cdnow.json --orders orders.csv --cutoff 1997-09-30 --horizon 39w --format json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The model file.
    #[arg(long, value_name = "JSON")]
    model: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// The cutoff.
    #[arg(long, value_name = "DATE")]
    cutoff: String,
    /// Horizon (default: the model's).
    #[arg(long, value_name = "DURATION")]
    horizon: Option<String>,
    /// Evaluate even when the label window (cutoff + horizon) ends after the last order or
    /// event in the inputs (the missing days count as no purchases).
    #[arg(long)]
    allow_partial_window: bool,
    /// Output format: `table` or `json`.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

/// Appends a formatted line to a `String`.
macro_rules! tln {
    ($t:ident, $($arg:tt)*) => {{
        $t.push_str(&format!($($arg)*));
        $t.push('\n');
    }};
}

/// Runs `ltv evaluate`.
pub fn run(args: Args, _quiet: bool) -> anyhow::Result<()> {
    let model = ModelFile::load(&args.model)?;
    let read = args.input.read_options()?;
    let horizon = match &args.horizon {
        Some(h) => settings::horizon_days(h)?,
        None => model.horizon_days,
    };
    let cutoff = settings::cutoff(&args.cutoff, &read)?;
    let m = ltv::pipeline::evaluate(
        &model,
        args.input.open()?,
        &read,
        cutoff,
        horizon,
        args.allow_partial_window,
    )
    .with_context(|| format!("cannot evaluate `{}`", args.model.display()))?;
    if args.format == "json" {
        crate::output::print(&format!("{}\n", serde_json::to_string_pretty(&m)?))?;
    } else {
        let mut t = String::new();
        tln!(
            t,
            "model `{}` at cutoff {} over {horizon} days",
            model.model.name(),
            args.cutoff
        );
        tln!(t, "  normalized_gini     {:.4}", m.normalized_gini);
        tln!(t, "  top_decile_capture  {:.4}", m.top_decile_capture);
        tln!(t, "  spearman            {:.4}", m.spearman);
        tln!(t, "  mae                 {:.4}", m.mae);
        tln!(t, "  rmse                {:.4}", m.rmse);
        tln!(t, "  predicted_total     {:.2}", m.predicted_total);
        tln!(t, "  actual_total        {:.2}", m.actual_total);
        if let Some(a) = m.auc {
            tln!(t, "  auc (churn)         {a:.4}");
        }
        tln!(t, "  decile  customers  mean_predicted  mean_actual");
        for d in &m.deciles {
            tln!(
                t,
                "  {:>6}  {:>9}  {:>14}  {:>11}",
                d.decile,
                d.count,
                d.mean_predicted.map_or("-".into(), |v| format!("{v:.2}")),
                d.mean_actual.map_or("-".into(), |v| format!("{v:.2}"))
            );
        }
        crate::output::print(&t)?;
    }
    Ok(())
}
