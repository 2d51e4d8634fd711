//! Tweedie GLM (placeholder).
