//! Tests of the generator against independent expectations: the file contract, determinism,
//! closed forms of the BG/NBD and Gamma-Gamma models, and the designed correlations.
use super::*;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const CUTOFF: &str = "2025-06-30T23:59:59";
const HORIZON_END: &str = "2025-09-28T23:59:59";

#[derive(Debug, Clone)]
struct Order {
    id: String,
    customer: String,
    at: chrono::DateTime<chrono::FixedOffset>,
    amount: f64,
}

#[derive(Debug, Default)]
struct Data {
    summary: SynthSummary,
    customers: Vec<csv::StringRecord>,
    orders: Vec<Order>,
    events: Vec<csv::StringRecord>,
    comments: Vec<csv::StringRecord>,
}

fn ts(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
}

/// Local (+08:00) `YYYY-MM-DDTHH:MM:SS` of a timestamp, for comparisons with constants.
fn local(s: &str) -> &str {
    &s[..19]
}

fn read(dir: &Path, name: &str, header: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(dir.join(name)).unwrap();
    let h: Vec<&str> = r.headers().unwrap().iter().collect();
    assert_eq!(h.join(","), header, "header of {name}");
    r.records().map(|x| x.unwrap()).collect()
}

fn run(params: &SynthParams) -> Data {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(params, dir.path(), &|_| {}).unwrap();
    let d = dir.path();
    let orders = read(
        d,
        "orders.csv",
        "order_id,customer_id,ordered_at,amount,channel",
    )
    .into_iter()
    .map(|r| Order {
        id: r[0].to_string(),
        customer: r[1].to_string(),
        at: ts(&r[2]),
        amount: r[3].parse().unwrap(),
    })
    .collect();
    Data {
        summary,
        customers: read(
            d,
            "customers.csv",
            "customer_id,first_seen_at,acquisition_channel",
        ),
        orders,
        events: read(d, "events.csv", "customer_id,occurred_at,event,channel"),
        comments: read(d, "comments.csv", "customer_id,created_at,text,rating"),
    }
}

/// One default-parameter data set of 20 000 customers shared by the statistical tests.
fn big() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| run(&SynthParams::default().customers(20_000).seed(7)))
}

fn bytes_of(params: &SynthParams) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    generate(params, dir.path(), &|_| {}).unwrap();
    FILE_NAMES
        .iter()
        .map(|n| std::fs::read(dir.path().join(n)).unwrap())
        .collect()
}

fn orders_by_customer(d: &Data) -> HashMap<&str, Vec<&Order>> {
    let mut m: HashMap<&str, Vec<&Order>> = HashMap::new();
    for o in &d.orders {
        m.entry(o.customer.as_str()).or_default().push(o);
    }
    m
}

#[test]
fn files_follow_the_contract() {
    let d = run(&SynthParams::default().customers(3000).seed(3));
    assert_eq!(d.summary.customers, 3000);
    assert_eq!(d.customers.len() as u64, d.summary.customers);
    assert_eq!(d.orders.len() as u64, d.summary.orders);
    assert_eq!(d.events.len() as u64, d.summary.events);
    assert_eq!(d.comments.len() as u64, d.summary.comments);
    let channels = ["mini_program", "app", "web", "store", "wecom", "live"];
    let kinds = [
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
    let lo = ts("2024-01-01T00:00:00+08:00");
    let hi = ts("2025-09-30T23:59:59+08:00");
    let in_window = |s: &str| {
        assert!(s.ends_with("+08:00"), "{s}");
        let t = ts(s);
        assert!(t >= lo && t <= hi, "{s} outside the window");
        t
    };
    let mut first_seen = HashMap::new();
    for (i, c) in d.customers.iter().enumerate() {
        assert_eq!(&c[0], format!("C{:07}", i + 1));
        first_seen.insert(c[0].to_string(), in_window(&c[1]));
        assert!(channels.contains(&&c[2]));
    }
    let mut last: HashMap<(usize, String), chrono::DateTime<chrono::FixedOffset>> = HashMap::new();
    let mut sorted = |file: usize, cid: &str, t| {
        assert!(t >= first_seen[cid], "row of {cid} before first_seen");
        let prev = last.insert((file, cid.to_string()), t);
        assert!(
            prev.is_none_or(|p| p <= t),
            "rows of {cid} not in time order"
        );
    };
    for o in &d.orders {
        in_window(&o.at.to_rfc3339());
        sorted(1, &o.customer, o.at);
        assert!(o.id.starts_with(&format!("O{}-", &o.customer[1..])));
    }
    for e in &d.events {
        let t = in_window(&e[1]);
        sorted(2, &e[0], t);
        assert!(kinds.contains(&&e[2]), "{}", &e[2]);
        assert!(channels.contains(&&e[3]));
    }
    let mut with_comma = 0;
    for c in &d.comments {
        let t = in_window(&c[1]);
        sorted(3, &c[0], t);
        assert!(!c[2].is_empty());
        with_comma += c[2].contains(',') as usize;
        assert!(c[3].is_empty() || matches!(&c[3], "1" | "2" | "3" | "4" | "5"));
    }
    assert!(with_comma > 10, "texts with commas exercise CSV quoting");
}

#[test]
fn amounts_have_two_decimals() {
    let dir = tempfile::tempdir().unwrap();
    generate(&SynthParams::default().customers(500), dir.path(), &|_| {}).unwrap();
    let text = std::fs::read_to_string(dir.path().join("orders.csv")).unwrap();
    for line in text.lines().skip(1) {
        let amount = line.split(',').nth(3).unwrap();
        let (_, dec) = amount.split_once('.').unwrap();
        assert_eq!(dec.len(), 2, "{line}");
    }
}

#[test]
fn same_seed_same_bytes_for_any_thread_count() {
    // 9000 customers = 3 blocks, so scheduling order can differ between pools.
    let p = SynthParams::default().customers(9000).seed(11);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| bytes_of(&p));
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| bytes_of(&p));
    assert!(one == three, "output depends on the thread count");
    assert!(bytes_of(&p) == one, "two runs differ");
    let other = bytes_of(&p.clone().seed(12));
    for (i, name) in FILE_NAMES.iter().enumerate() {
        assert_ne!(other[i], one[i], "{name} ignores the seed");
    }
}

#[test]
fn refunds_are_negative_bounded_and_dated_after_their_order() {
    let d = big();
    let by_id: HashMap<&str, &Order> = d.orders.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut refunds = 0;
    for o in &d.orders {
        match o.id.strip_suffix("-R") {
            Some(orig) => {
                refunds += 1;
                let src = by_id[orig];
                assert!(o.amount < 0.0, "refund {} not negative", o.id);
                assert!(
                    -o.amount <= src.amount + 1e-9,
                    "refund {} exceeds order",
                    o.id
                );
                assert_eq!(o.customer, src.customer);
                let days = (o.at.date_naive() - src.at.date_naive()).num_days();
                assert!(
                    (1..=14).contains(&days),
                    "refund {} {days} days later",
                    o.id
                );
            }
            None => assert!(o.amount >= 1.0, "order {} amount {}", o.id, o.amount),
        }
    }
    assert_eq!(refunds, d.summary.refunds);
    let share = refunds as f64 / (d.orders.len() as u64 - refunds) as f64;
    assert!((0.03..=0.05).contains(&share), "refund share {share}");
}

#[test]
fn never_buyer_share_matches_the_parameter() {
    for (data, want) in [
        (big(), 0.25),
        (
            &run(&SynthParams::default()
                .customers(8000)
                .never_buy_share(0.6)
                .events_per_customer(2.0)),
            0.6,
        ),
    ] {
        let buyers: HashSet<&str> = data.orders.iter().map(|o| o.customer.as_str()).collect();
        let share = 1.0 - buyers.len() as f64 / data.customers.len() as f64;
        // Binomial standard error at n = 8000 is ≤ 0.0055; a few buyers' first purchase
        // falls after the window end, so the observed share is never below the parameter.
        assert!(
            (share - want).abs() < 0.02,
            "never-buyer share {share}, want {want}"
        );
    }
}

#[test]
fn mean_order_value_matches_gamma_gamma_closed_form() {
    let check = |d: &Data, want: f64| {
        let pos: Vec<f64> = d
            .orders
            .iter()
            .filter(|o| o.amount > 0.0)
            .map(|o| o.amount)
            .collect();
        let mean = pos.iter().sum::<f64>() / pos.len() as f64;
        assert!(
            (mean / want - 1.0).abs() < 0.05,
            "mean order value {mean}, closed form {want}"
        );
    };
    let p = SynthParams::default();
    assert!((p.mean_order_value() - 200.0).abs() < 1e-9);
    check(big(), p.mean_order_value());
    // Other parameters: p·γ/(q−1) = 3·400/4 = 300.
    let q = SynthParams::default()
        .customers(15_000)
        .spend_p(3.0)
        .spend_q(5.0)
        .spend_gamma(400.0)
        .events_per_customer(1.0);
    check(&run(&q), 300.0);
}

#[test]
fn no_repeat_probability_matches_bgnbd_closed_form() {
    // BG/NBD: P(no repeat purchase within t of the first) = E[p] + E[1−p]·(α/(α+t))^r
    // (drop out right after the first purchase, or stay and wait longer than t).
    let p = SynthParams::default();
    let t_days = 180.0;
    let mean_p = p.dropout_a / (p.dropout_a + p.dropout_b);
    let want = mean_p
        + (1.0 - mean_p)
            * (p.purchase_rate_alpha_days / (p.purchase_rate_alpha_days + t_days))
                .powf(p.purchase_rate_shape);
    let end = ts("2025-09-30T23:59:59+08:00");
    let by = orders_by_customer(big());
    let (mut n, mut none) = (0, 0);
    for os in by.values() {
        let mut pos = os.iter().filter(|o| o.amount > 0.0);
        let Some(first) = pos.next() else { continue };
        let horizon = first.at + chrono::Duration::days(t_days as i64);
        if horizon > end {
            continue;
        }
        n += 1;
        if pos.all(|o| o.at > horizon) {
            none += 1;
        }
    }
    let got = none as f64 / n as f64;
    assert!(n > 5000, "{n}");
    assert!(
        (got - want).abs() < 0.025,
        "P(no repeat in 180 d) {got}, closed form {want}"
    );
}

#[test]
fn mid_window_repeat_share_is_realistic() {
    let by = orders_by_customer(big());
    let (mut buyers, mut repeat) = (0, 0);
    for os in by.values() {
        let n = os
            .iter()
            .filter(|o| o.amount > 0.0 && local(&o.at.to_rfc3339()) <= CUTOFF)
            .count();
        buyers += (n >= 1) as usize;
        repeat += (n >= 2) as usize;
    }
    let share = repeat as f64 / buyers as f64;
    assert!((0.30..=0.50).contains(&share), "repeat share {share}");
}

#[test]
fn push_opens_follow_purchase_activity() {
    let d = big();
    let by = orders_by_customer(d);
    let mut sent: HashMap<&str, f64> = HashMap::new();
    let mut opened: HashMap<&str, f64> = HashMap::new();
    for e in &d.events {
        let (c, kind) = (e.get(0).unwrap(), e.get(2).unwrap());
        match kind {
            "push_sent" => *sent.entry(c).or_default() += 1.0,
            "push_open" => *opened.entry(c).or_default() += 1.0,
            _ => {}
        }
    }
    let rate = |filter: &dyn Fn(usize) -> bool| {
        let rs: Vec<f64> = sent
            .iter()
            .filter(|(c, _)| {
                filter(
                    by.get(*c)
                        .map_or(0, |v| v.iter().filter(|o| o.amount > 0.0).count()),
                )
            })
            .map(|(c, s)| opened.get(c).copied().unwrap_or(0.0) / s)
            .collect();
        rs.iter().sum::<f64>() / rs.len() as f64
    };
    let (repeat, once, never) = (rate(&|n| n >= 2), rate(&|n| n == 1), rate(&|n| n == 0));
    assert!(repeat > once * 1.2, "repeat {repeat} vs one-time {once}");
    assert!(once > never, "one-time {once} vs never {never}");
}

#[test]
fn comment_tone_predicts_future_purchases() {
    let d = big();
    let by = orders_by_customer(d);
    let future: HashSet<&str> = d
        .orders
        .iter()
        .filter(|o| {
            let l = o.at.to_rfc3339();
            o.amount > 0.0 && local(&l) > CUTOFF && local(&l) <= HORIZON_END
        })
        .map(|o| o.customer.as_str())
        .collect();
    let negative: Vec<&str> = text::negative_closings().collect();
    // Per group: (comments before cutoff, with a negative closing, rated, rated ≤ 2).
    let mut stats: [[f64; 4]; 2] = [[0.0; 4]; 2];
    for c in &d.comments {
        let cid = &c[0];
        if local(&c[1]) > CUTOFF || !by.contains_key(cid) {
            continue;
        }
        let g = future.contains(cid) as usize;
        stats[g][0] += 1.0;
        stats[g][1] += negative.iter().any(|n| c[2].contains(n)) as u8 as f64;
        if let Ok(r) = c[3].parse::<u8>() {
            stats[g][2] += 1.0;
            stats[g][3] += (r <= 2) as u8 as f64;
        }
    }
    let [lost, kept] = stats;
    assert!(lost[0] > 300.0 && kept[0] > 300.0, "{stats:?}");
    let (neg_lost, neg_kept) = (lost[1] / lost[0], kept[1] / kept[0]);
    let (low_lost, low_kept) = (lost[3] / lost[2], kept[3] / kept[2]);
    assert!(
        neg_lost > 1.5 * neg_kept,
        "negative texts {neg_lost} vs {neg_kept}"
    );
    assert!(
        low_lost > 1.5 * low_kept,
        "low ratings {low_lost} vs {low_kept}"
    );
}

#[test]
fn comments_are_varied_and_bilingual() {
    let d = big();
    let texts: HashSet<&str> = d.comments.iter().map(|c| c.get(2).unwrap()).collect();
    assert!(texts.len() > 2000, "{} distinct texts", texts.len());
    let english = d.comments.iter().filter(|c| c[2].is_ascii()).count() as f64;
    let share = english / d.comments.len() as f64;
    assert!((0.1..0.4).contains(&share), "english share {share}");
    let unrated = d.comments.iter().filter(|c| c[3].is_empty()).count();
    assert!(unrated > 0 && unrated < d.comments.len() / 2, "{unrated}");
}

#[test]
fn events_per_customer_scales_the_event_rows() {
    let d = big();
    let mean = d.events.len() as f64 / d.customers.len() as f64;
    assert!((mean / 20.0 - 1.0).abs() < 0.15, "mean events {mean}");
    let p = SynthParams::default().customers(5000).seed(7);
    let base = run(&p.clone().events_per_customer(10.0)).summary;
    let double = run(&p.events_per_customer(20.0)).summary;
    let ratio = double.events as f64 / base.events as f64;
    // Reviews do not scale; everything else does.
    assert!((1.8..=2.05).contains(&ratio), "ratio {ratio}");
    assert_eq!(
        base.orders, double.orders,
        "purchases do not depend on events"
    );
    let small = SynthParams::default().customers(300);
    let (a, b) = (
        bytes_of(&small.clone().events_per_customer(5.0)),
        bytes_of(&small.events_per_customer(50.0)),
    );
    assert!(
        a[0] == b[0] && a[1] == b[1],
        "customers and orders change with events"
    );
}

#[test]
fn check_names_the_bad_value() {
    let name_of = |p: SynthParams| match p.check() {
        Err(Error::InvalidParameter { name, value, .. }) => format!("{name}={value}"),
        other => panic!("expected InvalidParameter, got {other:?}"),
    };
    let d = SynthParams::default();
    assert!(d.check().is_ok());
    assert_eq!(name_of(d.clone().customers(0)), "customers=0");
    let early = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    assert_eq!(name_of(d.clone().end(early)), "end=2023-01-01");
    assert_eq!(name_of(d.clone().spend_q(1.0)), "spend_q=1");
    assert_eq!(
        name_of(d.clone().never_buy_share(1.5)),
        "never_buy_share=1.5"
    );
    assert_eq!(name_of(d.clone().dropout_b(-2.0)), "dropout_b=-2");
    assert_eq!(
        name_of(d.clone().events_per_customer(f64::NAN)),
        "events_per_customer=NaN"
    );
}

#[test]
fn failure_leaves_existing_files_and_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let p = SynthParams::default().customers(200);
    generate(&p, dir.path(), &|_| {}).unwrap();
    let before = std::fs::read(dir.path().join("orders.csv")).unwrap();
    assert!(generate(&p.clone().customers(0), dir.path(), &|_| {}).is_err());
    assert_eq!(
        std::fs::read(dir.path().join("orders.csv")).unwrap(),
        before
    );
    let names: HashSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let want: HashSet<String> = FILE_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(names, want);
    // Output into a path that is a file fails cleanly.
    let file = dir.path().join("orders.csv");
    assert!(matches!(
        generate(&p, &file, &|_| {}),
        Err(Error::Io { .. })
    ));
}

#[test]
fn progress_reports_every_customer_once_in_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let p = SynthParams::default()
        .customers(70_000)
        .events_per_customer(0.5);
    generate(&p, dir.path(), &|n| seen.lock().unwrap().push(n)).unwrap();
    let seen = seen.into_inner().unwrap();
    // 70 000 customers = 18 blocks = 2 batches of ≤ 16 blocks.
    assert_eq!(seen, vec![16 * BLOCK_CUSTOMERS, 70_000]);
}

#[test]
fn wide_ids_when_customers_need_more_digits() {
    let p = SynthParams::default().customers(5).events_per_customer(0.0);
    let d = run(&p);
    assert_eq!(&d.customers[4][0], "C0000005");
    assert_eq!(format::digits(12_345_678).max(7), 8);
}
