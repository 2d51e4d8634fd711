//! The trained text model: L2-regularised logistic regression over TF-IDF-weighted hashed
//! n-gram features (plus, for English, VADER's compound score as one extra input), its
//! hyper-parameters, fitting by seeded stochastic gradient descent, and the JSON model file.
//!
//! Input of one text (sublinear TF-IDF, as scikit-learn's
//! `TfidfVectorizer(sublinear_tf=True, smooth_idf=True, norm="l2")`): an n-gram `f` of the
//! model's vocabulary that occurs `tf` times gets `x_f = (1 + ln tf) · idf_f` with
//! `idf_f = ln((1 + n_docs) / (1 + df_f)) + 1` (`df_f`: training documents containing `f`);
//! the vector is then scaled to unit length over the vocabulary n-grams present (n-grams the
//! model does not know are ignored), so long texts are not over-confident. Then
//! `logit = bias + Σ w_f · x_f + vader_weight · compound`, and the score is `tanh(logit / 2)`
//! = `2 · P(positive) − 1` ∈ (−1, 1).
use super::features::{en_features, zh_features, FeatureConfig};
use super::metrics::BinaryMetrics;
use super::vader::Vader;
use super::Lang;
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Model-file format identifier.
pub const FORMAT: &str = "ltv-sentiment-text-model";
/// Model-file format version (bump when features or their hashing change). Version 2: TF-IDF
/// inputs, every vocabulary entry stores its document frequency (version 1 had `1/sqrt(N)`
/// counts and no document frequencies).
pub const FORMAT_VERSION: u32 = 2;

/// Hyper-parameters of [`TextModel`]; build with [`TextModel::params`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextModelParams {
    /// Language whose tokeniser is used.
    pub lang: Lang,
    /// L2 penalty per example (λ).
    pub l2: f64,
    /// Passes over the training data.
    pub epochs: usize,
    /// Initial SGD step size η₀ (step t is η₀ / (1 + η₀ λ t)).
    pub learning_rate: f64,
    /// Minimum number of training documents an n-gram must occur in to get a weight.
    pub min_count: u32,
    /// Vocabulary n-grams whose weight has |w| below this are dropped from the model file (they
    /// then no longer count in a text's vector length either).
    pub prune_below: f64,
    /// Tokenisation settings.
    pub features: FeatureConfig,
    /// Use VADER's compound score as an input (English only).
    pub use_vader: bool,
    /// Seed of the example order.
    pub seed: u64,
}

/// A fitted text model.
#[derive(Debug, Clone)]
pub struct TextModel {
    params: TextModelParams,
    bias: f64,
    vader_weight: f64,
    /// n-gram key → its vocabulary entry.
    weights: FxHashMap<u64, Entry>,
    /// Training documents the idf values were computed from.
    n_docs: u64,
    /// Information about the training run, stored in the model file.
    pub training: TrainingInfo,
}

/// Where a model came from and how well it did on data it did not see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    /// Positive training examples.
    pub n_train_positive: usize,
    /// Negative training examples.
    pub n_train_negative: usize,
    /// Description of the held-out split (seed and fraction), if one was used.
    pub split: Option<super::corpus::Split>,
    /// Metrics on the held-out part.
    pub holdout_metrics: Option<BinaryMetrics>,
    /// SHA-256 of the training texts and labels (hex).
    pub data_sha256: String,
}

/// The on-disk form.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format: String,
    format_version: u32,
    crate_version: String,
    algorithm: String,
    params: TextModelParams,
    bias: f64,
    vader_weight: f64,
    training: TrainingInfo,
    /// Number of training documents (`n_docs` of the idf).
    n_docs: u64,
    /// (feature key, document frequency, weight), sorted by key.
    weights: Vec<(u64, u32, f32)>,
}

/// Just the identification of a model file, read to explain why a full parse failed.
#[derive(Debug, Deserialize)]
struct ModelFileHeader {
    format: String,
    format_version: u32,
}

/// idf of an n-gram seen in `df` of `n_docs` training documents (scikit-learn's smoothed idf).
#[inline]
fn idf(n_docs: u64, df: u32) -> f64 {
    ((1.0 + n_docs as f64) / (1.0 + df as f64)).ln() + 1.0
}

/// One vocabulary n-gram of a fitted model.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    /// Training documents containing it (what the file stores).
    df: u32,
    /// `idf(n_docs, df)` rounded to f32 (what scoring uses).
    idf: f32,
    /// Its weight.
    weight: f32,
}

/// Sorts `keys` and calls `visit(key, tf)` once per distinct key with its count.
#[inline]
fn for_each_count(keys: &mut [u64], mut visit: impl FnMut(u64, u32)) {
    keys.sort_unstable();
    let mut i = 0;
    while i < keys.len() {
        let k = keys[i];
        let mut j = i + 1;
        while j < keys.len() && keys[j] == k {
            j += 1;
        }
        visit(k, (j - i) as u32);
        i = j;
    }
}

/// Sublinear term frequency `1 + ln tf`.
#[inline]
fn sublinear_tf(tf: u32) -> f64 {
    1.0 + (tf as f64).ln()
}

/// The evidence a model found in one text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// The model's log-odds of "positive".
    pub logit: f64,
    /// n-grams the text produced.
    pub n_features: u32,
    /// Of those, n-grams with a weight in the model.
    pub n_known: u32,
    /// VADER compound used (0 when the model does not use VADER).
    pub vader: f64,
}

impl Evidence {
    /// Whether anything in the text moved the score (a known n-gram or a VADER word).
    pub fn has_signal(&self) -> bool {
        self.n_known > 0 || self.vader != 0.0
    }
}

impl TextModel {
    /// Hyper-parameters with their defaults: `l2` 1e-5, `epochs` 30, `learning_rate` 0.2,
    /// `min_count` 2, `prune_below` 1e-3, `max_ngram` 3 for Chinese (character 1–3-grams) and 2
    /// for English (word 1–2-grams), `negation_scope` 3, `use_vader` true for English, `seed` 42.
    pub fn params(lang: Lang) -> TextModelParams {
        TextModelParams {
            lang,
            l2: 1e-5,
            epochs: 30,
            learning_rate: 0.2,
            min_count: 2,
            prune_below: 1e-3,
            features: FeatureConfig {
                max_ngram: if lang == Lang::Zh { 3 } else { 2 },
                ..FeatureConfig::default()
            },
            use_vader: lang == Lang::En,
            seed: 42,
        }
    }

    /// The hyper-parameters it was fitted with.
    pub fn hyper_params(&self) -> &TextModelParams {
        &self.params
    }

    /// The language it scores.
    pub fn lang(&self) -> Lang {
        self.params.lang
    }

    /// Number of n-gram weights (vocabulary entries).
    pub fn n_weights(&self) -> usize {
        self.weights.len()
    }

    /// The evidence for `text`; `vader` is used only when the model was trained with it.
    pub fn evidence(&self, text: &str, vader: Option<&Vader>) -> Evidence {
        let mut keys: Vec<u64> = Vec::with_capacity(text.len());
        let n = for_each_feature(self.params.lang, text, &self.params.features, |k| {
            keys.push(k)
        });
        let (mut dot, mut norm2, mut known) = (0.0f64, 0.0f64, 0u32);
        for_each_count(&mut keys, |k, tf| {
            if let Some(e) = self.weights.get(&k) {
                let x = sublinear_tf(tf) * e.idf as f64;
                dot += e.weight as f64 * x;
                norm2 += x * x;
                known += 1;
            }
        });
        let compound = match (self.params.use_vader, vader) {
            (true, Some(v)) => v.compound(text),
            _ => 0.0,
        };
        let x = if norm2 > 0.0 { dot / norm2.sqrt() } else { 0.0 };
        Evidence {
            logit: self.bias + x + self.vader_weight * compound,
            n_features: n,
            n_known: known,
            vader: compound,
        }
    }

    /// Score in [-1, 1]: `tanh(logit / 2)`, or exactly 0 when the text holds no signal.
    pub fn score(&self, text: &str, vader: Option<&Vader>) -> f64 {
        let e = self.evidence(text, vader);
        if e.has_signal() {
            (e.logit / 2.0).tanh()
        } else {
            0.0
        }
    }

    /// Scores many texts (see [`TextModel::score`]) in parallel, in input order.
    pub fn predict<S: AsRef<str> + Sync>(&self, texts: &[S], vader: Option<&Vader>) -> Vec<f64> {
        use rayon::prelude::*;
        texts
            .par_iter()
            .with_min_len(256)
            .map(|t| self.score(t.as_ref(), vader))
            .collect()
    }

    /// Serialises to the JSON model file (deterministic bytes).
    pub fn to_json(&self) -> Result<String> {
        let mut weights: Vec<(u64, u32, f32)> = self
            .weights
            .iter()
            .map(|(&k, e)| (k, e.df, e.weight))
            .collect();
        weights.sort_unstable_by_key(|&(k, _, _)| k);
        let file = ModelFile {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            algorithm: "logistic_regression_sgd_tfidf".to_string(),
            params: self.params.clone(),
            bias: self.bias,
            vader_weight: self.vader_weight,
            training: self.training.clone(),
            n_docs: self.n_docs,
            weights,
        };
        let mut s = serde_json::to_string(&file)?;
        s.push('\n');
        Ok(s)
    }

    /// Parses a JSON model file; `origin` names it in errors.
    pub fn from_json(json: &str, origin: &Path) -> Result<Self> {
        let bad = |reason: String| Error::ModelFile {
            path: origin.to_path_buf(),
            reason,
        };
        let check_header = |h: &ModelFileHeader| {
            if h.format != FORMAT {
                return Err(bad(format!("format `{}` is not `{FORMAT}`", h.format)));
            }
            if h.format_version != FORMAT_VERSION {
                return Err(bad(format!(
                    "format version {} is not supported (this ltv reads version {FORMAT_VERSION}); \
                     retrain the model with this version (scripts/train_sentiment.sh)",
                    h.format_version
                )));
            }
            Ok(())
        };
        let file: ModelFile = match serde_json::from_str(json) {
            Ok(f) => f,
            Err(e) => {
                // explain an old or foreign file by its header rather than by a missing field
                if let Ok(h) = serde_json::from_str::<ModelFileHeader>(json) {
                    check_header(&h)?;
                }
                return Err(bad(format!("not a sentiment model: {e}")));
            }
        };
        check_header(&ModelFileHeader {
            format: file.format.clone(),
            format_version: file.format_version,
        })?;
        if !matches!(file.params.lang, Lang::Zh | Lang::En) {
            return Err(bad("model language must be `zh` or `en`".into()));
        }
        if !file.bias.is_finite()
            || !file.vader_weight.is_finite()
            || file.weights.iter().any(|(_, _, w)| !w.is_finite())
        {
            return Err(bad("non-finite weight".into()));
        }
        if let Some(&(k, df, _)) = file
            .weights
            .iter()
            .find(|&&(_, df, _)| df == 0 || df as u64 > file.n_docs)
        {
            return Err(bad(format!(
                "n-gram {k}: document frequency {df} is not in 1..={}",
                file.n_docs
            )));
        }
        let n_docs = file.n_docs;
        let mut weights = FxHashMap::default();
        weights.reserve(file.weights.len());
        weights.extend(file.weights.into_iter().map(|(k, df, weight)| {
            let idf = idf(n_docs, df) as f32;
            (k, Entry { df, idf, weight })
        }));
        Ok(TextModel {
            params: file.params,
            bias: file.bias,
            vader_weight: file.vader_weight,
            weights,
            n_docs,
            training: file.training,
        })
    }

    /// Writes the model file atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = self.to_json()?;
        crate::io_util::write_atomic(path, |w| {
            w.write_all(json.as_bytes()).map_err(|e| Error::io(path, e))
        })
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Self> {
        let json = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&json, path)
    }
}

/// Calls `emit` for every feature key of `text` under `lang`'s tokeniser; returns the count.
fn for_each_feature(lang: Lang, text: &str, cfg: &FeatureConfig, emit: impl FnMut(u64)) -> u32 {
    match lang {
        Lang::Zh => zh_features(text, cfg, emit),
        _ => en_features(text, cfg, emit),
    }
}

impl TextModelParams {
    /// Sets λ, the L2 penalty (≥ 0, finite).
    pub fn l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }
    /// Sets the number of passes over the data (≥ 1).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }
    /// Sets the initial step size (> 0).
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }
    /// Sets the minimum document count of an n-gram (≥ 1).
    pub fn min_count(mut self, c: u32) -> Self {
        self.min_count = c;
        self
    }
    /// Sets the |weight| below which weights are dropped (≥ 0).
    pub fn prune_below(mut self, p: f64) -> Self {
        self.prune_below = p;
        self
    }
    /// Sets the longest n-gram (1, 2 or 3).
    pub fn max_ngram(mut self, n: u32) -> Self {
        self.features.max_ngram = n;
        self
    }
    /// Sets the negation scope (characters for Chinese; 0 disables negation marking).
    pub fn negation_scope(mut self, n: u32) -> Self {
        self.features.negation_scope = n;
        self
    }
    /// Uses VADER's compound score as an input (English only).
    pub fn use_vader(mut self, on: bool) -> Self {
        self.use_vader = on;
        self
    }
    /// Sets the seed of the example order.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Validates the hyper-parameters, naming the first bad one.
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, value: String, reason: &str| {
            Err(Error::InvalidParameter {
                name,
                value,
                reason: reason.to_string(),
            })
        };
        if !matches!(self.lang, Lang::Zh | Lang::En) {
            return bad("lang", format!("{:?}", self.lang), "must be `zh` or `en`");
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad("l2", self.l2.to_string(), "must be finite and >= 0");
        }
        if !(1..=3).contains(&self.features.max_ngram) {
            return bad(
                "max_ngram",
                self.features.max_ngram.to_string(),
                "must be 1, 2 or 3",
            );
        }
        if self.epochs == 0 {
            return bad("epochs", "0".into(), "must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "learning_rate",
                self.learning_rate.to_string(),
                "must be finite and > 0",
            );
        }
        if self.min_count == 0 {
            return bad("min_count", "0".into(), "must be at least 1");
        }
        if !(self.prune_below.is_finite() && self.prune_below >= 0.0) {
            return bad(
                "prune_below",
                self.prune_below.to_string(),
                "must be finite and >= 0",
            );
        }
        if self.use_vader && self.lang != Lang::En {
            return bad("use_vader", "true".into(), "VADER is an English lexicon");
        }
        Ok(())
    }

    /// Fits the model to `texts` with labels `positive`; `vader` is required when `use_vader`.
    pub fn fit(
        &self,
        texts: &[&str],
        positive: &[bool],
        vader: Option<&Vader>,
    ) -> Result<TextModel> {
        self.check()?;
        if texts.len() != positive.len() {
            return Err(Error::InvalidParameter {
                name: "positive",
                value: positive.len().to_string(),
                reason: format!("must have one label per text ({})", texts.len()),
            });
        }
        let n_pos = positive.iter().filter(|&&p| p).count();
        if n_pos == 0 || n_pos == texts.len() {
            return Err(Error::NotEnoughData(
                "training needs both positive and negative texts".into(),
            ));
        }
        let vader = match (self.use_vader, vader) {
            (true, None) => {
                return Err(Error::InvalidParameter {
                    name: "use_vader",
                    value: "true".into(),
                    reason: "no VADER lexicon given".into(),
                })
            }
            (true, Some(v)) => Some(v),
            (false, _) => None,
        };
        // 1. per-document sorted (key, term count) lists and document frequencies
        let mut docs: Vec<Vec<(u64, u32)>> = Vec::with_capacity(texts.len());
        let mut df: FxHashMap<u64, u32> = FxHashMap::default();
        let mut keys = Vec::new();
        for t in texts {
            keys.clear();
            for_each_feature(self.lang, t, &self.features, |k| keys.push(k));
            let mut doc: Vec<(u64, u32)> = Vec::new();
            for_each_count(&mut keys, |k, tf| doc.push((k, tf)));
            for &(k, _) in &doc {
                *df.entry(k).or_insert(0) += 1;
            }
            docs.push(doc);
        }
        let n_docs = texts.len() as u64;
        // 2. vocabulary: keys seen in ≥ min_count documents, ids in key order (deterministic)
        let mut vocab: Vec<u64> = df
            .iter()
            .filter(|&(_, &c)| c >= self.min_count)
            .map(|(&k, _)| k)
            .collect();
        vocab.sort_unstable();
        let id_of: FxHashMap<u64, u32> = vocab
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect();
        // idf rounded to f32 as stored in the model file, so training sees the inputs that
        // scoring will compute
        let df_of: Vec<u32> = vocab.iter().map(|k| df[k]).collect();
        let idf_of: Vec<f32> = df_of.iter().map(|&d| idf(n_docs, d) as f32).collect();
        let rows: Vec<Vec<(u32, f32)>> = docs
            .iter()
            .map(|d| {
                let mut row: Vec<(u32, f64)> = d
                    .iter()
                    .filter_map(|&(k, tf)| {
                        id_of
                            .get(&k)
                            .map(|&id| (id, sublinear_tf(tf) * idf_of[id as usize] as f64))
                    })
                    .collect();
                let norm = row.iter().map(|&(_, x)| x * x).sum::<f64>().sqrt();
                if norm > 0.0 {
                    for (_, x) in &mut row {
                        *x /= norm;
                    }
                }
                row.into_iter().map(|(id, x)| (id, x as f32)).collect()
            })
            .collect();
        drop(docs);
        let dense: Vec<f64> = match vader {
            Some(v) => texts.iter().map(|t| v.compound(t)).collect(),
            None => vec![0.0; texts.len()],
        };
        let fit = fit_logistic_sgd(
            &rows,
            &dense,
            positive,
            vocab.len(),
            self.l2,
            self.learning_rate,
            self.epochs,
            self.seed,
        );
        let weights = vocab
            .iter()
            .zip(df_of.iter().zip(&idf_of).zip(&fit.weights))
            .filter(|(_, (_, w))| w.abs() >= self.prune_below)
            .map(|(&k, ((&df, &idf), &w))| {
                (
                    k,
                    Entry {
                        df,
                        idf,
                        weight: w as f32,
                    },
                )
            })
            .collect();
        Ok(TextModel {
            params: self.clone(),
            bias: fit.bias,
            vader_weight: if vader.is_some() {
                fit.dense_weight
            } else {
                0.0
            },
            weights,
            n_docs,
            training: TrainingInfo {
                n_train_positive: n_pos,
                n_train_negative: texts.len() - n_pos,
                ..TrainingInfo::default()
            },
        })
    }
}

/// Coefficients of a fitted logistic regression.
#[derive(Debug, Clone)]
pub(crate) struct LogisticFit {
    pub bias: f64,
    pub dense_weight: f64,
    pub weights: Vec<f64>,
}

/// L2-regularised logistic regression by SGD (Bottou's scaled-weight trick, so the penalty
/// costs O(1) per step): sparse rows, one dense column, unpenalised bias. Single-threaded and
/// seeded, hence deterministic.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_logistic_sgd(
    rows: &[Vec<(u32, f32)>],
    dense: &[f64],
    y: &[bool],
    n_features: usize,
    l2: f64,
    lr0: f64,
    epochs: usize,
    seed: u64,
) -> LogisticFit {
    let mut v = vec![0.0f64; n_features];
    let mut scale = 1.0f64;
    let mut bias = 0.0f64;
    let mut wd = 0.0f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut t = 0u64;
    for _ in 0..epochs {
        order.shuffle(&mut rng);
        for &i in &order {
            let lr = lr0 / (1.0 + lr0 * l2 * t as f64);
            t += 1;
            let row = &rows[i];
            let mut z = bias + wd * dense[i];
            let mut s = 0.0;
            for &(j, x) in row {
                s += v[j as usize] * x as f64;
            }
            z += scale * s;
            let p = 1.0 / (1.0 + (-z).exp());
            let g = p - if y[i] { 1.0 } else { 0.0 };
            scale *= 1.0 - lr * l2;
            let step = lr * g / scale;
            for &(j, x) in row {
                v[j as usize] -= step * x as f64;
            }
            wd -= lr * (g * dense[i] + l2 * wd);
            bias -= lr * g;
            if scale < 1e-9 {
                for w in &mut v {
                    *w *= scale;
                }
                scale = 1.0;
            }
        }
    }
    LogisticFit {
        bias,
        dense_weight: wd,
        weights: v.into_iter().map(|w| w * scale).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_recovers_known_coefficients() {
        // simulate y ~ Bernoulli(σ(b + w·x + wd·d)) with known b, w, wd
        use rand::Rng;
        let (b, w, wd) = (-0.5f64, [1.5f64, -2.0, 0.0], 0.8f64);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 40_000;
        let mut rows = Vec::with_capacity(n);
        let mut dense = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let x: [f64; 3] = [
                rng.gen_range(-1.0..1.0),
                rng.gen_range(-1.0..1.0),
                rng.gen(),
            ];
            let d: f64 = rng.gen_range(-1.0..1.0);
            let z = b + w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + wd * d;
            let p = 1.0 / (1.0 + (-z).exp());
            y.push(rng.gen::<f64>() < p);
            rows.push(vec![(0, x[0] as f32), (1, x[1] as f32), (2, x[2] as f32)]);
            dense.push(d);
        }
        let fit = fit_logistic_sgd(&rows, &dense, &y, 3, 0.0, 0.0005, 30, 1);
        let sgd = [
            fit.bias,
            fit.weights[0],
            fit.weights[1],
            fit.weights[2],
            fit.dense_weight,
        ];
        // independent truth 1: the exact maximum-likelihood fit by Newton's method
        let design: Vec<[f64; 5]> = rows
            .iter()
            .zip(&dense)
            .map(|(r, &d)| [1.0, r[0].1 as f64, r[1].1 as f64, r[2].1 as f64, d])
            .collect();
        let mle = newton_logistic(&design, &y);
        for k in 0..5 {
            assert!(
                (sgd[k] - mle[k]).abs() < 0.03,
                "coef {k}: sgd {} mle {}",
                sgd[k],
                mle[k]
            );
        }
        // independent truth 2: the generating coefficients (MLE sd ≈ 0.02–0.03 at n = 40k)
        let truth = [b, w[0], w[1], w[2], wd];
        for k in 0..5 {
            assert!(
                (mle[k] - truth[k]).abs() < 0.12,
                "coef {k}: mle {} truth {}",
                mle[k],
                truth[k]
            );
        }
    }

    /// Unpenalised logistic regression by Newton's method with a dense 5×5 solve.
    #[allow(clippy::needless_range_loop)]
    fn newton_logistic(x: &[[f64; 5]], y: &[bool]) -> [f64; 5] {
        let mut beta = [0.0f64; 5];
        for _ in 0..25 {
            let mut g = [0.0f64; 5];
            let mut h = [[0.0f64; 5]; 5];
            for (row, &yi) in x.iter().zip(y) {
                let z: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
                let p = 1.0 / (1.0 + (-z).exp());
                let r = (if yi { 1.0 } else { 0.0 }) - p;
                for i in 0..5 {
                    g[i] += r * row[i];
                    for j in 0..5 {
                        h[i][j] += p * (1.0 - p) * row[i] * row[j];
                    }
                }
            }
            // solve h · step = g by Gaussian elimination with partial pivoting
            let mut a = h;
            let mut rhs = g;
            for c in 0..5 {
                let piv = (c..5)
                    .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
                    .unwrap();
                a.swap(c, piv);
                rhs.swap(c, piv);
                for r in c + 1..5 {
                    let f = a[r][c] / a[c][c];
                    for k in c..5 {
                        a[r][k] -= f * a[c][k];
                    }
                    rhs[r] -= f * rhs[c];
                }
            }
            let mut step = [0.0f64; 5];
            for c in (0..5).rev() {
                let s: f64 = (c + 1..5).map(|k| a[c][k] * step[k]).sum();
                step[c] = (rhs[c] - s) / a[c][c];
            }
            for k in 0..5 {
                beta[k] += step[k];
            }
        }
        beta
    }

    fn toy() -> (Vec<&'static str>, Vec<bool>) {
        let pos = [
            "质量很好",
            "很好用，喜欢",
            "物流快，好评",
            "非常满意",
            "好评，下次还买",
        ];
        let neg = [
            "质量太差",
            "不好用，差评",
            "物流慢，失望",
            "很失望，退货",
            "差评，不满意",
        ];
        let mut t: Vec<&str> = pos.to_vec();
        t.extend(neg);
        let mut y = vec![true; 5];
        y.extend(vec![false; 5]);
        (t, y)
    }

    #[test]
    fn fits_toy_chinese_and_round_trips_through_json() {
        let (t, y) = toy();
        let m = TextModel::params(Lang::Zh)
            .min_count(1)
            .epochs(50)
            .fit(&t, &y, None)
            .unwrap();
        assert!(m.score("很好，好评", None) > 0.0);
        assert!(m.score("差评，失望", None) < 0.0);
        // no known n-gram → exactly 0
        assert_eq!(m.score("😀", None), 0.0);
        let json = m.to_json().unwrap();
        let back = TextModel::from_json(&json, Path::new("x.json")).unwrap();
        assert_eq!(back.to_json().unwrap(), json);
        let probe = ["很好", "太差了", "不满意"];
        let batch = back.predict(&probe, None);
        for (s, b) in probe.iter().zip(&batch) {
            assert_eq!(*b, m.score(s, None));
        }
        // same seed → same bytes
        let again = TextModel::params(Lang::Zh)
            .min_count(1)
            .epochs(50)
            .fit(&t, &y, None)
            .unwrap();
        assert_eq!(again.to_json().unwrap(), json);
    }

    #[test]
    fn check_names_the_bad_parameter() {
        let e = TextModel::params(Lang::Zh).l2(-1.0).check().unwrap_err();
        assert!(e.to_string().contains("`l2`"), "{e}");
        let e = TextModel::params(Lang::Zh)
            .use_vader(true)
            .check()
            .unwrap_err();
        assert!(e.to_string().contains("use_vader"), "{e}");
        let e = TextModel::params(Lang::En).epochs(0).check().unwrap_err();
        assert!(e.to_string().contains("epochs"), "{e}");
    }

    /// Key of the single feature `text` produces under `cfg` (one character, unigrams only).
    fn key_of(text: &str, cfg: &FeatureConfig) -> u64 {
        let mut k = Vec::new();
        zh_features(text, cfg, |x| k.push(x));
        assert_eq!(k.len(), 1);
        k[0]
    }

    #[test]
    fn tf_idf_logit_matches_a_hand_computed_example() {
        // vocabulary from 3 training documents: 好 in 1 of them (w = 2), 差 in all 3 (w = -1)
        let cfg = FeatureConfig {
            max_ngram: 1,
            negation_scope: 0,
        };
        let params = TextModelParams {
            features: cfg,
            ..TextModel::params(Lang::Zh)
        };
        let file = ModelFile {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            crate_version: "x".into(),
            algorithm: "x".into(),
            params,
            bias: 0.1,
            vader_weight: 0.0,
            training: TrainingInfo::default(),
            n_docs: 3,
            weights: vec![(key_of("好", &cfg), 1, 2.0), (key_of("差", &cfg), 3, -1.0)],
        };
        let json = serde_json::to_string(&file).unwrap();
        let m = TextModel::from_json(&json, Path::new("hand.json")).unwrap();
        // "好好差": x_好 = (1 + ln 2)·(ln(4/2) + 1) = 2.866747, x_差 = 1·(ln(4/4) + 1) = 1,
        // |x| = 3.036156, logit = 0.1 + (2·2.866747 − 1) / 3.036156 = 1.659042
        let e = m.evidence("好好差", None);
        assert!((e.logit - 1.659042).abs() < 1e-5, "{e:?}");
        assert_eq!((e.n_features, e.n_known), (3, 2));
        // an unknown character changes neither the vector nor its length
        let e2 = m.evidence("好好差猫", None);
        assert!((e2.logit - e.logit).abs() < 1e-12);
        assert_eq!(e2.n_known, 2);
        // only 差: unit vector → logit = 0.1 − 1
        assert!((m.evidence("差", None).logit + 0.9).abs() < 1e-6);
        // nothing known → bias only and score exactly 0
        assert_eq!(m.evidence("猫", None).logit, 0.1);
        assert_eq!(m.score("猫", None), 0.0);
        // the file round-trips with its document frequencies
        assert_eq!(
            m.to_json().unwrap().trim_end(),
            serde_json::to_string(&ModelFile {
                crate_version: env!("CARGO_PKG_VERSION").into(),
                algorithm: "logistic_regression_sgd_tfidf".into(),
                weights: {
                    let mut w = file.weights.clone();
                    w.sort_unstable_by_key(|&(k, _, _)| k);
                    w
                },
                ..file
            })
            .unwrap()
        );
    }

    #[test]
    fn version_1_files_get_a_retrain_message() {
        let v1 = r#"{"format":"ltv-sentiment-text-model","format_version":1,"weights":[[1,0.5]]}"#;
        let e = TextModel::from_json(v1, Path::new("old.json"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("format version 1") && e.contains("retrain"),
            "{e}"
        );
        let other = r#"{"format":"something-else","format_version":2}"#;
        let e = TextModel::from_json(other, Path::new("o.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("something-else"), "{e}");
    }

    #[test]
    fn rejects_bad_model_files() {
        let p = Path::new("m.json");
        assert!(TextModel::from_json("{}", p).is_err());
        let (t, y) = toy();
        let m = TextModel::params(Lang::Zh)
            .min_count(1)
            .fit(&t, &y, None)
            .unwrap();
        let json = m.to_json().unwrap().replace(
            &format!("\"format_version\":{FORMAT_VERSION}"),
            "\"format_version\":999",
        );
        let e = TextModel::from_json(&json, p).unwrap_err();
        assert!(e.to_string().contains("999"), "{e}");
    }
}
