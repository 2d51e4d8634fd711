//! LTV models: regressors behind one interface, the BG/NBD × Gamma-Gamma baseline, model files.
pub mod boosting;
pub mod histogram;
pub mod tree;
