//! Scoring throughput and memory, per value model (boosting, hybrid, tree, tweedie, linear,
//! bgnbd; every model file also holds the churn tree and BG/NBD):
//! - `stage`: the score stage after the inputs are folded (block features → value, churn and
//!   BTYD predictions → tiers → `scores.csv` to a sink), in customers/s;
//! - `parts`: the same stage timed piece by piece (features, model inputs, value model, churn,
//!   BTYD, tiers, CSV);
//! - `value`: the value model alone on one prepared input matrix (best of 5 runs);
//! - `job`: the whole streaming job (`pipeline::score_to_writer`: ingest, fold, score, write);
//! - `table`: the old whole-table path (`build_features`, then `predict_table` +
//!   `Scores::write_csv`, timed apart), for comparison.
//!
//! Each measurement runs in its own process so that its peak RSS (`VmHWM`) is its own.
//! Models are trained once (cutoff 2025-03-31, 90-day horizon, 2 folds, default settings) and
//! cached in `target/score-bench/model-<kind>.json`; the data is generated once into
//! `target/score-bench` (seed 7).
//!
//! Run: `cargo bench --bench score [-- CUSTOMERS] [KIND...] [no-stage|no-parts|no-value|no-job|no-table]`
//! (default 1,000,000 generated customers, all six kinds and modes).
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
//! Session 3 (2026-11-24 21:58 UTC, load 1.5–1.9, no other jobs; stage incl. CSV; value
//! alone = `value` mode; models trained by this bench with default settings — boosting 60
//! trees and hybrid 67 trees of 31 leaves, tree depth 8). After: bit-vector scoring of
//! ≤ 64-leaf trees with AVX2 (`models/bitforest.rs`), customers scored in memory order, one
//! BTYD prediction shared by the outputs and the bgnbd/hybrid value models, tier cut-offs by
//! selection, BTYD cache chunks of 16k keyed by `(x, T)` for the hypergeometric part (BTYD
//! 0.057 → 0.044 s; boosting stage then 0.413–0.438 s = 1.87–1.99M/s over 7 runs):
//!
//! | model    | stage             | value alone   | features+inputs | value | BTYD  | CSV   |
//! |----------|-------------------|---------------|-----------------|-------|-------|-------|
//! | boosting | 0.425–0.444 s = 1.85–1.93M/s | 0.219 s = 3.76M/s | 0.090 | 0.186 | 0.057 | 0.058 |
//! | hybrid   | 0.627 s = 1.31M/s | 0.391 s = 2.10M/s | 0.133 | 0.343 | 0.070 | 0.060 |
//! | tree     | 0.291 s = 2.82M/s | 0.036 s       | 0.090           | 0.039 | 0.063 | 0.060 |
//! | tweedie  | 0.336 s = 2.44M/s | 0.074 s       | 0.084           | 0.078 | 0.055 | 0.065 |
//! | linear   | 0.338 s = 2.43M/s | 0.073 s       | 0.079           | 0.077 | 0.062 | 0.068 |
//! | bgnbd    | 0.263 s = 3.12M/s | 0.072 s       | 0.077           | 0.003 | 0.052 | 0.059 |
//!
//! (boosting before this session: stage 0.689 s = 1.19M/s, value alone 0.327 s.) Peak RSS of
//! the stage 330–348 MiB (+15 MiB for the memory-order slots).
//!
//! Session 4 (2026-11-25 00:00 UTC, load 1.2–1.9; same data and models). After: bit-vector
//! kernels written with AVX-512 (16 rows per group) and AVX2 intrinsics, 32-bit words for
//! trees of ≤ 32 leaves, values gathered into registers, NaN rows in vector form; the
//! hybrid's input matrix kept from block to block. Outputs `cmp`-identical to session 3's:
//!
//! | model    | stage (3 runs)                 | value alone        | features+inputs | value | BTYD  | CSV   |
//! |----------|--------------------------------|--------------------|-----------------|-------|-------|-------|
//! | boosting | 0.317–0.337 s = 2.44–2.59M/s   | 0.108 s = 7.6M/s   | 0.082           | 0.104 | 0.036 | 0.062 |
//! | hybrid   | 0.356–0.365 s = 2.25–2.30M/s   | 0.210 s = 3.9M/s   | 0.095           | 0.132 | 0.041 | 0.062 |
//! | tree     | 0.280 s = 2.93M/s              | 0.040 s            | 0.081           | 0.033 | 0.036 | 0.060 |
//! | tweedie  | 0.298 s = 2.76M/s              | 0.074 s            | 0.081           | 0.082 | 0.039 | 0.059 |
//! | linear   | 0.311 s = 2.64M/s              | 0.071 s            | 0.077           | 0.078 | 0.038 | 0.063 |
//! | bgnbd    | 0.231 s = 3.56M/s              | 0.050 s            | 0.085           | 0.004 | 0.041 | 0.068 |
//!
//! With the AVX2 kernel only (as on a processor without AVX-512): boosting stage 0.339–0.372 s
//! = 2.21–2.42M/s (value alone 0.135 s), hybrid 0.376–0.399 s = 2.06–2.18M/s. Whole job
//! (ingest, fold, score, write) 4.1–4.3 s for every model, peak RSS 330–350 MiB.
//!
//! Parts of the session-2 stage at low load (boosting): features+inputs 0.18 s, value 0.38 s
//! (60 trees, mean depth 9.5), churn 0.02 s, BTYD 0.07 s, tiers 0.02 s, CSV 0.06 s. The
//! whole job is dominated by ingest and fold (3.6–7 s here).
use ltv::data::{Cutoff, ReadOptions, Source};
use ltv::features::table::{fill_model_row, model_columns, Column};
use ltv::features::{fold_features, FeatureBuild, Inputs, LifecycleThresholds};
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

const KINDS: [ModelKind; 6] = [
    ModelKind::Boosting,
    ModelKind::Hybrid,
    ModelKind::Tree,
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
        allow_partial_window: false,
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

/// The score stage's input: `inputs` folded at the as-of date for `model`.
fn fold(model: &ModelFile, read: &ReadOptions) -> FeatureBuild {
    fold_features(
        inputs(&dir()),
        &score_params(model, as_of(read)),
        read,
        &|_| {},
    )
    .expect("fold")
}

/// The feature columns `model` reads.
fn columns(model: &ModelFile, build: &FeatureBuild) -> Vec<&'static Column> {
    let names: Vec<&str> = model.feature_names.iter().map(String::as_str).collect();
    model_columns(build.has_comments(), &names).expect("columns")
}

/// One measurement, in this (child) process.
fn child(mode: &str, kind: ModelKind) {
    let read = ReadOptions::default();
    let model = ModelFile::load(&model_path(kind)).expect("load model");
    let mut sink = std::io::sink();
    let t = Instant::now();
    let (customers, what) = match mode {
        "stage" => {
            let build = fold(&model, &read);
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
            let build = fold(&model, &read);
            let n = build.len();
            let cols = columns(&model, &build);
            let p = cols.len();
            let unit = model.hyperparameters.time_unit;
            let value = ValuePredictor::new(&model.value_model);
            let churn = model.churn.as_ref().and_then(CompiledForest::from_churn);
            let mut secs = [0.0f64; 4];
            let t_slots = Instant::now();
            let slots = build.slots_in_memory_order();
            secs[0] += t_slots.elapsed().as_secs_f64();
            let mut values = Vec::with_capacity(n);
            let mut start = 0;
            while start < n {
                let end = (start + (1 << 16)).min(n);
                let mut lap = Instant::now();
                let mut tick = |i: usize| {
                    secs[i] += lap.elapsed().as_secs_f64();
                    lap = Instant::now();
                };
                // as pipeline::block_dataset: feature rows (in memory order) → model inputs,
                // one parallel pass
                let mut x = Array2::<f64>::zeros((end - start, p));
                let btyd: Vec<_> = x
                    .as_slice_mut()
                    .expect("contiguous")
                    .par_chunks_mut(1024 * p)
                    .zip(slots[start..end].par_chunks(1024))
                    .flat_map_iter(|(xc, sc)| {
                        let build = &build;
                        let cols = &cols;
                        sc.iter().zip(xc.chunks_mut(p)).map(move |(&slot, out)| {
                            let f = build.slot_row(slot);
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
                // as pipeline::Scorer: BTYD first, reused by bgnbd and hybrid value models
                let known = model.btyd.as_ref().map(|b| {
                    let all: Vec<usize> = (0..data.len()).collect();
                    (b, b.predict(&data.btyd, &all).expect("btyd"))
                });
                tick(3);
                let known = known.as_ref().map(|(b, p)| (*b, p));
                values.extend(value.predict_all(&data, known).expect("value"));
                tick(1);
                if let Some(c) = &churn {
                    c.predict(data.x.view());
                }
                tick(2);
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
        "value" => {
            // the value model alone on one prepared input matrix, best of 5 (hybrid: with its
            // BTYD inputs)
            let build = fold(&model, &read);
            let n = build.len();
            let cols = columns(&model, &build);
            let p = cols.len();
            let unit = model.hyperparameters.time_unit;
            let mut x = Array2::<f64>::zeros((n, p));
            let mut btyd = Vec::with_capacity(n);
            for (k, out) in x
                .as_slice_mut()
                .expect("contiguous")
                .chunks_mut(p)
                .enumerate()
            {
                let f = build.model_row(k);
                fill_model_row(&cols, &f, out);
                btyd.push(btyd_input(&f, unit));
            }
            let data = Dataset {
                feature_names: model.feature_names.clone(),
                x,
                btyd,
                y: None,
                bought_again: None,
            };
            let value = ValuePredictor::new(&model.value_model);
            let mut laps = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                std::hint::black_box(value.predict_all(&data, None).expect("value"));
                laps.push(t.elapsed().as_secs_f64());
            }
            let best = laps.iter().copied().fold(f64::INFINITY, f64::min);
            (
                n,
                format!(
                    "value model alone: best {best:.3}s = {:.2}M customers/s (laps {})",
                    n as f64 / best / 1e6,
                    laps.iter()
                        .map(|l| format!("{l:.3}"))
                        .collect::<Vec<_>>()
                        .join(" ")
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
    let modes: Vec<&str> = ["stage", "parts", "value", "job", "table"]
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
