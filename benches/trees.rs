//! Speed of the regression tree and histogram gradient boosting on 1M rows × 30 features.
//!
//! `cargo bench --bench trees` (env `LTV_BENCH_ROWS` overrides the 1,000,000 training rows,
//! `LTV_BENCH_ITERS` the 200 boosting iterations).
//! Writes the seeded data to `target/bench-data/trees_{rows}_train.csv` and `..._test.csv`
//! so that `benches/compare/trees_sklearn.py` times scikit-learn on the same numbers.
//!
//! Measured 2026-11-24 on a shared 2-core Intel Xeon VM (load average 5–10 from other
//! builds, so CPU seconds are the steadier figure), rustc 1.95, scikit-learn 1.9.1 / numpy
//! 2.4.6, 1M × 30 train, 200k test:
//!
//! | model | ltv fit wall (cpu) | sklearn fit wall (cpu) | predict rows/s ltv / sklearn | test R² |
//! |---|---|---|---|---|
//! | tree depth 8 | 1.66 s (0.88 s) | 40.3 s (21.6 s) | 1.25e7 / 3.87e6 | 0.9381 both |
//! | boosting 200 × 31 leaves | 28.2 s (17.9 s) | 209.9 s (121.8 s) | 1.26e5 / 4.34e4 | 0.9882 both |
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use ltv::models::boosting::GradientBoosting;
use ltv::models::tree::RegressionTree;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

#[path = "common/mod.rs"]
mod common;
use common::{cpu_seconds, r2};

const N_FEATURES: usize = 30;

/// Rounds to 4 decimals so the CSV text parses back to the same `f64` in Python.
fn r4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

fn generate(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let mut x = Array2::zeros((n, N_FEATURES));
    let mut y = Array1::zeros(n);
    for i in 0..n {
        for j in 0..N_FEATURES {
            let v = if j % 3 == 0 {
                normal.sample(&mut rng)
            } else if j % 3 == 1 {
                rng.gen_range(0.0..10.0)
            } else {
                f64::from(rng.gen_range(0..20u8)) // a discrete feature
            };
            x[[i, j]] = r4(v);
        }
        let r = x.row(i);
        let signal = (2.0 * r[0]).sin() * 3.0
            + 0.3 * r[1] * r[1]
            + 2.0 * f64::from(u8::from(r[2] > 10.0)) * r[3]
            + 0.5 * r[4] * r[6]
            + (r[7] / 3.0).ln_1p()
            + 0.1 * r[9];
        y[i] = r4(signal + normal.sample(&mut rng));
    }
    (x, y)
}

fn write_csv(path: &Path, x: &Array2<f64>, y: &Array1<f64>) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let header: Vec<String> = (0..N_FEATURES).map(|j| format!("x{j}")).collect();
    writeln!(w, "{},y", header.join(","))?;
    for (row, yi) in x.rows().into_iter().zip(y) {
        for v in row {
            write!(w, "{v},")?;
        }
        writeln!(w, "{yi}")?;
    }
    w.flush()
}

fn main() {
    let n: usize = std::env::var("LTV_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let iters: usize = std::env::var("LTV_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let n_test = (n / 5).max(1);
    let t = Instant::now();
    let (x, y) = generate(n, 42);
    let (xt, yt) = generate(n_test, 43);
    eprintln!(
        "generated {n} × {N_FEATURES} in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, xx, yy) in [("train", &x, &y), ("test", &xt, &yt)] {
        let p = dir.join(format!("trees_{n}_{name}.csv"));
        if !p.exists() {
            let tmp = p.with_extension("csv.tmp");
            write_csv(&tmp, xx, yy).unwrap();
            std::fs::rename(&tmp, &p).unwrap();
            eprintln!("wrote {}", p.display());
        }
    }
    println!(
        "data: {n} train / {n_test} test rows × {N_FEATURES} features; rayon threads {}",
        rayon::current_num_threads()
    );

    // Regression tree, depth 8 (min_samples_leaf 1 as scikit-learn's DecisionTreeRegressor).
    let (t, c) = (Instant::now(), cpu_seconds());
    let tree = RegressionTree::params()
        .max_depth(8)
        .min_samples_leaf(1)
        .fit(x.view(), y.view())
        .unwrap();
    let fit_tree = t.elapsed().as_secs_f64();
    let cpu_tree = cpu_seconds() - c;
    let t = Instant::now();
    let p = tree.predict(xt.view());
    let pred_tree = t.elapsed().as_secs_f64();
    println!(
        "tree depth 8:        fit {fit_tree:.3} s (cpu {cpu_tree:.2} s), predict {:.2e} rows/s, test R² {:.4}, leaves {}",
        n_test as f64 / pred_tree,
        r2(yt.as_slice().unwrap(), p.as_slice().unwrap()),
        tree.n_leaves()
    );

    // Boosting: scikit-learn HGB defaults (max_leaves 31, no depth limit, min_samples_leaf 20,
    // 255 bins, lr 0.1), 200 iterations, early stopping off.
    let (t, c) = (Instant::now(), cpu_seconds());
    let gb = GradientBoosting::params()
        .n_iterations(iters)
        .max_leaves(Some(31))
        .max_depth(None)
        .early_stopping(false)
        .fit(x.view(), y.view())
        .unwrap();
    let fit_gb = t.elapsed().as_secs_f64();
    let cpu_gb = cpu_seconds() - c;
    let t = Instant::now();
    let p = gb.predict(xt.view());
    let pred_gb = t.elapsed().as_secs_f64();
    println!(
        "boosting {iters} × 31 leaves: fit {fit_gb:.3} s (cpu {cpu_gb:.2} s), predict {:.2e} rows/s, test R² {:.4}, trees {}",
        n_test as f64 / pred_gb,
        r2(yt.as_slice().unwrap(), p.as_slice().unwrap()),
        gb.n_trees()
    );
}
