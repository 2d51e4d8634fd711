//! The value models behind one interface: fit on chosen rows of a [`Dataset`], predict any rows,
//! serialise with the fitted parameters. Each fit sees only its training rows (scalers, BTYD
//! sub-models and target transforms included), which is what keeps cross-validation honest.
use crate::features::{CustomerFeatures, FeatureTable};
use crate::models::boosting::{GradientBoosting, Loss};
use crate::models::btyd::{btyd_inputs, Btyd, BtydInput, BtydPrediction, TimeUnit};
use crate::models::compiled::CompiledForest;
use crate::models::linear::{FittedLinear, LinearModel};
use crate::models::tree::RegressionTree;
use crate::models::tweedie::{FittedTweedie, TweedieModel};
use crate::{Error, Result};
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

/// The value models `ltv train --model` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Least squares on the features (optionally on log1p of the target).
    Linear,
    /// Tweedie GLM with log link.
    Tweedie,
    /// CART regression tree.
    Tree,
    /// Histogram gradient-boosted trees.
    Boosting,
    /// BG/NBD × Gamma-Gamma (needs no label).
    Bgnbd,
    /// Boosting with the BG/NBD outputs as extra features.
    Hybrid,
}

impl ModelKind {
    /// Every model, in the order `auto` tries them.
    pub const ALL: [ModelKind; 6] = [
        ModelKind::Bgnbd,
        ModelKind::Linear,
        ModelKind::Tweedie,
        ModelKind::Tree,
        ModelKind::Boosting,
        ModelKind::Hybrid,
    ];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Tweedie => "tweedie",
            ModelKind::Tree => "tree",
            ModelKind::Boosting => "boosting",
            ModelKind::Bgnbd => "bgnbd",
            ModelKind::Hybrid => "hybrid",
        }
    }

    /// Parses a model name.
    pub fn parse(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Hyper-parameters of every model, with defaults; stored in model files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// Seed of the folds and every random choice inside the models.
    pub seed: u64,
    /// Cross-validation folds.
    pub folds: usize,
    /// BTYD time unit.
    pub time_unit: TimeUnit,
    /// L2 penalty of the BG/NBD and Gamma-Gamma fits.
    pub btyd_penalizer: f64,
    /// `linear`: fit on log1p(target) and back-transform with smearing.
    pub linear_log_target: bool,
    /// `linear`: ridge penalty.
    pub linear_alpha: f64,
    /// `tweedie`: variance power in [1, 2].
    pub tweedie_power: f64,
    /// `tweedie`: L2 penalty.
    pub tweedie_alpha: f64,
    /// `tree`: maximum depth.
    pub tree_max_depth: usize,
    /// `tree` and `boosting`: minimum customers per leaf.
    pub min_samples_leaf: usize,
    /// `boosting`: maximum iterations.
    pub boosting_iterations: usize,
    /// `boosting`: learning rate.
    pub learning_rate: f64,
    /// `boosting`: maximum leaves per tree.
    pub max_leaves: usize,
    /// `boosting`: loss (`squared_error` or `poisson`).
    pub boosting_loss: String,
    /// Churn classifier: maximum depth.
    pub churn_max_depth: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            seed: 42,
            folds: 5,
            time_unit: TimeUnit::Weeks,
            btyd_penalizer: 0.0,
            linear_log_target: false,
            linear_alpha: 1e-6,
            tweedie_power: 1.5,
            tweedie_alpha: 1e-4,
            tree_max_depth: 6,
            min_samples_leaf: 20,
            boosting_iterations: 200,
            learning_rate: 0.05,
            max_leaves: 31,
            boosting_loss: "squared_error".into(),
            churn_max_depth: 6,
        }
    }
}

impl TrainSettings {
    fn loss(&self) -> Result<Loss> {
        match self.boosting_loss.as_str() {
            "squared_error" => Ok(Loss::SquaredError),
            "poisson" => Ok(Loss::Poisson),
            other => Err(Error::InvalidParameter {
                name: "boosting_loss",
                value: other.into(),
                reason: "expected `squared_error` or `poisson`".into(),
            }),
        }
    }
}

/// What the models see: the numeric feature matrix (NaN = undefined), BTYD inputs and the label.
pub struct Dataset {
    /// Feature names, the columns of `x`.
    pub feature_names: Vec<String>,
    /// Rows = customers.
    pub x: Array2<f64>,
    /// BTYD inputs per customer.
    pub btyd: Vec<Option<BtydInput>>,
    /// The label (net future spend), when known.
    pub y: Option<Array1<f64>>,
    /// Whether the customer bought again in the horizon, when known.
    pub bought_again: Option<Vec<bool>>,
}

impl Dataset {
    /// A dataset of a plain numeric matrix (columns `x0`, `x1`, …) and its target, without
    /// purchase histories: for the regressors (linear, tweedie, tree, boosting) on any features,
    /// as the Python package's scikit-learn estimator uses them.
    pub fn from_matrix(x: Array2<f64>, y: Array1<f64>) -> Dataset {
        let n = x.nrows();
        Dataset {
            feature_names: (0..x.ncols()).map(|i| format!("x{i}")).collect(),
            x,
            btyd: vec![None; n],
            y: Some(y),
            bought_again: None,
        }
    }

    /// The dataset of a feature table, with the given feature columns.
    pub fn from_table(table: &FeatureTable, names: &[String], unit: TimeUnit) -> Result<Dataset> {
        Dataset::from_rows(&table.rows, table.has_comments, names, unit)
    }

    /// The dataset of feature rows (one block of a table whose comment columns exist when
    /// `has_comments`), with the given feature columns; as [`Dataset::from_table`] of a table
    /// holding `rows`.
    pub fn from_rows(
        rows: &[CustomerFeatures],
        has_comments: bool,
        names: &[String],
        unit: TimeUnit,
    ) -> Result<Dataset> {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let x = crate::features::table::matrix_of(rows, has_comments, &refs)?;
        let labels: Option<Vec<_>> = rows.iter().map(|r| r.label).collect();
        let y = labels.as_ref().map(|ls| {
            ls.iter()
                .map(|l| crate::data::amount::amount_to_f64(l.future_spend))
                .collect::<Array1<f64>>()
        });
        let bought_again = labels.map(|ls| ls.iter().map(|l| l.future_purchase_days > 0).collect());
        Ok(Dataset {
            feature_names: names.to_vec(),
            x,
            btyd: btyd_inputs(rows, unit),
            y,
            bought_again,
        })
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }

    /// `x` restricted to `rows`, with undefined values as 0 (for the linear models and the
    /// churn tree, which take no missing values; `orders_total` = 0 says why a value is missing).
    pub fn x_filled(&self, rows: &[usize]) -> Array2<f64> {
        self.x
            .select(Axis(0), rows)
            .mapv_into(|v| if v.is_nan() { 0.0 } else { v })
    }

    /// [`Dataset::x_filled`] with every value mapped by `sign(v)·ln(1 + |v|)`: the GLMs' inputs.
    /// Spend and counts are heavy-tailed; on the raw scale a log-link model extrapolates
    /// `exp(β·spend)` for the largest customers. The map is fixed (nothing is fitted), so it
    /// cannot leak across folds.
    pub fn x_glm(&self, rows: &[usize]) -> Array2<f64> {
        self.x_filled(rows)
            .mapv_into(|v| v.signum() * v.abs().ln_1p())
    }

    /// [`Dataset::x_glm`] of every row, without the row copy and with `ln(1 + v)` of small
    /// whole numbers (counts, days) looked up: bitwise the same matrix.
    pub fn x_glm_all(&self) -> Array2<f64> {
        let table = glm_table();
        self.x.mapv(|v| glm_lookup(table, v))
    }

    fn y_rows(&self, rows: &[usize]) -> Result<Array1<f64>> {
        let y = self.y.as_ref().ok_or_else(|| {
            Error::NotEnoughData("training needs the label (future spend)".into())
        })?;
        Ok(rows.iter().map(|&i| y[i]).collect())
    }
}

/// Whole numbers whose GLM input is looked up by [`Dataset::x_glm_all`].
const GLM_TABLE: usize = 4096;

/// The GLM input of a feature value: NaN → 0, then `sign(v)·ln(1 + |v|)` (as
/// [`Dataset::x_glm`]).
#[inline]
fn glm_value(v: f64) -> f64 {
    let v = if v.is_nan() { 0.0 } else { v };
    v.signum() * v.abs().ln_1p()
}

/// [`glm_value`] of 0, 1, …, `GLM_TABLE − 1`.
fn glm_table() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..GLM_TABLE).map(|k| glm_value(k as f64)).collect())
}

/// Rows per task of [`glm_in_chunks`].
const GLM_CHUNK: usize = 2048;

/// A GLM's predictions for every row of `data`, on all cores: each task maps a chunk of rows
/// to GLM inputs ([`Dataset::x_glm_all`]'s values, a contiguous standard-layout matrix) and
/// predicts it. Each row's prediction is `intercept + row · β` over its own contiguous row
/// (ndarray's matrix-vector product computes row by row), so the values are those of one
/// call on all rows, for any chunking and thread count.
fn glm_in_chunks<F>(data: &Dataset, predict: F) -> Result<Vec<f64>>
where
    F: Fn(ndarray::ArrayView2<f64>) -> Result<Vec<f64>> + Sync,
{
    use rayon::prelude::*;
    let table = glm_table();
    let chunks: Vec<ndarray::ArrayView2<f64>> =
        data.x.axis_chunks_iter(Axis(0), GLM_CHUNK).collect();
    let parts: Vec<Vec<f64>> = chunks
        .into_par_iter()
        .map(|c| {
            let x = c.mapv(|v| glm_lookup(table, v));
            predict(x.view())
        })
        .collect::<Result<_>>()?;
    Ok(parts.concat())
}

/// [`glm_value`], looked up for small whole numbers.
#[inline]
fn glm_lookup(table: &[f64], v: f64) -> f64 {
    let k = v as usize;
    if k < GLM_TABLE && k as f64 == v && v.is_sign_positive() {
        table[k]
    } else {
        glm_value(v)
    }
}

/// A value model prepared for scoring many customers: the tree models compiled once into
/// their flat, quantised form ([`crate::models::compiled`]), the GLM inputs made without
/// copies. Predictions are bitwise those of [`ValueModel::predict`].
pub struct ValuePredictor<'a> {
    model: &'a ValueModel,
    forest: Option<CompiledForest>,
    /// The hybrid's input matrix (features and BTYD outputs), kept from call to call so that
    /// scoring block after block does not allocate (and fault in) a fresh one each time.
    hybrid_x: std::sync::Mutex<Array2<f64>>,
}

impl<'a> ValuePredictor<'a> {
    /// Prepares `model`.
    pub fn new(model: &'a ValueModel) -> ValuePredictor<'a> {
        let forest = match model {
            ValueModel::Tree { fit } => fit.compiled(),
            ValueModel::Boosting { fit } | ValueModel::Hybrid { fit, .. } => fit.compiled(),
            _ => None,
        };
        ValuePredictor {
            model,
            forest,
            hybrid_x: std::sync::Mutex::new(Array2::zeros((0, 0))),
        }
    }

    /// Predicted net spend in the horizon for every customer of `data`. `known`: a BTYD
    /// model and its prediction for every customer of `data`, reused when the value model
    /// holds the same BTYD model (`bgnbd`, `hybrid`) instead of predicting again.
    pub fn predict_all(
        &self,
        data: &Dataset,
        known: Option<(&Btyd, &BtydPrediction)>,
    ) -> Result<Vec<f64>> {
        let all = || (0..data.len()).collect::<Vec<usize>>();
        let btyd_of = |btyd: &Btyd| -> Result<std::borrow::Cow<'_, BtydPrediction>> {
            Ok(match known {
                Some((b, p)) if b == btyd && p.value.len() == data.len() => {
                    std::borrow::Cow::Borrowed(p)
                }
                _ => std::borrow::Cow::Owned(btyd.predict(&data.btyd, &all())?),
            })
        };
        let p = match (self.model, &self.forest) {
            (ValueModel::Linear { fit }, _) => {
                return glm_in_chunks(data, |x| fit.try_predict(x).map(|p| p.to_vec()))
            }
            (ValueModel::Tweedie { fit }, _) => {
                return glm_in_chunks(data, |x| fit.try_predict(x).map(|p| p.to_vec()))
            }
            (ValueModel::Bgnbd { btyd }, _) => return Ok(btyd_of(btyd)?.value.clone()),
            (ValueModel::Tree { fit }, Some(forest)) => {
                super::check_columns(&data.x.view(), fit.n_features())?;
                fit.predict_compiled(forest, data.x.view())
            }
            (ValueModel::Boosting { fit }, Some(forest)) => {
                super::check_columns(&data.x.view(), fit.n_features())?;
                fit.predict_compiled(forest, data.x.view())
            }
            (ValueModel::Hybrid { btyd, fit }, Some(forest)) => {
                let (n, cols) = (data.len(), data.x.ncols());
                // a poisoned lock only means an earlier call panicked mid-write; every value
                // used below is written again first
                let mut scratch = self.hybrid_x.lock().unwrap_or_else(|e| e.into_inner());
                if scratch.nrows() < n || scratch.ncols() != cols + 3 {
                    *scratch = Array2::zeros((n, cols + 3));
                }
                let mut x = scratch.slice_mut(ndarray::s![..n, ..]);
                fill_with_btyd_columns(
                    x.view_mut(),
                    |i| data.x.row(i),
                    cols,
                    btyd_of(btyd)?.as_ref(),
                );
                super::check_columns(&x.view(), fit.n_features())?;
                fit.predict_compiled(forest, x.view())
            }
            (ValueModel::Hybrid { btyd, fit }, None) => {
                let x = append_btyd_columns(
                    data.len(),
                    |i| data.x.row(i),
                    data.x.ncols(),
                    btyd_of(btyd)?.as_ref(),
                );
                fit.try_predict(x.view())?
            }
            (model, None) => return model.predict(data, &all()),
        };
        Ok(p.to_vec())
    }
}

/// A fitted value model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueModel {
    /// Least squares.
    Linear {
        /// The fit.
        fit: FittedLinear,
    },
    /// Tweedie GLM.
    Tweedie {
        /// The fit.
        fit: FittedTweedie,
    },
    /// Regression tree.
    Tree {
        /// The fit.
        fit: RegressionTree,
    },
    /// Gradient boosting.
    Boosting {
        /// The fit.
        fit: GradientBoosting,
    },
    /// BG/NBD × Gamma-Gamma.
    Bgnbd {
        /// The fit.
        btyd: Btyd,
    },
    /// Boosting on the features plus BG/NBD outputs.
    Hybrid {
        /// The BTYD sub-model (fitted on the same rows).
        btyd: Btyd,
        /// The boosting model.
        fit: GradientBoosting,
    },
}

fn hybrid_x(data: &Dataset, btyd: &Btyd, rows: &[usize]) -> Result<Array2<f64>> {
    let p = btyd.predict(&data.btyd, rows)?;
    Ok(append_btyd_columns(
        rows.len(),
        |i| data.x.row(rows[i]),
        data.x.ncols(),
        &p,
    ))
}

/// The rows `row(0..n)` (`cols` values each) with the three BTYD outputs of `p` (one per
/// row) as extra columns, made in parallel.
fn append_btyd_columns<'a>(
    n: usize,
    row: impl Fn(usize) -> ndarray::ArrayView1<'a, f64> + Sync,
    cols: usize,
    p: &BtydPrediction,
) -> Array2<f64> {
    let mut x = Array2::<f64>::zeros((n, cols + 3));
    fill_with_btyd_columns(x.view_mut(), row, cols, p);
    x
}

/// Writes [`append_btyd_columns`] into `x` (`n` rows of `cols + 3` values), in parallel when
/// its rows lie contiguously in memory.
fn fill_with_btyd_columns<'a>(
    mut x: ndarray::ArrayViewMut2<'_, f64>,
    row: impl Fn(usize) -> ndarray::ArrayView1<'a, f64> + Sync,
    cols: usize,
    p: &BtydPrediction,
) {
    use rayon::prelude::*;
    /// Rows per parallel task.
    const CHUNK: usize = 4096;
    let width = cols + 3;
    let fill = |i: usize, mut o: ndarray::ArrayViewMut1<'_, f64>| {
        o.slice_mut(ndarray::s![..cols]).assign(&row(i));
        o[cols] = p.expected_purchases[i];
        o[cols + 1] = p.p_alive[i];
        o[cols + 2] = p.expected_spend[i];
    };
    match x.as_slice_mut() {
        Some(xs) => xs
            .par_chunks_mut(CHUNK * width)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (k, o) in chunk.chunks_mut(width).enumerate() {
                    fill(c * CHUNK + k, ndarray::ArrayViewMut1::from(o));
                }
            }),
        None => {
            for (i, o) in x.rows_mut().into_iter().enumerate() {
                fill(i, o);
            }
        }
    }
}

/// Names of the extra features the hybrid model adds.
pub const HYBRID_EXTRA_FEATURES: [&str; 3] = [
    "btyd_expected_purchases",
    "btyd_p_alive",
    "btyd_expected_spend",
];

impl ValueModel {
    /// Fits `kind` on `rows` of `data` for a horizon of `horizon_days`.
    pub fn fit(
        kind: ModelKind,
        data: &Dataset,
        rows: &[usize],
        horizon_days: f64,
        s: &TrainSettings,
    ) -> Result<ValueModel> {
        let btyd = || {
            Btyd::fit(
                &data.btyd,
                rows,
                s.time_unit,
                horizon_days,
                s.btyd_penalizer,
            )
        };
        let boosting = || {
            GradientBoosting::params()
                .n_iterations(s.boosting_iterations)
                .learning_rate(s.learning_rate)
                .max_leaves(Some(s.max_leaves))
                .min_samples_leaf(s.min_samples_leaf)
                .seed(s.seed)
        };
        Ok(match kind {
            ModelKind::Linear => ValueModel::Linear {
                fit: LinearModel::params()
                    .log_target(s.linear_log_target)
                    .alpha(s.linear_alpha)
                    .fit(data.x_glm(rows).view(), data.y_rows(rows)?.view())?,
            },
            ModelKind::Tweedie => ValueModel::Tweedie {
                fit: TweedieModel::params()
                    .power(s.tweedie_power)
                    .alpha(s.tweedie_alpha)
                    .fit(data.x_glm(rows).view(), data.y_rows(rows)?.view())?,
            },
            ModelKind::Tree => ValueModel::Tree {
                fit: RegressionTree::params()
                    .max_depth(s.tree_max_depth)
                    .min_samples_leaf(s.min_samples_leaf)
                    .seed(s.seed)
                    .fit(
                        data.x.select(Axis(0), rows).view(),
                        data.y_rows(rows)?.view(),
                    )?,
            },
            ModelKind::Boosting => ValueModel::Boosting {
                fit: boosting().loss(s.loss()?).fit(
                    data.x.select(Axis(0), rows).view(),
                    data.y_rows(rows)?.view(),
                )?,
            },
            ModelKind::Bgnbd => ValueModel::Bgnbd { btyd: btyd()? },
            ModelKind::Hybrid => {
                let b = btyd()?;
                let x = hybrid_x(data, &b, rows)?;
                let fit = boosting()
                    .loss(s.loss()?)
                    .fit(x.view(), data.y_rows(rows)?.view())?;
                ValueModel::Hybrid { btyd: b, fit }
            }
        })
    }

    /// Predicted net spend in the horizon for `rows` of `data`.
    pub fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let p = match self {
            ValueModel::Linear { fit } => fit.try_predict(data.x_glm(rows).view())?,
            ValueModel::Tweedie { fit } => fit.try_predict(data.x_glm(rows).view())?,
            ValueModel::Tree { fit } => fit.try_predict(data.x.select(Axis(0), rows).view())?,
            ValueModel::Boosting { fit } => fit.try_predict(data.x.select(Axis(0), rows).view())?,
            ValueModel::Bgnbd { btyd } => return Ok(btyd.predict(&data.btyd, rows)?.value),
            ValueModel::Hybrid { btyd, fit } => {
                fit.try_predict(hybrid_x(data, btyd, rows)?.view())?
            }
        };
        Ok(p.to_vec())
    }

    /// The model's kind.
    pub fn kind(&self) -> ModelKind {
        match self {
            ValueModel::Linear { .. } => ModelKind::Linear,
            ValueModel::Tweedie { .. } => ModelKind::Tweedie,
            ValueModel::Tree { .. } => ModelKind::Tree,
            ValueModel::Boosting { .. } => ModelKind::Boosting,
            ValueModel::Bgnbd { .. } => ModelKind::Bgnbd,
            ValueModel::Hybrid { .. } => ModelKind::Hybrid,
        }
    }

    /// Feature importances (name, share), largest first, for the tree models.
    pub fn feature_importances(&self, names: &[String]) -> Vec<(String, f64)> {
        let (imp, extra): (&[f64], &[&str]) = match self {
            ValueModel::Tree { fit } => (fit.feature_importances(), &[]),
            ValueModel::Boosting { fit } => (fit.feature_importances(), &[]),
            ValueModel::Hybrid { fit, .. } => (fit.feature_importances(), &HYBRID_EXTRA_FEATURES),
            _ => return Vec::new(),
        };
        let all: Vec<String> = names
            .iter()
            .cloned()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect();
        let mut v: Vec<(String, f64)> = all.into_iter().zip(imp.iter().copied()).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The looked-up GLM inputs are bitwise those of `x_glm`: whole numbers in and beyond the
    /// table, ±0, negatives, fractions, NaN, ±inf.
    #[test]
    fn x_glm_all_equals_x_glm() {
        let mut vals: Vec<f64> = (0..5000).map(f64::from).collect();
        vals.extend([
            -0.0,
            -1.0,
            -3.0,
            0.5,
            1e-300,
            2.000_000_1,
            4095.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e20,
        ]);
        vals.push(0.0);
        // several chunks of `glm_in_chunks`
        let vals = vals.repeat(8);
        let n = vals.len() / 4;
        assert!(n > 2 * GLM_CHUNK);
        let x = Array2::from_shape_vec((n, 4), vals[..n * 4].to_vec()).unwrap();
        let data = Dataset {
            feature_names: vec![],
            x,
            btyd: vec![None; n],
            y: None,
            bought_again: None,
        };
        let all: Vec<usize> = (0..n).collect();
        let want = data.x_glm(&all);
        let got = data.x_glm_all();
        for (a, b) in got.iter().zip(want.iter()) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
        }
        // chunked prediction equals one product over all rows (here: row sums + 1 via a
        // 4-column linear predictor written with ndarray's dot, as the GLMs do)
        let beta = ndarray::array![0.5, -1.25, 2.0, 1e-3];
        let whole = (want.dot(&beta) + 1.0).to_vec();
        let chunked = glm_in_chunks(&data, |x| Ok((x.dot(&beta) + 1.0).to_vec())).unwrap();
        assert_eq!(whole.len(), chunked.len());
        for (a, b) in whole.iter().zip(&chunked) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
        }
        // the table holds ln(1 + k) for whole k
        assert!((glm_table()[3] - 4f64.ln()).abs() < 1e-15);
    }
}
