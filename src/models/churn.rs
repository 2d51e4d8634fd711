//! Churn classifier: a linfa-trees `DecisionTree` (CART, Gini) on customer features whose
//! label is "buys again within the horizon", with leaf class shares as probabilities.
//!
//! # Probabilities
//! linfa-trees 0.8 only predicts the modal class of a leaf; it exposes no class proportions.
//! It does expose the fitted structure (`TreeNode::split`, `children`, `is_leaf`), so after the
//! fit the tree is copied into a flat node list, every training row is routed to its leaf, and
//! the leaf's probability is the share of its training rows that bought again. Routing uses
//! linfa's own prediction rule (`x[feature] < threshold` goes left, anything else — including
//! NaN — goes right); linfa's thresholds are midpoints between distinct training values, so
//! every training row lands in the leaf it was grown in.
//!
//! linfa prunes sibling leaves that predict the same class, so two leaves with shares 0.6 and
//! 0.95 become one leaf with their pooled share: the probabilities are coarser than those of an
//! unpruned tree, but still a training class share.
//!
//! # Determinism
//! linfa picks a node's modal class by iterating a `std::collections::HashMap`, whose order is
//! randomised per map, so an exactly balanced node would get a random class — and pruning, which
//! compares those classes, a random shape. To make fits reproducible, rows that did not buy again
//! get sample weight `1 + 2⁻¹²` (those that did get `1`): a node can then only be exactly
//! balanced in weight if it holds ≥ 4096 non-buyers, and near-balanced ties break towards
//! "does not buy again". The tilt changes impurities by < 0.03 % and `min_weight_leaf` still acts
//! as a row count. CART has no random step, so there is no seed: identical inputs give an
//! identical tree.
use linfa::traits::Fit;
use linfa::ParamGuard;
use linfa_trees::{DecisionTree, TreeNode};
use ndarray::{Array1, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Weight of a row that did not buy again (see the module docs on determinism).
const NEGATIVE_WEIGHT: f32 = 1.0 + 1.0 / 4096.0;

/// Decision-tree churn classifier; start with [`ChurnClassifier::params`].
#[derive(Debug, Clone, Copy)]
pub struct ChurnClassifier;

impl ChurnClassifier {
    /// Hyper-parameters with defaults: `max_depth = Some(6)`, `min_weight_leaf = 20`,
    /// `min_weight_split = 40`, `min_impurity_decrease = 1e-5`.
    pub fn params() -> ChurnParams {
        ChurnParams {
            max_depth: Some(6),
            min_weight_leaf: 20.0,
            min_weight_split: 40.0,
            min_impurity_decrease: 1e-5,
        }
    }
}

/// Hyper-parameters of [`ChurnClassifier`] (a consuming builder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnParams {
    max_depth: Option<usize>,
    min_weight_leaf: f32,
    min_weight_split: f32,
    min_impurity_decrease: f64,
}

impl ChurnParams {
    /// Maximum tree depth (`None` = unlimited, `Some(d)` with `d ≥ 1`). Default `Some(6)`.
    pub fn max_depth(mut self, max_depth: Option<usize>) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Minimum number of training rows in a leaf, `≥ 1`. Default `20`.
    pub fn min_weight_leaf(mut self, min_weight_leaf: f32) -> Self {
        self.min_weight_leaf = min_weight_leaf;
        self
    }

    /// Minimum number of training rows in a node for it to be split, `≥ 2`. Default `40`.
    pub fn min_weight_split(mut self, min_weight_split: f32) -> Self {
        self.min_weight_split = min_weight_split;
        self
    }

    /// Minimum decrease of Gini impurity for a split, `> 0` (linfa requires it).
    /// Default `1e-5`.
    pub fn min_impurity_decrease(mut self, min_impurity_decrease: f64) -> Self {
        self.min_impurity_decrease = min_impurity_decrease;
        self
    }

    /// Validates the hyper-parameters, naming the bad value.
    pub fn check(&self) -> Result<()> {
        use super::param_check::{at_least, finite_above, finite_at_least};
        if let Some(d) = self.max_depth {
            at_least("max_depth", d, 1)?;
        }
        finite_at_least("min_weight_leaf", self.min_weight_leaf, 1.0)?;
        finite_at_least("min_weight_split", self.min_weight_split, 2.0)?;
        finite_above("min_impurity_decrease", self.min_impurity_decrease, 0.0)
    }

    /// Fits the tree on features `x` (rows = customers) and labels `bought_again`
    /// (`true` = bought again within the horizon).
    ///
    /// Errors: [`Error::InvalidParameter`] for bad hyper-parameters, a length mismatch or
    /// non-finite features; [`Error::NotEnoughData`] for no rows; [`Error::Fit`] if linfa fails.
    pub fn fit(&self, x: ArrayView2<f64>, bought_again: ArrayView1<bool>) -> Result<FittedChurn> {
        self.check()?;
        if x.nrows() != bought_again.len() {
            return Err(Error::InvalidParameter {
                name: "bought_again",
                value: format!("{} labels", bought_again.len()),
                reason: format!("expected one label per feature row ({} rows)", x.nrows()),
            });
        }
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(Error::NotEnoughData(
                "the churn classifier needs at least one row and one feature".into(),
            ));
        }
        if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "x",
                value: v.to_string(),
                reason: format!("feature value at row {i}, column {j} is not finite"),
            });
        }
        let weights = bought_again.mapv(|b| if b { 1.0 } else { NEGATIVE_WEIGHT });
        let dataset =
            linfa::Dataset::new(x.to_owned(), bought_again.to_owned()).with_weights(weights);
        let tree_params = DecisionTree::<f64, bool>::params()
            .max_depth(self.max_depth)
            .min_weight_leaf(self.min_weight_leaf)
            .min_weight_split(self.min_weight_split)
            .min_impurity_decrease(self.min_impurity_decrease)
            .check()
            .map_err(|e| Error::Fit(format!("decision tree parameters: {e}")))?;
        let tree = tree_params
            .fit(&dataset)
            .map_err(|e| Error::Fit(format!("decision tree: {e}")))?;

        let mut nodes = flatten(tree.root_node());
        let mut counts = vec![(0usize, 0usize); nodes.len()];
        for (row, &label) in x.rows().into_iter().zip(bought_again) {
            let leaf = route(&nodes, row);
            counts[leaf].0 += 1;
            counts[leaf].1 += usize::from(label);
        }
        let n_positive = bought_again.iter().filter(|&&b| b).count();
        let base_rate = n_positive as f64 / x.nrows() as f64;
        for (node, &(count, positives)) in nodes.iter_mut().zip(&counts) {
            if let Node::Leaf {
                count: c,
                positives: p,
                probability,
            } = node
            {
                *c = count;
                *p = positives;
                // a leaf no training row reaches cannot occur with linfa's midpoint thresholds;
                // if it ever did, it gets the overall training rate
                *probability = if count > 0 {
                    positives as f64 / count as f64
                } else {
                    base_rate
                };
            }
        }
        Ok(FittedChurn {
            params: self.clone(),
            n_features: x.ncols(),
            base_rate,
            nodes,
        })
    }
}

/// One node of the flattened tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Node {
    /// Internal node: rows with `x[feature] < threshold` go to `left`, others to `right`.
    Split {
        /// Feature column index.
        feature: usize,
        /// Split threshold.
        threshold: f64,
        /// Index of the left child in the node list.
        left: usize,
        /// Index of the right child in the node list.
        right: usize,
    },
    /// Leaf with its training class counts.
    Leaf {
        /// Training rows in the leaf.
        count: usize,
        /// Of those, rows that bought again.
        positives: usize,
        /// `positives / count`: the predicted probability of buying again.
        probability: f64,
    },
}

/// Copies linfa's tree into a node list (root first, depth-first, left before right), with an
/// explicit stack so deep trees cannot overflow the call stack.
fn flatten(root: &TreeNode<f64, bool>) -> Vec<Node> {
    let leaf = || Node::Leaf {
        count: 0,
        positives: 0,
        probability: 0.0,
    };
    let mut nodes = Vec::new();
    // (node, (index of the parent, is this the left child)) — the parent's slot is patched
    type Pending<'a> = (&'a TreeNode<f64, bool>, Option<(usize, bool)>);
    let mut stack: Vec<Pending<'_>> = vec![(root, None)];
    while let Some((node, parent)) = stack.pop() {
        let index = nodes.len();
        if let Some((p, is_left)) = parent {
            if let Node::Split { left, right, .. } = &mut nodes[p] {
                if is_left {
                    *left = index;
                } else {
                    *right = index;
                }
            }
        }
        let children = node.children();
        match (
            node.is_leaf(),
            children[0].as_deref(),
            children[1].as_deref(),
        ) {
            (false, Some(l), Some(r)) => {
                let (feature, threshold, _) = node.split();
                nodes.push(Node::Split {
                    feature,
                    threshold,
                    left: usize::MAX,
                    right: usize::MAX,
                });
                // push right first so that left is flattened first
                stack.push((r, Some((index, false))));
                stack.push((l, Some((index, true))));
            }
            _ => nodes.push(leaf()),
        }
    }
    nodes
}

/// Index of the leaf that `row` falls into.
fn route(nodes: &[Node], row: ArrayView1<f64>) -> usize {
    let mut i = 0;
    while let Node::Split {
        feature,
        threshold,
        left,
        right,
    } = &nodes[i]
    {
        i = if row[*feature] < *threshold {
            *left
        } else {
            *right
        };
    }
    i
}

/// A fitted [`ChurnClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedChurn {
    params: ChurnParams,
    n_features: usize,
    base_rate: f64,
    nodes: Vec<Node>,
}

impl FittedChurn {
    /// The hyper-parameters it was fitted with.
    pub fn params(&self) -> &ChurnParams {
        &self.params
    }

    /// The flattened tree, root at index 0.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count()
    }

    /// Share of training rows that bought again.
    pub fn base_rate(&self) -> f64 {
        self.base_rate
    }

    /// Number of feature columns the model expects.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Probability of buying again within the horizon (the training share of buyers in the
    /// row's leaf), one per row, in `[0, 1]`. Churn risk is `1 −` this.
    ///
    /// # Panics
    /// If `x` does not have [`n_features`](Self::n_features) columns; use
    /// [`try_predict`](Self::try_predict) to get an error instead.
    pub fn predict(&self, x: ArrayView2<f64>) -> Array1<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features,
            "feature count mismatch in FittedChurn::predict"
        );
        Array1::from_iter(x.rows().into_iter().map(|row| {
            match &self.nodes[route(&self.nodes, row)] {
                Node::Leaf { probability, .. } => *probability,
                Node::Split { .. } => self.base_rate, // unreachable: route ends at a leaf
            }
        }))
    }

    /// Like [`predict`](Self::predict) but returns [`Error::InvalidParameter`] on a column-count
    /// mismatch.
    pub fn try_predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        super::check_columns(&x, self.n_features)?;
        Ok(self.predict(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::auc;
    use approx::assert_abs_diff_eq;
    use ndarray::{array, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// 3 features U(0, 1); label = x0 > 0.5, flipped with probability `noise`.
    fn step_data(n: usize, noise: f64, seed: u64) -> (Array2<f64>, Array1<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, 3), |_| rng.gen::<f64>());
        let y = Array1::from_iter(x.rows().into_iter().map(|r| {
            let flip = rng.gen::<f64>() < noise;
            (r[0] > 0.5) != flip
        }));
        (x, y)
    }

    #[test]
    fn learns_a_noisy_step_rule() {
        // Bayes accuracy for a 10 % label flip is 0.9; the Bayes scores (0.9 right of the step,
        // 0.1 left) give AUC = P(pos right)·P(neg left) + ½ ties = .9·.9 + ½(.9·.1 + .1·.9) = 0.9.
        let (x, y) = step_data(3000, 0.1, 7);
        let (xt, yt) = step_data(2000, 0.1, 8);
        let m = ChurnClassifier::params()
            .max_depth(Some(4))
            .fit(x.view(), y.view())
            .unwrap();
        let p = m.predict(xt.view());
        assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
        let correct = p.iter().zip(&yt).filter(|(&p, &y)| (p >= 0.5) == y).count();
        let accuracy = correct as f64 / yt.len() as f64;
        assert!((accuracy - 0.9).abs() < 0.03, "accuracy {accuracy}");
        let a = auc(yt.as_slice().unwrap(), p.as_slice().unwrap()).unwrap();
        assert!(a >= 0.85, "auc {a}");
        // the root splits on x0 near 0.5
        match &m.nodes()[0] {
            Node::Split {
                feature, threshold, ..
            } => {
                assert_eq!(*feature, 0);
                assert!((threshold - 0.5).abs() < 0.05, "threshold {threshold}");
            }
            other => panic!("root is a leaf: {other:?}"),
        }
    }

    #[test]
    fn leaf_probabilities_by_hand() {
        // x = 0..7, labels F F T F T T T T; Gini of the depth-1 splits (weighted by size):
        //   at 1.5: 0 + 6/8 · (1 − (1/36 + 25/36)) = 0.208
        //   at 2.5: 3/8 · 4/9 + 5/8 · 8/25 = 0.367
        //   at 3.5: 4/8 · (1 − (9/16 + 1/16)) + 0 = 0.1875   ← best
        //   at 4.5: 5/8 · 12/25 = 0.3
        // → leaves {0,1,2,3} with 1 buyer of 4 (0.25) and {4..7} with 4 of 4 (1.0)
        let x = Array2::from_shape_fn((8, 1), |(i, _)| i as f64);
        let y = array![false, false, true, false, true, true, true, true];
        let m = ChurnClassifier::params()
            .max_depth(Some(1))
            .min_weight_leaf(1.0)
            .min_weight_split(2.0)
            .fit(x.view(), y.view())
            .unwrap();
        assert_eq!(m.n_leaves(), 2);
        let p = m.predict(array![[1.0], [3.2], [6.0]].view());
        assert_abs_diff_eq!(p[0], 0.25, epsilon = 1e-15);
        assert_abs_diff_eq!(p[1], 0.25, epsilon = 1e-15);
        assert_abs_diff_eq!(p[2], 1.0, epsilon = 1e-15);
        assert_abs_diff_eq!(m.base_rate(), 5.0 / 8.0, epsilon = 1e-15);
    }

    #[test]
    fn deterministic_and_serde_round_trip() {
        // small leaves on pure noise make exactly balanced nodes likely; without the weight
        // tilt linfa's HashMap order would make the pruned shape vary between fits
        let (x, y) = step_data(600, 0.5, 3);
        let params = ChurnClassifier::params()
            .max_depth(Some(8))
            .min_weight_leaf(2.0)
            .min_weight_split(4.0);
        let m = params.fit(x.view(), y.view()).unwrap();
        for _ in 0..5 {
            assert_eq!(params.fit(x.view(), y.view()).unwrap(), m);
        }
        let back: FittedChurn = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.predict(x.view()), m.predict(x.view()));
    }

    #[test]
    fn bad_input() {
        assert!(ChurnClassifier::params()
            .max_depth(Some(0))
            .check()
            .is_err());
        assert!(ChurnClassifier::params()
            .min_weight_leaf(0.0)
            .check()
            .is_err());
        let x = array![[1.0], [2.0]];
        assert!(ChurnClassifier::params()
            .fit(x.view(), array![true].view())
            .is_err());
        let m = ChurnClassifier::params()
            .fit(x.view(), array![true, true].view())
            .unwrap();
        assert_eq!(m.predict(x.view()), array![1.0, 1.0]);
        assert!(m.try_predict(array![[1.0, 2.0]].view()).is_err());
    }
}
