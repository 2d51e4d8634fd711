//! Hand-worked examples and the no-leakage property of the feature build.
use super::*;
use crate::data::amount::parse_amount;
use crate::data::time::TimeParser;
use crate::data::{BadRowPolicy, Cutoff, TimeFormat};
use proptest::prelude::*;

fn build(orders: &str, events: Option<&str>, cutoff: &str, horizon: Option<i64>) -> FeatureTable {
    build_with_comments(orders, events, None, cutoff, horizon)
}

fn build_with_comments(
    orders: &str,
    events: Option<&str>,
    comments: Option<&str>,
    cutoff: &str,
    horizon: Option<i64>,
) -> FeatureTable {
    let opts = ReadOptions::default();
    let inputs = Inputs {
        orders: Source::from_bytes("orders.csv", orders.as_bytes()),
        events: events.map(|e| Source::from_bytes("events.csv", e.as_bytes())),
        customers: None,
        comments: comments.map(|c| Source::from_bytes("comments.csv", c.as_bytes())),
    };
    let params = FeatureParams {
        cutoff: Cutoff::parse(cutoff, &opts.time).unwrap(),
        horizon_days: horizon,
        lifecycle: LifecycleThresholds::default(),
    };
    build_features(inputs, &params, &opts, &|_| {}).unwrap()
}

fn amt(s: &str) -> i64 {
    parse_amount(s.as_bytes()).unwrap()
}

#[test]
fn hand_worked_customer() {
    let orders = "customer_id,ordered_at,amount,order_id\n\
        A,2025-01-01T09:00:00Z,100,O1\n\
        A,2025-01-01T18:00:00Z,50,O2\n\
        A,2025-03-15,80,O3\n\
        A,2025-03-15,80,O3\n\
        A,2025-06-20,-30,O3\n\
        A,2025-07-10,200,O4\n\
        A,2025-10-01,999,O5\n\
        C,2025-07-01,10,O6\n";
    let events = "customer_id,occurred_at,event\n\
        B,2025-06-25,push_sent\n\
        B,2025-06-26,push_open\n\
        B,2025-06-26,CLICK\n\
        B,2025-05-01,share\n\
        B,2025-01-01,visit\n\
        B,2025-07-02,visit\n";
    let t = build(orders, Some(events), "2025-06-30", Some(90));
    // C only has rows after the cutoff: not a customer yet at T.
    let ids: Vec<&str> = t.rows.iter().map(|r| r.customer_id.as_str()).collect();
    assert_eq!(ids, ["A", "B"]);
    let a = &t.rows[0];
    assert_eq!(a.orders_total, 3); // 100, 50, 80; the duplicate O3 counts once
    assert_eq!(a.repeat_purchase_days, Some(1)); // days 01-01 and 03-15
    assert_eq!(a.days_first_to_last_order, Some(31 + 28 + 14)); // 01-01 → 03-15
    assert_eq!(a.customer_age_days, Some(31 + 28 + 31 + 30 + 31 + 29)); // 01-01 → 06-30 = 180
    assert_eq!(a.days_since_last_order, Some(16 + 30 + 31 + 30)); // 03-15 → 06-30 = 107
    assert_eq!(a.spend_total, amt("200")); // 230 − 30 refund
    assert!((a.spend_avg_order.unwrap() - 200.0 / 3.0).abs() < 1e-12);
    assert_eq!(a.repeat_spend_avg, Some(50.0)); // (200 − 150 on the first day) / 1
    assert!((a.refund_rate.unwrap() - 30.0 / 230.0).abs() < 1e-12);
    assert_eq!(a.orders_w, [0, 0, 3]);
    assert_eq!(a.spend_w, [amt("-30"), amt("-30"), amt("200")]);
    assert_eq!(a.lifecycle_stage, Stage::Churned); // idle 107 days > 90
    assert_eq!(a.rfm, Some([1, 1, 1])); // the only buyer: nobody is worse
                                        // Label: (06-30, 09-28]: the 200 on 07-10; 10-01 is beyond the horizon.
    let l = a.label.unwrap();
    assert_eq!(
        (l.future_spend, l.future_orders, l.future_purchase_days),
        (amt("200"), 1, 1)
    );
    let b = &t.rows[1];
    assert_eq!(b.lifecycle_stage, Stage::Potential);
    assert_eq!(b.orders_total, 0);
    assert_eq!(b.repeat_purchase_days, None);
    assert_eq!(b.spend_avg_order, None);
    assert_eq!(b.events_w, [3, 4]); // 06-25, 06-26 ×2 in 30 days; + 05-01 in 90 days
    assert_eq!(b.push_open_rate, Some(1.0));
    assert_eq!(b.click_rate, Some(1.0));
    assert_eq!(b.shares_90d, 1);
    assert_eq!(b.days_since_last_interaction, Some(4));
    assert_eq!(b.days_since_first_seen, 180);
    // 3 interactions (open, click, share) in 90 observed days → 1 per 30 days.
    assert!((b.interactions_per_month - 1.0).abs() < 1e-12);
    assert_eq!(b.rfm, None);
    let mut csv = Vec::new();
    t.write_csv(&mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let b_line = text.lines().nth(2).unwrap();
    assert!(
        b_line.starts_with("B,,,0,,,,,0,,,,0,0,0,0,0,0,3,4,1,1,1,1,0,4,potential,,,,,180,0,0,0"),
        "{b_line}"
    );
}

#[test]
fn utc_offset_decides_the_calendar_day() {
    // 16:30 UTC on 06-30 is 00:30 on 07-01 in +08:00: after a date cutoff of 06-30 there.
    let orders =
        "customer_id,ordered_at,amount\nA,2025-06-01T00:00:00Z,1\nA,2025-06-30T16:30:00Z,5\n";
    let utc = build(orders, None, "2025-06-30", Some(10));
    assert_eq!(utc.rows[0].orders_total, 2);
    let opts = ReadOptions {
        time: TimeParser::new(TimeFormat::Rfc3339, 8 * 3600),
        ..ReadOptions::default()
    };
    let params = FeatureParams {
        cutoff: Cutoff::parse("2025-06-30", &opts.time).unwrap(),
        horizon_days: Some(10),
        lifecycle: LifecycleThresholds::default(),
    };
    let inputs = Inputs {
        orders: Source::from_bytes("o.csv", orders.as_bytes()),
        events: None,
        customers: None,
        comments: None,
    };
    let cst = build_features(inputs, &params, &opts, &|_| {}).unwrap();
    assert_eq!(cst.rows[0].orders_total, 1);
    assert_eq!(cst.rows[0].label.unwrap().future_orders, 1);
}

#[test]
fn skip_policy_reports_bad_rows() {
    let opts = ReadOptions {
        on_bad_rows: BadRowPolicy::Skip,
        ..ReadOptions::default()
    };
    let orders = "customer_id,ordered_at,amount\nA,2025-01-01,1\nA,notadate,1\n,2025-01-01,1\nA,2025-01-02,x\n";
    let params = FeatureParams {
        cutoff: Cutoff::parse("2025-06-30", &opts.time).unwrap(),
        horizon_days: None,
        lifecycle: LifecycleThresholds::default(),
    };
    let inputs = Inputs {
        orders: Source::from_bytes("o.csv", orders.as_bytes()),
        events: None,
        customers: None,
        comments: None,
    };
    let t = build_features(inputs, &params, &opts, &|_| {}).unwrap();
    assert_eq!(t.rows[0].orders_total, 1);
    assert_eq!(t.report.bad_rows, 3);
    let lines: Vec<u64> = t.report.first_bad_rows.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5]);
}

fn day(d: u32) -> String {
    // Days from 2025-01-01; d up to ~400.
    let base = crate::data::time::days_from_civil(2025, 1, 1);
    TimeParser::format_day(base + i64::from(d))
}

fn render(orders: &[(u8, u32, i32, u8)], events: &[(u8, u32, u8)]) -> (String, String) {
    const KINDS: [&str; 5] = ["push_sent", "push_open", "click", "share", "review"];
    let mut o = String::from("customer_id,ordered_at,amount,order_id\n");
    for (c, d, a, id) in orders {
        o.push_str(&format!("c{c},{}T10:00:00Z,{a},o{id}\n", day(*d)));
    }
    let mut e = String::from("customer_id,occurred_at,event\n");
    for (c, d, k) in events {
        e.push_str(&format!(
            "c{c},{}T10:00:00Z,{}\n",
            day(*d),
            KINDS[*k as usize % 5]
        ));
    }
    (o, e)
}

fn render_comments(comments: &[(u8, u32, u8)]) -> String {
    const TEXTS: [&str; 4] = [
        "质量很好，下次还买",
        "包装破损，不会再买了",
        "Great value, love it",
        "Terrible, never again",
    ];
    let mut c = String::from("customer_id,created_at,text,rating\n");
    for (cust, d, k) in comments {
        let rating = if k % 2 == 0 { "5" } else { "1" };
        c.push_str(&format!(
            "c{cust},{}T10:00:00Z,\"{}\",{rating}\n",
            day(*d),
            TEXTS[*k as usize % 4]
        ));
    }
    c
}

#[test]
fn comment_features_by_hand() {
    let orders = "customer_id,ordered_at,amount\nA,2025-01-01,10\n";
    let comments = "customer_id,created_at,text,rating\n\
        A,2025-01-02,质量很好，物流也快，下次还买,5\n\
        A,2025-06-20,包装破损，客服态度差，不会再买了,1\n\
        A,2025-07-15,太棒了,5\n\
        B,2025-06-01,😀😀,\n";
    let t = build_with_comments(orders, None, Some(comments), "2025-06-30", None);
    let ids: Vec<&str> = t.rows.iter().map(|r| r.customer_id.as_str()).collect();
    assert_eq!(ids, ["A", "B"]); // B only commented: still a customer
    let a = &t.rows[0].comments;
    assert_eq!((a.comments_total, a.comments_90d), (2, 1)); // the 07-15 comment is after T
    assert_eq!(a.rating_mean, Some(3.0));
    assert_eq!(a.days_since_last_comment, Some(10));
    assert_eq!(a.negative_share, Some(0.5)); // one clearly positive, one clearly negative
    assert!(a.sentiment_last.unwrap() < -0.5);
    let mean = a.sentiment_mean.unwrap();
    assert!(mean.abs() < 0.5, "{mean}");
    let b = &t.rows[1];
    assert_eq!(b.lifecycle_stage, Stage::Potential);
    // Emoji only: counted, but no language, so no sentiment.
    assert_eq!(
        (b.comments.comments_total, b.comments.sentiment_mean),
        (1, None)
    );
    assert!(t.numeric_feature_names().contains(&"sentiment_mean"));
}

fn feature_csv(t: &FeatureTable) -> Vec<String> {
    // Feature columns only (drop the label columns at the end).
    let n = t.columns().len() - LABEL_COLUMNS.len() * usize::from(t.horizon_days.is_some());
    let mut csv = Vec::new();
    t.write_csv(&mut csv).unwrap();
    String::from_utf8(csv)
        .unwrap()
        .lines()
        .map(|l| l.split(',').take(n).collect::<Vec<_>>().join(","))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Rows after the cutoff (day 200 = 2025-07-20) change no feature column.
    #[test]
    fn rows_after_the_cutoff_never_change_features(
        before in proptest::collection::vec((0u8..6, 0u32..=200, -50i32..500, 0u8..40), 0..40),
        after in proptest::collection::vec((0u8..8, 201u32..400, -50i32..500, 0u8..40), 0..40),
        after2 in proptest::collection::vec((0u8..8, 201u32..400, -50i32..500, 0u8..40), 0..40),
        ev_before in proptest::collection::vec((0u8..6, 0u32..=200, 0u8..5), 0..40),
        ev_after in proptest::collection::vec((0u8..8, 201u32..400, 0u8..5), 0..40),
        cm_before in proptest::collection::vec((0u8..6, 0u32..=200, 0u8..4), 0..20),
        cm_after in proptest::collection::vec((0u8..8, 201u32..400, 0u8..4), 0..20),
        shuffle_seed in any::<u64>(),
    ) {
        let cutoff = day(200);
        let (o1, e1) = render(&before, &ev_before);
        let c1 = render_comments(&cm_before);
        let t1 = build_with_comments(&o1, Some(&e1), Some(&c1), &cutoff, Some(120));
        // Add post-cutoff rows at random places, change them, remove them.
        let mut mixed = Vec::with_capacity(before.len() + after.len());
        let (mut i, mut j, mut s) = (0, 0, shuffle_seed);
        while i < before.len() || j < after.len() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if j == after.len() || (i < before.len() && (s >> 40) % 2 == 0) {
                mixed.push(before[i]);
                i += 1;
            } else {
                mixed.push(after[j]);
                j += 1;
            }
        }
        let ev_mixed: Vec<_> = ev_after.iter().chain(ev_before.iter()).cloned().collect();
        let (o2, e2) = render(&mixed, &ev_mixed);
        let cm_mixed: Vec<_> = cm_after.iter().chain(cm_before.iter()).cloned().collect();
        let c2 = render_comments(&cm_mixed);
        let t2 = build_with_comments(&o2, Some(&e2), Some(&c2), &cutoff, Some(120));
        let changed: Vec<_> = before.iter().chain(after2.iter()).cloned().collect();
        let (o3, e3) = render(&changed, &ev_before);
        let t3 = build_with_comments(&o3, Some(&e3), Some(&c1), &cutoff, Some(120));
        let f1 = feature_csv(&t1);
        prop_assert_eq!(&f1, &feature_csv(&t2));
        prop_assert_eq!(&f1, &feature_csv(&t3));
    }
}

/// The rows of `lines` (after the header line) in a seeded random order.
fn shuffled(csv: &str, seed: u64) -> String {
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or("");
    let mut rows: Vec<&str> = lines.collect();
    let mut s = seed;
    for i in (1..rows.len()).rev() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        rows.swap(i, (s >> 33) as usize % (i + 1));
    }
    let mut out = format!("{header}\n");
    for r in rows {
        out.push_str(r);
        out.push('\n');
    }
    out
}

fn build_all(orders: &str, events: &str, comments: &str, customers: &str) -> Vec<u8> {
    let opts = ReadOptions::default();
    let inputs = Inputs {
        orders: Source::from_bytes("orders.csv", orders.as_bytes()),
        events: Some(Source::from_bytes("events.csv", events.as_bytes())),
        customers: Some(Source::from_bytes("customers.csv", customers.as_bytes())),
        comments: Some(Source::from_bytes("comments.csv", comments.as_bytes())),
    };
    let params = FeatureParams {
        cutoff: Cutoff::parse(&day(200), &opts.time).unwrap(),
        horizon_days: Some(120),
        lifecycle: LifecycleThresholds::default(),
    };
    let mut csv = Vec::new();
    build_features(inputs, &params, &opts, &|_| {})
        .unwrap()
        .write_csv(&mut csv)
        .unwrap();
    csv
}

/// Hand-worked: repeats of a whole order row count once, rows that share an order id but
/// differ in time or amount all count, whatever their order.
#[test]
fn order_id_repeats_count_once_only_when_the_whole_row_repeats() {
    let rows = [
        "A,2025-01-01T10:00:00Z,100,O1",
        "A,2025-01-01T10:00:00Z,100,O1", // re-export: counts once
        "A,2025-01-01T10:00:00Z,40,O1",  // another line of O1: counts
        "A,2025-02-01T10:00:00Z,-40,O1", // a refund of that line: counts
        "A,2025-02-01T10:00:00Z,-40,O1", // repeated refund row: once
        "B,2025-01-01T10:00:00Z,100,O1", // another customer's O1
    ];
    for order in [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [2, 0, 4, 1, 5, 3]] {
        let mut csv = String::from("customer_id,ordered_at,amount,order_id\n");
        for i in order {
            csv.push_str(rows[i]);
            csv.push('\n');
        }
        let t = build(&csv, None, "2025-06-30", None);
        let a = &t.rows[0];
        assert_eq!(a.orders_total, 2, "{order:?}");
        assert_eq!(a.spend_total, amt("100")); // 140 − 40
        assert_eq!(t.rows[1].spend_total, amt("100"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Every feature and label is the same for any order of the rows of every input
    /// (repeated order ids, customers listed twice with other channels, comments at the same
    /// instant): the rule that lets the parts of a split input (Spark partitions) fold to the
    /// numbers of the whole file.
    #[test]
    fn features_do_not_depend_on_the_order_of_rows(
        orders in proptest::collection::vec((0u8..6, 0u32..400, -50i32..500, 0u8..12), 0..60),
        events in proptest::collection::vec((0u8..8, 0u32..260, 0u8..5), 0..40),
        comments in proptest::collection::vec((0u8..8, 150u32..220, 0u8..4), 0..30),
        customers in proptest::collection::vec((0u8..9, proptest::option::of(0u32..250), 0u8..4), 0..20),
        seeds in any::<[u64; 4]>(),
    ) {
        let (o, e) = render(&orders, &events);
        let c = render_comments(&comments);
        let mut u = String::from("customer_id,first_seen_at,acquisition_channel\n");
        for (cust, d, ch) in &customers {
            let seen = d.map(|d| format!("{}T08:00:00Z", day(d))).unwrap_or_default();
            let channel = ["", "app", "wecom", "store"][*ch as usize];
            u.push_str(&format!("c{cust},{seen},{channel}\n"));
        }
        let want = build_all(&o, &e, &c, &u);
        let got = build_all(
            &shuffled(&o, seeds[0]),
            &shuffled(&e, seeds[1]),
            &shuffled(&c, seeds[2]),
            &shuffled(&u, seeds[3]),
        );
        prop_assert!(want == got, "features differ:\n{}\n---\n{}",
            String::from_utf8_lossy(&want), String::from_utf8_lossy(&got));
    }
}

/// A feature table's RFM columns made anew from the bounds of its own values are the ones the
/// build made (the Spark path: parts scored on their own, then rescored with the whole base's
/// bounds), for every batch of the table.
#[test]
fn rescoring_with_the_bounds_of_the_whole_base_gives_the_builds_rfm() {
    use arrow_array::cast::AsArray;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/example");
    let opts = ReadOptions::default();
    let inputs = Inputs {
        orders: Source::open(&root.join("orders.csv")).unwrap(),
        events: None,
        customers: None,
        comments: None,
    };
    let params = FeatureParams {
        cutoff: Cutoff::parse("2025-06-30", &opts.time).unwrap(),
        horizon_days: None,
        lifecycle: LifecycleThresholds::default(),
    };
    let build = fold_features(inputs, &params, &opts, &|_| {}).unwrap();
    let (_, batches) = build.to_arrow().unwrap();
    let column = |name: &str| -> Vec<f64> {
        let mut out = vec![];
        for b in &batches {
            let i = b.schema().index_of(name).unwrap();
            let c = arrow_cast::cast(b.column(i), &arrow_schema::DataType::Float64).unwrap();
            out.extend(c.as_primitive::<arrow_array::types::Float64Type>().iter());
        }
        // buyers only
        let orders = {
            let mut o = vec![];
            for b in &batches {
                let i = b.schema().index_of("orders_total").unwrap();
                let c = arrow_cast::cast(b.column(i), &arrow_schema::DataType::Float64).unwrap();
                o.extend(c.as_primitive::<arrow_array::types::Float64Type>().iter());
            }
            o
        };
        out.into_iter()
            .zip(orders)
            .filter(|(_, o)| o.unwrap_or(0.0) > 0.0)
            .map(|(v, _)| v.unwrap())
            .collect()
    };
    let bounds = rfm::RfmBounds {
        recency: rfm::QuintileBounds::of(&column("days_since_last_order"), false),
        frequency: rfm::QuintileBounds::of(&column("orders_total"), true),
        monetary: rfm::QuintileBounds::of(&column("spend_total"), true),
    };
    let mut segments = 0;
    for b in &batches {
        let again = rfm::rescore_batch(b, &bounds).unwrap();
        assert_eq!(&again, b);
        let i = b.schema().index_of("rfm_segment").unwrap();
        segments += b.column(i).len() - b.column(i).null_count();
    }
    assert!(segments > 1000, "{segments} customers with a segment");
}
