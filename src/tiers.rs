//! Value tiers A / B / C from predicted values: cut-offs at quantiles of the month's
//! predictions (default: A = top 20 %, B = next 30 %, C = the rest).
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A value tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// Highest value.
    A,
    /// Middle.
    B,
    /// The rest.
    C,
}

impl Tier {
    /// The letter.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::A => "A",
            Tier::B => "B",
            Tier::C => "C",
        }
    }
}

/// Tier cut-offs in predicted value: `value >= a` is A, else `value >= b` is B, else C.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TierCutoffs {
    /// Lowest value in tier A.
    pub a: f64,
    /// Lowest value in tier B.
    pub b: f64,
}

impl TierCutoffs {
    /// Cut-offs so that about `a_share` of customers are A and `b_share` B: `a` is the value of
    /// the `ceil(a_share · n)`-th highest prediction (ties at the cut all join the higher tier).
    pub fn from_quantiles(values: &[f64], a_share: f64, b_share: f64) -> Result<TierCutoffs> {
        if !(a_share > 0.0 && b_share >= 0.0 && a_share + b_share <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "tier shares",
                value: format!("{a_share}/{b_share}"),
                reason: "need 0 < A, 0 <= B, A + B <= 1".into(),
            });
        }
        if values.is_empty() {
            return Err(Error::NotEnoughData("no predictions to tier".into()));
        }
        let mut v = values.to_vec();
        v.sort_by(|x, y| y.total_cmp(x));
        let n = v.len() as f64;
        let at = |share: f64| v[((share * n).ceil() as usize).clamp(1, v.len()) - 1];
        Ok(TierCutoffs {
            a: at(a_share),
            b: at(a_share + b_share),
        })
    }

    /// The tier of a value.
    pub fn tier(&self, value: f64) -> Tier {
        if value >= self.a {
            Tier::A
        } else if value >= self.b {
            Tier::B
        } else {
            Tier::C
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_cutoffs_by_hand() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let c = TierCutoffs::from_quantiles(&v, 0.2, 0.3).unwrap();
        // Top 2 (10, 9) are A; next 3 (8, 7, 6) are B.
        assert_eq!((c.a, c.b), (9.0, 6.0));
        let tiers: Vec<Tier> = v.iter().map(|&x| c.tier(x)).collect();
        assert_eq!(tiers.iter().filter(|t| **t == Tier::A).count(), 2);
        assert_eq!(tiers.iter().filter(|t| **t == Tier::B).count(), 3);
        assert!(TierCutoffs::from_quantiles(&v, 0.8, 0.3).is_err());
    }
}
