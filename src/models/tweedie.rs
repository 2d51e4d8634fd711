//! Tweedie generalised linear model with log link, fitted by our own IRLS (iteratively
//! reweighted least squares). Power `p ∈ [1, 2]`: `1` = Poisson, `2` = Gamma, in between the
//! compound Poisson–Gamma distribution that fits spend (a point mass at zero plus a continuous
//! positive part).
//!
//! linfa-linear's `TweedieRegressor` with the log link hangs (see `design.md`), hence this module.
//!
//! # Model and objective
//! `μ = exp(b₀ + Σ_j β_j x_j)`, `Var(y) ∝ μ^p`. The fit minimises, as scikit-learn's
//! `TweedieRegressor` does,
//! `(1 / 2n) Σ_i d_p(y_i, μ_i) + (alpha / 2) Σ_j β̃_j²`
//! with the unit deviance
//! - `p = 1`: `d = 2 (y ln(y/μ) − y + μ)` (with `0 · ln 0 = 0`),
//! - `p = 2`: `d = 2 (ln(μ/y) + y/μ − 1)` (needs `y > 0`),
//! - otherwise `d = 2 (y^(2−p) / ((1−p)(2−p)) − y μ^(1−p) / (1−p) + μ^(2−p) / (2−p))`.
//!
//! `β̃` are the slopes on standardized features (`standardize = true`, the default) or the raw
//! slopes (`standardize = false`, which matches scikit-learn's `alpha`). The intercept is never
//! penalised.
//!
//! # Algorithm
//! Features are centred and scaled by their training standard deviation internally (for
//! conditioning; the scaler is folded back into raw-scale coefficients). Constant columns are
//! dropped (coefficient `0`). Starting from `b₀ = ln(mean y)`, slopes `0`, each iteration is a
//! Newton step in IRLS form: working weights `w = (p−1) y μ^(1−p) + (2−p) μ^(2−p)` (the
//! deviance's curvature in `η`; Fisher scoring's `μ^(2−p)` converges only linearly for `p > 1`),
//! working response `z = η − (μ^(2−p) − y μ^(1−p)) / w`, and the weighted normal equations `(ZᵀWZ/n + alpha·P) b = ZᵀWz/n` are solved by a Cholesky
//! factorisation written here (plain ndarray, no LAPACK) with a tiny ridge of `1e-12 × mean
//! diagonal` for numerical safety. If the objective does not decrease the step is halved (up to
//! 40 times). The fit stops when the largest component of the full Newton step (on the
//! standardized scale) is below `tol`, or when the objective no longer decreases measurably
//! (by more than 4 ulps) and that step is below `sqrt(tol)` (the objective is flat to rounding
//! there); it returns [`Error::NotConverged`] with the reason after `max_iter` iterations, when
//! step-halving cannot decrease the objective, or when the objective becomes non-finite.
//! All sums run in row order, so the fit is bit-for-bit deterministic.
//!
//! # Labels
//! Negative labels (net refunds) are clipped at `0` before fitting, since Tweedie outcomes are
//! non-negative; the fitted model records how many were clipped
//! ([`FittedTweedie::n_clipped_labels`]). With `p = 2` every label must be positive.
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::models::linear::{check_training_data, ColumnScaling};
use crate::{Error, Result};

/// Tweedie GLM with log link; start with [`TweedieModel::params`].
#[derive(Debug, Clone, Copy)]
pub struct TweedieModel;

impl TweedieModel {
    /// Hyper-parameters with defaults: `power = 1.5`, `alpha = 0`, `fit_intercept = true`,
    /// `standardize = true`, `max_iter = 100`, `tol = 1e-8`.
    pub fn params() -> TweedieParams {
        TweedieParams {
            power: 1.5,
            alpha: 0.0,
            fit_intercept: true,
            standardize: true,
            max_iter: 100,
            tol: 1e-8,
        }
    }
}

/// Hyper-parameters of [`TweedieModel`] (a consuming builder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TweedieParams {
    power: f64,
    alpha: f64,
    fit_intercept: bool,
    standardize: bool,
    max_iter: usize,
    tol: f64,
}

impl TweedieParams {
    /// Tweedie power `p ∈ [1, 2]`: 1 Poisson, 2 Gamma, between them compound Poisson–Gamma.
    /// Default `1.5`.
    pub fn power(mut self, power: f64) -> Self {
        self.power = power;
        self
    }

    /// L2 penalty `alpha ≥ 0` (see the module docs for the objective). Default `0`.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Fit an intercept. Default `true`.
    pub fn fit_intercept(mut self, fit_intercept: bool) -> Self {
        self.fit_intercept = fit_intercept;
        self
    }

    /// Penalise standardized slopes (`true`) or raw-scale slopes (`false`, as scikit-learn).
    /// Unpenalised fits do not depend on it. Default `true`.
    pub fn standardize(mut self, standardize: bool) -> Self {
        self.standardize = standardize;
        self
    }

    /// Maximum IRLS iterations, `≥ 1`. Default `100`.
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Convergence tolerance on the largest standardized-coefficient change, `> 0`.
    /// Default `1e-8`.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Validates the hyper-parameters, naming the bad value.
    pub fn check(&self) -> Result<()> {
        use super::param_check::{at_least, finite_above, finite_at_least, require};
        let power = (1.0..=2.0).contains(&self.power);
        require(power, "power", self.power, "must be in [1, 2]")?;
        finite_at_least("alpha", self.alpha, 0.0)?;
        at_least("max_iter", self.max_iter, 1)?;
        finite_above("tol", self.tol, 0.0)
    }

    /// Fits the GLM on features `x` (rows = customers) and labels `y` (negative labels clipped
    /// at 0).
    ///
    /// Errors: [`Error::InvalidParameter`] for bad hyper-parameters, shape mismatch, non-finite
    /// inputs or non-positive labels with `power = 2`; [`Error::NotEnoughData`] for fewer than
    /// 2 rows or all-zero labels; [`Error::NotConverged`] (with the reason) if IRLS fails.
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedTweedie> {
        self.check()?;
        check_training_data(x, y)?;
        let n = x.nrows();
        let n_clipped_labels = y.iter().filter(|&&v| v < 0.0).count();
        let y = y.mapv(|v| v.max(0.0));
        if self.power == 2.0 {
            let non_positive = y.iter().filter(|&&v| v <= 0.0).count();
            if non_positive > 0 {
                return Err(Error::InvalidParameter {
                    name: "power",
                    value: "2".into(),
                    reason: format!(
                        "the Gamma deviance needs positive labels; {non_positive} labels are ≤ 0 \
                         (after clipping refunds at 0)"
                    ),
                });
            }
        }
        let y_mean = y.sum() / n as f64;
        if y_mean <= 0.0 {
            return Err(Error::NotEnoughData(
                "every label is 0; a log-link model needs some positive labels".into(),
            ));
        }

        // internal design: [1 | standardized kept columns] (no centring without intercept)
        let mut scaling = ColumnScaling::fit(x);
        if !self.fit_intercept {
            scaling.mean.fill(0.0);
            // scale by root mean square instead of s.d. so that the scaling stays positive
            for j in 0..x.ncols() {
                let ms = x.column(j).iter().map(|v| v * v).sum::<f64>() / n as f64;
                scaling.sd[j] = if ms > 0.0 { ms.sqrt() } else { 0.0 };
            }
        }
        let kept = scaling.kept();
        let offset = usize::from(self.fit_intercept);
        let k = offset + kept.len();
        if k == 0 {
            return Err(Error::NotEnoughData(
                "no intercept and no non-constant feature to fit".into(),
            ));
        }
        let mut z = Array2::zeros((n, k));
        if self.fit_intercept {
            z.column_mut(0).fill(1.0);
        }
        let standardized = scaling.standardized(x, &kept);
        z.slice_mut(ndarray::s![.., offset..]).assign(&standardized);
        // penalty diagonal on the internal scale
        let mut penalty = Array1::zeros(k);
        for (c, &j) in kept.iter().enumerate() {
            let s = scaling.sd[j];
            penalty[offset + c] = if self.standardize {
                self.alpha
            } else {
                self.alpha / (s * s)
            };
        }

        let mut b = Array1::zeros(k);
        if self.fit_intercept {
            b[0] = y_mean.ln();
        }
        let irls = Irls {
            z: &z,
            y: &y,
            power: self.power,
            penalty: &penalty,
        };
        let (b, iterations, objective_path) = irls.run(b, self.max_iter, self.tol)?;

        let mut coefficients = Array1::zeros(x.ncols());
        for (c, &j) in kept.iter().enumerate() {
            coefficients[j] = b[offset + c] / scaling.sd[j];
        }
        let intercept = if self.fit_intercept {
            b[0] - scaling.mean.dot(&coefficients)
        } else {
            0.0
        };
        Ok(FittedTweedie {
            params: self.clone(),
            intercept,
            coefficients,
            iterations,
            objective_path,
            n_clipped_labels,
        })
    }
}

/// Unit deviance `d_p(y, μ)` for `p ∈ [1, 2]` (see module docs).
fn unit_deviance(y: f64, mu: f64, p: f64) -> f64 {
    if p == 1.0 {
        let ylog = if y > 0.0 { y * (y / mu).ln() } else { 0.0 };
        2.0 * (ylog - y + mu)
    } else if p == 2.0 {
        2.0 * ((mu / y).ln() + y / mu - 1.0)
    } else {
        let a = y.powf(2.0 - p) / ((1.0 - p) * (2.0 - p));
        let b = y * mu.powf(1.0 - p) / (1.0 - p);
        let c = mu.powf(2.0 - p) / (2.0 - p);
        2.0 * (a - b + c)
    }
}

/// Newton's working weight and response of one row at linear predictor `eta`: with
/// `μ = e^η`, the half unit deviance has gradient `g = μ^(2−p) − y μ^(1−p)` and curvature
/// `w = (p−1) y μ^(1−p) + (2−p) μ^(2−p)` in `η` (≥ 0 for `y ≥ 0`, `1 ≤ p ≤ 2`), so the step
/// solves weighted least squares on `z = η − g / w`. Fisher scoring's expected curvature
/// `μ^(2−p)` (the same at `y = μ`) converges only linearly when the link is not canonical
/// (`p > 1`), which took more than 100 iterations on real data; it remains the fallback where
/// `w` is 0 or not finite.
fn newton_weight(y: f64, eta: f64, p: f64) -> (f64, f64) {
    let mu = eta.exp();
    let mu_1p = mu.powf(1.0 - p);
    let mu_2p = mu * mu_1p;
    let w = (p - 1.0) * y * mu_1p + (2.0 - p) * mu_2p;
    if w > 0.0 && w.is_finite() {
        (w, eta - (mu_2p - y * mu_1p) / w)
    } else {
        (mu_2p, eta + (y - mu) / mu)
    }
}

/// One IRLS problem on the internal design.
struct Irls<'a> {
    z: &'a Array2<f64>,
    y: &'a Array1<f64>,
    power: f64,
    penalty: &'a Array1<f64>,
}

const MAX_HALVINGS: usize = 40;

impl Irls<'_> {
    /// Penalised objective `(1/2n) Σ d + (1/2) Σ penalty_k b_k²`; `inf` if not finite.
    fn objective(&self, b: &Array1<f64>) -> f64 {
        let eta = self.z.dot(b);
        let mut dev = 0.0;
        for (&y, &e) in self.y.iter().zip(&eta) {
            dev += unit_deviance(y, e.exp(), self.power);
        }
        let pen: f64 = self.penalty.iter().zip(b).map(|(p, b)| p * b * b).sum();
        let obj = dev / (2.0 * self.y.len() as f64) + 0.5 * pen;
        if obj.is_finite() {
            obj
        } else {
            f64::INFINITY
        }
    }

    /// The Newton target `b_new` from the current `b`.
    fn newton_target(&self, b: &Array1<f64>) -> Result<Array1<f64>> {
        let (n, k) = self.z.dim();
        let eta = self.z.dot(b);
        let mut a = Array2::<f64>::zeros((k, k));
        let mut rhs = Array1::<f64>::zeros(k);
        for (i, row) in self.z.rows().into_iter().enumerate() {
            let (w, working) = newton_weight(self.y[i], eta[i], self.power);
            for r in 0..k {
                let wr = w * row[r];
                rhs[r] += wr * working;
                for c in 0..=r {
                    a[(r, c)] += wr * row[c];
                }
            }
        }
        let nf = n as f64;
        for r in 0..k {
            rhs[r] /= nf;
            for c in 0..=r {
                a[(r, c)] /= nf;
                a[(c, r)] = a[(r, c)];
            }
            a[(r, r)] += self.penalty[r];
        }
        cholesky_solve(a, &rhs).ok_or_else(|| {
            Error::Fit("tweedie: weighted normal equations are not positive definite".into())
        })
    }

    fn not_converged(iterations: usize, detail: String) -> Error {
        Error::NotConverged {
            model: "tweedie glm".into(),
            iterations,
            detail,
        }
    }

    /// Runs IRLS from `b`; returns the coefficients, iterations used and the objective path.
    fn run(
        &self,
        mut b: Array1<f64>,
        max_iter: usize,
        tol: f64,
    ) -> Result<(Array1<f64>, usize, Vec<f64>)> {
        let mut obj = self.objective(&b);
        if !obj.is_finite() {
            return Err(Self::not_converged(
                0,
                "the objective is not finite at the starting point".into(),
            ));
        }
        let mut path = vec![obj];
        for iter in 1..=max_iter {
            let target = self.newton_target(&b)?;
            let step = &target - &b;
            if step.iter().any(|s| !s.is_finite()) {
                return Err(Self::not_converged(
                    iter,
                    "the IRLS step is not finite (overflow in exp(η)?)".into(),
                ));
            }
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..=MAX_HALVINGS {
                let candidate = &b + &(&step * t);
                let new_obj = self.objective(&candidate);
                if new_obj <= obj {
                    accepted = Some((candidate, new_obj));
                    break;
                }
                t *= 0.5;
            }
            let max_change = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
            let Some((candidate, new_obj)) = accepted else {
                // no decrease even for a tiny step: we are at the numerical optimum if the full
                // step was already within tolerance, otherwise fail with the reason
                if max_change <= tol.sqrt() {
                    return Ok((b, iter, path));
                }
                return Err(Self::not_converged(
                    iter,
                    format!(
                        "step-halving ({MAX_HALVINGS} halvings) could not decrease the \
                         deviance {obj:e}; largest coefficient step {max_change:e}"
                    ),
                ));
            };
            let measurable = obj - new_obj > 4.0 * f64::EPSILON * obj.abs();
            b = candidate;
            obj = new_obj;
            path.push(obj);
            // converged when the full Newton step is within tol (a step shortened by
            // halving says nothing about the distance to the optimum), or when the objective no
            // longer changes measurably and the step is within sqrt(tol): near the optimum a
            // step of δ changes the objective by ~δ², which drops below rounding for δ ≲ 1e-8
            if max_change <= tol || (!measurable && max_change <= tol.sqrt()) {
                return Ok((b, iter, path));
            }
        }
        Err(Self::not_converged(
            max_iter,
            format!("largest coefficient change still above tol after max_iter; objective {obj:e}"),
        ))
    }
}

/// Solves `A x = b` for a symmetric positive (semi)definite `A` by Cholesky, adding a ridge of
/// `1e-12 × mean diagonal` first. `None` if a pivot is not positive.
pub(crate) fn cholesky_solve(mut a: Array2<f64>, b: &Array1<f64>) -> Option<Array1<f64>> {
    let k = a.nrows();
    let mean_diag = (0..k).map(|i| a[(i, i)]).sum::<f64>() / k.max(1) as f64;
    let ridge = 1e-12 * mean_diag.abs().max(f64::MIN_POSITIVE);
    for i in 0..k {
        a[(i, i)] += ridge;
    }
    // in-place lower factor L (A = L Lᵀ)
    for j in 0..k {
        let mut d = a[(j, j)];
        for m in 0..j {
            d -= a[(j, m)] * a[(j, m)];
        }
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        let d = d.sqrt();
        a[(j, j)] = d;
        for i in (j + 1)..k {
            let mut s = a[(i, j)];
            for m in 0..j {
                s -= a[(i, m)] * a[(j, m)];
            }
            a[(i, j)] = s / d;
        }
    }
    // forward: L u = b ; backward: Lᵀ x = u
    let mut u = b.clone();
    for i in 0..k {
        for m in 0..i {
            u[i] -= a[(i, m)] * u[m];
        }
        u[i] /= a[(i, i)];
    }
    for i in (0..k).rev() {
        for m in (i + 1)..k {
            u[i] -= a[(m, i)] * u[m];
        }
        u[i] /= a[(i, i)];
    }
    Some(u)
}

/// A fitted [`TweedieModel`]: raw-scale coefficients and fit diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedTweedie {
    params: TweedieParams,
    intercept: f64,
    coefficients: Array1<f64>,
    iterations: usize,
    objective_path: Vec<f64>,
    n_clipped_labels: usize,
}

impl FittedTweedie {
    /// The hyper-parameters it was fitted with.
    pub fn params(&self) -> &TweedieParams {
        &self.params
    }

    /// Intercept `b₀` on the raw feature scale (log of the mean at `x = 0`).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// One coefficient per feature on the raw scale (log-mean change per unit of the feature);
    /// `0` for columns that were constant in training.
    pub fn coefficients(&self) -> &Array1<f64> {
        &self.coefficients
    }

    /// IRLS iterations used.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Penalised objective `(1/2n) Σ d + penalty` at the start and after each iteration
    /// (non-increasing by construction).
    pub fn objective_path(&self) -> &[f64] {
        &self.objective_path
    }

    /// Number of negative training labels that were clipped to 0.
    pub fn n_clipped_labels(&self) -> usize {
        self.n_clipped_labels
    }

    /// Number of feature columns the model expects.
    pub fn n_features(&self) -> usize {
        self.coefficients.len()
    }

    /// Predicted mean `exp(b₀ + x β)`, one per row.
    ///
    /// # Panics
    /// If `x` does not have [`n_features`](Self::n_features) columns; use
    /// [`try_predict`](Self::try_predict) to get an error instead.
    pub fn predict(&self, x: ArrayView2<f64>) -> Array1<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features(),
            "feature count mismatch in FittedTweedie::predict"
        );
        (x.dot(&self.coefficients) + self.intercept).mapv(f64::exp)
    }

    /// Like [`predict`](Self::predict) but returns [`Error::InvalidParameter`] on a column-count
    /// mismatch.
    pub fn try_predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        super::check_columns(&x, self.n_features())?;
        Ok(self.predict(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Gamma, Normal, Poisson, Uniform};

    const B0: f64 = 0.5;
    const B1: f64 = 0.8;
    const B2: f64 = -0.3;

    /// n rows: x0 ~ U(−1, 1), x1 ~ N(0, 1), μ = exp(B0 + B1 x0 + B2 x1), y drawn by `draw`.
    fn simulate(
        n: usize,
        seed: u64,
        mut draw: impl FnMut(f64, &mut ChaCha8Rng) -> f64,
    ) -> (Array2<f64>, Array1<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let u = Uniform::new(-1.0, 1.0);
        let g = Normal::new(0.0, 1.0).unwrap();
        let mut x = Array2::zeros((n, 2));
        let mut y = Array1::zeros(n);
        for i in 0..n {
            x[(i, 0)] = u.sample(&mut rng);
            x[(i, 1)] = g.sample(&mut rng);
            let mu = (B0 + B1 * x[(i, 0)] + B2 * x[(i, 1)]).exp();
            y[i] = draw(mu, &mut rng);
        }
        (x, y)
    }

    /// Compound Poisson–Gamma draw with mean μ, dispersion φ, power p:
    /// N ~ Poisson(μ^(2−p) / (φ (2−p))), Y = Σ_{1..N} Gamma(shape (2−p)/(p−1), scale φ(p−1)μ^(p−1)).
    fn tweedie_draw(mu: f64, p: f64, phi: f64, rng: &mut ChaCha8Rng) -> f64 {
        let lambda = mu.powf(2.0 - p) / (phi * (2.0 - p));
        let count = Poisson::new(lambda).unwrap().sample(rng) as usize;
        let gamma = Gamma::new((2.0 - p) / (p - 1.0), phi * (p - 1.0) * mu.powf(p - 1.0)).unwrap();
        (0..count).map(|_| gamma.sample(rng)).sum()
    }

    fn assert_recovers(m: &FittedTweedie, eps: f64) {
        assert_abs_diff_eq!(m.intercept(), B0, epsilon = eps);
        assert_abs_diff_eq!(m.coefficients()[0], B1, epsilon = eps);
        assert_abs_diff_eq!(m.coefficients()[1], B2, epsilon = eps);
    }

    // Tolerances: with n = 20 000 the standard error of each coefficient is ≈ 0.01 (Poisson:
    // 1/sqrt(n · E[μ] · Var x0) ≈ 1/sqrt(20 000 · 1.8 · 1/3) ≈ 0.009), so 0.04 is ≈ 4 s.e.

    #[test]
    fn recovers_poisson_coefficients() {
        let (x, y) = simulate(20_000, 11, |mu, rng| Poisson::new(mu).unwrap().sample(rng));
        let m = TweedieModel::params()
            .power(1.0)
            .fit(x.view(), y.view())
            .unwrap();
        assert_recovers(&m, 0.04);
        assert!(m.iterations() < 30);
    }

    #[test]
    fn recovers_gamma_coefficients() {
        // Gamma(shape 2, scale μ/2): mean μ, Var = μ²/2; s.e. ≈ sqrt(1/(2 n Var x0)) ≈ 0.009
        let (x, y) = simulate(20_000, 12, |mu, rng| {
            Gamma::new(2.0, mu / 2.0).unwrap().sample(rng)
        });
        let m = TweedieModel::params()
            .power(2.0)
            .fit(x.view(), y.view())
            .unwrap();
        assert_recovers(&m, 0.04);
    }

    #[test]
    fn recovers_compound_poisson_gamma_and_deviance_decreases() {
        let (x, y) = simulate(20_000, 13, |mu, rng| tweedie_draw(mu, 1.5, 1.0, rng));
        assert!(y.iter().any(|&v| v == 0.0), "simulation should have zeros");
        let m = TweedieModel::params()
            .power(1.5)
            .fit(x.view(), y.view())
            .unwrap();
        assert_recovers(&m, 0.05);
        let path = m.objective_path();
        assert!(path.len() >= 3);
        assert!(path.windows(2).all(|w| w[1] <= w[0]), "{path:?}");
        assert!(path.last().unwrap() < &path[0]);
    }

    /// 30 rows drawn once in Python (numpy `default_rng(11)`, compound Poisson–Gamma with
    /// p = 1.5, rounded to 2 decimals) and fitted with scikit-learn 1.4.2:
    /// `TweedieRegressor(power=1.5, alpha=0, link='log', tol=1e-12, max_iter=100000)` →
    /// intercept 0.1063986320, coef [0.5173140643, -0.7249761925];
    /// with `alpha=0.1` → intercept 0.1329546087, coef [0.4149301197, -0.6719954221].
    #[test]
    fn matches_scikit_learn() {
        let x0 = [
            -0.74, -0.0, 0.2, -0.94, -0.7, 0.86, -0.86, -0.74, 0.9, 0.24, -0.26, 0.02, 0.33, -0.45,
            -0.72, 0.58, 0.34, 0.02, 0.63, 0.1, 0.96, -0.59, 0.11, -0.03, -0.29, 0.18, -0.53, 0.6,
            0.73, -0.74,
        ];
        let x1 = [
            0.9, -0.23, -0.74, 0.38, 0.72, -0.3, 0.54, 1.04, -0.21, -0.81, 0.35, 0.25, 1.1, -1.28,
            -0.66, -0.84, -1.73, 0.13, 0.53, -0.74, 1.39, 0.82, 0.63, 0.4, 0.96, -1.33, 0.61, 0.6,
            -1.77, 0.35,
        ];
        let y = array![
            0.0, 0.84, 2.04, 0.36, 0.68, 0.36, 0.58, 0.39, 2.21, 4.01, 0.0, 0.36, 2.31, 2.35, 3.31,
            2.97, 3.43, 1.56, 0.66, 0.89, 0.33, 0.65, 1.07, 0.94, 0.0, 1.12, 0.0, 1.6, 8.42, 0.31
        ];
        let mut x = Array2::zeros((30, 2));
        for i in 0..30 {
            x[(i, 0)] = x0[i];
            x[(i, 1)] = x1[i];
        }
        let m = TweedieModel::params()
            .power(1.5)
            .tol(1e-12)
            .fit(x.view(), y.view())
            .unwrap();
        assert_abs_diff_eq!(m.intercept(), 0.1063986320, epsilon = 1e-6);
        assert_abs_diff_eq!(m.coefficients()[0], 0.5173140643, epsilon = 1e-6);
        assert_abs_diff_eq!(m.coefficients()[1], -0.7249761925, epsilon = 1e-6);
        let m = TweedieModel::params()
            .power(1.5)
            .alpha(0.1)
            .standardize(false)
            .tol(1e-12)
            .fit(x.view(), y.view())
            .unwrap();
        assert_abs_diff_eq!(m.intercept(), 0.1329546087, epsilon = 1e-6);
        assert_abs_diff_eq!(m.coefficients()[0], 0.4149301197, epsilon = 1e-6);
        assert_abs_diff_eq!(m.coefficients()[1], -0.6719954221, epsilon = 1e-6);
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        // A = [[4, 2], [2, 3]], b = [2, 1] → det 8, x = [ (3·2 − 2·1)/8, (4·1 − 2·2)/8 ] = [0.5, 0]
        let x = cholesky_solve(array![[4.0, 2.0], [2.0, 3.0]], &array![2.0, 1.0]).unwrap();
        assert_abs_diff_eq!(x[0], 0.5, epsilon = 1e-10);
        assert_abs_diff_eq!(x[1], 0.0, epsilon = 1e-10);
        assert!(cholesky_solve(array![[1.0, 2.0], [2.0, 1.0]], &array![1.0, 1.0]).is_none());
    }

    #[test]
    fn intercept_only_is_log_mean_and_constant_columns_are_zero() {
        // Poisson MLE with only an intercept is ln(mean y) = ln(2); a constant column adds nothing
        let x = array![[3.0], [3.0], [3.0], [3.0]];
        let y = array![1.0, 3.0, 0.0, 4.0];
        let m = TweedieModel::params()
            .power(1.0)
            .fit(x.view(), y.view())
            .unwrap();
        assert_abs_diff_eq!(m.intercept(), 2.0f64.ln(), epsilon = 1e-12);
        assert_eq!(m.coefficients()[0], 0.0);
    }

    #[test]
    fn errors_and_clipping() {
        let x = array![[0.0], [1.0], [2.0]];
        assert!(TweedieModel::params().power(0.5).check().is_err());
        assert!(TweedieModel::params().power(2.5).check().is_err());
        assert!(TweedieModel::params().max_iter(0).check().is_err());
        // Gamma with a zero label
        let err = TweedieModel::params()
            .power(2.0)
            .fit(x.view(), array![1.0, 0.0, 2.0].view());
        assert!(matches!(
            err,
            Err(Error::InvalidParameter { name: "power", .. })
        ));
        // all zero → not enough data
        let err = TweedieModel::params().fit(x.view(), array![0.0, -1.0, 0.0].view());
        assert!(matches!(err, Err(Error::NotEnoughData(_))));
        // refunds clipped and counted
        let m = TweedieModel::params()
            .power(1.0)
            .fit(x.view(), array![1.0, -5.0, 2.0].view())
            .unwrap();
        assert_eq!(m.n_clipped_labels(), 1);
        // one iteration is not enough at tol 1e-12 → NotConverged naming the reason
        let (x, y) = simulate(500, 1, |mu, rng| Poisson::new(mu).unwrap().sample(rng));
        let err = TweedieModel::params()
            .power(1.0)
            .max_iter(1)
            .fit(x.view(), y.view());
        assert!(matches!(
            err,
            Err(Error::NotConverged { iterations: 1, .. })
        ));
    }

    #[test]
    fn serde_round_trip_and_determinism() {
        let (x, y) = simulate(2_000, 5, |mu, rng| tweedie_draw(mu, 1.3, 2.0, rng));
        let params = TweedieModel::params().power(1.3).alpha(0.01);
        let m = params.fit(x.view(), y.view()).unwrap();
        let again = params.fit(x.view(), y.view()).unwrap();
        assert_eq!(m, again);
        let back: FittedTweedie =
            serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.predict(x.view()), m.predict(x.view()));
    }
}
