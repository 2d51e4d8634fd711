//! Flags shared by the commands that read customer data, and their resolution into library
//! options (the one place where flags become typed settings).
use anyhow::anyhow;
use ltv::data::time::{parse_duration_days, parse_utc_offset};
use ltv::data::{
    BadRowPolicy, ColumnMap, Cutoff, Delimiter, InputFormat, ReadOptions, Source, TimeFormat,
    TimeParser,
};
use ltv::features::{Inputs, LifecycleThresholds};
use std::path::PathBuf;

/// Input files and how to read them.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Orders: customer_id, ordered_at, amount [, order_id, channel]. A CSV file (`-` is
    /// standard input; `.gz`/`.zst` are decompressed), a `.parquet` file, or a directory of
    /// Parquet parts (`part-*.parquet`, as Spark and DuckDB write them).
    #[arg(long, value_name = "FILE")]
    pub orders: PathBuf,
    /// Interaction events (CSV or Parquet): customer_id, occurred_at, event [, channel].
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Customers (CSV or Parquet): customer_id [, first_seen_at, acquisition_channel].
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
    /// Comments (CSV or Parquet): customer_id, created_at, text [, rating]. Adds the sentiment
    /// columns (comments_total, comments_90d, sentiment_mean, sentiment_last, negative_share,
    /// rating_mean, days_since_last_comment).
    #[arg(long, value_name = "FILE")]
    pub comments: Option<PathBuf>,
    /// How to read the inputs: `auto` (a directory, a `.parquet` name or a file starting with
    /// Parquet's magic bytes is Parquet; anything else CSV), `csv` or `parquet`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "csv", "parquet"], value_name = "FORMAT")]
    pub input_format: String,
    /// Map contract column names to your file's names, e.g.
    /// `customer_id=user_id,ordered_at=pay_time,amount=gmv` (CSV headers and Parquet column
    /// names alike). Without a header, map to 1-based column numbers (`amount=3`).
    #[arg(long, value_name = "NAME=COLUMN,...")]
    pub map: Option<String>,
    /// chrono strftime format of timestamps that are not RFC 3339 or YYYY-MM-DD, e.g. `%Y%m%d`
    /// or `%d/%m/%Y %H:%M`. Times without an offset are read in --utc-offset.
    #[arg(long, value_name = "FORMAT")]
    pub time_format: Option<String>,
    /// Field delimiter: one character (`,` `;` `|`), `tab`, or `whitespace` (runs of spaces and
    /// tabs, no quoting).
    #[arg(long, default_value = ",", value_name = "DELIM")]
    pub delimiter: String,
    /// The files have no header row: columns are numbered from 1 and, unless mapped, taken in
    /// the data contract's order (orders: customer_id, ordered_at, amount, order_id, channel).
    #[arg(long)]
    pub no_header: bool,
    /// UTC offset whose calendar days count (same-day purchases are one purchase day), e.g.
    /// `+08:00`. Also the offset of timestamps written without one. Default: the offset the
    /// orders file's first timestamp carries (`+08:00` in `2025-01-02T10:00:00+08:00`), or UTC
    /// when it carries none; the summary says which.
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub utc_offset: Option<String>,
    /// What to do with a row that cannot be read: `fail` (stop, naming file, line, column and
    /// value) or `skip` (skip it, then report the count and the first 10 locations).
    #[arg(long, default_value = "fail", value_parser = ["fail", "skip"], value_name = "POLICY")]
    pub on_bad_rows: String,
    /// The longest quoted field accepted, in bytes. A longer one (usually an unclosed quote) is
    /// an error naming the line where the quote opened.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_field_bytes: usize,
}

impl InputArgs {
    /// The read options these flags describe.
    pub fn read_options(&self) -> anyhow::Result<ReadOptions> {
        let offset = match &self.utc_offset {
            Some(text) => parse_utc_offset(text).ok_or_else(|| {
                anyhow!(
                    "invalid --utc-offset `{text}`\nhint: write it like `+08:00`, `-05:00` or `Z`"
                )
            })?,
            None => {
                let sniffed = Source::sniff_utc_offset_as(&self.orders, self.format())?;
                // UTC is the documented default: only another calendar is worth a line.
                if let Some(s) = sniffed.filter(|s| *s != 0 && !crate::output::quiet()) {
                    eprintln!(
                        "days counted in UTC{} (the offset of the timestamps in `{}`; --utc-offset to change)",
                        format_offset(s),
                        self.orders.display()
                    );
                }
                sniffed.unwrap_or(0)
            }
        };
        let format = match &self.time_format {
            Some(f) => TimeFormat::Custom(f.clone()),
            None => TimeFormat::Rfc3339,
        };
        Ok(ReadOptions {
            delimiter: Delimiter::parse(&self.delimiter)?,
            has_header: !self.no_header,
            time: TimeParser::new(format, offset),
            on_bad_rows: if self.on_bad_rows == "skip" {
                BadRowPolicy::Skip
            } else {
                BadRowPolicy::Fail
            },
            columns: match &self.map {
                Some(m) => ColumnMap::parse(m)?,
                None => ColumnMap::default(),
            },
            max_field_bytes: self.max_field_bytes,
            ..ReadOptions::default()
        })
    }

    /// The input format flag.
    pub fn format(&self) -> InputFormat {
        InputFormat::parse(&self.input_format).unwrap_or_default()
    }

    /// Opens the input files.
    pub fn open(&self) -> anyhow::Result<Inputs<'static>> {
        let stdin_inputs = self
            .all_paths()
            .iter()
            .filter(|p| p.as_os_str() == "-")
            .count();
        if stdin_inputs > 1 {
            anyhow::bail!(
                "{stdin_inputs} inputs are `-`: only one input can be read from standard input"
            );
        }
        let format = self.format();
        let open = |p: &PathBuf| Source::open_as(p, format);
        Ok(Inputs {
            orders: open(&self.orders)?,
            events: self.events.as_ref().map(open).transpose()?,
            customers: self.customers.as_ref().map(open).transpose()?,
            comments: self.comments.as_ref().map(open).transpose()?,
        })
    }

    /// The input paths, in order (orders, events, customers).
    pub fn paths(&self) -> Vec<PathBuf> {
        [
            Some(&self.orders),
            self.events.as_ref(),
            self.customers.as_ref(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    /// Every input path (orders, events, customers, comments), for the output-is-input check.
    pub fn all_paths(&self) -> Vec<&std::path::Path> {
        [
            Some(&self.orders),
            self.events.as_ref(),
            self.customers.as_ref(),
            self.comments.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect()
    }

    /// Refuses `output` when it is one of the inputs (or one of `more`, e.g. the model file).
    pub fn guard_output(
        &self,
        output: Option<&std::path::Path>,
        more: &[&std::path::Path],
    ) -> anyhow::Result<()> {
        if let Some(o) = output {
            let mut inputs = self.all_paths();
            inputs.extend_from_slice(more);
            ltv::io_util::ensure_not_input(o, &inputs)?;
        }
        Ok(())
    }

    /// Total bytes of the input files (for progress bars).
    pub fn total_bytes(&self) -> u64 {
        self.paths()
            .iter()
            .flat_map(|p| ltv::data::parquet::part_files(p).unwrap_or_else(|_| vec![p.clone()]))
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

/// `+08:00` for 28,800 seconds.
pub fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let a = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// Lifecycle thresholds.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Lifecycle stages")]
pub struct LifecycleArgs {
    /// A first purchase fewer than this many days before the cutoff makes a customer `new`.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub new_within_days: i64,
    /// Customers idle (no order, no interaction) at least this many days are `silent`.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub silent_after_days: i64,
    /// Customers idle more than this many days are `churned`.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub churned_after_days: i64,
}

impl LifecycleArgs {
    /// The thresholds.
    pub fn thresholds(&self) -> LifecycleThresholds {
        LifecycleThresholds {
            new_within_days: self.new_within_days,
            silent_after_days: self.silent_after_days,
            churned_after_days: self.churned_after_days,
        }
    }
}

/// Parses `--cutoff`.
pub fn cutoff(text: &str, opts: &ReadOptions) -> anyhow::Result<Cutoff> {
    Cutoff::parse(text, &opts.time).ok_or_else(|| {
        anyhow!(
            "invalid --cutoff `{text}`\nhint: use a date (`2025-06-30`, meaning the end of that day) or an RFC 3339 timestamp"
        )
    })
}

/// Parses `--horizon`.
pub fn horizon_days(text: &str) -> anyhow::Result<i64> {
    parse_duration_days(text).ok_or_else(|| {
        anyhow!("invalid --horizon `{text}`\nhint: use days or weeks, e.g. `90d` or `39w`")
    })
}
