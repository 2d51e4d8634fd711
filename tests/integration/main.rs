//! End-to-end tests of the `ltv` binary: each test runs the built binary in a fresh temp dir.
mod common;
mod features;
mod models;
mod monthly;
mod parquet;
mod report;
mod sentiment;
mod synth;
mod trust;
