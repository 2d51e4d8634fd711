//! Comment features: what customers wrote at or before the cutoff, scored for sentiment
//! (`crate::sentiment`), folded per customer: counts, mean and last sentiment, negative share,
//! mean rating, days since the last comment.
use crate::data::reader::{FieldError, Fields};
use crate::data::time::SECONDS_PER_DAY;
use crate::features::accumulate::Frame;
use crate::sentiment::{Label, Lang, SentimentScorer};

/// A parsed comment: instant, sentiment score (`None` for text with no language, e.g. emoji
/// only), whether it is negative, rating 1–5.
#[derive(Debug, Clone, Copy)]
pub struct CommentRow {
    ts: i64,
    score: Option<f64>,
    negative: bool,
    /// Rating in hundredths (100–500).
    rating: Option<u16>,
}

/// Parses a comments.csv record (customer_id, created_at, text, rating?) and scores its text;
/// comments after the cutoff are validated, then dropped.
pub fn parse_comment(
    frame: &Frame,
    scorer: &SentimentScorer,
    f: &Fields<'_>,
) -> Result<Option<CommentRow>, FieldError> {
    let ts = f.instant(1, &frame.time)?;
    let rating = if f.is_blank(3) {
        None
    } else {
        // Kept exactly in hundredths (4.5 stays 4.5): 1 to 5 with at most two decimals.
        let units = f
            .amount(3)
            .ok()
            .filter(|u| (10_000..=50_000).contains(u) && u % 100 == 0)
            .ok_or(FieldError {
                column: 3,
                kind: "rating is not a number from 1 to 5 with at most two decimals",
            })?;
        Some((units / 100) as u16)
    };
    if ts >= frame.cutoff_end {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(f.get(2).unwrap_or(b""));
    let s = scorer.score(&text);
    let scored = s.lang != Lang::Unknown;
    Ok(Some(CommentRow {
        ts,
        score: scored.then_some(s.score),
        negative: scored && s.label == Label::Negative,
        rating,
    }))
}

/// The value of one unit of [`CommentAcc`]'s exact score sum.
const SCORE_UNIT: f64 = 1.0 / (1u64 << 60) as f64;

/// A score in [-1, 1] as a whole number of [`SCORE_UNIT`]s (rounded to the nearest; exact for
/// every score of magnitude 2⁻⁸ or more).
fn score_units(score: f64) -> i128 {
    (score / SCORE_UNIT).round() as i128
}

/// Per-customer comment accumulator.
#[derive(Debug, Clone, Default)]
pub struct CommentAcc {
    /// Comments at or before the cutoff.
    pub total: u32,
    /// Comments in the last 90 days.
    pub in_90d: u32,
    scored: u32,
    /// Sum of the scores in units of 2⁻⁶⁰: exact, so the mean does not depend on the order
    /// in which a customer's comments are folded.
    score_sum: i128,
    negative: u32,
    last: Option<(i64, Option<f64>)>,
    first_ts: Option<i64>,
    /// Sum of ratings in hundredths.
    rating_sum: u64,
    rating_n: u32,
}

impl CommentAcc {
    /// Folds in a comment (rows arrive in file order within a shard).
    pub fn add(&mut self, row: &CommentRow, frame: &Frame) {
        self.total += 1;
        if row.ts >= frame.cutoff_end - 90 * SECONDS_PER_DAY {
            self.in_90d += 1;
        }
        if let Some(s) = row.score {
            self.scored += 1;
            self.score_sum += score_units(s);
            self.negative += u32::from(row.negative);
        }
        // The latest comment; among comments at the same instant, the highest score (a
        // comment without a score lowest): the same for any order of the rows.
        let later = |(t, s): (i64, Option<f64>)| {
            row.ts > t
                || (row.ts == t
                    && match (row.score, s) {
                        (Some(new), Some(old)) => new.total_cmp(&old).is_gt(),
                        (Some(_), None) => true,
                        (None, _) => false,
                    })
        };
        if self.last.is_none_or(later) {
            self.last = Some((row.ts, row.score));
        }
        self.first_ts = Some(self.first_ts.map_or(row.ts, |f| f.min(row.ts)));
        if let Some(r) = row.rating {
            self.rating_sum += u64::from(r);
            self.rating_n += 1;
        }
    }

    /// The earliest comment instant.
    pub fn first_ts(&self) -> Option<i64> {
        self.first_ts
    }

    /// The customer's comment features.
    pub fn finish(&self, frame: &Frame) -> CommentFeatures {
        let cutoff_day = frame.time.day_of(frame.cutoff_end - 1);
        CommentFeatures {
            comments_total: self.total,
            comments_90d: self.in_90d,
            sentiment_mean: (self.scored > 0)
                .then(|| self.score_sum as f64 * SCORE_UNIT / f64::from(self.scored)),
            sentiment_last: self.last.and_then(|(_, s)| s),
            negative_share: (self.scored > 0)
                .then(|| f64::from(self.negative) / f64::from(self.scored)),
            rating_mean: (self.rating_n > 0)
                .then(|| self.rating_sum as f64 / 100.0 / f64::from(self.rating_n)),
            days_since_last_comment: self.last.map(|(t, _)| cutoff_day - frame.time.day_of(t)),
        }
    }
}

/// A customer's comment features (all empty / zero without comments).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CommentFeatures {
    /// Comments at or before the cutoff.
    pub comments_total: u32,
    /// Comments in `(T − 90 days, T]`.
    pub comments_90d: u32,
    /// Mean sentiment score in [-1, 1] of the scored comments.
    pub sentiment_mean: Option<f64>,
    /// Sentiment of the latest comment.
    pub sentiment_last: Option<f64>,
    /// Share of scored comments labelled negative.
    pub negative_share: Option<f64>,
    /// Mean rating (1–5) of the comments that carry one.
    pub rating_mean: Option<f64>,
    /// Calendar days since the latest comment.
    pub days_since_last_comment: Option<i64>,
}
