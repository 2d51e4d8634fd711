//! `ltv sentiment …`: score texts or a comments file, train and evaluate the text models.
use anyhow::Context;
use ltv::sentiment::corpus::{self, LabelledText, Split};
use ltv::sentiment::model::TextModel;
use ltv::sentiment::vader::Vader;
use ltv::sentiment::{comments, Lang, SentimentScorer, DEFAULT_NEUTRAL_BAND};
use std::path::{Path, PathBuf};

/// The `ltv sentiment` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Score texts or a comments.csv file: a score in [-1, 1] and a label.
    #[command(long_about = SCORE_HELP)]
    Score(Box<ScoreArgs>),
    /// Train a text model on labelled texts (train part of a fixed hashed split).
    #[command(long_about = TRAIN_HELP)]
    Train(Box<TrainArgs>),
    /// Report held-out accuracy, macro-F1 and AUC of a model.
    #[command(long_about = EVALUATE_HELP)]
    Evaluate(Box<EvaluateArgs>),
}

const SCORE_HELP: &str = "\
Score texts or a comments.csv file: a score in [-1, 1] and a label positive | neutral | negative.

The score is 2·P(positive) − 1 from the language's model; |score| <= --neutral-band is neutral.
Language per text: any Han character → zh, else letters/digits → en, else `unknown` (score 0).
The shipped models are built into the binary; --model replaces the one of its language.

Examples:
  ltv sentiment score --text \"质量很好，物流也快，下次还买\"
  ltv sentiment score --text \"Stale and overpriced.\" --text \"Love it!\"
  ltv sentiment score --comments comments.csv -o comment_scores.csv --neutral-band 0.3

comments.csv needs the columns customer_id, created_at, text (others are ignored). The output
has customer_id, created_at, lang, score, label, one row per input row in input order, and is
written atomically. Invalid UTF-8 is decoded lossily and counted. Memory: one chunk of 16k rows.";

const TRAIN_HELP: &str = "\
Train a logistic-regression text model (character n-grams for zh, word n-grams + VADER for en).

Only the train part of a fixed hashed split is used; the held-out part's accuracy, macro-F1 and
AUC are stored in the model file. Same inputs and flags ⇒ the same output bytes.

Examples:
  ltv sentiment train --pos zh_pos.txt --neg zh_neg.txt --lang zh -o models/sentiment-zh.json
  ltv sentiment train --csv fine_foods.csv --text-column review --label-column score \\
      --positive-label great --lang en -o models/sentiment-en.json";

const EVALUATE_HELP: &str = "\
Report accuracy, macro-F1 and AUC of a model on labelled texts.

By default only the held-out part is scored, using the split stored in the model file (so the
numbers are honest for the data the model was trained on); --all scores every text.

Examples:
  ltv sentiment evaluate --model models/sentiment-zh.json --pos zh_pos.txt --neg zh_neg.txt
  ltv sentiment evaluate --model models/sentiment-en.json --csv fine_foods.csv \\
      --text-column review --label-column score --positive-label great";

/// Arguments of `ltv sentiment score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// A text to score (repeatable); prints `label<TAB>score<TAB>lang<TAB>text` per text.
    #[arg(long, value_name = "TEXT", required_unless_present = "comments")]
    text: Vec<String>,
    /// A comments CSV (customer_id, created_at, text[, rating]).
    #[arg(long, value_name = "CSV", conflicts_with = "text")]
    comments: Option<PathBuf>,
    /// Output CSV for --comments (atomically); `-` or absent writes to stdout.
    #[arg(long, short, value_name = "CSV")]
    output: Option<PathBuf>,
    /// Half-width of the neutral band around 0.
    #[arg(long, default_value_t = DEFAULT_NEUTRAL_BAND, value_name = "B")]
    neutral_band: f64,
    /// Score every text as this language instead of detecting it (zh or en).
    #[arg(long, value_name = "LANG")]
    lang: Option<Lang>,
    /// A model file to use instead of the built-in one of its language (repeatable).
    #[arg(long, value_name = "JSON")]
    model: Vec<PathBuf>,
}

/// Where labelled texts come from.
#[derive(Debug, clap::Args)]
pub struct CorpusArgs {
    /// Positive texts, one per line.
    #[arg(
        long,
        value_name = "TXT",
        requires = "neg",
        required_unless_present = "csv"
    )]
    pos: Option<PathBuf>,
    /// Negative texts, one per line.
    #[arg(long, value_name = "TXT", requires = "pos")]
    neg: Option<PathBuf>,
    /// A labelled CSV instead of --pos/--neg.
    #[arg(long, value_name = "CSV", conflicts_with_all = ["pos", "neg"])]
    csv: Option<PathBuf>,
    /// Text column of --csv.
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_column: String,
    /// Label column of --csv.
    #[arg(long, default_value = "label", value_name = "NAME")]
    label_column: String,
    /// Label value that marks a positive row in --csv (everything else is negative).
    #[arg(long, default_value = "positive", value_name = "VALUE")]
    positive_label: String,
}

impl CorpusArgs {
    /// The files the corpus is read from.
    fn paths(&self) -> Vec<&Path> {
        [&self.pos, &self.neg, &self.csv]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
            .collect()
    }

    fn read(&self) -> anyhow::Result<Vec<LabelledText>> {
        let c = match (&self.csv, &self.pos, &self.neg) {
            (Some(csv), _, _) => corpus::read_labelled_csv(
                csv,
                &self.text_column,
                &self.label_column,
                &self.positive_label,
            )?,
            (None, Some(p), Some(n)) => corpus::read_line_files(p, n)?,
            _ => anyhow::bail!("give --pos and --neg, or --csv"),
        };
        Ok(c)
    }
}

/// Arguments of `ltv sentiment train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Language of the texts (zh or en).
    #[arg(long, value_name = "LANG")]
    lang: Lang,
    /// Model file to write.
    #[arg(long, short, value_name = "JSON")]
    output: PathBuf,
    /// Share of texts held out for evaluation.
    #[arg(long, default_value_t = 0.2, value_name = "F")]
    holdout: f64,
    /// Seed of the hashed split.
    #[arg(long, default_value_t = 42, value_name = "N")]
    split_seed: u64,
    /// Passes over the training data.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// L2 penalty per example.
    #[arg(long, default_value_t = 1e-5)]
    l2: f64,
    /// Initial SGD step size.
    #[arg(long, default_value_t = 0.2)]
    learning_rate: f64,
    /// Minimum number of documents an n-gram must occur in.
    #[arg(long, default_value_t = 2)]
    min_count: u32,
    /// Characters after a Chinese negator in its scope (0: no negation marking).
    #[arg(long, default_value_t = 3)]
    negation_scope: u32,
    /// Longest n-gram: 1, 2 or 3 [default: 3 for zh (characters), 2 for en (words)].
    #[arg(long, value_name = "N")]
    max_ngram: Option<u32>,
    /// English: do not use VADER's score as an input.
    #[arg(long)]
    no_vader: bool,
    /// Seed of the SGD example order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Arguments of `ltv sentiment evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// The model file (default: the built-in model of --lang).
    #[arg(long, value_name = "JSON", required_unless_present = "lang")]
    model: Option<PathBuf>,
    /// Evaluate the built-in model of this language.
    #[arg(long, value_name = "LANG")]
    lang: Option<Lang>,
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Score every text, not only the held-out part.
    #[arg(long)]
    all: bool,
}

/// Runs an `ltv sentiment` subcommand.
pub fn run(cmd: Command, quiet: bool) -> anyhow::Result<()> {
    match cmd {
        Command::Score(a) => score(*a, quiet),
        Command::Train(a) => train(*a, quiet),
        Command::Evaluate(a) => evaluate(*a),
    }
}

fn load(path: &Path) -> anyhow::Result<TextModel> {
    TextModel::load(path).with_context(|| format!("cannot load model `{}`", path.display()))
}

fn score(a: ScoreArgs, quiet: bool) -> anyhow::Result<()> {
    let mut scorer = SentimentScorer::embedded()?
        .with_neutral_band(a.neutral_band)?
        .with_forced_lang(a.lang);
    for m in &a.model {
        scorer = scorer.with_model(load(m)?);
    }
    if let Some(input) = &a.comments {
        let output = a.output.as_deref();
        if let Some(o) = output {
            ltv::io_util::ensure_not_input(o, &[input.as_path()])?;
        }
        let r = comments::score_comments_csv(input, output, &scorer)?;
        if !quiet {
            eprintln!(
                "scored {} comments into `{}` ({} with invalid UTF-8 decoded lossily, {} with no readable text)",
                r.rows,
                output.map_or("<stdout>".into(), |p| p.display().to_string()),
                r.invalid_utf8_rows,
                r.unknown_lang_rows
            );
        }
        return Ok(());
    }
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (t, s) in a.text.iter().zip(scorer.score_batch(&a.text)) {
        writeln!(
            out,
            "{}\t{:.4}\t{}\t{}",
            s.label.as_str(),
            s.score,
            s.lang.as_str(),
            t
        )?;
    }
    Ok(())
}

fn train(a: TrainArgs, quiet: bool) -> anyhow::Result<()> {
    ltv::io_util::ensure_not_input(&a.output, &a.corpus.paths())?;
    let corpus = a.corpus.read()?;
    let mut params = TextModel::params(a.lang)
        .epochs(a.epochs)
        .l2(a.l2)
        .learning_rate(a.learning_rate)
        .min_count(a.min_count)
        .negation_scope(a.negation_scope);
    if let Some(n) = a.max_ngram {
        params = params.max_ngram(n);
    }
    let params = params
        .use_vader(a.lang == Lang::En && !a.no_vader)
        .seed(a.seed);
    let vader = Vader::embedded();
    let split = Split {
        seed: a.split_seed,
        holdout_fraction: a.holdout,
    };
    let model = corpus::train(&params, &corpus, split, Some(&vader))?;
    model.save(&a.output)?;
    if !quiet {
        let t = &model.training;
        eprintln!(
            "trained on {} positive + {} negative texts; {} weights; wrote `{}`",
            t.n_train_positive,
            t.n_train_negative,
            model.n_weights(),
            a.output.display()
        );
        if let Some(m) = t.holdout_metrics {
            eprintln!(
                "held out {}: accuracy {:.4}, macro-F1 {:.4}, AUC {:.4}",
                m.n, m.accuracy, m.macro_f1, m.auc
            );
        }
    }
    Ok(())
}

fn evaluate(a: EvaluateArgs) -> anyhow::Result<()> {
    let model = match (&a.model, a.lang) {
        (Some(p), _) => load(p)?,
        (None, Some(l)) => SentimentScorer::embedded()?.model(l).clone(),
        (None, None) => anyhow::bail!("give --model or --lang"),
    };
    let corpus = a.corpus.read()?;
    let split =
        if a.all {
            None
        } else {
            Some(model.training.split.context(
                "the model records no held-out split\nhint: pass --all to score every text",
            )?)
        };
    let vader = Vader::embedded();
    let m =
        corpus::evaluate(&model, &corpus, split, Some(&vader)).context("no texts to evaluate")?;
    println!("part\tn\taccuracy\tmacro_f1\tauc");
    println!(
        "{}\t{}\t{:.4}\t{:.4}\t{:.4}",
        if a.all { "all" } else { "holdout" },
        m.n,
        m.accuracy,
        m.macro_f1,
        m.auc
    );
    Ok(())
}
