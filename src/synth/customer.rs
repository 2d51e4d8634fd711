//! Simulation of one customer's life (acquisition, BG/NBD purchases, Gamma-Gamma amounts,
//! refunds, engagement events, comments) and its rows in the four files.
use super::format::{push_cents, push_padded, Calendar, DAY_SECS};
use super::text::{self, Tone};
use super::{BlockOut, SynthParams};
use crate::features::table::{push_csv_text, push_u64};
use crate::{Error, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp1, Gamma, Poisson, StandardNormal};
use std::ops::Range;

/// Channel names, indexed by the channel constants below.
pub(crate) const CHANNELS: [&str; 6] = ["mini_program", "app", "web", "store", "wecom", "live"];
const MINI: u8 = 0;
const APP: u8 = 1;
const WEB: u8 = 2;
const STORE: u8 = 3;
const WECOM: u8 = 4;
const LIVE: u8 = 5;

/// Event kind names, indexed by the `EV_*` constants.
pub(crate) const EVENTS: [&str; 10] = [
    "push_sent",
    "push_open",
    "click",
    "visit",
    "share",
    "review",
    "like",
    "comment",
    "join_group",
    "live_view",
];
const EV_PUSH_SENT: u8 = 0;
const EV_PUSH_OPEN: u8 = 1;
const EV_CLICK: u8 = 2;
const EV_VISIT: u8 = 3;
const EV_SHARE: u8 = 4;
const EV_REVIEW: u8 = 5;
const EV_LIKE: u8 = 6;
const EV_COMMENT: u8 = 7;
const EV_JOIN_GROUP: u8 = 8;
const EV_LIVE_VIEW: u8 = 9;

/// Acquisition channel weights (mini_program, app, web, store, wecom, live).
const ACQ_WEIGHTS: [f64; 6] = [0.34, 0.14, 0.08, 0.12, 0.20, 0.12];
/// Channel weights of orders placed outside the customer's own channel.
const ORDER_WEIGHTS: [f64; 6] = [0.40, 0.20, 0.08, 0.12, 0.08, 0.12];
/// Organic activity kinds and their weights.
const ACT_KINDS: [(u8, f64); 7] = [
    (EV_VISIT, 0.42),
    (EV_LIKE, 0.16),
    (EV_LIVE_VIEW, 0.13),
    (EV_CLICK, 0.12),
    (EV_SHARE, 0.09),
    (EV_COMMENT, 0.04),
    (EV_JOIN_GROUP, 0.04),
];
/// Relative activity by local hour (evening peak).
const HOUR_WEIGHTS: [f64; 24] = [
    1.5, 0.8, 0.4, 0.3, 0.3, 0.4, 0.8, 1.6, 2.6, 3.2, 3.8, 4.0, 4.6, 4.2, 3.8, 3.8, 3.9, 4.0, 4.3,
    5.2, 6.4, 6.8, 5.6, 3.4,
];

/// Acquisition density grows linearly over the window: ∝ 1 + GROWTH·x.
const GROWTH: f64 = 0.8;
/// Days between scheduled pushes at `events_per_customer` = [`EVENTS_REF`].
const PUSH_INTERVAL_DAYS: f64 = 24.0;
/// Organic activity events per day of a fully active, average customer at [`EVENTS_REF`].
const ACTIVITY_PER_DAY: f64 = 0.045;
/// Extra events (visits, clicks) in the days before a purchase at [`EVENTS_REF`].
const PRE_PURCHASE_EVENTS: f64 = 1.3;
/// The `events_per_customer` the constants above are calibrated for.
const EVENTS_REF: f64 = 20.0;
/// Activity levels in the 30-day steps after dropout, then the floor.
const DECAY_LEVELS: [f64; 3] = [0.55, 0.32, 0.2];
const FLOOR_LEVEL: f64 = 0.12;
/// Cap on purchases of one customer (guards against extreme λ).
const MAX_PURCHASES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Purchase {
    t: i64,
    cents: i64,
    channel: u8,
    drop: bool,
    refund: Option<(i64, i64)>,
}

#[derive(Debug, Default)]
struct Scratch {
    purchases: Vec<Purchase>,
    events: Vec<(i64, u8, u8)>,
    comments: Vec<(i64, String, u8)>,
    segs: Vec<(i64, i64, f64)>,
    rows: Vec<(i64, usize, bool)>,
    text: String,
    id: Vec<u8>,
}

/// Read-only state shared by all blocks.
#[derive(Debug)]
pub(crate) struct Ctx {
    cal: Calendar,
    /// Last second of the window.
    end: i64,
    n_days: i64,
    /// Event scale relative to the calibration point.
    m: f64,
    never_buy_share: f64,
    refund_share: f64,
    lambda: Gamma<f64>,
    dropout: Beta<f64>,
    nu: Gamma<f64>,
    engagement: Gamma<f64>,
    open_base: Beta<f64>,
    spend_p: f64,
    lambda_mean: f64,
    p_mean: f64,
    value_mean: f64,
    id_width: usize,
    hour_cdf: [f64; 24],
}

fn dist_err(name: &'static str, v: f64, e: impl std::fmt::Display) -> Error {
    Error::InvalidParameter {
        name,
        value: v.to_string(),
        reason: e.to_string(),
    }
}

fn cdf<const N: usize>(w: &[f64; N]) -> [f64; N] {
    let total: f64 = w.iter().sum();
    let mut acc = 0.0;
    let mut out = [0.0; N];
    for (o, x) in out.iter_mut().zip(w) {
        acc += x / total;
        *o = acc;
    }
    out[N - 1] = 1.0;
    out
}

fn pick_cdf(rng: &mut ChaCha8Rng, c: &[f64]) -> usize {
    let u: f64 = rng.gen();
    c.iter().position(|&x| u < x).unwrap_or(c.len() - 1)
}

fn pick_weighted(rng: &mut ChaCha8Rng, w: &[f64; 6]) -> u8 {
    let total: f64 = w.iter().sum();
    let mut u: f64 = rng.gen::<f64>() * total;
    for (i, x) in w.iter().enumerate() {
        if u < *x {
            return i as u8;
        }
        u -= x;
    }
    5
}

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(d) => d.sample(rng) as u64,
        Err(_) => 0,
    }
}

impl Ctx {
    pub(crate) fn new(p: &SynthParams) -> Result<Self> {
        let n_days = p.window_days();
        let lambda = Gamma::new(p.purchase_rate_shape, 1.0 / p.purchase_rate_alpha_days)
            .map_err(|e| dist_err("purchase_rate_shape", p.purchase_rate_shape, e))?;
        let dropout = Beta::new(p.dropout_a, p.dropout_b)
            .map_err(|e| dist_err("dropout_a", p.dropout_a, e))?;
        let nu = Gamma::new(p.spend_q, 1.0 / p.spend_gamma)
            .map_err(|e| dist_err("spend_q", p.spend_q, e))?;
        let engagement = Gamma::new(2.0, 0.5).map_err(|e| dist_err("engagement", 2.0, e))?;
        let open_base = Beta::new(2.0, 6.0).map_err(|e| dist_err("open_base", 2.0, e))?;
        Ok(Ctx {
            cal: Calendar::new(p.start, n_days as usize),
            end: n_days * DAY_SECS - 1,
            n_days,
            m: p.events_per_customer / EVENTS_REF,
            never_buy_share: p.never_buy_share,
            refund_share: p.refund_share,
            lambda,
            dropout,
            nu,
            engagement,
            open_base,
            spend_p: p.spend_p,
            lambda_mean: p.purchase_rate_shape / p.purchase_rate_alpha_days,
            p_mean: p.dropout_a / (p.dropout_a + p.dropout_b),
            value_mean: p.mean_order_value(),
            id_width: super::format::digits(p.customers).max(7),
            hour_cdf: cdf(&HOUR_WEIGHTS),
        })
    }

    /// A local time of day in seconds, following [`HOUR_WEIGHTS`].
    fn tod(&self, rng: &mut ChaCha8Rng) -> i64 {
        pick_cdf(rng, &self.hour_cdf) as i64 * 3600 + rng.gen_range(0..3600)
    }

    /// Moves `t` to a typical time of day on the same day.
    fn at_day_time(&self, rng: &mut ChaCha8Rng, t: i64) -> i64 {
        t.div_euclid(DAY_SECS) * DAY_SECS + self.tod(rng)
    }

    /// Generates the customers with 0-based indices `range`. `rng` drives who the customers
    /// are and what they buy; `eng` drives their events and comments, so that changing the
    /// event rate leaves customers and orders unchanged.
    pub(crate) fn block(
        &self,
        rng: &mut ChaCha8Rng,
        eng: &mut ChaCha8Rng,
        range: Range<u64>,
    ) -> BlockOut {
        let n = (range.end - range.start) as usize;
        let mut out = BlockOut::default();
        let ev_bytes = (60.0 * (self.m * EVENTS_REF + 2.0)) as usize;
        out.files[0].reserve(n * 60);
        out.files[1].reserve(n * 150);
        out.files[2].reserve(n * ev_bytes);
        out.files[3].reserve(n * 80);
        let mut s = Scratch::default();
        for idx in range {
            self.customer(rng, eng, idx, &mut s, &mut out);
        }
        out.counts.bytes = out.files.iter().map(|f| f.len() as u64).sum();
        out
    }

    fn level_at(segs: &[(i64, i64, f64)], t: i64) -> f64 {
        segs.iter()
            .find(|(a, b, _)| t >= *a && t < *b)
            .map(|s| s.2)
            .unwrap_or(FLOOR_LEVEL)
    }

    /// Pushes the activity segments: `level` from `a` to `alive_until`, then the decay steps.
    fn segments(&self, segs: &mut Vec<(i64, i64, f64)>, a: i64, alive_until: i64, level: f64) {
        let end = self.end + 1;
        let alive_until = alive_until.min(end);
        if alive_until > a {
            segs.push((a, alive_until, level));
        }
        let mut t = alive_until.max(a);
        for l in DECAY_LEVELS {
            if t >= end {
                return;
            }
            let b = (t + 30 * DAY_SECS).min(end);
            segs.push((t, b, l));
            t = b;
        }
        if t < end {
            segs.push((t, end, FLOOR_LEVEL));
        }
    }

    #[allow(clippy::too_many_lines)]
    fn customer(
        &self,
        rng: &mut ChaCha8Rng,
        eng: &mut ChaCha8Rng,
        idx: u64,
        s: &mut Scratch,
        out: &mut BlockOut,
    ) {
        let end = self.end;
        // ---- who they are -------------------------------------------------------------
        let u: f64 = rng.gen();
        let x = (-1.0 + (1.0 + 2.0 * GROWTH * u * (1.0 + GROWTH / 2.0)).sqrt()) / GROWTH;
        let first_day = ((x * self.n_days as f64) as i64).clamp(0, self.n_days - 1);
        let first_seen = first_day * DAY_SECS + self.tod(rng);
        let acq = pick_weighted(rng, &ACQ_WEIGHTS);
        let buyer = rng.gen::<f64>() >= self.never_buy_share;
        let english = rng.gen_bool(0.15);
        let g = self.engagement.sample(rng);
        let reachable = rng.gen::<f64>()
            < if matches!(acq, STORE | WEB) {
                0.6
            } else {
                0.95
            };
        let push_ch = match acq {
            MINI | APP | WECOM => acq,
            _ => [WECOM, MINI, APP][rng.gen_range(0..3)],
        };
        let mut open_base: f64 = self.open_base.sample(rng);

        // ---- purchases: BG/NBD with Gamma-Gamma amounts ---------------------------------
        s.purchases.clear();
        let (mut lam, mut p, mut value) = (0.0, self.p_mean, self.value_mean);
        if buyer {
            lam = self.lambda.sample(rng);
            p = self.dropout.sample(rng);
            let nu: f64 = self.nu.sample(rng).max(1e-9);
            value = self.spend_p / nu;
            let amount = Gamma::new(self.spend_p, 1.0 / nu).ok();
            let delay_days: f64 = rng.sample::<f64, _>(Exp1) * 2.0;
            let mut t = first_seen as f64 + delay_days * DAY_SECS as f64;
            if t > end as f64 {
                t = first_seen as f64 + rng.gen::<f64>() * (end - first_seen) as f64;
            }
            let mut prev = first_seen + 240;
            loop {
                let drop = rng.gen::<f64>() < p;
                let mut ti = self.at_day_time(rng, t as i64);
                if ti <= prev {
                    ti = prev + rng.gen_range(600..4 * 3600);
                }
                if ti > end {
                    break;
                }
                let cents = match &amount {
                    Some(d) => ((d.sample(rng) * 100.0).round() as i64).max(100),
                    None => 100,
                };
                let channel = if rng.gen_bool(0.7) {
                    acq
                } else {
                    pick_weighted(rng, &ORDER_WEIGHTS)
                };
                let refund_p = self.refund_share * if drop { 2.0 } else { 0.75 };
                let refund = if rng.gen::<f64>() < refund_p {
                    let k = rng.gen_range(1..=14);
                    let rt = self.at_day_time(rng, ti + k * DAY_SECS);
                    let rc = if rng.gen_bool(0.7) {
                        cents
                    } else {
                        ((cents as f64 * rng.gen_range(0.2..0.8)).round() as i64).clamp(1, cents)
                    };
                    (rt <= end).then_some((rt, rc))
                } else {
                    None
                };
                s.purchases.push(Purchase {
                    t: ti,
                    cents,
                    channel,
                    drop,
                    refund,
                });
                prev = ti;
                if drop || s.purchases.len() >= MAX_PURCHASES || lam <= 0.0 {
                    break;
                }
                t += rng.sample::<f64, _>(Exp1) / lam * DAY_SECS as f64;
                if t > end as f64 {
                    break;
                }
            }
        }
        let has_orders = !s.purchases.is_empty();
        let dropped_at = s.purchases.last().filter(|q| q.drop).map(|q| q.t);
        let rel_lam = if has_orders {
            (lam / self.lambda_mean).max(1e-6)
        } else {
            0.0
        };

        // ---- engagement level over time -----------------------------------------------
        s.segs.clear();
        let act;
        if has_orders {
            act = g * rel_lam.powf(0.35).clamp(0.3, 3.0);
            open_base = (open_base * rel_lam.powf(0.25).clamp(0.5, 2.0)).min(0.9);
            let first_order = s.purchases[0].t;
            if first_order > first_seen {
                s.segs.push((first_seen, first_order, 0.6));
            }
            self.segments(&mut s.segs, first_order, dropped_at.unwrap_or(end + 1), 1.0);
        } else {
            act = 0.5 * g;
            open_base *= 0.6;
            let interest_days: f64 = eng.sample::<f64, _>(Exp1) * 45.0;
            let until = first_seen + (interest_days * DAY_SECS as f64) as i64;
            self.segments(&mut s.segs, first_seen, until, 0.8);
        }
        let after_drop = |t: i64| dropped_at.is_some_and(|d| t > d);

        // ---- events ---------------------------------------------------------------------
        s.events.clear();
        s.comments.clear();
        let visit_ch = |eng: &mut ChaCha8Rng| -> u8 {
            if acq == STORE && eng.gen_bool(0.4) {
                STORE
            } else if matches!(acq, MINI | APP | WEB) && eng.gen_bool(0.5) {
                acq
            } else {
                [MINI, MINI, APP, WEB][eng.gen_range(0..4)]
            }
        };
        // Scheduled pushes to reachable customers; opens follow the activity level.
        if reachable && self.m > 0.0 {
            let interval = PUSH_INTERVAL_DAYS / self.m * DAY_SECS as f64;
            let mut tp = first_seen as f64 + eng.gen::<f64>() * interval;
            while tp <= end as f64 {
                let day = (tp as i64).div_euclid(DAY_SECS);
                let hour = if eng.gen_bool(0.5) { 10 } else { 20 };
                let t = day * DAY_SECS + hour * 3600 + eng.gen_range(0..900);
                tp += interval;
                if t < first_seen || t > end {
                    continue;
                }
                s.events.push((t, EV_PUSH_SENT, push_ch));
                if eng.gen::<f64>() < open_base * Self::level_at(&s.segs, t) {
                    let to = t + 30 + (eng.sample::<f64, _>(Exp1) * 1800.0) as i64;
                    if to <= end {
                        s.events.push((to, EV_PUSH_OPEN, push_ch));
                        if eng.gen_bool(0.35) {
                            let tc = to + eng.gen_range(5..300);
                            if tc <= end {
                                s.events.push((tc, EV_CLICK, push_ch));
                            }
                        }
                    }
                }
            }
        }
        // Organic activity, piecewise-constant Poisson process.
        let mut joined = false;
        let kind_w = ACT_KINDS.map(|k| k.1);
        for si in 0..s.segs.len() {
            let (a, b, level) = s.segs[si];
            let rate = ACTIVITY_PER_DAY * self.m * act * level;
            let n = poisson(eng, rate * (b - a) as f64 / DAY_SECS as f64);
            for _ in 0..n {
                let raw = a + eng.gen_range(0..(b - a).max(1));
                let mut t = self.at_day_time(eng, raw);
                if t < first_seen || t > end {
                    t = raw;
                }
                let mut kind = ACT_KINDS[pick_weighted_slice(eng, &kind_w)].0;
                if kind == EV_JOIN_GROUP {
                    if joined {
                        kind = EV_VISIT;
                    }
                    joined = true;
                }
                let ch = match kind {
                    EV_VISIT => visit_ch(eng),
                    EV_LIKE => {
                        if eng.gen_bool(0.6) {
                            push_ch
                        } else {
                            MINI
                        }
                    }
                    EV_LIVE_VIEW => LIVE,
                    EV_CLICK => push_ch,
                    EV_SHARE | EV_COMMENT => {
                        if eng.gen_bool(0.55) {
                            WECOM
                        } else {
                            MINI
                        }
                    }
                    _ => WECOM,
                };
                s.events.push((t, kind, ch));
                if kind == EV_COMMENT {
                    let score = 0.35 + 0.6 * (level - 0.6) - if after_drop(t) { 0.8 } else { 0.0 }
                        + 0.8 * eng.sample::<f64, _>(StandardNormal);
                    let tone = tone_of(score);
                    let en = if eng.gen_bool(0.9) { english } else { !english };
                    text::write_comment(eng, tone, en, &mut s.text);
                    s.comments.push((t, s.text.clone(), 0));
                }
            }
        }
        // Activity before purchases, reviews after them.
        let n_p = s.purchases.len();
        for k in 0..n_p {
            let q = s.purchases[k];
            let pre_mean = if q.channel == STORE {
                0.5
            } else {
                PRE_PURCHASE_EVENTS
            } * self.m;
            for _ in 0..poisson(eng, pre_mean) {
                let t = if eng.gen_bool(0.4) {
                    q.t - eng.gen_range(60..1800)
                } else {
                    q.t - eng.gen_range(60..3 * DAY_SECS)
                };
                if t < first_seen {
                    continue;
                }
                let u: f64 = eng.gen();
                let (kind, ch) = if q.channel == STORE {
                    (EV_VISIT, STORE)
                } else if u < 0.6 {
                    (EV_VISIT, q.channel)
                } else if u < 0.9 {
                    (EV_CLICK, q.channel)
                } else if q.channel == LIVE {
                    (EV_LIVE_VIEW, LIVE)
                } else {
                    (EV_LIKE, q.channel)
                };
                s.events.push((t, kind, ch));
            }
            let unhappy = q.drop || q.refund.is_some();
            let review_p = if unhappy { 0.4 } else { 0.28 };
            if eng.gen::<f64>() < review_p {
                let delay_days = eng.gen_range(1..=10);
                let tr = self.at_day_time(eng, q.t + delay_days * DAY_SECS);
                if tr > end || tr <= q.t {
                    continue;
                }
                let next_is_last_drop = k + 2 == n_p && s.purchases[n_p - 1].drop;
                let score = 0.55
                    - if q.drop { 1.0 } else { 0.0 }
                    - if q.refund.is_some() { 1.2 } else { 0.0 }
                    - if next_is_last_drop { 0.4 } else { 0.0 }
                    - 1.5 * (p - self.p_mean)
                    + 0.35 * (value / self.value_mean).ln().clamp(-1.5, 1.5)
                    + 0.2 * rel_lam.ln().clamp(-2.0, 2.0)
                    + 0.8 * eng.sample::<f64, _>(StandardNormal);
                let tone = tone_of(score);
                let en = if eng.gen_bool(0.9) { english } else { !english };
                text::write_comment(eng, tone, en, &mut s.text);
                let rating = if eng.gen_bool(0.95) {
                    text::rating(eng, tone)
                } else {
                    0
                };
                s.comments.push((tr, s.text.clone(), rating));
                let ch = if q.channel == STORE { MINI } else { q.channel };
                s.events.push((tr, EV_REVIEW, ch));
            }
        }

        // ---- rows ---------------------------------------------------------------------
        s.id.clear();
        s.id.push(b'C');
        push_padded(&mut s.id, idx + 1, self.id_width);
        let cid = &s.id[..];
        let f = &mut out.files;
        // customers.csv
        f[0].extend_from_slice(cid);
        f[0].push(b',');
        self.cal.push_timestamp(&mut f[0], first_seen);
        f[0].push(b',');
        f[0].extend_from_slice(CHANNELS[acq as usize].as_bytes());
        f[0].push(b'\n');
        out.counts.customers += 1;
        // orders.csv
        s.rows.clear();
        for (k, q) in s.purchases.iter().enumerate() {
            s.rows.push((q.t, k, false));
            if let Some((rt, _)) = q.refund {
                s.rows.push((rt, k, true));
            }
        }
        s.rows.sort_unstable();
        for &(t, k, is_refund) in &s.rows {
            let q = &s.purchases[k];
            let o = &mut f[1];
            o.push(b'O');
            o.extend_from_slice(&cid[1..]);
            o.push(b'-');
            push_u64(o, k as u64 + 1);
            if is_refund {
                o.extend_from_slice(b"-R");
            }
            o.push(b',');
            o.extend_from_slice(cid);
            o.push(b',');
            self.cal.push_timestamp(o, t);
            o.push(b',');
            let cents = match (is_refund, q.refund) {
                (true, Some((_, rc))) => -rc,
                _ => q.cents,
            };
            push_cents(o, cents);
            o.push(b',');
            o.extend_from_slice(CHANNELS[q.channel as usize].as_bytes());
            o.push(b'\n');
            out.counts.orders += 1;
            if is_refund {
                out.counts.refunds += 1;
            }
        }
        // events.csv
        s.events.sort_unstable();
        for &(t, kind, ch) in &s.events {
            let o = &mut f[2];
            o.extend_from_slice(cid);
            o.push(b',');
            self.cal.push_timestamp(o, t);
            o.push(b',');
            o.extend_from_slice(EVENTS[kind as usize].as_bytes());
            o.push(b',');
            o.extend_from_slice(CHANNELS[ch as usize].as_bytes());
            o.push(b'\n');
        }
        out.counts.events += s.events.len() as u64;
        // comments.csv
        s.comments.sort_by_key(|c| c.0);
        for (t, txt, rating) in &s.comments {
            let o = &mut f[3];
            o.extend_from_slice(cid);
            o.push(b',');
            self.cal.push_timestamp(o, *t);
            o.push(b',');
            push_csv_text(o, txt);
            o.push(b',');
            if *rating > 0 {
                o.push(b'0' + rating);
            }
            o.push(b'\n');
        }
        out.counts.comments += s.comments.len() as u64;
    }
}

fn pick_weighted_slice(rng: &mut ChaCha8Rng, w: &[f64]) -> usize {
    let total: f64 = w.iter().sum();
    let mut u: f64 = rng.gen::<f64>() * total;
    for (i, x) in w.iter().enumerate() {
        if u < *x {
            return i;
        }
        u -= x;
    }
    w.len() - 1
}

fn tone_of(score: f64) -> Tone {
    if score > 0.45 {
        Tone::Positive
    } else if score < -0.35 {
        Tone::Negative
    } else {
        Tone::Neutral
    }
}
