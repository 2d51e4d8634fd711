//! The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves
//! for customer base analysis", JMR 42(4); Hardie's note 025), the monetary half of the
//! BG/NBD × Gamma-Gamma baseline: fitting by maximum likelihood and the conditional expected
//! spend per transaction.
//!
//! Each repeat transaction's value is `Gamma(p, rate ν)` and `ν ~ Gamma(q, rate v)` across
//! customers. Inputs are `(x, mbar)` pairs: `x` = number of repeat purchases (> 0) and `mbar` =
//! the customer's mean spend per repeat purchase (> 0), as `lifetimes`' `GammaGammaFitter`.
use crate::models::optimize::{self, Settings};
use crate::models::special::{digamma, ln_gamma};
use crate::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of a Gamma-Gamma fit; build with [`GammaGamma::params`].
///
/// Defaults: `penalizer = 0`, `max_iterations = 1000`, `tolerance = 1e-8`, initial values as
/// `lifetimes` (`p = q = v = e^0.1`).
#[derive(Debug, Clone, PartialEq)]
pub struct GammaGammaParams {
    penalizer: f64,
    max_iterations: usize,
    tolerance: f64,
    initial: Option<[f64; 3]>,
}

impl Default for GammaGammaParams {
    fn default() -> Self {
        Self {
            penalizer: 0.0,
            max_iterations: 1000,
            tolerance: 1e-8,
            initial: None,
        }
    }
}

/// A fitted Gamma-Gamma model (spend in the currency of the training data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    /// Shape of the per-transaction spend distribution.
    pub p: f64,
    /// Shape of the Gamma distribution of the per-customer rate `ν`.
    pub q: f64,
    /// Rate of the Gamma distribution of `ν` (in currency units).
    pub v: f64,
    /// Total log-likelihood of the training data at the fitted parameters (no penalty).
    pub log_likelihood: f64,
    /// L-BFGS iterations the fit took (0 for [`GammaGamma::from_parameters`]).
    pub iterations: usize,
    /// Whether the optimiser met its tolerance (always true for a returned fit).
    pub converged: bool,
    /// Number of customers fitted on.
    pub n_customers: usize,
}

fn invalid(name: &'static str, value: f64, reason: &str) -> Error {
    Error::InvalidParameter {
        name,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

impl GammaGammaParams {
    /// L2 penalty, `lifetimes`' `penalizer_coef`: the objective is the negative mean
    /// log-likelihood plus `penalizer · (p² + q² + v²)`. Default 0.
    pub fn penalizer(mut self, penalizer: f64) -> Self {
        self.penalizer = penalizer;
        self
    }

    /// Maximum number of L-BFGS iterations. Default 1000.
    pub fn max_iterations(mut self, max_iterations: usize) -> Self {
        self.max_iterations = max_iterations;
        self
    }

    /// Tolerance on the largest gradient component of the penalised negative mean
    /// log-likelihood with respect to `(ln p, ln q, ln v)`. Default 1e-8.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Starting values `(p, q, v)`. Default `e^0.1` each, as `lifetimes`.
    pub fn initial(mut self, p: f64, q: f64, v: f64) -> Self {
        self.initial = Some([p, q, v]);
        self
    }

    /// Validate the hyper-parameters; the error names the bad one.
    pub fn check(&self) -> Result<()> {
        use super::param_check::{at_least, finite_above, finite_at_least, require};
        finite_at_least("penalizer", self.penalizer, 0.0)?;
        at_least("max_iterations", self.max_iterations, 1)?;
        finite_above("tolerance", self.tolerance, 0.0)?;
        for (name, v) in ["p", "q", "v"]
            .into_iter()
            .zip(self.initial.iter().flatten())
        {
            let ok = v.is_finite() && *v > 0.0;
            require(ok, name, v, "an initial value must be finite and > 0")?;
        }
        Ok(())
    }

    /// Fit on `(x, mbar)` pairs of customers with at least one repeat purchase, by maximum
    /// likelihood over `(ln p, ln q, ln v)`.
    ///
    /// Errors: [`Error::InvalidParameter`] for a bad hyper-parameter or a pair with `x <= 0` or
    /// `mbar <= 0` (drop one-time buyers first); [`Error::NotEnoughData`] for no rows;
    /// [`Error::NotConverged`] when L-BFGS fails (the message suggests a penalizer).
    pub fn fit(&self, data: &[(f64, f64)]) -> Result<GammaGamma> {
        self.check()?;
        if data.is_empty() {
            return Err(Error::NotEnoughData(
                "Gamma-Gamma needs at least one repeat customer".into(),
            ));
        }
        for (i, &(x, m)) in data.iter().enumerate() {
            if !(x.is_finite() && x > 0.0) {
                return Err(Error::InvalidParameter {
                    name: "frequency",
                    value: x.to_string(),
                    reason: format!("customer #{i}: must be > 0 (fit on repeat customers only)"),
                });
            }
            if !(m.is_finite() && m > 0.0) {
                return Err(Error::InvalidParameter {
                    name: "mean spend",
                    value: m.to_string(),
                    reason: format!("customer #{i}: must be finite and > 0"),
                });
            }
        }
        let agg = Aggregated::new(data);
        let x0: Vec<f64> = match self.initial {
            Some(init) => init.iter().map(|v| v.ln()).collect(),
            None => vec![0.1; 3],
        };
        let penalizer = self.penalizer;
        let settings = Settings {
            max_iterations: self.max_iterations,
            gradient_tolerance: self.tolerance,
            memory: 10,
        };
        let out = optimize::minimize(
            |t: &[f64], g: &mut [f64]| agg.objective(t, penalizer, g),
            &x0,
            settings,
        );
        let params: Vec<f64> = out.x.iter().map(|v| v.exp()).collect();
        let finite = params
            .iter()
            .all(|p| p.is_finite() && *p > 0.0 && *p < 1e12);
        if !out.converged || !finite {
            return Err(Error::NotConverged {
                model: "Gamma-Gamma".into(),
                iterations: out.iterations,
                detail: format!(
                    "{}; last p = {:.6}, q = {:.6}, v = {:.6}; hint: pass `--penalizer 0.001` (or larger) to `ltv train`, or choose another --model",
                    out.message, params[0], params[1], params[2]
                ),
            });
        }
        let mut g = [0.0; 3];
        let log_likelihood = -agg.objective(&out.x, 0.0, &mut g) * agg.total_weight;
        Ok(GammaGamma {
            p: params[0],
            q: params[1],
            v: params[2],
            log_likelihood,
            iterations: out.iterations,
            converged: true,
            n_customers: data.len(),
        })
    }
}

/// Rows with per-`x` groups.
struct Aggregated {
    /// Distinct `x` values and their counts.
    xs: Vec<(f64, f64)>,
    /// Per row: group index, `ln mbar`, `x · mbar`.
    rows: Vec<(u32, f64, f64)>,
    total_weight: f64,
}

/// Rows per parallel chunk (fixed: summation order never depends on the thread count).
const CHUNK: usize = 4096;

impl Aggregated {
    fn new(data: &[(f64, f64)]) -> Self {
        // Group by x in order of first appearance (deterministic, O(n)).
        let mut group_of: FxHashMap<u64, u32> = FxHashMap::default();
        let mut xs: Vec<(f64, f64)> = Vec::new();
        let mut rows = Vec::with_capacity(data.len());
        for &(x, m) in data {
            let gi = *group_of.entry(x.to_bits()).or_insert_with(|| {
                xs.push((x, 0.0));
                (xs.len() - 1) as u32
            });
            xs[gi as usize].1 += 1.0;
            rows.push((gi, m.ln(), x * m));
        }
        Self {
            xs,
            rows,
            total_weight: data.len() as f64,
        }
    }

    /// Penalised negative mean log-likelihood at `(ln p, ln q, ln v)` and its gradient.
    fn objective(&self, theta: &[f64], penalizer: f64, grad: &mut [f64]) -> f64 {
        let (p, q, v) = (theta[0].exp(), theta[1].exp(), theta[2].exp());
        let (lg_q, dg_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
        let mut sum = 0.0;
        let mut g = [0.0f64; 3];
        let table: Vec<(f64, f64)> = self
            .xs
            .iter()
            .map(|&(x, w)| {
                let px = p * x;
                let ln_x = x.ln();
                sum += w * (ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v + px * ln_x);
                let dg_pxq = digamma(px + q);
                g[0] += w * x * (dg_pxq - digamma(px) + ln_x);
                g[1] += w * (dg_pxq - dg_q + ln_v);
                g[2] += w * q / v;
                (px, px + q)
            })
            .collect();
        let parts: Vec<[f64; 4]> = self
            .rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut acc = [0.0f64; 4];
                for &(gi, ln_m, xm) in chunk {
                    let (px, pxq) = table[gi as usize];
                    let l = (xm + v).ln();
                    acc[0] += (px - 1.0) * ln_m - pxq * l;
                    acc[1] += (px / p) * (ln_m - l);
                    acc[2] -= l;
                    acc[3] -= pxq / (xm + v);
                }
                acc
            })
            .collect();
        let mut row = [0.0f64; 4];
        for part in parts {
            for (s, v) in row.iter_mut().zip(part) {
                *s += v;
            }
        }
        sum += row[0];
        g[0] += row[1];
        g[1] += row[2];
        g[2] += row[3];
        let params = [p, q, v];
        let n = self.total_weight;
        for j in 0..3 {
            // Chain rule to log-parameters, plus the penalty's derivative.
            grad[j] = -params[j] * g[j] / n + 2.0 * penalizer * params[j] * params[j];
        }
        -sum / n + penalizer * params.iter().map(|x| x * x).sum::<f64>()
    }
}

impl GammaGamma {
    /// Hyper-parameters with their defaults (see [`GammaGammaParams`]).
    pub fn params() -> GammaGammaParams {
        GammaGammaParams::default()
    }

    /// A model with given parameters; all must be finite and positive.
    pub fn from_parameters(p: f64, q: f64, v: f64) -> Result<Self> {
        for (name, val) in [("p", p), ("q", q), ("v", v)] {
            if !(val.is_finite() && val > 0.0) {
                return Err(invalid(name, val, "must be finite and > 0"));
            }
        }
        Ok(Self {
            p,
            q,
            v,
            log_likelihood: f64::NAN,
            iterations: 0,
            converged: true,
            n_customers: 0,
        })
    }

    /// Population mean spend per transaction, `p·v/(q−1)`; errors if `q <= 1` (the mean is
    /// infinite).
    pub fn population_mean_spend(&self) -> Result<f64> {
        if self.q <= 1.0 {
            return Err(invalid("q", self.q, "the mean spend exists only for q > 1"));
        }
        Ok(self.p * self.v / (self.q - 1.0))
    }

    /// Expected spend per transaction of a customer with `x` repeat purchases of mean value
    /// `mbar`: the credibility-weighted mix `(1−w)·p·v/(q−1) + w·mbar`, `w = p·x/(p·x+q−1)`;
    /// for `x = 0` the population mean. Errors if `q <= 1` or `x < 0`.
    pub fn conditional_expected_average_profit(&self, x: f64, mbar: f64) -> Result<f64> {
        let mean = self.population_mean_spend()?;
        if !(x.is_finite() && x >= 0.0) {
            return Err(invalid("frequency", x, "must be finite and >= 0"));
        }
        if x == 0.0 {
            return Ok(mean);
        }
        let w = self.p * x / (self.p * x + self.q - 1.0);
        Ok((1.0 - w) * mean + w * mbar)
    }

    /// Simulate `(x, mbar)` for customers with the given repeat counts: `ν ~ Gamma(q, rate v)`,
    /// each transaction `~ Gamma(p, rate ν)`, so `mbar ~ Gamma(p·x, rate ν·x)`. Deterministic
    /// for a seed; rows with `x <= 0` are skipped.
    pub fn simulate(&self, frequencies: &[f64], seed: u64) -> Vec<(f64, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let Ok(nu_d) = Gamma::new(self.q, 1.0 / self.v) else {
            return Vec::new();
        };
        frequencies
            .iter()
            .filter(|x| **x > 0.0)
            .filter_map(|&x| {
                let nu: f64 = nu_d.sample(&mut rng);
                let m = Gamma::new(self.p * x, 1.0 / (nu * x))
                    .ok()?
                    .sample(&mut rng);
                Some((x, m))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{assert_abs_diff_eq, assert_relative_eq};

    fn cdnow() -> Vec<(f64, f64)> {
        let rows = crate::models::bgnbd::read_summary_csv(&crate::test_data::shared(
            "cdnow/cdnow_customers_summary_with_transactions.csv",
        ));
        rows.into_iter()
            .filter(|r| r[1] > 0.0)
            .map(|r| (r[1], r[4]))
            .collect()
    }

    #[test]
    fn cdnow_reproduces_published_fit() {
        // Fader, Hardie & Lee (2005, "RFM and CLV"): p = 6.2488, q = 3.7446, v = 15.4477 on
        // the 946 repeat customers; lifetimes 0.11.3 gives 6.248802, 3.744588, 15.447748.
        let data = cdnow();
        assert_eq!(data.len(), 946);
        let m = GammaGamma::params().fit(&data).unwrap();
        eprintln!("cdnow gg: {m:?}");
        assert_abs_diff_eq!(m.p, 6.2488, epsilon = 1e-3);
        assert_abs_diff_eq!(m.q, 3.7446, epsilon = 1e-3);
        assert_abs_diff_eq!(m.v, 15.4477, epsilon = 1e-3);
        let back: GammaGamma = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn penalizer_matches_lifetimes() {
        // lifetimes 0.11.3 GammaGammaFitter(penalizer_coef=0.01) on the same 946 customers.
        let m = GammaGamma::params().penalizer(0.01).fit(&cdnow()).unwrap();
        assert_abs_diff_eq!(m.p, 4.109_250, epsilon = 1e-3);
        assert_abs_diff_eq!(m.q, 0.968_385, epsilon = 1e-3);
        assert_abs_diff_eq!(m.v, 3.780_801, epsilon = 1e-3);
        // q < 1: the mean spend is infinite, which is an error, not a number.
        assert!(m.conditional_expected_average_profit(2.0, 10.0).is_err());
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let agg = Aggregated::new(&cdnow());
        for penalizer in [0.0, 0.2] {
            for theta in [[0.1, 0.1, 0.1], [1.8, 1.3, 2.7], [-0.5, 2.0, 0.3]] {
                crate::models::optimize::assert_gradient_matches_finite_differences(
                    |t, g| agg.objective(t, penalizer, g),
                    &theta,
                );
            }
        }
    }

    #[test]
    fn recovers_simulated_parameters() {
        let truth = GammaGamma::from_parameters(6.0, 4.0, 15.0).unwrap();
        let freqs: Vec<f64> = (0..20_000).map(|i| 1.0 + (i % 7) as f64).collect();
        let data = truth.simulate(&freqs, 5);
        let m = GammaGamma::params().fit(&data).unwrap();
        eprintln!("gg recovery: {m:?}");
        assert_relative_eq!(m.p, 6.0, max_relative = 0.1);
        assert_relative_eq!(m.q, 4.0, max_relative = 0.1);
        assert_relative_eq!(m.v, 15.0, max_relative = 0.15);
        // Population mean p·v/(q−1) is estimated more tightly than the parameters.
        assert_relative_eq!(
            m.population_mean_spend().unwrap(),
            30.0,
            max_relative = 0.03
        );
    }

    #[test]
    fn conditional_spend_matches_lifetimes_and_hand_values() {
        // lifetimes 0.11.3 conditional_expected_average_profit at its CDNOW fit, for
        // (x, mbar) = (1, 10), (2, 35.5), (10, 20).
        let m =
            GammaGamma::from_parameters(6.248802496072247, 3.744588460923599, 15.447748064939473)
                .unwrap();
        let want = [17.681645598194905, 35.44075894006469, 20.63830276397604];
        for ((x, mbar), w) in [(1.0, 10.0), (2.0, 35.5), (10.0, 20.0)]
            .into_iter()
            .zip(want)
        {
            assert_relative_eq!(
                m.conditional_expected_average_profit(x, mbar).unwrap(),
                w,
                max_relative = 1e-12
            );
        }
        // Hand-worked: p = 2, q = 3, v = 10 → population mean 2·10/2 = 10; x = 2, mbar = 20:
        // w = 4/(4+2) = 2/3 → 10/3 + 40/3 = 50/3.
        let h = GammaGamma::from_parameters(2.0, 3.0, 10.0).unwrap();
        assert_abs_diff_eq!(
            h.conditional_expected_average_profit(0.0, 99.0).unwrap(),
            10.0,
            epsilon = 1e-12
        );
        assert_abs_diff_eq!(
            h.conditional_expected_average_profit(2.0, 20.0).unwrap(),
            50.0 / 3.0,
            epsilon = 1e-12
        );
        assert!(GammaGamma::from_parameters(2.0, 1.0, 10.0)
            .unwrap()
            .population_mean_spend()
            .is_err());
        assert!(GammaGamma::params().fit(&[(0.0, 3.0)]).is_err());
        assert!(GammaGamma::params().fit(&[]).is_err());
    }
}
