//! `ltv run`, `ltv tiers`, `ltv model promote`: the monthly job end to end on synthetic data.
use crate::common::ltv;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Synthetic data (1,500 customers) and a config: `tree`, 3 folds, plus `extra` lines in
/// `[model]`.
fn setup(dir: &Path, extra_model: &str) {
    let r = ltv(
        dir,
        &[
            "synth",
            "--customers",
            "1500",
            "--seed",
            "7",
            "-o",
            "data",
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    write_config(dir, extra_model);
}

fn write_config(dir: &Path, extra_model: &str) {
    let text = format!(
        "[data]\norders = \"data/orders.csv\"\nevents = \"data/events.csv\"\ncomments = \"data/comments.csv\"\n\
         [model]\nname = \"tree\"\nfolds = 3\n{extra_model}\n[output]\ndir = \"runs\"\n"
    );
    std::fs::write(dir.join("ltv.toml"), text).unwrap();
}

fn run_month(dir: &Path, month: &str) -> crate::common::Run {
    ltv(
        dir,
        &["run", "--config", "ltv.toml", "--month", month, "-q"],
    )
}

/// Every file under `dir` (relative path → bytes), skipping `run.log`.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.file_name().unwrap() != "run.log" {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

fn metrics(dir: &Path, month: &str) -> serde_json::Value {
    let p = dir.join("runs").join(month).join("metrics.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn minimal_config_runs_with_env_overrides() {
    let d = tempfile::tempdir().unwrap();
    let r = ltv(
        d.path(),
        &[
            "synth",
            "--customers",
            "1500",
            "--seed",
            "7",
            "-o",
            "data",
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(
        d.path().join("ltv.toml"),
        "[data]\norders = \"data/orders.csv\"\nevents = \"data/events.csv\"       # optional\ncomments = \"data/comments.csv\"   # optional\n[output]\ndir = \"runs\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ltv"))
        .args(["run", "--month", "2025-06", "-q"])
        .current_dir(d.path())
        .env("LTV_MODEL", "tree")
        .env("LTV_FOLDS", "3")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = d.path().join("runs/2025-06");
    for f in [
        "scores.csv",
        "model.json",
        "tiers.json",
        "metrics.json",
        "run.log",
    ] {
        assert!(run.join(f).exists(), "missing {f}");
    }
    let m = metrics(d.path(), "2025-06");
    assert_eq!(m["challenger_model"], "tree");
    // No `utc_offset` in the config: days count in the +08:00 the example timestamps carry.
    assert_eq!(m["as_of"], "2025-06-30T23:59:59+08:00");
    // Training cutoff = as_of − 90 days, so the label is observed by the end of June.
    assert_eq!(m["training_cutoff"], "2025-04-01T23:59:59+08:00");
    assert_eq!(m["promoted"], true);
    assert_eq!(
        std::fs::read_to_string(d.path().join("runs/champion.txt")).unwrap(),
        "2025-06\n"
    );
    assert_eq!(
        std::fs::read(d.path().join("runs/champion.json")).unwrap(),
        std::fs::read(run.join("model.json")).unwrap()
    );
    // Tiers: counts in metrics match the tier column of scores.csv.
    let (h, rows) = crate::common::read_csv(&run.join("scores.csv"));
    let t = crate::common::col(&h, "tier");
    let a = rows.iter().filter(|r| r[t] == "A").count();
    assert_eq!(m["tiers"]["counts"]["A"], a);
    assert!(d.path().join("runs/tiers/tiers-2025-06.csv").exists());
    // The lock file stays, released and without a pid.
    let lock = std::fs::File::open(d.path().join("runs/.lock")).unwrap();
    lock.try_lock().expect("the run released its lock");
    assert_eq!(
        std::fs::read_to_string(d.path().join("runs/.lock")).unwrap(),
        ""
    );
}

#[test]
fn unknown_config_key_is_rejected_by_name() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("ltv.toml"),
        "[data]\norders = \"o.csv\"\n[model]\nhorizn = \"30d\"\n",
    )
    .unwrap();
    let r = run_month(d.path(), "2025-06");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("horizn"), "{}", r.stderr);
    // A bad month is bad input too.
    std::fs::write(d.path().join("ltv.toml"), "[data]\norders = \"o.csv\"\n").unwrap();
    let r = run_month(d.path(), "2025-6");
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn rerun_of_a_month_is_byte_identical() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path(), "");
    assert_eq!(run_month(d.path(), "2025-05").code, 0);
    let r = run_month(d.path(), "2025-06");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first = snapshot(&d.path().join("runs"));
    let r = run_month(d.path(), "2025-06");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let second = snapshot(&d.path().join("runs"));
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (k, v) in &first {
        assert!(v == &second[k], "{k} differs on rerun");
    }
    assert!(first.contains_key("2025-06/scores.csv") && first.contains_key("champion.json"));
    // Every artefact of the month, the report included (with the May → June tier migration).
    for f in [
        "scores.csv",
        "model.json",
        "tiers.json",
        "metrics.json",
        "report.html",
        "run.log",
    ] {
        assert!(
            d.path().join("runs/2025-06").join(f).exists(),
            "{f} missing"
        );
    }
    let html = String::from_utf8_lossy(&first["2025-06/report.html"]).into_owned();
    assert!(
        html.contains("chart-tier-migration") && html.contains("<svg"),
        "report without charts"
    );
}

fn kill_at(stage: &str) {
    let d = tempfile::tempdir().unwrap();
    setup(d.path(), "");
    assert_eq!(run_month(d.path(), "2025-05").code, 0);
    let before = snapshot(&d.path().join("runs"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ltv"))
        .args(["run", "--config", "ltv.toml", "--month", "2025-06"])
        .current_dir(d.path())
        .env("NO_PROGRESS", "1")
        .env("LTV_TEST_PAUSE_AFTER", stage)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("paused after") {
            break;
        }
    }
    assert!(seen.contains(&format!("paused after {stage}")), "{seen}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !d.path().join("runs/2025-06").exists(),
        "partial month after kill at {stage}"
    );
    let after = snapshot(&d.path().join("runs"));
    // Every output is as before; only `.lock` holds the killed run's pid (no longer locked).
    for (k, v) in before.iter().filter(|(k, _)| k.as_str() != ".lock") {
        assert!(after.get(k) == Some(v), "{k} changed by a killed run");
    }
    // The stale lock and temp directory do not block the next run, which cleans them up.
    let r = run_month(d.path(), "2025-06");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let leftovers: Vec<_> = std::fs::read_dir(d.path().join("runs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".lock")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn killed_after_train_leaves_previous_outputs_untouched() {
    kill_at("train");
}

#[test]
fn killed_with_all_files_written_leaves_previous_outputs_untouched() {
    kill_at("write");
}

#[test]
fn lock_held_by_a_live_process_exits_3() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path(), "");
    std::fs::create_dir_all(d.path().join("runs")).unwrap();
    // This test process holds the OS lock, as a running `ltv run` would.
    let held = std::fs::File::create(d.path().join("runs/.lock")).unwrap();
    held.lock().unwrap();
    std::io::Write::write_all(&mut &held, format!("{}\n", std::process::id()).as_bytes()).unwrap();
    let r = run_month(d.path(), "2025-06");
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains(".lock"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("process {}", std::process::id())),
        "{}",
        r.stderr
    );
    assert!(!d.path().join("runs/2025-06").exists());
    let p = ltv(d.path(), &["model", "promote", "--month", "2025-05", "-q"]);
    assert_eq!(p.code, 3, "{}", p.stderr);
}

#[test]
fn champion_kept_when_challenger_worse_promoted_when_better_and_rollback() {
    let d = tempfile::tempdir().unwrap();
    // A weak champion: a stump.
    setup(d.path(), "max_depth = 1");
    assert_eq!(run_month(d.path(), "2025-05").code, 0);
    // Tolerance -1: the challenger must beat the champion by a whole Gini point: impossible.
    write_config(d.path(), "gini_tolerance = -1.0");
    let r = run_month(d.path(), "2025-06");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = metrics(d.path(), "2025-06");
    assert_eq!(m["promoted"], false);
    assert_eq!(m["scored_with"], "2025-05");
    assert_eq!(m["champion_before"]["month"], "2025-05");
    let log = std::fs::read_to_string(d.path().join("runs/2025-06/run.log")).unwrap();
    assert!(log.contains("kept champion (2025-05)"), "{log}");
    let champ = || std::fs::read_to_string(d.path().join("runs/champion.txt")).unwrap();
    assert_eq!(champ(), "2025-05\n");
    // Tolerance 0 against the stump: the depth-6 tree scores better on the same folds.
    write_config(d.path(), "gini_tolerance = 0.0");
    let r = run_month(d.path(), "2025-07");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = metrics(d.path(), "2025-07");
    let g_new = m["challenger_oof"]["normalized_gini"].as_f64().unwrap();
    let g_old = m["champion_before"]["normalized_gini"].as_f64().unwrap();
    assert!(g_new > g_old, "{g_new} vs stump {g_old}");
    assert_eq!(m["promoted"], true);
    assert_eq!(m["scored_with"], "2025-07");
    assert_eq!(champ(), "2025-07\n");
    // Roll back.
    let p = ltv(
        d.path(),
        &[
            "model", "promote", "--month", "2025-05", "--config", "ltv.toml", "-q",
        ],
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(champ(), "2025-05\n");
    assert_eq!(
        std::fs::read(d.path().join("runs/champion.json")).unwrap(),
        std::fs::read(d.path().join("runs/2025-05/model.json")).unwrap()
    );
    let p = ltv(d.path(), &["model", "promote", "--month", "2024-01", "-q"]);
    assert_eq!(p.code, 1, "{}", p.stderr);
}

/// A champion whose model kind cannot be fitted on this month's data (here: its stored
/// hyper-parameters are no longer valid) does not stop the month: the challenger is promoted
/// and the metrics say why.
#[test]
fn champion_that_cannot_be_refitted_gives_way_to_the_challenger() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path(), "");
    assert_eq!(run_month(d.path(), "2025-05").code, 0);
    let p = d.path().join("runs/2025-05/model.json");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("\"min_samples_leaf\": 20"), "{text}");
    std::fs::write(
        &p,
        text.replace("\"min_samples_leaf\": 20", "\"min_samples_leaf\": 0"),
    )
    .unwrap();
    let r = run_month(d.path(), "2025-06");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = metrics(d.path(), "2025-06");
    assert_eq!(m["promoted"], true);
    assert_eq!(m["scored_with"], "2025-06");
    assert!(m["champion_before"]["normalized_gini"].is_null(), "{m}");
    let why = m["champion_before"]["fit_error"].as_str().unwrap();
    assert!(why.contains("min_samples_leaf"), "{why}");
    assert!(
        m["decision"].as_str().unwrap().contains("cannot be fitted"),
        "{m}"
    );
    assert_eq!(
        std::fs::read_to_string(d.path().join("runs/champion.txt")).unwrap(),
        "2025-06\n"
    );
    // A rerun of the month reproduces it byte for byte.
    let before = snapshot(&d.path().join("runs/2025-06"));
    assert_eq!(run_month(d.path(), "2025-06").code, 0);
    assert_eq!(snapshot(&d.path().join("runs/2025-06")), before);
}

#[test]
fn retune_cutoffs_by_hand() {
    let d = tempfile::tempdir().unwrap();
    let mut s = String::from("customer_id,predicted_value,tier\n");
    for i in 1..=10 {
        s.push_str(&format!("c{i},{i}.0,C\n"));
    }
    std::fs::write(d.path().join("scores.csv"), s).unwrap();
    let r = ltv(
        d.path(),
        &[
            "tiers",
            "retune",
            "--scores",
            "scores.csv",
            "--month",
            "2025-06",
            "--history",
            "h",
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("h/2025-06.json")).unwrap()).unwrap();
    // Top 20 % of 10 = {10, 9}: A from 9; next 30 % = {8, 7, 6}: B from 6.
    assert_eq!(j["cutoffs"]["a"], 9.0);
    assert_eq!(j["cutoffs"]["b"], 6.0);
    assert_eq!(j["counts"]["A"], 2);
    assert_eq!(j["counts"]["B"], 3);
    assert_eq!(j["counts"]["C"], 5);
    let share_a = j["value_share"]["A"].as_f64().unwrap();
    assert!((share_a - 19.0 / 55.0).abs() < 1e-12);
    let tiers = std::fs::read_to_string(d.path().join("h/tiers-2025-06.csv")).unwrap();
    assert!(tiers.starts_with("customer_id,tier\nc1,C\n"), "{tiers}");
    assert!(
        tiers.contains("c9,A\nc10,A\n") && tiers.contains("c6,B\n"),
        "{tiers}"
    );
    // Fixed thresholds replace the month.
    let r = ltv(
        d.path(),
        &[
            "tiers",
            "retune",
            "--scores",
            "scores.csv",
            "--month",
            "2025-06",
            "--history",
            "h",
            "--a-min",
            "10",
            "--b-min",
            "2.5",
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("h/2025-06.json")).unwrap()).unwrap();
    assert_eq!(
        (
            j["counts"]["A"].as_u64(),
            j["counts"]["B"].as_u64(),
            j["counts"]["C"].as_u64()
        ),
        (Some(1), Some(7), Some(2))
    );
}

#[test]
fn migration_matrix_by_hand() {
    let d = tempfile::tempdir().unwrap();
    let h = d.path().join("h");
    std::fs::create_dir_all(&h).unwrap();
    // May: a A, b A, c B, d C, e C, f B. June: a A, b B, c A, d C, g A, h C.
    std::fs::write(
        h.join("tiers-2025-05.csv"),
        "customer_id,tier\na,A\nb,A\nc,B\nd,C\ne,C\nf,B\n",
    )
    .unwrap();
    std::fs::write(
        h.join("tiers-2025-06.csv"),
        "customer_id,tier\na,A\nb,B\nc,A\nd,C\ng,A\nh,C\n",
    )
    .unwrap();
    let r = ltv(
        d.path(),
        &[
            "tiers",
            "migration",
            "--from",
            "2025-05",
            "--to",
            "2025-06",
            "--history",
            "h",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let c = &j["counts"];
    assert_eq!(
        (
            c["A"]["A"].as_u64(),
            c["A"]["B"].as_u64(),
            c["A"]["C"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(
        (
            c["B"]["A"].as_u64(),
            c["B"]["B"].as_u64(),
            c["B"]["C"].as_u64()
        ),
        (Some(1), Some(0), Some(0))
    );
    assert_eq!(
        (
            c["C"]["A"].as_u64(),
            c["C"]["B"].as_u64(),
            c["C"]["C"].as_u64()
        ),
        (Some(0), Some(0), Some(1))
    );
    assert_eq!(
        (
            j["lost"]["A"].as_u64(),
            j["lost"]["B"].as_u64(),
            j["lost"]["C"].as_u64()
        ),
        (Some(0), Some(1), Some(1))
    );
    assert_eq!(
        (
            j["new"]["A"].as_u64(),
            j["new"]["B"].as_u64(),
            j["new"]["C"].as_u64()
        ),
        (Some(1), Some(0), Some(1))
    );
    // B row: c → A, f lost: 1 of 2.
    assert_eq!(j["shares"]["B"]["A"], 0.5);
    let r = ltv(
        d.path(),
        &[
            "tiers",
            "migration",
            "--from",
            "2025-05",
            "--to",
            "2025-06",
            "--history",
            "h",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1 (50.0%)"), "{}", r.stdout);
}

/// Regression (issue 12, item 10): `--month 2030-01`, past the end of the data, exited 0 with
/// all labels 0 and became champion. Now an error naming both dates; allowed explicitly with
/// a warning.
#[test]
fn month_past_the_end_of_the_data_is_an_error_not_a_champion() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path(), "");
    let r = run_month(d.path(), "2030-01");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the label window ends 2030-01-31T23:59:59"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--allow-partial-window"), "{}", r.stderr);
    assert!(!d.path().join("runs/2030-01").exists());
    assert!(!d.path().join("runs/champion.txt").exists());
    let r = ltv(
        d.path(),
        &[
            "run",
            "--config",
            "ltv.toml",
            "--month",
            "2030-01",
            "--allow-partial-window",
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = std::fs::read_to_string(d.path().join("runs/2030-01/run.log")).unwrap();
    assert!(
        log.contains("warning: partial label window allowed"),
        "{log}"
    );
}

/// Regression (issue 12, item 12): after `model promote --month 2025-05`, a rerun of 2025-06
/// made 2025-06 champion again. A promote now pins until `model unpin`.
#[test]
fn promote_holds_when_a_later_month_is_rerun() {
    let d = tempfile::tempdir().unwrap();
    // Tolerance 1: every challenger is promoted unless something (the pin) stops it.
    setup(d.path(), "gini_tolerance = 1.0");
    assert_eq!(run_month(d.path(), "2025-05").code, 0);
    assert_eq!(run_month(d.path(), "2025-06").code, 0);
    let champ = || std::fs::read_to_string(d.path().join("runs/champion.txt")).unwrap();
    assert_eq!(champ(), "2025-06\n");
    let p = ltv(d.path(), &["model", "promote", "--month", "2025-05", "-q"]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(champ(), "2025-05\n");
    for month in ["2025-06", "2025-07"] {
        let r = run_month(d.path(), month);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(champ(), "2025-05\n", "{month} must not undo the rollback");
        let m = metrics(d.path(), month);
        assert_eq!(m["promoted"], false);
        assert_eq!(m["scored_with"], "2025-05");
        assert!(m["decision"].as_str().unwrap().contains("pinned"), "{m}");
    }
    assert_eq!(
        std::fs::read(d.path().join("runs/champion.json")).unwrap(),
        std::fs::read(d.path().join("runs/2025-05/model.json")).unwrap()
    );
    let u = ltv(d.path(), &["model", "unpin"]);
    assert_eq!(u.code, 0, "{}", u.stderr);
    assert!(u.stderr.contains("unpinned 2025-05"), "{}", u.stderr);
    assert_eq!(run_month(d.path(), "2025-07").code, 0);
    assert_eq!(champ(), "2025-07\n");
}

/// Regression (issue 12, item 11): a `.lock` holding the pid of any live process (PID 1 in a
/// container is always alive) blocked every later run. Only a held OS lock blocks now.
#[test]
fn lock_file_left_with_a_live_pid_does_not_block_a_run() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path(), "");
    std::fs::create_dir_all(d.path().join("runs")).unwrap();
    std::fs::write(d.path().join("runs/.lock"), "1\n").unwrap();
    let r = run_month(d.path(), "2025-06");
    assert_eq!(r.code, 0, "{}", r.stderr);
}
