//! Per-customer feature table at a cutoff instant: RFM, engagement, lifecycle, and the label.
//!
//! One streaming pass per input file folds rows into per-customer accumulators
//! ([`accumulate`]); memory grows with the number of customers (and, for customers with order
//! ids, the ids of their orders), not with the number of rows. Only rows at or before the cutoff
//! reach any feature; rows in `(cutoff, cutoff + horizon]` reach only the label columns.
pub mod accumulate;
pub mod comments;
pub mod lifecycle;
pub mod rfm;
pub mod table;

use crate::data::reader::{read_sharded, ParsedChunk, SHARDS};
use crate::data::time::{Cutoff, SECONDS_PER_DAY};
use crate::data::{InputKind, ReadOptions, ReadReport, Source};
use crate::{Error, Result};
use accumulate::{CustomerAcc, Frame};
pub use lifecycle::{LifecycleThresholds, Stage};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
pub use table::{CustomerFeatures, FeatureTable, Label, FEATURE_COLUMNS, LABEL_COLUMNS};

/// The inputs of one feature build. Only `orders` is required.
pub struct Inputs<'a> {
    /// orders.csv
    pub orders: Source<'a>,
    /// events.csv
    pub events: Option<Source<'a>>,
    /// customers.csv
    pub customers: Option<Source<'a>>,
    /// comments.csv (adds the comment and sentiment columns)
    pub comments: Option<Source<'a>>,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct FeatureParams {
    /// The cutoff `T`.
    pub cutoff: Cutoff,
    /// Label horizon in days: with `Some(h)`, the label columns cover `(T, T + h days]`.
    pub horizon_days: Option<i64>,
    /// Lifecycle stage thresholds.
    pub lifecycle: LifecycleThresholds,
}

type Shards = Vec<FxHashMap<Box<str>, CustomerAcc>>;

fn fold_into<T: Sync>(
    shards: &mut Shards,
    batch: &[ParsedChunk<T>],
    apply: impl Fn(&mut CustomerAcc, &T) + Sync,
) {
    shards.par_iter_mut().enumerate().for_each(|(s, map)| {
        for chunk in batch {
            for row in &chunk.shards[s] {
                let id = chunk.id(row);
                match map.get_mut(id) {
                    Some(acc) => apply(acc, &row.value),
                    None => {
                        let mut acc = CustomerAcc::default();
                        apply(&mut acc, &row.value);
                        map.insert(id.into(), acc);
                    }
                }
            }
        }
    });
}

/// Builds the feature table. `progress` receives the total bytes read so far over all inputs.
pub fn build_features(
    inputs: Inputs<'_>,
    params: &FeatureParams,
    opts: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FeatureTable> {
    params.lifecycle.check()?;
    if let Some(h) = params.horizon_days {
        if h <= 0 {
            return Err(Error::InvalidParameter {
                name: "horizon",
                value: h.to_string(),
                reason: "must be a positive number of days".into(),
            });
        }
    }
    let cutoff_end = params.cutoff.end_exclusive;
    let frame = Frame {
        cutoff_end,
        label_end: cutoff_end + params.horizon_days.unwrap_or(0) * SECONDS_PER_DAY,
        time: opts.time.clone(),
    };
    let mut shards: Shards = (0..SHARDS).map(|_| FxHashMap::default()).collect();
    let mut report = ReadReport::default();
    let done = std::sync::atomic::AtomicU64::new(0);
    let mut base = 0u64;
    let mut read = |source: Source<'_>, kind: InputKind, shards: &mut Shards| -> Result<()> {
        let start = base;
        let prog = |b: u64| {
            done.store(start + b, std::sync::atomic::Ordering::Relaxed);
            progress(start + b);
        };
        let r = match kind {
            InputKind::Orders => read_sharded(
                source,
                kind,
                opts,
                |f| accumulate::parse_order(&frame, f),
                |batch| fold_into(shards, batch, |a, r| a.add_order(r, &frame)),
                &prog,
            )?,
            InputKind::Events => read_sharded(
                source,
                kind,
                opts,
                |f| accumulate::parse_event(&frame, f),
                |batch| fold_into(shards, batch, |a, r| a.add_event(r, &frame)),
                &prog,
            )?,
            InputKind::Customers => read_sharded(
                source,
                kind,
                opts,
                |f| accumulate::parse_customer(&frame, f),
                |batch| fold_into(shards, batch, |a, r| a.add_customer(r)),
                &prog,
            )?,
            InputKind::Comments => ReadReport::default(),
        };
        base = done.load(std::sync::atomic::Ordering::Relaxed);
        report.merge(r);
        Ok(())
    };
    read(inputs.orders, InputKind::Orders, &mut shards)?;
    if let Some(s) = inputs.events {
        read(s, InputKind::Events, &mut shards)?;
    }
    if let Some(s) = inputs.customers {
        read(s, InputKind::Customers, &mut shards)?;
    }
    let has_comments = inputs.comments.is_some();
    let mut comment_shards: Vec<FxHashMap<Box<str>, comments::CommentAcc>> =
        (0..SHARDS).map(|_| FxHashMap::default()).collect();
    if let Some(source) = inputs.comments {
        let scorer = crate::sentiment::SentimentScorer::shared();
        let r = read_sharded(
            source,
            InputKind::Comments,
            opts,
            |f| comments::parse_comment(&frame, scorer, f),
            |batch| {
                comment_shards
                    .par_iter_mut()
                    .enumerate()
                    .for_each(|(s, map)| {
                        for chunk in batch {
                            for row in &chunk.shards[s] {
                                map.entry(chunk.id(row).into())
                                    .or_default()
                                    .add(&row.value, &frame);
                            }
                        }
                    });
            },
            &|b| progress(base + b),
        )?;
        report.merge(r);
        // Customers who only wrote comments exist too (first seen at their first comment).
        for (map, cmap) in shards.iter_mut().zip(&comment_shards) {
            for (id, c) in cmap {
                if let Some(ts) = c.first_ts() {
                    let acc = map.entry(id.clone()).or_default();
                    acc.first_seen = Some(acc.first_seen.map_or(ts, |f| f.min(ts)));
                }
            }
        }
    }
    let mut accs: Vec<(Box<str>, CustomerAcc)> = shards
        .into_iter()
        .flat_map(|m| m.into_iter())
        .filter(|(_, a)| a.exists())
        .collect();
    accs.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let comment_of = |id: &str| {
        comment_shards[crate::data::reader::shard_of(id.as_bytes())]
            .get(id)
            .map(|c| c.finish(&frame))
            .unwrap_or_default()
    };
    let mut rows: Vec<CustomerFeatures> = accs
        .into_par_iter()
        .map(|(id, acc)| {
            let mut f = finalize(id.into(), &acc, &frame, params);
            f.comments = comment_of(&f.customer_id);
            f
        })
        .collect();
    assign_rfm(&mut rows);
    Ok(FeatureTable {
        rows,
        cutoff_end,
        horizon_days: params.horizon_days,
        time: opts.time.clone(),
        report,
        has_comments,
    })
}

fn ratio(num: u32, den: u32) -> Option<f64> {
    (den > 0).then(|| f64::from(num) / f64::from(den))
}

fn finalize(
    customer_id: String,
    acc: &CustomerAcc,
    frame: &Frame,
    params: &FeatureParams,
) -> CustomerFeatures {
    let t = &frame.time;
    let cutoff_day = t.day_of(frame.cutoff_end - 1);
    let purchase_days: Vec<&accumulate::OrderDay> =
        acc.days.iter().filter(|d| d.purchase).collect();
    let first_day = purchase_days.first().map(|d| d.day);
    let last_day = purchase_days.last().map(|d| d.day);
    let repeat = (!purchase_days.is_empty()).then(|| purchase_days.len() as u32 - 1);
    let first_day_net = purchase_days.first().map_or(0, |d| d.net);
    let repeat_spend_avg = repeat.filter(|x| *x > 0).map(|x| {
        crate::data::amount::amount_to_f64(acc.spend_total - first_day_net) / f64::from(x)
    });
    let days_since_last_interaction = acc.last_interaction.map(|ts| cutoff_day - t.day_of(ts));
    let first_seen_day = acc.first_seen.map_or(cutoff_day, |ts| t.day_of(ts));
    let days_since_first_seen = cutoff_day - first_seen_day;
    let observed_days = (days_since_first_seen + 1).clamp(1, 90);
    let days_since_last_order = last_day.map(|d| cutoff_day - d);
    let days_since_first_order = first_day.map(|d| cutoff_day - d);
    let spend = crate::data::amount::amount_to_f64(acc.spend_total);
    CustomerFeatures {
        customer_id,
        first_order_at: acc.first_purchase,
        last_order_at: acc.last_purchase,
        orders_total: acc.orders_total,
        repeat_purchase_days: repeat,
        days_first_to_last_order: first_day.zip(last_day).map(|(f, l)| l - f),
        customer_age_days: days_since_first_order,
        days_since_last_order,
        spend_total: acc.spend_total,
        spend_avg_order: (acc.orders_total > 0).then(|| spend / f64::from(acc.orders_total)),
        repeat_spend_avg,
        refund_rate: (acc.purchase_amount > 0)
            .then(|| acc.refund_amount as f64 / acc.purchase_amount as f64),
        orders_w: acc.orders_w,
        spend_w: acc.spend_w,
        events_w: acc.events_w,
        interactions_per_month: f64::from(acc.interactions_90d) * 30.0 / observed_days as f64,
        push_open_rate: ratio(acc.push_open_90d, acc.push_sent_90d),
        click_rate: ratio(acc.click_90d, acc.push_sent_90d),
        shares_90d: acc.shares_90d,
        reviews_90d: acc.reviews_90d,
        days_since_last_interaction,
        lifecycle_stage: params.lifecycle.stage(
            days_since_first_order,
            days_since_last_order,
            days_since_last_interaction,
        ),
        rfm: None,
        rfm_segment: None,
        days_since_first_seen,
        label: params.horizon_days.map(|_| Label {
            future_spend: acc.future_spend,
            future_orders: acc.future_orders,
            future_purchase_days: acc.future_purchase_days(),
        }),
        comments: Default::default(),
    }
}

fn assign_rfm(rows: &mut [CustomerFeatures]) {
    let buyers: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].orders_total > 0)
        .collect();
    if buyers.is_empty() {
        return;
    }
    let r_vals: Vec<i64> = buyers
        .iter()
        .map(|&i| rows[i].days_since_last_order.unwrap_or(i64::MAX))
        .collect();
    let f_vals: Vec<i64> = buyers
        .iter()
        .map(|&i| rows[i].orders_total.into())
        .collect();
    let m_vals: Vec<i64> = buyers.iter().map(|&i| rows[i].spend_total).collect();
    let r = rfm::quintile_scores(&r_vals, false);
    let f = rfm::quintile_scores(&f_vals, true);
    let m = rfm::quintile_scores(&m_vals, true);
    for (k, &i) in buyers.iter().enumerate() {
        rows[i].rfm = Some([r[k], f[k], m[k]]);
        rows[i].rfm_segment = Some(rfm::segment(r[k], f[k], m[k]));
    }
}

#[cfg(test)]
mod tests;
