//! `ltv` — customer lifetime value for private-domain commerce.
//!
//! The pipeline, one module per stage:
//! [`data`] reads orders, events, comments and customers (CSV) with typed, located errors;
//! [`features`] builds one row per customer at a cutoff instant (RFM, engagement, lifecycle,
//! label); [`models`] fits regressors and the BG/NBD × Gamma-Gamma baseline; [`evaluate`]
//! measures predictions; [`sentiment`] scores customers' own words; [`synth`] generates
//! realistic example data.
#![deny(missing_docs)]

pub mod cancel;
pub mod config;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod features;
pub mod io_util;
pub mod kpi;
pub mod models;
pub mod monthly;
pub mod pipeline;
pub mod report;
pub mod sentiment;
pub mod synth;
pub mod tiers;

pub use error::{Error, Result};

/// Test helpers: paths of the public datasets in `../shared/datasets` beside the checkout.
#[cfg(test)]
pub(crate) mod test_data {
    /// The path of `rel` under `../shared/datasets` (falling back to `/work/shared/datasets`).
    pub fn shared(rel: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/datasets")
            .join(rel);
        if p.exists() {
            p.to_string_lossy().into_owned()
        } else {
            format!("/work/shared/datasets/{rel}")
        }
    }
}
