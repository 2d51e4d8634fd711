//! Fitted trees compiled for batch prediction: the same predictions, bit for bit, from a
//! compact layout.
//!
//! Every threshold a tree ensemble uses is collected per feature into a sorted list of
//! distinct values; each row is then quantised once per block into `u16` codes (the position
//! of its value among those thresholds, or `MISSING` for NaN), and every split becomes an
//! integer comparison `code <= index` on an 8-byte node. A row goes left at a split exactly
//! when the fitted rule sends it left:
//! - `Rule::LessEq` (the crate's regression trees and boosting): `x.min(f64::MAX) <= t`, NaN
//!   goes to the fitted side. With `code = #{thresholds < x.min(MAX)}`, `x' <= t_j ⇔ code <= j`.
//! - `Rule::LessFilled` (the linfa churn tree on features with NaN filled by 0):
//!   `x < t` goes left. With `code = #{thresholds <= x}`, `x < t_j ⇔ code <= j`.
//!
//! Trees are walked in lockstep groups of rows over a block, and each row's output is the
//! baseline plus its leaf values added in tree order — the summation order of
//! `GradientBoosting::predict_raw` — so the result is identical to the plain walk.
use super::bitforest::BitForest;
use crate::models::churn::{FittedChurn, Node as ChurnNode};
use crate::models::tree::Tree;

/// The code of a missing (NaN) value.
pub(crate) const MISSING: u16 = u16::MAX;

/// Rows walked through a tree together.
const GROUP: usize = 8;

/// How a split compares a feature value with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// `x.min(f64::MAX) <= threshold` goes left; NaN goes to the side stored in the node.
    LessEq,
    /// NaN is replaced by 0, then `x < threshold` goes left.
    LessFilled,
}

impl Rule {
    /// The value a split compares with its threshold: `v.min(f64::MAX)` under
    /// [`Rule::LessEq`] (`None` for NaN, which goes to the node's stored side), `v` with NaN
    /// read as 0 under [`Rule::LessFilled`].
    #[inline(always)]
    pub(crate) fn operand(self, v: f64) -> Option<f64> {
        match self {
            Rule::LessEq if v.is_nan() => None,
            Rule::LessEq => Some(v.min(f64::MAX)),
            Rule::LessFilled if v.is_nan() => Some(0.0),
            Rule::LessFilled => Some(v),
        }
    }

    /// Whether a split with threshold `t` sends operand `x` ([`Rule::operand`]) right, i.e.
    /// its test is false: `t < x` under [`Rule::LessEq`], `t <= x` under [`Rule::LessFilled`].
    #[inline(always)]
    pub(crate) fn goes_right(self, t: f64, x: f64) -> bool {
        match self {
            Rule::LessEq => t < x,
            Rule::LessFilled => t <= x,
        }
    }
}

/// One node: 8 bytes. A leaf points to itself on both sides (a fixed point of the walk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FlatNode {
    /// Local feature index (position in `CompiledForest::features`).
    feature: u8,
    /// Whether NaN goes left.
    missing_left: bool,
    /// Index of the threshold among the feature's sorted thresholds.
    threshold: u16,
    /// Left child (tree-relative index).
    left: u16,
    /// Right child (tree-relative index).
    right: u16,
}

/// A node of a tree to compile: `Split` goes left when the rule holds.
pub(crate) enum SourceNode {
    /// An inner node.
    Split {
        /// Feature column.
        feature: usize,
        /// Threshold.
        threshold: f64,
        /// Where NaN goes (ignored by [`Rule::LessFilled`], where NaN is 0).
        missing_left: bool,
        /// Left child index.
        left: usize,
        /// Right child index.
        right: usize,
    },
    /// A leaf with its output.
    Leaf(f64),
}

/// A tree ensemble in flat, quantised form.
#[derive(Debug, Clone)]
pub struct CompiledForest {
    rule: Rule,
    /// Columns of the input the trees use; local feature `f` is column `features[f]`.
    features: Vec<usize>,
    /// Sorted distinct thresholds per local feature.
    thresholds: Vec<Vec<f64>>,
    nodes: Vec<FlatNode>,
    /// Output of each node (used at leaves).
    values: Vec<f64>,
    /// Start of each tree in `nodes`, and one past the end.
    starts: Vec<usize>,
    /// Depth of each tree (steps from the root to its deepest leaf).
    depths: Vec<usize>,
    /// Added before the trees' outputs; `None`: the output is the first tree's leaf value.
    baseline: Option<f64>,
    /// The same trees in bit-vector form, when every tree has at most 64 leaves: used
    /// instead of the walk.
    bits: Option<BitForest>,
}

impl CompiledForest {
    /// Compiles trees given as node lists (root first). `None` when the trees do not fit the
    /// layout (more than 256 features used, 65,535 thresholds per feature or nodes per tree,
    /// or a NaN threshold): callers then use the plain walk.
    pub(crate) fn new(
        trees: &[Vec<SourceNode>],
        rule: Rule,
        baseline: Option<f64>,
    ) -> Option<CompiledForest> {
        if trees.is_empty() {
            return None;
        }
        let mut features: Vec<usize> = Vec::new();
        for t in trees {
            for n in t {
                if let SourceNode::Split {
                    feature, threshold, ..
                } = n
                {
                    if threshold.is_nan() {
                        return None;
                    }
                    if !features.contains(feature) {
                        features.push(*feature);
                    }
                }
            }
        }
        features.sort_unstable();
        if features.len() > 256 {
            return None;
        }
        let local = |f: usize| features.binary_search(&f).unwrap_or(0);
        let mut thresholds: Vec<Vec<f64>> = vec![Vec::new(); features.len()];
        for t in trees {
            for n in t {
                if let SourceNode::Split {
                    feature, threshold, ..
                } = n
                {
                    thresholds[local(*feature)].push(*threshold);
                }
            }
        }
        for th in &mut thresholds {
            th.sort_by(|a, b| a.total_cmp(b));
            // distinct by `==` (so -0 and 0 are one threshold: they compare equal)
            th.dedup_by(|a, b| a == b);
            if th.len() >= usize::from(MISSING) {
                return None;
            }
        }
        let mut nodes = Vec::new();
        let mut values = Vec::new();
        let mut starts = vec![0];
        let mut depths = Vec::new();
        for t in trees {
            if t.len() > usize::from(u16::MAX) {
                return None;
            }
            for (i, n) in t.iter().enumerate() {
                match *n {
                    SourceNode::Split {
                        feature,
                        threshold,
                        missing_left,
                        left,
                        right,
                    } => {
                        if left >= t.len() || right >= t.len() {
                            return None;
                        }
                        let f = local(feature);
                        let th = &thresholds[f];
                        let j = th.partition_point(|&x| x < threshold);
                        nodes.push(FlatNode {
                            feature: f as u8,
                            missing_left: missing_left && rule == Rule::LessEq,
                            threshold: j as u16,
                            left: left as u16,
                            right: right as u16,
                        });
                        values.push(0.0);
                    }
                    SourceNode::Leaf(v) => {
                        nodes.push(FlatNode {
                            feature: 0,
                            missing_left: false,
                            threshold: 0,
                            left: i as u16,
                            right: i as u16,
                        });
                        values.push(v);
                    }
                }
            }
            starts.push(nodes.len());
            depths.push(depth(t)?);
        }
        Some(CompiledForest {
            rule,
            features,
            thresholds,
            nodes,
            values,
            starts,
            depths,
            baseline,
            bits: BitForest::new(trees, rule, baseline),
        })
    }

    /// The boosting trees `trees` after `baseline` (raw scores, link scale).
    pub(crate) fn from_trees(trees: &[Tree], baseline: Option<f64>) -> Option<CompiledForest> {
        let src: Vec<Vec<SourceNode>> = trees
            .iter()
            .map(|t| {
                t.nodes
                    .iter()
                    .map(|n| {
                        if n.left == 0 {
                            SourceNode::Leaf(n.value)
                        } else {
                            SourceNode::Split {
                                feature: n.feature as usize,
                                threshold: n.threshold,
                                missing_left: n.missing_left,
                                left: n.left as usize,
                                right: n.right as usize,
                            }
                        }
                    })
                    .collect()
            })
            .collect();
        CompiledForest::new(&src, Rule::LessEq, baseline)
    }

    /// The churn tree: its output is the leaf's probability of buying again, for raw features
    /// (NaN is filled by 0, as `Dataset::x_filled` does).
    pub fn from_churn(churn: &FittedChurn) -> Option<CompiledForest> {
        let src: Vec<SourceNode> = churn
            .nodes()
            .iter()
            .map(|n| match *n {
                ChurnNode::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => SourceNode::Split {
                    feature,
                    threshold,
                    missing_left: false,
                    left,
                    right,
                },
                ChurnNode::Leaf { probability, .. } => SourceNode::Leaf(probability),
            })
            .collect();
        CompiledForest::new(&[src], Rule::LessFilled, None)
    }

    /// Predicts every row of `x` (at least [`CompiledForest::min_columns`] columns) on all
    /// cores, in fixed blocks of rows; the values do not depend on the thread count.
    pub fn predict(&self, x: ndarray::ArrayView2<f64>) -> ndarray::Array1<f64> {
        assert!(x.ncols() >= self.min_columns(), "x has too few columns");
        crate::models::tree::predict_rows(x, |rows, p, out| self.predict_rows(rows, p, out))
    }

    /// Number of input columns a row must have at least.
    pub fn min_columns(&self) -> usize {
        self.features.last().map_or(0, |f| f + 1)
    }

    /// The code of value `v` of local feature `f`.
    #[inline]
    fn code(&self, f: usize, v: f64) -> u16 {
        let th = &self.thresholds[f];
        match self.rule.operand(v) {
            None => MISSING,
            Some(x) => th.partition_point(|&t| self.rule.goes_right(t, x)) as u16,
        }
    }

    /// Predicts rows given row-major (`p` values per row, `p ≥ min_columns()`), writing one
    /// output per row to `out` (`rows.len() == out.len() * p`): with the bit-vector form when
    /// the trees have one and it runs vectorised ([`crate::models::bitforest`]), else by
    /// walking them. The same bits either way.
    pub fn predict_rows(&self, rows: &[f64], p: usize, out: &mut [f64]) {
        match &self.bits {
            Some(bits) if super::bitforest::vectorised() => bits.predict_rows(rows, p, out),
            _ => self.walk_rows(rows, p, out),
        }
    }

    /// [`CompiledForest::predict_rows`] by walking the trees. All rows are quantised first;
    /// then tree by tree (so that a tree stays in cache while every row passes through it),
    /// groups of rows walk it in lockstep. Each row's output is summed in tree order.
    fn walk_rows(&self, rows: &[f64], p: usize, out: &mut [f64]) {
        let nf = self.features.len().max(1);
        let n = out.len();
        let mut codes = vec![0u16; n * nf];
        for (r, cr) in codes.chunks_mut(nf).enumerate() {
            let xr = &rows[r * p..(r + 1) * p];
            for (f, (&col, c)) in self.features.iter().zip(cr.iter_mut()).enumerate() {
                *c = self.code(f, xr[col]);
            }
        }
        for (t, w) in self.starts.windows(2).enumerate() {
            let nodes = &self.nodes[w[0]..w[1]];
            let values = &self.values[w[0]..w[1]];
            let depth = self.depths[t];
            for (g, o) in out.chunks_mut(GROUP).enumerate() {
                let codes = &codes[g * GROUP * nf..];
                let m = o.len();
                let mut idx = [0u16; GROUP];
                for _ in 0..depth {
                    let mut moved = false;
                    for (j, ij) in idx.iter_mut().enumerate().take(m) {
                        let nd = nodes[*ij as usize];
                        let c = codes[j * nf + nd.feature as usize];
                        let left = (c <= nd.threshold) | ((c == MISSING) & nd.missing_left);
                        let next = if left { nd.left } else { nd.right };
                        moved |= next != *ij;
                        *ij = next;
                    }
                    if !moved {
                        break;
                    }
                }
                for (j, oj) in o.iter_mut().enumerate() {
                    let v = values[idx[j] as usize];
                    *oj = match (t, self.baseline) {
                        (0, Some(b)) => b + v,
                        (0, None) => v,
                        _ => *oj + v,
                    };
                }
            }
        }
    }
}

/// Depth of a node list (root at 0); `None` if a child index is out of range or the walk
/// finds a cycle.
fn depth(t: &[SourceNode]) -> Option<usize> {
    let mut best = 0;
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, d)) = stack.pop() {
        if d > t.len() {
            return None;
        }
        match t.get(i)? {
            SourceNode::Leaf(_) => best = best.max(d),
            SourceNode::Split { left, right, .. } => {
                stack.push((*left, d + 1));
                stack.push((*right, d + 1));
            }
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::bitforest::Kernel;
    use crate::models::boosting::{GradientBoosting, Loss};
    use crate::models::churn::ChurnClassifier;
    use crate::models::tree::RegressionTree;
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Training data: 4 features, one with NaN, one with repeated integers.
    fn training(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, 4), |(_, j)| match j {
            0 => rng.gen::<f64>() * 10.0,
            1 => {
                if rng.gen::<f64>() < 0.2 {
                    f64::NAN
                } else {
                    rng.gen::<f64>()
                }
            }
            2 => f64::from(rng.gen_range(0..6)),
            _ => rng.gen::<f64>() - 0.5,
        });
        let y = Array1::from_iter(x.rows().into_iter().map(|r| {
            let b = if r[1].is_nan() { 3.0 } else { r[1] };
            (r[0] * 0.3 + b + r[2] * r[2] * 0.1 + rng.gen::<f64>()).max(0.0)
        }));
        (x, y)
    }

    /// Rows to predict: random values, every threshold exactly, its neighbours, NaN, ±inf,
    /// ±0, f64::MAX.
    fn probe_rows(thresholds: &[Vec<f64>], features: &[usize], p: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut specials = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MAX,
            f64::MIN,
        ];
        for th in thresholds {
            for &t in th {
                specials.extend([t, t.next_up(), t.next_down()]);
            }
        }
        let mut rows = Vec::new();
        for k in 0..20_000 {
            for j in 0..p {
                let v = if rng.gen::<f64>() < 0.5 {
                    specials[rng.gen_range(0..specials.len())]
                } else {
                    (rng.gen::<f64>() - 0.2) * 12.0
                };
                // make sure each special value appears in each used column
                let v = if k < specials.len() && features.contains(&j) {
                    specials[k]
                } else {
                    v
                };
                rows.push(v);
            }
        }
        rows
    }

    #[test]
    fn boosting_predictions_are_bitwise_equal() {
        let (x, y) = training(3000, 1);
        // 15 leaves: 32-bit words (every kernel); 48: 64-bit words (no AVX-512 kernel)
        for (loss, leaves) in [
            (Loss::SquaredError, 15),
            (Loss::Poisson, 15),
            (Loss::SquaredError, 48),
        ] {
            let gb = GradientBoosting::params()
                .n_iterations(60)
                .learning_rate(0.2)
                .max_leaves(Some(leaves))
                .min_samples_leaf(10)
                .loss(loss)
                .early_stopping(false)
                .seed(3)
                .fit(x.view(), y.view())
                .unwrap();
            let c = gb.compiled().expect("compiles");
            let rows = probe_rows(&c.thresholds, &c.features, 4, 9);
            let xr = Array2::from_shape_vec((rows.len() / 4, 4), rows.clone()).unwrap();
            let want = gb.predict_raw(xr.view());
            // the plain per-row walk agrees with the lockstep walk and the bit vectors
            let bits = c
                .bits
                .as_ref()
                .expect("trees of ≤ 64 leaves have the bit-vector form");
            assert_eq!(bits.word_bits(), if leaves <= 32 { 32 } else { 64 });
            assert_all_paths_equal(&c, &rows, 4, &want.to_vec());
            let full = gb.predict(xr.view());
            let fast = gb.predict_compiled(&c, xr.view());
            assert!(full
                .iter()
                .zip(&fast)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn regression_tree_predictions_are_bitwise_equal() {
        let (x, y) = training(2000, 2);
        let t = RegressionTree::params()
            .max_depth(7)
            .min_samples_leaf(5)
            .fit(x.view(), y.view())
            .unwrap();
        let c = t.compiled().expect("compiles");
        let rows = probe_rows(&c.thresholds, &c.features, 4, 10);
        let xr = Array2::from_shape_vec((rows.len() / 4, 4), rows).unwrap();
        let want = t.predict(xr.view());
        let got = t.predict_compiled(&c, xr.view());
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "row {i}: {a} vs {b}");
        }
        let rows: Vec<f64> = xr.iter().copied().collect();
        assert_all_paths_equal(&c, &rows, 4, &want.to_vec());
    }

    /// The lockstep walk and, when the trees have one, the bit-vector form both give `want`
    /// bit for bit, also for row counts that are not a multiple of the group sizes.
    fn assert_all_paths_equal(c: &CompiledForest, rows: &[f64], p: usize, want: &[f64]) {
        for n in [want.len(), want.len() - 3, 5, 1] {
            let mut walked = vec![0.0; n];
            c.walk_rows(&rows[..n * p], p, &mut walked);
            let mut paths = vec![(String::from("walk"), walked)];
            if let Some(bits) = &c.bits {
                for kernel in Kernel::ALL.into_iter().filter(|k| k.runs()) {
                    let mut out = vec![0.0; n];
                    bits.predict_rows_with(kernel, &rows[..n * p], p, &mut out);
                    paths.push((format!("bits, {kernel:?}"), out));
                }
                let mut out = vec![0.0; n];
                bits.predict_rows(&rows[..n * p], p, &mut out);
                paths.push(("bits, best".into(), out));
            }
            for (name, got) in paths {
                for (i, (a, b)) in got.iter().zip(want).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{name}, {n} rows, row {i}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn trees_with_more_than_64_leaves_are_walked() {
        let (x, y) = training(4000, 4);
        let big = RegressionTree::params()
            .max_depth(12)
            .min_samples_leaf(2)
            .fit(x.view(), y.view())
            .unwrap();
        let small = RegressionTree::params()
            .max_depth(6)
            .min_samples_leaf(5)
            .fit(x.view(), y.view())
            .unwrap();
        assert!(big.n_leaves() > 64);
        assert!(big.compiled().unwrap().bits.is_none());
        let c = small.compiled().unwrap();
        assert!(small.n_leaves() > 32, "{} leaves", small.n_leaves());
        assert_eq!(
            c.bits.as_ref().map(|b| b.word_bits()),
            Some(64),
            "a depth-6 tree has at most 64 leaves"
        );
        let rows = probe_rows(&c.thresholds, &c.features, 4, 12);
        let xr = Array2::from_shape_vec((rows.len() / 4, 4), rows.clone()).unwrap();
        assert_all_paths_equal(&c, &rows, 4, &small.predict(xr.view()).to_vec());
    }

    #[test]
    fn churn_predictions_equal_the_filled_linfa_path() {
        let (x, y) = training(3000, 3);
        let filled = x.mapv(|v| if v.is_nan() { 0.0 } else { v });
        let labels = y.mapv(|v| v > 2.0);
        let churn = ChurnClassifier::params()
            .max_depth(Some(8))
            .fit(filled.view(), labels.view())
            .unwrap();
        let c = CompiledForest::from_churn(&churn).expect("compiles");
        assert!(churn.n_leaves() > 4);
        let rows = probe_rows(&c.thresholds, &c.features, 4, 11);
        let xr = Array2::from_shape_vec((rows.len() / 4, 4), rows.clone()).unwrap();
        let want = churn.predict(xr.mapv(|v| if v.is_nan() { 0.0 } else { v }).view());
        assert_all_paths_equal(&c, &rows, 4, &want.to_vec());
        // a small churn tree takes the bit-vector path too
        let small = ChurnClassifier::params()
            .max_depth(Some(4))
            .fit(filled.view(), labels.view())
            .unwrap();
        let c = CompiledForest::from_churn(&small).expect("compiles");
        assert_eq!(c.bits.as_ref().map(|b| b.word_bits()), Some(32));
        let want = small.predict(xr.mapv(|v| if v.is_nan() { 0.0 } else { v }).view());
        assert_all_paths_equal(&c, &rows, 4, &want.to_vec());
        // and one of 33 to 64 leaves, with 64-bit words (labels with more turns)
        let wiggly = y.mapv(|v| (v * 7.0).sin() > 0.0);
        let wide = ChurnClassifier::params()
            .max_depth(Some(9))
            .fit(filled.view(), wiggly.view())
            .unwrap();
        assert!((33..=64).contains(&wide.n_leaves()), "{}", wide.n_leaves());
        let c = CompiledForest::from_churn(&wide).expect("compiles");
        assert_eq!(c.bits.as_ref().map(|b| b.word_bits()), Some(64));
        let want = wide.predict(xr.mapv(|v| if v.is_nan() { 0.0 } else { v }).view());
        assert_all_paths_equal(&c, &rows, 4, &want.to_vec());
    }

    /// Hand-made tree: thresholds 1 (NaN left) and 2 on feature 0, outputs after baseline 0.5.
    #[test]
    fn hand_made_tree_routes_ties_nan_and_infinity() {
        let t = vec![
            SourceNode::Split {
                feature: 0,
                threshold: 1.0,
                missing_left: true,
                left: 1,
                right: 2,
            },
            SourceNode::Leaf(10.0),
            SourceNode::Split {
                feature: 0,
                threshold: 2.0,
                missing_left: false,
                left: 3,
                right: 4,
            },
            SourceNode::Leaf(20.0),
            SourceNode::Leaf(30.0),
        ];
        let c = CompiledForest::new(&[t], Rule::LessEq, Some(0.5)).unwrap();
        let rows = [
            1.0,
            0.9,
            2.0,
            f64::NAN,
            f64::INFINITY,
            2.5,
            1.0f64.next_up(),
        ];
        // ties go left; NaN goes left at the root; +inf goes right
        let want = [10.5, 10.5, 20.5, 10.5, 30.5, 30.5, 20.5];
        assert!(c.bits.is_some());
        assert_all_paths_equal(&c, &rows, 1, &want);
    }
}
