//! Fit-time benchmark of the regression models and the churn classifier on synthetic data.
//!
//! Run: `cargo bench --bench regress_fit` (plain main, no harness). Data: 200 000 rows × 10
//! features, x ~ U(−1, 1), seeded ChaCha8; Tweedie labels compound Poisson–Gamma (p = 1.5).
//! Prints wall-clock seconds of one fit each (best of 3).
//!
//! Measured 2026-11-24, rustc 1.95.0, 2-core Intel Xeon VM shared with other builds, release:
//! linear (log target) 0.316 s, Tweedie p = 1.5 IRLS 0.517 s, churn tree depth 6 0.714 s.
use std::time::Instant;

use ltv::models::{churn::ChurnClassifier, linear::LinearModel, tweedie::TweedieModel};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};

fn best_of_3(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let (n, k) = (200_000, 10);
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let x = Array2::from_shape_fn((n, k), |_| rng.gen_range(-1.0..1.0));
    let beta: Vec<f64> = (0..k).map(|j| 0.3 - 0.06 * j as f64).collect();
    let mut y = Array1::zeros(n);
    let mut bought = Array1::from_elem(n, false);
    for i in 0..n {
        let eta: f64 = 0.5 + (0..k).map(|j| beta[j] * x[(i, j)]).sum::<f64>();
        let mu = eta.exp();
        // compound Poisson–Gamma, p = 1.5, φ = 1: λ = 2 sqrt(μ), shape 1, scale 0.5 sqrt(μ)
        let count = Poisson::new(2.0 * mu.sqrt()).unwrap().sample(&mut rng) as usize;
        let g = Gamma::new(1.0, 0.5 * mu.sqrt()).unwrap();
        y[i] = (0..count).map(|_| g.sample(&mut rng)).sum::<f64>();
        bought[i] = x[(i, 0)] > 0.0;
    }
    let linear = best_of_3(|| {
        LinearModel::params()
            .log_target(true)
            .fit(x.view(), y.view())
            .unwrap();
    });
    let tweedie = best_of_3(|| {
        TweedieModel::params()
            .power(1.5)
            .fit(x.view(), y.view())
            .unwrap();
    });
    let churn = best_of_3(|| {
        ChurnClassifier::params()
            .max_depth(Some(6))
            .fit(x.view(), bought.view())
            .unwrap();
    });
    println!("rows {n} features {k}");
    println!("linear (log target) fit  {linear:.3} s");
    println!("tweedie p=1.5 IRLS fit   {tweedie:.3} s");
    println!("churn tree depth 6 fit   {churn:.3} s");
}
