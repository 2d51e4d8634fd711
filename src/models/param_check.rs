//! Checks of hyper-parameter values, shared by the models' `check()` methods: each returns
//! [`Error::InvalidParameter`] naming the parameter, its value and the rule it breaks.
use crate::{Error, Result};
use std::fmt::Display;

/// `Ok` when `ok`, else the error for parameter `name` = `value`, which must satisfy `rule`
/// (said as "must be …").
pub(crate) fn require(ok: bool, name: &'static str, value: impl Display, rule: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            value: value.to_string(),
            reason: rule.to_string(),
        })
    }
}

/// A count of at least `min`.
pub(crate) fn at_least(name: &'static str, value: usize, min: usize) -> Result<()> {
    require(value >= min, name, value, &format!("must be ≥ {min}"))
}

/// A finite number of at least `min`.
pub(crate) fn finite_at_least<T>(name: &'static str, value: T, min: f64) -> Result<()>
where
    T: Copy + Into<f64> + Display,
{
    let v: f64 = value.into();
    let ok = v.is_finite() && v >= min;
    require(ok, name, value, &format!("must be finite and ≥ {min}"))
}

/// A finite number above `min`.
pub(crate) fn finite_above<T>(name: &'static str, value: T, min: f64) -> Result<()>
where
    T: Copy + Into<f64> + Display,
{
    let v: f64 = value.into();
    let ok = v.is_finite() && v > min;
    require(ok, name, value, &format!("must be finite and > {min}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<()>) -> String {
        match r {
            Err(Error::InvalidParameter {
                name,
                value,
                reason,
            }) => format!("{name}={value}: {reason}"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn rules_name_the_parameter_value_and_rule() {
        assert!(at_least("n", 1, 1).is_ok());
        assert_eq!(reason(at_least("n", 0, 1)), "n=0: must be ≥ 1");
        assert!(finite_at_least("alpha", 0.0, 0.0).is_ok());
        assert_eq!(
            reason(finite_at_least("alpha", -0.5, 0.0)),
            "alpha=-0.5: must be finite and ≥ 0"
        );
        assert_eq!(
            reason(finite_at_least("alpha", f64::INFINITY, 0.0)),
            "alpha=inf: must be finite and ≥ 0"
        );
        assert!(finite_above("tol", 1e-9, 0.0).is_ok());
        // f32 values are shown as f32
        assert_eq!(
            reason(finite_at_least("w", 0.1f32, 1.0)),
            "w=0.1: must be finite and ≥ 1"
        );
        assert_eq!(
            reason(finite_above("tol", 0.0, 0.0)),
            "tol=0: must be finite and > 0"
        );
        assert_eq!(
            reason(finite_above("tol", f64::NAN, 0.0)),
            "tol=NaN: must be finite and > 0"
        );
        assert_eq!(
            reason(require(false, "power", 2.5, "must be in [1, 2]")),
            "power=2.5: must be in [1, 2]"
        );
    }
}
