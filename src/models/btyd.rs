//! The BG/NBD × Gamma-Gamma baseline over the feature table: BTYD inputs from features, a joint
//! fit, and per-customer expected purchases, P(alive), expected spend and predicted value.
use crate::features::CustomerFeatures;
use crate::models::bgnbd::{BgNbd, BtydSummary};
use crate::models::gamma_gamma::GammaGamma;
use crate::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The time unit BTYD parameters are expressed in (`alpha` is per unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Days.
    Days,
    /// Weeks (the CDNOW papers' unit).
    #[default]
    Weeks,
}

impl TimeUnit {
    /// Days per unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }
}

/// One buyer's BTYD inputs, in the model's time unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BtydInput {
    /// Repeat purchase days, recency and age.
    pub summary: BtydSummary,
    /// Mean net spend per repeat purchase day (`None` without repeats).
    pub repeat_spend_avg: Option<f64>,
}

/// BTYD inputs of every row (`None` for customers without a purchase).
pub fn btyd_inputs(rows: &[CustomerFeatures], unit: TimeUnit) -> Vec<Option<BtydInput>> {
    rows.iter().map(|f| btyd_input(f, unit)).collect()
}

/// BTYD inputs of one customer (`None` without a purchase).
pub fn btyd_input(f: &CustomerFeatures, unit: TimeUnit) -> Option<BtydInput> {
    let d = unit.days();
    let x = f.repeat_purchase_days?;
    Some(BtydInput {
        summary: BtydSummary {
            frequency: f64::from(x),
            recency: f.days_first_to_last_order? as f64 / d,
            age: f.customer_age_days? as f64 / d,
        },
        repeat_spend_avg: f.repeat_spend_avg,
    })
}

/// The feature columns a BTYD input is made of, in the order [`btyd_input_of_values`] takes
/// them.
pub const BTYD_FEATURE_COLUMNS: [&str; 4] = [
    "repeat_purchase_days",
    "days_first_to_last_order",
    "customer_age_days",
    "repeat_spend_avg",
];

/// The BTYD input of a customer from the values of its [`BTYD_FEATURE_COLUMNS`] as a feature
/// table holds them (NaN where the table has no value): the input [`btyd_input`] makes from
/// the customer's features. `None` without a purchase.
pub fn btyd_input_of_values(values: [f64; 4], unit: TimeUnit) -> Option<BtydInput> {
    let [repeats, first_to_last_days, age_days, repeat_spend_avg] = values;
    if repeats.is_nan() || first_to_last_days.is_nan() || age_days.is_nan() {
        return None;
    }
    let d = unit.days();
    Some(BtydInput {
        summary: BtydSummary {
            frequency: repeats,
            recency: first_to_last_days / d,
            age: age_days / d,
        },
        repeat_spend_avg: (!repeat_spend_avg.is_nan()).then_some(repeat_spend_avg),
    })
}

/// Per-customer outputs of the baseline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BtydPrediction {
    /// Expected purchase days in the horizon (0 for non-buyers).
    pub expected_purchases: Vec<f64>,
    /// Probability the customer is still active (NaN for non-buyers).
    pub p_alive: Vec<f64>,
    /// Expected spend per purchase day (NaN for non-buyers).
    pub expected_spend: Vec<f64>,
    /// `expected_purchases × expected_spend` (0 for non-buyers).
    pub value: Vec<f64>,
}

/// A fitted BG/NBD purchase model with a Gamma-Gamma spend model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Btyd {
    /// The purchase model (`r`, `alpha` per time unit, `a`, `b`).
    pub bgnbd: BgNbd,
    /// The spend model (`p`, `q`, `v`); absent when it could not be fitted (then spend is the
    /// mean repeat spend of the training buyers).
    pub gamma_gamma: Option<GammaGamma>,
    /// Mean repeat spend of the training buyers (fallback spend).
    pub mean_repeat_spend: f64,
    /// The time unit of the parameters.
    pub time_unit: TimeUnit,
    /// The prediction horizon in days.
    pub horizon_days: f64,
}

impl Btyd {
    /// What [`Btyd::fit`] fits on, from `rows` of `inputs`: the buyers' `(x, t_x, T)` for
    /// BG/NBD, and `(x, mean repeat spend)` of the repeat buyers with positive mean repeat
    /// spend for Gamma-Gamma.
    pub fn training_data(
        inputs: &[Option<BtydInput>],
        rows: &[usize],
    ) -> (Vec<BtydSummary>, Vec<(f64, f64)>) {
        let summaries = rows
            .iter()
            .filter_map(|&i| inputs[i].map(|b| b.summary))
            .collect();
        let spend = rows
            .iter()
            .filter_map(|&i| {
                let b = inputs[i]?;
                let m = b.repeat_spend_avg?;
                (b.summary.frequency > 0.0 && m > 0.0).then_some((b.summary.frequency, m))
            })
            .collect();
        (summaries, spend)
    }

    /// Fits both models on the buyers among `rows` of `inputs`. The Gamma-Gamma model uses
    /// repeat buyers with positive mean repeat spend.
    pub fn fit(
        inputs: &[Option<BtydInput>],
        rows: &[usize],
        unit: TimeUnit,
        horizon_days: f64,
        penalizer: f64,
    ) -> Result<Btyd> {
        let (summaries, spend) = Btyd::training_data(inputs, rows);
        if summaries.len() < 10 {
            return Err(Error::NotEnoughData(format!(
                "BG/NBD needs at least 10 buyers, found {}",
                summaries.len()
            )));
        }
        let bgnbd = BgNbd::params().penalizer(penalizer).fit(&summaries)?;
        let mean_repeat_spend = if spend.is_empty() {
            0.0
        } else {
            spend.iter().map(|s| s.1).sum::<f64>() / spend.len() as f64
        };
        let gamma_gamma = GammaGamma::params()
            .penalizer(penalizer)
            .fit(&spend)
            .ok()
            .filter(|g| g.population_mean_spend().is_ok());
        Ok(Btyd {
            bgnbd,
            gamma_gamma,
            mean_repeat_spend,
            time_unit: unit,
            horizon_days,
        })
    }

    /// Predictions for `rows` of `inputs`. Customers with the same `(x, T)` share one
    /// evaluation of the costly part of the expected purchases (the hypergeometric function,
    /// [`BgNbd::purchase_factor`]): each task of 16k rows keeps a small cache, and the numbers
    /// are those of evaluating every row ([`BgNbd::expected_purchases`], [`BgNbd::p_alive`]).
    pub fn predict(&self, inputs: &[Option<BtydInput>], rows: &[usize]) -> Result<BtydPrediction> {
        const CHUNK: usize = 16384;
        let t = self.horizon_days / self.time_unit.days();
        if !(t.is_finite() && t >= 0.0) {
            // expected_purchases' error for a horizon it rejects
            self.bgnbd.expected_purchases(t, 0.0, 0.0, 0.0)?;
        }
        let per_chunk: Vec<Vec<(f64, f64, f64)>> = rows
            .par_chunks(CHUNK)
            .map(|chunk| -> Result<Vec<(f64, f64, f64)>> {
                let mut cache: rustc_hash::FxHashMap<[u64; 2], f64> =
                    rustc_hash::FxHashMap::default();
                chunk
                    .iter()
                    .map(|&i| -> Result<(f64, f64, f64)> {
                        let Some(b) = inputs[i] else {
                            return Ok((0.0, f64::NAN, f64::NAN));
                        };
                        let s = b.summary;
                        let alive = self.bgnbd.p_alive(s.frequency, s.recency, s.age);
                        let n = if t == 0.0 {
                            0.0
                        } else {
                            let key = [s.frequency.to_bits(), s.age.to_bits()];
                            let factor = match cache.get(&key) {
                                Some(&f) => f,
                                None => {
                                    let f = self.bgnbd.purchase_factor(t, s.frequency, s.age)?;
                                    cache.insert(key, f);
                                    f
                                }
                            };
                            factor * alive
                        };
                        let mbar = b.repeat_spend_avg.unwrap_or(0.0).max(0.0);
                        let spend = match &self.gamma_gamma {
                            Some(g) => g.conditional_expected_average_profit(s.frequency, mbar)?,
                            None if s.frequency > 0.0 => mbar,
                            None => self.mean_repeat_spend,
                        };
                        Ok((n, alive, spend))
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        let per_row = per_chunk.into_iter().flatten();
        let mut out = BtydPrediction::default();
        for (n, alive, spend) in per_row {
            out.expected_purchases.push(n);
            out.p_alive.push(alive);
            out.expected_spend.push(spend);
            out.value.push(if n > 0.0 { n * spend } else { 0.0 });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cached prediction equals evaluating every row directly (FHL's CDNOW parameters;
    /// many customers share a history, some do not, some never bought), for 1 and 2 threads.
    #[test]
    fn cached_predictions_equal_direct_evaluation() {
        let btyd = Btyd {
            bgnbd: BgNbd::from_parameters(0.2426, 4.4135, 0.7929, 2.4258).unwrap(),
            gamma_gamma: Some(GammaGamma::from_parameters(6.2488, 3.7446, 15.4477).unwrap()),
            mean_repeat_spend: 30.0,
            time_unit: TimeUnit::Weeks,
            horizon_days: 273.0,
        };
        let inputs: Vec<Option<BtydInput>> = (0..10_000u32)
            .map(|i| {
                (i % 7 != 0).then(|| BtydInput {
                    summary: BtydSummary {
                        frequency: f64::from(i % 5),
                        recency: if i % 5 == 0 { 0.0 } else { f64::from(i % 13) },
                        age: 13.0 + f64::from(i % 3) + f64::from(i) / 1e4 * f64::from(i % 2),
                    },
                    repeat_spend_avg: (i % 5 > 0).then(|| f64::from(i % 97) + 0.5),
                })
            })
            .collect();
        let rows: Vec<usize> = (0..inputs.len()).rev().collect();
        let t = 273.0 / 7.0;
        for threads in [1, 2] {
            let p = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| btyd.predict(&inputs, &rows).unwrap());
            for (j, &i) in rows.iter().enumerate() {
                let Some(b) = inputs[i] else {
                    assert_eq!(p.expected_purchases[j], 0.0);
                    assert!(p.p_alive[j].is_nan());
                    continue;
                };
                let s = b.summary;
                let n = btyd
                    .bgnbd
                    .expected_purchases(t, s.frequency, s.recency, s.age)
                    .unwrap();
                let alive = btyd.bgnbd.p_alive(s.frequency, s.recency, s.age);
                assert_eq!(p.expected_purchases[j].to_bits(), n.to_bits(), "row {i}");
                assert_eq!(p.p_alive[j].to_bits(), alive.to_bits(), "row {i}");
            }
        }
    }
}
