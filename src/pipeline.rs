//! End-to-end jobs the CLI runs: train (cross-validated, with model comparison), evaluate a
//! model against what happened after a cutoff, and score a whole customer base.
use crate::data::ReadReport;
use crate::data::{Cutoff, ReadOptions};
use crate::evaluate::{auc, Metrics};
use crate::features::{
    build_features, fold_features, FeatureBuild, FeatureParams, FeatureTable, Inputs,
    LifecycleThresholds, Stage,
};
use crate::models::btyd::Btyd;
use crate::models::churn::{ChurnClassifier, FittedChurn};
use crate::models::compiled::CompiledForest;
use crate::models::file::{ModelFile, ModelScore, TrainedInputs, FORMAT_VERSION};
use crate::models::folds::{kfold_assignment, split};
use crate::models::value::{Dataset, ModelKind, TrainSettings, ValueModel, ValuePredictor};
use crate::tiers::TierCutoffs;
use crate::{Error, Result};
use ndarray::Array1;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Which value model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelChoice {
    /// One model.
    One(ModelKind),
    /// Every model under the same folds; the best out-of-fold normalized Gini wins (ties: RMSE).
    Auto,
}

/// Progress messages of long jobs.
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// sha256 over files: for each, its name and its bytes (a directory of Parquet parts: each
/// part, in name order).
pub fn hash_files(paths: &[PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        if p.is_dir() {
            files.extend(crate::data::parquet::part_files(p)?);
        } else {
            files.push(p.clone());
        }
    }
    for p in &files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        h.update(name.as_bytes());
        h.update([0u8]);
        let mut f = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::io(p, e))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A training job.
pub struct TrainJob<'a> {
    /// The inputs.
    pub inputs: Inputs<'a>,
    /// Their paths (for the data hash).
    pub input_paths: Vec<PathBuf>,
    /// How to read them.
    pub read: ReadOptions,
    /// The cutoff.
    pub cutoff: Cutoff,
    /// Label horizon in days.
    pub horizon_days: i64,
    /// Lifecycle thresholds.
    pub lifecycle: LifecycleThresholds,
    /// Model choice.
    pub model: ModelChoice,
    /// Hyper-parameters, folds and seed.
    pub settings: TrainSettings,
    /// Train even when the label window reaches past the data (its labels then count missing
    /// data as no purchases); by default that is [`Error::PartialLabelWindow`].
    pub allow_partial_window: bool,
}

/// Out-of-fold predictions of one model.
fn cross_validate(
    kind: ModelKind,
    data: &Dataset,
    folds: &[usize],
    k: usize,
    horizon_days: f64,
    s: &TrainSettings,
    cancel: &crate::cancel::Cancel,
) -> Result<Vec<f64>> {
    let mut oof = vec![0.0; data.len()];
    for f in 0..k {
        cancel.check()?;
        let (train, test) = split(folds, f);
        let model = ValueModel::fit(kind, data, &train, horizon_days, s)?;
        for (i, p) in test.iter().zip(model.predict(data, &test)?) {
            oof[*i] = p;
        }
    }
    Ok(oof)
}

fn fit_churn(data: &Dataset, rows: &[usize], s: &TrainSettings) -> Result<FittedChurn> {
    let labels = data
        .bought_again
        .as_ref()
        .ok_or_else(|| Error::NotEnoughData("the churn classifier needs the label".into()))?;
    let y: Array1<bool> = rows.iter().map(|&i| labels[i]).collect();
    ChurnClassifier::params()
        .max_depth(Some(s.churn_max_depth))
        .fit(data.x_filled(rows).view(), y.view())
}

/// The out-of-fold predicted total over the actual total outside this range rejects an `auto`
/// candidate: its value predictions are off in level, whatever its ranking.
pub const AUTO_TOTAL_RATIO_RANGE: (f64, f64) = (0.5, 2.0);
/// An `auto` candidate whose out-of-fold RMSE is more than this many times the best one's is
/// rejected.
pub const AUTO_MAX_RMSE_RATIO: f64 = 1.5;

/// Marks `auto` candidates whose out-of-fold predictions are implausible (predicted total
/// outside [`AUTO_TOTAL_RATIO_RANGE`] of the actual, or RMSE above [`AUTO_MAX_RMSE_RATIO`] ×
/// the best), with the reason. When every candidate would be rejected, the one with the lowest
/// RMSE is kept so training still yields a model (and the others say why they lost).
fn reject_implausible(comparison: &mut [ModelScore]) {
    let best_rmse = comparison
        .iter()
        .filter_map(|c| c.metrics.as_ref().map(|m| m.rmse))
        .filter(|r| r.is_finite())
        .fold(f64::INFINITY, f64::min);
    for c in comparison.iter_mut() {
        let Some(m) = &c.metrics else { continue };
        let (lo, hi) = AUTO_TOTAL_RATIO_RANGE;
        let ratio = m.predicted_total / m.actual_total;
        c.rejected = if m.actual_total > 0.0 && !(lo..=hi).contains(&ratio) {
            Some(format!(
                "out-of-fold predicted total is {ratio:.3}× the actual (outside {lo}–{hi}×)"
            ))
        } else if !m.rmse.is_finite() || m.rmse > AUTO_MAX_RMSE_RATIO * best_rmse {
            Some(format!(
                "out-of-fold RMSE {:.3} is {:.2}× the best ({best_rmse:.3}; limit {AUTO_MAX_RMSE_RATIO}×)",
                m.rmse,
                m.rmse / best_rmse
            ))
        } else {
            None
        };
    }
    if comparison
        .iter()
        .all(|c| c.metrics.is_none() || c.rejected.is_some())
    {
        if let Some(keep) = comparison
            .iter_mut()
            .filter(|c| c.metrics.is_some())
            .min_by(|a, b| {
                let r = |c: &ModelScore| c.metrics.as_ref().map_or(f64::INFINITY, |m| m.rmse);
                r(a).total_cmp(&r(b))
            })
        {
            keep.rejected = None;
        }
    }
}

/// The chosen model of a comparison: the best out-of-fold normalized Gini (ties: lower RMSE)
/// among the fitted candidates, after [`reject_implausible`] when `auto`.
fn choose_model(comparison: &mut [ModelScore], auto: bool) -> Result<(ModelKind, Metrics)> {
    if auto {
        reject_implausible(comparison);
    }
    comparison
        .iter()
        .filter(|c| c.rejected.is_none())
        .filter_map(|c| c.metrics.as_ref().map(|m| (c.model, m)))
        .max_by(|a, b| {
            a.1.normalized_gini
                .total_cmp(&b.1.normalized_gini)
                .then_with(|| b.1.rmse.total_cmp(&a.1.rmse))
        })
        .map(|(k, m)| (k, m.clone()))
        .ok_or_else(|| Error::NotEnoughData("no model could be fitted".into()))
}

/// The result of training.
pub struct TrainOutcome {
    /// The model file to save.
    pub file: ModelFile,
    /// The feature table it was trained on.
    pub table: FeatureTable,
}

/// Trains: features at the cutoff with the label, k-fold cross-validation over customers of
/// every candidate model (same folds), choice, final fit on all customers.
pub fn train(job: TrainJob<'_>, progress: Progress<'_>) -> Result<TrainOutcome> {
    let s = &job.settings;
    let horizon = job.horizon_days as f64;
    progress("building features");
    let params = FeatureParams {
        cutoff: job.cutoff,
        horizon_days: Some(job.horizon_days),
        lifecycle: job.lifecycle,
    };
    let trained_with = TrainedInputs::of(&job.inputs);
    let table = build_features(job.inputs, &params, &job.read, &|_| {})?;
    if let Some(gap) = &table.label_shortfall {
        gap.unless_allowed(job.allow_partial_window)?;
        progress(&format!(
            "warning: partial label window allowed: it ends {}, the data at {}",
            gap.window_end, gap.last
        ));
    }
    let names: Vec<String> = table
        .numeric_feature_names()
        .into_iter()
        .map(String::from)
        .collect();
    let data = Dataset::from_table(&table, &names, s.time_unit)?;
    let y = data.y.as_ref().map(|y| y.to_vec()).unwrap_or_default();
    let folds = kfold_assignment(data.len(), s.folds, s.seed)?;
    let candidates: Vec<ModelKind> = match job.model {
        ModelChoice::One(k) => vec![k],
        ModelChoice::Auto => ModelKind::ALL.to_vec(),
    };
    let mut comparison = Vec::new();
    for &kind in &candidates {
        progress(&format!("cross-validating {}", kind.name()));
        match cross_validate(kind, &data, &folds, s.folds, horizon, s, &job.read.cancel)
            .and_then(|oof| Metrics::compute(&y, &oof))
        {
            Ok(m) => comparison.push(ModelScore {
                model: kind,
                metrics: Some(m),
                error: None,
                rejected: None,
            }),
            Err(Error::Cancelled) => return Err(Error::Cancelled),
            Err(e) if job.model == ModelChoice::Auto => comparison.push(ModelScore {
                model: kind,
                metrics: None,
                error: Some(e.to_string()),
                rejected: None,
            }),
            Err(e) => return Err(e),
        }
    }
    let (chosen, mut metrics) = choose_model(&mut comparison, job.model == ModelChoice::Auto)?;
    progress("cross-validating the churn classifier");
    let labels = data.bought_again.clone().unwrap_or_default();
    let mut churn_oof = vec![0.0; data.len()];
    for f in 0..s.folds {
        job.read.cancel.check()?;
        let (train, test) = split(&folds, f);
        let c = fit_churn(&data, &train, s)?;
        for (i, p) in test.iter().zip(c.try_predict(data.x_filled(&test).view())?) {
            churn_oof[*i] = p;
        }
    }
    if labels.iter().any(|&b| b) && labels.iter().any(|&b| !b) {
        metrics.auc = Some(auc(&labels, &churn_oof)?);
    }
    job.read.cancel.check()?;
    progress(&format!("fitting {} on all customers", chosen.name()));
    let all: Vec<usize> = (0..data.len()).collect();
    let value_model = ValueModel::fit(chosen, &data, &all, horizon, s)?;
    let btyd = Btyd::fit(&data.btyd, &all, s.time_unit, horizon, s.btyd_penalizer).ok();
    let churn = fit_churn(&data, &all, s)?;
    let file = ModelFile {
        format_version: FORMAT_VERSION,
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        model: chosen,
        hyperparameters: s.clone(),
        feature_importances: value_model.feature_importances(&names),
        feature_names: names,
        cutoff: job.read.time.format(job.cutoff.instant()),
        horizon_days: job.horizon_days,
        utc_offset_seconds: job.read.time.utc_offset_seconds(),
        lifecycle: job.lifecycle,
        training_data_sha256: hash_files(&job.input_paths)?,
        training_customers: data.len(),
        metrics,
        model_comparison: comparison,
        value_model,
        btyd,
        churn: Some(churn),
        trained_with,
    };
    Ok(TrainOutcome { file, table })
}

/// Checks that this ltv computes every feature the model uses (the comment columns exist
/// only when comments were read).
fn check_model_features(model: &ModelFile, has_comments: bool) -> Result<()> {
    let known: Vec<&str> = crate::features::FEATURE_COLUMNS
        .iter()
        .chain(
            crate::features::table::COMMENT_COLUMNS
                .iter()
                .filter(|_| has_comments),
        )
        .filter(|c| c.numeric)
        .map(|c| c.name)
        .collect();
    if let Some(missing) = model
        .feature_names
        .iter()
        .find(|n| !known.contains(&n.as_str()))
    {
        let is_comment_column = crate::features::table::COMMENT_COLUMNS
            .iter()
            .any(|c| c.name == missing.as_str());
        // The caller names the model file (the library does not know its path).
        return Err(if is_comment_column {
            Error::MissingInput(format!(
                "the {} model uses comment feature `{missing}`: pass the comments file (--comments)",
                model.model.name()
            ))
        } else {
            Error::InvalidParameter {
                name: "model",
                value: model.model.name().to_string(),
                reason: format!(
                    "the model uses feature `{missing}`, which this ltv does not compute; retrain the model"
                ),
            }
        });
    }
    Ok(())
}

fn dataset_for(model: &ModelFile, table: &FeatureTable) -> Result<Dataset> {
    check_model_features(model, table.has_comments)?;
    Dataset::from_table(table, &model.feature_names, model.hyperparameters.time_unit)
}

/// The four per-customer predictions of a model: value, churn probability, P(alive) and
/// expected orders.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Predicted net spend in the model's horizon.
    pub value: Vec<f64>,
    /// Probability of no purchase in the horizon (NaN without a churn classifier).
    pub churn_probability: Vec<f64>,
    /// BG/NBD probability of being alive (NaN without a BTYD sub-model or for non-buyers).
    pub p_alive: Vec<f64>,
    /// BG/NBD expected purchase days in the horizon (NaN without a BTYD sub-model).
    pub expected_orders: Vec<f64>,
}

/// Feature values made elsewhere (a features table read back, e.g. the output of
/// `ltv features` or of the Python package's `ltv.features`), as [`predict_feature_columns`]
/// takes them. Missing values are NaN.
pub struct FeatureColumns {
    /// One row per customer, one column per name of the model's `feature_names`, in order.
    pub x: ndarray::Array2<f64>,
    /// One row per customer: the values of
    /// [`crate::models::btyd::BTYD_FEATURE_COLUMNS`], in order.
    pub btyd: Vec<[f64; 4]>,
}

/// Predictions of `model` for customers whose features are already made: the numbers
/// [`score_customers`] gives the same customers from the raw inputs, when the features were
/// made at the same cutoff with the model's lifecycle thresholds.
pub fn predict_feature_columns(model: &ModelFile, columns: FeatureColumns) -> Result<Predictions> {
    let FeatureColumns { x, btyd } = columns;
    if x.ncols() != model.feature_names.len() || btyd.len() != x.nrows() {
        return Err(Error::InvalidParameter {
            name: "features",
            value: format!("{} × {} values", x.nrows(), x.ncols()),
            reason: format!(
                "the model reads {} feature columns and the BTYD columns of every row",
                model.feature_names.len()
            ),
        });
    }
    let unit = model.hyperparameters.time_unit;
    let data = Dataset {
        feature_names: model.feature_names.clone(),
        x,
        btyd: btyd
            .into_iter()
            .map(|v| crate::models::btyd::btyd_input_of_values(v, unit))
            .collect(),
        y: None,
        bought_again: None,
    };
    Scorer::new(model).predict(&data)
}

/// Predictions for every customer of `data`; each customer's numbers depend on its own row
/// only, so any split of the customers into datasets gives the same numbers.
fn predict_dataset(model: &ModelFile, data: &Dataset) -> Result<Predictions> {
    let all: Vec<usize> = (0..data.len()).collect();
    let value = model.value_model.predict(data, &all)?;
    let churn_probability = match &model.churn {
        Some(c) => c
            .try_predict(data.x_filled(&all).view())?
            .iter()
            .map(|p| 1.0 - p)
            .collect(),
        None => vec![f64::NAN; data.len()],
    };
    let (p_alive, expected_orders) = btyd_outputs(model, data)?;
    Ok(Predictions {
        value,
        churn_probability,
        p_alive,
        expected_orders,
    })
}

/// BG/NBD P(alive) and expected purchases of every customer of `data` (NaN without a BTYD
/// sub-model).
fn btyd_outputs(model: &ModelFile, data: &Dataset) -> Result<(Vec<f64>, Vec<f64>)> {
    Ok(match &model.btyd {
        Some(b) => {
            let all: Vec<usize> = (0..data.len()).collect();
            let p = b.predict(&data.btyd, &all)?;
            (p.p_alive, p.expected_purchases)
        }
        None => (vec![f64::NAN; data.len()], vec![f64::NAN; data.len()]),
    })
}

/// A model prepared for scoring many blocks: the value model's fast predictor and the churn
/// tree compiled once ([`crate::models::compiled`]); bitwise the numbers of
/// [`predict_dataset`].
struct Scorer<'a> {
    model: &'a ModelFile,
    value: ValuePredictor<'a>,
    churn: Option<CompiledForest>,
}

impl<'a> Scorer<'a> {
    fn new(model: &'a ModelFile) -> Scorer<'a> {
        Scorer {
            model,
            value: ValuePredictor::new(&model.value_model),
            churn: model.churn.as_ref().and_then(CompiledForest::from_churn),
        }
    }

    fn predict(&self, data: &Dataset) -> Result<Predictions> {
        // one BTYD prediction for the outputs and, when it holds the same model, the value
        // model (bgnbd, hybrid)
        let btyd = match &self.model.btyd {
            Some(b) => {
                let all: Vec<usize> = (0..data.len()).collect();
                Some((b, b.predict(&data.btyd, &all)?))
            }
            None => None,
        };
        let value = self
            .value
            .predict_all(data, btyd.as_ref().map(|(b, p)| (*b, p)))?;
        let churn_probability = match (&self.model.churn, &self.churn) {
            (Some(c), Some(compiled)) => {
                crate::models::check_columns(&data.x.view(), c.n_features())?;
                compiled
                    .predict(data.x.view())
                    .iter()
                    .map(|p| 1.0 - p)
                    .collect()
            }
            (Some(c), None) => {
                let all: Vec<usize> = (0..data.len()).collect();
                c.try_predict(data.x_filled(&all).view())?
                    .iter()
                    .map(|p| 1.0 - p)
                    .collect()
            }
            (None, _) => vec![f64::NAN; data.len()],
        };
        let (p_alive, expected_orders) = match btyd {
            Some((_, p)) => (p.p_alive, p.expected_purchases),
            None => (vec![f64::NAN; data.len()], vec![f64::NAN; data.len()]),
        };
        Ok(Predictions {
            value,
            churn_probability,
            p_alive,
            expected_orders,
        })
    }
}

/// Per-customer scores.
pub struct Scores {
    /// The feature table scored.
    pub table: FeatureTable,
    /// Predicted net spend in the model's horizon.
    pub predicted_value: Vec<f64>,
    /// 1 − P(buys again in the horizon).
    pub churn_probability: Vec<f64>,
    /// BG/NBD P(alive) (NaN for customers without a purchase).
    pub p_alive: Vec<f64>,
    /// BG/NBD expected purchase days in the horizon.
    pub expected_orders: Vec<f64>,
    /// Tier cut-offs used.
    pub tiers: TierCutoffs,
}

/// Predictions of a model for every customer of a feature table.
pub fn predict_table(
    model: &ModelFile,
    table: FeatureTable,
    tier_shares: (f64, f64),
) -> Result<Scores> {
    let data = dataset_for(model, &table)?;
    let p = predict_dataset(model, &data)?;
    let tiers = TierCutoffs::from_quantiles(&p.value, tier_shares.0, tier_shares.1)?;
    Ok(Scores {
        table,
        predicted_value: p.value,
        churn_probability: p.churn_probability,
        p_alive: p.p_alive,
        expected_orders: p.expected_orders,
        tiers,
    })
}

/// Builds features at `as_of` (no future data needed) and scores every customer, holding the
/// whole feature table in memory (≈ 300 bytes per customer); [`score_customers`] streams.
pub fn score(
    model: &ModelFile,
    inputs: Inputs<'_>,
    read: &ReadOptions,
    as_of: Cutoff,
    tier_shares: (f64, f64),
) -> Result<Scores> {
    model.trained_with.check_given(TrainedInputs::of(&inputs))?;
    let table = build_features(inputs, &score_params(model, as_of), read, &|_| {})?;
    predict_table(model, table, tier_shares)
}

/// The header line of `scores.csv`.
const SCORES_HEADER: &[u8] =
    b"customer_id,predicted_value,churn_probability,p_alive,expected_orders,lifecycle_stage,rfm_segment,tier\n";

/// Appends one `scores.csv` line.
#[allow(clippy::too_many_arguments)]
fn push_score_line(
    out: &mut Vec<u8>,
    customer_id: &str,
    value: f64,
    churn_probability: f64,
    p_alive: f64,
    expected_orders: f64,
    stage: Stage,
    rfm_segment: Option<&str>,
    tiers: &TierCutoffs,
) {
    use crate::features::table::{push_csv_text, push_float};
    push_csv_text(out, customer_id);
    for v in [value, churn_probability, p_alive, expected_orders] {
        out.push(b',');
        push_float(out, v);
    }
    out.push(b',');
    out.extend_from_slice(stage.as_str().as_bytes());
    out.push(b',');
    out.extend_from_slice(rfm_segment.unwrap_or("").as_bytes());
    out.push(b',');
    out.extend_from_slice(tiers.tier(value).as_str().as_bytes());
    out.push(b'\n');
}

impl Scores {
    /// Writes `scores.csv`: customer_id, predicted_value, churn_probability, p_alive,
    /// expected_orders, lifecycle_stage, rfm_segment, tier. (Formats with `format!`: the plain
    /// reference for [`ScoredCustomers::write_csv`].)
    pub fn write_csv(&self, w: &mut dyn Write) -> Result<()> {
        use crate::features::table::{format_float, push_csv_text};
        let io = |e| Error::io("<scores>", e);
        let mut out = Vec::with_capacity(self.table.rows.len() * 80);
        out.extend_from_slice(SCORES_HEADER);
        for (i, r) in self.table.rows.iter().enumerate() {
            push_csv_text(&mut out, &r.customer_id);
            let v = self.predicted_value[i];
            let line = format!(
                ",{},{},{},{},{},{},{}\n",
                format_float(v),
                format_float(self.churn_probability[i]),
                format_float(self.p_alive[i]),
                format_float(self.expected_orders[i]),
                r.lifecycle_stage.as_str(),
                r.rfm_segment.unwrap_or(""),
                self.tiers.tier(v).as_str()
            );
            out.extend_from_slice(line.as_bytes());
            if out.len() > 1 << 20 {
                w.write_all(&out).map_err(io)?;
                out.clear();
            }
        }
        w.write_all(&out).map_err(io)
    }
}

/// The typed columns of the scores table (Parquet and Arrow outputs).
const SCORE_COLUMNS: [(&str, crate::data::parquet::write::ColumnType); 8] = {
    use crate::data::parquet::write::ColumnType as T;
    [
        ("customer_id", T::Text),
        ("predicted_value", T::Float),
        ("churn_probability", T::Float),
        ("p_alive", T::Float),
        ("expected_orders", T::Float),
        ("lifecycle_stage", T::Category),
        ("rfm_segment", T::Category),
        ("tier", T::Category),
    ]
};

/// Customers whose features are made and scored at a time by [`score_customers`].
const SCORE_BLOCK: usize = 1 << 16;

/// Lines formatted by one task when [`ScoredCustomers::write_csv`] writes.
const WRITE_CHUNK: usize = 4096;

/// One customer's scores, as kept by [`ScoredCustomers`].
#[derive(Debug, Clone, Copy)]
struct Scored {
    predicted_value: f64,
    churn_probability: f64,
    p_alive: f64,
    expected_orders: f64,
    stage: Stage,
}

/// The scores of every customer, kept compactly (the four predictions and the lifecycle stage,
/// 40 bytes per customer, next to the folded inputs, which hold the ids and RFM scores): the
/// result of [`score_customers`], written with [`ScoredCustomers::write_csv`].
pub struct ScoredCustomers {
    build: FeatureBuild,
    /// Scores in id order.
    scored: Vec<Scored>,
}

impl ScoredCustomers {
    /// Number of customers scored.
    pub fn len(&self) -> usize {
        self.scored.len()
    }

    /// Whether no customer was scored.
    pub fn is_empty(&self) -> bool {
        self.scored.is_empty()
    }

    /// What the readers saw and skipped, over all inputs.
    pub fn report(&self) -> &ReadReport {
        self.build.report()
    }

    /// Predicted net spend in the model's horizon of customer `k` (in id order).
    pub fn predicted_value(&self, k: usize) -> f64 {
        self.scored[k].predicted_value
    }

    /// The id of customer `k` (in id order).
    pub fn customer_id(&self, k: usize) -> std::borrow::Cow<'_, str> {
        self.build.customer_id(k)
    }

    /// Tier cut-offs with about `a_share` of customers in A and `b_share` in B
    /// ([`TierCutoffs::from_quantiles`] of the predicted values).
    pub fn tier_cutoffs(&self, a_share: f64, b_share: f64) -> Result<TierCutoffs> {
        // quantiles do not depend on the order of the values
        let values: Vec<f64> = self.scored.iter().map(|c| c.predicted_value).collect();
        TierCutoffs::from_quantiles(&values, a_share, b_share)
    }

    /// Writes the scores as CSV ([`ScoredCustomers::write_csv`]) or Parquet: customer_id
    /// (utf8), predicted_value, churn_probability, p_alive, expected_orders (float64),
    /// lifecycle_stage, rfm_segment, tier (dictionary utf8). `name` names the output.
    pub fn write_as(
        &self,
        tiers: &TierCutoffs,
        format: crate::data::parquet::write::OutputFormat,
        w: &mut dyn Write,
        name: &std::path::Path,
    ) -> Result<()> {
        use crate::data::parquet::write::{OutputFormat, TableWriter};
        if format == OutputFormat::Csv {
            return self.write_csv(tiers, w);
        }
        let mut t = TableWriter::new(w, name, &SCORE_COLUMNS)?;
        self.push_rows_to(tiers, &mut t)?;
        t.finish()
    }

    fn push_rows_to(
        &self,
        tiers: &TierCutoffs,
        sink: &mut dyn crate::data::parquet::write::RowSink,
    ) -> Result<()> {
        use crate::data::parquet::write::Value;
        for (k, c) in self.scored.iter().enumerate() {
            let id = self.build.customer_id(k);
            sink.push_row(&[
                Value::Text(&id),
                Value::Float(c.predicted_value),
                Value::Float(c.churn_probability),
                Value::Float(c.p_alive),
                Value::Float(c.expected_orders),
                Value::Text(c.stage.as_str()),
                self.build.rfm_segment(k).map_or(Value::Null, Value::Text),
                Value::Text(tiers.tier(c.predicted_value).as_str()),
            ])?;
        }
        Ok(())
    }

    /// The scores as Arrow record batches (the typed columns of the Parquet output), for
    /// callers in memory.
    pub fn to_arrow(
        &self,
        tiers: &TierCutoffs,
    ) -> Result<(arrow_schema::SchemaRef, Vec<arrow_array::RecordBatch>)> {
        let mut c = crate::data::parquet::write::BatchCollector::new(&SCORE_COLUMNS);
        self.push_rows_to(tiers, &mut c)?;
        c.finish()
    }

    /// Writes `scores.csv` (the bytes of [`Scores::write_csv`] for the same model, data and
    /// tiers), formatting blocks of lines on all cores; the bytes do not depend on the thread
    /// count.
    pub fn write_csv(&self, tiers: &TierCutoffs, w: &mut dyn Write) -> Result<()> {
        let io = |e| Error::io("<scores>", e);
        w.write_all(SCORES_HEADER).map_err(io)?;
        let mut start = 0;
        while start < self.len() {
            let end = (start + SCORE_BLOCK).min(self.len());
            let chunks: Vec<Vec<u8>> = (start..end)
                .step_by(WRITE_CHUNK)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|from| {
                    let to = (from + WRITE_CHUNK).min(end);
                    let mut out = Vec::with_capacity((to - from) * 80);
                    for k in from..to {
                        let c = &self.scored[k];
                        push_score_line(
                            &mut out,
                            &self.build.customer_id(k),
                            c.predicted_value,
                            c.churn_probability,
                            c.p_alive,
                            c.expected_orders,
                            c.stage,
                            self.build.rfm_segment(k),
                            tiers,
                        );
                    }
                    out
                })
                .collect();
            for c in chunks {
                w.write_all(&c).map_err(io)?;
            }
            start = end;
        }
        Ok(())
    }
}

/// Scores every customer at `as_of` without a feature table: the inputs are folded once
/// ([`fold_features`]), then features are made for blocks of 64k customers at a time, only the
/// model's inputs are kept, and the block is predicted on all cores. Memory: the folded
/// inputs plus ≈ 33 bytes per customer plus one block. `progress` receives the total bytes
/// read so far over all inputs. The numbers are those of [`score`].
pub fn score_customers(
    model: &ModelFile,
    inputs: Inputs<'_>,
    read: &ReadOptions,
    as_of: Cutoff,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ScoredCustomers> {
    score_in_blocks(model, inputs, read, as_of, progress, SCORE_BLOCK)
}

/// [`score_customers`] with `block` customers per block.
fn score_in_blocks(
    model: &ModelFile,
    inputs: Inputs<'_>,
    read: &ReadOptions,
    as_of: Cutoff,
    progress: &(dyn Fn(u64) + Sync),
    block: usize,
) -> Result<ScoredCustomers> {
    model.trained_with.check_given(TrainedInputs::of(&inputs))?;
    let build = fold_features(inputs, &score_params(model, as_of), read, progress)?;
    score_build_in_blocks(model, build, block)
}

/// What a scoring run folds: features at `as_of` without a label, the model's lifecycle
/// thresholds.
pub fn score_params(model: &ModelFile, as_of: Cutoff) -> FeatureParams {
    FeatureParams {
        cutoff: as_of,
        horizon_days: None,
        lifecycle: model.lifecycle,
    }
}

/// The scoring stage of [`score_customers`] on inputs already folded with
/// [`score_params`]: features are made for blocks of 64k customers at a time and each block is
/// predicted on all cores.
pub fn score_folded(model: &ModelFile, build: FeatureBuild) -> Result<ScoredCustomers> {
    score_build_in_blocks(model, build, SCORE_BLOCK)
}

fn score_build_in_blocks(
    model: &ModelFile,
    build: FeatureBuild,
    block: usize,
) -> Result<ScoredCustomers> {
    check_model_features(model, build.has_comments())?;
    let n = build.len();
    let slots = build.slots_in_memory_order();
    // every entry is overwritten: each customer has exactly one slot
    let unscored = Scored {
        predicted_value: f64::NAN,
        churn_probability: f64::NAN,
        p_alive: f64::NAN,
        expected_orders: f64::NAN,
        stage: Stage::Potential,
    };
    let mut scored = vec![unscored; n];
    let scorer = Scorer::new(model);
    let names: Vec<&str> = model.feature_names.iter().map(String::as_str).collect();
    let columns = crate::features::table::model_columns(build.has_comments(), &names)?;
    let mut stages = Vec::with_capacity(block.max(1));
    for block in slots.chunks(block.max(1)) {
        stages.clear();
        let data = block_dataset(&build, block, &columns, model, &mut stages);
        let p = scorer.predict(&data)?;
        // customers are scored in memory order and their scores put in id order
        for (j, slot) in block.iter().enumerate() {
            scored[slot.k as usize] = Scored {
                predicted_value: p.value[j],
                churn_probability: p.churn_probability[j],
                p_alive: p.p_alive[j],
                expected_orders: p.expected_orders[j],
                stage: stages[j],
            };
        }
    }
    Ok(ScoredCustomers { build, scored })
}

/// Customers whose features are made by one task of [`block_dataset`].
const FEATURE_CHUNK: usize = 1024;

/// The model inputs of the customers in `slots` of `build` (the matrix of `columns` and the
/// BTYD inputs; no label), as [`Dataset::from_rows`] of their feature rows, made in one
/// parallel pass that drops each feature row once its inputs are taken; the customers'
/// lifecycle stages are appended to `stages`.
fn block_dataset(
    build: &FeatureBuild,
    slots: &[crate::features::Slot],
    columns: &[&crate::features::table::Column],
    model: &ModelFile,
    stages: &mut Vec<Stage>,
) -> Dataset {
    use crate::features::table::fill_model_row;
    use crate::models::btyd::{btyd_input, BtydInput};
    let p = columns.len();
    let unit = model.hyperparameters.time_unit;
    let n = slots.len();
    let mut x = ndarray::Array2::<f64>::zeros((n, p));
    let mut btyd: Vec<Option<BtydInput>> = vec![None; n];
    let from = stages.len();
    stages.resize(from + n, Stage::Potential);
    // the customers' rows of `x`, BTYD inputs and stages, made in place in one parallel pass
    let fill = |sc: &[crate::features::Slot],
                bc: &mut [Option<BtydInput>],
                stc: &mut [Stage],
                mut xc: Option<&mut [f64]>| {
        for (k, &slot) in sc.iter().enumerate() {
            let f = build.slot_row(slot);
            if let Some(xc) = xc.as_deref_mut() {
                fill_model_row(columns, &f, &mut xc[k * p..(k + 1) * p]);
            }
            stc[k] = f.lifecycle_stage;
            bc[k] = btyd_input(&f, unit);
        }
    };
    let chunks = slots
        .par_chunks(FEATURE_CHUNK)
        .zip(btyd.par_chunks_mut(FEATURE_CHUNK))
        .zip(stages[from..].par_chunks_mut(FEATURE_CHUNK));
    match x.as_slice_mut().filter(|_| p > 0) {
        Some(xs) => chunks
            .zip(xs.par_chunks_mut(FEATURE_CHUNK * p))
            .for_each(|(((sc, bc), stc), xc)| fill(sc, bc, stc, Some(xc))),
        // no feature columns (a fresh array is always contiguous)
        None => chunks.for_each(|((sc, bc), stc)| fill(sc, bc, stc, None)),
    }
    Dataset {
        feature_names: model.feature_names.clone(),
        x,
        btyd,
        y: None,
        bought_again: None,
    }
}

/// What [`score_to_writer`] did.
#[derive(Debug, Clone)]
pub struct ScoreSummary {
    /// Customers scored (lines written after the header).
    pub customers: usize,
    /// Tier cut-offs used.
    pub tiers: TierCutoffs,
    /// What the readers saw and skipped, over all inputs.
    pub report: ReadReport,
}

/// Scores every customer at `as_of` ([`score_customers`]) and writes `scores.csv` to `w` with
/// tiers from `tier_shares` (A, B): the bytes of [`score`] + [`Scores::write_csv`], in bounded
/// memory.
pub fn score_to_writer(
    model: &ModelFile,
    inputs: Inputs<'_>,
    read: &ReadOptions,
    as_of: Cutoff,
    tier_shares: (f64, f64),
    w: &mut dyn Write,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ScoreSummary> {
    let scored = score_customers(model, inputs, read, as_of, progress)?;
    let tiers = scored.tier_cutoffs(tier_shares.0, tier_shares.1)?;
    scored.write_csv(&tiers, w)?;
    Ok(ScoreSummary {
        customers: scored.len(),
        tiers,
        report: scored.report().clone(),
    })
}

/// Evaluates a model at a cutoff against what happened in `(cutoff, cutoff + horizon]`.
pub fn evaluate(
    model: &ModelFile,
    inputs: Inputs<'_>,
    read: &ReadOptions,
    cutoff: Cutoff,
    horizon_days: i64,
    allow_partial_window: bool,
) -> Result<Metrics> {
    model.trained_with.check_given(TrainedInputs::of(&inputs))?;
    let params = FeatureParams {
        cutoff,
        horizon_days: Some(horizon_days),
        lifecycle: model.lifecycle,
    };
    let table = build_features(inputs, &params, read, &|_| {})?;
    if let Some(gap) = &table.label_shortfall {
        gap.unless_allowed(allow_partial_window)?;
    }
    let data = dataset_for(model, &table)?;
    let all: Vec<usize> = (0..data.len()).collect();
    let predicted = model.value_model.predict(&data, &all)?;
    let actual = data.y.as_ref().map(|y| y.to_vec()).unwrap_or_default();
    let mut m = Metrics::compute(&actual, &predicted)?;
    if let (Some(c), Some(labels)) = (&model.churn, &data.bought_again) {
        if labels.iter().any(|&b| b) && labels.iter().any(|&b| !b) {
            let p = c.try_predict(data.x_filled(&all).view())?;
            m.auc = Some(auc(labels, p.as_slice().unwrap_or(&p.to_vec()))?);
        }
    }
    Ok(m)
}

/// Hashes and records nothing else; exposed for the CLI's `model show`.
pub fn describe(model: &ModelFile, path: &Path) -> String {
    let mut s = format!(
        "model file `{}` (format {}, ltv {})\n  model: {}\n  trained at cutoff {} for a {}-day horizon on {} customers (data sha256 {}…)\n",
        path.display(),
        model.format_version,
        model.crate_version,
        model.model.name(),
        model.cutoff,
        model.horizon_days,
        model.training_customers,
        &model.training_data_sha256[..model.training_data_sha256.len().min(12)],
    );
    let m = &model.metrics;
    s.push_str(&format!(
        "  out-of-fold: normalized Gini {:.4}, top-decile capture {:.4}, RMSE {:.4}, MAE {:.4}, Spearman {:.4}, predicted/actual total {:.1}/{:.1}{}\n",
        m.normalized_gini, m.top_decile_capture, m.rmse, m.mae, m.spearman, m.predicted_total, m.actual_total,
        m.auc.map_or(String::new(), |a| format!(", churn AUC {a:.4}"))
    ));
    if let Some(b) = &model.btyd {
        s.push_str(&format!(
            "  BG/NBD ({:?}): r {:.4}, alpha {:.4}, a {:.4}, b {:.4}\n",
            b.time_unit, b.bgnbd.r, b.bgnbd.alpha, b.bgnbd.a, b.bgnbd.b
        ));
        if let Some(g) = &b.gamma_gamma {
            s.push_str(&format!(
                "  Gamma-Gamma: p {:.4}, q {:.4}, v {:.4}\n",
                g.p, g.q, g.v
            ));
        }
    }
    if !model.feature_importances.is_empty() {
        s.push_str("  top features:");
        for (n, v) in model.feature_importances.iter().take(8) {
            s.push_str(&format!(" {n} {:.3};", v));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Source;

    fn scored(model: ModelKind, actual: &[f64], predicted: &[f64]) -> ModelScore {
        ModelScore {
            model,
            metrics: Some(Metrics::compute(actual, predicted).unwrap()),
            error: None,
            rejected: None,
        }
    }

    /// Regression (issue 12, item 13): `auto` chose tweedie on Gini alone although its
    /// predicted total was far off. Hand-made: `tweedie` ranks perfectly (Gini 1) but predicts
    /// 1000× the actual total; `tree` ranks less well with the right total and wins.
    #[test]
    fn auto_rejects_a_candidate_whose_total_is_far_off() {
        let actual = [0.0, 10.0, 20.0, 30.0, 40.0];
        let mut c = vec![
            scored(
                ModelKind::Tweedie,
                &actual,
                &actual.map(|a| 1000.0 * a + 1.0),
            ),
            scored(ModelKind::Tree, &actual, &[5.0, 12.0, 25.0, 20.0, 40.0]),
        ];
        let gini = |s: &ModelScore| s.metrics.as_ref().unwrap().normalized_gini;
        assert!(gini(&c[0]) > gini(&c[1]));
        // Without auto's checks the perfect ranker wins…
        assert_eq!(
            choose_model(&mut c.clone(), false).unwrap().0,
            ModelKind::Tweedie
        );
        // …with them it is rejected, and says why.
        let (chosen, _) = choose_model(&mut c, true).unwrap();
        assert_eq!(chosen, ModelKind::Tree);
        let why = c[0].rejected.as_deref().unwrap();
        assert!(
            why.contains("predicted total is 1000.050× the actual"),
            "{why}"
        );
        assert!(c[1].rejected.is_none());
    }

    /// An RMSE far above the best rejects a candidate even when its total is right; when all
    /// would be rejected, the lowest RMSE is kept.
    #[test]
    fn auto_rejects_a_candidate_whose_rmse_is_far_above_the_best() {
        let actual = [0.0, 10.0, 20.0, 30.0, 40.0];
        // Same total (100) and a perfect ranking, but RMSE ≈ 19 against ≈ 3.6.
        let wild = [-30.0, 0.0, 20.0, 40.0, 70.0];
        let mut c = vec![
            scored(ModelKind::Boosting, &actual, &wild),
            scored(ModelKind::Linear, &actual, &[5.0, 12.0, 25.0, 20.0, 38.0]),
        ];
        assert_eq!(choose_model(&mut c, true).unwrap().0, ModelKind::Linear);
        assert!(c[0].rejected.as_deref().unwrap().contains("RMSE"));
        let mut alone = vec![scored(
            ModelKind::Tweedie,
            &actual,
            &actual.map(|a| 10.0 * a),
        )];
        assert_eq!(
            choose_model(&mut alone, true).unwrap().0,
            ModelKind::Tweedie
        );
    }

    fn example(file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("datasets/example")
            .join(file)
    }

    fn inputs(comments: bool) -> Inputs<'static> {
        let open = |f: &str| Source::open(&example(f)).unwrap();
        Inputs {
            orders: open("orders.csv"),
            events: Some(open("events.csv")),
            customers: Some(open("customers.csv")),
            comments: comments.then(|| open("comments.csv")),
        }
    }

    fn trained(kind: ModelKind, comments: bool) -> ModelFile {
        let read = ReadOptions::default();
        let job = TrainJob {
            inputs: inputs(comments),
            input_paths: vec![example("orders.csv")],
            read: read.clone(),
            cutoff: Cutoff::parse("2025-03-31", &read.time).unwrap(),
            horizon_days: 90,
            allow_partial_window: false,
            lifecycle: LifecycleThresholds::default(),
            model: ModelChoice::One(kind),
            settings: TrainSettings {
                folds: 2,
                boosting_iterations: 40,
                ..TrainSettings::default()
            },
        };
        train(job, &|_| {}).unwrap().file
    }

    fn as_of() -> Cutoff {
        Cutoff::parse("2025-06-30", &ReadOptions::default().time).unwrap()
    }

    /// The bytes of the table path: `score` (whole feature table) + `Scores::write_csv`.
    fn table_bytes(model: &ModelFile, comments: bool) -> Vec<u8> {
        let read = ReadOptions::default();
        let s = score(model, inputs(comments), &read, as_of(), (0.2, 0.3)).unwrap();
        let mut out = Vec::new();
        s.write_csv(&mut out).unwrap();
        out
    }

    fn streamed_bytes(model: &ModelFile, comments: bool, block: usize) -> Vec<u8> {
        let read = ReadOptions::default();
        let s = score_in_blocks(model, inputs(comments), &read, as_of(), &|_| {}, block).unwrap();
        let tiers = s.tier_cutoffs(0.2, 0.3).unwrap();
        let mut out = Vec::new();
        s.write_csv(&tiers, &mut out).unwrap();
        out
    }

    /// Streaming in blocks (of sizes that do and do not divide the customer count) writes the
    /// same bytes as scoring the whole feature table, for every kind of value model, with and
    /// without the comment features.
    #[test]
    fn streamed_scores_equal_the_table_path() {
        for (kind, comments) in [
            (ModelKind::Boosting, true),
            (ModelKind::Tweedie, false),
            (ModelKind::Linear, true),
            (ModelKind::Bgnbd, false),
            (ModelKind::Tree, false),
            (ModelKind::Hybrid, false),
        ] {
            let model = trained(kind, comments);
            let want = table_bytes(&model, comments);
            let lines = want.iter().filter(|&&b| b == b'\n').count();
            assert!(lines > 4000, "{} lines", lines);
            for block in [977, SCORE_BLOCK] {
                let got = streamed_bytes(&model, comments, block);
                assert!(got == want, "{} block {block}: bytes differ", kind.name());
            }
            // the whole-job entry point writes the same bytes
            let mut out = Vec::new();
            let read = ReadOptions::default();
            let summary = score_to_writer(
                &model,
                inputs(comments),
                &read,
                as_of(),
                (0.2, 0.3),
                &mut out,
                &|_| {},
            )
            .unwrap();
            assert_eq!(summary.customers + 1, lines);
            assert!(out == want, "{}: score_to_writer bytes differ", kind.name());
        }
    }

    /// Predictions from feature values made elsewhere (the columns of a features table, NaN
    /// where it has none) are bitwise the scores of the same customers, for a model whose
    /// value comes from the BTYD inputs (hybrid) and one that reads only the matrix.
    #[test]
    fn predictions_from_feature_columns_equal_the_scores() {
        for kind in [ModelKind::Hybrid, ModelKind::Boosting] {
            let model = trained(kind, false);
            let read = ReadOptions::default();
            let scores = score(&model, inputs(false), &read, as_of(), (0.2, 0.3)).unwrap();
            let rows = &scores.table.rows;
            let names: Vec<&str> = model.feature_names.iter().map(String::as_str).collect();
            let x = crate::features::table::matrix_of(rows, false, &names).unwrap();
            let opt = |v: Option<f64>| v.unwrap_or(f64::NAN);
            let btyd = rows
                .iter()
                .map(|r| {
                    [
                        opt(r.repeat_purchase_days.map(f64::from)),
                        opt(r.days_first_to_last_order.map(|d| d as f64)),
                        opt(r.customer_age_days.map(|d| d as f64)),
                        opt(r.repeat_spend_avg),
                    ]
                })
                .collect();
            let p = predict_feature_columns(&model, FeatureColumns { x, btyd }).unwrap();
            let same = |a: &[f64], b: &[f64]| {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
            };
            assert!(same(&p.value, &scores.predicted_value), "{}", kind.name());
            assert!(same(&p.churn_probability, &scores.churn_probability));
            assert!(same(&p.p_alive, &scores.p_alive));
            assert!(same(&p.expected_orders, &scores.expected_orders));
            assert!(p.p_alive.iter().any(|v| !v.is_nan()));
            // a matrix of the wrong width is an error, not a panic
            let narrow = FeatureColumns {
                x: ndarray::Array2::zeros((2, 1)),
                btyd: vec![[f64::NAN; 4]; 2],
            };
            assert!(predict_feature_columns(&model, narrow).is_err());
        }
    }

    /// A job whose cancel flag is set stops with `Error::Cancelled` (features, scoring and
    /// training read through the flag; training also checks it between folds).
    #[test]
    fn cancelled_jobs_stop_with_cancelled() {
        let read = ReadOptions::default();
        read.cancel.cancel();
        let params = FeatureParams {
            cutoff: as_of(),
            horizon_days: None,
            lifecycle: LifecycleThresholds::default(),
        };
        let r = build_features(inputs(false), &params, &read, &|_| {});
        assert!(matches!(r, Err(Error::Cancelled)), "{:?}", r.err());
        let model = trained(ModelKind::Tweedie, false);
        let r = score_customers(&model, inputs(false), &read, as_of(), &|_| {});
        assert!(matches!(r, Err(Error::Cancelled)));
        let job = TrainJob {
            inputs: inputs(false),
            input_paths: vec![],
            read: read.clone(),
            cutoff: Cutoff::parse("2025-03-31", &read.time).unwrap(),
            horizon_days: 90,
            allow_partial_window: false,
            lifecycle: LifecycleThresholds::default(),
            model: ModelChoice::Auto,
            settings: TrainSettings::default(),
        };
        assert!(matches!(train(job, &|_| {}), Err(Error::Cancelled)));
    }

    /// One and two worker threads write identical bytes.
    #[test]
    fn streamed_scores_do_not_depend_on_threads() {
        let model = trained(ModelKind::Boosting, true);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| streamed_bytes(&model, true, 1000))
        };
        let one = run(1);
        assert!(one == run(2), "1 vs 2 threads differ");
        assert!(one == run(3), "1 vs 3 threads differ");
    }

    /// A model using comment features cannot score without the comments file.
    #[test]
    fn comment_features_need_the_comments_file() {
        let mut model = trained(ModelKind::Linear, false);
        model.feature_names.push("sentiment_mean".into());
        let read = ReadOptions::default();
        let err = score_customers(&model, inputs(false), &read, as_of(), &|_| {})
            .err()
            .unwrap();
        assert!(err.to_string().contains("--comments"), "{err}");
    }
}
