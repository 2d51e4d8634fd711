//! Scoring throughput: customers scored per second by `pipeline::predict_table` (value model,
//! churn classifier, BG/NBD P(alive) and expected orders, tiers) on features of generated
//! customers, excluding ingest; and the whole `score` job including ingest.
//!
//! Run: `cargo bench --bench score [-- CUSTOMERS]` (default 1,000,000 generated customers).
use ltv::data::{Cutoff, ReadOptions, Source};
use ltv::features::{build_features, FeatureParams, Inputs, LifecycleThresholds};
use ltv::models::value::{ModelKind, TrainSettings};
use ltv::pipeline::{predict_table, train, ModelChoice, TrainJob};
use ltv::synth::{generate, SynthParams};
use std::path::Path;
use std::time::Instant;

fn inputs(dir: &Path) -> Inputs<'static> {
    let open = |f: &str| Source::open(&dir.join(f)).expect("open generated file");
    Inputs {
        orders: open("orders.csv"),
        events: Some(open("events.csv")),
        customers: Some(open("customers.csv")),
        comments: None,
    }
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/score-bench");
    let read = ReadOptions::default();
    let params = SynthParams::default().customers(n).seed(7);
    if !dir.join("orders.csv").exists() {
        let t = Instant::now();
        generate(&params, &dir, &|_| {}).expect("synth");
        eprintln!(
            "generated {n} customers in {:.1}s",
            t.elapsed().as_secs_f64()
        );
    }
    let threads = rayon::current_num_threads();
    let only: Option<String> = std::env::args()
        .skip(1)
        .find(|a| ModelKind::parse(a).is_some());
    for kind in [ModelKind::Boosting, ModelKind::Tweedie] {
        if only.as_deref().is_some_and(|o| o != kind.name()) {
            continue;
        }
        let t = Instant::now();
        let job = TrainJob {
            inputs: inputs(&dir),
            input_paths: vec![dir.join("orders.csv")],
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
        let model = train(job, &|_| {}).expect("train").file;
        let train_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let fp = FeatureParams {
            cutoff: Cutoff::parse("2025-06-30", &read.time).expect("as-of"),
            horizon_days: None,
            lifecycle: LifecycleThresholds::default(),
        };
        let table = build_features(inputs(&dir), &fp, &read, &|_| {}).expect("features");
        let ingest_s = t.elapsed().as_secs_f64();
        let customers = table.rows.len();
        {
            use ltv::models::value::Dataset;
            let t = Instant::now();
            let data = Dataset::from_table(
                &table,
                &model.feature_names,
                model.hyperparameters.time_unit,
            )
            .expect("dataset");
            let all: Vec<usize> = (0..data.len()).collect();
            let d_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let _ = model.value_model.predict(&data, &all).expect("value");
            let v_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let _ = model
                .churn
                .as_ref()
                .map(|c| c.predict(data.x_filled(&all).view()));
            let c_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let _ = model.btyd.as_ref().map(|b| b.predict(&data.btyd, &all));
            let b_s = t.elapsed().as_secs_f64();
            println!("  parts: dataset {d_s:.3}s, value model {v_s:.3}s, churn {c_s:.3}s, btyd {b_s:.3}s");
        }
        let t = Instant::now();
        let scores = predict_table(&model, table, (0.2, 0.3)).expect("score");
        let predict_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut sink = std::io::sink();
        scores.write_csv(&mut sink).expect("write");
        let write_s = t.elapsed().as_secs_f64();
        println!(
            "{:<9} threads {threads}: {customers} customers; predict {:.3}s = {:.2}M customers/s; \
             write {:.3}s; ingest+features {:.2}s; whole score job {:.2}M customers/s (train {:.1}s)",
            kind.name(),
            predict_s,
            customers as f64 / predict_s / 1e6,
            write_s,
            ingest_s,
            customers as f64 / (ingest_s + predict_s + write_s) / 1e6,
            train_s
        );
    }
}
