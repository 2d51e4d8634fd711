//! Churn classifier (placeholder).
