//! RFM scores (1–5 by quintile among buyers) and named segments.
//!
//! A score is `1 + floor(5 · w / n)` where `n` is the number of buyers and `w` the number of
//! buyers with a strictly worse value, so ties share a score and the best value scores 5.
//! Recency is better when smaller (days since the last order); frequency (orders) and monetary
//! (net spend) are better when larger. Segments come from the recency score and the rounded mean
//! of the frequency and monetary scores, on the grid documented in the README.

/// Scores each value 1–5; `higher_is_better` says which direction is good.
pub fn quintile_scores(values: &[i64], higher_is_better: bool) -> Vec<u8> {
    let n = values.len();
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    values
        .iter()
        .map(|v| {
            let worse = if higher_is_better {
                sorted.partition_point(|x| x < v)
            } else {
                n - sorted.partition_point(|x| x <= v)
            };
            (1 + 5 * worse / n) as u8
        })
        .collect()
}

/// The scores [`quintile_scores`] gives, from four order statistics of the values instead of
/// all of them: the door for a distributed computation (Spark) that finds those order
/// statistics exactly without gathering the values in one place.
///
/// With `n` values and `t_k = ceil(k·n/5)` (k = 1…4), a value's score is
/// `1 + #{k : v > s_k}` where `s_k` is the `t_k`-th smallest value when higher is better, and
/// `1 + #{k : v < u_k}` where `u_k` is the `t_k`-th largest when lower is better — the same as
/// `1 + floor(5 · w / n)` with `w` the number of strictly worse values.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuintileBounds {
    /// Whether larger values are better.
    pub higher_is_better: bool,
    /// The four order statistics (at [`QuintileBounds::ranks`]).
    pub bounds: [f64; 4],
}

impl QuintileBounds {
    /// The 0-based positions, in ascending order of `n ≥ 1` values, of the four order
    /// statistics the bounds are made of.
    pub fn ranks(n: usize, higher_is_better: bool) -> [usize; 4] {
        std::array::from_fn(|i| {
            let t = ((i + 1) * n).div_ceil(5).clamp(1, n.max(1));
            if higher_is_better {
                t - 1
            } else {
                n.max(1) - t
            }
        })
    }

    /// The bounds of `values` (any order; at least one value).
    pub fn of(values: &[f64], higher_is_better: bool) -> QuintileBounds {
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let ranks = QuintileBounds::ranks(sorted.len(), higher_is_better);
        QuintileBounds {
            higher_is_better,
            bounds: ranks.map(|r| sorted.get(r).copied().unwrap_or(f64::NAN)),
        }
    }

    /// The score 1–5 of `value`.
    pub fn score(&self, value: f64) -> u8 {
        let better = |b: &f64| {
            if self.higher_is_better {
                value > *b
            } else {
                value < *b
            }
        };
        1 + self.bounds.iter().filter(|b| better(b)).count() as u8
    }
}

/// The quintile bounds of recency (days since the last order, lower is better), frequency
/// (orders) and monetary value (net spend) among the buyers of a whole customer base.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RfmBounds {
    /// Recency: `days_since_last_order`.
    pub recency: QuintileBounds,
    /// Frequency: `orders_total`.
    pub frequency: QuintileBounds,
    /// Monetary: `spend_total`.
    pub monetary: QuintileBounds,
}

/// The columns RFM scores are made of, in a feature table: recency, frequency, monetary.
pub const RFM_VALUE_COLUMNS: [&str; 3] = ["days_since_last_order", "orders_total", "spend_total"];

/// A batch of a feature table (or any table with the [`RFM_VALUE_COLUMNS`] and the `rfm_r`,
/// `rfm_f`, `rfm_m`, `rfm_segment` columns, such as one part of a customer base scored on its
/// own) with its RFM scores and segments made anew from `bounds` (the whole base's), keeping
/// every column's type. Customers without a purchase (`orders_total` 0) have none.
pub fn rescore_batch(
    batch: &arrow_array::RecordBatch,
    bounds: &RfmBounds,
) -> crate::Result<arrow_array::RecordBatch> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    let bad = |reason: String| crate::Error::InvalidParameter {
        name: "features table",
        value: format!("{} columns", batch.num_columns()),
        reason,
    };
    let schema = batch.schema();
    let column = |name: &str| -> crate::Result<Vec<Option<f64>>> {
        let i = schema
            .index_of(name)
            .map_err(|_| bad(format!("no column `{name}`")))?;
        let c = arrow_cast::cast(batch.column(i), &arrow_schema::DataType::Float64)
            .map_err(|e| bad(format!("column `{name}`: {e}")))?;
        Ok(c.as_primitive::<Float64Type>().iter().collect())
    };
    let [r, f, m] = RFM_VALUE_COLUMNS.map(column);
    let (r, f, m) = (r?, f?, m?);
    let n = batch.num_rows();
    let mut scores: [Vec<Option<i64>>; 3] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut segments: Vec<Option<&'static str>> = Vec::with_capacity(n);
    for i in 0..n {
        let buyer = f[i].is_some_and(|orders| orders > 0.0);
        let rfm = match (buyer, r[i], f[i], m[i]) {
            (true, Some(r), Some(f), Some(m)) => Some([
                bounds.recency.score(r),
                bounds.frequency.score(f),
                bounds.monetary.score(m),
            ]),
            _ => None,
        };
        for (k, out) in scores.iter_mut().enumerate() {
            out.push(rfm.map(|s| i64::from(s[k])));
        }
        segments.push(rfm.map(|[r, f, m]| segment(r, f, m)));
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let mut put = |name: &str, values: ArrayRef| -> crate::Result<()> {
        let i = schema
            .index_of(name)
            .map_err(|_| bad(format!("no column `{name}`")))?;
        columns[i] = arrow_cast::cast(&values, schema.field(i).data_type())
            .map_err(|e| bad(format!("column `{name}`: {e}")))?;
        Ok(())
    };
    let [sr, sf, sm] = scores;
    put("rfm_r", std::sync::Arc::new(Int64Array::from(sr)))?;
    put("rfm_f", std::sync::Arc::new(Int64Array::from(sf)))?;
    put("rfm_m", std::sync::Arc::new(Int64Array::from(sm)))?;
    put(
        "rfm_segment",
        std::sync::Arc::new(StringArray::from(segments)),
    )?;
    arrow_array::RecordBatch::try_new(schema.clone(), columns).map_err(|e| bad(e.to_string()))
}

/// The named RFM segment of a customer from the R score and the F and M scores.
pub fn segment(r: u8, f: u8, m: u8) -> &'static str {
    const GRID: [[&str; 5]; 5] = [
        // FM = 1, 2, 3, 4, 5 for R = 1 (top row) .. R = 5 (bottom row)
        ["lost", "hibernating", "at_risk", "at_risk", "cant_lose"],
        [
            "hibernating",
            "hibernating",
            "at_risk",
            "at_risk",
            "cant_lose",
        ],
        [
            "about_to_sleep",
            "about_to_sleep",
            "need_attention",
            "loyal",
            "loyal",
        ],
        [
            "promising",
            "potential_loyalist",
            "potential_loyalist",
            "loyal",
            "champions",
        ],
        [
            "new",
            "potential_loyalist",
            "potential_loyalist",
            "loyal",
            "champions",
        ],
    ];
    let fm = (f as usize + m as usize).div_ceil(2).clamp(1, 5);
    GRID[(r as usize).clamp(1, 5) - 1][fm - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintiles_by_hand() {
        // Ten distinct values: two per quintile.
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(
            quintile_scores(&v, true),
            vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        );
        assert_eq!(
            quintile_scores(&v, false),
            vec![5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
        );
        // Ties share a score: [5, 5, 5, 1]: the 5s have 1 worse → 1 + 5/4 = 2; the 1 → 1.
        assert_eq!(quintile_scores(&[5, 5, 5, 1], true), vec![2, 2, 2, 1]);
        assert_eq!(quintile_scores(&[5, 5, 5, 1], false), vec![1, 1, 1, 4]);
        assert_eq!(quintile_scores(&[7], true), vec![1]);
    }

    /// Scores from the four order statistics equal the scores from all values, with ties,
    /// one value, and both directions.
    #[test]
    fn quintile_bounds_give_the_quintile_scores() {
        let mut x: u64 = 11;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for n in [1usize, 2, 3, 4, 5, 6, 7, 10, 11, 99, 1000] {
            for spread in [3u64, 50, 1_000_000] {
                let v: Vec<i64> = (0..n).map(|_| (next() % spread) as i64 - 7).collect();
                let f: Vec<f64> = v.iter().map(|&x| x as f64).collect();
                for higher in [true, false] {
                    let want = quintile_scores(&v, higher);
                    let b = QuintileBounds::of(&f, higher);
                    let got: Vec<u8> = f.iter().map(|&x| b.score(x)).collect();
                    assert_eq!(got, want, "n {n} spread {spread} higher {higher}");
                }
            }
        }
        // by hand: 1..=10, higher is better: bounds are the 2nd, 4th, 6th, 8th smallest
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(QuintileBounds::of(&ten, true).bounds, [2.0, 4.0, 6.0, 8.0]);
        assert_eq!(QuintileBounds::of(&ten, false).bounds, [9.0, 7.0, 5.0, 3.0]);
    }

    #[test]
    fn segments() {
        assert_eq!(segment(5, 5, 5), "champions");
        assert_eq!(segment(5, 1, 1), "new");
        assert_eq!(segment(1, 1, 1), "lost");
        assert_eq!(segment(1, 5, 4), "cant_lose");
        assert_eq!(segment(3, 3, 2), "need_attention");
    }
}
