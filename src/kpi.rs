//! Business KPIs at an as-of instant `T`, computed from the raw logs in one streaming pass per
//! file (orders, events, customers), plus tier KPIs from a `scores.csv`.
//!
//! # Definitions
//! All windows end at `T` (the end of the `--as-of` day): "in the last N days" means instants in
//! `(T − N days, T]`. The *period* is the last `period_days` days (default 30). Rows after `T`
//! are never read into any KPI. A *purchase* is an order row with amount ≥ 0; a *refund* one with
//! amount < 0; a repeat of a whole order row (same customer, `order_id`, instant and amount)
//! counts once, as in [`crate::features`]. An *interaction* is any event except `push_sent`. Days are
//! calendar days in the `--utc-offset` calendar.
//!
//! | KPI | definition |
//! |---|---|
//! | `reach` | customers with at least one `push_sent` in the period |
//! | `push_open_rate` | `push_open` events / `push_sent` events in the period |
//! | `click_rate` | `click` events / `push_sent` events in the period (clicks per push) |
//! | `interactions_per_user_per_month` | interactions in the period / customers with ≥ 1 interaction in the period, × 30 / `period_days` |
//! | `conversion_rate` | share of interactions at instant `t` in `(T − period − 7 d, T − 7 d]` followed by a purchase of the same customer at `p` with `t ≤ p ≤ t + 7 d` (shifted by 7 days so every window is fully observed) |
//! | cohort `retention` | cohort = calendar month of a customer's first purchase day `d0`; the customer is *retained at Dk* if they make a purchase on a calendar day `d` with `1 ≤ d − d0 ≤ k` (a second purchase the same day does not count); only customers with `d0 + k ≤` the as-of day are *eligible* for Dk, and `rate = retained / eligible`; k = 1, 7, 30 |
//! | `repurchase_rate_3m` | of customers with a purchase in `(T − 180 d, T − 90 d]`, the share with a purchase in `(T − 90 d, T]` |
//! | `arpu` | net spend in the period / active customers (≥ 1 purchase or interaction in the period) |
//! | `arppu` | net spend in the period / paying customers (≥ 1 purchase in the period) |
//! | `average_order_value` | net spend in the period / purchases in the period |
//! | `lifecycle` | customers per [`Stage`] at `T` (same rules as the `lifecycle_stage` feature; customers are those with any row at or before `T`, incl. customers.csv) |
//! | `tiers` | per tier of `scores.csv`: customers, share of customers, sum of `predicted_value`, and its share of the total |
//!
//! A ratio with a zero denominator is `None` (JSON `null`), never an invented zero. Money is net
//! of refunds, in the shop's currency. All sums are exact integers until the final division, so
//! the result is identical for any thread count.
use crate::data::amount::amount_to_f64;
use crate::data::reader::{read_sharded, ParsedChunk, SHARDS};
use crate::data::time::{civil_from_days, Cutoff, TimeParser, SECONDS_PER_DAY};
use crate::data::{InputKind, ReadOptions, ReadReport};
use crate::features::accumulate::{order_key, EventKind};
use crate::features::{Inputs, LifecycleThresholds, Stage};
use crate::tiers::Tier;
use crate::{Error, Result};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The retention horizons reported per cohort, in days.
pub const RETENTION_DAYS: [i64; 3] = [1, 7, 30];
/// Days after an interaction within which a purchase converts it.
pub const CONVERSION_WINDOW_DAYS: i64 = 7;
/// Length of the repurchase-rate windows, in days (two consecutive windows).
pub const REPURCHASE_WINDOW_DAYS: i64 = 90;

/// What to compute.
#[derive(Debug, Clone)]
pub struct KpiParams {
    /// The as-of instant `T`.
    pub as_of: Cutoff,
    /// Length of the reporting period ending at `T`, in days (default 30).
    pub period_days: i64,
    /// Lifecycle thresholds (default: the features' defaults).
    pub lifecycle: LifecycleThresholds,
}

impl KpiParams {
    /// Parameters with a 30-day period and default lifecycle thresholds.
    pub fn new(as_of: Cutoff) -> Self {
        KpiParams {
            as_of,
            period_days: 30,
            lifecycle: LifecycleThresholds::default(),
        }
    }
}

/// Retention of one cohort at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retention {
    /// The horizon `k` in days.
    pub days: i64,
    /// Cohort customers whose `k`-day window is fully observed.
    pub eligible: u64,
    /// Eligible customers with a purchase 1..=k days after their first purchase day.
    pub retained: u64,
    /// `retained / eligible` (`None` if nobody is eligible).
    pub rate: Option<f64>,
}

/// New customers of one month and their retention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The month of the first purchase, `YYYY-MM`.
    pub month: String,
    /// Customers whose first purchase day falls in the month.
    pub new_customers: u64,
    /// One entry per [`RETENTION_DAYS`].
    pub retention: Vec<Retention>,
}

/// Customers in one lifecycle stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageCount {
    /// The stage name (`potential`, `new`, `active`, `silent`, `churned`).
    pub stage: String,
    /// Customers in it.
    pub customers: u64,
}

/// Size and predicted value of one tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierKpi {
    /// `A`, `B` or `C`.
    pub tier: String,
    /// Customers in the tier.
    pub customers: u64,
    /// Share of all scored customers.
    pub customer_share: Option<f64>,
    /// Sum of `predicted_value` in the tier.
    pub predicted_value: f64,
    /// Share of the total predicted value.
    pub value_share: Option<f64>,
}

/// Every KPI; see the [module documentation](self) for the definitions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    /// `T`, RFC 3339.
    pub as_of: String,
    /// The period length in days.
    pub period_days: i64,
    /// Customers with any row at or before `T`.
    pub customers: u64,
    /// Customers with at least one `push_sent` in the period.
    pub reach: u64,
    /// `push_sent` events in the period.
    pub pushes_sent: u64,
    /// `push_open` / `push_sent` in the period.
    pub push_open_rate: Option<f64>,
    /// `click` / `push_sent` in the period.
    pub click_rate: Option<f64>,
    /// Interactions in the period.
    pub interactions: u64,
    /// Customers with at least one interaction in the period.
    pub interacting_customers: u64,
    /// Interactions per interacting customer per 30 days.
    pub interactions_per_user_per_month: Option<f64>,
    /// Interactions in the (7-day shifted) conversion window.
    pub conversion_interactions: u64,
    /// Of those, followed by a purchase within 7 days.
    pub converted_interactions: u64,
    /// `converted_interactions / conversion_interactions`.
    pub conversion_rate: Option<f64>,
    /// Retention by cohort month (ascending).
    pub cohorts: Vec<Cohort>,
    /// Customers with a purchase in `(T − 180 d, T − 90 d]`.
    pub repurchase_base: u64,
    /// Of those, with a purchase in `(T − 90 d, T]`.
    pub repurchased: u64,
    /// `repurchased / repurchase_base`.
    pub repurchase_rate_3m: Option<f64>,
    /// Net spend in the period.
    pub net_spend: f64,
    /// Purchases in the period.
    pub purchases: u64,
    /// Customers with a purchase or an interaction in the period.
    pub active_customers: u64,
    /// Customers with a purchase in the period.
    pub paying_customers: u64,
    /// Net spend / active customers.
    pub arpu: Option<f64>,
    /// Net spend / paying customers.
    pub arppu: Option<f64>,
    /// Net spend / purchases.
    pub average_order_value: Option<f64>,
    /// Customers per lifecycle stage, in funnel order.
    pub lifecycle: Vec<StageCount>,
    /// Tier sizes and value shares (empty until [`Kpis::with_tiers`]).
    pub tiers: Vec<TierKpi>,
    /// Rows read and skipped.
    #[serde(skip)]
    pub report: ReadReport,
}

/// The frame of one computation: instants that bound the windows.
#[derive(Debug, Clone)]
struct Frame {
    end: i64,
    period_start: i64,
    conv_start: i64,
    conv_end: i64,
    time: TimeParser,
}

#[derive(Debug, Clone, Copy)]
struct OrderRow {
    ts: i64,
    amount: i64,
    key: u64,
}

#[derive(Debug, Clone, Copy)]
struct EventRow {
    ts: i64,
    kind: EventKind,
}

/// Per-customer state.
#[derive(Debug, Default, Clone)]
struct Acc {
    exists: bool,
    keys: Option<FxHashSet<u64>>,
    /// Purchase instants, ascending (duplicates kept).
    purchases: Vec<i64>,
    last_interaction: Option<i64>,
    spend_period: i64,
    purchases_period: u32,
    push_sent: u32,
    push_open: u32,
    clicks: u32,
    interactions: u32,
    /// Interaction instants in the conversion window.
    conv: Vec<i64>,
}

impl Acc {
    fn add_order(&mut self, r: &OrderRow, fr: &Frame) {
        if r.key != 0 && !self.keys.get_or_insert_with(Default::default).insert(r.key) {
            return;
        }
        self.exists = true;
        if r.amount >= 0 {
            let pos = self.purchases.partition_point(|&p| p <= r.ts);
            self.purchases.insert(pos, r.ts);
        }
        if r.ts >= fr.period_start {
            self.spend_period += r.amount;
            self.purchases_period += u32::from(r.amount >= 0);
        }
    }

    fn add_event(&mut self, r: &EventRow, fr: &Frame) {
        self.exists = true;
        let interaction = r.kind.is_interaction();
        if interaction {
            self.last_interaction = Some(self.last_interaction.map_or(r.ts, |l| l.max(r.ts)));
            if r.ts >= fr.conv_start && r.ts < fr.conv_end {
                self.conv.push(r.ts);
            }
        }
        if r.ts >= fr.period_start {
            match r.kind {
                EventKind::PushSent => self.push_sent += 1,
                EventKind::PushOpen => self.push_open += 1,
                EventKind::Click => self.clicks += 1,
                _ => {}
            }
            self.interactions += u32::from(interaction);
        }
    }

    fn purchase_in(&self, from: i64, to: i64) -> bool {
        let i = self.purchases.partition_point(|&p| p < from);
        self.purchases.get(i).is_some_and(|&p| p < to)
    }
}

type Shards = Vec<FxHashMap<Box<str>, Acc>>;

fn fold_into<T: Sync>(
    shards: &mut Shards,
    batch: &[ParsedChunk<T>],
    apply: impl Fn(&mut Acc, &T) + Sync,
) {
    shards.par_iter_mut().enumerate().for_each(|(s, map)| {
        for chunk in batch {
            for row in &chunk.shards[s] {
                let id = chunk.id(row);
                match map.get_mut(id) {
                    Some(acc) => apply(acc, &row.value),
                    None => {
                        let mut acc = Acc::default();
                        apply(&mut acc, &row.value);
                        map.insert(id.into(), acc);
                    }
                }
            }
        }
    });
}

fn ratio(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

/// Per-shard (or total) integer tallies; merged by addition.
#[derive(Debug, Default, Clone)]
struct Tally {
    customers: u64,
    reach: u64,
    pushes_sent: u64,
    push_open: u64,
    clicks: u64,
    interactions: u64,
    interacting: u64,
    conv: u64,
    converted: u64,
    repurchase_base: u64,
    repurchased: u64,
    spend: i64,
    purchases: u64,
    active: u64,
    paying: u64,
    stages: [u64; 5],
    /// (cohort month key year·12 + month − 1) → (new customers, eligible per k, retained per k).
    cohorts: BTreeMap<i64, (u64, [u64; 3], [u64; 3])>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.customers += o.customers;
        self.reach += o.reach;
        self.pushes_sent += o.pushes_sent;
        self.push_open += o.push_open;
        self.clicks += o.clicks;
        self.interactions += o.interactions;
        self.interacting += o.interacting;
        self.conv += o.conv;
        self.converted += o.converted;
        self.repurchase_base += o.repurchase_base;
        self.repurchased += o.repurchased;
        self.spend += o.spend;
        self.purchases += o.purchases;
        self.active += o.active;
        self.paying += o.paying;
        for i in 0..5 {
            self.stages[i] += o.stages[i];
        }
        for (k, v) in o.cohorts {
            let e = self.cohorts.entry(k).or_default();
            e.0 += v.0;
            for i in 0..3 {
                e.1[i] += v.1[i];
                e.2[i] += v.2[i];
            }
        }
    }

    fn add(&mut self, a: &Acc, fr: &Frame, lifecycle: &LifecycleThresholds) {
        if !a.exists {
            return;
        }
        let t = &fr.time;
        let cutoff_day = t.day_of(fr.end - 1);
        self.customers += 1;
        self.reach += u64::from(a.push_sent > 0);
        self.pushes_sent += u64::from(a.push_sent);
        self.push_open += u64::from(a.push_open);
        self.clicks += u64::from(a.clicks);
        self.interactions += u64::from(a.interactions);
        self.interacting += u64::from(a.interactions > 0);
        let week = CONVERSION_WINDOW_DAYS * SECONDS_PER_DAY;
        for &ts in &a.conv {
            self.conv += 1;
            self.converted += u64::from(a.purchase_in(ts, ts + week + 1));
        }
        let w = REPURCHASE_WINDOW_DAYS * SECONDS_PER_DAY;
        if a.purchase_in(fr.end - 2 * w, fr.end - w) {
            self.repurchase_base += 1;
            self.repurchased += u64::from(a.purchase_in(fr.end - w, fr.end));
        }
        self.spend += a.spend_period;
        self.purchases += u64::from(a.purchases_period);
        self.paying += u64::from(a.purchases_period > 0);
        self.active += u64::from(a.purchases_period > 0 || a.interactions > 0);
        let first_day = a.purchases.first().map(|&p| t.day_of(p));
        let last_day = a.purchases.last().map(|&p| t.day_of(p));
        let stage = lifecycle.stage(
            first_day.map(|d| cutoff_day - d),
            last_day.map(|d| cutoff_day - d),
            a.last_interaction.map(|i| cutoff_day - t.day_of(i)),
        );
        let si = Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0);
        self.stages[si] += 1;
        if let Some(d0) = first_day {
            let (y, m, _) = civil_from_days(d0);
            let e = self.cohorts.entry(y * 12 + i64::from(m) - 1).or_default();
            e.0 += 1;
            // The first purchase day after d0.
            let next = a.purchases.iter().map(|&p| t.day_of(p)).find(|&d| d > d0);
            for (i, &k) in RETENTION_DAYS.iter().enumerate() {
                if d0 + k <= cutoff_day {
                    e.1[i] += 1;
                    e.2[i] += u64::from(next.is_some_and(|d| d - d0 <= k));
                }
            }
        }
    }
}

/// Computes every log-based KPI (all but [`Kpis::tiers`]) in one streaming pass per input.
pub fn compute_kpis(inputs: Inputs<'_>, params: &KpiParams, opts: &ReadOptions) -> Result<Kpis> {
    params.lifecycle.check()?;
    if params.period_days <= 0 {
        return Err(Error::InvalidParameter {
            name: "period",
            value: params.period_days.to_string(),
            reason: "must be a positive number of days".into(),
        });
    }
    let end = params.as_of.end_exclusive;
    let day = SECONDS_PER_DAY;
    let fr = Frame {
        end,
        period_start: end - params.period_days * day,
        conv_start: end - (params.period_days + CONVERSION_WINDOW_DAYS) * day,
        conv_end: end - CONVERSION_WINDOW_DAYS * day,
        time: opts.time.clone(),
    };
    let mut shards: Shards = (0..SHARDS).map(|_| FxHashMap::default()).collect();
    let mut report = ReadReport::default();
    let none = |_: u64| {};
    let r = read_sharded(
        inputs.orders,
        InputKind::Orders,
        opts,
        |f| {
            let ts = f.instant(1, &fr.time)?;
            let amount = f.amount(2)?;
            if ts >= fr.end {
                return Ok(None);
            }
            let key = f.get(3).map_or(0, |id| order_key(id, ts, amount));
            Ok(Some(OrderRow { ts, amount, key }))
        },
        |batch| fold_into(&mut shards, batch, |a, r| a.add_order(r, &fr)),
        &none,
    )?;
    report.merge(r);
    if let Some(events) = inputs.events {
        let r = read_sharded(
            events,
            InputKind::Events,
            opts,
            |f| {
                let ts = f.instant(1, &fr.time)?;
                if ts >= fr.end {
                    return Ok(None);
                }
                Ok(Some(EventRow {
                    ts,
                    kind: EventKind::parse(f.get(2).unwrap_or(b"")),
                }))
            },
            |batch| fold_into(&mut shards, batch, |a, r| a.add_event(r, &fr)),
            &none,
        )?;
        report.merge(r);
    }
    if let Some(customers) = inputs.customers {
        let r = read_sharded(
            customers,
            InputKind::Customers,
            opts,
            |f| {
                if f.is_blank(1) {
                    Ok(Some(()))
                } else {
                    Ok((f.instant(1, &fr.time)? < fr.end).then_some(()))
                }
            },
            |batch| fold_into(&mut shards, batch, |a, _| a.exists = true),
            &none,
        )?;
        report.merge(r);
    }
    let tallies: Vec<Tally> = shards
        .par_iter()
        .map(|m| {
            let mut t = Tally::default();
            for a in m.values() {
                t.add(a, &fr, &params.lifecycle);
            }
            t
        })
        .collect();
    let mut t = Tally::default();
    for s in tallies {
        t.merge(s);
    }
    let spend = amount_to_f64(t.spend);
    let cohorts = t
        .cohorts
        .iter()
        .map(|(&key, &(n, eligible, retained))| Cohort {
            month: format!("{:04}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1),
            new_customers: n,
            retention: RETENTION_DAYS
                .iter()
                .enumerate()
                .map(|(i, &days)| Retention {
                    days,
                    eligible: eligible[i],
                    retained: retained[i],
                    rate: ratio(retained[i] as f64, eligible[i]),
                })
                .collect(),
        })
        .collect();
    Ok(Kpis {
        as_of: opts.time.format(params.as_of.instant()),
        period_days: params.period_days,
        customers: t.customers,
        reach: t.reach,
        pushes_sent: t.pushes_sent,
        push_open_rate: ratio(t.push_open as f64, t.pushes_sent),
        click_rate: ratio(t.clicks as f64, t.pushes_sent),
        interactions: t.interactions,
        interacting_customers: t.interacting,
        interactions_per_user_per_month: ratio(t.interactions as f64, t.interacting)
            .map(|r| r * 30.0 / params.period_days as f64),
        conversion_interactions: t.conv,
        converted_interactions: t.converted,
        conversion_rate: ratio(t.converted as f64, t.conv),
        cohorts,
        repurchase_base: t.repurchase_base,
        repurchased: t.repurchased,
        repurchase_rate_3m: ratio(t.repurchased as f64, t.repurchase_base),
        net_spend: spend,
        purchases: t.purchases,
        active_customers: t.active,
        paying_customers: t.paying,
        arpu: ratio(spend, t.active),
        arppu: ratio(spend, t.paying),
        average_order_value: ratio(spend, t.purchases),
        lifecycle: Stage::ALL
            .iter()
            .zip(t.stages)
            .map(|(s, n)| StageCount {
                stage: s.as_str().to_string(),
                customers: n,
            })
            .collect(),
        tiers: Vec::new(),
        report,
    })
}

/// One row of a `scores.csv` (the columns the report uses).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    /// The customer.
    pub customer_id: String,
    /// Predicted net spend in the model's horizon.
    pub predicted_value: f64,
    /// Lifecycle stage at scoring time.
    pub lifecycle_stage: String,
    /// Value tier.
    pub tier: Tier,
}

/// Reads a `scores.csv` (or `.parquet`) written by `ltv score` (needs `customer_id`, `predicted_value`, `tier`;
/// `lifecycle_stage` is optional). Memory: one row per customer.
pub fn read_scores(path: &Path) -> Result<Vec<ScoreRow>> {
    if crate::data::parquet::looks_like_parquet(path) {
        return read_scores_from(path, crate::data::parquet::csv_text(path)?);
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_scores_from(path, file)
}

/// [`read_scores`] from any reader; `path` names it in errors.
pub fn read_scores_from(path: &Path, r: impl std::io::Read) -> Result<Vec<ScoreRow>> {
    let bad = |line: u64, reason: String| Error::InvalidParameter {
        name: "scores",
        value: format!("{}:{line}", path.display()),
        reason,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .from_reader(crate::data::chunks::CheckedReader::new(r, b',', path));
    let header = rdr
        .headers()
        .map_err(|e| bad(1, format!("unreadable header: {e}")))?
        .clone();
    let find = |name: &str| header.iter().position(|h| h.trim() == name);
    let need = |name: &str| find(name).ok_or_else(|| bad(1, format!("no `{name}` column")));
    let (ci, cv, ct) = (
        need("customer_id")?,
        need("predicted_value")?,
        need("tier")?,
    );
    let cs = find("lifecycle_stage");
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut line = 1u64;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(bad(line + 1, e.to_string())),
        }
        line += 1;
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let v: f64 = get(cv)
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                bad(
                    line,
                    format!("`predicted_value` not a number: `{}`", get(cv)),
                )
            })?;
        let tier = match get(ct) {
            "A" => Tier::A,
            "B" => Tier::B,
            "C" => Tier::C,
            other => {
                return Err(bad(
                    line,
                    format!("`tier` must be A, B or C, not `{other}`"),
                ))
            }
        };
        rows.push(ScoreRow {
            customer_id: get(ci).to_string(),
            predicted_value: v,
            lifecycle_stage: cs.map(|i| get(i).to_string()).unwrap_or_default(),
            tier,
        });
    }
    Ok(rows)
}

/// Tier sizes and value shares of scored customers, A, B, C in order.
pub fn tier_kpis(scores: &[ScoreRow]) -> Vec<TierKpi> {
    let n = scores.len() as u64;
    let total: f64 = scores.iter().map(|s| s.predicted_value).sum();
    [Tier::A, Tier::B, Tier::C]
        .iter()
        .map(|&tier| {
            let (count, value) = scores
                .iter()
                .filter(|s| s.tier == tier)
                .fold((0u64, 0.0), |(c, v), s| (c + 1, v + s.predicted_value));
            TierKpi {
                tier: tier.as_str().to_string(),
                customers: count,
                customer_share: ratio(count as f64, n),
                predicted_value: value,
                value_share: (total != 0.0).then(|| value / total),
            }
        })
        .collect()
}

impl Kpis {
    /// Adds the tier KPIs of `scores`.
    pub fn with_tiers(mut self, scores: &[ScoreRow]) -> Self {
        self.tiers = tier_kpis(scores);
        self
    }
}

#[cfg(test)]
mod tests;
