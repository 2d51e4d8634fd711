//! Per-customer accumulators: what one streaming pass over the inputs keeps for each customer,
//! and how each kind of row is folded in. Everything is an exact integer (money in fixed-point
//! units), so the result does not depend on the order shards or chunks are processed in.
use crate::data::reader::{FieldError, Fields};
use crate::data::time::{TimeParser, SECONDS_PER_DAY};
use std::hash::Hasher;

/// The kinds of interaction events; unknown kinds are `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A push message sent by the brand (not an action of the customer).
    PushSent,
    /// The customer opened a push.
    PushOpen,
    /// A click.
    Click,
    /// A visit (mini-program, app, store).
    Visit,
    /// A share to friends or groups.
    Share,
    /// A review.
    Review,
    /// A like.
    Like,
    /// A comment.
    Comment,
    /// Joined a WeCom / WeChat group.
    JoinGroup,
    /// Watched a live stream.
    LiveView,
    /// Any other kind.
    Other,
}

impl EventKind {
    /// Reads an event name (case-insensitive); unknown names are `Other`.
    pub fn parse(name: &[u8]) -> EventKind {
        let n = name.trim_ascii();
        let eq = |s: &str| n.eq_ignore_ascii_case(s.as_bytes());
        if eq("push_sent") {
            EventKind::PushSent
        } else if eq("push_open") {
            EventKind::PushOpen
        } else if eq("click") {
            EventKind::Click
        } else if eq("visit") {
            EventKind::Visit
        } else if eq("share") {
            EventKind::Share
        } else if eq("review") {
            EventKind::Review
        } else if eq("like") {
            EventKind::Like
        } else if eq("comment") {
            EventKind::Comment
        } else if eq("join_group") {
            EventKind::JoinGroup
        } else if eq("live_view") {
            EventKind::LiveView
        } else {
            EventKind::Other
        }
    }

    /// Whether the event is an action of the customer (everything but `push_sent`).
    pub fn is_interaction(self) -> bool {
        self != EventKind::PushSent
    }
}

/// An order row: instant, signed amount (fixed-point), dedup key (0 = no order id).
#[derive(Debug, Clone, Copy)]
pub struct OrderRow {
    ts: i64,
    amount: i64,
    key: u64,
}

/// An event row.
#[derive(Debug, Clone, Copy)]
pub struct EventRow {
    ts: i64,
    kind: EventKind,
}

/// A customers.csv row.
#[derive(Debug, Clone)]
pub struct CustomerRow {
    first_seen: Option<i64>,
    channel: Option<Box<str>>,
}

/// The time frame of one build: cutoff and optional label window, and the calendar.
#[derive(Debug, Clone)]
pub struct Frame {
    /// First second after the cutoff `T`.
    pub cutoff_end: i64,
    /// First second after `T + horizon` (equal to `cutoff_end` without a label).
    pub label_end: i64,
    /// Calendar.
    pub time: TimeParser,
    /// The latest order or event instant after the cutoff seen so far (shared by the parser
    /// threads; [`i64::MIN`] when there is none).
    pub last_after_cutoff: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Frame {
    /// A frame for the cutoff `cutoff_end`, label end `label_end` and calendar `time`.
    pub fn new(cutoff_end: i64, label_end: i64, time: TimeParser) -> Frame {
        Frame {
            cutoff_end,
            label_end,
            time,
            last_after_cutoff: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
        }
    }

    /// Records an instant after the cutoff (cheap when it is not a new maximum: one load).
    #[inline]
    fn saw_after_cutoff(&self, ts: i64) {
        use std::sync::atomic::Ordering::Relaxed;
        if ts > self.last_after_cutoff.load(Relaxed) {
            self.last_after_cutoff.fetch_max(ts, Relaxed);
        }
    }

    /// The latest order or event instant after the cutoff, if any.
    pub fn last_after_cutoff(&self) -> Option<i64> {
        let v = self
            .last_after_cutoff
            .load(std::sync::atomic::Ordering::Relaxed);
        (v != i64::MIN).then_some(v)
    }
}

/// Rolling windows of order features, in days.
pub const ORDER_WINDOWS_DAYS: [i64; 3] = [30, 90, 365];
/// Rolling windows of event counts, in days.
pub const EVENT_WINDOWS_DAYS: [i64; 2] = [30, 90];

/// Day number of an instant in the frame's calendar, narrowed to `i32` (saturating; a real
/// calendar day is far inside the range).
#[inline]
pub fn day32(frame: &Frame, ts: i64) -> i32 {
    frame
        .time
        .day_of(ts)
        .clamp(i64::from(i32::MIN + 1), i64::from(i32::MAX - 1)) as i32
}

/// The order ids seen so far in one shard, for de-duplication: one set per shard keyed by a
/// mix of (customer index, order-id hash, refund flag), separately before and after the cutoff.
#[derive(Default)]
pub struct OrderKeys {
    before: KeySet,
    after: KeySet,
}

/// A set of well-mixed `u64` keys in ~8 bytes per key: a sorted run (searched by interpolation,
/// the keys being uniform) plus a small hash table of recent keys, merged into the run when it
/// reaches 1/8 of it.
#[derive(Default)]
struct KeySet {
    run: Vec<u64>,
    recent: hashbrown::HashTable<u64>,
}

impl KeySet {
    fn in_run(&self, z: u64) -> bool {
        let run = &self.run;
        let n = run.len();
        if n == 0 {
            return false;
        }
        // Uniform keys: the expected position is z / 2^64 · n; gallop from there.
        let guess = ((u128::from(z) * n as u128) >> 64) as usize;
        let (mut lo, mut hi);
        if run[guess] < z {
            lo = guess + 1;
            let mut step = 16;
            hi = lo;
            while hi < n && run[hi] < z {
                lo = hi + 1;
                hi = (hi + step).min(n);
                step *= 2;
            }
            // run[hi] ≥ z (or hi = n): include it.
            hi = (hi + 1).min(n);
        } else {
            hi = guess + 1;
            let mut step = 16;
            lo = guess.saturating_sub(step);
            while lo > 0 && run[lo] > z {
                hi = lo + 1;
                step *= 2;
                lo = lo.saturating_sub(step);
            }
        }
        run[lo..hi].binary_search(&z).is_ok()
    }

    /// Adds `z`; `false` when it was already there.
    fn insert(&mut self, z: u64) -> bool {
        if self.in_run(z) {
            return false;
        }
        match self.recent.entry(z, |&k| k == z, |&k| k) {
            hashbrown::hash_table::Entry::Occupied(_) => return false,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(z);
            }
        }
        if self.recent.len() >= (self.run.len() / 8).max(1024) {
            let mut new: Vec<u64> = self.recent.drain().collect();
            new.sort_unstable();
            let mut merged = Vec::with_capacity(self.run.len() + new.len());
            let (mut i, mut j) = (0, 0);
            while i < self.run.len() && j < new.len() {
                if self.run[i] < new[j] {
                    merged.push(self.run[i]);
                    i += 1;
                } else {
                    merged.push(new[j]);
                    j += 1;
                }
            }
            merged.extend_from_slice(&self.run[i..]);
            merged.extend_from_slice(&new[j..]);
            self.run = merged;
            self.recent = hashbrown::HashTable::new();
        }
        true
    }
}

impl OrderKeys {
    /// Records `key` of customer `customer`; `false` when it was already there (a duplicate).
    fn insert(&mut self, customer: u32, key: u64, after_cutoff: bool) -> bool {
        // splitmix64 finaliser of the pair: a bijection of `key ^ f(customer)`, so two keys of
        // one customer never collide, and the value is uniform enough to be its own hash.
        let mut z = key ^ u64::from(customer).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        if after_cutoff {
            self.after.insert(z)
        } else {
            self.before.insert(z)
        }
    }
}

/// What a customer did in the label window.
#[derive(Debug, Clone, Default)]
struct FutureAcc {
    spend: i64,
    orders: u32,
    /// Distinct purchase days, ascending.
    days: Vec<i32>,
}

/// Rarely needed per-customer data, allocated only for customers that have it.
#[derive(Debug, Clone, Default)]
struct Extra {
    listed: bool,
    /// The listed acquisition channel and the `first_seen_at` of its row (`i64::MAX` without).
    acquisition_channel: Option<(i64, Box<str>)>,
    /// Net refunds per day on days before the first purchase day (or with no purchase yet):
    /// they join the first purchase day's net if a purchase later lands on one of them.
    early_refunds: Vec<(i32, i64)>,
    /// A money sum of this customer left the `i64` range (the build fails, naming it).
    overflowed: bool,
}

/// `*acc += v`, saturating; false when the exact sum does not fit.
#[inline]
fn add_money(acc: &mut i64, v: i64) -> bool {
    match acc.checked_add(v) {
        Some(s) => {
            *acc = s;
            true
        }
        None => {
            *acc = if v > 0 { i64::MAX } else { i64::MIN };
            false
        }
    }
}

const NO_TS_MIN: i64 = i64::MAX;
const NO_TS_MAX: i64 = i64::MIN;
const NO_DAY_MIN: i32 = i32::MAX;
const NO_DAY_MAX: i32 = i32::MIN;

/// Everything kept per customer. Absent instants and days are sentinels (`MAX` for minima,
/// `MIN` for maxima); use the accessor methods.
#[derive(Debug, Clone)]
pub struct CustomerAcc {
    first_purchase: i64,
    last_purchase: i64,
    /// Gross purchase amount.
    pub purchase_amount: i64,
    /// Refunded amount (positive).
    pub refund_amount: i64,
    /// Net spend per order window.
    pub spend_w: [i64; 3],
    /// Net amount of all rows on the first purchase day.
    first_day_net: i64,
    /// Distinct purchase days at or before the cutoff, ascending.
    purchase_days: Vec<i32>,
    first_seen_day: i32,
    last_interaction_day: i32,
    /// Purchases (rows with amount ≥ 0) at or before the cutoff.
    pub orders_total: u32,
    /// Purchases per order window.
    pub orders_w: [u32; 3],
    /// Events per event window (all kinds).
    pub events_w: [u32; 2],
    /// Customer interactions in the last 90 days.
    pub interactions_90d: u32,
    /// Pushes sent in the last 90 days.
    pub push_sent_90d: u32,
    /// Pushes opened in the last 90 days.
    pub push_open_90d: u32,
    /// Clicks in the last 90 days.
    pub click_90d: u32,
    /// Shares in the last 90 days.
    pub shares_90d: u32,
    /// Review events in the last 90 days.
    pub reviews_90d: u32,
    future: Option<Box<FutureAcc>>,
    extra: Option<Box<Extra>>,
}

impl Default for CustomerAcc {
    fn default() -> Self {
        CustomerAcc {
            first_purchase: NO_TS_MIN,
            last_purchase: NO_TS_MAX,
            purchase_amount: 0,
            refund_amount: 0,
            spend_w: [0; 3],
            first_day_net: 0,
            purchase_days: Vec::new(),
            first_seen_day: NO_DAY_MIN,
            last_interaction_day: NO_DAY_MAX,
            orders_total: 0,
            orders_w: [0; 3],
            events_w: [0; 2],
            interactions_90d: 0,
            push_sent_90d: 0,
            push_open_90d: 0,
            click_90d: 0,
            shares_90d: 0,
            reviews_90d: 0,
            future: None,
            extra: None,
        }
    }
}

/// The de-duplication key of an order row with order id `id` (0 without one): a hash of the
/// id, the instant and the amount, so that only a repeat of the whole row (same customer, order
/// id, instant and amount: a re-export, a join that doubled rows) counts once, whatever the
/// order of the rows; lines of one order that differ in time or amount (items, a partial
/// refund) all count. The rule does not depend on the order of the rows, so the parts of a
/// split input (Spark partitions) fold to the same numbers as the whole file.
pub(crate) fn order_key(id: &[u8], ts: i64, amount: i64) -> u64 {
    let id = id.trim_ascii();
    if id.is_empty() {
        return 0;
    }
    let mut h = rustc_hash::FxHasher::default();
    h.write(id);
    h.write_u8(0xff); // ends the id: `ab` + `c…` never equals `abc` + `…`
    h.write_i64(ts);
    h.write_i64(amount);
    h.finish().max(1)
}

impl CustomerAcc {
    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }

    /// Whether the customer existed at the cutoff (some row at or before it, or listed).
    pub fn exists(&self) -> bool {
        self.first_seen_day != NO_DAY_MIN || self.extra.as_ref().is_some_and(|e| e.listed)
    }

    /// Calendar day of the earliest row at or before the cutoff (or customers.csv
    /// first_seen_at).
    pub fn first_seen_day(&self) -> Option<i64> {
        (self.first_seen_day != NO_DAY_MIN).then_some(i64::from(self.first_seen_day))
    }

    /// Calendar day of the last interaction at or before the cutoff.
    pub fn last_interaction_day(&self) -> Option<i64> {
        (self.last_interaction_day != NO_DAY_MAX).then_some(i64::from(self.last_interaction_day))
    }

    /// First purchase instant.
    pub fn first_purchase(&self) -> Option<i64> {
        (self.first_purchase != NO_TS_MIN).then_some(self.first_purchase)
    }

    /// Last purchase instant.
    pub fn last_purchase(&self) -> Option<i64> {
        (self.last_purchase != NO_TS_MAX).then_some(self.last_purchase)
    }

    /// Net spend (purchases minus refunds); saturating, see [`CustomerAcc::money_overflowed`].
    pub fn spend_total(&self) -> i64 {
        self.purchase_amount.saturating_sub(self.refund_amount)
    }

    /// Whether one of the customer's money sums left the exact `i64` fixed-point range (about
    /// ±922 trillion currency units); its numbers are then not exact and the build fails.
    pub fn money_overflowed(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| e.overflowed)
            || self
                .purchase_amount
                .checked_sub(self.refund_amount)
                .is_none()
    }

    #[cold]
    fn mark_overflow(&mut self) {
        self.extra_mut().overflowed = true;
    }

    /// Distinct purchase days at or before the cutoff, ascending.
    pub fn purchase_days(&self) -> &[i32] {
        &self.purchase_days
    }

    /// Net amount (purchases and refunds) of the first purchase day; 0 without purchases.
    pub fn first_day_net(&self) -> i64 {
        self.first_day_net
    }

    /// customers.csv acquisition_channel.
    pub fn acquisition_channel(&self) -> Option<&str> {
        self.extra
            .as_ref()?
            .acquisition_channel
            .as_ref()
            .map(|(_, c)| &**c)
    }

    /// Net spend in the label window.
    pub fn future_spend(&self) -> i64 {
        self.future.as_ref().map_or(0, |f| f.spend)
    }

    /// Purchases in the label window.
    pub fn future_orders(&self) -> u32 {
        self.future.as_ref().map_or(0, |f| f.orders)
    }

    /// Number of distinct purchase days in the label window.
    pub fn future_purchase_days(&self) -> u32 {
        self.future.as_ref().map_or(0, |f| f.days.len() as u32)
    }

    fn see_day(&mut self, day: i32) {
        self.first_seen_day = self.first_seen_day.min(day);
    }

    /// Records that the customer was seen at instant `ts` (at or before the cutoff) in an input
    /// folded elsewhere, such as comments.
    pub fn see(&mut self, ts: i64, frame: &Frame) {
        self.see_day(frame.time.day_of(ts) as i32);
    }

    fn add_day(&mut self, day: i32, amount: i64) {
        let first = self.purchase_days.first().copied();
        if amount >= 0 {
            match first {
                Some(f) if day == f => {
                    if !add_money(&mut self.first_day_net, amount) {
                        self.mark_overflow();
                    }
                }
                Some(f) if day > f => match self.purchase_days.last() {
                    Some(&l) if l == day => {}
                    Some(&l) if l < day => self.purchase_days.push(day),
                    _ => {
                        if let Err(i) = self.purchase_days.binary_search(&day) {
                            self.purchase_days.insert(i, day);
                        }
                    }
                },
                _ => {
                    // A new first purchase day: earlier refunds that day join its net.
                    let mut net = amount;
                    if let Some(e) = self.extra.as_mut() {
                        if let Some(i) = e.early_refunds.iter().position(|r| r.0 == day) {
                            if !add_money(&mut net, e.early_refunds.swap_remove(i).1) {
                                e.overflowed = true;
                            }
                        }
                    }
                    self.first_day_net = net;
                    self.purchase_days.insert(0, day);
                }
            }
        } else {
            match first {
                Some(f) if day == f => {
                    if !add_money(&mut self.first_day_net, amount) {
                        self.mark_overflow();
                    }
                }
                Some(f) if day > f => {}
                _ => {
                    let e = self.extra_mut();
                    match e.early_refunds.iter_mut().find(|r| r.0 == day) {
                        Some(r) => {
                            if !add_money(&mut r.1, amount) {
                                e.overflowed = true;
                            }
                        }
                        None => e.early_refunds.push((day, amount)),
                    }
                }
            }
        }
    }

    /// Folds in an order row of customer number `customer` of the shard whose order ids are
    /// `keys`.
    pub fn add_order(
        &mut self,
        row: &OrderRow,
        frame: &Frame,
        keys: &mut OrderKeys,
        customer: u32,
    ) {
        let OrderRow { ts, amount, key } = *row;
        if ts < frame.cutoff_end {
            if key != 0 && !keys.insert(customer, key, false) {
                return;
            }
            let day = day32(frame, ts);
            self.see_day(day);
            let mut exact = true;
            if amount >= 0 {
                self.orders_total += 1;
                exact &= add_money(&mut self.purchase_amount, amount);
                self.first_purchase = self.first_purchase.min(ts);
                self.last_purchase = self.last_purchase.max(ts);
            } else {
                exact &= add_money(&mut self.refund_amount, -amount);
            }
            self.add_day(day, amount);
            for (i, w) in ORDER_WINDOWS_DAYS.iter().enumerate() {
                if ts >= frame.cutoff_end - w * SECONDS_PER_DAY {
                    self.orders_w[i] += u32::from(amount >= 0);
                    exact &= add_money(&mut self.spend_w[i], amount);
                }
            }
            if !exact {
                self.mark_overflow();
            }
        } else if ts < frame.label_end {
            if key != 0 && !keys.insert(customer, key, true) {
                return;
            }
            let f = self.future.get_or_insert_with(Default::default);
            if !add_money(&mut f.spend, amount) {
                self.mark_overflow();
            }
            let f = self.future.get_or_insert_with(Default::default);
            if amount >= 0 {
                f.orders += 1;
                let day = day32(frame, ts);
                match f.days.last() {
                    Some(&l) if l == day => {}
                    Some(&l) if l > day => {
                        if let Err(i) = f.days.binary_search(&day) {
                            f.days.insert(i, day);
                        }
                    }
                    _ => f.days.push(day),
                }
            }
        }
    }

    /// Folds in an event row (rows after the cutoff never reach here).
    pub fn add_event(&mut self, row: &EventRow, frame: &Frame) {
        let EventRow { ts, kind } = *row;
        let day = day32(frame, ts);
        self.see_day(day);
        for (i, w) in EVENT_WINDOWS_DAYS.iter().enumerate() {
            if ts >= frame.cutoff_end - w * SECONDS_PER_DAY {
                self.events_w[i] += 1;
            }
        }
        if kind.is_interaction() {
            self.last_interaction_day = self.last_interaction_day.max(day);
        }
        if ts >= frame.cutoff_end - 90 * SECONDS_PER_DAY {
            match kind {
                EventKind::PushSent => self.push_sent_90d += 1,
                EventKind::PushOpen => self.push_open_90d += 1,
                EventKind::Click => self.click_90d += 1,
                EventKind::Share => self.shares_90d += 1,
                EventKind::Review => self.reviews_90d += 1,
                _ => {}
            }
            self.interactions_90d += u32::from(kind.is_interaction());
        }
    }

    /// Folds in a customers.csv row (rows first seen after the cutoff never reach here).
    pub fn add_customer(&mut self, row: &CustomerRow, frame: &Frame) {
        if let Some(ts) = row.first_seen {
            self.see_day(day32(frame, ts));
        }
        let e = self.extra_mut();
        e.listed = true;
        // A customer listed on several rows: the channel of the row first seen earliest
        // (rows without `first_seen_at` last), ties by the channel's text; not the first row
        // in the file, so the rule holds for any order of the rows.
        if let Some(channel) = &row.channel {
            let candidate = (row.first_seen.unwrap_or(i64::MAX), channel);
            let better = match &e.acquisition_channel {
                None => true,
                Some((ts, c)) => candidate < (*ts, c),
            };
            if better {
                e.acquisition_channel = Some((candidate.0, channel.clone()));
            }
        }
    }
}

/// Parses an orders.csv record (contract columns: customer_id, ordered_at, amount, order_id,
/// channel). Rows after the label window are validated, then dropped.
pub fn parse_order(frame: &Frame, f: &Fields<'_>) -> Result<Option<OrderRow>, FieldError> {
    let ts = f.instant(1, &frame.time)?;
    let amount = f.amount(2)?;
    if ts >= frame.cutoff_end {
        frame.saw_after_cutoff(ts);
        if ts >= frame.label_end {
            return Ok(None);
        }
    }
    let key = f.get(3).map_or(0, |id| order_key(id, ts, amount));
    Ok(Some(OrderRow { ts, amount, key }))
}

/// Parses an events.csv record (customer_id, occurred_at, event, channel); rows after the
/// cutoff are dropped.
pub fn parse_event(frame: &Frame, f: &Fields<'_>) -> Result<Option<EventRow>, FieldError> {
    let ts = f.instant(1, &frame.time)?;
    if ts >= frame.cutoff_end {
        frame.saw_after_cutoff(ts);
        return Ok(None);
    }
    let kind = EventKind::parse(f.get(2).unwrap_or(b""));
    Ok(Some(EventRow { ts, kind }))
}

/// Parses a customers.csv record (customer_id, first_seen_at?, acquisition_channel?); customers
/// first seen after the cutoff are dropped.
pub fn parse_customer(frame: &Frame, f: &Fields<'_>) -> Result<Option<CustomerRow>, FieldError> {
    let first_seen = if f.is_blank(1) {
        None
    } else {
        Some(f.instant(1, &frame.time)?)
    };
    if first_seen.is_some_and(|ts| ts >= frame.cutoff_end) {
        return Ok(None);
    }
    let channel = f
        .get(2)
        .map(<[u8]>::trim_ascii)
        .filter(|c| !c.is_empty())
        .map(|c| String::from_utf8_lossy(c).into());
    Ok(Some(CustomerRow {
        first_seen,
        channel,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_set_is_a_set() {
        // Against a std HashSet over enough keys to force many merges, with repeats.
        let mut set = KeySet::default();
        let mut truth = std::collections::HashSet::new();
        let mut x = 12345u64;
        for i in 0..60_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Every third key repeats an earlier one.
            let z = if i % 3 == 2 {
                (x % (i + 1)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            } else {
                x
            };
            assert_eq!(set.insert(z), truth.insert(z), "key {i}");
        }
        for &z in &truth {
            assert!(!set.insert(z));
        }
        assert_eq!(set.run.len() + set.recent.len(), truth.len());
    }
}
