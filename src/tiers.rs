//! Value tiers A / B / C from predicted values: cut-offs at quantiles of the month's
//! predictions (default: A = top 20 %, B = next 30 %, C = the rest) or fixed money thresholds;
//! the monthly re-tune ([`TierMonth`], kept as a history of `<M>.json` + `tiers-<M>.csv` files)
//! and the migration matrix between two months ([`Migration`]).
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

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
        // the values at two ranks of the descending order: selection, not a full sort
        let mut v = values.to_vec();
        let (ra, rb) = TierCutoffs::quantile_ranks(v.len(), a_share, b_share);
        let (above, &mut b, _) = v.select_nth_unstable_by(rb, |x, y| y.total_cmp(x));
        let a = if ra == rb {
            b
        } else {
            *above.select_nth_unstable_by(ra, |x, y| y.total_cmp(x)).1
        };
        Ok(TierCutoffs { a, b })
    }

    /// The 0-based positions, in descending order ([`f64::total_cmp`]) of `n ≥ 1` values,
    /// of the values that are the cut-offs A and B of [`TierCutoffs::from_quantiles`]: a
    /// distributed caller (Spark) finds those two order statistics exactly and builds the
    /// cut-offs with them.
    pub fn quantile_ranks(n: usize, a_share: f64, b_share: f64) -> (usize, usize) {
        let n = n.max(1);
        let rank = |share: f64| ((share * n as f64).ceil() as usize).clamp(1, n) - 1;
        (rank(a_share), rank(a_share + b_share))
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

/// How the month's cut-offs are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum TierRule {
    /// Shares of customers: A = top `a_share`, B = the next `b_share` (see
    /// [`TierCutoffs::from_quantiles`]).
    Quantiles {
        /// Share of customers in A (default 0.2).
        a_share: f64,
        /// Share of customers in B (default 0.3).
        b_share: f64,
    },
    /// Fixed predicted-value thresholds, in the shop's currency.
    Fixed {
        /// Lowest predicted value in A.
        a_min: f64,
        /// Lowest predicted value in B.
        b_min: f64,
    },
}

impl Default for TierRule {
    fn default() -> Self {
        TierRule::Quantiles {
            a_share: 0.2,
            b_share: 0.3,
        }
    }
}

impl TierRule {
    /// The cut-offs this rule gives for a month's predicted values.
    pub fn cutoffs(&self, values: &[f64]) -> Result<TierCutoffs> {
        match *self {
            TierRule::Quantiles { a_share, b_share } => {
                TierCutoffs::from_quantiles(values, a_share, b_share)
            }
            TierRule::Fixed { a_min, b_min } => {
                if !(a_min.is_finite() && b_min.is_finite() && a_min >= b_min) {
                    return Err(Error::InvalidParameter {
                        name: "tier thresholds",
                        value: format!("a_min {a_min}, b_min {b_min}"),
                        reason: "need finite values with a_min >= b_min".into(),
                    });
                }
                Ok(TierCutoffs { a: a_min, b: b_min })
            }
        }
    }
}

/// Per-tier numbers, A, B, C.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerTier<T> {
    /// Tier A.
    #[serde(rename = "A")]
    pub a: T,
    /// Tier B.
    #[serde(rename = "B")]
    pub b: T,
    /// Tier C.
    #[serde(rename = "C")]
    pub c: T,
}

impl<T> PerTier<T> {
    /// The entry of a tier.
    pub fn get(&self, t: Tier) -> &T {
        match t {
            Tier::A => &self.a,
            Tier::B => &self.b,
            Tier::C => &self.c,
        }
    }

    /// The entry of a tier, mutably.
    pub fn get_mut(&mut self, t: Tier) -> &mut T {
        match t {
            Tier::A => &mut self.a,
            Tier::B => &mut self.b,
            Tier::C => &mut self.c,
        }
    }
}

/// The tiers of one month: what `models/tiers/<M>.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierMonth {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The rule that gave the cut-offs.
    pub rule: TierRule,
    /// The cut-offs.
    pub cutoffs: TierCutoffs,
    /// Customers per tier.
    pub counts: PerTier<usize>,
    /// Share of the month's total predicted value held by each tier (0 when the total is 0).
    pub value_share: PerTier<f64>,
}

/// Checks a month written `YYYY-MM` and returns (year, month).
pub fn parse_month(text: &str) -> Result<(i64, u32)> {
    let bad = || Error::InvalidParameter {
        name: "month",
        value: text.to_string(),
        reason: "expected `YYYY-MM`, e.g. `2025-06`".into(),
    };
    let b = text.as_bytes();
    if b.len() != 7
        || b[4] != b'-'
        || !text
            .bytes()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
    {
        return Err(bad());
    }
    let y: i64 = text[..4].parse().map_err(|_| bad())?;
    let m: u32 = text[5..].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok((y, m))
}

impl TierMonth {
    /// Tiers a month's customers: `values` are (customer id, predicted value).
    pub fn compute(month: &str, values: &[(String, f64)], rule: TierRule) -> Result<TierMonth> {
        parse_month(month)?;
        let v: Vec<f64> = values.iter().map(|x| x.1).collect();
        let cutoffs = rule.cutoffs(&v)?;
        let mut counts = PerTier::<usize>::default();
        let mut sums = PerTier::<f64>::default();
        // Sum in a fixed (input) order so the shares are reproducible.
        for &x in &v {
            let t = cutoffs.tier(x);
            *counts.get_mut(t) += 1;
            *sums.get_mut(t) += x;
        }
        let total = sums.a + sums.b + sums.c;
        let share = |s: f64| if total != 0.0 { s / total } else { 0.0 };
        Ok(TierMonth {
            month: month.to_string(),
            rule,
            cutoffs,
            counts,
            value_share: PerTier {
                a: share(sums.a),
                b: share(sums.b),
                c: share(sums.c),
            },
        })
    }

    /// The JSON file of a month in a history directory: `<dir>/<M>.json`.
    pub fn json_path(history: &Path, month: &str) -> PathBuf {
        history.join(format!("{month}.json"))
    }

    /// The per-customer file of a month in a history directory: `<dir>/tiers-<M>.csv`.
    pub fn csv_path(history: &Path, month: &str) -> PathBuf {
        history.join(format!("tiers-{month}.csv"))
    }

    /// Deterministic pretty JSON (fields in declaration order, shortest round-trip floats).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }

    /// Writes (or replaces) this month in a history directory: the JSON summary and
    /// `tiers-<M>.csv` (customer_id,tier, in the order of `values`), each atomically.
    pub fn save(&self, history: &Path, values: &[(String, f64)]) -> Result<()> {
        let csv = Self::csv_path(history, &self.month);
        crate::io_util::write_atomic(&csv, |w| self.write_tiers_csv(values, w))?;
        let json = self.to_json()?;
        let path = Self::json_path(history, &self.month);
        crate::io_util::write_atomic(&path, |w| {
            w.write_all(json.as_bytes())
                .map_err(|e| Error::io(&path, e))
        })
    }

    /// Writes `customer_id,tier` rows for `values` with this month's cut-offs.
    pub fn write_tiers_csv(&self, values: &[(String, f64)], w: &mut dyn Write) -> Result<()> {
        let mut out = csv::Writer::from_writer(w);
        let err = |e: csv::Error| Error::io("<tiers csv>", std::io::Error::other(e));
        out.write_record(["customer_id", "tier"]).map_err(err)?;
        for (id, v) in values {
            out.write_record([id.as_str(), self.cutoffs.tier(*v).as_str()])
                .map_err(err)?;
        }
        out.flush().map_err(|e| Error::io("<tiers csv>", e))
    }

    /// Reads `<dir>/<M>.json`.
    pub fn load(history: &Path, month: &str) -> Result<TierMonth> {
        let path = Self::json_path(history, month);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// Reads `customer_id` and `predicted_value` from a `scores.csv`, in file order.
pub fn read_scores(path: &Path) -> Result<Vec<(String, f64)>> {
    let (header, rows) = read_csv_columns(path, &["customer_id", "predicted_value"])?;
    let _ = header;
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let v: f64 = r[1].trim().parse().map_err(|_| Error::InvalidParameter {
                name: "predicted_value",
                value: r[1].clone(),
                reason: format!("`{}` line {}: not a number", path.display(), i + 2),
            })?;
            Ok((r[0].clone(), v))
        })
        .collect()
}

/// Reads `customer_id,tier` (a `tiers-<M>.csv` or a `scores.csv`), in file order.
pub fn read_customer_tiers(path: &Path) -> Result<Vec<(String, Tier)>> {
    let (_, rows) = read_csv_columns(path, &["customer_id", "tier"])?;
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let t = match r[1].as_str() {
                "A" => Tier::A,
                "B" => Tier::B,
                "C" => Tier::C,
                other => {
                    return Err(Error::InvalidParameter {
                        name: "tier",
                        value: other.to_string(),
                        reason: format!("`{}` line {}: expected A, B or C", path.display(), i + 2),
                    })
                }
            };
            Ok((r[0].clone(), t))
        })
        .collect()
}

fn read_csv_columns(path: &Path, names: &[&str]) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let io = |e: csv::Error| Error::io(path, std::io::Error::other(e));
    let (_, mut r) = crate::data::chunks::checked_csv_reader(path)?;
    let header: Vec<String> = r.headers().map_err(io)?.iter().map(String::from).collect();
    let idx = names
        .iter()
        .map(|n| {
            header
                .iter()
                .position(|h| h == n)
                .ok_or_else(|| Error::InvalidParameter {
                    name: "column",
                    value: n.to_string(),
                    reason: format!("`{}` has no column `{n}`", path.display()),
                })
        })
        .collect::<Result<Vec<usize>>>()?;
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(io)?;
        rows.push(
            idx.iter()
                .map(|&i| rec.get(i).unwrap_or("").to_string())
                .collect(),
        );
    }
    Ok((header, rows))
}

/// Customers moving between the tiers of two months.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// The earlier month.
    pub from: String,
    /// The later month.
    pub to: String,
    /// `counts.<from tier>.<to tier>`: customers in both months.
    pub counts: PerTier<PerTier<usize>>,
    /// Row shares: `counts[f][t]` over the customers in tier `f` of the earlier month
    /// (including those lost); 0 for an empty row.
    pub shares: PerTier<PerTier<f64>>,
    /// Customers of the later month's tier absent from the earlier month.
    pub new: PerTier<usize>,
    /// Customers of the earlier month's tier absent from the later month.
    pub lost: PerTier<usize>,
}

const TIERS: [Tier; 3] = [Tier::A, Tier::B, Tier::C];

impl Migration {
    /// The migration matrix between two months' per-customer tiers.
    pub fn compute(
        from: &str,
        to: &str,
        before: &[(String, Tier)],
        after: &[(String, Tier)],
    ) -> Result<Migration> {
        let map = |rows: &[(String, Tier)], which: &str| -> Result<BTreeMap<String, Tier>> {
            let mut m = BTreeMap::new();
            for (id, t) in rows {
                if m.insert(id.clone(), *t).is_some() {
                    return Err(Error::InvalidParameter {
                        name: "customer_id",
                        value: id.clone(),
                        reason: format!("appears twice in the tiers of {which}"),
                    });
                }
            }
            Ok(m)
        };
        let b = map(before, from)?;
        let a = map(after, to)?;
        let mut counts = PerTier::<PerTier<usize>>::default();
        let mut new = PerTier::<usize>::default();
        let mut lost = PerTier::<usize>::default();
        for (id, tb) in &b {
            match a.get(id) {
                Some(ta) => *counts.get_mut(*tb).get_mut(*ta) += 1,
                None => *lost.get_mut(*tb) += 1,
            }
        }
        for (id, ta) in &a {
            if !b.contains_key(id) {
                *new.get_mut(*ta) += 1;
            }
        }
        let mut shares = PerTier::<PerTier<f64>>::default();
        for f in TIERS {
            let row = counts.get(f);
            let total = row.a + row.b + row.c + lost.get(f);
            for t in TIERS {
                *shares.get_mut(f).get_mut(t) = if total > 0 {
                    *row.get(t) as f64 / total as f64
                } else {
                    0.0
                };
            }
        }
        Ok(Migration {
            from: from.to_string(),
            to: to.to_string(),
            counts,
            shares,
            new,
            lost,
        })
    }

    /// A readable table: one row per earlier tier, counts (row share) per later tier and lost,
    /// then a row of new customers.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{} -> {}\nfrom\\to {:>16} {:>16} {:>16} {:>8}\n",
            self.from, self.to, "A", "B", "C", "lost"
        );
        for f in TIERS {
            s.push_str(&format!("{:<7}", f.as_str()));
            for t in TIERS {
                let cell = format!(
                    "{} ({:.1}%)",
                    self.counts.get(f).get(t),
                    100.0 * self.shares.get(f).get(t)
                );
                s.push_str(&format!(" {cell:>16}"));
            }
            s.push_str(&format!(" {:>8}\n", self.lost.get(f)));
        }
        s.push_str(&format!(
            "{:<7} {:>16} {:>16} {:>16}\n",
            "new", self.new.a, self.new.b, self.new.c
        ));
        s
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

    /// The cut-offs are the values at ranks ceil(share·n) of the descending order, found by
    /// selection: the same as reading them off a full sort, with ties, shares that round to
    /// the same rank, B empty, one value, NaN and -0.
    #[test]
    fn quantile_cutoffs_equal_a_full_sort() {
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for n in [1usize, 2, 3, 10, 11, 97, 1000] {
            let mut v: Vec<f64> = (0..n).map(|_| (next() % 13) as f64 * 0.5).collect();
            if n > 3 {
                v[1] = f64::NAN;
                v[2] = -0.0;
            }
            let mut sorted = v.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let at = |share: f64| sorted[((share * n as f64).ceil() as usize).clamp(1, n) - 1];
            for (a, b) in [(0.2, 0.3), (0.1, 0.0), (0.5, 0.5), (0.01, 0.02), (1.0, 0.0)] {
                let c = TierCutoffs::from_quantiles(&v, a, b).unwrap();
                assert_eq!(c.a.to_bits(), at(a).to_bits(), "n {n}, A {a}");
                assert_eq!(c.b.to_bits(), at(a + b).to_bits(), "n {n}, B {b}");
            }
        }
    }

    #[test]
    fn month_counts_and_value_shares_by_hand() {
        // 10 customers with values 1..=10, total 55: A = {10, 9} (19), B = {8, 7, 6} (21),
        // C = {5..1} (15).
        let v: Vec<(String, f64)> = (1..=10).map(|i| (format!("c{i}"), i as f64)).collect();
        let m = TierMonth::compute("2025-06", &v, TierRule::default()).unwrap();
        assert_eq!((m.cutoffs.a, m.cutoffs.b), (9.0, 6.0));
        assert_eq!((m.counts.a, m.counts.b, m.counts.c), (2, 3, 5));
        assert!((m.value_share.a - 19.0 / 55.0).abs() < 1e-12);
        assert!((m.value_share.b - 21.0 / 55.0).abs() < 1e-12);
        assert!((m.value_share.c - 15.0 / 55.0).abs() < 1e-12);
        let fixed = TierRule::Fixed {
            a_min: 8.5,
            b_min: 2.0,
        };
        let m = TierMonth::compute("2025-06", &v, fixed).unwrap();
        assert_eq!((m.counts.a, m.counts.b, m.counts.c), (2, 7, 1));
        assert!(TierMonth::compute("2025-13", &v, fixed).is_err());
        assert!(TierRule::Fixed {
            a_min: 1.0,
            b_min: 2.0
        }
        .cutoffs(&[1.0])
        .is_err());
    }

    #[test]
    fn history_round_trip_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let v: Vec<(String, f64)> = vec![("x".into(), 3.0), ("y,z".into(), 1.0)];
        let m = TierMonth::compute("2025-05", &v, TierRule::default()).unwrap();
        m.save(dir.path(), &v).unwrap();
        let first = std::fs::read(TierMonth::json_path(dir.path(), "2025-05")).unwrap();
        m.save(dir.path(), &v).unwrap();
        assert_eq!(
            first,
            std::fs::read(TierMonth::json_path(dir.path(), "2025-05")).unwrap()
        );
        assert_eq!(TierMonth::load(dir.path(), "2025-05").unwrap(), m);
        let tiers = read_customer_tiers(&TierMonth::csv_path(dir.path(), "2025-05")).unwrap();
        // n = 2: A = ceil(0.2·2) = 1 customer, A + B = ceil(0.5·2) = 1, so B is empty.
        assert_eq!(tiers, vec![("x".into(), Tier::A), ("y,z".into(), Tier::C)]);
    }

    #[test]
    fn migration_matrix_by_hand() {
        let t = |s: &[(&str, Tier)]| -> Vec<(String, Tier)> {
            s.iter().map(|(i, t)| (i.to_string(), *t)).collect()
        };
        use Tier::*;
        let may = t(&[("a", A), ("b", A), ("c", B), ("d", C), ("e", C), ("f", B)]);
        let jun = t(&[("a", A), ("b", B), ("c", A), ("d", C), ("g", A), ("h", C)]);
        let m = Migration::compute("2025-05", "2025-06", &may, &jun).unwrap();
        assert_eq!((m.counts.a.a, m.counts.a.b, m.counts.a.c), (1, 1, 0));
        assert_eq!((m.counts.b.a, m.counts.b.b, m.counts.b.c), (1, 0, 0));
        assert_eq!((m.counts.c.a, m.counts.c.b, m.counts.c.c), (0, 0, 1));
        assert_eq!((m.lost.a, m.lost.b, m.lost.c), (0, 1, 1));
        assert_eq!((m.new.a, m.new.b, m.new.c), (1, 0, 1));
        assert_eq!(m.shares.a.a, 0.5);
        assert_eq!(m.shares.b.a, 0.5);
        assert_eq!(m.shares.c.c, 0.5);
        assert!(Migration::compute("x", "y", &t(&[("a", A), ("a", B)]), &jun).is_err());
    }
}
