//! Prediction metrics (MAE, RMSE, Spearman, normalized Gini, top-decile capture, AUC) and
//! calibration tables, shared by every model and command.
//!
//! # Conventions (apply to every function here)
//! - `actual` and `predicted` are parallel slices, one value per customer (e.g. net spend in the
//!   label horizon and its prediction).
//! - **Errors, never NaN.** A length mismatch is [`Error::InvalidParameter`] (naming
//!   `predicted` or `scores`), an empty input is [`Error::NotEnoughData`], and a NaN or infinite
//!   value is [`Error::InvalidParameter`] naming the index. Every `Ok` value is finite.
//! - **Degenerate but valid inputs** return a documented finite value instead of an error, so a
//!   constant baseline model can still be scored: Spearman with a constant side is `0.0`,
//!   normalized Gini is `0.0` when the perfect ordering has Gini `0` (all actual values equal or
//!   total actual `0`), top-decile capture is `0.0` when total actual spend is `0`.
//! - **Ties** never depend on input order: ranks are averaged within ties (Spearman, AUC), and
//!   orderings by prediction average the actual values within a group of equal predictions
//!   (Gini, top-decile capture) or put the whole group in one decile (decile table).
//! - Sums run sequentially in input or sorted order, so results are bit-identical across runs.
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Checks lengths, emptiness and finiteness of a pair of slices.
fn check_pair(actual: &[f64], predicted: &[f64], other_name: &'static str) -> Result<()> {
    if actual.len() != predicted.len() {
        return Err(Error::InvalidParameter {
            name: other_name,
            value: format!("{} values", predicted.len()),
            reason: format!("expected as many values as `actual` ({})", actual.len()),
        });
    }
    if actual.is_empty() {
        return Err(Error::NotEnoughData(
            "metrics need at least one value".into(),
        ));
    }
    check_finite(actual, "actual")?;
    check_finite(predicted, other_name)
}

fn check_finite(values: &[f64], name: &'static str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::InvalidParameter {
            name,
            value: format!("{}", values[i]),
            reason: format!("value at index {i} is not finite"),
        }),
    }
}

/// Mean absolute error `Σ|a − p| / n`.
pub fn mae(actual: &[f64], predicted: &[f64]) -> Result<f64> {
    check_pair(actual, predicted, "predicted")?;
    let sum: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).abs())
        .sum();
    Ok(sum / actual.len() as f64)
}

/// Root mean squared error `sqrt(Σ(a − p)² / n)`.
pub fn rmse(actual: &[f64], predicted: &[f64]) -> Result<f64> {
    check_pair(actual, predicted, "predicted")?;
    let sum: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p) * (a - p))
        .sum();
    Ok((sum / actual.len() as f64).sqrt())
}

/// Sum of the predictions (e.g. the predicted total spend of the scored customers).
pub fn predicted_total(predicted: &[f64]) -> Result<f64> {
    if predicted.is_empty() {
        return Err(Error::NotEnoughData(
            "metrics need at least one value".into(),
        ));
    }
    check_finite(predicted, "predicted")?;
    Ok(predicted.iter().sum())
}

/// Sum of the actual values (e.g. the realised total spend in the label horizon).
pub fn actual_total(actual: &[f64]) -> Result<f64> {
    if actual.is_empty() {
        return Err(Error::NotEnoughData(
            "metrics need at least one value".into(),
        ));
    }
    check_finite(actual, "actual")?;
    Ok(actual.iter().sum())
}

/// 1-based ranks with ties given their average rank (the "fractional ranking" of
/// `scipy.stats.rankdata(method="average")`). Values must be finite.
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]).then(i.cmp(&j)));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // positions start..end (0-based) share ranks start+1..=end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Pearson correlation; `0.0` if either side has zero variance.
fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return 0.0;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

/// Spearman rank correlation: the Pearson correlation of the average ranks (ties share their
/// mean rank, as `scipy.stats.spearmanr`). Returns `0.0` when either side is constant (the
/// correlation is undefined there; no monotone association can be shown).
pub fn spearman(actual: &[f64], predicted: &[f64]) -> Result<f64> {
    check_pair(actual, predicted, "predicted")?;
    Ok(pearson(&average_ranks(actual), &average_ranks(predicted)))
}

/// Groups of indices with equal `key`, in descending key order. Within a group, indices are
/// ascending (the grouping itself does not depend on input order).
fn groups_descending(key: &[f64]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..key.len()).collect();
    order.sort_by(|&i, &j| key[j].total_cmp(&key[i]).then(i.cmp(&j)));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some(g) if key[g[0]] == key[i] => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    groups
}

/// Kaggle-style Gini of `actual` ordered by `key` descending, with `actual` averaged within a
/// group of equal keys. `None` when the total is zero.
fn gini_raw(actual: &[f64], key: &[f64]) -> Option<f64> {
    let n = actual.len() as f64;
    let total: f64 = actual.iter().sum();
    if total == 0.0 {
        return None;
    }
    let mut cumulative = 0.0;
    let mut sum_of_cumulative = 0.0;
    for group in groups_descending(key) {
        let mean = group.iter().map(|&i| actual[i]).sum::<f64>() / group.len() as f64;
        for _ in &group {
            cumulative += mean;
            sum_of_cumulative += cumulative;
        }
    }
    Some((sum_of_cumulative / total - (n + 1.0) / 2.0) / n)
}

/// Normalized Gini: `G(actual, predicted) / G(actual, actual)`.
///
/// `G(a, s)` is the Kaggle ("Allstate"/"Porto Seguro") Gini: sort the rows by `s` descending,
/// let `C_k` be the cumulative sum of `a` over the first `k` rows and `T = Σa`; then
/// `G = (Σ_{k=1..n} C_k / T − (n + 1) / 2) / n`. Within a group of equal `s` every row is given
/// the group's mean `a`, so the order inside a tie group cannot matter (a constant prediction
/// scores exactly `0`). The denominator orders `actual` by itself, the best possible ordering, so
/// a perfect ranking scores `1`, a random one about `0`, a reversed one about `−1`.
///
/// Returns `0.0` when the denominator is `0` (all actual values equal, or `T = 0`).
pub fn normalized_gini(actual: &[f64], predicted: &[f64]) -> Result<f64> {
    check_pair(actual, predicted, "predicted")?;
    let (Some(model), Some(perfect)) = (gini_raw(actual, predicted), gini_raw(actual, actual))
    else {
        return Ok(0.0);
    };
    if perfect == 0.0 {
        return Ok(0.0);
    }
    Ok(model / perfect)
}

/// Share of total actual spend held by the 10 % of rows with the highest predictions.
///
/// The top slice holds exactly `n / 10` rows (a real number, e.g. 2.5 rows for `n = 25`). Rows
/// are taken by prediction descending; a group of equal predictions that straddles the cut is
/// counted pro rata: if `m` of the group's `g` rows fit, it contributes `m / g` of the group's
/// actual sum. The result is `captured / Σactual`; `0.0` when `Σactual = 0`. With refunds the
/// total can be negative and the share then falls outside `[0, 1]`.
pub fn top_decile_capture(actual: &[f64], predicted: &[f64]) -> Result<f64> {
    check_pair(actual, predicted, "predicted")?;
    let total: f64 = actual.iter().sum();
    if total == 0.0 {
        return Ok(0.0);
    }
    let mut room = actual.len() as f64 / 10.0;
    let mut captured = 0.0;
    for group in groups_descending(predicted) {
        if room <= 0.0 {
            break;
        }
        let size = group.len() as f64;
        let sum: f64 = group.iter().map(|&i| actual[i]).sum();
        let taken = size.min(room);
        captured += sum * taken / size;
        room -= taken;
    }
    Ok(captured / total)
}

/// One row of a [`decile_table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileRow {
    /// Decile number, 1 (lowest predictions) to 10 (highest predictions).
    pub decile: u8,
    /// Rows in this decile.
    pub count: usize,
    /// Mean prediction in this decile; `None` if the decile is empty.
    pub mean_predicted: Option<f64>,
    /// Mean actual value in this decile; `None` if the decile is empty.
    pub mean_actual: Option<f64>,
}

/// Calibration table: 10 rows, deciles by predicted value, decile 1 = lowest predictions.
///
/// Rows are sorted by prediction ascending; a row at 0-based position `r` of `n` belongs to
/// decile `⌊10 r / n⌋ + 1`. Ties: a whole group of equal predictions goes to the decile of the
/// group's mean position, so equal predictions always share a decile and the table does not
/// depend on input order. Deciles may therefore be uneven or empty (e.g. a constant prediction
/// puts everyone in one decile; `n < 10` leaves some deciles empty).
pub fn decile_table(actual: &[f64], predicted: &[f64]) -> Result<Vec<DecileRow>> {
    check_pair(actual, predicted, "predicted")?;
    let n = actual.len();
    let mut count = [0usize; 10];
    let mut sum_p = [0.0f64; 10];
    let mut sum_a = [0.0f64; 10];
    let mut groups = groups_descending(predicted);
    groups.reverse(); // ascending
    let mut position = 0usize;
    for group in groups {
        let g = group.len();
        // mean 0-based position of the group is position + (g − 1) / 2; 10·that / n, floored
        let twice_mean = 2 * position + g - 1;
        let decile = ((10 * twice_mean) / (2 * n)).min(9);
        for &i in &group {
            count[decile] += 1;
            sum_p[decile] += predicted[i];
            sum_a[decile] += actual[i];
        }
        position += g;
    }
    Ok((0..10)
        .map(|d| DecileRow {
            decile: d as u8 + 1,
            count: count[d],
            mean_predicted: (count[d] > 0).then(|| sum_p[d] / count[d] as f64),
            mean_actual: (count[d] > 0).then(|| sum_a[d] / count[d] as f64),
        })
        .collect())
}

/// Area under the ROC curve via the Mann–Whitney statistic: the probability that a random
/// positive scores above a random negative, a tie counting 1/2. Computed from average ranks:
/// `AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ n₋)` where `R₊` is the rank sum of the positives.
///
/// Errors with [`Error::NotEnoughData`] when there are no positives or no negatives.
pub fn auc(labels: &[bool], scores: &[f64]) -> Result<f64> {
    if labels.len() != scores.len() {
        return Err(Error::InvalidParameter {
            name: "scores",
            value: format!("{} values", scores.len()),
            reason: format!("expected as many values as `labels` ({})", labels.len()),
        });
    }
    check_finite(scores, "scores")?;
    let n_pos = labels.iter().filter(|&&l| l).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Err(Error::NotEnoughData(format!(
            "auc needs both classes; got {n_pos} positive and {n_neg} negative labels"
        )));
    }
    let ranks = average_ranks(scores);
    let rank_sum: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, &l)| l)
        .map(|(r, _)| r)
        .sum();
    let n_pos = n_pos as f64;
    Ok((rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg as f64))
}

/// Holdout metrics of one model, as written into model files and reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Mean absolute error, see [`mae`].
    pub mae: f64,
    /// Root mean squared error, see [`rmse`].
    pub rmse: f64,
    /// Spearman rank correlation, see [`spearman`].
    pub spearman: f64,
    /// Normalized Gini, see [`normalized_gini`].
    pub normalized_gini: f64,
    /// Share of actual spend in the top 10 % of predictions, see [`top_decile_capture`].
    pub top_decile_capture: f64,
    /// Sum of predictions.
    pub predicted_total: f64,
    /// Sum of actual values.
    pub actual_total: f64,
    /// Calibration table, see [`decile_table`].
    pub deciles: Vec<DecileRow>,
    /// ROC AUC of a classifier, see [`auc`]; absent unless set with [`Metrics::with_auc`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auc: Option<f64>,
}

impl Metrics {
    /// Computes every regression metric of `predicted` against `actual` (`auc` is `None`).
    pub fn compute(actual: &[f64], predicted: &[f64]) -> Result<Self> {
        Ok(Metrics {
            mae: mae(actual, predicted)?,
            rmse: rmse(actual, predicted)?,
            spearman: spearman(actual, predicted)?,
            normalized_gini: normalized_gini(actual, predicted)?,
            top_decile_capture: top_decile_capture(actual, predicted)?,
            predicted_total: predicted_total(predicted)?,
            actual_total: actual_total(actual)?,
            deciles: decile_table(actual, predicted)?,
            auc: None,
        })
    }

    /// Sets `auc` from binary labels and classifier scores (see [`auc`]).
    pub fn with_auc(mut self, labels: &[bool], scores: &[f64]) -> Result<Self> {
        self.auc = Some(auc(labels, scores)?);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn mae_rmse_totals_by_hand() {
        // errors: 1−2 = −1, 4−1 = 3, 0−0 = 0, 5−3 = 2 → |e| = 1,3,0,2 → MAE = 6/4 = 1.5
        // e² = 1,9,0,4 → RMSE = sqrt(14/4) = sqrt(3.5)
        let a = [1.0, 4.0, 0.0, 5.0];
        let p = [2.0, 1.0, 0.0, 3.0];
        assert_abs_diff_eq!(mae(&a, &p).unwrap(), 1.5, epsilon = 1e-15);
        assert_abs_diff_eq!(rmse(&a, &p).unwrap(), 3.5f64.sqrt(), epsilon = 1e-15);
        assert_abs_diff_eq!(actual_total(&a).unwrap(), 10.0, epsilon = 1e-15);
        assert_abs_diff_eq!(predicted_total(&p).unwrap(), 6.0, epsilon = 1e-15);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert!(matches!(
            mae(&[1.0], &[1.0, 2.0]),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(mae(&[], &[]), Err(Error::NotEnoughData(_))));
        assert!(matches!(
            rmse(&[1.0, f64::NAN], &[1.0, 2.0]),
            Err(Error::InvalidParameter { name: "actual", .. })
        ));
        assert!(matches!(
            auc(&[true, true], &[0.1, 0.2]),
            Err(Error::NotEnoughData(_))
        ));
        assert!(matches!(
            Metrics::compute(&[1.0, 2.0], &[1.0]),
            Err(Error::InvalidParameter { .. })
        ));
    }

    #[test]
    fn spearman_with_ties_by_hand() {
        // a = [1, 2, 2, 4] → ranks [1, 2.5, 2.5, 4]; p = [10, 30, 20, 40] → ranks [1, 3, 2, 4]
        // centred (mean 2.5): ra = [−1.5, 0, 0, 1.5], rp = [−1.5, 0.5, −0.5, 1.5]
        // Σ ra·rp = 2.25 + 0 + 0 + 2.25 = 4.5; Σ ra² = 4.5; Σ rp² = 2.25+.25+.25+2.25 = 5
        // ρ = 4.5 / sqrt(4.5 · 5) = sqrt(4.5/5) = sqrt(0.9)
        let r = spearman(&[1.0, 2.0, 2.0, 4.0], &[10.0, 30.0, 20.0, 40.0]).unwrap();
        assert_abs_diff_eq!(r, 0.9f64.sqrt(), epsilon = 1e-12);
        // a constant side is defined as 0
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]).unwrap(), 0.0);
    }

    #[test]
    fn gini_five_rows_by_hand() {
        // actual a = [3, 0, 1, 0, 6], predicted p = [.5, .2, .4, .1, .3]
        // order by p desc: rows 0,2,4,1,3 → a = 3,1,6,0,0; T = 10
        // cumulative 3,4,10,10,10 → Σ = 37 → G = (37/10 − 6/2)/5 = 0.7/5 = 0.14
        // perfect order 6,3,1,0,0 → cumulative 6,9,10,10,10 → Σ = 45 → (4.5 − 3)/5 = 0.3
        // normalized = 0.14 / 0.3 = 7/15
        let a = [3.0, 0.0, 1.0, 0.0, 6.0];
        let p = [0.5, 0.2, 0.4, 0.1, 0.3];
        assert_abs_diff_eq!(
            normalized_gini(&a, &p).unwrap(),
            7.0 / 15.0,
            epsilon = 1e-12
        );
        // perfect prediction → 1, any monotone transform too
        assert_abs_diff_eq!(normalized_gini(&a, &a).unwrap(), 1.0, epsilon = 1e-12);
        let b: Vec<f64> = a.iter().map(|v| (v + 1.0f64).ln()).collect();
        assert_abs_diff_eq!(normalized_gini(&a, &b).unwrap(), 1.0, epsilon = 1e-12);
    }

    #[test]
    fn gini_ties_take_the_mean() {
        // p = [.5, .5, .1], a = [0, 4, 2]: the tied pair gets mean a = 2 → sequence 2,2,2
        // cumulative 2,4,6 → Σ = 12 → (12/6 − 2)/3 = 0 → normalized 0.
        // (ordering the tie [0,4] would give (10/6−2)/3 < 0, [4,0] gives (14/6−2)/3 > 0;
        // the tie rule is their average, 0.)
        let a = [0.0, 4.0, 2.0];
        assert_abs_diff_eq!(
            normalized_gini(&a, &[0.5, 0.5, 0.1]).unwrap(),
            0.0,
            epsilon = 1e-12
        );
        // same data in another order → same answer
        assert_abs_diff_eq!(
            normalized_gini(&[4.0, 0.0, 2.0], &[0.5, 0.5, 0.1]).unwrap(),
            0.0,
            epsilon = 1e-12
        );
        // constant predictions score exactly 0; constant actuals are defined as 0
        assert_eq!(normalized_gini(&a, &[1.0, 1.0, 1.0]).unwrap(), 0.0);
        assert_eq!(normalized_gini(&[2.0, 2.0], &[1.0, 0.0]).unwrap(), 0.0);
    }

    #[test]
    fn top_decile_tie_straddles_cut() {
        // n = 20 → top slice = 2 rows. Row with p = 9 (a = 10) is first; then a tie group of
        // three rows with p = 5 and a = 6, 0, 3 (sum 9): 1 of its 3 rows fits → 9 · 1/3 = 3.
        // The other 16 rows have p = 1, a = 1. T = 10 + 9 + 16 = 35 → capture = 13/35.
        let mut a = vec![10.0, 6.0, 0.0, 3.0];
        let mut p = vec![9.0, 5.0, 5.0, 5.0];
        a.extend([1.0; 16]);
        p.extend([1.0; 16]);
        assert_abs_diff_eq!(
            top_decile_capture(&a, &p).unwrap(),
            13.0 / 35.0,
            epsilon = 1e-12
        );
        // n = 25 → 2.5 rows: row0 (a = 10), row1 (a = 5), half of row2 (a = 4) → 17 of T = 19+22
        let mut a = vec![10.0, 5.0, 4.0];
        let mut p = vec![3.0, 2.0, 1.5];
        a.extend([1.0; 22]);
        p.extend([0.0; 22]);
        assert_abs_diff_eq!(
            top_decile_capture(&a, &p).unwrap(),
            17.0 / 41.0,
            epsilon = 1e-12
        );
    }

    #[test]
    fn decile_table_by_hand() {
        // n = 20, p = 0..19 distinct, a = 2p → each decile has 2 rows:
        // decile d (1-based) holds p = 2(d−1), 2d−1 → mean p = 2d − 1.5, mean a = 2 · that.
        let p: Vec<f64> = (0..20).map(f64::from).collect();
        let a: Vec<f64> = p.iter().map(|v| 2.0 * v).collect();
        let t = decile_table(&a, &p).unwrap();
        assert_eq!(t.len(), 10);
        for (d, row) in t.iter().enumerate() {
            let d1 = d as f64 + 1.0;
            assert_eq!(row.decile as usize, d + 1);
            assert_eq!(row.count, 2);
            assert_abs_diff_eq!(row.mean_predicted.unwrap(), 2.0 * d1 - 1.5, epsilon = 1e-12);
            assert_abs_diff_eq!(row.mean_actual.unwrap(), 4.0 * d1 - 3.0, epsilon = 1e-12);
        }
        // constant predictions: one group, mean position (n−1)/2 = 9.5 → ⌊95/20⌋ = 4 → decile 5
        let t = decile_table(&a, &[1.0; 20]).unwrap();
        assert_eq!(t[4].count, 20);
        assert!(t.iter().enumerate().all(|(d, r)| d == 4 || r.count == 0));
        assert_eq!(t[0].mean_actual, None);
    }

    #[test]
    fn auc_with_ties_by_hand() {
        // positives score [0.8, 0.5], negatives [0.5, 0.2].
        // pairs: (0.8 > 0.5) 1, (0.8 > 0.2) 1, (0.5 = 0.5) ½, (0.5 > 0.2) 1 → 3.5 / 4 = 0.875
        let r = auc(&[true, false, true, false], &[0.8, 0.5, 0.5, 0.2]).unwrap();
        assert_abs_diff_eq!(r, 0.875, epsilon = 1e-15);
        // all scores tied → ½
        let r = auc(&[true, false, false], &[1.0, 1.0, 1.0]).unwrap();
        assert_abs_diff_eq!(r, 0.5, epsilon = 1e-15);
    }

    /// Reference vector drawn in Python (numpy `default_rng(7)`, 24 rows, scores rounded to one
    /// decimal so that they tie). Reference values computed once with scikit-learn 1.4 /
    /// scipy 1.11:
    /// `roc_auc_score(labels, scores) = 0.910714285714286`,
    /// `scipy.stats.spearmanr(actual, pred).correlation = 0.895073040440879`.
    #[test]
    fn cross_check_against_sklearn_and_scipy() {
        let scores = [
            0.6, 0.9, 0.8, 0.2, 0.3, 0.9, 0.0, 0.8, 0.8, 0.5, 0.3, 0.3, 0.3, 0.4, 0.5, 0.6, 1.0,
            0.8, 0.6, 1.0, 0.2, 0.2, 0.6, 0.0,
        ];
        let labels = [
            true, true, true, false, false, true, false, true, true, true, false, true, false,
            true, false, true, true, false, true, true, false, false, true, false,
        ];
        let actual = [
            11.9, 57.4, 0.0, 6.4, 19.2, 53.4, 3.4, 0.0, 0.0, 93.7, 134.8, 0.0, 65.3, 38.2, 46.9,
            7.2, 124.7, 0.0, 0.0, 1.3, 54.3, 53.1, 53.2, 28.4,
        ];
        let pred = [
            10.1, 51.8, -11.8, 1.6, -11.8, 39.2, 10.4, -42.6, 16.9, 44.2, 162.1, -16.9, 71.4, 41.5,
            28.6, 35.1, 110.0, -1.3, -5.5, -1.6, 51.7, 55.8, 38.0, 36.3,
        ];
        assert_abs_diff_eq!(
            auc(&labels, &scores).unwrap(),
            0.910714285714286,
            epsilon = 1e-12
        );
        assert_abs_diff_eq!(
            spearman(&actual, &pred).unwrap(),
            0.895073040440879,
            epsilon = 1e-12
        );
    }

    #[test]
    fn metrics_compute_and_serde_keys() {
        let a = [3.0, 0.0, 1.0, 0.0, 6.0];
        let p = [0.5, 0.2, 0.4, 0.1, 0.3];
        let m = Metrics::compute(&a, &p).unwrap();
        assert_abs_diff_eq!(m.normalized_gini, 7.0 / 15.0, epsilon = 1e-12);
        assert!(m.auc.is_none());
        let json = serde_json::to_value(&m).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "actual_total",
                "deciles",
                "mae",
                "normalized_gini",
                "predicted_total",
                "rmse",
                "spearman",
                "top_decile_capture"
            ]
        );
        let m = m.with_auc(&[true, false, true, false, true], &p).unwrap();
        let back: Metrics = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}
