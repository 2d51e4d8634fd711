//! The BG/NBD purchase-count model (Fader, Hardie & Lee 2005, "Counting your customers the easy
//! way: an alternative to the Pareto/NBD model", Marketing Science 24(2)): fitting by maximum
//! likelihood, and the per-customer predictions `P(alive)` and expected future purchases.
//!
//! Inputs follow the BTYD conventions of the Python package `lifetimes`, one [`BtydSummary`] per
//! customer. The time unit (days, weeks, …) is the caller's choice; it must be the same for all
//! customers and for the horizon `t` given to the predictions, and the fitted `alpha` is in it.
//!
//! ```
//! use ltv::models::bgnbd::{BgNbd, BtydSummary};
//! let truth = BgNbd::from_parameters(0.25, 4.0, 0.8, 2.5).unwrap();
//! let ages_weeks = vec![39.0; 2000];
//! let data = truth.simulate(&ages_weeks, 7);
//! let model = BgNbd::params().fit(&data).unwrap();
//! let in_a_year = model.expected_purchases(52.0, 2.0, 30.0, 39.0).unwrap();
//! assert!(in_a_year > 0.0 && model.p_alive(2.0, 30.0, 39.0) <= 1.0);
//! ```
use crate::models::optimize::{self, Settings};
use crate::models::special::{digamma, hyp2f1, ln_gamma};
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp, Gamma};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// One customer's purchase history in BTYD form, all times in one caller-chosen unit (the tests
/// and the CDNOW data use weeks).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BtydSummary {
    /// `x`: number of repeat purchases (purchases after the first; a non-negative integer).
    pub frequency: f64,
    /// `t_x`: time from the first to the last purchase (0 when `frequency` is 0).
    pub recency: f64,
    /// `T`: time from the first purchase to the end of the observation period (the cutoff).
    pub age: f64,
}

/// Hyper-parameters of a BG/NBD fit; build with [`BgNbd::params`].
///
/// Defaults: `penalizer = 0`, `max_iterations = 1000`, `tolerance = 1e-8`, initial values as
/// in `lifetimes` (every parameter `e^0.1` with time rescaled so that the largest age is 1).
#[derive(Debug, Clone, PartialEq)]
pub struct BgNbdParams {
    penalizer: f64,
    max_iterations: usize,
    tolerance: f64,
    initial: Option<[f64; 4]>,
}

impl Default for BgNbdParams {
    fn default() -> Self {
        Self {
            penalizer: 0.0,
            max_iterations: 1000,
            tolerance: 1e-8,
            initial: None,
        }
    }
}

/// A fitted BG/NBD model. `alpha` is in the caller's time unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    /// Shape of the Gamma distribution of purchase rates `λ`.
    pub r: f64,
    /// Rate (inverse scale) of the Gamma distribution of `λ`, in the caller's time unit.
    pub alpha: f64,
    /// First shape of the Beta distribution of the drop-out probability `p`.
    pub a: f64,
    /// Second shape of the Beta distribution of `p`.
    pub b: f64,
    /// Total log-likelihood of the training data at the fitted parameters (sum over customers,
    /// without the penalty; in the caller's time unit).
    pub log_likelihood: f64,
    /// L-BFGS iterations on the full data (after the warm start that inputs with more than
    /// 100,000 unique rows get; 0 for [`BgNbd::from_parameters`]).
    pub iterations: usize,
    /// Whether the optimiser met its gradient tolerance (always true for a returned fit).
    pub converged: bool,
    /// Number of customers fitted on.
    pub n_customers: usize,
}

impl BgNbdParams {
    /// L2 penalty coefficient, `lifetimes`' `penalizer_coef`: the objective is the negative mean
    /// log-likelihood plus `penalizer · (r² + α'² + a² + b²)`, where `α'` is `alpha` with time
    /// rescaled so that the largest age is 1 (exactly as `lifetimes` does). Default 0.
    pub fn penalizer(mut self, penalizer: f64) -> Self {
        self.penalizer = penalizer;
        self
    }

    /// Maximum number of L-BFGS iterations. Default 1000.
    pub fn max_iterations(mut self, max_iterations: usize) -> Self {
        self.max_iterations = max_iterations;
        self
    }

    /// Convergence tolerance on the largest gradient component of the penalised negative mean
    /// log-likelihood with respect to the log-parameters. Default 1e-8.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Starting values `(r, alpha, a, b)`, `alpha` in the caller's time unit. Default: as
    /// `lifetimes` (see [`BgNbdParams`]).
    pub fn initial(mut self, r: f64, alpha: f64, a: f64, b: f64) -> Self {
        self.initial = Some([r, alpha, a, b]);
        self
    }

    /// Validate the hyper-parameters; the error names the bad one.
    pub fn check(&self) -> Result<()> {
        use super::param_check::{at_least, finite_above, finite_at_least, require};
        finite_at_least("penalizer", self.penalizer, 0.0)?;
        at_least("max_iterations", self.max_iterations, 1)?;
        finite_above("tolerance", self.tolerance, 0.0)?;
        for (name, v) in ["r", "alpha", "a", "b"]
            .into_iter()
            .zip(self.initial.iter().flatten())
        {
            let ok = v.is_finite() && *v > 0.0;
            require(ok, name, v, "an initial value must be finite and > 0")?;
        }
        Ok(())
    }

    /// Fit by maximum likelihood over `(ln r, ln α, ln a, ln b)`. Identical rows are collapsed
    /// into one with a count first, so repeated summaries cost nothing extra.
    ///
    /// Errors: [`Error::InvalidParameter`] for bad hyper-parameters or a summary that is not a
    /// valid BTYD row (negative or non-integer frequency, recency outside `[0, age]`, …);
    /// [`Error::NotEnoughData`] for an empty input; [`Error::NotConverged`] if L-BFGS does not
    /// meet the tolerance within `max_iterations` or the parameters run off to 0 or ∞ (the
    /// message suggests a penalizer).
    pub fn fit(&self, data: &[BtydSummary]) -> Result<BgNbd> {
        self.check()?;
        if data.is_empty() {
            return Err(Error::NotEnoughData(
                "BG/NBD needs at least one customer".into(),
            ));
        }
        let max_age = validate(data)?;
        // lifetimes' time scaling: the largest age becomes 1.
        let scale = if max_age > 0.0 { 1.0 / max_age } else { 1.0 };
        let agg = Aggregated::new(data, scale);
        let mut x0: Vec<f64> = match self.initial {
            Some([r, alpha, a, b]) => vec![r.ln(), (alpha * scale).ln(), a.ln(), b.ln()],
            None => vec![0.1; 4],
        };
        let penalizer = self.penalizer;
        let settings = Settings {
            max_iterations: self.max_iterations,
            gradient_tolerance: self.tolerance,
            memory: 10,
        };
        let mut h0: Option<Vec<f64>> = None;
        // Large inputs: warm start from a fit on an evenly strided subsample of the unique rows
        // (about WARM_START_ROWS of them) and its finite-difference inverse Hessian, which costs a
        // few percent of one full fit and makes the full-data steps Newton-like. The optimum is
        // the full-data one either way.
        if agg.rows.len() > 2 * WARM_START_ROWS {
            let sub = agg.strided(agg.rows.len() / WARM_START_ROWS);
            let loose = Settings {
                gradient_tolerance: self.tolerance.max(1e-6),
                ..settings
            };
            let warm = optimize::minimize(
                |t: &[f64], g: &mut [f64]| sub.objective(t, penalizer, g),
                &x0,
                loose,
            );
            if warm.x.iter().all(|v| v.is_finite() && v.abs() < 25.0) {
                x0 = warm.x;
                h0 = inverse_hessian(&sub, &x0, penalizer);
            }
        }
        let objective = |theta: &[f64], grad: &mut [f64]| agg.objective(theta, penalizer, grad);
        let out = optimize::minimize_with_inverse_hessian(objective, &x0, h0.as_deref(), settings);
        let params: Vec<f64> = out.x.iter().map(|v| v.exp()).collect();
        let finite = params
            .iter()
            .all(|p| p.is_finite() && *p > 0.0 && *p < 1e12);
        if !out.converged || !finite {
            return Err(Error::NotConverged {
                model: "BG/NBD".into(),
                iterations: out.iterations,
                detail: format!(
                    "{}; last r = {:.6}, alpha = {:.6}, a = {:.6}, b = {:.6}, max |gradient| = {:.3e}; \
                     hint: pass `--penalizer 0.001` (or larger) to `ltv train`, or choose another --model; BG/NBD needs enough repeat buyers",
                    out.message,
                    params[0],
                    params[1] / scale,
                    params[2],
                    params[3],
                    out.gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()))
                ),
            });
        }
        // Total unpenalised log-likelihood in the caller's unit: ll = ll_scaled + x ln(scale).
        let mut g = [0.0; 4];
        let mean_nll = agg.objective(&out.x, 0.0, &mut g);
        let log_likelihood = -mean_nll * agg.total_weight + agg.sum_wx * scale.ln();
        Ok(BgNbd {
            r: params[0],
            alpha: params[1] / scale,
            a: params[2],
            b: params[3],
            log_likelihood,
            iterations: out.iterations,
            converged: true,
            n_customers: data.len(),
        })
    }
}

/// Inverse of the objective's Hessian at `theta` (central differences of the analytic
/// gradient), or `None` if it is not positive definite.
fn inverse_hessian(agg: &Aggregated, theta: &[f64], penalizer: f64) -> Option<Vec<f64>> {
    const N: usize = 4;
    let h = 1e-4;
    let mut hess = [[0.0f64; N]; N];
    for j in 0..N {
        let (mut up, mut dn) = ([0.0; N], [0.0; N]);
        up.copy_from_slice(theta);
        dn.copy_from_slice(theta);
        up[j] += h;
        dn[j] -= h;
        let (mut gu, mut gd) = ([0.0; N], [0.0; N]);
        agg.objective(&up, penalizer, &mut gu);
        agg.objective(&dn, penalizer, &mut gd);
        for i in 0..N {
            hess[i][j] = (gu[i] - gd[i]) / (2.0 * h);
        }
    }
    // Symmetrise, then Gauss-Jordan inversion with a positive-definiteness check on the pivots.
    let mut m = [[0.0f64; 2 * N]; N];
    for i in 0..N {
        for j in 0..N {
            m[i][j] = 0.5 * (hess[i][j] + hess[j][i]);
        }
        m[i][N + i] = 1.0;
    }
    for c in 0..N {
        let pivot = m[c][c];
        if !(pivot.is_finite() && pivot > 0.0) {
            return None;
        }
        for v in m[c].iter_mut() {
            *v /= pivot;
        }
        for r in 0..N {
            if r != c {
                let factor = m[r][c];
                let row_c = m[c];
                for (v, pc) in m[r].iter_mut().zip(row_c) {
                    *v -= factor * pc;
                }
            }
        }
    }
    let inv: Vec<f64> = (0..N)
        .flat_map(|i| (0..N).map(move |j| (i, j)))
        .map(|(i, j)| m[i][N + j])
        .collect();
    inv.iter().all(|v| v.is_finite()).then_some(inv)
}

fn invalid(name: &'static str, value: f64, reason: &str) -> Error {
    Error::InvalidParameter {
        name,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// Check every summary; returns the largest age.
fn validate(data: &[BtydSummary]) -> Result<f64> {
    let mut max_age = 0.0f64;
    for (i, s) in data.iter().enumerate() {
        let bad = |name: &'static str, value: f64, why: &str| Error::InvalidParameter {
            name,
            value: value.to_string(),
            reason: format!("customer #{i}: {why}"),
        };
        if !(s.frequency.is_finite() && s.frequency >= 0.0 && s.frequency.fract() == 0.0) {
            return Err(bad(
                "frequency",
                s.frequency,
                "must be a non-negative integer",
            ));
        }
        if !(s.age.is_finite() && s.age >= 0.0) {
            return Err(bad("age", s.age, "must be finite and >= 0"));
        }
        if s.frequency > 0.0 && !(s.recency.is_finite() && s.recency >= 0.0 && s.recency <= s.age) {
            return Err(bad("recency", s.recency, "must lie in [0, age]"));
        }
        max_age = max_age.max(s.age);
    }
    Ok(max_age)
}

/// Rows collapsed to unique `(x, t_x, T)` with counts, grouped by `x`, in rescaled time.
struct Aggregated {
    /// Distinct frequencies, ascending, and their total weight.
    xs: Vec<(f64, f64)>,
    /// Per unique row: index into `xs`, scaled recency, scaled age, weight.
    rows: Vec<(u32, f64, f64, f64)>,
    total_weight: f64,
    sum_wx: f64,
}

/// Size of the subsample a large fit is warm-started from (see [`BgNbdParams::fit`]).
const WARM_START_ROWS: usize = 50_000;

/// Rows per parallel chunk; fixed so that the summation order never depends on threads.
const CHUNK: usize = 4096;

impl Aggregated {
    fn new(data: &[BtydSummary], scale: f64) -> Self {
        // Hash-collapse identical rows, in order of first appearance (deterministic, O(n)).
        let mut index: FxHashMap<(u64, u64, u64), u32> = FxHashMap::default();
        let mut group_of: FxHashMap<u64, u32> = FxHashMap::default();
        let mut xs: Vec<(f64, f64)> = Vec::new();
        let mut rows: Vec<(u32, f64, f64, f64)> = Vec::new();
        for s in data {
            let x = s.frequency;
            // Recency is unused when x = 0: normalise it so such rows collapse.
            let t_x = if x > 0.0 { s.recency + 0.0 } else { 0.0 };
            let key = (x as u64, t_x.to_bits(), (s.age + 0.0).to_bits());
            let gi = *group_of.entry(key.0).or_insert_with(|| {
                xs.push((x, 0.0));
                (xs.len() - 1) as u32
            });
            xs[gi as usize].1 += 1.0;
            match index.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => rows[*e.get() as usize].3 += 1.0,
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(rows.len() as u32);
                    rows.push((gi, t_x * scale, s.age * scale, 1.0));
                }
            }
        }
        let total_weight = data.len() as f64;
        let sum_wx = xs.iter().map(|(x, w)| x * w).sum();
        Self {
            xs,
            rows,
            total_weight,
            sum_wx,
        }
    }

    /// Every `step`-th unique row (with its count), for a warm start.
    fn strided(&self, step: usize) -> Self {
        let step = step.max(1);
        let rows: Vec<(u32, f64, f64, f64)> = self.rows.iter().step_by(step).copied().collect();
        let mut xs: Vec<(f64, f64)> = self.xs.iter().map(|&(x, _)| (x, 0.0)).collect();
        for &(gi, _, _, w) in &rows {
            xs[gi as usize].1 += w;
        }
        let total_weight = xs.iter().map(|(_, w)| w).sum();
        let sum_wx = xs.iter().map(|(x, w)| x * w).sum();
        Self {
            xs,
            rows,
            total_weight,
            sum_wx,
        }
    }

    /// Penalised negative mean log-likelihood at log-parameters `theta` and its gradient.
    fn objective(&self, theta: &[f64], penalizer: f64, grad: &mut [f64]) -> f64 {
        let (r, alpha, a, b) = (
            theta[0].exp(),
            theta[1].exp(),
            theta[2].exp(),
            theta[3].exp(),
        );
        let ln_alpha = alpha.ln();
        // Per distinct x: the A1 + A2 terms (and their gradients) and row constants.
        let mut sum = 0.0;
        let mut g = [0.0f64; 4];
        let lg_r = ln_gamma(r);
        let lg_b = ln_gamma(b);
        let lg_ab = ln_gamma(a + b);
        let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
        // (r + x, ln a − ln(b + x − 1) or −∞ for x = 0, 1/(b + x − 1))
        let table: Vec<(f64, f64, f64)> = self
            .xs
            .iter()
            .map(|&(x, w)| {
                let a12 = ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(b + x)
                    - lg_b
                    - ln_gamma(a + b + x);
                sum += w * a12;
                g[0] += w * r * (digamma(r + x) - dg_r + ln_alpha);
                g[1] += w * r; // ∂/∂ln α of r ln α
                let dg_abx = digamma(a + b + x);
                g[2] += w * a * (dg_ab - dg_abx);
                g[3] += w * b * (dg_ab + digamma(b + x) - dg_b - dg_abx);
                if x > 0.0 {
                    (r + x, a.ln() - (b + x - 1.0).ln(), 1.0 / (b + x - 1.0))
                } else {
                    (r, f64::NEG_INFINITY, 0.0)
                }
            })
            .collect();
        let parts: Vec<[f64; 5]> = self
            .rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut acc = [0.0f64; 5];
                for &(gi, t_x, age, w) in chunk {
                    let (rx, c4, inv_bx1) = table[gi as usize];
                    let l3 = (alpha + age).ln();
                    let a3 = -rx * l3;
                    if c4 == f64::NEG_INFINITY {
                        acc[0] += w * a3;
                        acc[1] -= w * l3;
                        acc[2] -= w * rx / (alpha + age);
                        continue;
                    }
                    let l4 = (alpha + t_x).ln();
                    let a4 = c4 - rx * l4;
                    // ll = ln(e^A3 + e^A4) = hi + ln(1 + e^(lo − hi)); w4 = e^(A4 − ll) is the
                    // posterior weight of the "dropped out at t_x" branch (one exp per row).
                    let (hi, lo) = if a3 > a4 { (a3, a4) } else { (a4, a3) };
                    let e = (lo - hi).exp();
                    let ll = hi + e.ln_1p();
                    let w4 = if a4 >= a3 {
                        1.0 / (1.0 + e)
                    } else {
                        e / (1.0 + e)
                    };
                    let w3 = 1.0 - w4;
                    acc[0] += w * ll;
                    acc[1] -= w * (w3 * l3 + w4 * l4);
                    acc[2] -= w * rx * (w3 / (alpha + age) + w4 / (alpha + t_x));
                    acc[3] += w * w4;
                    acc[4] -= w * w4 * inv_bx1;
                }
                acc
            })
            .collect();
        let mut row = [0.0f64; 5];
        for p in parts {
            for (s, v) in row.iter_mut().zip(p) {
                *s += v;
            }
        }
        sum += row[0];
        g[0] += r * row[1];
        g[1] += alpha * row[2];
        g[2] += row[3]; // a · (1/a)
        g[3] += b * row[4];
        let n = self.total_weight;
        let params = [r, alpha, a, b];
        let penalty: f64 = params.iter().map(|p| p * p).sum::<f64>() * penalizer;
        for j in 0..4 {
            grad[j] = -g[j] / n + 2.0 * penalizer * params[j] * params[j];
        }
        -sum / n + penalty
    }
}

impl BgNbd {
    /// Hyper-parameters with their defaults (see [`BgNbdParams`]).
    pub fn params() -> BgNbdParams {
        BgNbdParams::default()
    }

    /// A model with given parameters (for simulation or a model read elsewhere); all must be
    /// finite and positive.
    pub fn from_parameters(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        for (name, v) in [("r", r), ("alpha", alpha), ("a", a), ("b", b)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(name, v, "must be finite and > 0"));
            }
        }
        Ok(Self {
            r,
            alpha,
            a,
            b,
            log_likelihood: f64::NAN,
            iterations: 0,
            converged: true,
            n_customers: 0,
        })
    }

    /// Probability that a customer with history `(x, t_x, T)` is still active at `T`:
    /// `1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))`; 1 for `x = 0`.
    pub fn p_alive(&self, x: f64, t_x: f64, age: f64) -> f64 {
        if x <= 0.0 {
            return 1.0;
        }
        let log_div = (self.r + x) * ((self.alpha + age) / (self.alpha + t_x)).ln()
            + (self.a / (self.b + x - 1.0)).ln();
        // Logistic of −log_div without overflow.
        if log_div > 0.0 {
            let e = (-log_div).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + log_div.exp())
        }
    }

    /// Expected number of purchases in the next `t` time units of a customer with history
    /// `(x, t_x, T)` (FHL 2005, eq. 10):
    /// `(a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] · P(alive)`.
    ///
    /// The bracket is evaluated in the overflow-free Pfaff form
    /// `1 − ₂F₁(r+x, a−1; a+b+x−1; −t/(α+T))`. Errors if `t < 0` or the hypergeometric series
    /// fails; undefined (NaN) at exactly `a = 1`.
    pub fn expected_purchases(&self, t: f64, x: f64, t_x: f64, age: f64) -> Result<f64> {
        if !(t.is_finite() && t >= 0.0) {
            return Err(invalid("t", t, "horizon must be finite and >= 0"));
        }
        if t == 0.0 {
            return Ok(0.0);
        }
        Ok(self.purchase_factor(t, x, age)? * self.p_alive(x, t_x, age))
    }

    /// The part of [`BgNbd::expected_purchases`] before the factor `P(alive)`:
    /// `(a+b+x−1)/(a−1) · (1 − ₂F₁(r+x, a−1; a+b+x−1; −t/(α+T)))`. It does not depend on
    /// `t_x`, so customers with the same `(x, T)` share it; `expected_purchases` is bitwise
    /// `purchase_factor(t, x, T) · p_alive(x, t_x, T)` for `t > 0`.
    pub fn purchase_factor(&self, t: f64, x: f64, age: f64) -> Result<f64> {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let h = hyp2f1(r + x, a - 1.0, a + b + x - 1.0, -t / (alpha + age))?;
        let first = (a + b + x - 1.0) / (a - 1.0);
        Ok(first * (1.0 - h))
    }

    /// Expected purchases in the first `t` time units of a new customer, `E[X(t)]`
    /// (FHL 2005, eq. 9): `(a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))]`.
    pub fn expected_purchases_new_customer(&self, t: f64) -> Result<f64> {
        self.expected_purchases(t, 0.0, 0.0, 0.0)
    }

    /// [`BgNbd::expected_purchases`] for many customers (in parallel; output in input order).
    pub fn predict_expected_purchases(&self, t: f64, data: &[BtydSummary]) -> Result<Vec<f64>> {
        data.par_iter()
            .map(|s| self.expected_purchases(t, s.frequency, s.recency, s.age))
            .collect()
    }

    /// Simulate the BG/NBD process for customers of the given ages (first purchase at time 0):
    /// `λ ~ Gamma(r, rate α)`, `p ~ Beta(a, b)`, purchases at Poisson rate `λ`, and after each
    /// repeat purchase the customer drops out with probability `p` (the `lifetimes` generator).
    /// Deterministic for a seed.
    pub fn simulate(&self, ages: &[f64], seed: u64) -> Vec<BtydSummary> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (Ok(lambda_d), Ok(p_d)) = (
            Gamma::new(self.r, 1.0 / self.alpha),
            Beta::new(self.a, self.b),
        ) else {
            return Vec::new();
        };
        ages.iter()
            .map(|&age| {
                let lambda: f64 = lambda_d.sample(&mut rng);
                let p: f64 = p_d.sample(&mut rng);
                let mut now = 0.0;
                let mut x = 0.0;
                let mut last = 0.0;
                if let Ok(gap) = Exp::new(lambda) {
                    loop {
                        now += gap.sample(&mut rng);
                        if now >= age {
                            break;
                        }
                        x += 1.0;
                        last = now;
                        if rng.gen::<f64>() < p {
                            break;
                        }
                    }
                }
                BtydSummary {
                    frequency: x,
                    recency: last,
                    age,
                }
            })
            .collect()
    }
}

/// Read a BTYD summary CSV with a header (`lifetimes` layout: id, frequency, recency, T).
#[cfg(test)]
pub(crate) fn read_summary_csv(path: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|v| v.trim().parse::<f64>().unwrap())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{assert_abs_diff_eq, assert_relative_eq};
    use chrono::NaiveDate;
    use std::collections::BTreeMap;

    fn cdnow_path() -> String {
        crate::test_data::shared("cdnow/cdnow_customers_summary.csv")
    }
    fn grocery_path() -> String {
        crate::test_data::shared("grocery/groceryElog.csv")
    }

    fn cdnow() -> Vec<BtydSummary> {
        read_summary_csv(&cdnow_path())
            .into_iter()
            .map(|r| BtydSummary {
                frequency: r[1],
                recency: r[2],
                age: r[3],
            })
            .collect()
    }

    #[test]
    fn cdnow_reproduces_published_fit() {
        // Fader, Hardie & Lee (2005), table/section 5: r = 0.2426, α = 4.4135, a = 0.7929,
        // b = 2.4258, LL = −9582.4 (weeks). The rounded summary is enough for 3 decimals.
        let data = cdnow();
        assert_eq!(data.len(), 2357);
        let m = BgNbd::params().fit(&data).unwrap();
        eprintln!("cdnow: {m:?}");
        assert_abs_diff_eq!(m.r, 0.2426, epsilon = 1e-3);
        assert_abs_diff_eq!(m.alpha, 4.4135, epsilon = 1e-3);
        assert_abs_diff_eq!(m.a, 0.7929, epsilon = 1e-3);
        assert_abs_diff_eq!(m.b, 2.4258, epsilon = 1e-3);
        assert_abs_diff_eq!(m.log_likelihood, -9582.4, epsilon = 0.1);
        assert!(m.converged && m.iterations > 0);
        // lifetimes 0.11.3 BetaGeoFitter on the same file (run once in a venv) found
        // r = 0.24259, α = 4.41353, a = 0.79289, b = 2.42575: we agree to 1e-4.
        assert_abs_diff_eq!(m.r, 0.242_592_9, epsilon = 1e-4);
        assert_abs_diff_eq!(m.alpha, 4.413_532, epsilon = 1e-4);
        assert_abs_diff_eq!(m.a, 0.792_886, epsilon = 1e-4);
        assert_abs_diff_eq!(m.b, 2.425_752, epsilon = 1e-4);
    }

    #[test]
    fn penalizer_matches_lifetimes() {
        // lifetimes 0.11.3 BetaGeoFitter(penalizer_coef=0.01) on the CDNOW summary gave
        // r = 0.242940, α = 4.432437, a = 0.285642, b = 0.658454 (penalty on time-rescaled α).
        let m = BgNbd::params().penalizer(0.01).fit(&cdnow()).unwrap();
        assert_abs_diff_eq!(m.r, 0.242_940_3, epsilon = 1e-4);
        assert_abs_diff_eq!(m.alpha, 4.432_437, epsilon = 1e-3);
        assert_abs_diff_eq!(m.a, 0.285_641_5, epsilon = 1e-4);
        assert_abs_diff_eq!(m.b, 0.658_453_7, epsilon = 1e-4);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let data: Vec<BtydSummary> = cdnow().into_iter().take(600).collect();
        let max_age = data.iter().fold(0.0f64, |m, s| m.max(s.age));
        let agg = Aggregated::new(&data, 1.0 / max_age);
        let points = [
            [0.1, 0.1, 0.1, 0.1],
            [
                (0.24f64).ln(),
                (0.11f64).ln(),
                (0.79f64).ln(),
                (2.4f64).ln(),
            ],
            [1.2, -2.0, 0.5, -0.7],
            [-1.5, 0.8, -1.0, 1.5],
        ];
        for penalizer in [0.0, 0.3] {
            for theta in points {
                crate::models::optimize::assert_gradient_matches_finite_differences(
                    |t, g| agg.objective(t, penalizer, g),
                    &theta,
                );
            }
        }
    }

    #[test]
    fn recovers_simulated_parameters() {
        let truth = BgNbd::from_parameters(0.5, 6.0, 0.9, 3.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let ages: Vec<f64> = (0..20_000).map(|_| rng.gen_range(20.0..80.0)).collect();
        let data = truth.simulate(&ages, 42);
        let m = BgNbd::params().fit(&data).unwrap();
        eprintln!("recovery: {m:?}");
        assert_relative_eq!(m.r, 0.5, max_relative = 0.08);
        assert_relative_eq!(m.alpha, 6.0, max_relative = 0.10);
        assert_relative_eq!(m.a, 0.9, max_relative = 0.25);
        assert_relative_eq!(m.b, 3.0, max_relative = 0.30);
        // The simulation is deterministic for a seed.
        assert_eq!(data, truth.simulate(&ages, 42));
    }

    #[test]
    fn warm_start_reaches_the_same_optimum() {
        // 120k unique rows take the warm-start path; the optimum must match a fit started
        // from the true values with the warm start impossible (already there).
        let truth = BgNbd::from_parameters(0.3, 5.0, 0.7, 2.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let ages: Vec<f64> = (0..120_000).map(|_| rng.gen_range(5.0..60.0)).collect();
        let data = truth.simulate(&ages, 9);
        let agg = Aggregated::new(&data, 1.0);
        assert!(agg.rows.len() > 2 * WARM_START_ROWS);
        let warm = BgNbd::params().fit(&data).unwrap();
        let direct = BgNbd::params()
            .initial(0.3, 5.0, 0.7, 2.0)
            .fit(&data)
            .unwrap();
        assert_relative_eq!(warm.r, direct.r, max_relative = 1e-5);
        assert_relative_eq!(warm.alpha, direct.alpha, max_relative = 1e-5);
        assert_relative_eq!(warm.a, direct.a, max_relative = 1e-4);
        assert_relative_eq!(warm.b, direct.b, max_relative = 1e-4);
        assert_relative_eq!(
            warm.log_likelihood,
            direct.log_likelihood,
            max_relative = 1e-10
        );
    }

    #[test]
    fn fit_is_identical_for_any_thread_count() {
        let truth = BgNbd::from_parameters(0.3, 5.0, 0.7, 2.0).unwrap();
        let ages: Vec<f64> = (0..30_000).map(|i| 5.0 + (i % 50) as f64).collect();
        let data = truth.simulate(&ages, 4);
        let fit_with = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| BgNbd::params().fit(&data).unwrap())
        };
        let one = fit_with(1);
        assert_eq!(one, fit_with(2));
        assert_eq!(one, fit_with(3));
    }

    #[test]
    fn new_customer_expectation_matches_simulation() {
        // E[X(t)] for new customers against the mean count of 200k simulated customers of age t.
        let m = BgNbd::from_parameters(0.5, 6.0, 0.9, 3.0).unwrap();
        for t in [10.0, 52.0] {
            let sims = m.simulate(&vec![t; 200_000], 3);
            let mean = sims.iter().map(|s| s.frequency).sum::<f64>() / sims.len() as f64;
            let want = m.expected_purchases_new_customer(t).unwrap();
            assert_relative_eq!(mean, want, max_relative = 0.02);
        }
    }

    #[test]
    fn closed_forms_and_hand_worked_values() {
        let m = BgNbd::from_parameters(0.25, 4.0, 0.8, 2.5).unwrap();
        // x = 0: P(alive) = 1 by construction.
        assert_eq!(m.p_alive(0.0, 0.0, 30.0), 1.0);
        // Hand-worked: x = 2, t_x = 6, T = 10 → a/(b+x−1) = 0.8/3.5,
        // ((α+T)/(α+t_x))^(r+x) = (14/10)^2.25 = 2.1320…; P = 1/(1 + 0.228571·2.132004) = 0.672355.
        let ratio = (14.0f64 / 10.0).powf(2.25);
        assert_abs_diff_eq!(ratio, 2.132_0, epsilon = 1e-4);
        assert_abs_diff_eq!(
            m.p_alive(2.0, 6.0, 10.0),
            1.0 / (1.0 + 0.8 / 3.5 * ratio),
            epsilon = 1e-15
        );
        assert_abs_diff_eq!(m.p_alive(2.0, 6.0, 10.0), 0.672_355, epsilon = 1e-5);
        // Small-t slope: d/dt E[X(t)] at t = 0 is the mean purchase rate of customers still
        // alive, r/α for a new customer (E[λ] of the Gamma prior).
        let h = 1e-6;
        let slope = m.expected_purchases_new_customer(h).unwrap() / h;
        assert_relative_eq!(slope, 0.25 / 4.0, max_relative = 1e-4);
        // Same for an existing customer: slope = P(alive) · (r+x)/(α+T).
        let slope = m.expected_purchases(h, 2.0, 6.0, 10.0).unwrap() / h;
        assert_relative_eq!(
            slope,
            m.p_alive(2.0, 6.0, 10.0) * 2.25 / 14.0,
            max_relative = 1e-4
        );
        // Longer horizons expect more purchases.
        let e1 = m.expected_purchases(10.0, 2.0, 6.0, 10.0).unwrap();
        let e2 = m.expected_purchases(1000.0, 2.0, 6.0, 10.0).unwrap();
        assert!(e2 > e1 && e1 > 0.0);
        assert_eq!(m.expected_purchases(0.0, 2.0, 6.0, 10.0).unwrap(), 0.0);
        assert!(m.expected_purchases(-1.0, 2.0, 6.0, 10.0).is_err());
    }

    #[test]
    fn predictions_match_lifetimes_on_cdnow() {
        // lifetimes 0.11.3, BetaGeoFitter fitted on the CDNOW summary (params below, full
        // precision), conditional_probability_alive and
        // conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T),
        // expected_number_of_purchases_up_to_time(52 and 78). Computed once in a venv.
        let m = BgNbd::from_parameters(
            0.2425929282798217,
            4.413532265271817,
            0.7928859664406721,
            2.4257523826257996,
        )
        .unwrap();
        let cases = [
            (0.0, 0.0, 38.86, 1.0, 0.19478085793947952),
            (2.0, 30.43, 38.86, 0.7266091367990596, 1.2259104241744019),
            (1.0, 1.71, 38.86, 0.2122273880722091, 0.20325062425618848),
            (7.0, 29.43, 35.0, 0.7790050593378166, 4.369395422562846),
            (20.0, 35.0, 36.0, 0.9421047850293937, 14.097618483797598),
        ];
        for (x, t_x, age, p, e) in cases {
            assert_relative_eq!(m.p_alive(x, t_x, age), p, max_relative = 1e-10);
            assert_relative_eq!(
                m.expected_purchases(39.0, x, t_x, age).unwrap(),
                e,
                max_relative = 1e-9
            );
        }
        assert_relative_eq!(
            m.expected_purchases_new_customer(52.0).unwrap(),
            1.4440207698690732,
            max_relative = 1e-9
        );
        assert_relative_eq!(
            m.expected_purchases_new_customer(78.0).unwrap(),
            1.8579717035277485,
            max_relative = 1e-9
        );
        let batch = m.predict_expected_purchases(39.0, &cdnow()[..3]).unwrap();
        assert_eq!(batch.len(), 3);
    }

    /// Calibration summaries (weeks) from a purchase-day log: x = distinct purchase days − 1,
    /// t_x and T in days / 7, only days on or before `cutoff`.
    fn summaries_from_days(
        days: &BTreeMap<String, Vec<NaiveDate>>,
        cutoff: NaiveDate,
    ) -> Vec<BtydSummary> {
        days.values()
            .filter_map(|d| {
                let mut d: Vec<NaiveDate> = d.iter().copied().filter(|x| *x <= cutoff).collect();
                d.sort();
                d.dedup();
                let first = *d.first()?;
                let last = *d.last()?;
                Some(BtydSummary {
                    frequency: (d.len() - 1) as f64,
                    recency: (last - first).num_days() as f64 / 7.0,
                    age: (cutoff - first).num_days() as f64 / 7.0,
                })
            })
            .collect()
    }

    #[test]
    fn grocery_calibration_fit() {
        let text = std::fs::read_to_string(grocery_path()).unwrap();
        let mut days: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
        for line in text.lines().skip(1) {
            let (cust, date) = line.split_once(',').unwrap();
            let date = NaiveDate::parse_from_str(date.trim_matches('"'), "%Y-%m-%d").unwrap();
            days.entry(cust.trim_matches('"').to_string())
                .or_default()
                .push(date);
        }
        let cutoff = NaiveDate::from_ymd_opt(2006, 12, 31).unwrap();
        let data = summaries_from_days(&days, cutoff);
        assert_eq!(data.len(), 1525);
        assert_eq!(data.iter().map(|s| s.frequency).sum::<f64>(), 5569.0);
        let m = BgNbd::params().fit(&data).unwrap();
        eprintln!("grocery: {m:?}");
        // lifetimes 0.11.3 on the same summaries: r = 0.348646, α = 2.581672, a = 0.503845,
        // b = 3.644386 (weeks).
        assert_abs_diff_eq!(m.r, 0.348_646, epsilon = 1e-3);
        assert_abs_diff_eq!(m.alpha, 2.581_672, epsilon = 1e-2);
        assert_abs_diff_eq!(m.a, 0.503_845, epsilon = 1e-3);
        assert_abs_diff_eq!(m.b, 3.644_386, epsilon = 1e-2);
        assert!(m.log_likelihood.is_finite() && m.log_likelihood < 0.0);
    }

    #[test]
    fn collapsing_rows_does_not_change_the_fit() {
        let data = cdnow();
        let doubled: Vec<BtydSummary> = data.iter().chain(data.iter()).copied().collect();
        let m1 = BgNbd::params().fit(&data).unwrap();
        let m2 = BgNbd::params().fit(&doubled).unwrap();
        assert_relative_eq!(m1.r, m2.r, max_relative = 1e-6);
        assert_relative_eq!(m1.b, m2.b, max_relative = 1e-5);
        assert_relative_eq!(
            2.0 * m1.log_likelihood,
            m2.log_likelihood,
            max_relative = 1e-9
        );
    }

    #[test]
    fn serde_round_trip_and_errors() {
        let m = BgNbd::params().fit(&cdnow()).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        for key in ["\"r\"", "\"alpha\"", "\"a\"", "\"b\"", "\"log_likelihood\""] {
            assert!(json.contains(key));
        }
        let back: BgNbd = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert!(BgNbd::params().penalizer(-1.0).check().is_err());
        assert!(BgNbd::params().tolerance(0.0).check().is_err());
        assert!(BgNbd::params().fit(&[]).is_err());
        let bad = [BtydSummary {
            frequency: 1.5,
            recency: 1.0,
            age: 2.0,
        }];
        assert!(BgNbd::params().fit(&bad).is_err());
        let bad = [BtydSummary {
            frequency: 1.0,
            recency: 3.0,
            age: 2.0,
        }];
        assert!(BgNbd::params().fit(&bad).is_err());
        // Far too few iterations: a clear NotConverged error.
        let err = BgNbd::params().max_iterations(2).fit(&cdnow()).unwrap_err();
        assert!(matches!(err, Error::NotConverged { .. }), "{err}");
    }

    /// Regression (issue 12, item 14): non-convergence on the user's data is a user-level
    /// error (exit 1, not "internal error" 2) whose hint names a flag `ltv train` really has.
    #[test]
    fn bgnbd_non_convergence_is_a_user_error_with_a_working_hint() {
        let err = BgNbd::params().max_iterations(2).fit(&cdnow()).unwrap_err();
        assert!(!err.is_internal(), "{err}");
        let text = err.to_string();
        assert!(text.contains("`--penalizer 0.001`"), "{text}");
        assert!(!text.contains("more iterations"), "{text}");
        let train_args = include_str!("../bin/ltv/commands/train.rs");
        assert!(
            train_args.contains("    penalizer: f64,"),
            "ltv train has --penalizer"
        );
    }
}
