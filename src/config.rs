//! `ltv.toml`, the configuration of the monthly job, and the one place where settings resolve:
//! command-line flags > `LTV_*` environment variables > `ltv.toml` > defaults.
//!
//! Every table rejects unknown keys. Relative paths in the file resolve against the file's
//! directory; paths given as flags or environment variables resolve against the working
//! directory. The library does not read the environment: the caller passes a lookup function.
use crate::data::time::{parse_duration_days, parse_utc_offset};
use crate::data::{
    BadRowPolicy, ColumnMap, Delimiter, ReadOptions, Source, TimeFormat, TimeParser,
};
use crate::features::{Inputs, LifecycleThresholds};
use crate::models::value::{ModelKind, TrainSettings};
use crate::pipeline::ModelChoice;
use crate::tiers::TierRule;
use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[data]`: the input files and how to read them.
    pub data: DataSection,
    /// `[model]`.
    #[serde(default)]
    pub model: ModelSection,
    /// `[tiers]`.
    #[serde(default)]
    pub tiers: TiersSection,
    /// `[lifecycle]`.
    #[serde(default)]
    pub lifecycle: LifecycleSection,
    /// `[output]`.
    #[serde(default)]
    pub output: OutputSection,
}

/// `[data]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// orders.csv (required).
    pub orders: PathBuf,
    /// events.csv.
    pub events: Option<PathBuf>,
    /// comments.csv (adds the comment and sentiment features).
    pub comments: Option<PathBuf>,
    /// customers.csv.
    pub customers: Option<PathBuf>,
    /// Column map, `customer_id=user_id,ordered_at=pay_time`.
    pub map: Option<String>,
    /// chrono strftime format of timestamps that are not RFC 3339 / `YYYY-MM-DD`.
    pub time_format: Option<String>,
    /// Field delimiter (default `,`; `tab`, `whitespace`).
    pub delimiter: Option<String>,
    /// UTC offset of the shop's calendar (default `+00:00`).
    pub utc_offset: Option<String>,
    /// The files have no header row (default false).
    pub no_header: Option<bool>,
    /// `fail` (default) or `skip`.
    pub on_bad_rows: Option<String>,
}

/// `[model]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// `auto` (default) or one model name.
    pub name: Option<String>,
    /// Label horizon, `90d` (default) or `13w`.
    pub horizon: Option<String>,
    /// Cross-validation folds (default 5).
    pub folds: Option<usize>,
    /// Seed (default 42).
    pub seed: Option<u64>,
    /// How much lower (normalized Gini) the challenger may score than the champion on the same
    /// folds and still be promoted (default 0.01; negative = must be better by that much).
    pub gini_tolerance: Option<f64>,
    /// `tree`: maximum depth (default 6).
    pub max_depth: Option<usize>,
    /// `tree`, `boosting`: minimum customers per leaf (default 20).
    pub min_samples_leaf: Option<usize>,
    /// `boosting`, `hybrid`: maximum iterations (default 200).
    pub iterations: Option<usize>,
    /// `boosting`, `hybrid`: learning rate (default 0.05).
    pub learning_rate: Option<f64>,
}

/// `[tiers]`: shares (default 0.2 / 0.3) or fixed thresholds `a_min` / `b_min`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TiersSection {
    /// Share of customers in A.
    pub a_share: Option<f64>,
    /// Share of customers in B.
    pub b_share: Option<f64>,
    /// Fixed: lowest predicted value in A.
    pub a_min: Option<f64>,
    /// Fixed: lowest predicted value in B.
    pub b_min: Option<f64>,
    /// The tier history directory (default `<output dir>/tiers`).
    pub history: Option<PathBuf>,
}

/// `[lifecycle]` thresholds in days (defaults 30 / 30 / 90).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSection {
    /// `new` if the first purchase is fewer days old.
    pub new_within_days: Option<i64>,
    /// `silent` from this many idle days.
    pub silent_after_days: Option<i64>,
    /// `churned` beyond this many idle days.
    pub churned_after_days: Option<i64>,
}

/// `[output]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// The runs directory (default `runs`).
    pub dir: Option<PathBuf>,
    /// Also write each month's scores as `scores.parquet` (typed columns) beside
    /// `scores.csv` (default false).
    pub parquet: Option<bool>,
}

/// Settings given on the command line (highest precedence).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--output-dir`.
    pub output_dir: Option<PathBuf>,
    /// `--model`.
    pub model: Option<String>,
    /// `--horizon`.
    pub horizon: Option<String>,
}

/// The environment variables read (through the caller's lookup), in the order of [`Overrides`]
/// plus `LTV_FOLDS` and `LTV_SEED`.
pub const ENV_VARS: [&str; 5] = [
    "LTV_OUTPUT_DIR",
    "LTV_MODEL",
    "LTV_HORIZON",
    "LTV_FOLDS",
    "LTV_SEED",
];

/// Fully resolved settings of the monthly job.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file.
    pub path: PathBuf,
    /// orders.csv.
    pub orders: PathBuf,
    /// events.csv.
    pub events: Option<PathBuf>,
    /// comments.csv.
    pub comments: Option<PathBuf>,
    /// customers.csv.
    pub customers: Option<PathBuf>,
    /// How to read them.
    pub read: ReadOptions,
    /// Which model(s) to train.
    pub model: ModelChoice,
    /// Label horizon in days.
    pub horizon_days: i64,
    /// Hyper-parameters, folds, seed.
    pub settings: TrainSettings,
    /// Promotion tolerance in normalized Gini.
    pub gini_tolerance: f64,
    /// Run even when the month's label window ends after the data (`--allow-partial-window`).
    pub allow_partial_window: bool,
    /// Tier rule.
    pub tiers: TierRule,
    /// Tier history directory.
    pub tier_history: PathBuf,
    /// Lifecycle thresholds.
    pub lifecycle: LifecycleThresholds,
    /// The runs directory.
    pub output_dir: PathBuf,
    /// Whether each month's scores are also written as `scores.parquet`.
    pub scores_parquet: bool,
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

impl Config {
    /// Reads and resolves `path`. `env` looks up an environment variable (pass
    /// `|k| std::env::var(k).ok()`; tests pass a map).
    pub fn load(
        path: &Path,
        cli: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text, path, cli, env)
    }

    /// Resolves the text of a config file that lives at `path`.
    pub fn from_toml(
        text: &str,
        path: &Path,
        cli: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config> {
        let bad = |reason: String| Error::Config {
            path: path.to_path_buf(),
            reason,
        };
        let file: ConfigFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let cwd = PathBuf::from(".");
        let d = &file.data;
        if d.orders.as_os_str().is_empty() {
            return Err(bad("`data.orders` is required".into()));
        }
        // Without `data.utc_offset`, days count in the offset the orders' timestamps carry
        // (UTC when they carry none), as on the command line.
        let offset = match d.utc_offset.as_deref() {
            Some(offset_text) => parse_utc_offset(offset_text).ok_or_else(|| {
                bad(format!(
                    "`data.utc_offset` = `{offset_text}`: write it like `+08:00`"
                ))
            })?,
            None => crate::data::Source::sniff_utc_offset(&resolve(&base, &d.orders))
                .ok()
                .flatten()
                .unwrap_or(0),
        };
        let read = ReadOptions {
            delimiter: Delimiter::parse(d.delimiter.as_deref().unwrap_or(","))?,
            has_header: !d.no_header.unwrap_or(false),
            time: TimeParser::new(
                match &d.time_format {
                    Some(f) => TimeFormat::Custom(f.clone()),
                    None => TimeFormat::Rfc3339,
                },
                offset,
            ),
            on_bad_rows: match d.on_bad_rows.as_deref().unwrap_or("fail") {
                "fail" => BadRowPolicy::Fail,
                "skip" => BadRowPolicy::Skip,
                other => {
                    return Err(bad(format!(
                        "`data.on_bad_rows` = `{other}`: expected `fail` or `skip`"
                    )))
                }
            },
            columns: match &d.map {
                Some(m) => ColumnMap::parse(m)?,
                None => ColumnMap::default(),
            },
            ..ReadOptions::default()
        };
        // CLI > env > file > default.
        let pick =
            |flag: &Option<String>, var: &str, file: &Option<String>| -> Option<(String, String)> {
                if let Some(v) = flag {
                    return Some((v.clone(), "flag".into()));
                }
                if let Some(v) = env(var) {
                    return Some((v, format!("`{var}`")));
                }
                file.clone().map(|v| (v, "ltv.toml".into()))
            };
        let m = &file.model;
        let model_name = pick(&cli.model, "LTV_MODEL", &m.name)
            .map(|x| x.0)
            .unwrap_or_else(|| "auto".into());
        let model = if model_name == "auto" {
            ModelChoice::Auto
        } else {
            ModelChoice::One(ModelKind::parse(&model_name).ok_or_else(|| {
                bad(format!(
                    "model `{model_name}`: expected auto, linear, tweedie, tree, boosting, bgnbd or hybrid"
                ))
            })?)
        };
        let horizon = pick(&cli.horizon, "LTV_HORIZON", &m.horizon)
            .map(|x| x.0)
            .unwrap_or_else(|| "90d".into());
        let horizon_days = parse_duration_days(&horizon)
            .filter(|&h| h > 0)
            .ok_or_else(|| {
                bad(format!(
                    "horizon `{horizon}`: use days or weeks, e.g. `90d`"
                ))
            })?;
        let env_num = |var: &str| -> Result<Option<u64>> {
            env(var)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| bad(format!("`{var}` = `{v}`: not a whole number")))
                })
                .transpose()
        };
        let defaults = TrainSettings::default();
        let folds = match env_num("LTV_FOLDS")? {
            Some(f) => f as usize,
            None => m.folds.unwrap_or(defaults.folds),
        };
        if folds < 2 {
            return Err(bad(format!("`model.folds` = {folds}: need at least 2")));
        }
        let settings = TrainSettings {
            seed: env_num("LTV_SEED")?.or(m.seed).unwrap_or(defaults.seed),
            folds,
            tree_max_depth: m.max_depth.unwrap_or(defaults.tree_max_depth),
            min_samples_leaf: m.min_samples_leaf.unwrap_or(defaults.min_samples_leaf),
            boosting_iterations: m.iterations.unwrap_or(defaults.boosting_iterations),
            learning_rate: m.learning_rate.unwrap_or(defaults.learning_rate),
            ..defaults
        };
        let gini_tolerance = m.gini_tolerance.unwrap_or(0.01);
        if !gini_tolerance.is_finite() {
            return Err(bad("`model.gini_tolerance` must be a finite number".into()));
        }
        let t = &file.tiers;
        let tiers = match (t.a_min, t.b_min, t.a_share, t.b_share) {
            (None, None, a, b) => TierRule::Quantiles {
                a_share: a.unwrap_or(0.2),
                b_share: b.unwrap_or(0.3),
            },
            (Some(a_min), Some(b_min), None, None) => TierRule::Fixed { a_min, b_min },
            (Some(_), Some(_), _, _) => {
                return Err(bad(
                    "`tiers`: give either shares (`a_share`, `b_share`) or thresholds (`a_min`, `b_min`), not both".into(),
                ))
            }
            _ => return Err(bad("`tiers`: `a_min` and `b_min` go together".into())),
        };
        tiers.cutoffs(&[0.0])?;
        let l = &file.lifecycle;
        let dl = LifecycleThresholds::default();
        let lifecycle = LifecycleThresholds {
            new_within_days: l.new_within_days.unwrap_or(dl.new_within_days),
            silent_after_days: l.silent_after_days.unwrap_or(dl.silent_after_days),
            churned_after_days: l.churned_after_days.unwrap_or(dl.churned_after_days),
        };
        lifecycle.check()?;
        let output_dir = match (&cli.output_dir, env("LTV_OUTPUT_DIR"), &file.output.dir) {
            (Some(p), _, _) => resolve(&cwd, p),
            (None, Some(p), _) => resolve(&cwd, Path::new(&p)),
            (None, None, Some(p)) => resolve(&base, p),
            (None, None, None) => base.join("runs"),
        };
        let tier_history = match &t.history {
            Some(p) => resolve(&base, p),
            None => output_dir.join("tiers"),
        };
        Ok(Config {
            path: path.to_path_buf(),
            orders: resolve(&base, &d.orders),
            events: d.events.as_ref().map(|p| resolve(&base, p)),
            comments: d.comments.as_ref().map(|p| resolve(&base, p)),
            customers: d.customers.as_ref().map(|p| resolve(&base, p)),
            read,
            model,
            horizon_days,
            settings,
            gini_tolerance,
            allow_partial_window: false,
            tiers,
            tier_history,
            lifecycle,
            output_dir,
            scores_parquet: file.output.parquet.unwrap_or(false),
        })
    }

    /// The input files the features read, in order (orders, events, customers, comments).
    pub fn input_paths(&self) -> Vec<PathBuf> {
        [
            Some(&self.orders),
            self.events.as_ref(),
            self.customers.as_ref(),
            self.comments.as_ref(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    /// Opens the inputs (each call opens them afresh).
    pub fn open_inputs(&self) -> Result<Inputs<'static>> {
        Ok(Inputs {
            orders: Source::open(&self.orders)?,
            events: self.events.as_deref().map(Source::open).transpose()?,
            customers: self.customers.as_deref().map(Source::open).transpose()?,
            comments: self.comments.as_deref().map(Source::open).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn minimal_file_gets_defaults_and_paths_resolve_against_it() {
        let text = "[data]\norders = \"data/orders.csv\"\nevents = \"/abs/events.csv\"\n[output]\ndir = \"runs\"\n";
        let c = Config::from_toml(
            text,
            Path::new("/etc/ltv/ltv.toml"),
            &Overrides::default(),
            &no_env,
        )
        .unwrap();
        assert_eq!(c.orders, Path::new("/etc/ltv/data/orders.csv"));
        assert_eq!(c.events.as_deref(), Some(Path::new("/abs/events.csv")));
        assert_eq!(c.output_dir, Path::new("/etc/ltv/runs"));
        assert_eq!(c.tier_history, Path::new("/etc/ltv/runs/tiers"));
        assert_eq!(c.model, ModelChoice::Auto);
        assert_eq!(c.horizon_days, 90);
        assert_eq!((c.settings.folds, c.settings.seed), (5, 42));
        assert_eq!(c.gini_tolerance, 0.01);
        assert_eq!(c.tiers, TierRule::default());
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let text = "[data]\norders = \"o.csv\"\n[model]\nhorizn = \"30d\"\n";
        let e = Config::from_toml(text, Path::new("ltv.toml"), &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("horizn"), "{e}");
        let text = "[data]\norders = \"o.csv\"\n[outptu]\ndir = \"x\"\n";
        let e = Config::from_toml(text, Path::new("ltv.toml"), &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("outptu"), "{e}");
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let text = "[data]\norders = \"o.csv\"\n[model]\nname = \"tree\"\nhorizon = \"30d\"\n[output]\ndir = \"fromfile\"\n";
        let env = |k: &str| match k {
            "LTV_MODEL" => Some("linear".to_string()),
            "LTV_OUTPUT_DIR" => Some("fromenv".to_string()),
            "LTV_FOLDS" => Some("3".to_string()),
            _ => None,
        };
        let p = Path::new("/c/ltv.toml");
        let c = Config::from_toml(text, p, &Overrides::default(), &env).unwrap();
        assert_eq!(
            c.model,
            ModelChoice::One(ModelKind::parse("linear").unwrap())
        );
        assert_eq!(c.output_dir, Path::new("./fromenv"));
        assert_eq!((c.horizon_days, c.settings.folds), (30, 3));
        let cli = Overrides {
            output_dir: Some("fromflag".into()),
            model: Some("bgnbd".into()),
            horizon: Some("2w".into()),
        };
        let c = Config::from_toml(text, p, &cli, &env).unwrap();
        assert_eq!(
            c.model,
            ModelChoice::One(ModelKind::parse("bgnbd").unwrap())
        );
        assert_eq!(c.output_dir, Path::new("./fromflag"));
        assert_eq!(c.horizon_days, 14);
        let c = Config::from_toml(text, p, &Overrides::default(), &no_env).unwrap();
        assert_eq!(c.output_dir, Path::new("/c/fromfile"));
    }

    #[test]
    fn tier_rules() {
        let p = Path::new("ltv.toml");
        let text = "[data]\norders = \"o.csv\"\n[tiers]\na_min = 500.0\nb_min = 100.0\n";
        let c = Config::from_toml(text, p, &Overrides::default(), &no_env).unwrap();
        assert_eq!(
            c.tiers,
            TierRule::Fixed {
                a_min: 500.0,
                b_min: 100.0
            }
        );
        let text = "[data]\norders = \"o.csv\"\n[tiers]\na_min = 500.0\n";
        assert!(Config::from_toml(text, p, &Overrides::default(), &no_env).is_err());
        let text = "[data]\norders = \"o.csv\"\n[tiers]\na_share = 0.9\nb_share = 0.3\n";
        assert!(Config::from_toml(text, p, &Overrides::default(), &no_env).is_err());
    }
}
