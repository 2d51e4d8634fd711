//! Tests of the generator against independent expectations.
use super::*;
