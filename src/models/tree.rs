//! CART regression tree on histogram bins, in linfa's shape, and the tree grower that
//! [`super::boosting`] reuses.
//!
//! Splits maximise the squared-error reduction (for boosting: the second-order gain
//! `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`) over quantile bins ([`super::histogram`]).
//! Growth is best-first (leaf-wise, as LightGBM and scikit-learn's HGB): the open leaf with the
//! largest gain is split next, until `max_leaves` is reached or no leaf can be split; with no
//! leaf limit this yields the same tree as depth-wise growth to `max_depth`. Each split builds
//! the histogram of the smaller child only and derives the larger child's as parent − smaller.
//! Histograms are built per feature in parallel, each sequentially over rows, so fits are
//! identical for every rayon thread count. Fitted trees keep real-valued thresholds and
//! predict on raw `f64` features; NaN goes to the side chosen at fit time.
use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::histogram::{
    build_group_hist, hist_group_size, BinMapper, BinStat, BinnedMatrix, DEFAULT_BINNING_SUBSAMPLE,
    HIST_BINS, MAX_BINS, MISSING_BIN,
};
use crate::{Error, Result};

/// One node of a fitted tree. A leaf has `left == 0` (the root is never a child).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Node {
    /// Split feature (unused in leaves).
    pub feature: u32,
    /// Rows with `x[feature] <= threshold` go left.
    pub threshold: f64,
    /// The same rule on bin codes: `code <= bin` goes left.
    pub bin: u8,
    /// Where NaN goes.
    pub missing_left: bool,
    /// Left child index (0 for a leaf).
    pub left: u32,
    /// Right child index.
    pub right: u32,
    /// Leaf output (for inner nodes, what the node would predict as a leaf).
    pub value: f64,
    /// Gain of the split (0 for a leaf).
    pub gain: f64,
    /// Training rows reaching the node.
    pub n_samples: u64,
}

impl Node {
    fn leaf(value: f64, n_samples: u64) -> Self {
        Node {
            feature: 0,
            threshold: 0.0,
            bin: 0,
            missing_left: false,
            left: 0,
            right: 0,
            value,
            gain: 0.0,
            n_samples,
        }
    }

    #[inline]
    fn is_leaf(&self) -> bool {
        self.left == 0
    }
}

/// A fitted tree: nodes, root at index 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// Prediction for one raw feature row (the plain reference for [`Tree::add_block`]).
    #[cfg(test)]
    pub(crate) fn predict_row(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        loop {
            let nd = &self.nodes[i];
            if nd.is_leaf() {
                return nd.value;
            }
            let v = row[nd.feature as usize];
            // `min` maps +inf to f64::MAX so that it follows the training bins' rule.
            let left = if v.is_nan() {
                nd.missing_left
            } else {
                v.min(f64::MAX) <= nd.threshold
            };
            i = if left { nd.left } else { nd.right } as usize;
        }
    }

    /// Adds the tree's prediction for each row of a row-major block (`p` values per row) to
    /// `out`. Rows go through the tree in lockstep groups for exactly `depth` steps (leaves
    /// stay put), so the traversals of a group overlap instead of waiting on each other.
    #[inline]
    pub(crate) fn add_block(&self, rows: &[f64], p: usize, depth: usize, out: &mut [f64]) {
        const GROUP: usize = 8;
        let nodes = &self.nodes[..];
        for (o, xr) in out.chunks_mut(GROUP).zip(rows.chunks(GROUP * p)) {
            let mut idx = [0usize; GROUP];
            let m = o.len();
            for _ in 0..depth {
                // Leaves are fixed points of the walk: stop once every row is at one.
                if idx[..m].iter().all(|&i| nodes[i].left == 0) {
                    break;
                }
                for (j, ij) in idx.iter_mut().enumerate().take(m) {
                    let nd = &nodes[*ij];
                    let v = xr[j * p + nd.feature as usize];
                    let nan = v.is_nan();
                    // `min` maps +inf to f64::MAX so that it follows the training bins' rule.
                    let left = (!nan & (v.min(f64::MAX) <= nd.threshold)) | (nan & nd.missing_left);
                    let next = if left { nd.left } else { nd.right } as usize;
                    *ij = if nd.left == 0 { *ij } else { next };
                }
            }
            for (oj, &ij) in o.iter_mut().zip(&idx) {
                *oj += nodes[ij].value;
            }
        }
    }

    /// Prediction for row `r` of a binned matrix.
    #[inline]
    pub(crate) fn predict_binned(&self, b: &BinnedMatrix, r: usize) -> f64 {
        let mut i = 0usize;
        loop {
            let nd = &self.nodes[i];
            if nd.is_leaf() {
                return nd.value;
            }
            let c = b.column(nd.feature as usize)[r];
            let left = if c == MISSING_BIN {
                nd.missing_left
            } else {
                c <= nd.bin
            };
            i = if left { nd.left } else { nd.right } as usize;
        }
    }

    /// Adds each split's gain to its feature.
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        for nd in &self.nodes {
            if !nd.is_leaf() {
                out[nd.feature as usize] += nd.gain;
            }
        }
    }

    /// Depth of the tree (a single leaf has depth 0).
    pub(crate) fn depth(&self) -> usize {
        fn d(t: &Tree, i: usize) -> usize {
            let nd = &t.nodes[i];
            if nd.is_leaf() {
                0
            } else {
                1 + d(t, nd.left as usize).max(d(t, nd.right as usize))
            }
        }
        d(self, 0)
    }
}

/// Normalises gains to sum to one (all zeros if there was no split).
pub(crate) fn normalise(mut v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        v.iter_mut().for_each(|g| *g /= s);
    }
    v
}

/// Rows per prediction block (the trees stay in cache while a block is scored).
const PREDICT_BLOCK: usize = 256;

/// Predicts every row of `x` with `f`, which gets a block of rows (row-major, `p` values per
/// row) and fills one output per row. Blocks run in parallel; each row is computed on its
/// own, so the result does not depend on threads.
pub(crate) fn predict_rows<F>(x: ArrayView2<f64>, f: F) -> Array1<f64>
where
    F: Fn(&[f64], usize, &mut [f64]) + Sync,
{
    let p = x.ncols();
    let mut out = vec![0.0; x.nrows()];
    out.par_chunks_mut(PREDICT_BLOCK)
        .enumerate()
        .for_each(|(k, o)| {
            let start = k * PREDICT_BLOCK;
            let xb = x.slice_axis(Axis(0), (start..start + o.len()).into());
            match xb.as_slice() {
                Some(rows) => f(rows, p, o),
                None => {
                    let rows: Vec<f64> = xb.iter().copied().collect();
                    f(&rows, p, o)
                }
            }
        });
    Array1::from(out)
}

/// Validates a feature matrix, target and optional weights.
pub(crate) fn check_data(
    x: &ArrayView2<f64>,
    y: &ArrayView1<f64>,
    w: Option<&ArrayView1<f64>>,
) -> Result<()> {
    if x.nrows() != y.len() {
        return Err(Error::InvalidParameter {
            name: "y",
            value: format!("{} values", y.len()),
            reason: format!("x has {} rows", x.nrows()),
        });
    }
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::NotEnoughData(format!(
            "x is {} × {}; need at least one row and one column",
            x.nrows(),
            x.ncols()
        )));
    }
    if x.nrows() > u32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "x",
            value: format!("{} rows", x.nrows()),
            reason: "at most 2^32 − 1 rows are supported".into(),
        });
    }
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "y",
            value: v.to_string(),
            reason: format!("target at row {i} is not finite"),
        });
    }
    if let Some(w) = w {
        if w.len() != y.len() {
            return Err(Error::InvalidParameter {
                name: "sample_weight",
                value: format!("{} values", w.len()),
                reason: format!("x has {} rows", x.nrows()),
            });
        }
        if let Some((i, v)) = w
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
        {
            return Err(Error::InvalidParameter {
                name: "sample_weight",
                value: v.to_string(),
                reason: format!("weight at row {i} must be finite and >= 0"),
            });
        }
        if w.sum() <= 0.0 {
            return Err(Error::InvalidParameter {
                name: "sample_weight",
                value: "all zero".into(),
                reason: "at least one weight must be positive".into(),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The grower (shared with boosting)
// ---------------------------------------------------------------------------------------------

/// Growth limits and regularisation for one tree.
#[derive(Debug, Clone)]
pub(crate) struct GrowConfig {
    pub max_depth: Option<usize>,
    pub max_leaves: Option<usize>,
    pub min_samples_leaf: usize,
    pub min_gain: f64,
    pub l2: f64,
    pub min_hessian: f64,
}

/// A grown tree and, for each of its leaves, the range of the row buffer it holds.
pub(crate) struct Grown {
    pub tree: Tree,
    /// `(start, end, leaf value)` into the `rows` buffer passed to [`grow`].
    pub leaf_ranges: Vec<(usize, usize, f64)>,
}

#[derive(Debug, Clone, Copy)]
struct Split {
    feature: usize,
    bin: u8,
    missing_left: bool,
    gain: f64,
    left: BinStat,
    right: BinStat,
}

struct Open {
    node: usize,
    depth: usize,
    hist: Vec<BinStat>,
    split: Split,
}

/// Reusable buffers for growing many trees on the same data.
pub(crate) struct Workspace {
    g_ord: Vec<f64>,
    h_ord: Vec<f64>,
    left: Vec<u32>,
    right: Vec<u32>,
    /// Spare histograms (avoids re-allocating ~p × 6 KB per node).
    pool: Vec<Vec<BinStat>>,
}

impl Workspace {
    pub(crate) fn new(n: usize) -> Self {
        Workspace {
            g_ord: Vec::with_capacity(n),
            h_ord: Vec::with_capacity(n),
            left: vec![0; n],
            right: vec![0; n],
            pool: Vec::new(),
        }
    }

    fn take_hist(&mut self, len: usize) -> Vec<BinStat> {
        match self.pool.pop() {
            Some(mut v) => {
                v.clear();
                v.resize(len, BinStat::default());
                v
            }
            None => vec![BinStat::default(); len],
        }
    }

    fn give_hist(&mut self, v: Vec<BinStat>) {
        self.pool.push(v);
    }
}

/// Work (rows × features) below which a histogram is built on one thread.
const PAR_MIN_WORK: usize = 1 << 16;

/// Rows per block of the parallel partition.
const PART_CHUNK: usize = 1 << 14;

/// Builds the histograms of all features over `rows` (`all_rows`: `rows` is `0..n` in order).
fn build_hist(
    binned: &BinnedMatrix,
    rows: &[u32],
    all_rows: bool,
    g: &[f64],
    h: Option<&[f64]>,
    ws: &mut Workspace,
) -> Vec<BinStat> {
    let p = binned.n_features();
    let mut hist = ws.take_hist(p * HIST_BINS);
    let (rows_opt, g_use, h_use): (Option<&[u32]>, &[f64], Option<&[f64]>) = if all_rows {
        (None, g, h)
    } else {
        ws.g_ord.clear();
        ws.g_ord.extend(rows.iter().map(|&r| g[r as usize]));
        if let Some(h) = h {
            ws.h_ord.clear();
            ws.h_ord.extend(rows.iter().map(|&r| h[r as usize]));
        }
        (Some(rows), &ws.g_ord, h.map(|_| ws.h_ord.as_slice()))
    };
    let k = hist_group_size(p);
    let one = |(i, out): (usize, &mut [BinStat])| {
        build_group_hist(binned, i * k, rows_opt, g_use, h_use, out)
    };
    let group = k * HIST_BINS;
    if rows.len() * p >= PAR_MIN_WORK {
        hist.par_chunks_mut(group).enumerate().for_each(one);
    } else {
        hist.chunks_mut(group).enumerate().for_each(one);
    }
    hist
}

/// Stable, branch-free partition of one block: rows going left to `l`, right to `r`.
#[inline]
fn partition_block(
    src: &[u32],
    col: &[u8],
    bin: u8,
    missing_left: bool,
    l: &mut [u32],
    r: &mut [u32],
) -> (usize, usize) {
    let (mut a, mut b) = (0usize, 0usize);
    for &x in src {
        let c = col[x as usize];
        // bin <= 254, so the missing code 255 only goes left when asked to.
        let go_left = (c <= bin) | (missing_left & (c == MISSING_BIN));
        l[a] = x;
        r[b] = x;
        a += usize::from(go_left);
        b += usize::from(!go_left);
    }
    (a, b)
}

/// Stable partition of `rows` by a split (left rows first, each side in its original order);
/// returns the number of left rows. Blocks run in parallel and are joined in order, so the
/// result does not depend on threads.
fn partition(
    rows: &mut [u32],
    col: &[u8],
    bin: u8,
    missing_left: bool,
    ws: &mut Workspace,
) -> usize {
    let m = rows.len();
    let (lb, rb) = (&mut ws.left[..m], &mut ws.right[..m]);
    let counts: Vec<(usize, usize)> = if m >= 4 * PART_CHUNK {
        rows.par_chunks(PART_CHUNK)
            .zip(lb.par_chunks_mut(PART_CHUNK))
            .zip(rb.par_chunks_mut(PART_CHUNK))
            .map(|((src, l), r)| partition_block(src, col, bin, missing_left, l, r))
            .collect()
    } else {
        rows.chunks(PART_CHUNK)
            .zip(lb.chunks_mut(PART_CHUNK))
            .zip(rb.chunks_mut(PART_CHUNK))
            .map(|((src, l), r)| partition_block(src, col, bin, missing_left, l, r))
            .collect()
    };
    let mut w = 0;
    for (i, &(nl, _)) in counts.iter().enumerate() {
        let off = i * PART_CHUNK;
        rows[w..w + nl].copy_from_slice(&lb[off..off + nl]);
        w += nl;
    }
    let mid = w;
    for (i, &(_, nr)) in counts.iter().enumerate() {
        let off = i * PART_CHUNK;
        rows[w..w + nr].copy_from_slice(&rb[off..off + nr]);
        w += nr;
    }
    mid
}

/// The best split of one feature's histogram, if any beats `cfg.min_gain`.
fn best_split_feature(
    hist: &[BinStat],
    f: usize,
    n_bins: usize,
    cfg: &GrowConfig,
) -> Option<Split> {
    let miss = hist[MISSING_BIN as usize];
    let mut total = miss;
    for b in &hist[..n_bins] {
        total.add(b);
    }
    let l2 = cfg.l2;
    let parent = total.g * total.g / (total.h + l2);
    let msl = cfg.min_samples_leaf as u64;
    let mut best: Option<Split> = None;
    let mut best_gain = cfg.min_gain;
    let mut consider = |l: BinStat, r: BinStat, bin: usize, missing_left: bool| {
        if l.n < msl || r.n < msl || l.h < cfg.min_hessian || r.h < cfg.min_hessian {
            return;
        }
        let tl = l.g * l.g / (l.h + l2);
        let tr = r.g * r.g / (r.h + l2);
        let gain = tl + tr - parent;
        // The relative floor keeps round-off from splitting pure nodes.
        if gain > best_gain && gain > 1e-10 * (tl + tr) {
            best_gain = gain;
            best = Some(Split {
                feature: f,
                bin: bin as u8,
                missing_left,
                gain,
                left: l,
                right: r,
            });
        }
    };
    let mut left = BinStat::default();
    for (b, stat) in hist[..n_bins].iter().enumerate() {
        left.add(stat);
        let last = b + 1 == n_bins;
        if !last || miss.n > 0 {
            consider(left, total.sub(&left), b, false);
        }
        if miss.n > 0 && !last {
            let mut l = left;
            l.add(&miss);
            consider(l, total.sub(&l), b, true);
        }
    }
    // No missing values in training: send NaN to the larger side.
    best.map(|mut s| {
        if miss.n == 0 {
            s.missing_left = s.left.n >= s.right.n;
        }
        s
    })
}

/// The best split of a node over all features (ties go to the lowest feature).
fn best_split(hist: &[BinStat], mapper: &BinMapper, cfg: &GrowConfig) -> Option<Split> {
    let p = mapper.n_features();
    let per: Vec<Option<Split>> = if p * HIST_BINS >= 8 * HIST_BINS {
        (0..p)
            .into_par_iter()
            .map(|f| {
                best_split_feature(
                    &hist[f * HIST_BINS..(f + 1) * HIST_BINS],
                    f,
                    mapper.n_bins(f),
                    cfg,
                )
            })
            .collect()
    } else {
        (0..p)
            .map(|f| {
                best_split_feature(
                    &hist[f * HIST_BINS..(f + 1) * HIST_BINS],
                    f,
                    mapper.n_bins(f),
                    cfg,
                )
            })
            .collect()
    };
    let mut best: Option<Split> = None;
    for s in per.into_iter().flatten() {
        if best.is_none_or_lower(&s) {
            best = Some(s);
        }
    }
    best
}

trait BestExt {
    fn is_none_or_lower(&self, s: &Split) -> bool;
}

impl BestExt for Option<Split> {
    fn is_none_or_lower(&self, s: &Split) -> bool {
        match self {
            None => true,
            Some(b) => s.gain > b.gain,
        }
    }
}

fn can_split(n: u64, depth: usize, cfg: &GrowConfig) -> bool {
    n >= 2 * cfg.min_samples_leaf as u64 && cfg.max_depth.is_none_or_gt(depth)
}

trait DepthExt {
    fn is_none_or_gt(&self, depth: usize) -> bool;
}

impl DepthExt for Option<usize> {
    fn is_none_or_gt(&self, depth: usize) -> bool {
        match self {
            None => true,
            Some(m) => *m > depth,
        }
    }
}

/// Grows one tree on the rows in `rows` (ascending; `all_rows` when they are exactly `0..n`).
/// `g`/`h` are per-row gradients and hessians (`h == None`: constant 1). Leaf values are
/// `-G / (H + l2) * scale`. `rows` is reordered so that each leaf's rows are contiguous.
#[allow(clippy::too_many_arguments)]
pub(crate) fn grow(
    binned: &BinnedMatrix,
    mapper: &BinMapper,
    rows: &mut [u32],
    all_rows: bool,
    g: &[f64],
    h: Option<&[f64]>,
    cfg: &GrowConfig,
    scale: f64,
    ws: &mut Workspace,
) -> Grown {
    let leaf_value = |s: &BinStat| {
        let v = -s.g / (s.h + cfg.l2) * scale;
        if v.is_finite() {
            v
        } else {
            0.0
        }
    };
    // Root sums, sequentially over rows.
    let mut root = BinStat::default();
    for &r in rows.iter() {
        root.g += g[r as usize];
        root.h += h.map_or(1.0, |h| h[r as usize]);
        root.n += 1;
    }
    let mut nodes = vec![Node::leaf(leaf_value(&root), root.n)];
    let mut ranges: Vec<(usize, usize)> = vec![(0, rows.len())];
    let mut open: Vec<Open> = Vec::new();
    if can_split(root.n, 0, cfg) {
        let hist = build_hist(binned, rows, all_rows, g, h, ws);
        match best_split(&hist, mapper, cfg) {
            Some(split) => open.push(Open {
                node: 0,
                depth: 0,
                hist,
                split,
            }),
            None => ws.give_hist(hist),
        }
    }
    let mut n_leaves = 1usize;
    while !open.is_empty() && cfg.max_leaves.is_none_or_gt(n_leaves) {
        // Largest gain first; ties to the earliest-created node.
        let mut bi = 0;
        for (i, o) in open.iter().enumerate() {
            if o.split.gain > open[bi].split.gain {
                bi = i;
            }
        }
        let o = open.remove(bi);
        let s = o.split;
        let (start, end) = ranges[o.node];
        let mid = start
            + partition(
                &mut rows[start..end],
                binned.column(s.feature),
                s.bin,
                s.missing_left,
                ws,
            );
        // Children stats from the partition counts (the histogram's may differ with missing).
        let (lstat, rstat) = (s.left, s.right);
        let li = nodes.len();
        nodes.push(Node::leaf(leaf_value(&lstat), (mid - start) as u64));
        nodes.push(Node::leaf(leaf_value(&rstat), (end - mid) as u64));
        ranges.push((start, mid));
        ranges.push((mid, end));
        let thresholds = mapper.thresholds(s.feature);
        let parent = &mut nodes[o.node];
        parent.feature = s.feature as u32;
        parent.bin = s.bin;
        parent.threshold = thresholds.get(s.bin as usize).copied().unwrap_or(f64::MAX);
        parent.missing_left = s.missing_left;
        parent.left = li as u32;
        parent.right = li as u32 + 1;
        parent.gain = s.gain;
        n_leaves += 1;

        let depth = o.depth + 1;
        let l_ok = can_split((mid - start) as u64, depth, cfg);
        let r_ok = can_split((end - mid) as u64, depth, cfg);
        if !(l_ok || r_ok) {
            ws.give_hist(o.hist);
            continue;
        }
        let left_smaller = mid - start <= end - mid;
        let (small_node, large_node, small_ok, large_ok) = if left_smaller {
            (li, li + 1, l_ok, r_ok)
        } else {
            (li + 1, li, r_ok, l_ok)
        };
        let (ss, se) = ranges[small_node];
        let small_hist = build_hist(binned, &rows[ss..se], false, g, h, ws);
        if large_ok {
            let mut large_hist = o.hist;
            for (a, b) in large_hist.iter_mut().zip(&small_hist) {
                *a = a.sub(b);
            }
            match best_split(&large_hist, mapper, cfg) {
                Some(split) => open.push(Open {
                    node: large_node,
                    depth,
                    hist: large_hist,
                    split,
                }),
                None => ws.give_hist(large_hist),
            }
        } else {
            ws.give_hist(o.hist);
        }
        match small_ok
            .then(|| best_split(&small_hist, mapper, cfg))
            .flatten()
        {
            Some(split) => open.push(Open {
                node: small_node,
                depth,
                hist: small_hist,
                split,
            }),
            None => ws.give_hist(small_hist),
        }
        // Keep creation order among open leaves for tie-breaking.
        open.sort_by_key(|o| o.node);
    }
    for o in open {
        ws.give_hist(o.hist);
    }
    let leaf_ranges = nodes
        .iter()
        .zip(&ranges)
        .filter(|(nd, _)| nd.is_leaf())
        .map(|(nd, &(a, b))| (a, b, nd.value))
        .collect();
    Grown {
        tree: Tree { nodes },
        leaf_ranges,
    }
}

// ---------------------------------------------------------------------------------------------
// The public model
// ---------------------------------------------------------------------------------------------

/// Hyper-parameters of a [`RegressionTree`]; build with [`RegressionTree::params`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionTreeParams {
    max_depth: usize,
    min_samples_leaf: usize,
    min_gain: f64,
    max_leaves: Option<usize>,
    max_bins: usize,
    seed: u64,
}

impl Default for RegressionTreeParams {
    fn default() -> Self {
        RegressionTreeParams {
            max_depth: 8,
            min_samples_leaf: 20,
            min_gain: 0.0,
            max_leaves: None,
            max_bins: MAX_BINS,
            seed: 0,
        }
    }
}

impl RegressionTreeParams {
    /// Maximum depth (root = depth 0); default 8; must be ≥ 1.
    pub fn max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Minimum training rows in each leaf; default 20; must be ≥ 1.
    pub fn min_samples_leaf(mut self, min_samples_leaf: usize) -> Self {
        self.min_samples_leaf = min_samples_leaf;
        self
    }

    /// Minimum reduction of the (weighted) sum of squared errors for a split; default 0.
    pub fn min_gain(mut self, min_gain: f64) -> Self {
        self.min_gain = min_gain;
        self
    }

    /// Maximum number of leaves (best-first growth); default `None` (only depth limits).
    pub fn max_leaves(mut self, max_leaves: Option<usize>) -> Self {
        self.max_leaves = max_leaves;
        self
    }

    /// Maximum quantile bins per feature (2..=255); default 255.
    pub fn max_bins(mut self, max_bins: usize) -> Self {
        self.max_bins = max_bins;
        self
    }

    /// Seed of the row subsample used to learn bin edges on more than 200,000 rows; default 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every hyper-parameter; the error names the bad value.
    pub fn check(&self) -> Result<()> {
        use super::param_check::{at_least, finite_at_least, require};
        at_least("max_depth", self.max_depth, 1)?;
        at_least("min_samples_leaf", self.min_samples_leaf, 1)?;
        finite_at_least("min_gain", self.min_gain, 0.0)?;
        if let Some(m) = self.max_leaves {
            at_least("max_leaves", m, 2)?;
        }
        let bins = (2..=MAX_BINS).contains(&self.max_bins);
        require(bins, "max_bins", self.max_bins, "must be in 2..=255")
    }

    /// Fits a tree to `x` (rows × features; NaN = missing) and target `y`.
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<RegressionTree> {
        self.fit_weighted(x, y, None)
    }

    /// Fits with optional non-negative sample weights.
    pub fn fit_weighted(
        &self,
        x: ArrayView2<f64>,
        y: ArrayView1<f64>,
        sample_weight: Option<ArrayView1<f64>>,
    ) -> Result<RegressionTree> {
        self.check()?;
        check_data(&x, &y, sample_weight.as_ref())?;
        let mapper = BinMapper::fit(x, self.max_bins, DEFAULT_BINNING_SUBSAMPLE, self.seed)?;
        let binned = mapper.transform(x)?;
        // Squared error from a zero start: g = -w·y, h = w, so leaf = weighted mean and
        // gain = reduction of the weighted sum of squared errors.
        let (g, h): (Vec<f64>, Option<Vec<f64>>) = match &sample_weight {
            None => (y.iter().map(|v| -v).collect(), None),
            Some(w) => (
                y.iter().zip(w.iter()).map(|(v, w)| -v * w).collect(),
                Some(w.to_vec()),
            ),
        };
        let n = x.nrows();
        let mut rows: Vec<u32> = (0..n as u32).collect();
        let cfg = GrowConfig {
            max_depth: Some(self.max_depth),
            max_leaves: self.max_leaves,
            min_samples_leaf: self.min_samples_leaf,
            min_gain: self.min_gain,
            l2: 0.0,
            min_hessian: 0.0,
        };
        let mut ws = Workspace::new(n);
        let grown = grow(
            &binned,
            &mapper,
            &mut rows,
            true,
            &g,
            h.as_deref(),
            &cfg,
            1.0,
            &mut ws,
        );
        let mut gains = vec![0.0; x.ncols()];
        grown.tree.add_gains(&mut gains);
        Ok(RegressionTree {
            params: self.clone(),
            n_features: x.ncols(),
            tree: grown.tree,
            feature_importances: normalise(gains),
        })
    }
}

/// A fitted CART regression tree (squared error). Fit with [`RegressionTree::params`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionTree {
    params: RegressionTreeParams,
    n_features: usize,
    tree: Tree,
    feature_importances: Vec<f64>,
}

impl RegressionTree {
    /// Default hyper-parameters: `max_depth` 8, `min_samples_leaf` 20, `min_gain` 0,
    /// `max_leaves` none, `max_bins` 255, `seed` 0.
    pub fn params() -> RegressionTreeParams {
        RegressionTreeParams::default()
    }

    /// Predicts each row of `x`. Panics if `x` has a different number of columns than the
    /// training data (see [`RegressionTree::try_predict`]).
    pub fn predict(&self, x: ArrayView2<f64>) -> Array1<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features,
            "x has the wrong number of columns"
        );
        let depth = self.tree.depth();
        predict_rows(x, |rows, p, out| self.tree.add_block(rows, p, depth, out))
    }

    /// The tree in flat, quantised form for fast batch prediction
    /// ([`RegressionTree::predict_compiled`]); `None` if it does not fit that layout.
    pub fn compiled(&self) -> Option<crate::models::compiled::CompiledForest> {
        crate::models::compiled::CompiledForest::from_trees(
            std::slice::from_ref(&self.tree),
            Some(0.0),
        )
    }

    /// [`RegressionTree::predict`] through `compiled` (from [`RegressionTree::compiled`] of
    /// this tree): bitwise the same values. Panics if `x` has a different number of columns
    /// than the training data.
    pub fn predict_compiled(
        &self,
        compiled: &crate::models::compiled::CompiledForest,
        x: ArrayView2<f64>,
    ) -> Array1<f64> {
        assert_eq!(
            x.ncols(),
            self.n_features,
            "x has the wrong number of columns"
        );
        predict_rows(x, |rows, p, out| compiled.predict_rows(rows, p, out))
    }

    /// Predicts each row of `x`, or an error if its column count differs from training.
    pub fn try_predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        super::check_columns(&x, self.n_features)?;
        Ok(self.predict(x))
    }

    /// Number of feature columns the model was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Total squared-error reduction per feature, normalised to sum to one.
    pub fn feature_importances(&self) -> &[f64] {
        &self.feature_importances
    }

    /// The hyper-parameters the tree was fitted with.
    pub fn hyper_params(&self) -> &RegressionTreeParams {
        &self.params
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.tree.nodes.iter().filter(|n| n.is_leaf()).count()
    }

    /// Depth (a single leaf has depth 0).
    pub fn depth(&self) -> usize {
        self.tree.depth()
    }

    /// The split rules as `(feature, threshold)` in node order (for inspection).
    pub fn splits(&self) -> Vec<(usize, f64)> {
        self.tree
            .nodes
            .iter()
            .filter(|n| !n.is_leaf())
            .map(|n| (n.feature as usize, n.threshold))
            .collect()
    }

    /// Training rows in each leaf, in node order.
    pub fn leaf_sizes(&self) -> Vec<u64> {
        self.tree
            .nodes
            .iter()
            .filter(|n| n.is_leaf())
            .map(|n| n.n_samples)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn step_data(n: usize, p: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, p), |_| rng.gen::<f64>());
        let y = Array1::from_shape_fn(n, |i| {
            10.0 * f64::from(u8::from(x[[i, 0]] > 0.3))
                + 5.0 * f64::from(u8::from(x[[i, 1]] > 0.7))
                + 0.01 * (rng.gen::<f64>() - 0.5)
        });
        (x, y)
    }

    #[test]
    fn depth_two_tree_recovers_step_function() {
        let (x, y) = step_data(20_000, 5, 1);
        let t = RegressionTree::params()
            .max_depth(2)
            .fit(x.view(), y.view())
            .unwrap();
        assert_eq!(t.depth(), 2);
        let splits = t.splits();
        assert_eq!(splits[0].0, 0, "{splits:?}");
        assert!((splits[0].1 - 0.3).abs() < 0.01, "{splits:?}");
        for s in &splits[1..] {
            assert_eq!(s.0, 1, "{splits:?}");
            assert!((s.1 - 0.7).abs() < 0.01, "{splits:?}");
        }
        // The four cell means are 0, 5, 10, 15.
        let probe = ndarray::array![
            [0.1, 0.1, 0.5, 0.5, 0.5],
            [0.1, 0.9, 0.5, 0.5, 0.5],
            [0.9, 0.1, 0.5, 0.5, 0.5],
            [0.9, 0.9, 0.5, 0.5, 0.5]
        ];
        let p = t.predict(probe.view());
        for (got, want) in p.iter().zip([0.0, 5.0, 10.0, 15.0]) {
            assert!((got - want).abs() < 0.05, "{p}");
        }
        let imp = t.feature_importances();
        assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for &v in &imp[2..] {
            assert!(v < 1e-9, "{imp:?}");
        }
        assert!(imp[0] > imp[1] && imp[1] > 0.1, "{imp:?}");
    }

    #[test]
    fn min_samples_leaf_is_respected() {
        let (x, y) = step_data(2_000, 3, 2);
        for msl in [1, 37, 300] {
            let t = RegressionTree::params()
                .max_depth(12)
                .min_samples_leaf(msl)
                .fit(x.view(), y.view())
                .unwrap();
            let sizes = t.leaf_sizes();
            assert!(sizes.iter().all(|&s| s >= msl as u64), "{msl}: {sizes:?}");
            assert_eq!(sizes.iter().sum::<u64>(), 2_000);
        }
    }

    #[test]
    fn matches_brute_force_best_split_on_small_data() {
        // 40 distinct values: one bin per value, so the histogram search must equal an
        // exhaustive search over all thresholds.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 40;
        let x = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
        let y = Array1::from_shape_fn(n, |_| rng.gen::<f64>());
        let t = RegressionTree::params()
            .max_depth(1)
            .min_samples_leaf(1)
            .fit(x.view(), y.view())
            .unwrap();
        let sse = |s: &[f64]| {
            let m = s.iter().sum::<f64>() / s.len() as f64;
            s.iter().map(|v| (v - m).powi(2)).sum::<f64>()
        };
        let ys = y.to_vec();
        let (mut best_k, mut best) = (0, f64::INFINITY);
        for k in 1..n {
            let v = sse(&ys[..k]) + sse(&ys[k..]);
            if v < best {
                best = v;
                best_k = k;
            }
        }
        assert_eq!(t.splits()[0], (0, best_k as f64 - 0.5));
    }

    #[test]
    fn missing_values_go_to_the_better_side() {
        // x0 is NaN exactly where y is high.
        let n = 1_000;
        let x = Array2::from_shape_fn(
            (n, 1),
            |(i, _)| if i % 4 == 0 { f64::NAN } else { i as f64 },
        );
        let y = Array1::from_shape_fn(n, |i| if i % 4 == 0 { 100.0 } else { (i % 7) as f64 });
        let t = RegressionTree::params()
            .max_depth(1)
            .fit(x.view(), y.view())
            .unwrap();
        let p = t.predict(ndarray::array![[f64::NAN], [10.0], [900.0]].view());
        assert!((p[0] - 100.0).abs() < 1e-9, "{p}");
        assert!(p[1] < 10.0 && p[2] < 10.0, "{p}");
    }

    #[test]
    fn raw_threshold_prediction_equals_binned_prediction() {
        // Discrete, continuous, NaN and infinite values: the raw-value rule must send every
        // training row where the bin rule sent it, and lockstep blocks equal row-by-row.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 5_000;
        let x = Array2::from_shape_fn((n, 3), |(_, j)| match (j, rng.gen_range(0..20)) {
            (0, 0) => f64::NAN,
            (0, 1) => f64::INFINITY,
            (0, 2) => f64::NEG_INFINITY,
            (0, _) => rng.gen::<f64>(),
            (1, _) => f64::from(rng.gen_range(0..5u8)),
            _ => rng.gen::<f64>() * 1e3,
        });
        let y = Array1::from_shape_fn(n, |i| {
            let a = x[[i, 0]];
            (if a.is_nan() { 7.0 } else { a.clamp(-2.0, 2.0) }) + x[[i, 1]] + rng.gen::<f64>()
        });
        let params = RegressionTree::params()
            .max_depth(10)
            .min_samples_leaf(5)
            .max_bins(32);
        let t = params.fit(x.view(), y.view()).unwrap();
        let mapper = BinMapper::fit(x.view(), 32, DEFAULT_BINNING_SUBSAMPLE, 0).unwrap();
        let b = mapper.transform(x.view()).unwrap();
        let p = t.predict(x.view());
        for i in 0..n {
            let row = x.row(i).to_vec();
            assert_eq!(p[i], t.tree.predict_binned(&b, i), "row {i}: {row:?}");
            assert_eq!(p[i], t.tree.predict_row(&row), "row {i}: {row:?}");
        }
    }

    #[test]
    fn integer_weights_equal_duplicated_rows() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let n = 600;
        let x = Array2::from_shape_fn((n, 2), |_| f64::from(rng.gen_range(0..40u8)));
        let y = Array1::from_shape_fn(n, |i| {
            x[[i, 0]].sin() * 3.0 + x[[i, 1]] / 10.0 + rng.gen::<f64>()
        });
        let w = Array1::from_shape_fn(n, |_| f64::from(rng.gen_range(1..4u8)));
        let idx: Vec<usize> = (0..n)
            .flat_map(|i| std::iter::repeat_n(i, w[i] as usize))
            .collect();
        let (xd, yd) = (
            x.select(ndarray::Axis(0), &idx),
            y.select(ndarray::Axis(0), &idx),
        );
        let params = RegressionTree::params().max_depth(5).min_samples_leaf(1);
        let tw = params
            .fit_weighted(x.view(), y.view(), Some(w.view()))
            .unwrap();
        let td = params.fit(xd.view(), yd.view()).unwrap();
        assert_eq!(tw.splits(), td.splits());
        let (pw, pd) = (tw.predict(x.view()), td.predict(x.view()));
        for (a, b) in pw.iter().zip(&pd) {
            assert!((a - b).abs() < 1e-9, "{a} {b}");
        }
    }

    #[test]
    fn check_names_bad_values() {
        let e = RegressionTree::params()
            .min_gain(-1.5)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("min_gain") && e.contains("-1.5"), "{e}");
        let e = RegressionTree::params()
            .max_bins(300)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("300"), "{e}");
        let e = RegressionTree::params()
            .max_leaves(Some(1))
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_leaves"), "{e}");
        let e = RegressionTree::params()
            .max_depth(0)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_depth"), "{e}");
    }

    #[test]
    fn serde_round_trip_predicts_identically() {
        let (x, y) = step_data(3_000, 4, 4);
        let t = RegressionTree::params().fit(x.view(), y.view()).unwrap();
        let s = serde_json::to_string(&t).unwrap();
        let back: RegressionTree = serde_json::from_str(&s).unwrap();
        assert_eq!(t.predict(x.view()), back.predict(x.view()));
    }
}
