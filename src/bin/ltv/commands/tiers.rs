//! `ltv tiers …`: monthly tier re-tune and the migration matrix between months.
use ltv::tiers::{read_customer_tiers, read_scores, Migration, TierMonth, TierRule};
use std::path::PathBuf;

/// The `ltv tiers` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Compute a month's tier cut-offs from a scores.csv and write them to the history:
    /// `<history>/<M>.json` (month, rule, cut-offs, counts and value share per tier) and
    /// `<history>/tiers-<M>.csv` (customer_id,tier). Replaces the month if present.
    ///
    /// Example:
    ///   ltv tiers retune --scores runs/2025-06/scores.csv --month 2025-06 --history models/tiers/
    #[command(verbatim_doc_comment)]
    Retune {
        /// scores.csv (needs `customer_id` and `predicted_value`).
        #[arg(long, value_name = "CSV")]
        scores: PathBuf,
        /// The month, `YYYY-MM`.
        #[arg(long, value_name = "YYYY-MM")]
        month: String,
        /// The history directory.
        #[arg(long, value_name = "DIR")]
        history: PathBuf,
        /// Share of customers in tier A.
        #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
        a_share: f64,
        /// Share of customers in tier B.
        #[arg(long, default_value_t = 0.3, value_name = "SHARE")]
        b_share: f64,
        /// Fixed threshold: lowest predicted value in A (with --b-min; replaces the shares).
        #[arg(long, requires = "b_min", value_name = "MONEY")]
        a_min: Option<f64>,
        /// Fixed threshold: lowest predicted value in B.
        #[arg(long, requires = "a_min", value_name = "MONEY")]
        b_min: Option<f64>,
    },
    /// Print the migration matrix between two months of the history (reads
    /// `<history>/tiers-<M>.csv`): counts and row shares A→A, A→B, …, lost and new customers.
    ///
    /// Example:
    ///   ltv tiers migration --from 2025-05 --to 2025-06 --history models/tiers/
    #[command(verbatim_doc_comment)]
    Migration {
        /// The earlier month.
        #[arg(long, value_name = "YYYY-MM")]
        from: String,
        /// The later month.
        #[arg(long, value_name = "YYYY-MM")]
        to: String,
        /// The history directory.
        #[arg(long, value_name = "DIR")]
        history: PathBuf,
        /// `table` or `json`.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
}

/// Runs an `ltv tiers` subcommand.
pub fn run(cmd: Command, quiet: bool) -> anyhow::Result<()> {
    match cmd {
        Command::Retune {
            scores,
            month,
            history,
            a_share,
            b_share,
            a_min,
            b_min,
        } => {
            let rule = match (a_min, b_min) {
                (Some(a_min), Some(b_min)) => TierRule::Fixed { a_min, b_min },
                _ => TierRule::Quantiles { a_share, b_share },
            };
            let values = read_scores(&scores)?;
            let m = TierMonth::compute(&month, &values, rule)?;
            m.save(&history, &values)?;
            if !quiet {
                eprintln!(
                    "{month}: A from {} ({} customers, {:.1}% of value), B from {} ({}, {:.1}%), C ({}, {:.1}%); wrote `{}`",
                    m.cutoffs.a,
                    m.counts.a,
                    100.0 * m.value_share.a,
                    m.cutoffs.b,
                    m.counts.b,
                    100.0 * m.value_share.b,
                    m.counts.c,
                    100.0 * m.value_share.c,
                    TierMonth::json_path(&history, &month).display()
                );
            }
            Ok(())
        }
        Command::Migration {
            from,
            to,
            history,
            format,
        } => {
            let before = read_customer_tiers(&TierMonth::csv_path(&history, &from))?;
            let after = read_customer_tiers(&TierMonth::csv_path(&history, &to))?;
            let m = Migration::compute(&from, &to, &before, &after)?;
            let text = if format == "json" {
                serde_json::to_string_pretty(&m)? + "\n"
            } else {
                m.table()
            };
            crate::output::print(&text)
        }
    }
}
