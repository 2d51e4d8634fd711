//! Histogram gradient boosting of regression trees, in linfa's shape, with squared-error,
//! Poisson and Tweedie losses (log link for the latter two, for spend with many zeros).
//!
//! Each iteration fits one tree ([`super::tree`]'s grower, best-first growth) to the
//! loss's gradients and hessians over quantile bins ([`super::histogram`]); leaf values are
//! Newton steps `−G/(H+λ)` shrunk by the learning rate. Early stopping watches the mean
//! deviance on a seeded inner validation split and keeps the trees up to the best iteration.
//! Every float sum is computed in a fixed order (histograms per feature, sequentially over
//! rows), so fits are identical for every rayon thread count.
use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::compiled::CompiledForest;
use super::histogram::{BinMapper, BinnedMatrix, DEFAULT_BINNING_SUBSAMPLE, MAX_BINS};
use super::tree::{check_data, grow, normalise, predict_rows, GrowConfig, Tree, Workspace};
use crate::{Error, Result};

/// The loss a [`GradientBoosting`] model minimises.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Loss {
    /// Squared error, identity link.
    SquaredError,
    /// Poisson deviance, log link (predictions are `exp(raw)`); targets must be ≥ 0.
    Poisson,
    /// Tweedie deviance with `1 < power < 2` (compound Poisson–gamma), log link; targets ≥ 0.
    Tweedie {
        /// The variance power.
        power: f64,
    },
}

impl Loss {
    fn log_link(&self) -> bool {
        !matches!(self, Loss::SquaredError)
    }

    /// Maps a raw score to a prediction of the mean.
    #[inline]
    pub fn inverse_link(&self, raw: f64) -> f64 {
        if self.log_link() {
            raw.exp()
        } else {
            raw
        }
    }

    /// Gradient and hessian of the (half) deviance with respect to the raw score.
    #[inline]
    fn grad_hess(&self, y: f64, raw: f64) -> (f64, f64) {
        match *self {
            Loss::SquaredError => (raw - y, 1.0),
            Loss::Poisson => {
                let mu = raw.exp();
                (mu - y, mu)
            }
            Loss::Tweedie { power: p } => {
                let a = ((1.0 - p) * raw).exp();
                let b = ((2.0 - p) * raw).exp();
                (-y * a + b, -(1.0 - p) * y * a + (2.0 - p) * b)
            }
        }
    }

    /// Unit deviance of target `y` at mean `mu`.
    #[inline]
    pub fn unit_deviance(&self, y: f64, mu: f64) -> f64 {
        match *self {
            Loss::SquaredError => (y - mu) * (y - mu),
            Loss::Poisson => {
                let ylogy = if y > 0.0 { y * (y / mu).ln() } else { 0.0 };
                2.0 * (ylogy - (y - mu))
            }
            Loss::Tweedie { power: p } => {
                2.0 * (y.max(0.0).powf(2.0 - p) / ((1.0 - p) * (2.0 - p))
                    - y * mu.powf(1.0 - p) / (1.0 - p)
                    + mu.powf(2.0 - p) / (2.0 - p))
            }
        }
    }

    /// Mean unit deviance (weighted when `w` is given) of means `mu` for targets `y`,
    /// summed sequentially.
    pub fn mean_deviance(
        &self,
        y: ArrayView1<f64>,
        mu: ArrayView1<f64>,
        w: Option<ArrayView1<f64>>,
    ) -> f64 {
        let (mut s, mut sw) = (0.0, 0.0);
        for (i, (&yi, &mi)) in y.iter().zip(mu.iter()).enumerate() {
            let wi = w.as_ref().map_or(1.0, |w| w[i]);
            s += wi * self.unit_deviance(yi, mi);
            sw += wi;
        }
        s / sw
    }

    fn check(&self) -> Result<()> {
        if let Loss::Tweedie { power } = *self {
            if !(power > 1.0 && power < 2.0) {
                return Err(Error::InvalidParameter {
                    name: "loss.power",
                    value: power.to_string(),
                    reason: "Tweedie power must be in (1, 2); use Loss::Poisson for 1".into(),
                });
            }
        }
        Ok(())
    }
}

/// Hyper-parameters of [`GradientBoosting`]; build with [`GradientBoosting::params`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoostingParams {
    n_iterations: usize,
    learning_rate: f64,
    max_depth: Option<usize>,
    max_leaves: Option<usize>,
    min_samples_leaf: usize,
    l2_regularization: f64,
    max_bins: usize,
    loss: Loss,
    early_stopping: bool,
    validation_fraction: f64,
    n_iter_no_change: usize,
    tol: f64,
    subsample: Option<f64>,
    seed: u64,
}

impl Default for GradientBoostingParams {
    fn default() -> Self {
        GradientBoostingParams {
            n_iterations: 200,
            learning_rate: 0.1,
            max_depth: None,
            max_leaves: Some(31),
            min_samples_leaf: 20,
            l2_regularization: 0.0,
            max_bins: MAX_BINS,
            loss: Loss::SquaredError,
            early_stopping: true,
            validation_fraction: 0.1,
            n_iter_no_change: 10,
            tol: 1e-7,
            subsample: None,
            seed: 0,
        }
    }
}

impl GradientBoostingParams {
    /// Maximum boosting iterations (trees); default 200; ≥ 1.
    pub fn n_iterations(mut self, n: usize) -> Self {
        self.n_iterations = n;
        self
    }

    /// Shrinkage of each tree's leaf values; default 0.1; in (0, 1].
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }

    /// Maximum depth of each tree; default `None` (limited by `max_leaves` only).
    pub fn max_depth(mut self, d: Option<usize>) -> Self {
        self.max_depth = d;
        self
    }

    /// Maximum leaves of each tree (best-first growth); default `Some(31)`.
    pub fn max_leaves(mut self, l: Option<usize>) -> Self {
        self.max_leaves = l;
        self
    }

    /// Minimum training rows in each leaf; default 20; ≥ 1.
    pub fn min_samples_leaf(mut self, m: usize) -> Self {
        self.min_samples_leaf = m;
        self
    }

    /// L2 penalty λ on leaf values (`leaf = −G/(H+λ)`); default 0; ≥ 0.
    pub fn l2_regularization(mut self, l2: f64) -> Self {
        self.l2_regularization = l2;
        self
    }

    /// Maximum quantile bins per feature (2..=255); default 255.
    pub fn max_bins(mut self, b: usize) -> Self {
        self.max_bins = b;
        self
    }

    /// The loss; default [`Loss::SquaredError`].
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Whether to stop when the validation deviance stops improving; default `true`.
    pub fn early_stopping(mut self, on: bool) -> Self {
        self.early_stopping = on;
        self
    }

    /// Share of rows held out (seeded) for early stopping; default 0.1; in (0, 1).
    pub fn validation_fraction(mut self, f: f64) -> Self {
        self.validation_fraction = f;
        self
    }

    /// Iterations without improvement before stopping; default 10; ≥ 1.
    pub fn n_iter_no_change(mut self, n: usize) -> Self {
        self.n_iter_no_change = n;
        self
    }

    /// Minimum decrease of the validation deviance that counts as improvement; default 1e-7.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Share of training rows sampled (seeded, without replacement) for each tree; default
    /// `None` (all rows); in (0, 1].
    pub fn subsample(mut self, s: Option<f64>) -> Self {
        self.subsample = s;
        self
    }

    /// Seed of the validation split, row subsampling and binning subsample; default 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every hyper-parameter; the error names the bad value.
    pub fn check(&self) -> Result<()> {
        use super::param_check::{at_least, finite_at_least, require};
        at_least("n_iterations", self.n_iterations, 1)?;
        let rate = self.learning_rate > 0.0 && self.learning_rate <= 1.0;
        require(
            rate,
            "learning_rate",
            self.learning_rate,
            "must be in (0, 1]",
        )?;
        if let Some(d) = self.max_depth {
            at_least("max_depth", d, 1)?;
        }
        if let Some(l) = self.max_leaves {
            at_least("max_leaves", l, 2)?;
        }
        at_least("min_samples_leaf", self.min_samples_leaf, 1)?;
        finite_at_least("l2_regularization", self.l2_regularization, 0.0)?;
        let bins = (2..=MAX_BINS).contains(&self.max_bins);
        require(bins, "max_bins", self.max_bins, "must be in 2..=255")?;
        self.loss.check()?;
        if self.early_stopping {
            let f = self.validation_fraction;
            require(
                f > 0.0 && f < 1.0,
                "validation_fraction",
                f,
                "must be in (0, 1)",
            )?;
        }
        at_least("n_iter_no_change", self.n_iter_no_change, 1)?;
        finite_at_least("tol", self.tol, 0.0)?;
        if let Some(s) = self.subsample {
            require(s > 0.0 && s <= 1.0, "subsample", s, "must be in (0, 1]")?;
        }
        Ok(())
    }

    /// Fits to `x` (rows × features; NaN = missing) and target `y`.
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<GradientBoosting> {
        self.fit_weighted(x, y, None)
    }

    /// Fits with optional non-negative sample weights.
    pub fn fit_weighted(
        &self,
        x: ArrayView2<f64>,
        y: ArrayView1<f64>,
        sample_weight: Option<ArrayView1<f64>>,
    ) -> Result<GradientBoosting> {
        self.check()?;
        check_data(&x, &y, sample_weight.as_ref())?;
        if self.loss.log_link() {
            if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| **v < 0.0) {
                return Err(Error::InvalidParameter {
                    name: "y",
                    value: v.to_string(),
                    reason: format!(
                        "target at row {i} is negative; {:?} needs y >= 0",
                        self.loss
                    ),
                });
            }
        }
        let n = x.nrows();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);

        // Seeded train / validation split (both kept in ascending row order).
        let (train_idx, val_idx): (Vec<usize>, Vec<usize>) = if self.early_stopping {
            let n_val = ((n as f64) * self.validation_fraction).round() as usize;
            if n_val == 0 || n_val >= n {
                return Err(Error::NotEnoughData(format!(
                    "{n} rows cannot be split with validation_fraction {}",
                    self.validation_fraction
                )));
            }
            let mut is_val = vec![false; n];
            for i in rand::seq::index::sample(&mut rng, n, n_val) {
                is_val[i] = true;
            }
            (0..n).partition(|&i| !is_val[i])
        } else {
            ((0..n).collect(), Vec::new())
        };
        let take = |idx: &[usize]| x.select(Axis(0), idx);
        let (x_tr, x_va) = if self.early_stopping {
            (take(&train_idx), take(&val_idx))
        } else {
            (x.to_owned(), x.select(Axis(0), &[]))
        };
        let y_tr: Vec<f64> = train_idx.iter().map(|&i| y[i]).collect();
        let y_va: Array1<f64> = val_idx.iter().map(|&i| y[i]).collect();
        let w_tr: Option<Vec<f64>> = sample_weight
            .as_ref()
            .map(|w| train_idx.iter().map(|&i| w[i]).collect());
        let w_va: Option<Array1<f64>> = sample_weight
            .as_ref()
            .map(|w| val_idx.iter().map(|&i| w[i]).collect());
        let n_tr = y_tr.len();

        let binning_seed = self.seed ^ 0x9E37_79B9_7F4A_7C15;
        let mapper = BinMapper::fit(
            x_tr.view(),
            self.max_bins,
            DEFAULT_BINNING_SUBSAMPLE,
            binning_seed,
        )?;
        let b_tr = mapper.transform(x_tr.view())?;
        let b_va = mapper.transform(x_va.view())?;

        // Baseline: the (weighted) mean of y on the link scale.
        let (sy, sw) = match &w_tr {
            None => (y_tr.iter().sum::<f64>(), n_tr as f64),
            Some(w) => (
                y_tr.iter().zip(w).map(|(y, w)| y * w).sum::<f64>(),
                w.iter().sum::<f64>(),
            ),
        };
        if sw <= 0.0 {
            return Err(Error::NotEnoughData(
                "training rows have zero total weight".into(),
            ));
        }
        let mean = sy / sw;
        let baseline = if self.loss.log_link() {
            if mean <= 0.0 {
                return Err(Error::NotEnoughData(format!(
                    "mean target is {mean}; {:?} needs a positive mean",
                    self.loss
                )));
            }
            mean.ln()
        } else {
            mean
        };

        let cfg = GrowConfig {
            max_depth: self.max_depth,
            max_leaves: self.max_leaves,
            min_samples_leaf: self.min_samples_leaf,
            min_gain: 0.0,
            l2: self.l2_regularization,
            min_hessian: if matches!(self.loss, Loss::SquaredError) {
                0.0
            } else {
                1e-3
            },
        };
        let const_hess = matches!(self.loss, Loss::SquaredError) && w_tr.is_none();

        let mut raw_tr = vec![baseline; n_tr];
        let mut raw_va = vec![baseline; val_idx.len()];
        let mut g = vec![0.0; n_tr];
        let mut h = vec![0.0; n_tr];
        let mut rows: Vec<u32> = Vec::with_capacity(n_tr);
        let mut ws = Workspace::new(n_tr);
        let mut trees: Vec<Tree> = Vec::new();
        let mut val_history: Vec<f64> = Vec::new();
        let val_score = |raw: &[f64]| -> f64 {
            let mu: Array1<f64> = raw.iter().map(|&r| self.loss.inverse_link(r)).collect();
            self.loss
                .mean_deviance(y_va.view(), mu.view(), w_va.as_ref().map(|w| w.view()))
        };
        let mut best_score = f64::INFINITY;
        let mut best_iter = 0usize; // number of trees at the best score
        if self.early_stopping {
            best_score = val_score(&raw_va);
            val_history.push(best_score);
        }
        let n_sub = self
            .subsample
            .map(|s| ((n_tr as f64 * s).round() as usize).clamp(1, n_tr));
        const CHUNK: usize = 8192;
        for _ in 0..self.n_iterations {
            // Gradients, elementwise in parallel (no reductions).
            let loss = self.loss;
            g.par_chunks_mut(CHUNK)
                .zip(h.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(|(k, (gc, hc))| {
                    let off = k * CHUNK;
                    for j in 0..gc.len() {
                        let i = off + j;
                        let (gi, hi) = loss.grad_hess(y_tr[i], raw_tr[i]);
                        let wi = w_tr.as_ref().map_or(1.0, |w| w[i]);
                        gc[j] = gi * wi;
                        hc[j] = hi * wi;
                    }
                });
            rows.clear();
            let all_rows = match n_sub {
                Some(k) if k < n_tr => {
                    let mut idx = rand::seq::index::sample(&mut rng, n_tr, k).into_vec();
                    idx.sort_unstable();
                    rows.extend(idx.into_iter().map(|i| i as u32));
                    false
                }
                _ => {
                    rows.extend(0..n_tr as u32);
                    true
                }
            };
            let grown = grow(
                &b_tr,
                &mapper,
                &mut rows,
                all_rows,
                &g,
                if const_hess { None } else { Some(&h) },
                &cfg,
                self.learning_rate,
                &mut ws,
            );
            if all_rows {
                for &(a, b, v) in &grown.leaf_ranges {
                    for &r in &rows[a..b] {
                        raw_tr[r as usize] += v;
                    }
                }
            } else {
                add_tree_binned(&grown.tree, &b_tr, &mut raw_tr);
            }
            let single_leaf = grown.tree.nodes.len() == 1;
            trees.push(grown.tree);
            if self.early_stopping {
                add_tree_binned(&trees[trees.len() - 1], &b_va, &mut raw_va);
                let s = val_score(&raw_va);
                val_history.push(s);
                if s < best_score - self.tol {
                    best_score = s;
                    best_iter = trees.len();
                } else if trees.len() - best_iter >= self.n_iter_no_change {
                    break;
                }
            }
            if single_leaf && self.subsample.is_none() && matches!(self.loss, Loss::SquaredError) {
                // No split helps, and a constant shift of squared-error residuals never
                // changes split gains: every further tree would be a single leaf too.
                break;
            }
        }
        let n_trees_built = trees.len();
        if self.early_stopping {
            trees.truncate(best_iter);
        }
        let mut gains = vec![0.0; x.ncols()];
        for t in &trees {
            t.add_gains(&mut gains);
        }
        Ok(GradientBoosting {
            params: self.clone(),
            n_features: x.ncols(),
            baseline,
            trees,
            n_iterations_run: n_trees_built,
            validation_deviance: val_history,
            feature_importances: normalise(gains),
        })
    }
}

/// Adds one tree's output to raw scores of binned rows (in parallel over fixed row blocks;
/// each row independently).
fn add_tree_binned(tree: &Tree, b: &BinnedMatrix, raw: &mut [f64]) {
    const BLOCK: usize = 4096;
    raw.par_chunks_mut(BLOCK).enumerate().for_each(|(k, rc)| {
        let off = k * BLOCK;
        for (j, r) in rc.iter_mut().enumerate() {
            *r += tree.predict_binned(b, off + j);
        }
    });
}

/// A fitted gradient-boosting model. Fit with [`GradientBoosting::params`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoosting {
    params: GradientBoostingParams,
    n_features: usize,
    baseline: f64,
    trees: Vec<Tree>,
    n_iterations_run: usize,
    validation_deviance: Vec<f64>,
    feature_importances: Vec<f64>,
}

impl GradientBoosting {
    /// Default hyper-parameters (scikit-learn HGB's): `n_iterations` 200, `learning_rate` 0.1,
    /// `max_depth` none, `max_leaves` 31, `min_samples_leaf` 20, `l2_regularization` 0,
    /// `max_bins` 255, `loss` squared error, `early_stopping` on, `validation_fraction` 0.1,
    /// `n_iter_no_change` 10, `tol` 1e-7, `subsample` none, `seed` 0.
    pub fn params() -> GradientBoostingParams {
        GradientBoostingParams::default()
    }

    /// Raw scores (link scale) of each row of `x`. Panics if `x` has a different number of
    /// columns than the training data (see [`GradientBoosting::try_predict`]).
    pub fn predict_raw(&self, x: ArrayView2<f64>) -> Array1<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features,
            "x has the wrong number of columns"
        );
        let depths: Vec<usize> = self.trees.iter().map(|t| t.depth()).collect();
        predict_rows(x, |rows, p, out| {
            out.fill(self.baseline);
            // Tree by tree over the block: each row's sum still runs in tree order.
            for (t, &d) in self.trees.iter().zip(&depths) {
                t.add_block(rows, p, d, out);
            }
        })
    }

    /// Predicted mean of each row of `x` (`exp(raw)` for the log-link losses). Panics if `x`
    /// has a different number of columns than the training data.
    pub fn predict(&self, x: ArrayView2<f64>) -> Array1<f64> {
        let loss = self.params.loss;
        self.predict_raw(x).mapv_into(|r| loss.inverse_link(r))
    }

    /// The trees in flat, quantised form for fast batch prediction
    /// ([`GradientBoosting::predict_compiled`]); `None` if they do not fit that layout.
    pub fn compiled(&self) -> Option<CompiledForest> {
        CompiledForest::from_trees(&self.trees, Some(self.baseline))
    }

    /// [`GradientBoosting::predict`] through `compiled` (from [`GradientBoosting::compiled`]
    /// of this model): bitwise the same values. Panics if `x` has a different number of
    /// columns than the training data.
    pub fn predict_compiled(&self, compiled: &CompiledForest, x: ArrayView2<f64>) -> Array1<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features,
            "x has the wrong number of columns"
        );
        let loss = self.params.loss;
        predict_rows(x, |rows, p, out| compiled.predict_rows(rows, p, out))
            .mapv_into(|r| loss.inverse_link(r))
    }

    /// Like [`GradientBoosting::predict`], but an error if the column count is wrong.
    pub fn try_predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        super::check_columns(&x, self.n_features)?;
        Ok(self.predict(x))
    }

    /// Number of feature columns the model was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Total split gain per feature over all kept trees, normalised to sum to one.
    pub fn feature_importances(&self) -> &[f64] {
        &self.feature_importances
    }

    /// Number of trees kept (the best iteration when early stopping).
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Number of iterations run before stopping.
    pub fn n_iterations_run(&self) -> usize {
        self.n_iterations_run
    }

    /// Mean validation deviance before the first tree and after each iteration (empty
    /// without early stopping).
    pub fn validation_deviance(&self) -> &[f64] {
        &self.validation_deviance
    }

    /// The hyper-parameters the model was fitted with.
    pub fn hyper_params(&self) -> &GradientBoostingParams {
        &self.params
    }

    /// The loss the model was fitted with.
    pub fn loss(&self) -> Loss {
        self.params.loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tree::RegressionTree;
    use ndarray::Array2;
    use rand::Rng;
    use rand_distr::{Distribution, Gamma, Normal, Poisson};

    fn r2(y: &Array1<f64>, p: &Array1<f64>) -> f64 {
        let m = y.mean().unwrap();
        let ss_res: f64 = y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum();
        let ss_tot: f64 = y.iter().map(|a| (a - m).powi(2)).sum();
        1.0 - ss_res / ss_tot
    }

    fn nonlinear(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let noise = Normal::new(0.0, 0.1).unwrap();
        let x = Array2::from_shape_fn((n, 5), |_| rng.gen_range(-1.0f64..1.0));
        let y = Array1::from_shape_fn(n, |i| {
            let r = x.row(i);
            (3.0 * r[0]).sin() + r[1] * r[1] + 2.0 * r[2] * r[3] + noise.sample(&mut rng)
        });
        (x, y)
    }

    /// Counts with log-mean linear in x (columns 3.. are irrelevant).
    fn poisson_data(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, 4), |_| rng.gen_range(-1.0f64..1.0));
        let mu = Array1::from_shape_fn(n, |i| {
            let r = x.row(i);
            (0.2 + 0.8 * r[0] - 0.6 * r[1] + 0.3 * r[2]).exp()
        });
        let y = mu.mapv(|m| Poisson::new(m).unwrap().sample(&mut rng));
        (x, y, mu)
    }

    #[test]
    fn boosting_fits_nonlinear_interaction_better_than_a_tree() {
        let (x, y) = nonlinear(12_000, 1);
        let (xt, yt) = nonlinear(4_000, 2);
        let m = GradientBoosting::params().fit(x.view(), y.view()).unwrap();
        let r2_gb = r2(&yt, &m.predict(xt.view()));
        let t = RegressionTree::params().fit(x.view(), y.view()).unwrap();
        let r2_tree = r2(&yt, &t.predict(xt.view()));
        eprintln!("nonlinear: boosting R² {r2_gb:.4}, tree R² {r2_tree:.4}");
        assert!(r2_gb >= 0.9, "boosting R² {r2_gb}");
        assert!(r2_gb > r2_tree + 0.02, "boosting {r2_gb} vs tree {r2_tree}");
        let imp = m.feature_importances();
        assert!(imp[4] < 0.02, "{imp:?}");
    }

    #[test]
    fn poisson_recovers_mean_structure() {
        let (x, y, _) = poisson_data(20_000, 3);
        let (xt, yt, mut_) = poisson_data(20_000, 4);
        let loss = Loss::Poisson;
        let m = GradientBoosting::params()
            .loss(loss)
            .fit(x.view(), y.view())
            .unwrap();
        let pred = m.predict(xt.view());
        assert!(pred.iter().all(|&p| p > 0.0));
        let d_model = loss.mean_deviance(yt.view(), pred.view(), None);
        let d_true = loss.mean_deviance(yt.view(), mut_.view(), None);
        let mean_y = Array1::from_elem(yt.len(), y.mean().unwrap());
        let d_null = loss.mean_deviance(yt.view(), mean_y.view(), None);
        eprintln!("poisson deviance: model {d_model:.4} true {d_true:.4} null {d_null:.4}");
        assert!(d_model < 1.10 * d_true, "model {d_model} true {d_true}");
        assert!(
            d_model < d_null - 0.5 * (d_null - d_true),
            "model {d_model} null {d_null}"
        );
    }

    #[test]
    fn tweedie_recovers_mean_of_compound_poisson_gamma() {
        let power = 1.5;
        let gen = |n: usize, seed: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let x = Array2::from_shape_fn((n, 3), |_| rng.gen_range(-1.0f64..1.0));
            let gamma = Gamma::new(2.0, 5.0).unwrap(); // mean 10 per purchase
            let mut mu = Array1::zeros(n);
            let mut y = Array1::zeros(n);
            for i in 0..n {
                let lam = (-0.5 + 0.9 * x[[i, 0]] - 0.5 * x[[i, 1]]).exp();
                mu[i] = lam * 10.0;
                let k = Poisson::new(lam).unwrap().sample(&mut rng) as usize;
                y[i] = (0..k).map(|_| gamma.sample(&mut rng)).sum::<f64>();
            }
            (x, y, mu)
        };
        let (x, y, _) = gen(20_000, 5);
        let (xt, yt, mut_) = gen(20_000, 6);
        let loss = Loss::Tweedie { power };
        let m = GradientBoosting::params()
            .loss(loss)
            .fit(x.view(), y.view())
            .unwrap();
        let d_model = loss.mean_deviance(yt.view(), m.predict(xt.view()).view(), None);
        let d_true = loss.mean_deviance(yt.view(), mut_.view(), None);
        eprintln!("tweedie deviance: model {d_model:.4} true {d_true:.4}");
        assert!(d_model < 1.10 * d_true, "model {d_model} true {d_true}");
    }

    #[test]
    fn unit_deviances_match_hand_worked_values() {
        assert!((Loss::SquaredError.unit_deviance(3.0, 1.0) - 4.0).abs() < 1e-15);
        // Poisson: 2 (y ln(y/mu) - (y - mu)).
        let d = Loss::Poisson.unit_deviance(2.0, 1.0);
        assert!((d - 2.0 * (2.0 * 2f64.ln() - 1.0)).abs() < 1e-12, "{d}");
        assert!((Loss::Poisson.unit_deviance(0.0, 0.5) - 1.0).abs() < 1e-12);
        // Tweedie tends to Poisson as power -> 1, and is 0 at y = mu.
        let t = Loss::Tweedie { power: 1.0 + 1e-7 }.unit_deviance(2.0, 1.0);
        assert!((t - d).abs() < 1e-5, "{t} vs {d}");
        assert!(Loss::Tweedie { power: 1.5 }.unit_deviance(2.5, 2.5).abs() < 1e-12);
    }

    #[test]
    fn gradients_match_numeric_derivatives_of_half_deviance() {
        for loss in [
            Loss::SquaredError,
            Loss::Poisson,
            Loss::Tweedie { power: 1.3 },
        ] {
            for (y, raw) in [(0.0, 0.3), (2.0, -0.4), (7.5, 1.2)] {
                let f = |r: f64| 0.5 * loss.unit_deviance(y, loss.inverse_link(r));
                let e = 1e-4;
                let g_num = (f(raw + e) - f(raw - e)) / (2.0 * e);
                let h_num = (f(raw + e) - 2.0 * f(raw) + f(raw - e)) / (e * e);
                let (g, h) = loss.grad_hess(y, raw);
                assert!(
                    (g - g_num).abs() < 1e-6 * (1.0 + g.abs()),
                    "{loss:?} {g} {g_num}"
                );
                assert!(
                    (h - h_num).abs() < 1e-4 * (1.0 + h.abs()),
                    "{loss:?} {h} {h_num}"
                );
            }
        }
    }

    #[test]
    fn early_stopping_stops_on_pure_noise() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let x = Array2::from_shape_fn((5_000, 4), |_| rng.gen::<f64>());
        let y = Array1::from_shape_fn(5_000, |_| rng.gen::<f64>());
        let m = GradientBoosting::params().fit(x.view(), y.view()).unwrap();
        eprintln!(
            "noise: ran {} iterations, kept {}",
            m.n_iterations_run(),
            m.n_trees()
        );
        assert!(m.n_iterations_run() < 200, "ran {}", m.n_iterations_run());
        assert!(m.n_trees() <= m.n_iterations_run() - 10);
        assert_eq!(m.validation_deviance().len(), m.n_iterations_run() + 1);
    }

    #[test]
    fn identical_for_one_and_two_threads() {
        let (x, y, _) = poisson_data(30_000, 8);
        let params = GradientBoosting::params()
            .loss(Loss::Poisson)
            .n_iterations(30)
            .subsample(Some(0.7))
            .max_leaves(None)
            .max_depth(Some(6));
        let fit_with = |k: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .unwrap();
            pool.install(|| {
                let m = params.fit(x.view(), y.view()).unwrap();
                let p = m.predict(x.view());
                (m, p)
            })
        };
        let (m1, p1) = fit_with(1);
        let (m2, p2) = fit_with(2);
        assert_eq!(m1, m2);
        assert!(p1.iter().zip(&p2).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn serde_round_trip_predicts_identically() {
        let (x, y) = nonlinear(3_000, 9);
        let m = GradientBoosting::params()
            .n_iterations(20)
            .fit(x.view(), y.view())
            .unwrap();
        let s = serde_json::to_string(&m).unwrap();
        let back: GradientBoosting = serde_json::from_str(&s).unwrap();
        assert_eq!(m, back);
        let (a, b) = (m.predict(x.view()), back.predict(x.view()));
        assert!(a.iter().zip(&b).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn check_names_bad_values() {
        let cases: Vec<(GradientBoostingParams, &str, &str)> = vec![
            (
                GradientBoosting::params().learning_rate(0.0),
                "learning_rate",
                "0",
            ),
            (
                GradientBoosting::params().learning_rate(1.5),
                "learning_rate",
                "1.5",
            ),
            (
                GradientBoosting::params().loss(Loss::Tweedie { power: 2.5 }),
                "power",
                "2.5",
            ),
            (
                GradientBoosting::params().subsample(Some(1.25)),
                "subsample",
                "1.25",
            ),
            (
                GradientBoosting::params().validation_fraction(1.0),
                "validation_fraction",
                "1",
            ),
            (
                GradientBoosting::params().l2_regularization(-0.5),
                "l2_regularization",
                "-0.5",
            ),
            (
                GradientBoosting::params().max_leaves(Some(1)),
                "max_leaves",
                "1",
            ),
            (
                GradientBoosting::params().n_iterations(0),
                "n_iterations",
                "0",
            ),
        ];
        for (p, name, value) in cases {
            let e = p.check().unwrap_err().to_string();
            assert!(e.contains(name) && e.contains(&format!("`{value}`")), "{e}");
        }
        let x = Array2::<f64>::zeros((10, 2));
        let y = Array1::from_elem(10, -1.0);
        let e = GradientBoosting::params()
            .loss(Loss::Poisson)
            .early_stopping(false)
            .fit(x.view(), y.view())
            .unwrap_err()
            .to_string();
        assert!(e.contains("-1"), "{e}");
    }
}
