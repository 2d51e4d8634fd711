//! LTV models: regressors behind one interface, the BG/NBD × Gamma-Gamma baseline, model files.
pub mod folds;

pub mod bgnbd;
pub mod boosting;
pub mod gamma_gamma;
pub mod histogram;
pub mod optimize;
pub mod special;
pub mod tree;

pub mod btyd;
pub mod churn;
pub mod compiled;
pub mod file;
pub mod linear;
pub mod tweedie;
pub mod value;
