//! VADER: lexicon- and rule-based English sentiment (Hutto & Gilbert 2014).
//!
//! A port of the `compound` score of the Python package `vaderSentiment` 3.3.2 (MIT; lexicon
//! shipped as `models/vader_lexicon.txt` with its licence): lexicon valences, negation (`not`,
//! `…n't`, …: × −0.74), boosters and dampeners (± 0.293, decaying with distance), `but` (before
//! × 0.5, after × 1.5), ALL-CAPS emphasis (± 0.733 when only some words are capitalised), `least`,
//! `!` (+0.292 each, at most 4) and `?` emphasis, and the normalisation `x / sqrt(x² + 15)`.
//! Not ported: the emoji-description lexicon.
use rustc_hash::FxHashMap;

/// The lexicon shipped with the crate.
pub const EMBEDDED_LEXICON: &str = include_str!("../../models/vader_lexicon.txt");

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

/// VADER's negation words.
const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// VADER's boosters (positive) and dampeners (negative).
fn booster(word: &str) -> Option<f64> {
    Some(match word {
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerable" | "considerably"
        | "decidedly" | "deeply" | "effing" | "enormous" | "enormously" | "entirely"
        | "especially" | "exceptional" | "exceptionally" | "extreme" | "extremely"
        | "fabulously" | "flipping" | "flippin" | "frackin" | "fracking" | "fricking"
        | "frickin" | "frigging" | "friggin" | "fully" | "fuckin" | "fucking" | "fuggin"
        | "fugging" | "greatly" | "hella" | "highly" | "hugely" | "incredible" | "incredibly"
        | "intensely" | "major" | "majorly" | "more" | "most" | "particularly" | "purely"
        | "quite" | "really" | "remarkably" | "so" | "substantially" | "thoroughly" | "total"
        | "totally" | "tremendous" | "tremendously" | "uber" | "unbelievably" | "unusually"
        | "utter" | "utterly" | "very" => B_INCR,
        "almost" | "barely" | "hardly" | "just enough" | "kind of" | "kinda" | "kindof"
        | "kind-of" | "less" | "little" | "marginal" | "marginally" | "occasional"
        | "occasionally" | "partly" | "scarce" | "scarcely" | "slight" | "slightly"
        | "somewhat" | "sort of" | "sorta" | "sortof" | "sort-of" => B_DECR,
        _ => return None,
    })
}

fn is_negated(lower: &str) -> bool {
    NEGATE.contains(&lower) || lower.contains("n't")
}

/// Python's `str.isupper()`: at least one cased character and no lower-case one.
fn is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// `string.punctuation.strip` on both ends; tokens that would shrink to ≤ 2 characters are kept
/// whole (so emoticons such as `:)` survive).
fn strip_punc_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    if stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

/// The VADER lexicon: lower-case token → mean valence in [-4, 4].
#[derive(Debug, Clone)]
pub struct Vader {
    lexicon: FxHashMap<Box<str>, f64>,
}

/// One token with everything the rules look at, computed once.
struct Tok<'a> {
    /// Lower-cased token.
    lower: &'a str,
    upper: bool,
    valence: Option<f64>,
}

impl Vader {
    /// Parses a lexicon in VADER's format: `token<TAB>mean<TAB>…` per line; later duplicates win
    /// (as in Python's dict). Lines that do not parse are skipped; returns how many were skipped.
    pub fn from_lexicon(text: &str) -> (Self, usize) {
        let mut lexicon = FxHashMap::default();
        let mut skipped = 0;
        for line in text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split('\t');
            match (parts.next(), parts.next().map(str::parse::<f64>)) {
                (Some(tok), Some(Ok(v))) if !tok.is_empty() => {
                    lexicon.insert(tok.to_lowercase().into_boxed_str(), v);
                }
                _ => skipped += 1,
            }
        }
        (Vader { lexicon }, skipped)
    }

    /// The lexicon shipped with the crate.
    pub fn embedded() -> Self {
        Self::from_lexicon(EMBEDDED_LEXICON).0
    }

    /// Number of lexicon entries.
    pub fn len(&self) -> usize {
        self.lexicon.len()
    }

    /// Whether the lexicon is empty.
    pub fn is_empty(&self) -> bool {
        self.lexicon.is_empty()
    }

    /// VADER's compound score in [-1, 1] (0 when no token carries sentiment).
    pub fn compound(&self, text: &str) -> f64 {
        // lower-case copy once; token slices index into it
        let raw: Vec<&str> = text.split_whitespace().map(strip_punc_if_word).collect();
        if raw.is_empty() {
            return 0.0;
        }
        let lowers: Vec<String> = raw.iter().map(|t| t.to_lowercase()).collect();
        let toks: Vec<Tok<'_>> = raw
            .iter()
            .zip(&lowers)
            .map(|(r, l)| Tok {
                lower: l.as_str(),
                upper: is_upper(r),
                valence: self.lexicon.get(l.as_str()).copied(),
            })
            .collect();
        let n_upper = toks.iter().filter(|t| t.upper).count();
        let is_cap_diff = n_upper > 0 && n_upper < toks.len();

        let mut sentiments = Vec::with_capacity(toks.len());
        for i in 0..toks.len() {
            let t = &toks[i];
            if booster(t.lower).is_some()
                || (t.lower == "kind" && toks.get(i + 1).is_some_and(|n| n.lower == "of"))
            {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(self.valence(&toks, i, is_cap_diff));
        }
        // "but": dampen what comes before, emphasise what comes after
        if let Some(bi) = toks.iter().position(|t| t.lower == "but") {
            for (si, s) in sentiments.iter_mut().enumerate() {
                if si < bi {
                    *s *= 0.5;
                } else if si > bi {
                    *s *= 1.5;
                }
            }
        }
        let mut sum: f64 = sentiments.iter().sum();
        if sum == 0.0 {
            return 0.0;
        }
        let ep = text.bytes().filter(|&b| b == b'!').count().min(4) as f64 * 0.292;
        let qm_count = text.bytes().filter(|&b| b == b'?').count();
        let qm = if qm_count > 3 {
            0.96
        } else if qm_count > 1 {
            qm_count as f64 * 0.18
        } else {
            0.0
        };
        if sum > 0.0 {
            sum += ep + qm;
        } else {
            sum -= ep + qm;
        }
        normalize(sum)
    }

    fn in_lex(&self, t: &Tok<'_>) -> bool {
        t.valence.is_some()
    }

    /// `sentiment_valence` of vaderSentiment for token `i`.
    fn valence(&self, toks: &[Tok<'_>], i: usize, is_cap_diff: bool) -> f64 {
        let t = &toks[i];
        let Some(base) = t.valence else {
            return 0.0;
        };
        let mut valence = base;
        let low = |k: usize| toks[k].lower;
        // "no" as a determiner before another lexicon word carries no sentiment of its own
        if t.lower == "no" && i + 1 < toks.len() && self.in_lex(&toks[i + 1]) {
            valence = 0.0;
        }
        if (i > 0 && low(i - 1) == "no")
            || (i > 1 && low(i - 2) == "no")
            || (i > 2 && low(i - 3) == "no" && matches!(low(i - 1), "or" | "nor"))
        {
            valence = base * N_SCALAR;
        }
        if t.upper && is_cap_diff {
            if valence > 0.0 {
                valence += C_INCR;
            } else {
                valence -= C_INCR;
            }
        }
        for start_i in 0..3 {
            if i > start_i && !self.in_lex(&toks[i - (start_i + 1)]) {
                let prev = &toks[i - (start_i + 1)];
                let mut s = scalar_inc_dec(prev, valence, is_cap_diff);
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = negation_check(valence, toks, start_i, i);
                if start_i == 2 {
                    valence = special_idioms_check(valence, toks, i);
                }
            }
        }
        // "least"
        if i > 1 && !self.in_lex(&toks[i - 1]) && low(i - 1) == "least" {
            if low(i - 2) != "at" && low(i - 2) != "very" {
                valence *= N_SCALAR;
            }
        } else if i > 0 && !self.in_lex(&toks[i - 1]) && low(i - 1) == "least" {
            valence *= N_SCALAR;
        }
        valence
    }
}

/// VADER's multi-word special cases.
fn special_case(seq: &str) -> Option<f64> {
    Some(match seq {
        "the shit" | "the bomb" | "to die for" => 3.0,
        "bad ass" | "badass" => 1.5,
        "bus stop" => 0.0,
        "yeah right" => -2.0,
        "kiss of death" => -1.5,
        "beating heart" => 3.1,
        "broken heart" => -2.9,
        _ => return None,
    })
}

/// `_special_idioms_check` of vaderSentiment (called with i ≥ 3).
fn special_idioms_check(mut valence: f64, toks: &[Tok<'_>], i: usize) -> f64 {
    let l = |k: usize| toks[k].lower;
    let onezero = format!("{} {}", l(i - 1), l(i));
    let twoonezero = format!("{} {} {}", l(i - 2), l(i - 1), l(i));
    let twoone = format!("{} {}", l(i - 2), l(i - 1));
    let threetwoone = format!("{} {} {}", l(i - 3), l(i - 2), l(i - 1));
    let threetwo = format!("{} {}", l(i - 3), l(i - 2));
    for seq in [&onezero, &twoonezero, &twoone, &threetwoone, &threetwo] {
        if let Some(v) = special_case(seq) {
            valence = v;
            break;
        }
    }
    if toks.len() - 1 > i {
        if let Some(v) = special_case(&format!("{} {}", l(i), l(i + 1))) {
            valence = v;
        }
    }
    if toks.len() - 1 > i + 1 {
        if let Some(v) = special_case(&format!("{} {} {}", l(i), l(i + 1), l(i + 2))) {
            valence = v;
        }
    }
    for n_gram in [&threetwoone, &threetwo, &twoone] {
        if let Some(b) = booster(n_gram) {
            valence += b;
        }
    }
    valence
}

fn scalar_inc_dec(prev: &Tok<'_>, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(mut scalar) = booster(prev.lower) else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar = -scalar;
    }
    if prev.upper && is_cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

fn negation_check(valence: f64, toks: &[Tok<'_>], start_i: usize, i: usize) -> f64 {
    let low = |k: usize| toks[k].lower;
    match start_i {
        0 => {
            if is_negated(low(i - 1)) {
                return valence * N_SCALAR;
            }
        }
        1 => {
            if low(i - 2) == "never" && matches!(low(i - 1), "so" | "this") {
                return valence * 1.25;
            } else if low(i - 2) == "without" && low(i - 1) == "doubt" {
                return valence;
            } else if is_negated(low(i - 2)) {
                return valence * N_SCALAR;
            }
        }
        _ => {
            // (sic) vaderSentiment 3.3.2 applies ×1.25 after "so"/"this" even without "never"
            if (low(i - 3) == "never" && matches!(low(i - 2), "so" | "this"))
                || matches!(low(i - 1), "so" | "this")
            {
                return valence * 1.25;
            } else if low(i - 3) == "without" && (low(i - 2) == "doubt" || low(i - 1) == "doubt") {
                return valence;
            } else if is_negated(low(i - 3)) {
                return valence * N_SCALAR;
            }
        }
    }
    valence
}

/// VADER's normalisation `x / sqrt(x² + 15)`, clamped to [-1, 1].
pub fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// Compound scores published in the vaderSentiment README (3.3.2), rounded to 4 places.
    #[test]
    fn matches_published_readme_examples() {
        let v = Vader::embedded();
        let cases = [
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is smart, handsome, and funny!", 0.8439),
            ("VADER is very smart, handsome, and funny.", 0.8545),
            ("VADER is VERY SMART, handsome, and FUNNY.", 0.9227),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            (
                "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
                0.9469,
            ),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("The book was good.", 0.4404),
            ("At least it isn't a horrible book.", 0.431),
            ("The book was only kind of good.", 0.3832),
            (
                "The plot was good, but the characters are uncompelling and the dialog is not great.",
                -0.7042,
            ),
            ("Today SUX!", -0.5461),
            ("Today only kinda sux! But I'll get by, lol", 0.5249),
            ("Make sure you :) or :D today!", 0.8633),
            ("Not bad at all", 0.431),
        ];
        for (text, want) in cases {
            assert_abs_diff_eq!(v.compound(text), want, epsilon = 6e-5);
        }
    }

    #[test]
    fn normalisation_closed_form() {
        // 1 / sqrt(1 + 15) = 0.25
        assert_abs_diff_eq!(normalize(1.0), 0.25, epsilon = 1e-12);
        assert_abs_diff_eq!(normalize(-1.0), -0.25, epsilon = 1e-12);
        assert!(normalize(1e6) <= 1.0);
    }

    #[test]
    fn odd_input_is_zero_not_a_panic() {
        let v = Vader::embedded();
        assert_eq!(v.compound(""), 0.0);
        assert_eq!(v.compound("   "), 0.0);
        assert_eq!(v.compound("🙂🙂"), 0.0);
        let long = "good ".repeat(20_000);
        let s = v.compound(&long);
        assert!(s > 0.99 && s <= 1.0);
    }

    #[test]
    fn lexicon_later_duplicate_wins_and_bad_lines_are_counted() {
        let (v, skipped) = Vader::from_lexicon("lol\t2.9\nlol\t1.8\nbroken line\n");
        assert_eq!(skipped, 1);
        assert_eq!(v.lexicon.get("lol"), Some(&1.8));
    }
}
