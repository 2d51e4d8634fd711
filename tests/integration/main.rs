//! Integration tests (temporary: the lead owns this file).
mod sentiment;
