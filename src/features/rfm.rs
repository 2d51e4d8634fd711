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

    #[test]
    fn segments() {
        assert_eq!(segment(5, 5, 5), "champions");
        assert_eq!(segment(5, 1, 1), "new");
        assert_eq!(segment(1, 1, 1), "lost");
        assert_eq!(segment(1, 5, 4), "cant_lose");
        assert_eq!(segment(3, 3, 2), "need_attention");
    }
}
