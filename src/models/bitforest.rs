//! Tree ensembles scored with bit vectors instead of tree walks (QuickScorer: Lucchese et al.,
//! "QuickScorer: a fast algorithm to rank documents with additive ensembles of regression
//! trees", SIGIR 2015; vectorised over rows as in their follow-up vQS, 2016), for trees of at
//! most 64 leaves.
//!
//! Number the leaves of each tree from left to right. A split whose test is *false* for a row
//! (the row goes right) rules out every leaf of its left subtree. Start each tree's word (32
//! bits when every tree has at most 32 leaves, else 64) with every bit set and clear the
//! left-subtree bits of every split that is false for the row: the row's exit leaf is then the
//! lowest bit left (every leaf to its left lies in the left subtree of a split on the path
//! where the row went right). Splits are grouped by feature and sorted by threshold, so the
//! false splits of a value are a prefix of its feature's list. A group of rows goes through
//! that list together, up to the largest of their values: each split is one comparison and
//! one masked AND per row, the same operations for every row.
//!
//! Three kernels (`Kernel`), picked at run time by what the processor has: AVX-512F (groups of 16
//! rows, 32-bit words: one 512-bit register per tree), AVX2 (groups of 8 rows; 32-bit words
//! written out with intrinsics, 64-bit words compiled from the portable code) and portable
//! Rust (groups of 8). The vector kernels gather a group's values of a feature straight into
//! registers. All make the same comparisons and bit operations, so the same words.
//!
//! Outputs are summed as the tree walk sums them (baseline, then each tree's leaf value in tree
//! order), so the results are bitwise those of the walk.
use super::compiled::{Rule, SourceNode};

/// Splits of one feature, sorted by threshold: the tree each belongs to and its mask.
#[derive(Debug, Clone, Default)]
struct FeatureSplits {
    /// Ascending thresholds.
    thresholds: Vec<f64>,
    /// Tree index of each split.
    trees: Vec<u16>,
    /// Bits of each split's left-subtree leaves (cleared when the split is false).
    clear: Vec<u64>,
    /// The splits that send NaN right (the only ones false for NaN under [`Rule::LessEq`]).
    missing_trees: Vec<u16>,
    /// Their left-subtree bits.
    missing_clear: Vec<u64>,
}

/// A tree ensemble in bit-vector form.
#[derive(Debug, Clone)]
pub(crate) struct BitForest {
    rule: Rule,
    /// Input column of each entry of `splits`.
    columns: Vec<usize>,
    splits: Vec<FeatureSplits>,
    /// Leaf values of all trees, left to right; tree `t` starts at `leaf_starts[t]`.
    leaf_values: Vec<f64>,
    leaf_starts: Vec<usize>,
    baseline: Option<f64>,
    /// Whether every tree has at most 32 leaves (32-bit words suffice).
    narrow: bool,
}

/// Rows that go through the splits together in the portable and AVX2 kernels.
const GROUP: usize = 8;

/// Leaf count above which a tree does not fit one mask word.
const MAX_LEAVES: usize = 64;

impl BitForest {
    /// The bit-vector form of `trees` (root first, as for
    /// [`super::compiled::CompiledForest::new`]); `None` if a tree has more than 64 leaves, a
    /// child index is out of range, a threshold is NaN, or the trees are not trees (a node
    /// reached twice).
    pub(crate) fn new(
        trees: &[Vec<SourceNode>],
        rule: Rule,
        baseline: Option<f64>,
    ) -> Option<BitForest> {
        if trees.is_empty() || trees.len() > usize::from(u16::MAX) {
            return None;
        }
        // (column, threshold, tree, left-subtree bits, nan goes right)
        let mut all: Vec<(usize, f64, u16, u64, bool)> = Vec::new();
        let mut leaf_values = Vec::new();
        let mut leaf_starts = Vec::with_capacity(trees.len());
        for (t, nodes) in trees.iter().enumerate() {
            leaf_starts.push(leaf_values.len());
            let first_leaf = leaf_values.len();
            // In-order walk: each split learns the leaf range of its left subtree. Stack
            // entries: (node, usize::MAX) on the first visit; (split, number of leaves before
            // its left subtree) once that subtree is being walked.
            let mut seen = vec![false; nodes.len()];
            let mut stack: Vec<(usize, usize)> = vec![(0, usize::MAX)];
            while let Some((i, left_from)) = stack.pop() {
                match nodes.get(i)? {
                    SourceNode::Leaf(v) if left_from == usize::MAX => {
                        if std::mem::replace(&mut seen[i], true) {
                            return None;
                        }
                        leaf_values.push(*v);
                    }
                    SourceNode::Split { left, .. } if left_from == usize::MAX => {
                        if std::mem::replace(&mut seen[i], true) {
                            return None;
                        }
                        stack.push((i, leaf_values.len() - first_leaf));
                        stack.push((*left, usize::MAX));
                    }
                    SourceNode::Split {
                        feature,
                        threshold,
                        missing_left,
                        right,
                        ..
                    } => {
                        if threshold.is_nan() {
                            return None;
                        }
                        let left_to = leaf_values.len() - first_leaf;
                        if left_to > MAX_LEAVES {
                            return None;
                        }
                        // bits left_from..left_to cleared
                        let width = left_to - left_from;
                        let ones = if width == 64 {
                            u64::MAX
                        } else {
                            ((1u64 << width) - 1) << left_from
                        };
                        let nan_right = rule == Rule::LessEq && !missing_left;
                        all.push((*feature, *threshold, t as u16, ones, nan_right));
                        stack.push((*right, usize::MAX));
                    }
                    SourceNode::Leaf(_) => return None,
                }
            }
            if leaf_values.len() - first_leaf > MAX_LEAVES {
                return None;
            }
        }
        let mut columns: Vec<usize> = all.iter().map(|s| s.0).collect();
        columns.sort_unstable();
        columns.dedup();
        let mut splits = vec![FeatureSplits::default(); columns.len()];
        // stable sort by threshold keeps tree order among equal thresholds (order of ANDs
        // does not matter, but the layout stays deterministic)
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (col, threshold, tree, bits, nan_right) in all {
            let s = &mut splits[columns.binary_search(&col).ok()?];
            s.thresholds.push(threshold);
            s.trees.push(tree);
            s.clear.push(bits);
            if nan_right {
                s.missing_trees.push(tree);
                s.missing_clear.push(bits);
            }
        }
        let narrow = leaf_starts
            .iter()
            .zip(leaf_starts.iter().skip(1).chain([&leaf_values.len()]))
            .all(|(a, b)| b - a <= 32);
        Some(BitForest {
            narrow,
            rule,
            columns,
            splits,
            leaf_values,
            leaf_starts,
            baseline,
        })
    }

    /// Bits of the words the kernels keep per tree and row: 32 when every tree has at most 32
    /// leaves, else 64.
    #[cfg(test)]
    pub(crate) fn word_bits(&self) -> u32 {
        if self.narrow {
            32
        } else {
            64
        }
    }

    /// Predicts rows given row-major (`p ≥` the largest column used + 1 values per row) into
    /// `out` with the fastest [`Kernel`] the processor runs (the same comparisons and integer
    /// operations in each, so the same bits).
    pub(crate) fn predict_rows(&self, rows: &[f64], p: usize, out: &mut [f64]) {
        self.predict_rows_with(Kernel::best(), rows, p, out);
    }

    /// [`BitForest::predict_rows`] with `kernel`, or the next slower one the processor runs
    /// (AVX-512 only takes trees of at most 32 leaves).
    pub(crate) fn predict_rows_with(
        &self,
        kernel: Kernel,
        rows: &[f64],
        p: usize,
        out: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            // the vector kernels read rows unchecked: every column must be below `p` (else the
            // portable kernel, whose indexing panics)
            let columns_fit = self.columns.last().is_none_or(|&c| c < p);
            if kernel == Kernel::Avx512 && self.narrow && columns_fit && Kernel::Avx512.runs() {
                // SAFETY: the processor supports AVX-512F and every column is below `p`,
                // checked just above.
                unsafe {
                    match self.rule {
                        Rule::LessEq => self.predict_narrow_avx512::<true>(rows, p, out),
                        Rule::LessFilled => self.predict_narrow_avx512::<false>(rows, p, out),
                    }
                };
                return;
            }
            if kernel != Kernel::Portable && columns_fit && Kernel::Avx2.runs() {
                // SAFETY: the processor supports AVX2 and every column is below `p`, checked
                // just above.
                unsafe { self.predict_rows_avx2(rows, p, out) };
                return;
            }
        }
        self.predict_rows_portable(rows, p, out);
    }

    /// [`BitForest::predict_rows`] compiled for AVX2: written out with AVX2 instructions for
    /// 32-bit words, else the portable code compiled for AVX2.
    ///
    /// # Safety
    /// The processor must support AVX2, and every column of the forest must be below `p`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn predict_rows_avx2(&self, rows: &[f64], p: usize, out: &mut [f64]) {
        match (self.narrow, self.rule) {
            (true, Rule::LessEq) => self.predict_narrow_avx2::<true>(rows, p, out),
            (true, Rule::LessFilled) => self.predict_narrow_avx2::<false>(rows, p, out),
            (false, Rule::LessEq) => self.predict_words::<u64, true>(rows, p, out),
            (false, Rule::LessFilled) => self.predict_words::<u64, false>(rows, p, out),
        }
    }

    /// [`BitForest::predict_narrow_avx2`] with AVX-512 instructions on groups of 16 rows: per
    /// feature, the group's values are gathered straight into two registers (NaN found and
    /// replaced there); per split, two comparisons of eight values with its threshold into
    /// one 16-bit mask and one masked AND-NOT of its bits from its tree's sixteen words.
    ///
    /// # Safety
    /// The processor must support AVX-512F, and every column of the forest must be below `p`
    /// (the gathers read `rows` unchecked; [`BitForest::predict_rows_with`] checks).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn predict_narrow_avx512<const LESS_EQ: bool>(
        &self,
        rows: &[f64],
        p: usize,
        out: &mut [f64],
    ) {
        use std::arch::x86_64::{
            __m512i, _mm512_cmp_pd_mask, _mm512_kunpackb, _mm512_loadu_si512,
            _mm512_mask_andnot_epi32, _mm512_mask_i64gather_pd, _mm512_mask_mov_pd, _mm512_max_pd,
            _mm512_min_pd, _mm512_reduce_max_pd, _mm512_set1_epi32, _mm512_set1_pd,
            _mm512_setr_epi64, _mm512_setzero_pd, _mm512_storeu_si512, _CMP_LE_OQ, _CMP_LT_OQ,
            _CMP_UNORD_Q,
        };
        /// Rows per group: sixteen 32-bit words fill a 512-bit register.
        const G: usize = 16;
        let mut words = vec![[u32::MAX; G]; self.leaf_starts.len()];
        let stride = p as i64;
        let offsets = _mm512_setr_epi64(
            0,
            stride,
            2 * stride,
            3 * stride,
            4 * stride,
            5 * stride,
            6 * stride,
            7 * stride,
        );
        let below = _mm512_set1_pd(f64::NEG_INFINITY);
        for (g, og) in out.chunks_mut(G).enumerate() {
            let m = og.len();
            let rows = &rows[g * G * p..(g * G + m) * p];
            // rows of the group that exist, in the low and high eight lanes
            let live = |from: usize| -> u8 { ((1u32 << m.saturating_sub(from).min(8)) - 1) as u8 };
            let (live_lo, live_hi) = (live(0), live(8));
            words.fill([u32::MAX; G]);
            for (&col, s) in self.columns.iter().zip(&self.splits) {
                // SAFETY: lane j < m reads rows[j * p + col], inside `rows` as col < p; lanes
                // past `m` read nothing (masked off) and hold −∞.
                let lo = _mm512_mask_i64gather_pd::<8>(
                    below,
                    live_lo,
                    offsets,
                    rows.as_ptr().wrapping_add(col).cast(),
                );
                let hi = _mm512_mask_i64gather_pd::<8>(
                    below,
                    live_hi,
                    offsets,
                    rows.as_ptr().wrapping_add(8 * p + col).cast(),
                );
                let nan_lo = _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(lo, lo);
                let nan_hi = _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(hi, hi);
                // `Rule::operand` in vector form, as `group_values`: LessEq compares
                // x.min(MAX), NaN as −∞ (false for no split; its rows are cleared below);
                // LessFilled reads NaN as 0
                let (lo, hi) = if LESS_EQ {
                    let max = _mm512_set1_pd(f64::MAX);
                    (
                        _mm512_mask_mov_pd(_mm512_min_pd(lo, max), nan_lo, below),
                        _mm512_mask_mov_pd(_mm512_min_pd(hi, max), nan_hi, below),
                    )
                } else {
                    (
                        _mm512_mask_mov_pd(lo, nan_lo, _mm512_setzero_pd()),
                        _mm512_mask_mov_pd(hi, nan_hi, _mm512_setzero_pd()),
                    )
                };
                // splits past the largest value are true for every row of the group
                let top = _mm512_reduce_max_pd(_mm512_max_pd(lo, hi));
                let splits = s.thresholds.iter().zip(&s.trees).zip(&s.clear);
                for ((&t, &tree), &clear) in splits {
                    if !is_false::<LESS_EQ>(t, top) {
                        break;
                    }
                    let t = _mm512_set1_pd(t);
                    // false: t < x (LessEq) or t <= x (LessFilled); no NaN here
                    let (ml, mh) = if LESS_EQ {
                        (
                            _mm512_cmp_pd_mask::<_CMP_LT_OQ>(t, lo),
                            _mm512_cmp_pd_mask::<_CMP_LT_OQ>(t, hi),
                        )
                    } else {
                        (
                            _mm512_cmp_pd_mask::<_CMP_LE_OQ>(t, lo),
                            _mm512_cmp_pd_mask::<_CMP_LE_OQ>(t, hi),
                        )
                    };
                    // rows 0..8 in the low byte, 8..16 in the high one
                    let is_false = _mm512_kunpackb(u16::from(mh), u16::from(ml));
                    // SAFETY: `words[tree]` is sixteen 32-bit words, 512 bits; unaligned loads
                    // and stores are allowed.
                    let w = words[usize::from(tree)].as_mut_ptr().cast::<__m512i>();
                    let current = _mm512_loadu_si512(w.cast());
                    let clear = _mm512_set1_epi32(clear as u32 as i32);
                    let cleared = _mm512_mask_andnot_epi32(current, is_false, clear, current);
                    _mm512_storeu_si512(w.cast(), cleared);
                }
                let is_nan = _mm512_kunpackb(u16::from(nan_hi), u16::from(nan_lo));
                if LESS_EQ && is_nan != 0 {
                    for (&tree, &clear) in s.missing_trees.iter().zip(&s.missing_clear) {
                        // SAFETY: as above
                        let w = words[usize::from(tree)].as_mut_ptr().cast::<__m512i>();
                        let current = _mm512_loadu_si512(w.cast());
                        let clear = _mm512_set1_epi32(clear as u32 as i32);
                        let cleared = _mm512_mask_andnot_epi32(current, is_nan, clear, current);
                        _mm512_storeu_si512(w.cast(), cleared);
                    }
                }
            }
            self.add_leaves(&words, og);
        }
    }

    /// [`BitForest::predict_rows`] for any processor.
    pub(crate) fn predict_rows_portable(&self, rows: &[f64], p: usize, out: &mut [f64]) {
        match (self.narrow, self.rule) {
            (true, Rule::LessEq) => self.predict_words::<u32, true>(rows, p, out),
            (true, Rule::LessFilled) => self.predict_words::<u32, false>(rows, p, out),
            (false, Rule::LessEq) => self.predict_words::<u64, true>(rows, p, out),
            (false, Rule::LessFilled) => self.predict_words::<u64, false>(rows, p, out),
        }
    }

    /// The scorer with one `W` word per tree and row: `u32` when every tree has at most 32
    /// leaves, else `u64`; `LESS_EQ`: whether the rule is [`Rule::LessEq`] (else
    /// [`Rule::LessFilled`]).
    #[inline(always)]
    fn predict_words<W: Word, const LESS_EQ: bool>(&self, rows: &[f64], p: usize, out: &mut [f64]) {
        // words[t][j]: tree t, row j of the group
        let mut words = vec![[W::ALL; GROUP]; self.leaf_starts.len()];
        for (g, og) in out.chunks_mut(GROUP).enumerate() {
            let rows = &rows[g * GROUP * p..(g * GROUP + og.len()) * p];
            words.fill([W::ALL; GROUP]);
            for (&col, s) in self.columns.iter().zip(&self.splits) {
                let (xs, nan) = self.group_values::<GROUP>(rows, p, col);
                // splits past the largest value are true for every row of the group (no
                // threshold or value is NaN here)
                let top = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let splits = s.thresholds.iter().zip(&s.trees).zip(&s.clear);
                for ((&t, &tree), &clear) in splits {
                    if !is_false::<LESS_EQ>(t, top) {
                        break;
                    }
                    let clear = W::from_bits(clear);
                    for (wj, &x) in words[usize::from(tree)].iter_mut().zip(&xs) {
                        *wj = *wj & !(W::mask(is_false::<LESS_EQ>(t, x)) & clear);
                    }
                }
                clear_missing(&mut words, s, &nan);
            }
            self.add_leaves(&words, og);
        }
    }

    /// [`BitForest::predict_words`] for 32-bit words written with AVX2 instructions: per
    /// feature, the group's values gathered straight into two registers (NaN found and
    /// replaced there); per split, two comparisons of four values with its threshold, one
    /// shuffle of the two 64-bit masks into eight 32-bit ones, one AND with the split's bits
    /// and one AND-NOT into its tree's eight words.
    ///
    /// # Safety
    /// The processor must support AVX2, and every column of the forest must be below `p`
    /// (the gathers read `rows` unchecked; [`BitForest::predict_rows_with`] checks).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn predict_narrow_avx2<const LESS_EQ: bool>(
        &self,
        rows: &[f64],
        p: usize,
        out: &mut [f64],
    ) {
        use std::arch::x86_64::{
            __m256d, __m256i, _mm256_and_si256, _mm256_andnot_si256, _mm256_blendv_pd,
            _mm256_castpd256_pd128, _mm256_castpd_ps, _mm256_castps_si256, _mm256_castsi256_pd,
            _mm256_castsi256_ps, _mm256_cmp_pd, _mm256_extractf128_pd, _mm256_loadu_si256,
            _mm256_mask_i64gather_pd, _mm256_max_pd, _mm256_min_pd, _mm256_movemask_ps,
            _mm256_set1_epi32, _mm256_set1_pd, _mm256_setr_epi64x, _mm256_setzero_pd,
            _mm256_shuffle_ps, _mm256_storeu_si256, _mm_cvtsd_f64, _mm_max_pd, _mm_unpackhi_pd,
            _CMP_LE_OQ, _CMP_LT_OQ, _CMP_UNORD_Q,
        };
        // The shuffle of the low halves of two 64-bit masks `a`, `b` gives, per 128-bit lane,
        // a0 a1 b0 b1 | a2 a3 b2 b3: `a` holds rows 0, 1, 4, 5 and `b` rows 2, 3, 6, 7, so that
        // the result is rows 0..8 in order.
        let to_words = |ma: __m256d, mb: __m256d| -> __m256i {
            _mm256_castps_si256(_mm256_shuffle_ps::<0b10_00_10_00>(
                _mm256_castpd_ps(ma),
                _mm256_castpd_ps(mb),
            ))
        };
        const A_ROWS: [i64; 4] = [0, 1, 4, 5];
        const B_ROWS: [i64; 4] = [2, 3, 6, 7];
        let stride = p as i64;
        let offsets = |r: [i64; 4]| {
            _mm256_setr_epi64x(r[0] * stride, r[1] * stride, r[2] * stride, r[3] * stride)
        };
        let (offsets_a, offsets_b) = (offsets(A_ROWS), offsets(B_ROWS));
        let below = _mm256_set1_pd(f64::NEG_INFINITY);
        let mut words = vec![[u32::MAX; GROUP]; self.leaf_starts.len()];
        for (g, og) in out.chunks_mut(GROUP).enumerate() {
            let m = og.len();
            let rows = &rows[g * GROUP * p..(g * GROUP + m) * p];
            // lanes of the rows that exist: all ones
            let live = |r: [i64; 4]| {
                let on = |k: i64| -i64::from(k < m as i64);
                _mm256_castsi256_pd(_mm256_setr_epi64x(on(r[0]), on(r[1]), on(r[2]), on(r[3])))
            };
            let (live_a, live_b) = (live(A_ROWS), live(B_ROWS));
            words.fill([u32::MAX; GROUP]);
            for (&col, s) in self.columns.iter().zip(&self.splits) {
                // SAFETY: lane of row j < m reads rows[j * p + col], inside `rows` as col < p;
                // lanes of rows past `m` read nothing (masked off) and hold −∞.
                let base = rows.as_ptr().wrapping_add(col);
                let a = _mm256_mask_i64gather_pd::<8>(below, base.cast(), offsets_a, live_a);
                let b = _mm256_mask_i64gather_pd::<8>(below, base.cast(), offsets_b, live_b);
                let nan_a = _mm256_cmp_pd::<_CMP_UNORD_Q>(a, a);
                let nan_b = _mm256_cmp_pd::<_CMP_UNORD_Q>(b, b);
                // `Rule::operand` in vector form, as `group_values`: LessEq compares
                // x.min(MAX), NaN as −∞ (false for no split; its rows are cleared below);
                // LessFilled reads NaN as 0
                let (a, b) = if LESS_EQ {
                    let max = _mm256_set1_pd(f64::MAX);
                    (
                        _mm256_blendv_pd(_mm256_min_pd(a, max), below, nan_a),
                        _mm256_blendv_pd(_mm256_min_pd(b, max), below, nan_b),
                    )
                } else {
                    (
                        _mm256_blendv_pd(a, _mm256_setzero_pd(), nan_a),
                        _mm256_blendv_pd(b, _mm256_setzero_pd(), nan_b),
                    )
                };
                // splits past the largest value are true for every row of the group
                let top = {
                    let ab = _mm256_max_pd(a, b);
                    let half =
                        _mm_max_pd(_mm256_castpd256_pd128(ab), _mm256_extractf128_pd::<1>(ab));
                    _mm_cvtsd_f64(_mm_max_pd(half, _mm_unpackhi_pd(half, half)))
                };
                let splits = s.thresholds.iter().zip(&s.trees).zip(&s.clear);
                for ((&t, &tree), &clear) in splits {
                    if !is_false::<LESS_EQ>(t, top) {
                        break;
                    }
                    let t = _mm256_set1_pd(t);
                    // false: t < x (LessEq) or t <= x (LessFilled); no NaN here
                    let is_false = if LESS_EQ {
                        to_words(
                            _mm256_cmp_pd::<_CMP_LT_OQ>(t, a),
                            _mm256_cmp_pd::<_CMP_LT_OQ>(t, b),
                        )
                    } else {
                        to_words(
                            _mm256_cmp_pd::<_CMP_LE_OQ>(t, a),
                            _mm256_cmp_pd::<_CMP_LE_OQ>(t, b),
                        )
                    };
                    let clear = _mm256_and_si256(is_false, _mm256_set1_epi32(clear as u32 as i32));
                    // SAFETY: `words[tree]` is eight 32-bit words, 256 bits; unaligned loads
                    // and stores are allowed.
                    let w = words[usize::from(tree)].as_mut_ptr().cast::<__m256i>();
                    _mm256_storeu_si256(w, _mm256_andnot_si256(clear, _mm256_loadu_si256(w)));
                }
                let is_nan = to_words(nan_a, nan_b);
                if LESS_EQ && _mm256_movemask_ps(_mm256_castsi256_ps(is_nan)) != 0 {
                    for (&tree, &clear) in s.missing_trees.iter().zip(&s.missing_clear) {
                        let clear =
                            _mm256_and_si256(is_nan, _mm256_set1_epi32(clear as u32 as i32));
                        // SAFETY: as above
                        let w = words[usize::from(tree)].as_mut_ptr().cast::<__m256i>();
                        _mm256_storeu_si256(w, _mm256_andnot_si256(clear, _mm256_loadu_si256(w)));
                    }
                }
            }
            self.add_leaves(&words, og);
        }
    }

    /// The values of column `col` that the group's rows (`rows`: up to `G` rows of `p`
    /// values) compare with the thresholds ([`Rule::operand`]), and which are NaN.
    /// [`is_false`] on them is the split being false; NaN under [`Rule::LessEq`] and rows past
    /// the group's end give −∞, false for no split (NaN rows are handled by [`clear_missing`]).
    #[inline(always)]
    fn group_values<const G: usize>(
        &self,
        rows: &[f64],
        p: usize,
        col: usize,
    ) -> ([f64; G], [bool; G]) {
        let mut xs = [f64::NEG_INFINITY; G];
        let mut nan = [false; G];
        for ((x, isnan), row) in xs.iter_mut().zip(&mut nan).zip(rows.chunks_exact(p)) {
            let v = row[col];
            *isnan = v.is_nan();
            *x = self.rule.operand(v).unwrap_or(f64::NEG_INFINITY);
        }
        (xs, nan)
    }

    /// Each row's sum of its exit leaves' values, in tree order after the baseline (the
    /// walk's order, so the walk's bits); the rows' sums are independent chains, advanced
    /// together.
    #[inline(always)]
    fn add_leaves<W: Word, const G: usize>(&self, words: &[[W; G]], out: &mut [f64]) {
        let mut sums = [0.0; G];
        for (t, (&start, w)) in self.leaf_starts.iter().zip(words).enumerate() {
            for (o, &wj) in sums.iter_mut().zip(w) {
                let v = self.leaf_values[start + wj.lowest() as usize];
                *o = match (t, self.baseline) {
                    (0, Some(b)) => b + v,
                    (0, None) => v,
                    _ => *o + v,
                };
            }
        }
        for (o, sum) in out.iter_mut().zip(sums) {
            *o = sum;
        }
    }
}

/// Whether a split with threshold `t` is false for value `x` from
/// [`BitForest::group_values`], under [`Rule::LessEq`] if `LESS_EQ`, else [`Rule::LessFilled`].
#[inline(always)]
fn is_false<const LESS_EQ: bool>(t: f64, x: f64) -> bool {
    if LESS_EQ {
        Rule::LessEq.goes_right(t, x)
    } else {
        Rule::LessFilled.goes_right(t, x)
    }
}

/// Clears the bits of the splits of `s` that send NaN right from the words of the rows whose
/// value is NaN (`nan`); nothing under [`Rule::LessFilled`], which has no such splits.
#[inline(always)]
fn clear_missing<W: Word, const G: usize>(
    words: &mut [[W; G]],
    s: &FeatureSplits,
    nan: &[bool; G],
) {
    if !nan.iter().any(|&n| n) {
        return;
    }
    for (&tree, &clear) in s.missing_trees.iter().zip(&s.missing_clear) {
        let clear = W::from_bits(clear);
        for (w, &n) in words[usize::from(tree)].iter_mut().zip(nan) {
            *w = *w & !(W::mask(n) & clear);
        }
    }
}

/// A tree's bit vector for one row: `u32` or `u64`.
trait Word: Copy + std::ops::BitAnd<Output = Self> + std::ops::Not<Output = Self> {
    /// Every bit set.
    const ALL: Self;
    /// The low bits of `bits` (all of them fit: the trees have few enough leaves).
    fn from_bits(bits: u64) -> Self;
    /// Every bit set if `hit`, else none.
    fn mask(hit: bool) -> Self;
    /// Index of the lowest set bit.
    fn lowest(self) -> u32;
}

impl Word for u32 {
    const ALL: Self = u32::MAX;
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        bits as u32
    }
    #[inline(always)]
    fn mask(hit: bool) -> Self {
        u32::from(hit).wrapping_neg()
    }
    #[inline(always)]
    fn lowest(self) -> u32 {
        self.trailing_zeros()
    }
}

impl Word for u64 {
    const ALL: Self = u64::MAX;
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        bits
    }
    #[inline(always)]
    fn mask(hit: bool) -> Self {
        u64::from(hit).wrapping_neg()
    }
    #[inline(always)]
    fn lowest(self) -> u32 {
        self.trailing_zeros()
    }
}

/// Whether [`BitForest::predict_rows`] runs vectorised (x86-64 with AVX2). Without AVX2 the
/// bit vectors are no faster than walking the trees (0.39 s vs 0.36 s for 60 trees of 31
/// leaves and 820k rows), so callers walk.
pub(crate) fn vectorised() -> bool {
    Kernel::Avx2.runs()
}

/// The ways [`BitForest::predict_rows`] can run, slowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// Plain Rust, groups of 8 rows.
    Portable,
    /// AVX2 instructions, groups of 8 rows.
    Avx2,
    /// AVX-512F instructions, groups of 16 rows, for trees of at most 32 leaves (larger
    /// trees take the AVX2 kernel).
    Avx512,
}

impl Kernel {
    /// Every kernel, slowest first.
    pub(crate) const ALL: [Kernel; 3] = [Kernel::Portable, Kernel::Avx2, Kernel::Avx512];

    /// Whether this processor runs the kernel.
    pub(crate) fn runs(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The fastest kernel this processor runs.
    pub(crate) fn best() -> Kernel {
        Kernel::ALL
            .into_iter()
            .rev()
            .find(|k| k.runs())
            .unwrap_or(Kernel::Portable)
    }
}
