//! The feature table: one [`CustomerFeatures`] row per customer, the ordered column list that
//! defines the CSV output and the numeric model matrix, and the CSV writer.
use crate::data::amount::{amount_to_f64, format_amount};
use crate::data::parquet::write::{ColumnType, OutputFormat, RowSink, TableWriter, Value};
use crate::data::reader::ReadReport;
use crate::data::time::TimeParser;
use crate::features::comments::CommentFeatures;
use crate::features::lifecycle::Stage;
use crate::{Error, Result};
use rayon::prelude::*;
use std::io::Write;

/// The features of one customer at the cutoff. `None` means undefined (an empty cell).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFeatures {
    /// The customer.
    pub customer_id: String,
    /// First purchase instant.
    pub first_order_at: Option<i64>,
    /// Last purchase instant.
    pub last_order_at: Option<i64>,
    /// Purchases (order rows with amount ≥ 0, duplicates removed).
    pub orders_total: u32,
    /// Distinct purchase days − 1 (BTYD frequency `x`).
    pub repeat_purchase_days: Option<u32>,
    /// Calendar days from the first to the last purchase day (BTYD recency `t_x`).
    pub days_first_to_last_order: Option<i64>,
    /// Calendar days from the first purchase day to the cutoff day (BTYD age `T`).
    pub customer_age_days: Option<i64>,
    /// Calendar days from the last purchase day to the cutoff day.
    pub days_since_last_order: Option<i64>,
    /// Net spend (fixed-point units).
    pub spend_total: i64,
    /// Net spend per purchase.
    pub spend_avg_order: Option<f64>,
    /// Net spend per repeat purchase day (Gamma-Gamma's `m̄`).
    pub repeat_spend_avg: Option<f64>,
    /// Refunded amount / gross purchase amount.
    pub refund_rate: Option<f64>,
    /// Purchases in the last 30 / 90 / 365 days.
    pub orders_w: [u32; 3],
    /// Net spend in the last 30 / 90 / 365 days (fixed-point units).
    pub spend_w: [i64; 3],
    /// Events of any kind in the last 30 / 90 days.
    pub events_w: [u32; 2],
    /// Interactions per 30 days over the last 90 days (or since first seen, if later).
    pub interactions_per_month: f64,
    /// Push opens / pushes sent, last 90 days.
    pub push_open_rate: Option<f64>,
    /// Clicks / pushes sent, last 90 days.
    pub click_rate: Option<f64>,
    /// Shares in the last 90 days.
    pub shares_90d: u32,
    /// Review events in the last 90 days.
    pub reviews_90d: u32,
    /// Calendar days since the last interaction.
    pub days_since_last_interaction: Option<i64>,
    /// Lifecycle stage.
    pub lifecycle_stage: Stage,
    /// RFM scores (R, F, M), buyers only.
    pub rfm: Option<[u8; 3]>,
    /// RFM segment name, buyers only.
    pub rfm_segment: Option<&'static str>,
    /// Calendar days since the customer was first seen anywhere.
    pub days_since_first_seen: i64,
    /// The label, when asked for.
    pub label: Option<Label>,
    /// Comment features (written only when comments were read).
    pub comments: CommentFeatures,
}

/// What happened in `(cutoff, cutoff + horizon]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    /// Net spend (fixed-point units).
    pub future_spend: i64,
    /// Purchases.
    pub future_orders: u32,
    /// Distinct purchase days.
    pub future_purchase_days: u32,
}

/// One output cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Undefined.
    Empty,
    /// A whole number.
    Int(i64),
    /// A real number.
    Float(f64),
    /// A fixed-point money amount.
    Amount(i64),
    /// An instant.
    Time(i64),
    /// Text.
    Text(&'a str),
}

impl Cell<'_> {
    /// The cell as a number for models (`None` for empty or text cells).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Cell::Int(v) => Some(v as f64),
            Cell::Float(v) => Some(v),
            Cell::Amount(v) => Some(amount_to_f64(v)),
            Cell::Time(_) | Cell::Text(_) | Cell::Empty => None,
        }
    }
}

/// One column of the feature table.
pub struct Column {
    /// Name (part of the model contract).
    pub name: &'static str,
    /// Unit, for the feature dictionary.
    pub unit: &'static str,
    /// Whether models may use it as a numeric input.
    pub numeric: bool,
    get: fn(&CustomerFeatures) -> Cell<'_>,
}

impl Column {
    /// The cell of this column for a customer.
    pub fn cell<'a>(&self, f: &'a CustomerFeatures) -> Cell<'a> {
        (self.get)(f)
    }

    /// The column's type in Parquet output: ids text, stages and segments dictionary text,
    /// instants timestamps in the run's offset, counts (orders, days, events, comments, RFM
    /// scores) int64, everything else (money, shares, rates, scores) float64.
    pub fn output_type(&self, utc_offset_seconds: i32) -> ColumnType {
        match (self.name, self.unit) {
            ("customer_id", _) => ColumnType::Text,
            ("lifecycle_stage" | "rfm_segment", _) => ColumnType::Category,
            (_, "timestamp") => ColumnType::Time(utc_offset_seconds),
            (_, "orders" | "days" | "events" | "comments" | "score 1-5") => ColumnType::Int,
            _ => ColumnType::Float,
        }
    }
}

/// A cell as a Parquet output value.
fn output_value(cell: Cell<'_>) -> Value<'_> {
    match cell {
        Cell::Empty => Value::Null,
        Cell::Int(v) => Value::Int(v),
        Cell::Float(v) => Value::Float(v),
        Cell::Amount(v) => Value::Float(amount_to_f64(v)),
        Cell::Time(t) => Value::Time(t),
        Cell::Text(s) => Value::Text(s),
    }
}

/// The output schema of `cols` (names and types) for a run in `time`'s offset.
pub(crate) fn output_schema(
    cols: &[&Column],
    time: &TimeParser,
) -> Vec<(&'static str, ColumnType)> {
    let offset = i32::try_from(time.utc_offset_seconds()).unwrap_or(0);
    cols.iter()
        .map(|c| (c.name, c.output_type(offset)))
        .collect()
}

/// A Parquet writer for `cols` to `w`.
pub(crate) fn parquet_writer<'w>(
    cols: &[&Column],
    time: &TimeParser,
    w: &'w mut dyn Write,
    name: &std::path::Path,
) -> Result<TableWriter<'w>> {
    TableWriter::new(w, name, &output_schema(cols, time))
}

/// Appends `rows` (the values of `cols`) to a typed table sink.
pub(crate) fn push_typed_rows(
    rows: &[CustomerFeatures],
    cols: &[&Column],
    t: &mut dyn RowSink,
) -> Result<()> {
    let mut values = Vec::with_capacity(cols.len());
    for r in rows {
        values.clear();
        values.extend(cols.iter().map(|c| output_value(c.cell(r))));
        t.push_row(&values)?;
    }
    Ok(())
}

fn opt_i(v: Option<i64>) -> Cell<'static> {
    v.map_or(Cell::Empty, Cell::Int)
}
fn opt_f(v: Option<f64>) -> Cell<'static> {
    v.map_or(Cell::Empty, Cell::Float)
}

macro_rules! column {
    ($name:literal, $unit:literal, $numeric:literal, |$f:ident| $body:expr) => {
        Column {
            name: $name,
            unit: $unit,
            numeric: $numeric,
            get: |$f| $body,
        }
    };
}

/// The feature columns, in output order.
pub static FEATURE_COLUMNS: &[Column] = &[
    column!("customer_id", "", false, |f| Cell::Text(&f.customer_id)),
    column!("first_order_at", "timestamp", false, |f| f
        .first_order_at
        .map_or(Cell::Empty, Cell::Time)),
    column!("last_order_at", "timestamp", false, |f| f
        .last_order_at
        .map_or(Cell::Empty, Cell::Time)),
    column!("orders_total", "orders", true, |f| Cell::Int(
        f.orders_total.into()
    )),
    column!("repeat_purchase_days", "days", true, |f| opt_i(
        f.repeat_purchase_days.map(i64::from)
    )),
    column!("days_first_to_last_order", "days", true, |f| opt_i(
        f.days_first_to_last_order
    )),
    column!("customer_age_days", "days", true, |f| opt_i(
        f.customer_age_days
    )),
    column!("days_since_last_order", "days", true, |f| opt_i(
        f.days_since_last_order
    )),
    column!("spend_total", "currency", true, |f| Cell::Amount(
        f.spend_total
    )),
    column!("spend_avg_order", "currency/order", true, |f| opt_f(
        f.spend_avg_order
    )),
    column!("repeat_spend_avg", "currency/day", true, |f| opt_f(
        f.repeat_spend_avg
    )),
    column!("refund_rate", "share", true, |f| opt_f(f.refund_rate)),
    column!("orders_30d", "orders", true, |f| Cell::Int(
        f.orders_w[0].into()
    )),
    column!("orders_90d", "orders", true, |f| Cell::Int(
        f.orders_w[1].into()
    )),
    column!("orders_365d", "orders", true, |f| Cell::Int(
        f.orders_w[2].into()
    )),
    column!("spend_30d", "currency", true, |f| Cell::Amount(
        f.spend_w[0]
    )),
    column!("spend_90d", "currency", true, |f| Cell::Amount(
        f.spend_w[1]
    )),
    column!("spend_365d", "currency", true, |f| Cell::Amount(
        f.spend_w[2]
    )),
    column!("events_30d", "events", true, |f| Cell::Int(
        f.events_w[0].into()
    )),
    column!("events_90d", "events", true, |f| Cell::Int(
        f.events_w[1].into()
    )),
    column!(
        "interactions_per_month",
        "interactions/30 days",
        true,
        |f| Cell::Float(f.interactions_per_month)
    ),
    column!("push_open_rate", "share", true, |f| opt_f(f.push_open_rate)),
    column!("click_rate", "clicks/push", true, |f| opt_f(f.click_rate)),
    column!("shares_90d", "events", true, |f| Cell::Int(
        f.shares_90d.into()
    )),
    column!("reviews_90d", "events", true, |f| Cell::Int(
        f.reviews_90d.into()
    )),
    column!("days_since_last_interaction", "days", true, |f| opt_i(
        f.days_since_last_interaction
    )),
    column!("lifecycle_stage", "", false, |f| Cell::Text(
        f.lifecycle_stage.as_str()
    )),
    column!("rfm_r", "score 1-5", true, |f| opt_i(
        f.rfm.map(|s| s[0].into())
    )),
    column!("rfm_f", "score 1-5", true, |f| opt_i(
        f.rfm.map(|s| s[1].into())
    )),
    column!("rfm_m", "score 1-5", true, |f| opt_i(
        f.rfm.map(|s| s[2].into())
    )),
    column!("rfm_segment", "", false, |f| f
        .rfm_segment
        .map_or(Cell::Empty, Cell::Text)),
    column!("days_since_first_seen", "days", true, |f| Cell::Int(
        f.days_since_first_seen
    )),
];

/// The comment columns, written after the features when comments were read.
pub static COMMENT_COLUMNS: &[Column] = &[
    column!("comments_total", "comments", true, |f| Cell::Int(
        f.comments.comments_total.into()
    )),
    column!("comments_90d", "comments", true, |f| Cell::Int(
        f.comments.comments_90d.into()
    )),
    column!("sentiment_mean", "score -1..1", true, |f| opt_f(
        f.comments.sentiment_mean
    )),
    column!("sentiment_last", "score -1..1", true, |f| opt_f(
        f.comments.sentiment_last
    )),
    column!("negative_share", "share", true, |f| opt_f(
        f.comments.negative_share
    )),
    column!("rating_mean", "stars 1-5", true, |f| opt_f(
        f.comments.rating_mean
    )),
    column!("days_since_last_comment", "days", true, |f| opt_i(
        f.comments.days_since_last_comment
    )),
];

/// The label columns, written after the features with `--label`.
pub static LABEL_COLUMNS: &[Column] = &[
    column!("future_spend", "currency", false, |f| f
        .label
        .map_or(Cell::Empty, |l| Cell::Amount(l.future_spend))),
    column!("future_orders", "orders", false, |f| f
        .label
        .map_or(Cell::Empty, |l| Cell::Int(l.future_orders.into()))),
    column!("future_purchase_days", "days", false, |f| f
        .label
        .map_or(Cell::Empty, |l| Cell::Int(
            l.future_purchase_days.into()
        ))),
];

/// Appends `s` as one CSV field, quoted (with `"` doubled) only when it holds a comma, quote or
/// line break.
pub fn push_csv_text(out: &mut Vec<u8>, s: &str) {
    if !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Formats a float with at most 6 decimals and no trailing zeros.
pub fn format_float(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Appends [`format_float`]`(v)` to `out` without allocating: the value times 10⁶ is rounded
/// exactly (half to even, as `format!("{v:.6}")`) in integer arithmetic on the float's
/// mantissa and exponent; values of 10¹² or more take the `format!` path.
pub fn push_float(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        return;
    }
    let a = v.abs();
    if a >= 1e12 {
        out.extend_from_slice(format_float(v).as_bytes());
        return;
    }
    // a = m · 2^e exactly, m < 2^53
    let bits = a.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if exp_bits == 0 {
        (frac, -1074i64)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    let q: u64 = if e >= 0 {
        // a < 10^12 so a · 10^6 < 10^18 fits
        (m << e) * 1_000_000
    } else {
        let s = (-e) as u32;
        let num = u128::from(m) * 1_000_000;
        if s >= 127 {
            0 // num < 2^73: below half a unit
        } else {
            let q = num >> s;
            let rem = num & ((1u128 << s) - 1);
            let half = 1u128 << (s - 1);
            (q + u128::from(rem > half || (rem == half && q & 1 == 1))) as u64
        }
    };
    if q == 0 {
        out.push(b'0');
        return;
    }
    if v < 0.0 {
        out.push(b'-');
    }
    let (int, mut fr) = (q / 1_000_000, q % 1_000_000);
    push_u64(out, int);
    if fr != 0 {
        let mut digits = 6;
        while fr % 10 == 0 {
            fr /= 10;
            digits -= 1;
        }
        out.push(b'.');
        let mut buf = [b'0'; 6];
        for i in (0..digits).rev() {
            buf[i] = b'0' + (fr % 10) as u8;
            fr /= 10;
        }
        out.extend_from_slice(&buf[..digits]);
    }
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// The features of every customer at one cutoff.
#[derive(Debug, Clone)]
pub struct FeatureTable {
    /// Rows, sorted by customer id (byte order).
    pub rows: Vec<CustomerFeatures>,
    /// First second after the cutoff.
    pub cutoff_end: i64,
    /// Label horizon in days, when labels were built.
    pub horizon_days: Option<i64>,
    /// The calendar used.
    pub time: TimeParser,
    /// What the readers saw and skipped, over all inputs.
    pub report: ReadReport,
    /// Whether comments were read (the comment columns exist).
    pub has_comments: bool,
    /// Set when labels were built over a window the data does not reach.
    pub label_shortfall: Option<LabelShortfall>,
}

/// A label window that ends after the data does: its labels would count missing data as no
/// purchases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelShortfall {
    /// The last instant of the label window (RFC 3339).
    pub window_end: String,
    /// The latest order or event instant after the cutoff (RFC 3339), or a note that there is
    /// none.
    pub last: String,
}

impl LabelShortfall {
    /// [`crate::Error::PartialLabelWindow`] unless a partial window is `allowed`.
    pub fn unless_allowed(&self, allowed: bool) -> crate::Result<()> {
        if allowed {
            return Ok(());
        }
        Err(crate::Error::PartialLabelWindow {
            window_end: self.window_end.clone(),
            last: self.last.clone(),
        })
    }
}

/// The columns written: features, comment columns if `comments`, then labels if `label`.
pub(crate) fn columns(comments: bool, label: bool) -> Vec<&'static Column> {
    let mut cols: Vec<&Column> = FEATURE_COLUMNS.iter().collect();
    if comments {
        cols.extend(COMMENT_COLUMNS.iter());
    }
    if label {
        cols.extend(LABEL_COLUMNS.iter());
    }
    cols
}

fn write_cell(time: &TimeParser, out: &mut Vec<u8>, cell: Cell<'_>) {
    match cell {
        Cell::Empty => {}
        Cell::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Cell::Float(v) => out.extend_from_slice(format_float(v).as_bytes()),
        Cell::Amount(v) => out.extend_from_slice(format_amount(v).as_bytes()),
        Cell::Time(t) => out.extend_from_slice(time.format(t).as_bytes()),
        Cell::Text(s) => push_csv_text(out, s),
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::io("<output>", e)
}

/// Writes the CSV header line of `cols`.
pub(crate) fn write_header(cols: &[&Column], w: &mut dyn Write) -> Result<()> {
    let header: Vec<&str> = cols.iter().map(|c| c.name).collect();
    w.write_all(header.join(",").as_bytes()).map_err(io_error)?;
    w.write_all(b"\n").map_err(io_error)
}

/// Formats `rows` as CSV lines on all cores (in blocks of 4096 rows; the bytes do not depend on
/// the thread count) and writes them.
pub(crate) fn write_rows(
    rows: &[CustomerFeatures],
    cols: &[&Column],
    time: &TimeParser,
    w: &mut dyn Write,
) -> Result<()> {
    let blocks: Vec<Vec<u8>> = rows
        .par_chunks(4096)
        .map(|rows| {
            let mut out = Vec::with_capacity(rows.len() * 200);
            for r in rows {
                for (i, c) in cols.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_cell(time, &mut out, c.cell(r));
                }
                out.push(b'\n');
            }
            out
        })
        .collect();
    for b in blocks {
        w.write_all(&b).map_err(io_error)?;
    }
    Ok(())
}

impl FeatureTable {
    /// The columns written: features, then labels if present.
    pub fn columns(&self) -> Vec<&'static Column> {
        columns(self.has_comments, self.horizon_days.is_some())
    }

    /// Writes the table as CSV or Parquet (`name` names the output in messages).
    pub fn write_as(
        &self,
        format: OutputFormat,
        w: &mut dyn Write,
        name: &std::path::Path,
    ) -> Result<()> {
        match format {
            OutputFormat::Csv => self.write_csv(w),
            OutputFormat::Parquet => {
                let cols = self.columns();
                let mut t = parquet_writer(&cols, &self.time, w, name)?;
                push_typed_rows(&self.rows, &cols, &mut t)?;
                t.finish()
            }
        }
    }

    /// Writes the table as CSV (header, then one row per customer). Formatting runs on all
    /// cores, 64k rows at a time; the bytes do not depend on the thread count.
    pub fn write_csv(&self, w: &mut dyn Write) -> Result<()> {
        let cols = self.columns();
        write_header(&cols, w)?;
        for block in self.rows.chunks(1 << 16) {
            write_rows(block, &cols, &self.time, w)?;
        }
        Ok(())
    }

    /// Names of the numeric feature columns models may use, in order (the comment columns
    /// only when comments were read).
    pub fn numeric_feature_names(&self) -> Vec<&'static str> {
        let comments: &[Column] = if self.has_comments {
            COMMENT_COLUMNS
        } else {
            &[]
        };
        FEATURE_COLUMNS
            .iter()
            .chain(comments)
            .filter(|c| c.numeric)
            .map(|c| c.name)
            .collect()
    }

    /// The named feature columns as a matrix (rows = customers); empty cells are NaN.
    /// Unknown names are an error.
    pub fn matrix(&self, names: &[&str]) -> Result<ndarray::Array2<f64>> {
        matrix_of(&self.rows, self.has_comments, names)
    }
}

/// The named columns of `rows` as a matrix (rows = customers; empty cells are NaN), as
/// [`FeatureTable::matrix`] of a table holding `rows`; the comment columns exist only when
/// `has_comments`. Unknown names are an error.
pub fn matrix_of(
    rows: &[CustomerFeatures],
    has_comments: bool,
    names: &[&str],
) -> Result<ndarray::Array2<f64>> {
    let cols = model_columns(has_comments, names)?;
    let mut m = ndarray::Array2::<f64>::from_elem((rows.len(), cols.len()), f64::NAN);
    m.axis_iter_mut(ndarray::Axis(0))
        .into_par_iter()
        .zip(rows.par_iter())
        .for_each(|(mut row, f)| {
            for (j, c) in cols.iter().enumerate() {
                if let Some(v) = c.cell(f).as_f64() {
                    row[j] = v;
                }
            }
        });
    Ok(m)
}

/// The named columns (features, comment columns when `has_comments`, labels), for
/// [`fill_model_row`]. Unknown names are an error.
pub fn model_columns(has_comments: bool, names: &[&str]) -> Result<Vec<&'static Column>> {
    names
        .iter()
        .map(|n| {
            FEATURE_COLUMNS
                .iter()
                .chain(COMMENT_COLUMNS.iter().filter(|_| has_comments))
                .chain(LABEL_COLUMNS.iter())
                .find(|c| c.name == *n)
                .ok_or_else(|| Error::InvalidParameter {
                    name: "feature",
                    value: n.to_string(),
                    reason: "not a column of the feature table".into(),
                })
        })
        .collect()
}

/// Writes the values of `cols` for customer `f` to `out` (one per column; NaN for empty
/// cells): one row of [`matrix_of`].
pub fn fill_model_row(cols: &[&Column], f: &CustomerFeatures, out: &mut [f64]) {
    for (o, c) in out.iter_mut().zip(cols) {
        *o = c.cell(f).as_f64().unwrap_or(f64::NAN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_short_and_stable() {
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(2.0), "2");
        assert_eq!(format_float(1.0 / 3.0), "0.333333");
        assert_eq!(format_float(-0.0000001), "0");
        assert_eq!(format_float(f64::NAN), "");
    }

    /// `push_float` writes exactly `format_float`'s bytes: on random values of every
    /// magnitude, integers, exact halves of the last digit (dyadic ties such as 2⁻⁷, where the
    /// rounding rule shows), subnormals, ±0, ±inf, NaN and the 10¹² fallback edge.
    #[test]
    fn push_float_equals_format_float() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut values = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            5e-7,
            -5e-7,
            4.9999999e-7,
            1e12,
            1e12 - 1e-4,
            -1e12,
            999_999_999_999.999_9,
            0.999_999_5,
            1.5,
            2.5,
            0.1,
            0.3,
        ];
        for k in 1..=40 {
            let t = 2f64.powi(-k);
            values.extend([t, -t, 3.0 * t, 1.0 + t, 12345.0 + 5.0 * t]);
        }
        for _ in 0..200_000 {
            let mag = 10f64.powi(rng.gen_range(-12..13));
            let v = rng.gen::<f64>() * mag * if rng.gen() { 1.0 } else { -1.0 };
            values.push(v);
            values.push((v * 1e6).round() / 1e6 + 5e-7); // near ties
            values.push(rng.gen_range(-1000i64..100_000) as f64);
            values.push(f64::from_bits(rng.gen::<u64>()));
        }
        for v in values {
            let mut out = Vec::new();
            push_float(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), format_float(v), "{v:e}");
        }
    }

    #[test]
    fn contract_columns_are_present_in_order() {
        let want =
            "customer_id, first_order_at, last_order_at, orders_total, repeat_purchase_days, \
            days_first_to_last_order, customer_age_days, days_since_last_order, spend_total, \
            spend_avg_order, repeat_spend_avg, refund_rate, orders_30d, orders_90d, orders_365d, \
            spend_30d, spend_90d, spend_365d, events_30d, events_90d, interactions_per_month, \
            push_open_rate, click_rate, shares_90d, reviews_90d, days_since_last_interaction, \
            lifecycle_stage, rfm_r, rfm_f, rfm_m, rfm_segment";
        let names: Vec<&str> = FEATURE_COLUMNS.iter().map(|c| c.name).collect();
        let want: Vec<&str> = want.split(',').map(str::trim).collect();
        assert_eq!(&names[..want.len()], &want[..]);
    }
}
