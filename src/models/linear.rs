//! Linear regression of spend on customer features (ordinary least squares through
//! linfa-linear's `LinearRegression`, with an optional ridge penalty and an optional log1p target
//! back-transformed with Duan's smearing estimator).
//!
//! # How the fit works
//! 1. Each feature column is centred and divided by its training standard deviation (the scaler
//!    is fitted on the training rows only and then folded into the returned coefficients, so a
//!    [`FittedLinear`] predicts from raw features). Columns that are constant in the training
//!    data carry no information and are dropped: their coefficient is exactly `0`.
//! 2. The (optionally `ln(1 + y)`-transformed) target is centred, and linfa's QR least squares
//!    (`LinearRegression::new().with_intercept(false)`) solves for the slopes. The ridge penalty
//!    is applied by the classic augmentation: `sqrt(alpha · n) · D` rows with zero targets are
//!    appended, which turns least squares into
//!    `min (1/n) Σ (t − t̂)² + alpha · Σ β̃_j²`, where `β̃` are the standardized-scale slopes when
//!    `standardize` is on and the raw-scale slopes when it is off. The intercept is not penalised.
//! 3. linfa's QR has no column pivoting, so exactly collinear columns make the unpenalised
//!    problem singular (linfa returns `LinalgError::NonInvertible` only when the matrix is exactly
//!    singular; after standardization rounding usually hides that and it returns huge
//!    coefficients). So with `alpha = 0` we check first: a column whose variance left unexplained
//!    by the earlier columns is below `1e-10` is reported as [`Error::Fit`] naming the column. The default `alpha` is therefore a tiny `1e-8`: it leaves well-posed fits
//!    unchanged to ~1e-8 relative and makes collinear fits unique (weight shared between the
//!    collinear columns).
//!
//! # Log target and smearing
//! With `log_target`, the model is fitted to `t = ln(1 + max(y, 0))` (negative labels — net
//! refunds — are clipped at `0` first, so the log is defined). A plain `exp(t̂) − 1` would
//! predict the conditional *median*, not the mean; Duan's (1983) smearing estimator corrects
//! this without assuming normal errors: `smear = mean_i exp(t_i − t̂_i)` over the training
//! rows, and the prediction is `smear · exp(x β) − 1`.
use linfa::traits::Fit;
use linfa_linear::LinearRegression;
use ndarray::{concatenate, s, Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Per-column mean and standard deviation fitted on training data (population s.d., `n` in the
/// denominator). Shared by the linear and Tweedie models.
#[derive(Debug, Clone)]
pub(crate) struct ColumnScaling {
    /// Column means.
    pub mean: Array1<f64>,
    /// Column standard deviations (`0` for a constant column).
    pub sd: Array1<f64>,
}

impl ColumnScaling {
    /// Fits means and standard deviations, summing rows in order (deterministic).
    pub fn fit(x: ArrayView2<f64>) -> Self {
        let n = x.nrows().max(1) as f64;
        let mean = x.sum_axis(Axis(0)) / n;
        let mut var: Array1<f64> = Array1::zeros(x.ncols());
        for row in x.rows() {
            for j in 0..x.ncols() {
                let d = row[j] - mean[j];
                var[j] += d * d;
            }
        }
        // a column whose values are all identical is constant even if rounding made var > 0
        let sd = Array1::from_iter((0..x.ncols()).map(|j| {
            let col = x.column(j);
            if col.iter().all(|&v| v == col[0]) {
                0.0
            } else {
                (var[j] / n).sqrt()
            }
        }));
        ColumnScaling { mean, sd }
    }

    /// Indices of the non-constant columns.
    pub fn kept(&self) -> Vec<usize> {
        (0..self.sd.len()).filter(|&j| self.sd[j] > 0.0).collect()
    }

    /// The kept columns, centred and divided by their s.d.
    pub fn standardized(&self, x: ArrayView2<f64>, kept: &[usize]) -> Array2<f64> {
        let mut z = Array2::zeros((x.nrows(), kept.len()));
        for (k, &j) in kept.iter().enumerate() {
            let (m, s) = (self.mean[j], self.sd[j]);
            z.column_mut(k)
                .iter_mut()
                .zip(x.column(j))
                .for_each(|(z, &v)| *z = (v - m) / s);
        }
        z
    }
}

/// Checks shapes and finiteness of a training set.
pub(crate) fn check_training_data(x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<()> {
    if x.nrows() != y.len() {
        return Err(Error::InvalidParameter {
            name: "y",
            value: format!("{} labels", y.len()),
            reason: format!("expected one label per feature row ({} rows)", x.nrows()),
        });
    }
    if x.nrows() < 2 {
        return Err(Error::NotEnoughData(format!(
            "a regression needs at least 2 rows, got {}",
            x.nrows()
        )));
    }
    if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "x",
            value: v.to_string(),
            reason: format!("feature value at row {i}, column {j} is not finite"),
        });
    }
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "y",
            value: v.to_string(),
            reason: format!("label at row {i} is not finite"),
        });
    }
    Ok(())
}

/// Linear regression model; start with [`LinearModel::params`].
#[derive(Debug, Clone, Copy)]
pub struct LinearModel;

impl LinearModel {
    /// Hyper-parameters with defaults: `log_target = false`, `standardize = true`,
    /// `alpha = 1e-8`.
    pub fn params() -> LinearParams {
        LinearParams {
            log_target: false,
            standardize: true,
            alpha: 1e-8,
        }
    }
}

/// Hyper-parameters of [`LinearModel`] (a consuming builder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearParams {
    log_target: bool,
    standardize: bool,
    alpha: f64,
}

impl LinearParams {
    /// Fit `ln(1 + y)` (labels clipped at 0) and back-transform with Duan's smearing estimator.
    /// Default `false`.
    pub fn log_target(mut self, log_target: bool) -> Self {
        self.log_target = log_target;
        self
    }

    /// Apply the ridge penalty to standardized coefficients (`true`) or raw-scale coefficients
    /// (`false`). Unpenalised predictions do not depend on it. Default `true`.
    pub fn standardize(mut self, standardize: bool) -> Self {
        self.standardize = standardize;
        self
    }

    /// Ridge penalty `alpha ≥ 0` in `(1/n) Σ residual² + alpha · Σ β²`. Default `1e-8`, a tiny
    /// ridge that keeps exactly collinear features solvable.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Validates the hyper-parameters, naming the bad value.
    pub fn check(&self) -> Result<()> {
        super::param_check::finite_at_least("alpha", self.alpha, 0.0)
    }

    /// Fits the model on features `x` (rows = customers) and labels `y`.
    ///
    /// Errors: [`Error::InvalidParameter`] for bad hyper-parameters, shape mismatch or
    /// non-finite inputs; [`Error::NotEnoughData`] for fewer than 2 rows; [`Error::Fit`] if the
    /// least-squares solve fails or is non-finite.
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedLinear> {
        self.check()?;
        check_training_data(x, y)?;
        let n = x.nrows();
        let n_clipped_labels = if self.log_target {
            y.iter().filter(|&&v| v < 0.0).count()
        } else {
            0
        };
        let target: Array1<f64> = if self.log_target {
            y.mapv(|v| v.max(0.0).ln_1p())
        } else {
            y.to_owned()
        };
        let scaling = ColumnScaling::fit(x);
        let kept = scaling.kept();
        let target_mean = target.sum() / n as f64;
        let centred = target.mapv(|t| t - target_mean);

        let mut coefficients = Array1::zeros(x.ncols());
        if !kept.is_empty() {
            let z = scaling.standardized(x, &kept);
            let slopes = solve(z, centred, &kept, &scaling, self)?;
            for (k, &j) in kept.iter().enumerate() {
                coefficients[j] = slopes[k] / scaling.sd[j];
            }
        }
        let intercept = target_mean - scaling.mean.dot(&coefficients);
        let mut fitted = FittedLinear {
            params: self.clone(),
            intercept,
            coefficients,
            smearing: 1.0,
            n_clipped_labels,
        };
        if self.log_target {
            let linear = fitted.linear_predictor(x);
            let sum: f64 = target.iter().zip(&linear).map(|(t, l)| (t - l).exp()).sum();
            fitted.smearing = sum / n as f64;
        }
        if !(fitted.intercept.is_finite()
            && fitted.smearing.is_finite()
            && fitted.coefficients.iter().all(|c| c.is_finite()))
        {
            return Err(Error::Fit(
                "linear regression produced non-finite coefficients (collinear features?); \
                 hint: set alpha > 0"
                    .into(),
            ));
        }
        Ok(fitted)
    }
}

/// Least squares on standardized, centred data, with ridge rows appended when `alpha > 0`.
fn solve(
    z: Array2<f64>,
    centred: Array1<f64>,
    kept: &[usize],
    scaling: &ColumnScaling,
    params: &LinearParams,
) -> Result<Array1<f64>> {
    let n = z.nrows();
    let p = z.ncols();
    if params.alpha == 0.0 {
        if let Some(k) = collinear_column(&z) {
            return Err(Error::Fit(format!(
                "feature column {} is (almost) a linear combination of earlier columns; \
                 hint: set alpha > 0",
                kept[k]
            )));
        }
    }
    let (z, t) = if params.alpha > 0.0 {
        // standardized slope b_k = s_j β_j; raw-scale penalty α β_j² = α (b_k / s_j)²
        let mut ridge = Array2::zeros((p, p));
        for (k, &j) in kept.iter().enumerate() {
            let scale = if params.standardize {
                1.0
            } else {
                1.0 / scaling.sd[j]
            };
            ridge[(k, k)] = (params.alpha * n as f64).sqrt() * scale;
        }
        let z = concatenate(Axis(0), &[z.view(), ridge.view()])
            .map_err(|e| Error::Fit(e.to_string()))?;
        let t = concatenate(Axis(0), &[centred.view(), Array1::zeros(p).view()])
            .map_err(|e| Error::Fit(e.to_string()))?;
        (z, t)
    } else {
        (z, centred)
    };
    let dataset = linfa::Dataset::new(z, t);
    let model = LinearRegression::new()
        .with_intercept(false)
        .fit(&dataset)
        .map_err(|e| Error::Fit(format!("linear regression: {e}")))?;
    Ok(model.params().slice(s![..]).to_owned())
}

/// First standardized column whose variance left unexplained by the earlier columns is below
/// `1e-10` (a Cholesky pivot of the correlation matrix `ZᵀZ/n`, whose diagonal is 1).
fn collinear_column(z: &Array2<f64>) -> Option<usize> {
    let n = z.nrows() as f64;
    let mut c = z.t().dot(z) / n;
    let k = c.nrows();
    for j in 0..k {
        let mut d = c[(j, j)];
        for m in 0..j {
            d -= c[(j, m)] * c[(j, m)];
        }
        if d < 1e-10 {
            return Some(j);
        }
        let d = d.sqrt();
        c[(j, j)] = d;
        for i in (j + 1)..k {
            let mut s = c[(i, j)];
            for m in 0..j {
                s -= c[(i, m)] * c[(j, m)];
            }
            c[(i, j)] = s / d;
        }
    }
    None
}

/// A fitted [`LinearModel`]: raw-scale coefficients, intercept and smearing factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedLinear {
    params: LinearParams,
    intercept: f64,
    coefficients: Array1<f64>,
    smearing: f64,
    n_clipped_labels: usize,
}

impl FittedLinear {
    /// The hyper-parameters it was fitted with.
    pub fn params(&self) -> &LinearParams {
        &self.params
    }

    /// Intercept on the raw feature scale (in log1p space with `log_target`).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// One coefficient per feature column, on the raw feature scale (`0` for constant columns).
    pub fn coefficients(&self) -> &Array1<f64> {
        &self.coefficients
    }

    /// Duan's smearing factor (`1` without `log_target`).
    pub fn smearing(&self) -> f64 {
        self.smearing
    }

    /// Number of negative training labels clipped to 0 before `ln(1 + y)` (0 without
    /// `log_target`).
    pub fn n_clipped_labels(&self) -> usize {
        self.n_clipped_labels
    }

    /// Number of feature columns the model expects.
    pub fn n_features(&self) -> usize {
        self.coefficients.len()
    }

    fn linear_predictor(&self, x: ArrayView2<f64>) -> Array1<f64> {
        x.dot(&self.coefficients) + self.intercept
    }

    /// Predicts one value per row: `intercept + x β`, or `smearing · exp(intercept + x β) − 1`
    /// with `log_target`.
    ///
    /// # Panics
    /// If `x` does not have [`n_features`](Self::n_features) columns; use
    /// [`try_predict`](Self::try_predict) to get an error instead.
    pub fn predict(&self, x: ArrayView2<f64>) -> Array1<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features(),
            "feature count mismatch in FittedLinear::predict"
        );
        let linear = self.linear_predictor(x);
        if self.params.log_target {
            linear.mapv(|l| self.smearing * l.exp() - 1.0)
        } else {
            linear
        }
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
    use rand_distr::{Distribution, Normal, Uniform};

    /// n rows of 3 features from U(−2, 2), U(0, 10), N(5, 3) and y = Xβ + 1.5 + N(0, σ).
    fn synthetic(n: usize, sigma: f64, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let u = Uniform::new(-2.0, 2.0);
        let w = Uniform::new(0.0, 10.0);
        let g = Normal::new(5.0, 3.0).unwrap();
        let e = Normal::new(0.0, sigma).unwrap();
        let mut x = Array2::zeros((n, 3));
        let mut y = Array1::zeros(n);
        for i in 0..n {
            x[(i, 0)] = u.sample(&mut rng);
            x[(i, 1)] = w.sample(&mut rng);
            x[(i, 2)] = g.sample(&mut rng);
            y[i] = 1.5 + 2.0 * x[(i, 0)] - 3.0 * x[(i, 1)] + 0.5 * x[(i, 2)] + e.sample(&mut rng);
        }
        (x, y)
    }

    #[test]
    fn recovers_known_coefficients() {
        let (x, y) = synthetic(2000, 0.01, 1);
        for standardize in [true, false] {
            let m = LinearModel::params()
                .standardize(standardize)
                .fit(x.view(), y.view())
                .unwrap();
            let c = m.coefficients();
            assert_abs_diff_eq!(c[0], 2.0, epsilon = 1e-3);
            assert_abs_diff_eq!(c[1], -3.0, epsilon = 1e-3);
            assert_abs_diff_eq!(c[2], 0.5, epsilon = 1e-3);
            assert_abs_diff_eq!(m.intercept(), 1.5, epsilon = 1e-3);
        }
    }

    #[test]
    fn ridge_shrinks_by_the_closed_form() {
        // One standardized feature z (mean 0, var 1) and centred t: the ridge solution of
        // (1/n)Σ(t − b z)² + α b² is b = cov(z, t) / (var z + α) = b_ols / (1 + α).
        let x = array![[-1.0], [1.0], [-1.0], [1.0]]; // mean 0, population s.d. 1
        let y = array![0.0, 4.0, 1.0, 3.0]; // b_ols = (−1·−2 + 1·2 + −1·−1 + 1·1)/4 = 1.5
        let m = LinearModel::params()
            .alpha(0.5)
            .fit(x.view(), y.view())
            .unwrap();
        assert_abs_diff_eq!(m.coefficients()[0], 1.5 / 1.5, epsilon = 1e-12);
        assert_abs_diff_eq!(m.intercept(), 2.0, epsilon = 1e-12);
        assert!(LinearModel::params().alpha(-1.0).check().is_err());
    }

    #[test]
    fn constant_and_collinear_columns() {
        let (x, y) = synthetic(500, 0.01, 2);
        // column 3 constant, column 4 = 2 · column 0 (exactly collinear)
        let mut xx = Array2::zeros((500, 5));
        xx.slice_mut(s![.., 0..3]).assign(&x);
        xx.column_mut(3).fill(7.0);
        let doubled = x.column(0).mapv(|v| 2.0 * v);
        xx.column_mut(4).assign(&doubled);
        let m = LinearModel::params().fit(xx.view(), y.view()).unwrap();
        let c = m.coefficients();
        assert_eq!(c[3], 0.0);
        // the effect of x0 is shared: c0 + 2 c4 = 2
        assert_abs_diff_eq!(c[0] + 2.0 * c[4], 2.0, epsilon = 1e-3);
        assert_abs_diff_eq!(c[1], -3.0, epsilon = 1e-3);
        let p = m.predict(xx.view());
        let max_err = (&p - &y).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
        assert!(max_err < 0.1, "max error {max_err}");
        // without the tiny ridge linfa's QR rejects the collinear matrix: a typed error
        let err = LinearModel::params().alpha(0.0).fit(xx.view(), y.view());
        assert!(matches!(err, Err(Error::Fit(_))), "{err:?}");
    }

    #[test]
    fn smearing_by_hand() {
        // x = 0,1,2,3 and t = ln(1 + y) = 0, 1.5, 1, 2.5.
        // OLS: x̄ = 1.5, t̄ = 1.25, Sxx = 5, Sxt = 1.875 − .125 − .125 + 1.875 = 3.5
        // → b = 0.7, a = 1.25 − 0.7·1.5 = 0.2; fitted 0.2, 0.9, 1.6, 2.3
        // residuals −0.2, 0.6, −0.6, 0.2 → smear = (e^−.2 + e^.6 + e^−.6 + e^.2)/4
        //                                        = (cosh 0.2 + cosh 0.6) / 2
        // prediction at x = 4: smear · e^(0.2 + 2.8) − 1 = smear · e³ − 1
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let y = array![0.0f64, 1.5, 1.0, 2.5].mapv(f64::exp_m1);
        let m = LinearModel::params()
            .log_target(true)
            .alpha(0.0)
            .fit(x.view(), y.view())
            .unwrap();
        let smear = (0.2f64.cosh() + 0.6f64.cosh()) / 2.0;
        assert_abs_diff_eq!(m.coefficients()[0], 0.7, epsilon = 1e-12);
        assert_abs_diff_eq!(m.intercept(), 0.2, epsilon = 1e-12);
        assert_abs_diff_eq!(m.smearing(), smear, epsilon = 1e-12);
        let p = m.predict(array![[4.0]].view());
        assert_abs_diff_eq!(p[0], smear * 3.0f64.exp() - 1.0, epsilon = 1e-10);
    }

    #[test]
    fn serde_round_trip_gives_identical_predictions() {
        let (x, y) = synthetic(300, 1.0, 3);
        let y = y.mapv(|v| v.abs());
        let mut y_refund = y.clone();
        y_refund[0] = -3.0;
        let clipped = LinearModel::params()
            .log_target(true)
            .fit(x.view(), y_refund.view())
            .unwrap();
        assert_eq!(clipped.n_clipped_labels(), 1);
        let m = LinearModel::params()
            .log_target(true)
            .alpha(0.1)
            .fit(x.view(), y.view())
            .unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: FittedLinear = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.predict(x.view()), m.predict(x.view()));
    }

    #[test]
    fn bad_data_is_an_error() {
        let x = array![[1.0], [2.0]];
        assert!(LinearModel::params()
            .fit(x.view(), array![1.0].view())
            .is_err());
        assert!(LinearModel::params()
            .fit(x.view(), array![1.0, f64::NAN].view())
            .is_err());
        let m = LinearModel::params()
            .fit(x.view(), array![1.0, 2.0].view())
            .unwrap();
        assert!(m.try_predict(array![[1.0, 2.0]].view()).is_err());
    }
}
