//! Lifecycle stages at the cutoff: potential, new, active, silent, churned.
use crate::{Error, Result};

/// A customer's lifecycle stage at the cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// No purchase yet.
    Potential,
    /// First purchase within the last `new_within_days`.
    New,
    /// Ordered or interacted within the last `silent_after_days`.
    Active,
    /// Last order or interaction `silent_after_days`..=`churned_after_days` days ago.
    Silent,
    /// Nothing for more than `churned_after_days` days.
    Churned,
}

impl Stage {
    /// All stages, in funnel order.
    pub const ALL: [Stage; 5] = [
        Stage::Potential,
        Stage::New,
        Stage::Active,
        Stage::Silent,
        Stage::Churned,
    ];

    /// The lowercase name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Potential => "potential",
            Stage::New => "new",
            Stage::Active => "active",
            Stage::Silent => "silent",
            Stage::Churned => "churned",
        }
    }
}

/// Day thresholds of the stage rules (defaults 30 / 30 / 90, design.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleThresholds {
    /// A first purchase fewer than this many days before the cutoff makes a customer `new`.
    pub new_within_days: i64,
    /// Customers whose last activity is at least this many days old are `silent`.
    pub silent_after_days: i64,
    /// Customers whose last activity is more than this many days old are `churned`.
    pub churned_after_days: i64,
}

impl Default for LifecycleThresholds {
    fn default() -> Self {
        LifecycleThresholds {
            new_within_days: 30,
            silent_after_days: 30,
            churned_after_days: 90,
        }
    }
}

impl LifecycleThresholds {
    /// Checks `0 < new_within_days`, `0 < silent_after_days <= churned_after_days`.
    pub fn check(&self) -> Result<()> {
        let bad = |name, v: i64, reason: &str| Error::InvalidParameter {
            name,
            value: v.to_string(),
            reason: reason.into(),
        };
        if self.new_within_days <= 0 {
            return Err(bad("new_within_days", self.new_within_days, "must be > 0"));
        }
        if self.silent_after_days <= 0 {
            return Err(bad(
                "silent_after_days",
                self.silent_after_days,
                "must be > 0",
            ));
        }
        if self.churned_after_days < self.silent_after_days {
            return Err(bad(
                "churned_after_days",
                self.churned_after_days,
                "must be >= silent_after_days",
            ));
        }
        Ok(())
    }

    /// The stage from whole calendar days since the first and last purchase and since the last
    /// interaction (`None` = never).
    pub fn stage(
        &self,
        days_since_first_order: Option<i64>,
        days_since_last_order: Option<i64>,
        days_since_last_interaction: Option<i64>,
    ) -> Stage {
        let (Some(first), Some(last_order)) = (days_since_first_order, days_since_last_order)
        else {
            return Stage::Potential;
        };
        if first < self.new_within_days {
            return Stage::New;
        }
        let idle = days_since_last_interaction.map_or(last_order, |i| i.min(last_order));
        if idle < self.silent_after_days {
            Stage::Active
        } else if idle <= self.churned_after_days {
            Stage::Silent
        } else {
            Stage::Churned
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_rules_at_the_boundaries() {
        let t = LifecycleThresholds::default();
        assert_eq!(t.stage(None, None, Some(0)), Stage::Potential);
        assert_eq!(t.stage(Some(29), Some(29), None), Stage::New);
        assert_eq!(t.stage(Some(30), Some(29), None), Stage::Active);
        assert_eq!(t.stage(Some(300), Some(200), Some(29)), Stage::Active);
        assert_eq!(t.stage(Some(300), Some(30), None), Stage::Silent);
        assert_eq!(t.stage(Some(300), Some(90), Some(120)), Stage::Silent);
        assert_eq!(t.stage(Some(300), Some(91), Some(95)), Stage::Churned);
        assert!(LifecycleThresholds {
            churned_after_days: 10,
            ..t
        }
        .check()
        .is_err());
    }
}
