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

/// One shard of the fold: customer ids in one byte arena, their accumulators in a dense
/// `Vec`, and an index table of `u32` positions keyed by the id (a few bytes per customer
/// instead of a whole accumulator per hash bucket).
#[derive(Default)]
struct Shard {
    index: hashbrown::HashTable<u32>,
    id_ends: Vec<usize>,
    ids: Vec<u8>,
    accs: Accs,
    keys: accumulate::OrderKeys,
}

/// Accumulators per block of [`Accs`].
const ACC_BLOCK: usize = 1024;

/// A growable array of accumulators in fixed blocks of [`ACC_BLOCK`]: growing never copies
/// (no doubling, no old + new copy alive at once), and the blocks are small enough to reuse
/// the heap memory the order-id sets leave behind once orders.csv is read.
#[derive(Default)]
struct Accs {
    blocks: Vec<Vec<CustomerAcc>>,
    len: usize,
}

impl Accs {
    fn push(&mut self, acc: CustomerAcc) {
        if self.len.is_multiple_of(ACC_BLOCK) {
            self.blocks.push(Vec::with_capacity(ACC_BLOCK));
        }
        if let Some(b) = self.blocks.last_mut() {
            b.push(acc);
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter(&self) -> impl Iterator<Item = &CustomerAcc> {
        self.blocks.iter().flatten()
    }
}

impl std::ops::Index<usize> for Accs {
    type Output = CustomerAcc;
    #[inline]
    fn index(&self, i: usize) -> &CustomerAcc {
        &self.blocks[i / ACC_BLOCK][i % ACC_BLOCK]
    }
}

impl std::ops::IndexMut<usize> for Accs {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut CustomerAcc {
        &mut self.blocks[i / ACC_BLOCK][i % ACC_BLOCK]
    }
}

fn id_hash(id: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(id);
    h.finish()
}

impl Shard {
    fn id(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.id_ends[i - 1] };
        &self.ids[start..self.id_ends[i]]
    }

    /// The position of customer `id`, added with an empty accumulator when new.
    fn position(&mut self, id: &[u8]) -> usize {
        let hash = id_hash(id);
        let Shard {
            index,
            id_ends,
            ids,
            accs,
            ..
        } = self;
        let id_at = |i: u32| {
            let i = i as usize;
            let start = if i == 0 { 0 } else { id_ends[i - 1] };
            &ids[start..id_ends[i]]
        };
        if let Some(&i) = index.find(hash, |&i| id_at(i) == id) {
            return i as usize;
        }
        let i = accs.len();
        index.insert_unique(hash, i as u32, |&j| id_hash(id_at(j)));
        ids.extend_from_slice(id);
        id_ends.push(ids.len());
        accs.push(CustomerAcc::default());
        i
    }
}

type Shards = Vec<Shard>;

fn fold_into<T: Sync>(
    shards: &mut Shards,
    batch: &[ParsedChunk<T>],
    apply: impl Fn(&mut CustomerAcc, &mut accumulate::OrderKeys, u32, &T) + Sync,
) {
    shards.par_iter_mut().enumerate().for_each(|(s, shard)| {
        for chunk in batch {
            for row in &chunk.shards[s] {
                let i = shard.position(chunk.id(row).as_bytes());
                apply(&mut shard.accs[i], &mut shard.keys, i as u32, &row.value);
            }
        }
    });
}

/// The folded inputs of one feature build, before the per-customer rows are made: finish with
/// [`FeatureBuild::write_csv`] (rows are made and written in bounded blocks, never all at
/// once) or [`FeatureBuild::into_table`].
pub struct FeatureBuild {
    shards: Shards,
    /// (shard, position) of every customer that exists at the cutoff, sorted by id.
    order: Vec<(u32, u32)>,
    /// RFM scores per entry of `order` (`[0; 3]` for non-buyers).
    rfm: Vec<[u8; 3]>,
    frame: Frame,
    params: FeatureParams,
    report: ReadReport,
    /// Comment accumulators per shard (same sharding as `shards`), when comments were read.
    comments: Option<Vec<FxHashMap<Box<str>, comments::CommentAcc>>>,
}

/// Where one customer's folded inputs are kept, with its position in id order
/// ([`FeatureBuild::slots_in_memory_order`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Position of the customer in id order (its row of the feature table).
    pub k: u32,
    shard: u32,
    index: u32,
}

/// Rows made and formatted at a time by [`FeatureBuild::write_csv`].
const WRITE_BLOCK_ROWS: usize = 1 << 14;

impl FeatureBuild {
    /// What the readers saw and skipped, over all inputs.
    pub fn report(&self) -> &ReadReport {
        &self.report
    }

    /// Number of customers (rows of the table).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn row(&self, k: usize) -> CustomerFeatures {
        let mut f = self.model_row(k);
        f.customer_id = self.customer_id(k).into_owned();
        f
    }

    /// The features of customer `k` (position in id order) for a model: its row of
    /// [`FeatureBuild::into_table`] except that `customer_id` is left empty (not allocated).
    pub fn model_row(&self, k: usize) -> CustomerFeatures {
        let (shard, index) = self.order[k];
        self.slot_row(Slot {
            k: k as u32,
            shard,
            index,
        })
    }

    /// [`FeatureBuild::model_row`] of the customer in `slot`.
    pub fn slot_row(&self, slot: Slot) -> CustomerFeatures {
        let Slot { k, shard: s, index } = slot;
        let shard = &self.shards[s as usize];
        let mut f = finalize(
            String::new(),
            &shard.accs[index as usize],
            &self.frame,
            &self.params,
        );
        if let Some(c) = &self.comments {
            if let Some(acc) = c[s as usize].get(self.customer_id(k as usize).as_ref()) {
                f.comments = acc.finish(&self.frame);
            }
        }
        let [r, fs, m] = self.rfm[k as usize];
        if r > 0 {
            f.rfm = Some([r, fs, m]);
            f.rfm_segment = Some(rfm::segment(r, fs, m));
        }
        f
    }

    /// Every customer's [`Slot`], in the order their folded inputs lie in memory (shard by
    /// shard). Making rows in this order reads memory front to back; in id order the reads
    /// jump between shards, which on large bases costs about twice the time.
    pub fn slots_in_memory_order(&self) -> Vec<Slot> {
        let mut k_at: Vec<Vec<u32>> = self
            .shards
            .iter()
            .map(|shard| vec![u32::MAX; shard.accs.len()])
            .collect();
        for (k, &(s, i)) in self.order.iter().enumerate() {
            k_at[s as usize][i as usize] = k as u32;
        }
        let mut slots = Vec::with_capacity(self.order.len());
        for (s, ks) in k_at.iter().enumerate() {
            for (i, &k) in ks.iter().enumerate() {
                if k != u32::MAX {
                    slots.push(Slot {
                        k,
                        shard: s as u32,
                        index: i as u32,
                    });
                }
            }
        }
        slots
    }

    fn rows(&self, range: std::ops::Range<usize>) -> Vec<CustomerFeatures> {
        range.into_par_iter().map(|k| self.row(k)).collect()
    }

    /// The id of customer `k` (position in id order), as in its feature row.
    pub fn customer_id(&self, k: usize) -> std::borrow::Cow<'_, str> {
        let (s, i) = self.order[k];
        String::from_utf8_lossy(self.shards[s as usize].id(i as usize))
    }

    /// The RFM segment of customer `k` (position in id order), as in its feature row
    /// (`None` for non-buyers).
    pub fn rfm_segment(&self, k: usize) -> Option<&'static str> {
        let [r, f, m] = self.rfm[k];
        (r > 0).then(|| rfm::segment(r, f, m))
    }

    /// Whether comments were read (the comment columns exist).
    pub fn has_comments(&self) -> bool {
        self.comments.is_some()
    }

    fn columns(&self) -> Vec<&'static table::Column> {
        table::columns(self.comments.is_some(), self.params.horizon_days.is_some())
    }

    /// Writes the feature table as CSV, byte-identical to [`FeatureTable::write_csv`] of
    /// [`FeatureBuild::into_table`], holding at most one block of rows in memory.
    pub fn write_csv(&self, w: &mut dyn std::io::Write) -> Result<()> {
        let cols = self.columns();
        table::write_header(&cols, w)?;
        let mut start = 0;
        while start < self.order.len() {
            let end = (start + WRITE_BLOCK_ROWS).min(self.order.len());
            let rows = self.rows(start..end);
            table::write_rows(&rows, &cols, &self.frame.time, w)?;
            start = end;
        }
        Ok(())
    }

    /// Writes the feature table as CSV ([`FeatureBuild::write_csv`]) or as Parquet (typed
    /// columns, [`table::Column::output_type`]), a block of rows at a time; `name` names the
    /// output in messages.
    pub fn write_as(
        &self,
        format: crate::data::parquet::write::OutputFormat,
        w: &mut dyn std::io::Write,
        name: &std::path::Path,
    ) -> Result<()> {
        if format == crate::data::parquet::write::OutputFormat::Csv {
            return self.write_csv(w);
        }
        let cols = self.columns();
        let mut t = table::parquet_writer(&cols, &self.frame.time, w, name)?;
        self.push_rows_to(&cols, &mut t)?;
        t.finish()
    }

    fn push_rows_to(
        &self,
        cols: &[&table::Column],
        sink: &mut dyn crate::data::parquet::write::RowSink,
    ) -> Result<()> {
        let mut start = 0;
        while start < self.order.len() {
            let end = (start + WRITE_BLOCK_ROWS).min(self.order.len());
            table::push_typed_rows(&self.rows(start..end), cols, sink)?;
            start = end;
        }
        Ok(())
    }

    /// The feature table as Arrow record batches (the typed columns of the Parquet output),
    /// for callers in memory.
    pub fn to_arrow(&self) -> Result<(arrow_schema::SchemaRef, Vec<arrow_array::RecordBatch>)> {
        let cols = self.columns();
        let mut c = crate::data::parquet::write::BatchCollector::new(&table::output_schema(
            &cols,
            &self.frame.time,
        ));
        self.push_rows_to(&cols, &mut c)?;
        c.finish()
    }

    /// The whole table in memory.
    pub fn into_table(self) -> FeatureTable {
        let rows = self.rows(0..self.order.len());
        let label_shortfall = self.label_shortfall();
        FeatureTable {
            rows,
            cutoff_end: self.frame.cutoff_end,
            horizon_days: self.params.horizon_days,
            time: self.frame.time,
            report: self.report,
            has_comments: self.comments.is_some(),
            label_shortfall,
        }
    }

    /// With a label, whether the data reaches the label window's last calendar day (an order
    /// or event on that day or later); `Some` names both dates when it does not.
    pub fn label_shortfall(&self) -> Option<table::LabelShortfall> {
        self.params.horizon_days?;
        let f = &self.frame;
        let window_last = f.label_end - 1;
        let last = f.last_after_cutoff();
        if last.is_some_and(|l| f.time.day_of(l) >= f.time.day_of(window_last)) {
            return None;
        }
        Some(table::LabelShortfall {
            window_end: f.time.format(window_last),
            last: last.map_or_else(
                || "no order or event after the cutoff".to_string(),
                |l| f.time.format(l),
            ),
        })
    }
}

/// Builds the feature table. `progress` receives the total bytes read so far over all inputs.
pub fn build_features(
    inputs: Inputs<'_>,
    params: &FeatureParams,
    opts: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FeatureTable> {
    Ok(fold_features(inputs, params, opts, progress)?.into_table())
}

/// Reads and folds the inputs (the streaming part of [`build_features`]); `progress` receives
/// the total bytes read so far over all inputs.
pub fn fold_features(
    inputs: Inputs<'_>,
    params: &FeatureParams,
    opts: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FeatureBuild> {
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
    let frame = Frame::new(
        cutoff_end,
        cutoff_end + params.horizon_days.unwrap_or(0) * SECONDS_PER_DAY,
        opts.time.clone(),
    );
    let mut shards: Shards = (0..SHARDS).map(|_| Shard::default()).collect();
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
                |batch| fold_into(shards, batch, |a, k, i, r| a.add_order(r, &frame, k, i)),
                &prog,
            )?,
            InputKind::Events => read_sharded(
                source,
                kind,
                opts,
                |f| accumulate::parse_event(&frame, f),
                |batch| fold_into(shards, batch, |a, _, _, r| a.add_event(r, &frame)),
                &prog,
            )?,
            InputKind::Customers => read_sharded(
                source,
                kind,
                opts,
                |f| accumulate::parse_customer(&frame, f),
                |batch| fold_into(shards, batch, |a, _, _, r| a.add_customer(r, &frame)),
                &prog,
            )?,
            InputKind::Comments => ReadReport::default(),
        };
        base = done.load(std::sync::atomic::Ordering::Relaxed);
        report.merge(r);
        Ok(())
    };
    let orders_path = inputs.orders.path.clone();
    read(inputs.orders, InputKind::Orders, &mut shards)?;
    // Money sums are exact or the build fails: the first customer (in shard order) whose
    // sums left the fixed-point range is named.
    for s in &shards {
        let hit = s
            .accs
            .blocks
            .iter()
            .flatten()
            .position(CustomerAcc::money_overflowed);
        if let Some(i) = hit {
            return Err(Error::AmountOverflow {
                path: orders_path,
                customer: String::from_utf8_lossy(s.id(i)).into_owned(),
                limit: crate::data::amount::format_amount(i64::MAX),
            });
        }
    }
    // Order ids are only needed while orders are read.
    for s in &mut shards {
        s.keys = Default::default();
    }
    if let Some(s) = inputs.events {
        read(s, InputKind::Events, &mut shards)?;
    }
    if let Some(s) = inputs.customers {
        read(s, InputKind::Customers, &mut shards)?;
    }
    let comments = match inputs.comments {
        None => None,
        Some(source) => {
            let mut maps: Vec<FxHashMap<Box<str>, comments::CommentAcc>> =
                (0..SHARDS).map(|_| FxHashMap::default()).collect();
            let scorer = crate::sentiment::SentimentScorer::shared();
            let r = read_sharded(
                source,
                InputKind::Comments,
                opts,
                |f| comments::parse_comment(&frame, scorer, f),
                |batch| {
                    maps.par_iter_mut().enumerate().for_each(|(s, map)| {
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
            shards
                .par_iter_mut()
                .zip(maps.par_iter())
                .for_each(|(shard, map)| {
                    let mut ids: Vec<&Box<str>> = map.keys().collect();
                    ids.sort_unstable();
                    for id in ids {
                        if let Some(ts) = map[id].first_ts() {
                            let i = shard.position(id.as_bytes());
                            shard.accs[i].see(ts, &frame);
                        }
                    }
                });
            Some(maps)
        }
    };
    let mut order: Vec<(u32, u32)> = shards
        .iter()
        .enumerate()
        .flat_map(|(s, shard)| {
            shard
                .accs
                .iter()
                .enumerate()
                .filter(|(_, a)| a.exists())
                .map(move |(i, _)| (s as u32, i as u32))
        })
        .collect();
    order.par_sort_unstable_by(|a, b| {
        shards[a.0 as usize]
            .id(a.1 as usize)
            .cmp(shards[b.0 as usize].id(b.1 as usize))
    });
    let cutoff_day = frame.time.day_of(cutoff_end - 1);
    let rfm = rfm_scores(&order, &shards, cutoff_day);
    Ok(FeatureBuild {
        shards,
        order,
        rfm,
        frame,
        params: params.clone(),
        report,
        comments,
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
    let purchase_days = acc.purchase_days();
    let first_day = purchase_days.first().map(|&d| i64::from(d));
    let last_day = purchase_days.last().map(|&d| i64::from(d));
    let repeat = (!purchase_days.is_empty()).then(|| purchase_days.len() as u32 - 1);
    let first_day_net = acc.first_day_net();
    let repeat_spend_avg = repeat.filter(|x| *x > 0).map(|x| {
        crate::data::amount::amount_to_f64(acc.spend_total() - first_day_net) / f64::from(x)
    });
    let days_since_last_interaction = acc.last_interaction_day().map(|d| cutoff_day - d);
    let first_seen_day = acc.first_seen_day().unwrap_or(cutoff_day);
    let days_since_first_seen = cutoff_day - first_seen_day;
    let observed_days = (days_since_first_seen + 1).clamp(1, 90);
    let days_since_last_order = last_day.map(|d| cutoff_day - d);
    let days_since_first_order = first_day.map(|d| cutoff_day - d);
    let spend = crate::data::amount::amount_to_f64(acc.spend_total());
    CustomerFeatures {
        customer_id,
        first_order_at: acc.first_purchase(),
        last_order_at: acc.last_purchase(),
        orders_total: acc.orders_total,
        repeat_purchase_days: repeat,
        days_first_to_last_order: first_day.zip(last_day).map(|(f, l)| l - f),
        customer_age_days: days_since_first_order,
        days_since_last_order,
        spend_total: acc.spend_total(),
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
            future_spend: acc.future_spend(),
            future_orders: acc.future_orders(),
            future_purchase_days: acc.future_purchase_days(),
        }),
        comments: Default::default(),
    }
}

/// RFM scores per customer of `order` (`[0; 3]` for non-buyers), from the accumulators.
fn rfm_scores(order: &[(u32, u32)], shards: &Shards, cutoff_day: i64) -> Vec<[u8; 3]> {
    let acc = |&(s, i): &(u32, u32)| &shards[s as usize].accs[i as usize];
    let buyers: Vec<u32> = (0..order.len() as u32)
        .filter(|&k| acc(&order[k as usize]).orders_total > 0)
        .collect();
    let mut out = vec![[0u8; 3]; order.len()];
    if buyers.is_empty() {
        return out;
    }
    // One value column at a time, so at most one column and its sorted copy are alive.
    let column = |value: &dyn Fn(&CustomerAcc) -> i64, higher_is_better: bool| {
        let vals: Vec<i64> = buyers
            .iter()
            .map(|&k| value(acc(&order[k as usize])))
            .collect();
        rfm::quintile_scores(&vals, higher_is_better)
    };
    let r = column(
        &|a| {
            a.purchase_days()
                .last()
                .map_or(i64::MAX, |&d| cutoff_day - i64::from(d))
        },
        false,
    );
    let f = column(&|a| a.orders_total.into(), true);
    let m = column(&|a| a.spend_total(), true);
    for (j, &k) in buyers.iter().enumerate() {
        out[k as usize] = [r[j], f[j], m[j]];
    }
    out
}

#[cfg(test)]
mod tests;
