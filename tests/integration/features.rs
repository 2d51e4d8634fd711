//! `ltv features`: bad input, messy input, column mapping, real data, determinism.
use crate::common::{col, fixture, ltv, read_csv, shared};
use std::fs;

const HEADER: &str = "customer_id,ordered_at,amount\n";

/// Runs features on an orders file with `body` and checks the one-line error.
fn expect_error(name: &str, bytes: &[u8], must_contain: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(name), bytes).unwrap();
    let r = ltv(
        dir.path(),
        &[
            "features",
            "--orders",
            name,
            "--cutoff",
            "2025-06-30",
            "-o",
            "out.csv",
        ],
    );
    assert_eq!(r.code, 1, "exit code; stderr: {}", r.stderr);
    assert_eq!(
        r.stderr.trim_end().lines().count(),
        1,
        "one line: {}",
        r.stderr
    );
    for m in must_contain {
        assert!(r.stderr.contains(m), "`{m}` missing from: {}", r.stderr);
    }
    assert!(!dir.path().join("out.csv").exists(), "no output on error");
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temp files left behind");
}

#[test]
fn missing_required_column() {
    expect_error(
        "o.csv",
        b"customer_id,ordered_at\nA,2025-01-01\n",
        &["o.csv:1", "`amount`"],
    );
}

#[test]
fn unparsable_timestamp() {
    let body = format!("{HEADER}A,2025-01-01,1\nA,2025-13-45,1\n");
    expect_error(
        "o.csv",
        body.as_bytes(),
        &[
            "o.csv:3",
            "column 2 `ordered_at`",
            "unparsable timestamp",
            "`2025-13-45`",
        ],
    );
}

#[test]
fn non_numeric_amount() {
    let body = format!("{HEADER}A,2025-01-01,12,5x\n");
    // Wrong field count first: a comma inside an unquoted amount.
    expect_error(
        "o.csv",
        body.as_bytes(),
        &["o.csv:2", "expected 3, found 4"],
    );
    let body = format!("{HEADER}A,2025-01-01,\"12,5\"\n");
    expect_error(
        "o.csv",
        body.as_bytes(),
        &["o.csv:2", "column 3 `amount`", "not a number", "`12,5`"],
    );
}

#[test]
fn empty_customer_id() {
    let body = format!("{HEADER}A,2025-01-01,1\n\"\",2025-01-01,1\n");
    expect_error(
        "o.csv",
        body.as_bytes(),
        &["o.csv:3", "column 1 `customer_id`", "empty customer_id"],
    );
}

#[test]
fn wrong_field_count() {
    let body = format!("{HEADER}A,2025-01-01\n");
    expect_error(
        "o.csv",
        body.as_bytes(),
        &["o.csv:2", "wrong number of fields", "expected 3, found 2"],
    );
}

#[test]
fn invalid_utf8() {
    let mut body = HEADER.as_bytes().to_vec();
    body.extend_from_slice(b"A,2025-01-01,1\nB\xff\xfe,2025-01-01,1\n");
    expect_error(
        "o.csv",
        &body,
        &["o.csv:3", "column 1 `customer_id`", "invalid UTF-8"],
    );
}

#[test]
fn empty_file() {
    expect_error("o.csv", b"", &["o.csv:1", "file is empty"]);
}

#[test]
fn missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = ltv(
        dir.path(),
        &["features", "--orders", "nope.csv", "--cutoff", "2025-06-30"],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("nope.csv"), "{}", r.stderr);
}

#[test]
fn bad_flags_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = fixture("orders_messy.csv");
    let o = o.to_str().unwrap();
    let r = ltv(
        dir.path(),
        &["features", "--orders", o, "--cutoff", "30/06/2025"],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("invalid --cutoff `30/06/2025`") && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    let r = ltv(
        dir.path(),
        &[
            "features",
            "--orders",
            o,
            "--cutoff",
            "2025-06-30",
            "--label",
            "--horizon",
            "3m",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--horizon"), "{}", r.stderr);
}

#[test]
fn messy_csv_bom_crlf_quotes_unicode() {
    let dir = tempfile::tempdir().unwrap();
    let o = fixture("orders_messy.csv");
    let r = ltv(
        dir.path(),
        &[
            "features",
            "--orders",
            o.to_str().unwrap(),
            "--cutoff",
            "2025-06-30",
            "--utc-offset",
            "+08:00",
            "-o",
            "f.csv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (h, rows) = read_csv(&dir.path().join("f.csv"));
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["álvaro", "张三,VIP"]);
    assert_eq!(rows[1][col(&h, "orders_total")], "2");
    assert_eq!(rows[1][col(&h, "spend_total")], "200.5");
    assert_eq!(
        rows[1][col(&h, "first_order_at")],
        "2025-01-05T10:00:00+08:00"
    );
    assert_eq!(rows[0][col(&h, "spend_total")], "180");
    assert_eq!(rows[0][col(&h, "refund_rate")], "0.1");
}

#[test]
fn skip_bad_rows_reports_count_and_first_ten() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::from(HEADER);
    for i in 0..12 {
        body.push_str(&format!("C{i},2025-01-01,1\nC{i},bad-date,1\n"));
    }
    fs::write(dir.path().join("o.csv"), body).unwrap();
    let r = ltv(
        dir.path(),
        &[
            "features",
            "--orders",
            "o.csv",
            "--cutoff",
            "2025-06-30",
            "--on-bad-rows",
            "skip",
            "-o",
            "f.csv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("skipped 12 bad rows of 24"),
        "{}",
        r.stderr
    );
    let listed = r.stderr.lines().filter(|l| l.contains("o.csv:")).count();
    assert_eq!(listed, 10, "{}", r.stderr);
    assert!(
        r.stderr.contains("o.csv:3:") && r.stderr.contains("o.csv:21:"),
        "{}",
        r.stderr
    );
    let (_, rows) = read_csv(&dir.path().join("f.csv"));
    assert_eq!(rows.len(), 12);
}

#[test]
fn column_mapping_time_format_and_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("shop_export.tsv");
    let r = ltv(
        dir.path(),
        &[
            "features",
            "--orders",
            src.to_str().unwrap(),
            "--map",
            "customer_id=user_id,ordered_at=pay_time,amount=gmv",
            "--time-format",
            "%Y%m%d",
            "--delimiter",
            "tab",
            "--cutoff",
            "2025-06-30",
            "-o",
            "f.csv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (h, rows) = read_csv(&dir.path().join("f.csv"));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][col(&h, "customer_id")], "1001");
    assert_eq!(rows[0][col(&h, "spend_total")], "109.9");
    assert_eq!(rows[0][col(&h, "days_first_to_last_order")], "55"); // 01-05 → 03-01
    assert_eq!(rows[1][col(&h, "lifecycle_stage")], "new");
}

#[test]
fn whitespace_delimited_without_header() {
    // CDNOW's original layout: id, yyyymmdd, quantity, amount separated by runs of spaces.
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("cdnow.txt"),
        "00001  19970101  1  11.77\n00002  19970112  1  12.00\n00002  19970112  5  77.00\n",
    )
    .unwrap();
    let r = ltv(
        dir.path(),
        &[
            "features",
            "--orders",
            "cdnow.txt",
            "--delimiter",
            "whitespace",
            "--no-header",
            "--map",
            "customer_id=1,ordered_at=2,amount=4",
            "--time-format",
            "%Y%m%d",
            "--cutoff",
            "1997-09-30",
            "-o",
            "f.csv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (h, rows) = read_csv(&dir.path().join("f.csv"));
    assert_eq!(rows[1][col(&h, "orders_total")], "2");
    assert_eq!(rows[1][col(&h, "repeat_purchase_days")], "0"); // same day: one purchase day
    assert_eq!(rows[1][col(&h, "spend_total")], "89");
    assert_eq!(rows[0][col(&h, "customer_age_days")], "272");
}

/// The BG/NBD paper's own inputs: x, t_x and T in weeks for all 2,357 sample customers.
#[test]
fn cdnow_matches_the_published_summary() {
    let dir = tempfile::tempdir().unwrap();
    let orders = shared("cdnow/cdnow_sample_orders.csv");
    let r = ltv(
        dir.path(),
        &[
            "features",
            "--orders",
            orders.to_str().unwrap(),
            "--cutoff",
            "1997-09-30",
            "-o",
            "f.csv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (h, rows) = read_csv(&dir.path().join("f.csv"));
    let (sh, summary) = read_csv(&shared("cdnow/cdnow_customers_summary.csv"));
    assert_eq!(rows.len(), 2357);
    assert_eq!(summary.len(), 2357);
    let by_id: std::collections::HashMap<u32, &Vec<String>> = rows
        .iter()
        .map(|r| (r[0].parse::<u32>().unwrap(), r))
        .collect();
    let (x, tx, t) = (
        col(&h, "repeat_purchase_days"),
        col(&h, "days_first_to_last_order"),
        col(&h, "customer_age_days"),
    );
    let round2 = |v: f64| (v * 100.0).round() / 100.0;
    for s in &summary {
        let id: u32 = s[col(&sh, "ID")].parse().unwrap();
        let f = by_id[&id];
        assert_eq!(f[x], s[col(&sh, "frequency")], "frequency of {id}");
        let recency: f64 = s[col(&sh, "recency")].parse().unwrap();
        let age: f64 = s[col(&sh, "T")].parse().unwrap();
        assert_eq!(
            round2(f[tx].parse::<f64>().unwrap() / 7.0),
            recency,
            "recency of {id}"
        );
        assert_eq!(round2(f[t].parse::<f64>().unwrap() / 7.0), age, "T of {id}");
    }
    // Gamma-Gamma's input: mean repeat-day spend (zbar, 2 decimals) for repeat customers.
    let (th, tr) = read_csv(&shared(
        "cdnow/cdnow_customers_summary_with_transactions.csv",
    ));
    let m = col(&h, "repeat_spend_avg");
    let mut checked = 0;
    for s in &tr {
        let id: u32 = s[col(&th, "ID")].parse().unwrap();
        let zbar: f64 = s[col(&th, "zbar")].parse().unwrap();
        if s[col(&th, "x")] != "0" {
            let mine: f64 = by_id[&id][m].parse().unwrap();
            assert!(
                (mine - zbar).abs() <= 0.005 + 1e-9,
                "zbar of {id}: {mine} vs {zbar}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 946);
}

#[test]
fn output_is_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let orders = shared("cdnow/cdnow_master_orders.csv");
    let o = orders.to_str().unwrap();
    for (threads, out) in [("1", "a.csv"), ("2", "b.csv"), ("7", "c.csv")] {
        let r = ltv(
            dir.path(),
            &[
                "features",
                "--threads",
                threads,
                "--orders",
                o,
                "--cutoff",
                "1997-09-30",
                "--label",
                "--horizon",
                "39w",
                "-o",
                out,
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let a = fs::read(dir.path().join("a.csv")).unwrap();
    assert_eq!(a, fs::read(dir.path().join("b.csv")).unwrap());
    assert_eq!(a, fs::read(dir.path().join("c.csv")).unwrap());
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 23_570 + 1);
}

#[test]
fn stdout_output_and_broken_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let o = fixture("orders_messy.csv");
    let r = ltv(
        dir.path(),
        &[
            "features",
            "--orders",
            o.to_str().unwrap(),
            "--cutoff",
            "2025-06-30",
        ],
    );
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("customer_id,first_order_at,"));
    // Piped into a reader that closes early: success, no panic.
    let orders = shared("cdnow/cdnow_master_orders.csv");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ltv"))
        .args([
            "features",
            "--orders",
            orders.to_str().unwrap(),
            "--cutoff",
            "1997-09-30",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 10];
    std::io::Read::read_exact(&mut out, &mut buf).unwrap();
    drop(out);
    let status = child.wait_with_output().unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(!String::from_utf8_lossy(&status.stderr).contains("panicked"));
}
