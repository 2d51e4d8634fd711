//! Text → hashed n-gram features, without allocating per n-gram.
//!
//! Chinese text becomes character uni- and bi-grams; English text becomes lower-cased word uni-
//! and bi-grams. A negation word (`不`, `没`, `别`, `未`, `无` in Chinese; `not`, `no`, `never`,
//! `…n't`, … in English) opens a *negation scope*; every n-gram whose characters (words) all lie in
//! the scope is emitted with a "negated" tag, so `不 好` yields `好` marked negated while `不好`
//! itself stays an ordinary bigram. A scope ends at punctuation, whitespace (Chinese only), after
//! `negation_scope` characters (Chinese), or at a second negator (double negation).
//!
//! Each feature is reduced to a 64-bit key by [`FeatureHash`], a hash defined here (not a library
//! hasher whose algorithm may change between versions), because model files store these keys.
use serde::{Deserialize, Serialize};

/// Multiplier of the feature hash (the Fx constant).
const K: u64 = 0x517c_c1b7_2722_0a95;

/// Tags that keep feature families apart in the hash space.
const TAG_ZH_UNI: u64 = 0x11;
const TAG_ZH_BI: u64 = 0x12;
const TAG_ZH_TRI: u64 = 0x13;
const TAG_EN_UNI: u64 = 0x21;
const TAG_EN_BI: u64 = 0x22;
const TAG_EN_TRI: u64 = 0x23;
const TAG_NEG: u64 = 0x100;

/// A small, stable 64-bit hash: Fx-style mixing per unit and a splitmix64 finaliser.
#[derive(Debug, Clone, Copy)]
pub struct FeatureHash(u64);

impl FeatureHash {
    /// Starts a hash for the feature family `tag`.
    #[inline]
    pub fn new(tag: u64) -> Self {
        FeatureHash(tag.wrapping_mul(K))
    }
    /// Mixes one unit (a character, a byte, or another hash) into the state.
    #[inline]
    pub fn mix(self, x: u64) -> Self {
        FeatureHash((self.0.rotate_left(5) ^ x).wrapping_mul(K))
    }
    /// The final key.
    #[inline]
    pub fn finish(self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// How text is turned into features; stored in the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// Longest n-gram emitted: 1 (unigrams), 2 (+ bigrams) or 3 (+ trigrams).
    pub max_ngram: u32,
    /// Characters after a Chinese negator that are in its scope (0 disables negation marking).
    /// English scopes run to the next punctuation mark when this is non-zero.
    pub negation_scope: u32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            max_ngram: 2,
            negation_scope: 3,
        }
    }
}

/// Chinese negator characters.
fn is_zh_negator(c: char) -> bool {
    matches!(c, '不' | '没' | '别' | '未' | '无' | '勿' | '莫')
}

/// Normalises one character for the Chinese model: full-width ASCII → ASCII, ASCII upper → lower,
/// every digit → `0`.
#[inline]
fn normalize_zh_char(c: char) -> char {
    let c = match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    };
    if c.is_ascii_digit() {
        '0'
    } else {
        c.to_ascii_lowercase()
    }
}

/// Whether a (normalised) character ends a clause: punctuation or whitespace.
#[inline]
fn is_clause_break(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(
            c,
            '，' | '。'
                | '、'
                | '；'
                | '：'
                | '？'
                | '！'
                | '…'
                | '～'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '（'
                | '）'
                | '《'
                | '》'
                | '【'
                | '】'
                | '—'
                | '·'
        )
}

/// Calls `emit(key)` for every Chinese character n-gram of `text`; returns the number emitted.
pub fn zh_features(text: &str, cfg: &FeatureConfig, mut emit: impl FnMut(u64)) -> u32 {
    let mut n = 0u32;
    // previous character in the clause and whether it was inside a negation scope
    let mut prev: Option<(char, bool)> = None;
    let mut prev2: Option<(char, bool)> = None;
    let mut scope_left = 0u32;
    for raw in text.chars() {
        let c = normalize_zh_char(raw);
        if is_clause_break(c) {
            prev = None;
            prev2 = None;
            scope_left = 0;
            // keep sentence-final ! and ? as features: they carry emphasis
            if matches!(c, '!' | '?') {
                emit(FeatureHash::new(TAG_ZH_UNI).mix(c as u64).finish());
                n += 1;
            }
            continue;
        }
        let in_scope = scope_left > 0;
        let neg_tag = if in_scope { TAG_NEG } else { 0 };
        emit(
            FeatureHash::new(TAG_ZH_UNI | neg_tag)
                .mix(c as u64)
                .finish(),
        );
        n += 1;
        if cfg.max_ngram >= 2 {
            if let Some((p, p_scope)) = prev {
                let tag = if in_scope && p_scope { TAG_NEG } else { 0 };
                emit(
                    FeatureHash::new(TAG_ZH_BI | tag)
                        .mix(p as u64)
                        .mix(c as u64)
                        .finish(),
                );
                n += 1;
                if cfg.max_ngram >= 3 {
                    if let Some((pp, pp_scope)) = prev2 {
                        let tag = if in_scope && p_scope && pp_scope {
                            TAG_NEG
                        } else {
                            0
                        };
                        emit(
                            FeatureHash::new(TAG_ZH_TRI | tag)
                                .mix(pp as u64)
                                .mix(p as u64)
                                .mix(c as u64)
                                .finish(),
                        );
                        n += 1;
                    }
                }
            }
        }
        prev2 = prev;
        prev = Some((c, in_scope));
        if in_scope {
            scope_left -= 1;
        }
        if cfg.negation_scope > 0 && is_zh_negator(c) {
            // a negator inside a scope cancels it (double negation)
            scope_left = if in_scope { 0 } else { cfg.negation_scope };
        }
    }
    n
}

/// English negation words (besides anything ending in `n't`).
fn is_en_negator(w: &str) -> bool {
    w.ends_with("n't")
        || matches!(
            w,
            "not"
                | "no"
                | "never"
                | "cannot"
                | "nothing"
                | "nobody"
                | "none"
                | "nor"
                | "neither"
                | "nowhere"
                | "without"
                | "hardly"
                | "barely"
                | "cant"
                | "dont"
                | "didnt"
                | "doesnt"
                | "isnt"
                | "wasnt"
                | "wont"
                | "wouldnt"
                | "shouldnt"
                | "couldnt"
                | "arent"
                | "werent"
                | "havent"
                | "hasnt"
                | "aint"
        )
}

/// Hash of a lower-cased ASCII-folded word given as bytes.
#[inline]
fn word_hash(word: &[u8]) -> u64 {
    let mut h = FeatureHash::new(0x5);
    for &b in word {
        h = h.mix(b.to_ascii_lowercase() as u64);
    }
    h.finish()
}

/// Calls `emit(key)` for every English word n-gram of `text`; returns the number emitted.
///
/// A word is a run of letters, digits and inner apostrophes; `!` and `?` are features of their
/// own; other punctuation ends the negation scope and the bigram chain.
pub fn en_features(text: &str, cfg: &FeatureConfig, mut emit: impl FnMut(u64)) -> u32 {
    let bytes = text.as_bytes();
    let mut n = 0u32;
    let mut prev: Option<(u64, bool)> = None;
    let mut prev2: Option<(u64, bool)> = None;
    let mut in_scope = false;
    let mut i = 0usize;
    // lower-case scratch for the negator check (words longer than this are never negators)
    let mut lower = [0u8; 16];
    while i < bytes.len() {
        let b = bytes[i];
        let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || b >= 0x80;
        if is_word_byte(b) {
            let start = i;
            while i < bytes.len()
                && (is_word_byte(bytes[i])
                    || (bytes[i] == b'\'' && i + 1 < bytes.len() && is_word_byte(bytes[i + 1])))
            {
                i += 1;
            }
            let word = &bytes[start..i];
            let h = word_hash(word);
            let neg_tag = if in_scope { TAG_NEG } else { 0 };
            emit(FeatureHash::new(TAG_EN_UNI | neg_tag).mix(h).finish());
            n += 1;
            if cfg.max_ngram >= 2 {
                if let Some((ph, p_scope)) = prev {
                    let tag = if in_scope && p_scope { TAG_NEG } else { 0 };
                    emit(FeatureHash::new(TAG_EN_BI | tag).mix(ph).mix(h).finish());
                    n += 1;
                    if cfg.max_ngram >= 3 {
                        if let Some((pph, pp_scope)) = prev2 {
                            let tag = if in_scope && p_scope && pp_scope {
                                TAG_NEG
                            } else {
                                0
                            };
                            emit(
                                FeatureHash::new(TAG_EN_TRI | tag)
                                    .mix(pph)
                                    .mix(ph)
                                    .mix(h)
                                    .finish(),
                            );
                            n += 1;
                        }
                    }
                }
            }
            prev2 = prev;
            prev = Some((h, in_scope));
            if cfg.negation_scope > 0 && word.len() <= lower.len() {
                let l = &mut lower[..word.len()];
                for (d, s) in l.iter_mut().zip(word) {
                    *d = s.to_ascii_lowercase();
                }
                // a non-UTF-8 slice cannot happen: the word ends at an ASCII byte or text end
                if let Ok(w) = std::str::from_utf8(l) {
                    if is_en_negator(w) {
                        in_scope = !in_scope;
                    }
                }
            }
        } else {
            if b.is_ascii_punctuation() && b != b'\'' && b != b'"' {
                prev = None;
                prev2 = None;
                in_scope = false;
                if b == b'!' || b == b'?' {
                    emit(FeatureHash::new(TAG_EN_UNI).mix(b as u64 + 0x1000).finish());
                    n += 1;
                }
            }
            i += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: impl Fn(&mut dyn FnMut(u64)) -> u32) -> (Vec<u64>, u32) {
        let mut v = Vec::new();
        let n = f(&mut |k| v.push(k));
        (v, n)
    }

    fn zh(text: &str, cfg: &FeatureConfig) -> Vec<u64> {
        collect(|e| zh_features(text, cfg, e)).0
    }

    fn en(text: &str, cfg: &FeatureConfig) -> Vec<u64> {
        collect(|e| en_features(text, cfg, e)).0
    }

    #[test]
    fn zh_counts_unigrams_and_bigrams() {
        let cfg = FeatureConfig::default();
        // 质量很好 → 4 unigrams + 3 bigrams; the comma breaks the chain; 物流快 → 3 + 2
        let (_, n) = collect(|e| zh_features("质量很好，物流快", &cfg, e));
        assert_eq!(n, 4 + 3 + 3 + 2);
        // trigrams add 2 + 1
        let tri = FeatureConfig {
            max_ngram: 3,
            ..cfg
        };
        let (_, n) = collect(|e| zh_features("质量很好，物流快", &tri, e));
        assert_eq!(n, 4 + 3 + 2 + 3 + 2 + 1);
        let (_, n) = collect(|e| en_features("very good taste. ok", &tri, e));
        assert_eq!(n, 3 + 2 + 1 + 1);
    }

    #[test]
    fn zh_negation_marks_scope_but_not_the_negator_bigram() {
        let cfg = FeatureConfig::default();
        let plain = zh("好", &cfg)[0];
        let negated = zh("不好", &cfg);
        // 不, 好(negated), 不好
        assert_eq!(negated.len(), 3);
        assert!(
            !negated.contains(&plain),
            "好 after 不 must be tagged as negated"
        );
        let no_neg = FeatureConfig {
            negation_scope: 0,
            ..cfg
        };
        assert!(zh("不好", &no_neg).contains(&plain));
        // the scope ends at punctuation: 好 after the comma is plain again
        assert!(zh("不，好", &cfg).contains(&plain));
        // and after `negation_scope` characters
        assert!(zh("不一二三好", &cfg).contains(&plain));
        assert!(!zh("不一二好", &cfg).contains(&plain));
        // double negation cancels
        assert!(zh("不是不好", &cfg).contains(&plain));
    }

    #[test]
    fn zh_normalises_width_case_and_digits() {
        let cfg = FeatureConfig::default();
        assert_eq!(zh("ＡＢ", &cfg), zh("ab", &cfg));
        assert_eq!(zh("买了3次", &cfg), zh("买了7次", &cfg));
    }

    #[test]
    fn en_words_case_and_negation() {
        let cfg = FeatureConfig::default();
        assert_eq!(en("Good Taste", &cfg), en("good taste", &cfg));
        let good = en("good", &cfg)[0];
        assert!(!en("not good", &cfg).contains(&good));
        assert!(!en("didn't taste good", &cfg).contains(&good));
        assert!(en("not bad. good", &cfg).contains(&good));
        // word, word, bigram, then `!` feature
        let (_, n) = collect(|e| en_features("love it!", &cfg, e));
        assert_eq!(n, 4);
        // `it's` is one word
        let (_, n) = collect(|e| en_features("it's", &cfg, e));
        assert_eq!(n, 1);
    }

    #[test]
    fn features_of_odd_input_are_defined() {
        let cfg = FeatureConfig::default();
        assert!(zh("", &cfg).is_empty());
        assert!(en("", &cfg).is_empty());
        assert!(en("😀😀", &cfg).len() <= 3);
        let long = "好".repeat(40_000);
        assert_eq!(zh(&long, &cfg).len(), 2 * 40_000 - 1);
    }
}
