//! LTV models: regressors behind one interface, the BG/NBD × Gamma-Gamma baseline, model files.

pub mod churn;
pub mod linear;
pub mod tweedie;
