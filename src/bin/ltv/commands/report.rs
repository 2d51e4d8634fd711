//! `ltv report`: business KPIs from the logs and one self-contained HTML report.
use crate::settings::{self, InputArgs};
use anyhow::Context;
use ltv::features::LifecycleThresholds;
use ltv::kpi::{compute_kpis, read_scores, KpiParams};
use ltv::models::file::ModelFile;
use ltv::report::{read_actuals, write_html, ReportInput};
use std::path::PathBuf;

/// KPIs at --as-of (reach, push open and click rates, interactions per user, 7-day conversion,
/// D1/D7/D30 cohort retention, 3-month repurchase, ARPU, ARPPU, average order value, lifecycle
/// stages, tier sizes and value shares) and a self-contained HTML report (inline SVG charts, no
/// scripts, no network; the same inputs give the same bytes).
///
/// Examples:
///   ltv report --scores scores.csv --orders orders.csv --events events.csv \
///     --model models/m.json --previous-scores prev.csv --as-of 2025-06-30 -o report.html
///   ltv report --scores scores.csv --orders orders.csv --events events.csv \
///     --as-of 2025-06-30 --format json
///
/// Memory: one small record per customer for the logs, plus every row of the scores files.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// scores.csv from `ltv score` (customer_id, predicted_value, tier [, lifecycle_stage]).
    #[arg(long, value_name = "CSV")]
    scores: PathBuf,
    /// An earlier scores.csv, for the tier migration matrix.
    #[arg(long, value_name = "CSV")]
    previous_scores: Option<PathBuf>,
    /// The model file: decile calibration, feature importances, lifecycle thresholds, and the
    /// gain curve when --actuals is absent (from its out-of-fold decile table).
    #[arg(long, value_name = "JSON")]
    model: Option<PathBuf>,
    /// Features CSV with `customer_id` and `future_spend` (`ltv features --label`): actual
    /// spend after the scoring date, for the gain curve.
    #[arg(long, value_name = "CSV")]
    actuals: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
    /// KPIs as of this date (the end of that day) or timestamp.
    #[arg(long, value_name = "DATE")]
    as_of: String,
    /// Length of the KPI period ending at --as-of (`30d`, `4w`).
    #[arg(long, default_value = "30d", value_name = "DURATION")]
    period: String,
    /// `html` (the report) or `json` (the KPIs only).
    #[arg(long, default_value = "html", value_parser = ["html", "json"])]
    format: String,
    /// Output file (atomically); `-` or absent writes to stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `ltv report`.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let mut more = vec![args.scores.as_path()];
    more.extend(
        [&args.previous_scores, &args.model, &args.actuals]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path),
    );
    args.input.guard_output(args.output.as_deref(), &more)?;
    let read = args.input.read_options()?;
    let as_of = settings::cutoff(&args.as_of, &read)?;
    let period_days = settings::horizon_days(&args.period)
        .with_context(|| format!("invalid --period `{}`", args.period))?;
    let model = args.model.as_deref().map(ModelFile::load).transpose()?;
    let lifecycle = model
        .as_ref()
        .map_or_else(LifecycleThresholds::default, |m| LifecycleThresholds {
            new_within_days: m.lifecycle.new_within_days,
            silent_after_days: m.lifecycle.silent_after_days,
            churned_after_days: m.lifecycle.churned_after_days,
        });
    let scores = read_scores(&args.scores)?;
    let params = KpiParams {
        as_of,
        period_days,
        lifecycle,
    };
    let kpis = compute_kpis(args.input.open()?, &params, &read)?.with_tiers(&scores);
    crate::output::report_skipped(&kpis.report, quiet);
    if args.format == "json" {
        return crate::output::write_output(args.output.as_deref(), |w| {
            serde_json::to_writer_pretty(&mut *w, &kpis)?;
            w.write_all(b"\n")
                .map_err(|e| ltv::Error::io("<report>", e))
        });
    }
    let previous = args
        .previous_scores
        .as_deref()
        .map(read_scores)
        .transpose()?;
    let actuals = args.actuals.as_deref().map(read_actuals).transpose()?;
    let input = ReportInput {
        kpis: &kpis,
        scores: &scores,
        previous_scores: previous.as_deref(),
        model: model.as_ref(),
        actuals: actuals.as_deref(),
    };
    match args.output.as_deref() {
        Some(p) if p.as_os_str() != "-" => {
            write_html(p, &input)?;
            if !quiet {
                eprintln!(
                    "wrote the report for {} customers ({} scored) to `{}`",
                    kpis.customers,
                    scores.len(),
                    p.display()
                );
            }
            Ok(())
        }
        _ => crate::output::write_output(None, |w| {
            w.write_all(ltv::report::render_html(&input).as_bytes())
                .map_err(|e| ltv::Error::io("<stdout>", e))
        }),
    }
}
