//! Prediction metrics (MAE, RMSE, Spearman, normalized Gini, top-decile capture, AUC) and
//! calibration tables, shared by every model and command.
