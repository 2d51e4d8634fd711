//! Binary classification metrics for the sentiment models: accuracy, macro-F1, ROC AUC.
//!
//! Small local helpers (the crate-wide versions live in `crate::evaluate`; these are to be
//! merged with them).
use serde::{Deserialize, Serialize};

/// Held-out quality of a binary sentiment model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryMetrics {
    /// Number of examples.
    pub n: usize,
    /// Share of examples whose predicted class (score > 0) is the true class.
    pub accuracy: f64,
    /// Mean of the F1 scores of the positive and the negative class.
    pub macro_f1: f64,
    /// Area under the ROC curve (probability a random positive outscores a random negative,
    /// ties counting one half).
    pub auc: f64,
}

/// Computes [`BinaryMetrics`] from scores (positive class when `score > threshold`) and truth.
/// Returns `None` when the inputs are empty or of different lengths.
pub fn binary_metrics(scores: &[f64], truth: &[bool], threshold: f64) -> Option<BinaryMetrics> {
    if scores.is_empty() || scores.len() != truth.len() {
        return None;
    }
    let (mut tp, mut fp, mut tn, mut fneg) = (0usize, 0usize, 0usize, 0usize);
    for (&s, &t) in scores.iter().zip(truth) {
        match (s > threshold, t) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fneg += 1,
        }
    }
    let f1 = |tp: usize, fp: usize, fneg: usize| {
        let d = 2 * tp + fp + fneg;
        if d == 0 {
            0.0
        } else {
            2.0 * tp as f64 / d as f64
        }
    };
    let n = scores.len();
    Some(BinaryMetrics {
        n,
        accuracy: (tp + tn) as f64 / n as f64,
        macro_f1: 0.5 * (f1(tp, fp, fneg) + f1(tn, fneg, fp)),
        auc: auc(scores, truth),
    })
}

/// ROC AUC by the rank-sum (Mann–Whitney) formula with average ranks for ties; 0.5 when one
/// class is absent. NaN scores rank lowest.
pub fn auc(scores: &[f64], truth: &[bool]) -> f64 {
    let n_pos = truth.iter().filter(|&&t| t).count();
    let n_neg = truth.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return 0.5;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    let key = |i: usize| {
        if scores[i].is_nan() {
            f64::NEG_INFINITY
        } else {
            scores[i]
        }
    };
    idx.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && key(idx[j + 1]) == key(idx[i]) {
            j += 1;
        }
        // ranks i+1 ..= j+1 share their mean
        let mean_rank = (i + j + 2) as f64 / 2.0;
        for &k in &idx[i..=j] {
            if truth[k] {
                rank_sum_pos += mean_rank;
            }
        }
        i = j + 1;
    }
    let np = n_pos as f64;
    (rank_sum_pos - np * (np + 1.0) / 2.0) / (np * n_neg as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn hand_worked_confusion_matrix() {
        // truth:  P P P N N ; predicted: P P N P N → tp 2, fn 1, fp 1, tn 1
        let s = [0.9, 0.8, -0.1, 0.3, -0.5];
        let t = [true, true, true, false, false];
        let m = binary_metrics(&s, &t, 0.0).unwrap();
        assert_abs_diff_eq!(m.accuracy, 3.0 / 5.0, epsilon = 1e-12);
        // F1+ = 4/6, F1- = 2/4
        assert_abs_diff_eq!(m.macro_f1, 0.5 * (4.0 / 6.0 + 0.5), epsilon = 1e-12);
        // pairs (pos, neg): 0.9>0.3,0.9>-0.5, 0.8>both, -0.1<0.3, -0.1>-0.5 → 5/6
        assert_abs_diff_eq!(m.auc, 5.0 / 6.0, epsilon = 1e-12);
    }

    #[test]
    fn auc_ties_count_half_and_degenerate_cases() {
        assert_abs_diff_eq!(auc(&[1.0, 1.0], &[true, false]), 0.5, epsilon = 1e-12);
        assert_abs_diff_eq!(auc(&[0.0, 1.0], &[true, false]), 0.0, epsilon = 1e-12);
        assert_abs_diff_eq!(auc(&[0.0, 1.0], &[true, true]), 0.5, epsilon = 1e-12);
        assert!(binary_metrics(&[], &[], 0.0).is_none());
        assert!(binary_metrics(&[1.0], &[], 0.0).is_none());
    }
}
