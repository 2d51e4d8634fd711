//! Issue 12 regressions, one test per bug, named after it: no silent data loss, no destroyed
//! files, conventions a user relies on. Each fails on the code before the fix.
use crate::common::{col, ltv, read_csv, Run};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// `ltv features --orders <name> --cutoff 2025-06-30 [extra] -o out.csv` in `dir`.
fn features(dir: &Path, name: &str, extra: &[&str]) -> Run {
    let mut args = vec!["features", "--orders", name, "--cutoff", "2025-06-30"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", "out.csv"]);
    ltv(dir, &args)
}

/// (customer_id, spend_total) of every row of `out.csv` in `dir`.
fn spend(dir: &Path) -> Vec<(String, String)> {
    let (h, rows) = read_csv(&dir.join("out.csv"));
    let (c, s) = (col(&h, "customer_id"), col(&h, "spend_total"));
    rows.iter().map(|r| (r[c].clone(), r[s].clone())).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Runs `ltv` with `stdin` piped in.
fn ltv_stdin(dir: &Path, args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ltv"))
        .args(args)
        .current_dir(dir)
        .env("NO_PROGRESS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `ltv` may refuse its arguments before reading standard input; the pipe then breaks.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---- silent data loss ----------------------------------------------------------------------

#[test]
fn unclosed_quote_swallowing_the_rest_of_the_file_is_an_error_naming_its_line() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("uq.csv"),
        "customer_id,ordered_at,amount,channel\nC1,2025-01-01,5,\"web\nC2,2025-01-02,7,app\nC3,2025-01-03,9,app\n",
    )
    .unwrap();
    let r = features(d.path(), "uq.csv", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("uq.csv:2: unclosed quote"),
        "{}",
        r.stderr
    );
    assert!(!d.path().join("out.csv").exists());
}

#[test]
fn quoted_field_longer_than_the_limit_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let long = "x".repeat(5000);
    fs::write(
        d.path().join("o.csv"),
        format!("customer_id,ordered_at,amount,channel\nC1,2025-01-01,5,\"{long}\"\n"),
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &["--max-field-bytes", "1000"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("o.csv:2: quoted field longer than 1000 bytes"),
        "{}",
        r.stderr
    );
    // The default limit (1 MiB) reads it.
    let r = features(d.path(), "o.csv", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn bare_cr_line_ends_drop_no_rows() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("mac.csv"),
        "customer_id,ordered_at,amount\rC1,2025-01-01,5\rC2,2025-01-01,7\r",
    )
    .unwrap();
    let r = features(d.path(), "mac.csv", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(spend(d.path()), pairs(&[("C1", "5"), ("C2", "7")]));
    // Mixed CR, LF and CRLF in one file, with an error on the 4th line: located right.
    fs::write(
        d.path().join("mix.csv"),
        "customer_id,ordered_at,amount\rC1,2025-01-01,5\nC2,2025-01-01,7\r\nC3,x,1\r",
    )
    .unwrap();
    let r = features(d.path(), "mix.csv", &[]);
    assert!(r.stderr.contains("mix.csv:4: column 2"), "{}", r.stderr);
}

#[test]
fn bom_at_the_start_of_a_data_line_is_a_located_error_not_part_of_the_id() {
    let d = tempfile::tempdir().unwrap();
    // Two exports concatenated: the second one's BOM lands at the start of line 3.
    fs::write(
        d.path().join("o.csv"),
        "\u{feff}customer_id,ordered_at,amount\nC1,2025-01-01,5\n\u{feff}C2,2025-01-02,7\n",
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("o.csv:3: column 1 `customer_id`: byte-order mark (U+FEFF)"),
        "{}",
        r.stderr
    );
    // The excerpt shows the mark escaped, not as an invisible character.
    assert!(r.stderr.contains("`\\u{feff}C2`"), "{}", r.stderr);
}

#[test]
fn duplicated_header_name_is_an_error_not_first_column_wins() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("o.csv"),
        "customer_id,ordered_at,amount,amount\nC1,2025-01-01,5,500\n",
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "o.csv:1: column 4 `amount`: duplicate column name in the header (also column 3)"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn mid_field_quote_before_a_quoted_multiline_field_names_the_right_line() {
    let d = tempfile::tempdir().unwrap();
    // Line 2 has a literal quote inside an unquoted field (kept as is); line 3 opens a quoted
    // field that spans lines 3–4; line 5 is bad and must be named as line 5.
    fs::write(
        d.path().join("o.csv"),
        "customer_id,ordered_at,amount,channel\nC1,2025-01-01,5,we\"b\nC2,2025-01-01,7,\"multi\nline\"\nC3,x,9,app\n",
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("o.csv:5: column 2 `ordered_at`"),
        "{}",
        r.stderr
    );
    // Without the bad row both customers are read.
    fs::write(
        d.path().join("p.csv"),
        "customer_id,ordered_at,amount,channel\nC1,2025-01-01,5,we\"b\nC2,2025-01-01,7,\"multi\nline\"\n",
    )
    .unwrap();
    let r = features(d.path(), "p.csv", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(spend(d.path()), pairs(&[("C1", "5"), ("C2", "7")]));
}

#[test]
fn fractional_rating_is_kept_exactly_not_rounded() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("o.csv"),
        "customer_id,ordered_at,amount\nC1,2025-01-01,5\n",
    )
    .unwrap();
    fs::write(
        d.path().join("c.csv"),
        "customer_id,created_at,text,rating\nC1,2025-01-02,good,4.5\nC1,2025-01-03,fine,4.25\n",
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &["--comments", "c.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (h, rows) = read_csv(&d.path().join("out.csv"));
    // (4.5 + 4.25) / 2 = 4.375; rounding each first would give (5 + 4) / 2 = 4.5.
    assert_eq!(
        rows[0][col(&h, "rating_mean")].parse::<f64>().unwrap(),
        4.375
    );
    fs::write(
        d.path().join("c.csv"),
        "customer_id,created_at,text,rating\nC1,2025-01-02,good,4.125\n",
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &["--comments", "c.csv"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("c.csv:2: column 4 `rating`"),
        "{}",
        r.stderr
    );
}

#[test]
fn whitespace_delimiter_reads_crlf_files() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("x.txt"),
        "customer_id ordered_at amount\r\nC1 2025-01-01 5\r\n",
    )
    .unwrap();
    let r = features(d.path(), "x.txt", &["--delimiter", "whitespace"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(spend(d.path()), pairs(&[("C1", "5")]));
    // CDNOW_master.txt's own layout: no header, padded ids, CRLF.
    fs::write(
        d.path().join("cdnow.txt"),
        "00001 19970101  1  11.77\r\n00002 19970112  1  12.00\r\n00002 19970112  5  77.00\r\n",
    )
    .unwrap();
    let r = features(
        d.path(),
        "cdnow.txt",
        &[
            "--delimiter",
            "whitespace",
            "--no-header",
            "--map",
            "customer_id=1,ordered_at=2,amount=4",
            "--time-format",
            "%Y%m%d",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        spend(d.path()),
        pairs(&[("00001", "11.77"), ("00002", "89")])
    );
}

#[test]
fn money_sums_that_overflow_are_an_error_not_a_negative_spend() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("o.csv"),
        "customer_id,ordered_at,amount\nC1,2025-01-01,900000000000000\nC1,2025-01-02,900000000000000\n",
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("`o.csv`: the amounts of customer `C1` add up beyond"),
        "{}",
        r.stderr
    );
    assert!(!d.path().join("out.csv").exists());
}

/// Trains a tree on the bundled example data (with events and customers) into `m.json`.
fn train_example(dir: &Path) {
    let ex = |f: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("datasets/example")
            .join(f)
    };
    for f in ["orders.csv", "events.csv", "customers.csv"] {
        fs::copy(ex(f), dir.join(f)).unwrap();
    }
    let r = ltv(
        dir,
        &[
            "train",
            "--orders",
            "orders.csv",
            "--events",
            "events.csv",
            "--customers",
            "customers.csv",
            "--cutoff",
            "2025-03-31",
            "--horizon",
            "90d",
            "--model",
            "tree",
            "--folds",
            "2",
            "-o",
            "m.json",
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn score_or_evaluate_without_events_for_a_model_trained_with_events_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    train_example(d.path());
    let base = [
        "--model",
        "m.json",
        "--orders",
        "orders.csv",
        "--customers",
        "customers.csv",
    ];
    let mut score = vec!["score", "--as-of", "2025-06-30", "-o", "s.csv"];
    score.extend_from_slice(&base);
    let r = ltv(d.path(), &score);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("pass --events"), "{}", r.stderr);
    // The message names the real model path.
    assert!(
        r.stderr.contains("cannot score with `m.json`"),
        "{}",
        r.stderr
    );
    assert!(!d.path().join("s.csv").exists());
    let mut eval = vec!["evaluate", "--cutoff", "2025-03-31"];
    eval.extend_from_slice(&base);
    let r = ltv(d.path(), &eval);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("pass --events"), "{}", r.stderr);
    // With the events it scores.
    score.extend_from_slice(&["--events", "events.csv"]);
    assert_eq!(ltv(d.path(), &score).code, 0);
}

// ---- destroyed files -----------------------------------------------------------------------

#[test]
fn output_equal_to_an_input_is_refused_and_the_input_kept() {
    let d = tempfile::tempdir().unwrap();
    train_example(d.path());
    let before = fs::read(d.path().join("orders.csv")).unwrap();
    let model_before = fs::read(d.path().join("m.json")).unwrap();
    fn with<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut v = args.to_vec();
        v.extend_from_slice(&["--orders", "orders.csv", "--events", "events.csv"]);
        v.extend_from_slice(&["--customers", "customers.csv"]);
        v
    }
    fs::write(
        d.path().join("c.csv"),
        "customer_id,created_at,text\nC1,2025-01-01,good\n",
    )
    .unwrap();
    let cases: Vec<Vec<&str>> = vec![
        with(&["features", "--cutoff", "2025-06-30", "-o", "orders.csv"]),
        with(&["features", "--cutoff", "2025-06-30", "-o", "./events.csv"]),
        with(&[
            "score",
            "--model",
            "m.json",
            "--as-of",
            "2025-06-30",
            "-o",
            "m.json",
        ]),
        with(&[
            "score",
            "--model",
            "m.json",
            "--as-of",
            "2025-06-30",
            "-o",
            "orders.csv",
        ]),
        with(&[
            "train",
            "--cutoff",
            "2025-03-31",
            "--folds",
            "2",
            "-o",
            "customers.csv",
        ]),
        with(&[
            "report",
            "--scores",
            "m.json",
            "--as-of",
            "2025-06-30",
            "-o",
            "m.json",
        ]),
        vec!["sentiment", "score", "--comments", "c.csv", "-o", "c.csv"],
    ];
    for args in &cases {
        let r = ltv(d.path(), args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("refusing to overwrite an input"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(fs::read(d.path().join("orders.csv")).unwrap(), before);
    assert_eq!(fs::read(d.path().join("m.json")).unwrap(), model_before);
    assert!(fs::read_to_string(d.path().join("c.csv"))
        .unwrap()
        .starts_with("customer_id"));
    // A hard link to an input is the same file too.
    fs::hard_link(d.path().join("orders.csv"), d.path().join("link.csv")).unwrap();
    let r = ltv(
        d.path(),
        &with(&["features", "--cutoff", "2025-06-30", "-o", "link.csv"]),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(fs::read(d.path().join("orders.csv")).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_or_stdout_path_is_written_directly_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("o.csv"),
        "customer_id,ordered_at,amount\nC1,2025-01-01,5\n",
    )
    .unwrap();
    let fifo = d.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    let r = ltv(
        d.path(),
        &[
            "features",
            "--orders",
            "o.csv",
            "--cutoff",
            "2025-06-30",
            "-o",
            "pipe",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = reader.join().unwrap();
    assert!(
        got.starts_with(b"customer_id,"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO is still a FIFO"
    );
    // `-o /dev/stdout` on a pipe: the data arrive on stdout.
    let r = ltv(
        d.path(),
        &[
            "features",
            "--orders",
            "o.csv",
            "--cutoff",
            "2025-06-30",
            "-o",
            "/dev/stdout",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("customer_id,"), "{}", r.stdout);
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

#[cfg(unix)]
#[test]
fn outputs_respect_the_umask_and_keep_an_existing_mode() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("o.csv"),
        "customer_id,ordered_at,amount\nC1,2025-01-01,5\n",
    )
    .unwrap();
    let run = |umask: &str, out: &str| {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" features --orders o.csv --cutoff 2025-06-30 -q -o {out}"
            ))
            .arg(env!("CARGO_BIN_EXE_ltv"))
            .current_dir(d.path())
            .status()
            .unwrap();
        assert!(status.success());
        fs::metadata(d.path().join(out))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(run("077", "new1.csv"), 0o600);
    assert_eq!(run("022", "new2.csv"), 0o644);
    assert_eq!(run("002", "new3.csv"), 0o664);
    // An existing 0600 file stays 0600 whatever the umask.
    fs::set_permissions(d.path().join("new1.csv"), fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(run("000", "new1.csv"), 0o600);
    fs::set_permissions(d.path().join("new2.csv"), fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(run("077", "new2.csv"), 0o640);
    // `ltv synth` writes its four files the same way.
    let status = Command::new("sh")
        .arg("-c")
        .arg("umask 077 && exec \"$0\" synth --customers 20 -q -o data")
        .arg(env!("CARGO_BIN_EXE_ltv"))
        .current_dir(d.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mode = fs::metadata(d.path().join("data/orders.csv"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[cfg(unix)]
#[test]
fn output_through_a_symlink_replaces_the_target_and_keeps_the_link() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("o.csv"),
        "customer_id,ordered_at,amount\nC1,2025-01-01,5\n",
    )
    .unwrap();
    fs::write(d.path().join("real.csv"), "old").unwrap();
    std::os::unix::fs::symlink("real.csv", d.path().join("link.csv")).unwrap();
    let r = ltv(
        d.path(),
        &[
            "features",
            "--orders",
            "o.csv",
            "--cutoff",
            "2025-06-30",
            "-o",
            "link.csv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let meta = fs::symlink_metadata(d.path().join("link.csv")).unwrap();
    assert!(meta.file_type().is_symlink());
    assert!(fs::read_to_string(d.path().join("real.csv"))
        .unwrap()
        .starts_with("customer_id"));
}

// ---- the first run and conventions ----------------------------------------------------------

#[test]
fn days_are_counted_in_the_offset_the_data_carries() {
    let d = tempfile::tempdir().unwrap();
    // 00:30 on 07-01 in +08:00 is 16:30 UTC on 06-30: after a 06-30 cutoff in the data's
    // calendar, before it in UTC.
    fs::write(
        d.path().join("o.csv"),
        "customer_id,ordered_at,amount\nA,2025-06-01T10:00:00+08:00,1\nA,2025-07-01T00:30:00+08:00,5\n",
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("days counted in UTC+08:00"),
        "{}",
        r.stderr
    );
    assert_eq!(spend(d.path()), pairs(&[("A", "1")]));
    let r = features(d.path(), "o.csv", &["--utc-offset", "+00:00"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(spend(d.path()), pairs(&[("A", "6")]));
}

#[test]
fn orders_dash_reads_stdin_and_compressed_inputs_are_read_transparently() {
    let d = tempfile::tempdir().unwrap();
    let csv = b"customer_id,ordered_at,amount\nC1,2025-01-01,5\nC2,2025-01-02,7\n";
    let args = ["features", "--orders", "-", "--cutoff", "2025-06-30", "-q"];
    let (code, out, err) = ltv_stdin(d.path(), &args, csv);
    assert_eq!(code, 0, "{err}");
    let plain = String::from_utf8(out).unwrap();
    assert_eq!(plain.lines().count(), 3, "{plain}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv).unwrap();
    let gz = gz.finish().unwrap();
    fs::write(d.path().join("o.csv.gz"), &gz).unwrap();
    fs::write(
        d.path().join("o.csv.zst"),
        zstd::encode_all(&csv[..], 3).unwrap(),
    )
    .unwrap();
    for f in ["o.csv.gz", "o.csv.zst"] {
        let r = ltv(
            d.path(),
            &["features", "--orders", f, "--cutoff", "2025-06-30", "-q"],
        );
        assert_eq!(r.code, 0, "{f}: {}", r.stderr);
        assert_eq!(r.stdout, plain, "{f}");
    }
    let (code, out, err) = ltv_stdin(d.path(), &args, &gz);
    assert_eq!(code, 0, "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), plain);
    let mut two = args.to_vec();
    two.extend_from_slice(&["--events", "-"]);
    let (code, _, err) = ltv_stdin(d.path(), &two, csv);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("only one input can be read from standard input"),
        "{err}"
    );
    // A pipe given by path (`--orders <(zcat …)`) is read once: no row is lost to a peek.
    let r = Command::new("bash")
        .arg("-c")
        .arg("exec \"$0\" features --orders <(cat o.csv.gz) --cutoff 2025-06-30 -q")
        .arg(env!("CARGO_BIN_EXE_ltv"))
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(String::from_utf8(r.stdout).unwrap(), plain);
}

#[test]
fn sentiment_score_writes_stdout_without_output() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("c.csv"),
        "customer_id,created_at,text\nC1,2025-01-01,very good\n",
    )
    .unwrap();
    let r = ltv(
        d.path(),
        &["sentiment", "score", "--comments", "c.csv", "-q"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("customer_id,created_at,lang,score,label\nC1,"),
        "{}",
        r.stdout
    );
}

#[test]
fn usage_errors_exit_1_as_the_readme_says() {
    let d = tempfile::tempdir().unwrap();
    let r = ltv(d.path(), &["features", "--no-such-flag"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = ltv(d.path(), &["--help"]);
    assert_eq!(r.code, 0);
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains("`1` bad input or flags"),
        "README states the exit code"
    );
}

#[test]
fn messages_name_the_real_path_print_the_os_error_once_and_escape_binary() {
    let d = tempfile::tempdir().unwrap();
    let r = ltv(
        d.path(),
        &[
            "score",
            "--model",
            "missing.json",
            "--orders",
            "o.csv",
            "--as-of",
            "2025-06-30",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("`missing.json`"), "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        r.stderr
    );
    fs::write(
        d.path().join("o.csv"),
        b"customer_id,ordered_at,amount\nC1,2025-01-01,5\x00\x1b[31m\n",
    )
    .unwrap();
    let r = features(d.path(), "o.csv", &[]);
    assert_eq!(r.code, 1);
    assert!(
        !r.stderr.contains('\0') && !r.stderr.contains('\x1b'),
        "{:?}",
        r.stderr
    );
    assert!(r.stderr.contains("`5\\0\\u{1b}[31m`"), "{}", r.stderr);
    // A model feature the inputs lack names the model, not a placeholder.
    assert!(!r.stderr.contains("<model>"));
}

#[test]
fn data_contract_is_documented_in_the_repo_and_linked_from_the_readme() {
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/data-contract.md"))
            .expect("docs/data-contract.md");
    use ltv::data::InputKind;
    for kind in [
        InputKind::Orders,
        InputKind::Events,
        InputKind::Customers,
        InputKind::Comments,
    ] {
        assert!(
            doc.contains(&format!("`{}`", kind.name())),
            "{}",
            kind.name()
        );
        for c in kind.columns() {
            assert!(
                doc.contains(&format!("`{}`", c.name)),
                "column {} of {}",
                c.name,
                kind.name()
            );
        }
    }
    assert!(include_str!("../../README.md").contains("docs/data-contract.md"));
}
