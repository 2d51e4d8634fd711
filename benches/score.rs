//! Scoring throughput and memory, per value model (boosting, tweedie, linear, bgnbd; every
//! model file also holds the churn tree and BG/NBD):
//! - `stage`: the score stage after the inputs are folded (block features → value, churn and
//!   BTYD predictions → tiers → `scores.csv` to a sink), in customers/s;
//! - `parts`: the same stage timed piece by piece (features, model inputs, value model, churn,
//!   BTYD, tiers, CSV);
//! - `job`: the whole streaming job (`pipeline::score_to_writer`: ingest, fold, score, write);
//! - `table`: the old whole-table path (`build_features`, then `predict_table` +
//!   `Scores::write_csv`, timed apart), for comparison.
//!
//! Each measurement runs in its own process so that its peak RSS (`VmHWM`) is its own.
//! Models are trained once (cutoff 2025-03-31, 90-day horizon, 2 folds, default settings) and
//! cached in `target/score-bench/model-<kind>.json`; the data is generated once into
//! `target/score-bench` (seed 7).
//!
//! Run: `cargo bench --bench score [-- CUSTOMERS] [KIND...] [no-stage|no-parts|no-job|no-table]`
//! (default 1,000,000 generated customers, all four kinds and modes).
//!
//! Results (2026-11-24, rustc 1.95.0, 2-core Intel Xeon VM shared with other builds — load
//! 2–5, so times vary ±50% between runs; 820,824 customers scored from 1M generated):
//!
//! | model    | old predict_table + write_csv | new stage (best of 3 runs) | whole job | peak RSS old → new |
//! |----------|-------------------------------|----------------------------|-----------|--------------------|
//! | boosting | 1.44 s = 0.57M/s              | 0.67 s = 1.23M/s           | 4.2 s     | 956 → 335 MiB      |
//! | tweedie  | 1.49 s = 0.55M/s              | 0.44 s = 1.86M/s           | 5.2 s     | 949 → 336 MiB      |
//! | linear   | 1.54 s = 0.53M/s              | 0.69 s = 1.20M/s (loaded)  | 6.7 s     | 958 → 336 MiB      |
//! | bgnbd    | 1.40 s = 0.59M/s              | 0.63 s = 1.31M/s (loaded)  | 7.1 s     | 950 → 333 MiB      |
//!
//! Merged main on a quiet machine (2026-11-24 20:30 UTC, load 1.7–1.9, no other jobs), stage
//! including the CSV write: boosting 0.693 s = 1.18M/s (value model 0.369 s of it), tweedie
//! 0.436 s = 1.88M/s, linear 0.410 s = 2.00M/s, bgnbd 0.388 s = 2.12M/s; whole job 4.05–4.77 s;
//! peak RSS 315–318 MiB (after the feature-memory work).
//!
//! Parts of the new stage at low load (boosting): features+inputs 0.18 s, value 0.38 s
//! (60 trees, mean depth 9.5), churn 0.02 s, BTYD 0.07 s, tiers 0.02 s, CSV 0.06 s. The
//! whole job is dominated by ingest and fold (3.6–7 s here).
use ltv::data::{Cutoff, ReadOptions, Source};
use ltv::features::table::{fill_model_row, model_columns};
use ltv::features::{fold_features, Inputs, LifecycleThresholds};
use ltv::models::btyd::btyd_input;
use ltv::models::compiled::CompiledForest;
use ltv::models::file::ModelFile;
use ltv::models::value::{Dataset, ModelKind, TrainSettings, ValuePredictor};
use ltv::pipeline::{score_folded, score_params, score_to_writer, train, ModelChoice, TrainJob};
use ltv::synth::{generate, SynthParams};
use ltv::tiers::TierCutoffs;
use ndarray::Array2;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

const KINDS: [ModelKind; 4] = [
    ModelKind::Boosting,
    ModelKind::Tweedie,
    ModelKind::Linear,
    ModelKind::Bgnbd,
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/score-bench")
}

fn inputs(dir: &Path) -> Inputs<'static> {
    let open = |f: &str| Source::open(&dir.join(f)).expect("open generated file");
    Inputs {
        orders: open("orders.csv"),
        events: Some(open("events.csv")),
        customers: Some(open("customers.csv")),
        comments: None,
    }
}

fn as_of(read: &ReadOptions) -> Cutoff {
    Cutoff::parse("2025-06-30", &read.time).expect("as-of")
}

/// Peak resident set size of this process in MiB.
fn peak_rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn model_path(kind: ModelKind) -> PathBuf {
    dir().join(format!("model-{}.json", kind.name()))
}

fn ensure_model(kind: ModelKind) {
    let path = model_path(kind);
    if path.exists() {
        return;
    }
    let read = ReadOptions::default();
    let t = Instant::now();
    let job = TrainJob {
        inputs: inputs(&dir()),
        input_paths: vec![dir().join("orders.csv")],
        read: read.clone(),
        cutoff: Cutoff::parse("2025-03-31", &read.time).expect("cutoff"),
        horizon_days: 90,
        lifecycle: LifecycleThresholds::default(),
        model: ModelChoice::One(kind),
        settings: TrainSettings {
            folds: 2,
            ..TrainSettings::default()
        },
    };
    train(job, &|_| {})
        .expect("train")
        .file
        .save(&path)
        .expect("save model");
    eprintln!(
        "trained {} in {:.1}s",
        kind.name(),
        t.elapsed().as_secs_f64()
    );
}

/// One measurement, in this (child) process.
fn child(mode: &str, kind: ModelKind) {
    let read = ReadOptions::default();
    let model = ModelFile::load(&model_path(kind)).expect("load model");
    let mut sink = std::io::sink();
    let t = Instant::now();
    let (customers, what) = match mode {
        "stage" => {
            let build = fold_features(
                inputs(&dir()),
                &score_params(&model, as_of(&read)),
                &read,
                &|_| {},
            )
            .expect("fold");
            let fold_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let scored = score_folded(&model, build).expect("score");
            let tiers = scored.tier_cutoffs(0.2, 0.3).expect("tiers");
            scored.write_csv(&tiers, &mut sink).expect("write");
            let s = t.elapsed().as_secs_f64();
            (
                scored.len(),
                format!(
                    "stage {s:.3}s = {:.2}M customers/s (fold {fold_s:.2}s)",
                    scored.len() as f64 / s / 1e6
                ),
            )
        }
        "parts" => {
            let build = fold_features(
                inputs(&dir()),
                &score_params(&model, as_of(&read)),
                &read,
                &|_| {},
            )
            .expect("fold");
            let n = build.len();
            let names: Vec<&str> = model.feature_names.iter().map(String::as_str).collect();
            let cols = model_columns(build.has_comments(), &names).expect("columns");
            let p = cols.len();
            let unit = model.hyperparameters.time_unit;
            let value = ValuePredictor::new(&model.value_model);
            let churn = model.churn.as_ref().and_then(CompiledForest::from_churn);
            let mut secs = [0.0f64; 4];
            let mut values = Vec::with_capacity(n);
            let mut start = 0;
            while start < n {
                let end = (start + (1 << 16)).min(n);
                let mut lap = Instant::now();
                let mut tick = |i: usize| {
                    secs[i] += lap.elapsed().as_secs_f64();
                    lap = Instant::now();
                };
                // as pipeline::block_dataset: feature rows → model inputs, one parallel pass
                let mut x = Array2::<f64>::zeros((end - start, p));
                let btyd: Vec<_> = x
                    .as_slice_mut()
                    .expect("contiguous")
                    .par_chunks_mut(1024 * p)
                    .enumerate()
                    .flat_map_iter(|(c, xc)| {
                        let from = start + c * 1024;
                        let build = &build;
                        let cols = &cols;
                        (from..).zip(xc.chunks_mut(p)).map(move |(k, out)| {
                            let f = build.model_row(k);
                            fill_model_row(cols, &f, out);
                            btyd_input(&f, unit)
                        })
                    })
                    .collect();
                let data = Dataset {
                    feature_names: model.feature_names.clone(),
                    x,
                    btyd,
                    y: None,
                    bought_again: None,
                };
                tick(0);
                values.extend(value.predict_all(&data).expect("value"));
                tick(1);
                if let Some(c) = &churn {
                    c.predict(data.x.view());
                }
                tick(2);
                if let Some(b) = &model.btyd {
                    let all: Vec<usize> = (0..data.len()).collect();
                    b.predict(&data.btyd, &all).expect("btyd");
                }
                tick(3);
                start = end;
            }
            let t2 = Instant::now();
            let _ = TierCutoffs::from_quantiles(&values, 0.2, 0.3).expect("tiers");
            let tiers_s = t2.elapsed().as_secs_f64();
            let t2 = Instant::now();
            let scored = score_folded(&model, build).expect("score");
            let score_s = t2.elapsed().as_secs_f64();
            let tiers = scored.tier_cutoffs(0.2, 0.3).expect("tiers");
            let t2 = Instant::now();
            scored.write_csv(&tiers, &mut sink).expect("write");
            let write_s = t2.elapsed().as_secs_f64();
            (
                n,
                format!(
                    "parts: features+inputs {:.3}s, value {:.3}s, churn {:.3}s, btyd {:.3}s, \
                     tiers {tiers_s:.3}s, csv {write_s:.3}s (score_folded {score_s:.3}s)",
                    secs[0], secs[1], secs[2], secs[3]
                ),
            )
        }
        "job" => {
            let s = score_to_writer(
                &model,
                inputs(&dir()),
                &read,
                as_of(&read),
                (0.2, 0.3),
                &mut sink,
                &|_| {},
            )
            .expect("score");
            let secs = t.elapsed().as_secs_f64();
            (
                s.customers,
                format!(
                    "whole job {secs:.2}s = {:.2}M customers/s",
                    s.customers as f64 / secs / 1e6
                ),
            )
        }
        "table" => {
            let table = ltv::features::build_features(
                inputs(&dir()),
                &score_params(&model, as_of(&read)),
                &read,
                &|_| {},
            )
            .expect("features");
            let features_s = t.elapsed().as_secs_f64();
            let t2 = Instant::now();
            let s = ltv::pipeline::predict_table(&model, table, (0.2, 0.3)).expect("score");
            s.write_csv(&mut sink).expect("write");
            let stage_s = t2.elapsed().as_secs_f64();
            let secs = t.elapsed().as_secs_f64();
            let n = s.table.rows.len();
            (
                n,
                format!(
                    "old table path: predict_table + write_csv {stage_s:.3}s = {:.2}M customers/s \
                     (build_features {features_s:.2}s); whole {secs:.2}s = {:.2}M customers/s",
                    n as f64 / stage_s / 1e6,
                    n as f64 / secs / 1e6
                ),
            )
        }
        other => panic!("unknown mode {other}"),
    };
    println!(
        "{:<9} {:<5} threads {}: {customers} customers; {what}; peak RSS {:.0} MiB",
        kind.name(),
        mode,
        rayon::current_num_threads(),
        peak_rss_mib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let kind = ModelKind::parse(&args[i + 2]).expect("kind");
        child(&args[i + 1], kind);
        return;
    }
    let n: u64 = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = dir();
    if !dir.join("orders.csv").exists() {
        let t = Instant::now();
        generate(&SynthParams::default().customers(n).seed(7), &dir, &|_| {}).expect("synth");
        eprintln!(
            "generated {n} customers in {:.1}s",
            t.elapsed().as_secs_f64()
        );
    }
    let only: Vec<ModelKind> = args.iter().filter_map(|a| ModelKind::parse(a)).collect();
    let modes: Vec<&str> = ["stage", "parts", "job", "table"]
        .into_iter()
        .filter(|m| !args.iter().any(|a| a == &format!("no-{m}")))
        .collect();
    let exe = std::env::current_exe().expect("current exe");
    for kind in KINDS {
        if !only.is_empty() && !only.contains(&kind) {
            continue;
        }
        ensure_model(kind);
        for mode in &modes {
            let status = std::process::Command::new(&exe)
                .args(["--child", mode, kind.name()])
                .status()
                .expect("run child");
            assert!(status.success(), "{mode} {} failed", kind.name());
        }
    }
}
