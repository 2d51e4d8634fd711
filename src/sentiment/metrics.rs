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
    // `evaluate::auc` takes finite scores only: NaN and −∞ rank lowest, +∞ highest.
    let ranked: Vec<f64> = scores
        .iter()
        .map(|&s| match s {
            s if s.is_nan() || s == f64::NEG_INFINITY => f64::MIN,
            f64::INFINITY => f64::MAX,
            s => s,
        })
        .collect();
    crate::evaluate::auc(truth, &ranked).unwrap_or(0.5)
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
