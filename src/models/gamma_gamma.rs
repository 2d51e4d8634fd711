//! Gamma-Gamma (todo)
