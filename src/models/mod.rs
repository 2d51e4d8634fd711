//! LTV models: regressors behind one interface, the BG/NBD × Gamma-Gamma baseline, model files.
pub mod folds;

pub mod bgnbd;
pub mod boosting;
pub mod gamma_gamma;
pub mod histogram;
pub mod optimize;
pub(crate) mod param_check;
pub mod special;
pub mod tree;

pub mod bitforest;
pub mod btyd;
pub mod churn;
pub mod compiled;
pub mod file;
pub mod linear;
pub mod tweedie;
pub mod value;

/// The column-count check of every model's `try_predict`: `x` must have the `fitted` number of
/// columns the model was trained on.
pub(crate) fn check_columns(x: &ndarray::ArrayView2<f64>, fitted: usize) -> crate::Result<()> {
    if x.ncols() == fitted {
        Ok(())
    } else {
        Err(crate::Error::InvalidParameter {
            name: "x",
            value: format!("{} columns", x.ncols()),
            reason: format!("the model was fitted on {fitted} columns"),
        })
    }
}
