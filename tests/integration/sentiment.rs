//! `ltv sentiment …` end to end: the built binary in a fresh temp dir.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ltv(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ltv"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run ltv")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn data_dir() -> PathBuf {
    let mut c: Vec<PathBuf> = std::env::var_os("LTV_SENTIMENT_DATA")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    c.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/sentiment"));
    c.push(PathBuf::from("/work/shared/datasets/sentiment"));
    c.into_iter()
        .find(|p| p.join("zh_reviews_pos.txt").is_file())
        .expect("sentiment datasets not found; set LTV_SENTIMENT_DATA")
}

#[test]
fn score_text_works_from_any_directory_with_embedded_models() {
    let dir = tempfile::tempdir().unwrap();
    let o = ltv(
        dir.path(),
        &[
            "sentiment",
            "score",
            "--text",
            "质量很好，物流也快，下次还买",
            "--text",
            "Stale, overpriced and the bag was torn. Never again.",
            "--text",
            "😀😀",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("positive\t") && lines[0].contains("\tzh\t"));
    assert!(lines[1].starts_with("negative\t") && lines[1].contains("\ten\t"));
    assert!(lines[2].starts_with("neutral\t0.0000\tunknown\t"));
    let score: f64 = lines[0].split('\t').nth(1).unwrap().parse().unwrap();
    assert!((-1.0..=1.0).contains(&score));
}

#[test]
fn score_comments_csv_in_order_with_invalid_utf8_and_long_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = b"customer_id,created_at,text,rating\n".to_vec();
    input.extend_from_slice("c1,2025-03-01,非常满意，好评,5\n".as_bytes());
    input.extend_from_slice(b"c2,2025-03-02,\"Awful, it arrived broken.\",1\n");
    input.extend_from_slice(b"c3,2025-03-03,\xff\xfe\xfd,\n");
    input.extend_from_slice(b"c4,2025-03-04,,\n");
    let long = "很好".repeat(25_000); // 150 kB of UTF-8
    input.extend_from_slice(format!("c5,2025-03-05,{long},4\n").as_bytes());
    input.extend_from_slice("c6,2025-03-06,quality 很差 but cheap,2\n".as_bytes());
    std::fs::write(dir.path().join("comments.csv"), &input).unwrap();
    let o = ltv(
        dir.path(),
        &[
            "sentiment",
            "score",
            "--comments",
            "comments.csv",
            "-o",
            "out/scores.csv",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 with invalid UTF-8"),
        "{}",
        stderr(&o)
    );
    let out = std::fs::read_to_string(dir.path().join("out/scores.csv")).unwrap();
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        ["customer_id", "created_at", "lang", "score", "label"]
    );
    assert_eq!(rows.len(), 7);
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[0]).collect();
    assert_eq!(ids, ["c1", "c2", "c3", "c4", "c5", "c6"]);
    assert_eq!(rows[1][2..], ["zh", rows[1][3], "positive"]);
    assert_eq!(rows[2][4], "negative");
    assert_eq!(rows[3][2..], ["unknown", "0.000000", "neutral"]);
    assert_eq!(rows[4][2..], ["unknown", "0.000000", "neutral"]);
    assert_eq!(rows[5][2], "zh");
    assert_eq!(rows[6][2], "zh");
    // no temp files left beside the output
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        1
    );

    // byte-identical with one thread
    let o = ltv(
        dir.path(),
        &[
            "--threads",
            "1",
            "sentiment",
            "score",
            "--comments",
            "comments.csv",
            "-o",
            "one.csv",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("one.csv")).unwrap(),
        out
    );

    // --lang and --neutral-band are honoured
    let o = ltv(
        dir.path(),
        &[
            "sentiment",
            "score",
            "--comments",
            "comments.csv",
            "-o",
            "wide.csv",
            "--lang",
            "en",
            "--neutral-band",
            "0.999",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let wide = std::fs::read_to_string(dir.path().join("wide.csv")).unwrap();
    assert!(
        wide.lines().skip(1).all(|l| l.ends_with(",neutral")),
        "{wide}"
    );
    assert!(wide.lines().nth(1).unwrap().contains(",en,"));
}

#[test]
fn score_errors_are_located_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.csv"), "customer_id,text\nc1,hi\n").unwrap();
    let o = ltv(
        dir.path(),
        &["sentiment", "score", "--comments", "c.csv", "-o", "o.csv"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("created_at"), "{}", stderr(&o));
    assert!(!dir.path().join("o.csv").exists());
    let o = ltv(
        dir.path(),
        &["sentiment", "score", "--text", "x", "--neutral-band", "2"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("neutral_band"), "{}", stderr(&o));
    let o = ltv(
        dir.path(),
        &["sentiment", "score", "--text", "x", "--model", "nope.json"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nope.json"), "{}", stderr(&o));
}

#[test]
fn train_then_evaluate_and_override_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = data_dir();
    let pos = d.join("zh_reviews_pos.txt");
    let neg = d.join("zh_reviews_neg.txt");
    let (pos, neg) = (pos.to_str().unwrap(), neg.to_str().unwrap());
    let o = ltv(
        dir.path(),
        &[
            "sentiment",
            "train",
            "--pos",
            pos,
            "--neg",
            neg,
            "--lang",
            "zh",
            "-o",
            "m.json",
            "--epochs",
            "5",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("held out"), "{}", stderr(&o));
    let o = ltv(
        dir.path(),
        &[
            "sentiment",
            "evaluate",
            "--model",
            "m.json",
            "--pos",
            pos,
            "--neg",
            neg,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let row: Vec<&str> = out.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(row[0], "holdout");
    let acc: f64 = row[2].parse().unwrap();
    assert!(acc > 0.8, "{out}");
    // --all scores every line, including the training part
    let o = ltv(
        dir.path(),
        &[
            "sentiment",
            "evaluate",
            "--model",
            "m.json",
            "--pos",
            pos,
            "--neg",
            neg,
            "--all",
        ],
    );
    let all: Vec<String> = stdout(&o)
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .map(String::from)
        .collect();
    assert_eq!(all[0], "all");
    assert!(all[1].parse::<usize>().unwrap() > row[1].parse::<usize>().unwrap());
    // the trained model can replace the built-in one
    let o = ltv(
        dir.path(),
        &[
            "sentiment",
            "score",
            "--model",
            "m.json",
            "--text",
            "很满意",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("positive"));
}

#[test]
fn help_teaches_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["score", "train", "evaluate"] {
        let o = ltv(dir.path(), &["sentiment", sub, "--help"]);
        assert!(o.status.success());
        assert!(stdout(&o).contains("Examples:"), "{sub}");
        assert!(
            stdout(&o).contains(&format!("ltv sentiment {sub}")),
            "{sub}"
        );
    }
}

/// Out-of-fold normalized Gini of `ltv train --model boosting` on the bundled example data,
/// with the given comments file (or none), for a fold seed.
fn boosting_oof_gini(dir: &Path, comments: Option<&Path>, seed: u32) -> f64 {
    let ex = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/example");
    let p = |f: &str| ex.join(f).to_string_lossy().into_owned();
    let (orders, events, customers) = (p("orders.csv"), p("events.csv"), p("customers.csv"));
    let seed = seed.to_string();
    let mut args = vec![
        "--quiet",
        "train",
        "--orders",
        &orders,
        "--events",
        &events,
        "--customers",
        &customers,
        "--cutoff",
        "2025-03-31",
        "--horizon",
        "90d",
        "--model",
        "boosting",
        "--folds",
        "5",
        "--seed",
        &seed,
        "-o",
        "m.json",
    ];
    let c = comments.map(|c| c.to_string_lossy().into_owned());
    if let Some(c) = &c {
        args.extend(["--comments", c.as_str()]);
    }
    let o = ltv(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("m.json")).unwrap()).unwrap();
    m["metrics"]["normalized_gini"].as_f64().unwrap()
}

/// Issue 4, requirement 5: the comments `ltv synth` writes carry real signal, so the comment
/// and sentiment columns raise boosting's out-of-fold Gini on the bundled synthetic data. A
/// placebo (each commenter's comments moved to the next commenter by id: same texts, same
/// counts, wrong customer) shows that the gain comes from whose words they are.
#[test]
fn comment_features_raise_boosting_gini_on_synthetic_data() {
    let dir = tempfile::tempdir().unwrap();
    let real = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/example/comments.csv");
    let mut r = csv::Reader::from_path(&real).unwrap();
    let header = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let mut ids: Vec<String> = rows.iter().map(|x| x[0].to_string()).collect();
    ids.sort();
    ids.dedup();
    let next = |id: &str| {
        let k = ids.binary_search_by(|x| x.as_str().cmp(id)).unwrap();
        ids[(k + 1) % ids.len()].clone()
    };
    let placebo = dir.path().join("placebo.csv");
    let mut w = csv::Writer::from_path(&placebo).unwrap();
    w.write_record(&header).unwrap();
    for x in &rows {
        let mut v: Vec<String> = x.iter().map(String::from).collect();
        v[0] = next(&v[0]);
        w.write_record(&v).unwrap();
    }
    w.flush().unwrap();
    drop(w);

    let mut gains = Vec::new();
    for seed in [1, 2, 3] {
        let none = boosting_oof_gini(dir.path(), None, seed);
        let with = boosting_oof_gini(dir.path(), Some(&real), seed);
        let shuffled = boosting_oof_gini(dir.path(), Some(&placebo), seed);
        eprintln!("fold seed {seed}: Gini without comments {none:.4}, with {with:.4}, placebo {shuffled:.4}");
        assert!(
            with > shuffled,
            "seed {seed}: with {with} vs placebo {shuffled}"
        );
        gains.push(with - none);
    }
    let mean_gain = gains.iter().sum::<f64>() / gains.len() as f64;
    assert!(
        mean_gain >= 0.005,
        "mean Gini gain {mean_gain:.4} ({gains:?})"
    );
    assert!(gains.iter().filter(|&&g| g > 0.0).count() >= 2, "{gains:?}");
}
