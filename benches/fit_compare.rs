//! ltv's side of the same-data model comparison (`benches/compare/models_compare.py`).
//!
//! Reads a features CSV written by `ltv features … --label`, splits the customers into train and
//! test by a fixed rule (FNV-1a 64 of `customer_id`; test when the hash is divisible by 5, the
//! same rule as the Python side), fits on the training rows and scores the test rows:
//!
//! - `linear`: [`LinearModel`] (default tiny ridge) on the numeric features with NaN → 0 (what
//!   `Dataset::x_filled` does), against scikit-learn's `LinearRegression` on the same matrix;
//! - `tree`: [`RegressionTree`] depth 8, `min_samples_leaf` 1 (scikit-learn's default), NaN → 0,
//!   against `DecisionTreeRegressor(max_depth=8)`;
//! - `boosting`: [`GradientBoosting`] 200 iterations, early stopping off, defaults otherwise
//!   (learning rate 0.1, 31 leaves, 20 rows per leaf, 255 bins, no L2), NaN kept, against
//!   `HistGradientBoostingRegressor` with the same settings;
//! - `bgnbd` / `gamma_gamma`: [`BgNbd`] and [`GammaGamma`] on the BTYD columns in weeks (as
//!   `--time-unit weeks`), against lifetimes' `BetaGeoFitter` + `GammaGammaFitter`; the test
//!   prediction is [`Btyd::predict`]'s value (expected purchase days in the horizon × expected
//!   spend).
//!
//! Each model then scores every customer (train and test) as `ltv score` would (compiled
//! trees; BTYD expected purchases, P(alive) and spend with shared histories), best of 3 runs;
//! the Python side times `predict` (lifetimes: the same three quantities) on the same rows.
//!
//! Usage: `cargo bench --bench fit_compare -- FEATURES.csv OUT_DIR [HORIZON_DAYS]`
//! (threads: `RAYON_NUM_THREADS`). Writes `OUT_DIR/ltv_results.json` (fit wall and CPU seconds,
//! test R² and normalized Gini per model) and `OUT_DIR/ltv_test_predictions.csv` (the test
//! rows' predictions, which the driver re-scores to cross-check the metrics). Results:
//! `benches/compare/RESULTS.md`.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ltv::evaluate::normalized_gini;
use ltv::features::FEATURE_COLUMNS;
use ltv::models::bgnbd::{BgNbd, BtydSummary};
use ltv::models::boosting::GradientBoosting;
use ltv::models::btyd::{Btyd, BtydInput, TimeUnit};
use ltv::models::gamma_gamma::GammaGamma;
use ltv::models::linear::LinearModel;
use ltv::models::tree::RegressionTree;
use ndarray::{Array1, Array2, Axis};

#[path = "common/mod.rs"]
mod common;
use common::{cpu_seconds, r2};

/// FNV-1a 64-bit hash (the split rule shared with the Python side).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The features CSV as the models see it.
struct Features {
    ids: Vec<String>,
    names: Vec<&'static str>,
    /// Rows = customers, NaN = empty cell.
    x: Array2<f64>,
    /// `future_spend`.
    y: Vec<f64>,
}

fn read_features(path: &Path) -> Features {
    let names: Vec<&'static str> = FEATURE_COLUMNS
        .iter()
        .filter(|c| c.numeric)
        .map(|c| c.name)
        .collect();
    let mut rdr = csv::Reader::from_path(path).expect("open features CSV");
    let header = rdr.byte_headers().expect("header").clone();
    let find = |n: &str| {
        header
            .iter()
            .position(|h| h == n.as_bytes())
            .unwrap_or_else(|| panic!("column {n} missing from {}", path.display()))
    };
    let idx: Vec<usize> = names.iter().map(|n| find(n)).collect();
    let (id_col, y_col) = (find("customer_id"), find("future_spend"));
    let mut ids = Vec::new();
    let mut y = Vec::new();
    let mut flat = Vec::new();
    let mut rec = csv::ByteRecord::new();
    let num = |b: &[u8]| -> f64 {
        if b.is_empty() {
            f64::NAN
        } else {
            std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("not a number: {:?}", String::from_utf8_lossy(b)))
        }
    };
    while rdr.read_byte_record(&mut rec).expect("read features row") {
        ids.push(String::from_utf8_lossy(&rec[id_col]).into_owned());
        y.push(num(&rec[y_col]));
        flat.extend(idx.iter().map(|&j| num(&rec[j])));
    }
    let x = Array2::from_shape_vec((ids.len(), names.len()), flat).expect("shape");
    Features { ids, names, x, y }
}

struct Outcome {
    model: &'static str,
    fit_s: f64,
    cpu_s: f64,
    r2: f64,
    gini: f64,
    /// Seconds to score every customer (train and test) with the fitted model, best of 3.
    score_s: Option<f64>,
    note: String,
}

/// Best wall time of 3 runs of `f` (which predicts every customer).
fn best_of_3<T>(mut f: impl FnMut() -> T) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.len() < 2 {
        eprintln!("usage: cargo bench --bench fit_compare -- FEATURES.csv OUT_DIR [HORIZON_DAYS]");
        std::process::exit(2);
    }
    let (features_path, out_dir) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]));
    let horizon_days: f64 = args
        .get(2)
        .map_or(90.0, |h| h.parse().expect("horizon days"));
    std::fs::create_dir_all(&out_dir).expect("create OUT_DIR");

    let t = Instant::now();
    let f = read_features(&features_path);
    let n = f.ids.len();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, id) in f.ids.iter().enumerate() {
        if fnv1a(id.as_bytes()).is_multiple_of(5) {
            test.push(i);
        } else {
            train.push(i);
        }
    }
    eprintln!(
        "read {n} customers × {} features in {:.1} s; train {} / test {}; rayon threads {}",
        f.names.len(),
        t.elapsed().as_secs_f64(),
        train.len(),
        test.len(),
        rayon::current_num_threads()
    );
    let y_train: Array1<f64> = train.iter().map(|&i| f.y[i]).collect();
    let y_test: Vec<f64> = test.iter().map(|&i| f.y[i]).collect();
    let x_train = f.x.select(Axis(0), &train);
    let x_test = f.x.select(Axis(0), &test);
    let fill = |m: &Array2<f64>| m.mapv(|v| if v.is_nan() { 0.0 } else { v });
    let (xf_train, xf_test) = (fill(&x_train), fill(&x_test));
    // Scoring the whole base: every customer, with the predictor `ltv score` uses (compiled
    // trees, BTYD with shared histories), on the prepared matrix — as scikit-learn's
    // `predict` is timed on its prepared matrix.
    let xf_all = fill(&f.x);

    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut preds: Vec<(&'static str, Vec<f64>)> = Vec::new();
    let mut record =
        |model: &'static str, fit_s: f64, cpu_s: f64, score_s: f64, p: Vec<f64>, note: String| {
            let o = Outcome {
                model,
                fit_s,
                cpu_s,
                r2: r2(&y_test, &p),
                gini: normalized_gini(&y_test, &p).expect("gini"),
                score_s: Some(score_s),
                note,
            };
            eprintln!(
                "{model}: fit {:.3} s (cpu {:.2} s), score all {n} customers {score_s:.3} s \
             ({:.2}M/s), test R² {:.4}, Gini {:.4} {}",
                o.fit_s,
                o.cpu_s,
                n as f64 / score_s / 1e6,
                o.r2,
                o.gini,
                o.note
            );
            outcomes.push(o);
            preds.push((model, p));
        };

    // Linear least squares on NaN → 0.
    let (t, c) = (Instant::now(), cpu_seconds());
    let lin = LinearModel::params()
        .fit(xf_train.view(), y_train.view())
        .expect("linear fit");
    let (fit_s, cpu_s) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    let p = lin.predict(xf_test.view()).to_vec();
    let score_s = best_of_3(|| lin.predict(xf_all.view()));
    record("linear", fit_s, cpu_s, score_s, p, String::new());

    // Regression tree, depth 8, on NaN → 0.
    let (t, c) = (Instant::now(), cpu_seconds());
    let tree = RegressionTree::params()
        .max_depth(8)
        .min_samples_leaf(1)
        .fit(xf_train.view(), y_train.view())
        .expect("tree fit");
    let (fit_s, cpu_s) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    let p = tree.predict(xf_test.view()).to_vec();
    let note = format!("{} leaves", tree.n_leaves());
    let score_s = best_of_3(|| match tree.compiled() {
        Some(c) => tree.predict_compiled(&c, xf_all.view()),
        None => tree.predict(xf_all.view()),
    });
    record("tree", fit_s, cpu_s, score_s, p, note);

    // Gradient boosting, 200 iterations, early stopping off, NaN kept.
    let (t, c) = (Instant::now(), cpu_seconds());
    let gb = GradientBoosting::params()
        .n_iterations(200)
        .early_stopping(false)
        .fit(x_train.view(), y_train.view())
        .expect("boosting fit");
    let (fit_s, cpu_s) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    let p = gb.predict(x_test.view()).to_vec();
    let note = format!("{} trees", gb.n_trees());
    let score_s = best_of_3(|| match gb.compiled() {
        Some(c) => gb.predict_compiled(&c, f.x.view()),
        None => gb.predict(f.x.view()),
    });
    record("boosting", fit_s, cpu_s, score_s, p, note);

    // BG/NBD + Gamma-Gamma on the BTYD columns, in weeks.
    let col = |name: &str| f.names.iter().position(|n| *n == name).expect(name);
    let (cx, ctx, cage, cm) = (
        col("repeat_purchase_days"),
        col("days_first_to_last_order"),
        col("customer_age_days"),
        col("repeat_spend_avg"),
    );
    let unit = TimeUnit::Weeks;
    let inputs: Vec<Option<BtydInput>> =
        f.x.rows()
            .into_iter()
            .map(|r| {
                (!r[cx].is_nan()).then(|| BtydInput {
                    summary: BtydSummary {
                        frequency: r[cx],
                        recency: r[ctx] / unit.days(),
                        age: r[cage] / unit.days(),
                    },
                    repeat_spend_avg: (!r[cm].is_nan()).then_some(r[cm]),
                })
            })
            .collect();
    // the same training rows as Btyd::fit, timed model by model
    let (summaries, spend) = Btyd::training_data(&inputs, &train);
    let (t, c) = (Instant::now(), cpu_seconds());
    let bg = BgNbd::params().fit(&summaries).expect("BG/NBD fit");
    let (bg_s, bg_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    let (t, c) = (Instant::now(), cpu_seconds());
    let gg = GammaGamma::params().fit(&spend).expect("Gamma-Gamma fit");
    let (gg_s, gg_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    let bg_note = format!(
        "{} buyers; r={:.4} alpha={:.4} a={:.4} b={:.4}",
        summaries.len(),
        bg.r,
        bg.alpha,
        bg.a,
        bg.b
    );
    let gg_note = format!(
        "{} repeat buyers; p={:.4} q={:.4} v={:.4}",
        spend.len(),
        gg.p,
        gg.q,
        gg.v
    );
    let btyd = Btyd {
        bgnbd: bg,
        gamma_gamma: Some(gg),
        mean_repeat_spend: spend.iter().map(|s| s.1).sum::<f64>() / spend.len().max(1) as f64,
        time_unit: unit,
        horizon_days,
    };
    let p = btyd.predict(&inputs, &test).expect("BTYD predict").value;
    let all: Vec<usize> = (0..n).collect();
    let score_s = best_of_3(|| btyd.predict(&inputs, &all).expect("BTYD predict"));
    // The quality of the pair is one prediction; report it on both rows.
    record("bgnbd", bg_s, bg_cpu, score_s, p.clone(), bg_note);
    let (last_r2, last_gini) = outcomes
        .last()
        .map(|o| (o.r2, o.gini))
        .unwrap_or((f64::NAN, f64::NAN));
    outcomes.push(Outcome {
        model: "gamma_gamma",
        fit_s: gg_s,
        cpu_s: gg_cpu,
        r2: last_r2,
        gini: last_gini,
        score_s: None,
        note: gg_note,
    });
    eprintln!("gamma_gamma: fit {gg_s:.3} s (cpu {gg_cpu:.2} s)");

    // Results JSON and the test predictions.
    let json = serde_json::json!({
        "customers": n,
        "train": train.len(),
        "test": test.len(),
        "features": f.names,
        "threads": rayon::current_num_threads(),
        "models": outcomes.iter().map(|o| serde_json::json!({
            "model": o.model, "fit_s": o.fit_s, "cpu_s": o.cpu_s,
            "r2": o.r2, "gini": o.gini, "score_s": o.score_s, "note": o.note,
        })).collect::<Vec<_>>(),
    });
    std::fs::write(
        out_dir.join("ltv_results.json"),
        serde_json::to_string_pretty(&json).expect("json"),
    )
    .expect("write ltv_results.json");
    let mut w = BufWriter::new(
        File::create(out_dir.join("ltv_test_predictions.csv")).expect("create predictions"),
    );
    let header: Vec<&str> = preds.iter().map(|p| p.0).collect();
    writeln!(w, "customer_id,future_spend,{}", header.join(",")).expect("write");
    for (k, &i) in test.iter().enumerate() {
        write!(w, "{},{}", f.ids[i], f.y[i]).expect("write");
        for (_, p) in &preds {
            write!(w, ",{}", p[k]).expect("write");
        }
        writeln!(w).expect("write");
    }
    w.flush().expect("flush");
}
