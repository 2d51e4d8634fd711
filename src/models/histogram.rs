//! Feature binning shared by [`super::tree`] and [`super::boosting`]: per-feature quantile bin
//! edges learnt from training data, `u8` bin codes stored column by column, and the per-node
//! gradient/hessian histograms the split search runs on.
//!
//! Bin `b` of feature `f` holds the values `v` with `thresholds[f][b-1] < v <= thresholds[f][b]`;
//! missing values (NaN) always get the code [`MISSING_BIN`]. A split "bin ≤ b" is therefore the
//! real-valued rule "v ≤ thresholds\[f\]\[b\]", so fitted trees predict from raw features without
//! binning.
use ndarray::{ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The bin code of a missing (NaN) value; non-missing values use codes `0..n_bins`.
pub const MISSING_BIN: u8 = 255;

/// The largest number of non-missing bins per feature.
pub const MAX_BINS: usize = 255;

/// Rows used to learn bin edges when the training set is larger (as scikit-learn's HGB).
pub const DEFAULT_BINNING_SUBSAMPLE: usize = 200_000;

/// Per-feature bin edges learnt from training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinMapper {
    /// `thresholds[f]`: strictly increasing finite upper edges of the non-missing bins of
    /// feature `f` except the last (so feature `f` has `thresholds[f].len() + 1` bins).
    thresholds: Vec<Vec<f64>>,
}

impl BinMapper {
    /// Learns at most `max_bins` (2..=255) quantile bins per feature from the rows of `x`;
    /// when `x` has more than `subsample` rows, from a subsample of that many rows drawn with
    /// `seed`. A feature with at most `max_bins` distinct values gets one bin per value
    /// (edges at midpoints). Non-finite values do not move edges.
    pub fn fit(x: ArrayView2<f64>, max_bins: usize, subsample: usize, seed: u64) -> Result<Self> {
        if !(2..=MAX_BINS).contains(&max_bins) {
            return Err(Error::InvalidParameter {
                name: "max_bins",
                value: max_bins.to_string(),
                reason: format!("must be in 2..={MAX_BINS}"),
            });
        }
        let n = x.nrows();
        if n == 0 {
            return Err(Error::NotEnoughData("no rows to learn bins from".into()));
        }
        let rows: Option<Vec<usize>> = if n > subsample.max(1) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut idx = rand::seq::index::sample(&mut rng, n, subsample.max(1)).into_vec();
            idx.sort_unstable();
            Some(idx)
        } else {
            None
        };
        let thresholds = (0..x.ncols())
            .into_par_iter()
            .map(|f| {
                let col = x.column(f);
                let mut vals: Vec<f64> = match &rows {
                    Some(idx) => idx
                        .iter()
                        .map(|&r| col[r])
                        .filter(|v| v.is_finite())
                        .collect(),
                    None => col.iter().copied().filter(|v| v.is_finite()).collect(),
                };
                vals.sort_unstable_by(f64::total_cmp);
                feature_thresholds(&vals, max_bins)
            })
            .collect();
        Ok(BinMapper { thresholds })
    }

    /// Number of features the mapper was learnt on.
    pub fn n_features(&self) -> usize {
        self.thresholds.len()
    }

    /// Number of non-missing bins of feature `f`.
    pub fn n_bins(&self, f: usize) -> usize {
        self.thresholds[f].len() + 1
    }

    /// The upper edges of feature `f`'s bins (all but the last bin).
    pub fn thresholds(&self, f: usize) -> &[f64] {
        &self.thresholds[f]
    }

    /// The bin code of value `v` of feature `f`.
    #[inline]
    pub fn code(&self, f: usize, v: f64) -> u8 {
        if v.is_nan() {
            MISSING_BIN
        } else {
            // Number of edges strictly below v: v <= edges[b] <=> code <= b.
            self.thresholds[f].partition_point(|&t| t < v) as u8
        }
    }

    /// Bins every value of `x` (same columns as at fit time).
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<BinnedMatrix> {
        let p = self.n_features();
        if x.ncols() != p {
            return Err(Error::InvalidParameter {
                name: "x",
                value: format!("{} columns", x.ncols()),
                reason: format!("the bins were learnt on {p} columns"),
            });
        }
        let n = x.nrows();
        // Row blocks in parallel (reads x row by row), written row-major, then transposed.
        const BLOCK: usize = 4096;
        let mut row_major = vec![0u8; n * p];
        if p > 0 {
            row_major
                .par_chunks_mut(BLOCK * p)
                .enumerate()
                .for_each(|(k, out)| {
                    let start = k * BLOCK;
                    let xb = x.slice_axis(Axis(0), (start..start + out.len() / p).into());
                    for (orow, xrow) in out.chunks_exact_mut(p).zip(xb.rows()) {
                        for (f, (o, &v)) in orow.iter_mut().zip(xrow.iter()).enumerate() {
                            *o = self.code(f, v);
                        }
                    }
                });
        }
        let mut codes = vec![0u8; n * p];
        if n > 0 {
            codes.par_chunks_mut(n).enumerate().for_each(|(f, col)| {
                for (r, c) in col.iter_mut().enumerate() {
                    *c = row_major[r * p + f];
                }
            });
        }
        Ok(BinnedMatrix {
            n_rows: n,
            n_features: p,
            codes,
        })
    }
}

/// Upper edges for one feature from its sorted finite values.
fn feature_thresholds(sorted: &[f64], max_bins: usize) -> Vec<f64> {
    let mut distinct: Vec<f64> = Vec::new();
    for &v in sorted {
        if distinct.last() != Some(&v) {
            distinct.push(v);
        }
    }
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| midpoint(w[0], w[1])).collect();
    }
    let m = sorted.len();
    let mut out: Vec<f64> = Vec::with_capacity(max_bins - 1);
    for k in 1..max_bins {
        // Quantile k / max_bins, between the order statistics around it.
        let i = ((k * m) / max_bins).clamp(1, m - 1);
        let t = midpoint(sorted[i - 1], sorted[i]);
        match out.last() {
            Some(&last) if t <= last => {}
            _ => out.push(t),
        }
    }
    out
}

fn midpoint(a: f64, b: f64) -> f64 {
    let m = a + (b - a) * 0.5;
    if m.is_finite() {
        m
    } else {
        a
    }
}

/// Bin codes of a feature matrix, stored column by column (each feature's codes contiguous).
#[derive(Debug, Clone)]
pub struct BinnedMatrix {
    n_rows: usize,
    n_features: usize,
    codes: Vec<u8>,
}

impl BinnedMatrix {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The codes of feature `f`, one per row.
    #[inline]
    pub fn column(&self, f: usize) -> &[u8] {
        &self.codes[f * self.n_rows..(f + 1) * self.n_rows]
    }
}

/// Sum of gradients, hessians and row count of one histogram bin.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct BinStat {
    /// Sum of gradients.
    pub g: f64,
    /// Sum of hessians.
    pub h: f64,
    /// Number of rows.
    pub n: u64,
}

impl BinStat {
    #[inline]
    pub(crate) fn add(&mut self, o: &BinStat) {
        self.g += o.g;
        self.h += o.h;
        self.n += o.n;
    }

    #[inline]
    pub(crate) fn sub(&self, o: &BinStat) -> BinStat {
        BinStat {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n - o.n,
        }
    }
}

/// Bins per feature in a histogram (255 value bins + the missing bin).
pub(crate) const HIST_BINS: usize = 256;

/// Most features whose histograms are built in one pass over the rows (the row index and
/// gradient loads are shared, and the independent code loads overlap; 8 histograms fill
/// about one L1 cache).
pub(crate) const MAX_HIST_GROUP: usize = 8;

/// Features per histogram pass for `p` features: large groups, but at least two groups per
/// thread. (Grouping never changes results: each feature is still summed row by row.)
pub(crate) fn hist_group_size(p: usize) -> usize {
    p.div_ceil(2 * rayon::current_num_threads())
        .clamp(1, MAX_HIST_GROUP)
}

/// Builds the histograms of features `f0..f0 + out.len() / HIST_BINS` (at most
/// [`MAX_HIST_GROUP`]) over `rows`, each feature sequentially over rows, so sums never depend on
/// threads. `g`/`h` are indexed like `rows` ("ordered gradients") unless `rows` is `None`,
/// which means all rows in order. With `h == None` the hessian is the constant `1` per row.
pub(crate) fn build_group_hist(
    b: &BinnedMatrix,
    f0: usize,
    rows: Option<&[u32]>,
    g: &[f64],
    h: Option<&[f64]>,
    out: &mut [BinStat],
) {
    match out.len() / HIST_BINS {
        8 => group_hist::<8>(b, f0, rows, g, h, out),
        7 => group_hist::<7>(b, f0, rows, g, h, out),
        6 => group_hist::<6>(b, f0, rows, g, h, out),
        5 => group_hist::<5>(b, f0, rows, g, h, out),
        4 => group_hist::<4>(b, f0, rows, g, h, out),
        3 => group_hist::<3>(b, f0, rows, g, h, out),
        2 => group_hist::<2>(b, f0, rows, g, h, out),
        1 => group_hist::<1>(b, f0, rows, g, h, out),
        _ => {}
    }
    if h.is_none() {
        for s in out.iter_mut() {
            s.h = s.n as f64;
        }
    }
}

#[inline(always)]
fn group_hist<const K: usize>(
    b: &BinnedMatrix,
    f0: usize,
    rows: Option<&[u32]>,
    g: &[f64],
    h: Option<&[f64]>,
    out: &mut [BinStat],
) {
    let cols: [&[u8]; K] = std::array::from_fn(|j| b.column(f0 + j));
    let parts: Vec<&mut [BinStat; HIST_BINS]> = out
        .chunks_exact_mut(HIST_BINS)
        .filter_map(|c| c.try_into().ok())
        .collect();
    let hs: [&mut [BinStat; HIST_BINS]; K] = match parts.try_into() {
        Ok(a) => a,
        Err(_) => return,
    };
    match (rows, h) {
        (None, None) => {
            for (i, &gi) in g.iter().enumerate() {
                for j in 0..K {
                    let s = &mut hs[j][cols[j][i] as usize];
                    s.g += gi;
                    s.n += 1;
                }
            }
        }
        (None, Some(h)) => {
            for (i, (&gi, &hi)) in g.iter().zip(h).enumerate() {
                for j in 0..K {
                    let s = &mut hs[j][cols[j][i] as usize];
                    s.g += gi;
                    s.h += hi;
                    s.n += 1;
                }
            }
        }
        (Some(rows), None) => {
            for (&r, &gi) in rows.iter().zip(g) {
                for j in 0..K {
                    let s = &mut hs[j][cols[j][r as usize] as usize];
                    s.g += gi;
                    s.n += 1;
                }
            }
        }
        (Some(rows), Some(h)) => {
            for ((&r, &gi), &hi) in rows.iter().zip(g).zip(h) {
                for j in 0..K {
                    let s = &mut hs[j][cols[j][r as usize] as usize];
                    s.g += gi;
                    s.h += hi;
                    s.n += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn few_distinct_values_get_one_bin_each_and_nan_its_own() {
        let x = array![[1.0], [2.0], [2.0], [3.0], [f64::NAN]];
        let m = BinMapper::fit(x.view(), 255, 1000, 0).unwrap();
        assert_eq!(m.thresholds(0), &[1.5, 2.5]);
        let b = m.transform(x.view()).unwrap();
        assert_eq!(b.column(0), &[0, 1, 1, 2, MISSING_BIN]);
        // Bin rule equals threshold rule.
        assert_eq!(m.code(0, 1.5), 0);
        assert_eq!(m.code(0, 1.5000001), 1);
    }

    #[test]
    fn quantile_bins_are_roughly_equal_count() {
        let n = 10_000;
        let x = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| (i as f64 * 7919.0) % n as f64);
        let m = BinMapper::fit(x.view(), 10, 200_000, 0).unwrap();
        assert_eq!(m.n_bins(0), 10);
        let b = m.transform(x.view()).unwrap();
        let mut counts = [0usize; 10];
        for &c in b.column(0) {
            counts[c as usize] += 1;
        }
        for c in counts {
            assert!((c as i64 - 1000).abs() <= 1, "{counts:?}");
        }
    }

    #[test]
    fn rejects_bad_max_bins() {
        let x = array![[1.0]];
        let e = BinMapper::fit(x.view(), 256, 10, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("256"), "{e}");
    }
}
