//! End-to-end jobs the CLI runs: train (cross-validated, with model comparison), evaluate a
//! model against what happened after a cutoff, and score a whole customer base.
use crate::data::{Cutoff, ReadOptions};
use crate::evaluate::{auc, Metrics};
use crate::features::{build_features, FeatureParams, FeatureTable, Inputs, LifecycleThresholds};
use crate::models::btyd::Btyd;
use crate::models::churn::{ChurnClassifier, FittedChurn};
use crate::models::file::{ModelFile, ModelScore, FORMAT_VERSION};
use crate::models::folds::{kfold_assignment, split};
use crate::models::value::{Dataset, ModelKind, TrainSettings, ValueModel};
use crate::tiers::TierCutoffs;
use crate::{Error, Result};
use ndarray::Array1;
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

/// sha256 over files: for each, its name and its bytes.
pub fn hash_files(paths: &[PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    for p in paths {
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
}

/// Out-of-fold predictions of one model.
fn cross_validate(
    kind: ModelKind,
    data: &Dataset,
    folds: &[usize],
    k: usize,
    horizon_days: f64,
    s: &TrainSettings,
) -> Result<Vec<f64>> {
    let mut oof = vec![0.0; data.len()];
    for f in 0..k {
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
    let table = build_features(job.inputs, &params, &job.read, &|_| {})?;
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
        match cross_validate(kind, &data, &folds, s.folds, horizon, s)
            .and_then(|oof| Metrics::compute(&y, &oof))
        {
            Ok(m) => comparison.push(ModelScore {
                model: kind,
                metrics: Some(m),
                error: None,
            }),
            Err(e) if job.model == ModelChoice::Auto => comparison.push(ModelScore {
                model: kind,
                metrics: None,
                error: Some(e.to_string()),
            }),
            Err(e) => return Err(e),
        }
    }
    let best = comparison
        .iter()
        .filter_map(|c| c.metrics.as_ref().map(|m| (c.model, m)))
        .max_by(|a, b| {
            a.1.normalized_gini
                .total_cmp(&b.1.normalized_gini)
                .then_with(|| b.1.rmse.total_cmp(&a.1.rmse))
        })
        .ok_or_else(|| Error::NotEnoughData("no model could be fitted".into()))?;
    let (chosen, mut metrics) = (best.0, best.1.clone());
    progress("cross-validating the churn classifier");
    let labels = data.bought_again.clone().unwrap_or_default();
    let mut churn_oof = vec![0.0; data.len()];
    for f in 0..s.folds {
        let (train, test) = split(&folds, f);
        let c = fit_churn(&data, &train, s)?;
        for (i, p) in test.iter().zip(c.try_predict(data.x_filled(&test).view())?) {
            churn_oof[*i] = p;
        }
    }
    if labels.iter().any(|&b| b) && labels.iter().any(|&b| !b) {
        metrics.auc = Some(auc(&labels, &churn_oof)?);
    }
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
    };
    Ok(TrainOutcome { file, table })
}

fn dataset_for(model: &ModelFile, table: &FeatureTable) -> Result<Dataset> {
    let known = table.numeric_feature_names();
    if let Some(missing) = model
        .feature_names
        .iter()
        .find(|n| !known.contains(&n.as_str()))
    {
        let is_comment_column = crate::features::table::COMMENT_COLUMNS
            .iter()
            .any(|c| c.name == missing.as_str());
        return Err(Error::ModelFile {
            path: PathBuf::from("<model>"),
            reason: if is_comment_column {
                format!("the model uses comment feature `{missing}`: pass the comments file (--comments)")
            } else {
                format!("the model uses feature `{missing}`, which this ltv does not compute; retrain the model")
            },
        });
    }
    Dataset::from_table(table, &model.feature_names, model.hyperparameters.time_unit)
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
    let all: Vec<usize> = (0..data.len()).collect();
    let predicted_value = model.value_model.predict(&data, &all)?;
    let churn_probability = match &model.churn {
        Some(c) => c
            .try_predict(data.x_filled(&all).view())?
            .iter()
            .map(|p| 1.0 - p)
            .collect(),
        None => vec![f64::NAN; data.len()],
    };
    let (p_alive, expected_orders) = match &model.btyd {
        Some(b) => {
            let p = b.predict(&data.btyd, &all)?;
            (p.p_alive, p.expected_purchases)
        }
        None => (vec![f64::NAN; data.len()], vec![f64::NAN; data.len()]),
    };
    let tiers = TierCutoffs::from_quantiles(&predicted_value, tier_shares.0, tier_shares.1)?;
    Ok(Scores {
        table,
        predicted_value,
        churn_probability,
        p_alive,
        expected_orders,
        tiers,
    })
}

/// Builds features at `as_of` (no future data needed) and scores every customer.
pub fn score(
    model: &ModelFile,
    inputs: Inputs<'_>,
    read: &ReadOptions,
    as_of: Cutoff,
    tier_shares: (f64, f64),
) -> Result<Scores> {
    let params = FeatureParams {
        cutoff: as_of,
        horizon_days: None,
        lifecycle: model.lifecycle,
    };
    let table = build_features(inputs, &params, read, &|_| {})?;
    predict_table(model, table, tier_shares)
}

impl Scores {
    /// Writes `scores.csv`: customer_id, predicted_value, churn_probability, p_alive,
    /// expected_orders, lifecycle_stage, rfm_segment, tier.
    pub fn write_csv(&self, w: &mut dyn Write) -> Result<()> {
        use crate::features::table::{format_float, push_csv_text};
        let io = |e| Error::io("<scores>", e);
        let mut out = Vec::with_capacity(self.table.rows.len() * 80);
        out.extend_from_slice(
            b"customer_id,predicted_value,churn_probability,p_alive,expected_orders,lifecycle_stage,rfm_segment,tier\n",
        );
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

/// Evaluates a model at a cutoff against what happened in `(cutoff, cutoff + horizon]`.
pub fn evaluate(
    model: &ModelFile,
    inputs: Inputs<'_>,
    read: &ReadOptions,
    cutoff: Cutoff,
    horizon_days: i64,
) -> Result<Metrics> {
    let params = FeatureParams {
        cutoff,
        horizon_days: Some(horizon_days),
        lifecycle: model.lifecycle,
    };
    let table = build_features(inputs, &params, read, &|_| {})?;
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
