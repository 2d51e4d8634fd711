//! Seeded generator of realistic private-domain customer behaviour (orders, events, comments,
//! customers) in the data contract's format.
//!
//! The model, per customer:
//! - acquired (`first_seen_at`) somewhere in the window, more often later (a growing shop);
//!   a share [`SynthParams::never_buy_share`] never buys (potential customers);
//! - buyers follow the BG/NBD process: purchase rate λ ~ Gamma(r, α) per day, and after every
//!   purchase (the first included) they drop out with probability p ~ Beta(a, b);
//! - order values follow the Gamma-Gamma model: ν ~ Gamma(q, γ), amount ~ Gamma(p, ν), so the
//!   mean order value is p·γ/(q−1); some orders are refunded 1–14 days later (negative rows);
//! - engagement (events) follows an activity level that is high while the customer is alive,
//!   higher for frequent buyers, rises in the days before each purchase and decays after
//!   dropout; push messages go out on a schedule to every reachable customer and are opened
//!   with a probability that follows the same activity level;
//! - comments mostly follow purchases; their tone (and rating) drops for a purchase after
//!   which the customer drops out, for refunded orders and for customers prone to churn, and
//!   rises for high-value frequent buyers.
//!
//! Output is byte-identical for a seed and any rayon thread count: customers are generated in
//! blocks of [`BLOCK_CUSTOMERS`], each with its own ChaCha8 stream derived from (seed, block),
//! and blocks are written in order. Files are written to temporary files and renamed into
//! place only when everything succeeded.
mod customer;
mod format;
mod parquet_out;
mod text;

use crate::{Error, Result};
use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Customers per block; each block has its own random stream, so the output does not depend
/// on how blocks are scheduled on threads.
pub const BLOCK_CUSTOMERS: u64 = 4096;
/// Blocks generated in parallel before their rows are written (bounds memory to a few
/// hundred MB at large `events_per_customer`).
const BATCH_BLOCKS: u64 = 16;
/// Largest accepted number of customers.
pub const MAX_CUSTOMERS: u64 = 100_000_000;

/// The file names written into the output directory, in the order of [`SynthSummary`].
pub const FILE_NAMES: [&str; 4] = ["customers.csv", "orders.csv", "events.csv", "comments.csv"];

/// Parameters of the generator. Build with [`SynthParams::default`] and the chainable setters
/// (one per field, same name), then [`SynthParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct SynthParams {
    /// Number of customers (default 5000).
    pub customers: u64,
    /// Random seed (default 42).
    pub seed: u64,
    /// First day of the window, local time +08:00 (default 2024-01-01).
    pub start: NaiveDate,
    /// Last day of the window, inclusive (default 2025-09-30).
    pub end: NaiveDate,
    /// Share of customers who never buy (default 0.25).
    pub never_buy_share: f64,
    /// BG/NBD r: shape of the Gamma distribution of purchase rates (default 0.55).
    pub purchase_rate_shape: f64,
    /// BG/NBD α in days: rate of the Gamma distribution of purchase rates, so the mean rate is
    /// r/α purchases per day (default 50, i.e. one purchase per ~91 days on average).
    pub purchase_rate_alpha_days: f64,
    /// BG/NBD a: first shape of the Beta distribution of dropout probabilities (default 0.9).
    pub dropout_a: f64,
    /// BG/NBD b: second shape of the Beta distribution of dropout probabilities (default 2.7;
    /// mean dropout probability a/(a+b) = 0.25).
    pub dropout_b: f64,
    /// Gamma-Gamma p: shape of a customer's order values (default 6).
    pub spend_p: f64,
    /// Gamma-Gamma q: shape of the Gamma distribution of ν (default 4; must exceed 1).
    pub spend_q: f64,
    /// Gamma-Gamma γ: rate of the Gamma distribution of ν (default 100; mean order value
    /// p·γ/(q−1) = 200 CNY).
    pub spend_gamma: f64,
    /// Approximate share of orders refunded (default 0.04).
    pub refund_share: f64,
    /// Mean number of event rows per customer over the default window (default 20); all event
    /// rates scale linearly with it.
    pub events_per_customer: f64,
}

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams {
            customers: 5000,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2025, 9, 30).unwrap_or_default(),
            never_buy_share: 0.25,
            purchase_rate_shape: 0.55,
            purchase_rate_alpha_days: 50.0,
            dropout_a: 0.9,
            dropout_b: 2.7,
            spend_p: 6.0,
            spend_q: 4.0,
            spend_gamma: 100.0,
            refund_share: 0.04,
            events_per_customer: 20.0,
        }
    }
}

macro_rules! setters {
    ($($name:ident : $ty:ty),* $(,)?) => {
        $(
            #[doc = concat!("Sets [`SynthParams::", stringify!($name), "`].")]
            pub fn $name(mut self, value: $ty) -> Self {
                self.$name = value;
                self
            }
        )*
    };
}

impl SynthParams {
    setters!(
        customers: u64,
        seed: u64,
        start: NaiveDate,
        end: NaiveDate,
        never_buy_share: f64,
        purchase_rate_shape: f64,
        purchase_rate_alpha_days: f64,
        dropout_a: f64,
        dropout_b: f64,
        spend_p: f64,
        spend_q: f64,
        spend_gamma: f64,
        refund_share: f64,
        events_per_customer: f64,
    );

    /// The mean order value p·γ/(q−1) implied by the Gamma-Gamma parameters.
    pub fn mean_order_value(&self) -> f64 {
        self.spend_p * self.spend_gamma / (self.spend_q - 1.0)
    }

    /// Days in the window (both ends included).
    pub fn window_days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// Validates the parameters; the error names the first bad one and its value.
    pub fn check(&self) -> Result<()> {
        fn bad(name: &'static str, value: impl ToString, reason: &str) -> Result<()> {
            Err(Error::InvalidParameter {
                name,
                value: value.to_string(),
                reason: reason.to_string(),
            })
        }
        if self.customers == 0 || self.customers > MAX_CUSTOMERS {
            return bad(
                "customers",
                self.customers,
                &format!("must be between 1 and {MAX_CUSTOMERS}"),
            );
        }
        if self.end < self.start {
            return bad("end", self.end, &format!("is before start {}", self.start));
        }
        if self.window_days() > 366 * 30 {
            return bad("end", self.end, "window longer than 30 years");
        }
        let positive = [
            ("purchase_rate_shape", self.purchase_rate_shape),
            ("purchase_rate_alpha_days", self.purchase_rate_alpha_days),
            ("dropout_a", self.dropout_a),
            ("dropout_b", self.dropout_b),
            ("spend_p", self.spend_p),
            ("spend_gamma", self.spend_gamma),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0 && v < 1e9) {
                return bad(name, v, "must be a finite number > 0");
            }
        }
        if !(self.spend_q.is_finite() && self.spend_q > 1.0 && self.spend_q < 1e9) {
            return bad(
                "spend_q",
                self.spend_q,
                "must exceed 1 (finite mean order value)",
            );
        }
        for (name, v) in [
            ("never_buy_share", self.never_buy_share),
            ("refund_share", self.refund_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(name, v, "must be a share between 0 and 1");
            }
        }
        if self.refund_share > 0.5 {
            return bad("refund_share", self.refund_share, "must be at most 0.5");
        }
        if !(self.events_per_customer.is_finite()
            && (0.0..=10_000.0).contains(&self.events_per_customer))
        {
            return bad(
                "events_per_customer",
                self.events_per_customer,
                "must be between 0 and 10000",
            );
        }
        Ok(())
    }
}

/// Rows and bytes written, per file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynthSummary {
    /// Rows of `customers.csv`.
    pub customers: u64,
    /// Rows of `orders.csv`, refunds included.
    pub orders: u64,
    /// Refund rows (negative amounts) among `orders`.
    pub refunds: u64,
    /// Rows of `events.csv`.
    pub events: u64,
    /// Rows of `comments.csv`.
    pub comments: u64,
    /// Bytes written to the four files together, headers included.
    pub bytes: u64,
}

impl SynthSummary {
    fn add(&mut self, o: &SynthSummary) {
        self.customers += o.customers;
        self.orders += o.orders;
        self.refunds += o.refunds;
        self.events += o.events;
        self.comments += o.comments;
        self.bytes += o.bytes;
    }
}

/// The rows of one block of customers, one buffer per file.
#[derive(Debug, Default)]
pub(crate) struct BlockOut {
    pub(crate) files: [Vec<u8>; 4],
    pub(crate) counts: SynthSummary,
}

const HEADERS: [&str; 4] = [
    "customer_id,first_seen_at,acquisition_channel\n",
    "order_id,customer_id,ordered_at,amount,channel\n",
    "customer_id,occurred_at,event,channel\n",
    "customer_id,created_at,text,rating\n",
];

/// Mixed into the seed for the engagement stream of a block.
const ENGAGEMENT_STREAM: u64 = 0x5EED_E4E4_7A11_0C0D;

/// The random stream of a block: splitmix64 of the seed and the block index.
fn block_seed(seed: u64, block: u64) -> u64 {
    let mut z = seed ^ block.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The file format [`generate_as`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SynthFormat {
    /// `customers.csv`, `orders.csv`, `events.csv`, `comments.csv` (the contract's CSV).
    #[default]
    Csv,
    /// The same rows as `*.parquet`, typed as a warehouse export would be: ids as strings,
    /// instants as `timestamp[ms, +08:00]`, amounts as `decimal128(18, 2)`, ratings as int64,
    /// channels and events as dictionary strings (zstd).
    Parquet,
}

impl SynthFormat {
    /// The four file names of this format, in [`FILE_NAMES`] order.
    pub fn file_names(self) -> [String; 4] {
        FILE_NAMES.map(|n| match self {
            SynthFormat::Csv => n.to_string(),
            SynthFormat::Parquet => n.replace(".csv", ".parquet"),
        })
    }
}

/// Generates the data set and writes `customers.csv`, `orders.csv`, `events.csv` and
/// `comments.csv` into `out_dir` (created if missing). Existing files are replaced only when
/// all four were written; on error they are left untouched.
///
/// `progress` is called with the number of customers generated so far, after each batch of
/// blocks. Output depends only on `params`, not on the number of rayon threads. Memory: about
/// 16 blocks of rows at a time (~100 MB at the default event rate).
pub fn generate(
    params: &SynthParams,
    out_dir: &Path,
    progress: &dyn Fn(u64),
) -> Result<SynthSummary> {
    generate_as(params, out_dir, SynthFormat::Csv, progress)
}

/// [`generate`] in the given file format (the same rows in both).
pub fn generate_as(
    params: &SynthParams,
    out_dir: &Path,
    format: SynthFormat,
    progress: &dyn Fn(u64),
) -> Result<SynthSummary> {
    params.check()?;
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let ctx = customer::Ctx::new(params)?;
    let paths: Vec<PathBuf> = format
        .file_names()
        .iter()
        .map(|n| out_dir.join(n))
        .collect();
    let tmps = paths
        .iter()
        .map(|p| crate::io_util::AtomicFile::create(p))
        .collect::<Result<Vec<_>>>()?;
    let mut summary = SynthSummary::default();
    {
        let mut writers: Vec<std::io::BufWriter<&std::fs::File>> = tmps
            .iter()
            .map(|t| std::io::BufWriter::with_capacity(1 << 20, t.file()))
            .collect();
        let mut sinks: Vec<Sink<'_, '_>> = match format {
            SynthFormat::Csv => writers.iter_mut().map(Sink::Csv).collect(),
            SynthFormat::Parquet => writers
                .iter_mut()
                .enumerate()
                .map(|(i, w)| {
                    parquet_out::writer(i, w, &paths[i]).map(|t| Sink::Parquet(Box::new(t)))
                })
                .collect::<Result<_>>()?,
        };
        for (i, w) in sinks.iter_mut().enumerate() {
            if let Sink::Csv(w) = w {
                w.write_all(HEADERS[i].as_bytes())
                    .map_err(|e| Error::io(&paths[i], e))?;
                summary.bytes += HEADERS[i].len() as u64;
            }
        }
        let n_blocks = params.customers.div_ceil(BLOCK_CUSTOMERS);
        let mut b0 = 0;
        while b0 < n_blocks {
            let b1 = (b0 + BATCH_BLOCKS).min(n_blocks);
            let outs: Vec<BlockOut> = (b0..b1)
                .into_par_iter()
                .map(|b| {
                    let first = b * BLOCK_CUSTOMERS;
                    let last = (first + BLOCK_CUSTOMERS).min(params.customers);
                    let mut rng = ChaCha8Rng::seed_from_u64(block_seed(params.seed, b));
                    let mut eng =
                        ChaCha8Rng::seed_from_u64(block_seed(params.seed ^ ENGAGEMENT_STREAM, b));
                    ctx.block(&mut rng, &mut eng, first..last)
                })
                .collect();
            for out in &outs {
                for (i, w) in sinks.iter_mut().enumerate() {
                    match w {
                        Sink::Csv(w) => w
                            .write_all(&out.files[i])
                            .map_err(|e| Error::io(&paths[i], e))?,
                        Sink::Parquet(t) => parquet_out::push_csv_rows(i, t, &out.files[i])?,
                    }
                }
                summary.add(&out.counts);
            }
            progress(summary.customers);
            b0 = b1;
        }
        for (i, w) in sinks.into_iter().enumerate() {
            match w {
                Sink::Csv(w) => w.flush().map_err(|e| Error::io(&paths[i], e))?,
                Sink::Parquet(t) => t.finish()?,
            }
        }
        for (i, w) in writers.iter_mut().enumerate() {
            w.flush().map_err(|e| Error::io(&paths[i], e))?;
        }
    }
    if format == SynthFormat::Parquet {
        summary.bytes = tmps
            .iter()
            .filter_map(|t| t.file().metadata().ok())
            .map(|m| m.len())
            .sum();
    }
    // Modes: 0666 less the umask for new files; a replaced file keeps its mode.
    for t in tmps {
        t.commit()?;
    }
    Ok(summary)
}

/// Where one generated file goes.
enum Sink<'w, 'f> {
    Csv(&'w mut std::io::BufWriter<&'f std::fs::File>),
    Parquet(Box<crate::data::parquet::write::TableWriter<'w>>),
}

#[cfg(test)]
mod tests;
