//! Hand-worked KPI examples (as of 2025-06-30, UTC calendar, 30-day period).
//!
//! T ends at 2025-07-01T00:00Z. Period = [06-01, 07-01); conversion window = [05-25, 06-24);
//! repurchase base window = [01-02, 04-02), repurchase window = [04-02, 07-01).
use super::*;
use crate::data::time::{TimeFormat, TimeParser};
use crate::data::Source;

const ORDERS: &str = "customer_id,ordered_at,amount,order_id
c1,2025-03-10,100,a1
c1,2025-03-11,50,a2
c1,2025-06-05,200,o1
c1,2025-06-05,200,o1
c1,2025-06-10,-30,r1
c2,2025-03-20,80,b1
c2,2025-03-20T18:00:00Z,10,b2
c2,2025-04-15,40,b3
c3,2025-06-29,60,
c4,2025-07-05,500,
c6,2025-02-01,70,
c7,2025-05-01,90,
";

const EVENTS: &str = "customer_id,occurred_at,event
c1,2025-06-02T08:00:00Z,push_sent
c1,2025-06-02T09:00:00Z,push_open
c1,2025-06-03,click
c1,2025-06-20,push_sent
c2,2025-06-10,push_sent
c2,2025-06-12,visit
c2,2025-05-20,visit
c5,2025-06-28,like
c5,2025-07-02,visit
";

fn opts() -> ReadOptions {
    ReadOptions {
        time: TimeParser::new(TimeFormat::Rfc3339, 0),
        ..ReadOptions::default()
    }
}

fn run(orders: &str, events: Option<&str>, customers: Option<&str>) -> Kpis {
    let o = opts();
    let as_of = Cutoff::parse("2025-06-30", &o.time).unwrap();
    let inputs = Inputs {
        orders: Source::from_bytes("orders.csv", orders.as_bytes()),
        events: events.map(|e| Source::from_bytes("events.csv", e.as_bytes())),
        customers: customers.map(|c| Source::from_bytes("customers.csv", c.as_bytes())),
        comments: None,
    };
    compute_kpis(inputs, &KpiParams::new(as_of), &o).unwrap()
}

fn close(a: Option<f64>, b: f64) {
    let a = a.expect("defined");
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

#[test]
fn push_reach_open_and_click_rates() {
    let k = run(ORDERS, Some(EVENTS), None);
    // c1 got 2 pushes, c2 1: reach 2, 3 pushes, 1 open, 1 click.
    assert_eq!((k.reach, k.pushes_sent), (2, 3));
    close(k.push_open_rate, 1.0 / 3.0);
    close(k.click_rate, 1.0 / 3.0);
}

#[test]
fn interactions_per_user_per_month() {
    let k = run(ORDERS, Some(EVENTS), None);
    // In the period: c1 open + click, c2 visit 06-12, c5 like (c2's 05-20 visit and c5's
    // 07-02 visit are outside): 4 interactions by 3 customers in 30 days.
    assert_eq!((k.interactions, k.interacting_customers), (4, 3));
    close(k.interactions_per_user_per_month, 4.0 / 3.0);
}

#[test]
fn interactions_per_month_scale_with_the_period() {
    let o = opts();
    let as_of = Cutoff::parse("2025-06-30", &o.time).unwrap();
    let inputs = Inputs {
        orders: Source::from_bytes("orders.csv", ORDERS.as_bytes()),
        events: Some(Source::from_bytes("events.csv", EVENTS.as_bytes())),
        customers: None,
        comments: None,
    };
    let p = KpiParams {
        period_days: 60,
        ..KpiParams::new(as_of)
    };
    let k = compute_kpis(inputs, &p, &o).unwrap();
    // 60 days from 05-02: c2's 05-20 visit joins: 5 interactions, 3 customers, per 30 days.
    assert_eq!(k.interactions, 5);
    close(k.interactions_per_user_per_month, 5.0 / 3.0 / 2.0);
}

#[test]
fn conversion_within_seven_days() {
    let k = run(ORDERS, Some(EVENTS), None);
    // Window [05-25, 06-24): c1 open 06-02 and click 06-03 are followed by the 06-05
    // purchase; c2's 06-12 visit is not; c5's 06-28 like is too late, c2's 05-20 too early.
    assert_eq!(
        (k.conversion_interactions, k.converted_interactions),
        (3, 2)
    );
    close(k.conversion_rate, 2.0 / 3.0);
}

#[test]
fn cohort_retention_by_hand() {
    let k = run(ORDERS, Some(EVENTS), None);
    let months: Vec<&str> = k.cohorts.iter().map(|c| c.month.as_str()).collect();
    assert_eq!(months, ["2025-02", "2025-03", "2025-05", "2025-06"]);
    let cell = |m: usize, i: usize| {
        let r = &k.cohorts[m].retention[i];
        (r.eligible, r.retained)
    };
    // 2025-03: c1 (next day 03-11 → D1, D7, D30) and c2 (same-day 2nd order does not count;
    // next purchase day 04-15 = 26 days → D30 only).
    assert_eq!(k.cohorts[1].new_customers, 2);
    assert_eq!(
        [cell(1, 0), cell(1, 1), cell(1, 2)],
        [(2, 1), (2, 1), (2, 2)]
    );
    close(k.cohorts[1].retention[0].rate, 0.5);
    close(k.cohorts[1].retention[2].rate, 1.0);
    // 2025-02 (c6) and 2025-05 (c7): one customer each, never back.
    assert_eq!(
        [cell(0, 0), cell(0, 2), cell(2, 2)],
        [(1, 0), (1, 0), (1, 0)]
    );
    // 2025-06: c3 first bought 06-29: eligible for D1 only (06-30 <= as-of day).
    assert_eq!(
        [cell(3, 0), cell(3, 1), cell(3, 2)],
        [(1, 0), (0, 0), (0, 0)]
    );
    assert_eq!(k.cohorts[3].retention[1].rate, None);
}

#[test]
fn repurchase_rate_3m() {
    let k = run(ORDERS, Some(EVENTS), None);
    // Bought in [01-02, 04-02): c1, c2, c6; again in [04-02, 07-01): c1 (06-05), c2 (04-15).
    assert_eq!((k.repurchase_base, k.repurchased), (3, 2));
    close(k.repurchase_rate_3m, 2.0 / 3.0);
}

#[test]
fn arpu_arppu_and_average_order_value() {
    let k = run(ORDERS, Some(EVENTS), None);
    // Period: c1 200 (duplicate o1 once) − 30 refund, c3 60 → 230 net, 2 purchases,
    // paying c1, c3; active also c2 (visit) and c5 (like).
    assert_eq!(k.net_spend, 230.0);
    assert_eq!(
        (k.purchases, k.paying_customers, k.active_customers),
        (2, 2, 4)
    );
    close(k.arpu, 57.5);
    close(k.arppu, 115.0);
    close(k.average_order_value, 115.0);
}

#[test]
fn lifecycle_counts() {
    let k = run(
        ORDERS,
        Some(EVENTS),
        Some("customer_id,first_seen_at\nc8,2025-01-01\nc9,2025-08-01\n"),
    );
    // c5 (events only) and c8 (listed) potential; c9 first seen after T; c4 only after T.
    // c3 new (first 1 day ago); c1 active (last purchase 25 days); c2 active (visit 18 days);
    // c7 silent (60 days); c6 churned (149 days).
    let counts: Vec<(&str, u64)> = k
        .lifecycle
        .iter()
        .map(|s| (s.stage.as_str(), s.customers))
        .collect();
    assert_eq!(
        counts,
        [
            ("potential", 2),
            ("new", 1),
            ("active", 2),
            ("silent", 1),
            ("churned", 1)
        ]
    );
    assert_eq!(k.customers, 7);
}

#[test]
fn ratios_without_denominators_are_none() {
    let k = run(
        "customer_id,ordered_at,amount\nc1,2020-01-01,10\n",
        None,
        None,
    );
    assert_eq!(k.push_open_rate, None);
    assert_eq!(k.conversion_rate, None);
    assert_eq!(k.arppu, None);
    assert_eq!(k.repurchase_rate_3m, None);
    assert_eq!(k.arpu, None);
}

#[test]
fn tier_sizes_and_value_shares() {
    let csv = "customer_id,predicted_value,lifecycle_stage,tier\na,10,active,A\nb,9,new,A\nc,5,active,B\nd,1,silent,C\ne,0,churned,C\n";
    let rows = read_scores_from(Path::new("s.csv"), csv.as_bytes()).unwrap();
    let t = tier_kpis(&rows);
    assert_eq!(t.iter().map(|t| t.customers).collect::<Vec<_>>(), [2, 1, 2]);
    close(t[0].customer_share, 0.4);
    close(t[0].value_share, 19.0 / 25.0);
    close(t[1].value_share, 5.0 / 25.0);
    close(t[2].value_share, 1.0 / 25.0);
    assert!(read_scores_from(
        Path::new("s.csv"),
        "customer_id,predicted_value,tier\na,1,D\n".as_bytes()
    )
    .is_err());
}
