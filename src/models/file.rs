//! Model files: versioned JSON with the fitted parameters, the feature list, the training window,
//! a hash of the training data and the out-of-fold metrics. Written atomically.
use crate::evaluate::Metrics;
use crate::features::LifecycleThresholds;
use crate::models::btyd::Btyd;
use crate::models::churn::FittedChurn;
use crate::models::value::{ModelKind, TrainSettings, ValueModel};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The model-file format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Out-of-fold scores of one model in the comparison table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelScore {
    /// The model.
    pub model: ModelKind,
    /// Out-of-fold metrics (absent when the model could not be fitted).
    pub metrics: Option<Metrics>,
    /// Why it could not be fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why `auto` did not pick it although it was fitted (implausible out-of-fold totals or
    /// RMSE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// Everything a model file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// [`FORMAT_VERSION`] at writing time.
    pub format_version: u32,
    /// Version of the `ltv` crate that wrote it.
    pub crate_version: String,
    /// The chosen value model.
    pub model: ModelKind,
    /// Hyper-parameters (of every model; the chosen one's apply).
    pub hyperparameters: TrainSettings,
    /// Feature columns, in the order the model takes them.
    pub feature_names: Vec<String>,
    /// The training cutoff (RFC 3339).
    pub cutoff: String,
    /// The label horizon in days.
    pub horizon_days: i64,
    /// UTC offset (seconds) of the calendar used for features.
    pub utc_offset_seconds: i64,
    /// Lifecycle thresholds used in training (scoring reuses them).
    pub lifecycle: LifecycleThresholds,
    /// sha256 over the training input files (name and bytes of each, in order).
    pub training_data_sha256: String,
    /// Customers trained on.
    pub training_customers: usize,
    /// Out-of-fold metrics of the chosen model (with the churn classifier's AUC).
    pub metrics: Metrics,
    /// Out-of-fold metrics of every model tried, on the same folds.
    pub model_comparison: Vec<ModelScore>,
    /// Feature importances of the chosen model (tree models), largest first.
    pub feature_importances: Vec<(String, f64)>,
    /// The fitted value model.
    pub value_model: ValueModel,
    /// BG/NBD × Gamma-Gamma fitted on all customers, for `p_alive` and `expected_orders`.
    pub btyd: Option<Btyd>,
    /// The churn classifier (buys again in the horizon or not).
    pub churn: Option<FittedChurn>,
    /// Which optional inputs the model was trained with; scoring and evaluation need the same
    /// ones (features of a missing input would silently be zeros). Absent in older files.
    #[serde(default)]
    pub trained_with: TrainedInputs,
}

/// The optional inputs a model was trained with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainedInputs {
    /// events.csv was given.
    pub events: bool,
    /// customers.csv was given.
    pub customers: bool,
    /// comments.csv was given.
    pub comments: bool,
}

impl TrainedInputs {
    /// The inputs present in `inputs`.
    pub fn of(inputs: &crate::features::Inputs<'_>) -> TrainedInputs {
        TrainedInputs {
            events: inputs.events.is_some(),
            customers: inputs.customers.is_some(),
            comments: inputs.comments.is_some(),
        }
    }

    /// Fails when `given` lacks an input the model was trained with, naming its flag.
    pub fn check_given(&self, given: TrainedInputs) -> Result<()> {
        for (needed, present, flag, what) in [
            (self.events, given.events, "--events", "interaction events"),
            (
                self.customers,
                given.customers,
                "--customers",
                "the customers file",
            ),
            (self.comments, given.comments, "--comments", "comments"),
        ] {
            if needed && !present {
                return Err(Error::MissingInput(format!(
                    "the model was trained with {what}: pass {flag} (without it those \
                     features would be zeros and every prediction would change)"
                )));
            }
        }
        Ok(())
    }
}

impl ModelFile {
    /// Writes the file atomically (pretty JSON).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io_util::write_atomic(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self)?;
            w.write_all(b"\n").map_err(|e| Error::io(path, e))
        })
    }

    /// Reads a model file, checking its format version first.
    pub fn load(path: &Path) -> Result<ModelFile> {
        let bad = |reason: String| Error::ModelFile {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        match value.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "format version {v}, but this ltv reads version {FORMAT_VERSION}; retrain the model with this version"
                )))
            }
            None => return Err(bad("no `format_version`: not an ltv model file".into())),
        }
        serde_json::from_value(value).map_err(|e| bad(format!("unreadable: {e}")))
    }
}
