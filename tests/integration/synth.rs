//! `ltv synth`: files, headers, determinism across thread counts, flag validation.
use crate::common::{ltv, read_csv};

const FILES: [(&str, &str); 4] = [
    (
        "customers.csv",
        "customer_id,first_seen_at,acquisition_channel",
    ),
    (
        "orders.csv",
        "order_id,customer_id,ordered_at,amount,channel",
    ),
    ("events.csv", "customer_id,occurred_at,event,channel"),
    ("comments.csv", "customer_id,created_at,text,rating"),
];

#[test]
fn synth_writes_four_files_with_contract_headers() {
    let dir = tempfile::tempdir().unwrap();
    let r = ltv(
        dir.path(),
        &["synth", "--customers", "400", "--seed", "5", "-o", "out"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "data files only, nothing on stdout");
    assert!(r.stderr.contains("wrote 400 customers"), "{}", r.stderr);
    for (name, header) in FILES {
        let (h, rows) = read_csv(&dir.path().join("out").join(name));
        assert_eq!(h.join(","), header, "{name}");
        assert!(!rows.is_empty(), "{name} is empty");
    }
    let (_, customers) = read_csv(&dir.path().join("out/customers.csv"));
    assert_eq!(customers.len(), 400);
    assert_eq!(customers[0][0], "C0000001");
}

#[test]
fn synth_is_byte_identical_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &'static str, threads: &'static str| {
        [
            "synth",
            "--customers",
            "9000",
            "--events-per-customer",
            "3",
            "--threads",
            threads,
            "-q",
            "-o",
            out,
        ]
    };
    let a = ltv(dir.path(), &args("a", "1"));
    let b = ltv(dir.path(), &args("b", "2"));
    assert_eq!((a.code, b.code), (0, 0), "{} {}", a.stderr, b.stderr);
    assert!(a.stderr.is_empty(), "--quiet prints nothing: {}", a.stderr);
    for (name, _) in FILES {
        let x = std::fs::read(dir.path().join("a").join(name)).unwrap();
        let y = std::fs::read(dir.path().join("b").join(name)).unwrap();
        assert!(x == y, "{name} differs between 1 and 2 threads");
    }
}

#[test]
fn synth_rejects_bad_flags_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let r = ltv(dir.path(), &["synth", "--customers", "0", "-o", "out"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("`customers`"), "{}", r.stderr);
    let r = ltv(
        dir.path(),
        &[
            "synth",
            "--start",
            "2025-01-01",
            "--end",
            "2024-01-01",
            "-o",
            "out",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("2024-01-01"), "{}", r.stderr);
    assert!(
        !dir.path().join("out").exists(),
        "nothing written on bad flags"
    );
}
