//! Per-customer accumulators: what one streaming pass over the inputs keeps for each customer,
//! and how each kind of row is folded in. Everything is an exact integer (money in fixed-point
//! units), so the result does not depend on the order shards or chunks are processed in.
use crate::data::amount::parse_amount;
use crate::data::reader::{FieldError, Fields};
use crate::data::time::{TimeParser, SECONDS_PER_DAY};
use rustc_hash::FxHashSet;
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
}

/// Rolling windows of order features, in days.
pub const ORDER_WINDOWS_DAYS: [i64; 3] = [30, 90, 365];
/// Rolling windows of event counts, in days.
pub const EVENT_WINDOWS_DAYS: [i64; 2] = [30, 90];

/// One calendar day with orders: net amount and whether it had a purchase (amount ≥ 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderDay {
    /// Day number in the frame's calendar.
    pub day: i64,
    /// Net amount of all rows that day.
    pub net: i64,
    /// Whether at least one row that day was a purchase (not a refund).
    pub purchase: bool,
}

/// Everything kept per customer.
#[derive(Debug, Clone, Default)]
pub struct CustomerAcc {
    /// Earliest instant of any row at or before the cutoff (or customers.csv first_seen_at).
    pub first_seen: Option<i64>,
    /// Listed in customers.csv (with no first_seen_at after the cutoff).
    pub listed: bool,
    /// customers.csv acquisition_channel.
    pub acquisition_channel: Option<Box<str>>,
    /// Days with orders at or before the cutoff, ascending.
    pub days: Vec<OrderDay>,
    /// First and last purchase instants.
    pub first_purchase: Option<i64>,
    /// Last purchase instant.
    pub last_purchase: Option<i64>,
    /// Purchases (rows with amount ≥ 0) at or before the cutoff.
    pub orders_total: u32,
    /// Net spend (purchases minus refunds).
    pub spend_total: i64,
    /// Gross purchase amount.
    pub purchase_amount: i64,
    /// Refunded amount (positive).
    pub refund_amount: i64,
    /// Purchases per order window.
    pub orders_w: [u32; 3],
    /// Net spend per order window.
    pub spend_w: [i64; 3],
    keys: Option<FxHashSet<u64>>,
    future_keys: Option<FxHashSet<u64>>,
    /// Net spend in the label window.
    pub future_spend: i64,
    /// Purchases in the label window.
    pub future_orders: u32,
    future_days: Vec<i64>,
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
    /// Last interaction instant at or before the cutoff.
    pub last_interaction: Option<i64>,
}

fn min_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.min(b)))
}

fn max_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.max(b)))
}

fn order_key(id: &[u8], refund: bool) -> u64 {
    let id = id.trim_ascii();
    if id.is_empty() {
        return 0;
    }
    let mut h = rustc_hash::FxHasher::default();
    h.write(id);
    h.write_u8(u8::from(refund));
    h.finish().max(1)
}

impl CustomerAcc {
    /// Whether the customer existed at the cutoff (some row at or before it, or listed).
    pub fn exists(&self) -> bool {
        self.first_seen.is_some() || self.listed
    }

    /// Number of distinct purchase days in the label window.
    pub fn future_purchase_days(&self) -> u32 {
        self.future_days.len() as u32
    }

    fn add_day(&mut self, day: i64, amount: i64) {
        let purchase = amount >= 0;
        let pos = match self.days.last() {
            Some(last) if last.day == day => Ok(self.days.len() - 1),
            Some(last) if last.day < day => Err(self.days.len()),
            _ => self.days.binary_search_by_key(&day, |d| d.day),
        };
        match pos {
            Ok(i) => {
                self.days[i].net += amount;
                self.days[i].purchase |= purchase;
            }
            Err(i) => self.days.insert(
                i,
                OrderDay {
                    day,
                    net: amount,
                    purchase,
                },
            ),
        }
    }

    /// Folds in an order row.
    pub fn add_order(&mut self, row: &OrderRow, frame: &Frame) {
        let OrderRow { ts, amount, key } = *row;
        if ts < frame.cutoff_end {
            if key != 0 && !self.keys.get_or_insert_with(Default::default).insert(key) {
                return;
            }
            self.first_seen = min_opt(self.first_seen, ts);
            if amount >= 0 {
                self.orders_total += 1;
                self.purchase_amount += amount;
                self.first_purchase = min_opt(self.first_purchase, ts);
                self.last_purchase = max_opt(self.last_purchase, ts);
            } else {
                self.refund_amount -= amount;
            }
            self.spend_total += amount;
            self.add_day(frame.time.day_of(ts), amount);
            for (i, w) in ORDER_WINDOWS_DAYS.iter().enumerate() {
                if ts >= frame.cutoff_end - w * SECONDS_PER_DAY {
                    self.orders_w[i] += u32::from(amount >= 0);
                    self.spend_w[i] += amount;
                }
            }
        } else if ts < frame.label_end {
            if key != 0
                && !self
                    .future_keys
                    .get_or_insert_with(Default::default)
                    .insert(key)
            {
                return;
            }
            self.future_spend += amount;
            if amount >= 0 {
                self.future_orders += 1;
                let day = frame.time.day_of(ts);
                if let Err(i) = self.future_days.binary_search(&day) {
                    self.future_days.insert(i, day);
                }
            }
        }
    }

    /// Folds in an event row (rows after the cutoff never reach here).
    pub fn add_event(&mut self, row: &EventRow, frame: &Frame) {
        let EventRow { ts, kind } = *row;
        self.first_seen = min_opt(self.first_seen, ts);
        for (i, w) in EVENT_WINDOWS_DAYS.iter().enumerate() {
            if ts >= frame.cutoff_end - w * SECONDS_PER_DAY {
                self.events_w[i] += 1;
            }
        }
        if kind.is_interaction() {
            self.last_interaction = max_opt(self.last_interaction, ts);
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
    pub fn add_customer(&mut self, row: &CustomerRow) {
        self.listed = true;
        if let Some(ts) = row.first_seen {
            self.first_seen = min_opt(self.first_seen, ts);
        }
        if self.acquisition_channel.is_none() {
            self.acquisition_channel.clone_from(&row.channel);
        }
    }
}

fn timestamp(frame: &Frame, fields: &Fields<'_>, column: usize) -> Result<i64, FieldError> {
    frame
        .time
        .parse(fields.get(column).unwrap_or(b""))
        .ok_or(FieldError {
            column,
            kind: "unparsable timestamp",
        })
}

/// Parses an orders.csv record (contract columns: customer_id, ordered_at, amount, order_id,
/// channel). Rows after the label window are validated, then dropped.
pub fn parse_order(frame: &Frame, f: &Fields<'_>) -> Result<Option<OrderRow>, FieldError> {
    let ts = timestamp(frame, f, 1)?;
    let amount = parse_amount(f.get(2).unwrap_or(b"")).ok_or(FieldError {
        column: 2,
        kind: "not a number",
    })?;
    if ts >= frame.label_end {
        return Ok(None);
    }
    let key = f.get(3).map_or(0, |id| order_key(id, amount < 0));
    Ok(Some(OrderRow { ts, amount, key }))
}

/// Parses an events.csv record (customer_id, occurred_at, event, channel); rows after the
/// cutoff are dropped.
pub fn parse_event(frame: &Frame, f: &Fields<'_>) -> Result<Option<EventRow>, FieldError> {
    let ts = timestamp(frame, f, 1)?;
    if ts >= frame.cutoff_end {
        return Ok(None);
    }
    let kind = EventKind::parse(f.get(2).unwrap_or(b""));
    Ok(Some(EventRow { ts, kind }))
}

/// Parses a customers.csv record (customer_id, first_seen_at?, acquisition_channel?); customers
/// first seen after the cutoff are dropped.
pub fn parse_customer(frame: &Frame, f: &Fields<'_>) -> Result<Option<CustomerRow>, FieldError> {
    let first_seen = match f.get(1).map(<[u8]>::trim_ascii) {
        None | Some(b"") => None,
        Some(_) => Some(timestamp(frame, f, 1)?),
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
