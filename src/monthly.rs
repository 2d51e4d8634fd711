//! The monthly job (`ltv run --month M`): train a challenger, compare it with the champion on
//! the same folds, score everyone with the winner, re-tune the tiers, write the month's
//! artefacts atomically; plus the run lock and `model promote`.
//!
//! Layout under the output directory (`runs/`):
//! - `M/` — `scores.csv` (and `scores.parquet` with `[output] parquet = true`), `model.json` (the challenger trained this month), `tiers.json`,
//!   `metrics.json`, `run.log` (the only file with wall-clock times); written into
//!   `.M.tmp-<pid>/` and renamed into place at the end.
//! - `champion.txt` (the champion's month: the one record that decides) and `champion.json` (a
//!   copy of that month's `model.json`, for people and other tools), each replaced atomically,
//!   `champion.txt` first. A kill between the two leaves a stale copy, which the next run or
//!   `model promote` repairs from `<month>/model.json` before doing anything else.
//! - `.lock` — locked with `flock` by the running job (released by the kernel when it exits,
//!   even on kill -9) and holding its pid for messages.
//! - `champion.pinned` — the month `ltv model promote` pinned: no run promotes a challenger
//!   while it exists (`ltv model unpin` removes it).
//!
//! Time windows: month `M` ends at the end of its last day (`as_of`). The challenger is trained
//! at `as_of − horizon`, so its label `(as_of − horizon, as_of]` is fully observed by `as_of`;
//! customers are then scored at `as_of`.
//!
//! Promotion rule: the challenger's out-of-fold normalized Gini `g_new` and the champion's
//! `g_old` are computed on this month's training customers with the same folds (same seed and
//! fold count): `g_old` comes from re-training the champion's model kind and hyper-parameters
//! (`ModelChoice::One`) on this month's data. The challenger is promoted iff
//! `g_new >= g_old − gini_tolerance`; otherwise the champion is kept and scores the month.
//! A rerun of a month compares against the champion recorded in its `metrics.json`, so a rerun
//! reproduces the first run byte for byte.
use crate::config::Config;
use crate::data::time::days_from_civil;
use crate::data::{Cutoff, TimeParser};
use crate::evaluate::Metrics;
use crate::models::file::ModelFile;
use crate::models::value::{ModelKind, TrainSettings};
use crate::pipeline::{self, ModelChoice, Progress, TrainJob};
use crate::tiers::{parse_month, TierMonth};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes extra artefacts (e.g. `report.html`) into the temporary run directory.
pub type ReportHook<'a> = &'a dyn Fn(&Path, &MonthMetrics) -> Result<()>;

/// Callbacks of a run.
pub struct RunHooks<'a> {
    /// Progress messages (also written to `run.log`).
    pub progress: Progress<'a>,
    /// Called after each stage: `lock`, `train`, `champion`, `score`, `write` (all files in the
    /// temporary directory, before the rename), `rename`.
    pub after_stage: &'a dyn Fn(&str),
    /// Extra artefacts (e.g. `report.html`), written into the temporary run directory before it
    /// is renamed into place: called with that directory and the month's metrics.
    pub report: Option<ReportHook<'a>>,
}

/// The champion the month was compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChampionScore {
    /// The month whose model was champion.
    pub month: String,
    /// Its model kind.
    pub model: ModelKind,
    /// Out-of-fold normalized Gini of its kind and hyper-parameters re-trained on this month's
    /// customers with the same folds; absent when they could not be fitted.
    pub normalized_gini: Option<f64>,
    /// Why the champion's kind could not be fitted on this month's data (then the challenger
    /// is promoted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_error: Option<String>,
}

/// `metrics.json` of a month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthMetrics {
    /// The month.
    pub month: String,
    /// Scoring instant (end of the month's last day).
    pub as_of: String,
    /// Training cutoff (`as_of − horizon`).
    pub training_cutoff: String,
    /// Label horizon in days.
    pub horizon_days: i64,
    /// Customers the challenger was trained on.
    pub training_customers: usize,
    /// The challenger's model kind.
    pub challenger_model: ModelKind,
    /// The challenger's out-of-fold metrics.
    pub challenger_oof: Metrics,
    /// The champion at the start of the month's first run (absent: there was none).
    pub champion_before: Option<ChampionScore>,
    /// The promotion tolerance used.
    pub gini_tolerance: f64,
    /// Whether the challenger became champion.
    pub promoted: bool,
    /// Why.
    pub decision: String,
    /// The month whose model scored this month's customers.
    pub scored_with: String,
    /// Customers scored.
    pub customers_scored: usize,
    /// The month's tiers.
    pub tiers: TierMonth,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// `<output>/<M>`.
    pub run_dir: PathBuf,
    /// The month's metrics.
    pub metrics: MonthMetrics,
}

/// The run lock: an OS lock (`flock`) on `<output>/.lock`, which also holds the holder's pid
/// for messages. The kernel releases it when the holder exits, however it exits (kill -9
/// included), so a lock can never be stale; the file itself stays.
#[derive(Debug)]
pub struct RunLock {
    file: std::fs::File,
}

/// Whether a process is alive (Linux: `/proc/<pid>` exists and is not a zombie; elsewhere
/// assumed alive).
pub fn pid_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // `pid (comm) S ...`: the state follows the last `)`.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X'))
        }
        Err(_) => false,
    }
}

impl RunLock {
    /// Takes the lock of `dir` (created if missing), without waiting: a lock held by another
    /// process (or another handle in this one) gives [`Error::Locked`] with the pid it wrote.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(".lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(&mut file, &mut text);
                let pid = text.trim().parse::<u32>().unwrap_or(0);
                return Err(Error::Locked { path, pid });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        file.set_len(0).map_err(|e| Error::io(&path, e))?;
        writeln!(file, "{}", std::process::id()).map_err(|e| Error::io(&path, e))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        Ok(RunLock { file })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Clear the pid, then release (closing the file would release it too).
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The last calendar day of a `YYYY-MM` month, as a day number.
pub fn month_last_day(month: &str) -> Result<i64> {
    let (y, m) = parse_month(month)?;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Ok(days_from_civil(ny, nm, 1) - 1)
}

fn cutoff_at_day(day: i64, time: &TimeParser) -> Result<Cutoff> {
    let text = TimeParser::format_day(day);
    Cutoff::parse(&text, time).ok_or_else(|| Error::InvalidParameter {
        name: "cutoff",
        value: text,
        reason: "cannot be parsed".into(),
    })
}

/// `champion.txt` of an output directory: the champion's month, if any.
pub fn champion_month(output: &Path) -> Result<Option<String>> {
    month_file(&output.join("champion.txt"))
}

/// The `YYYY-MM` a one-line file names, or `None` when there is no such file.
fn month_file(p: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(p) {
        Ok(t) => {
            let m = t.trim().to_string();
            parse_month(&m)?;
            Ok(Some(m))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(p, e)),
    }
}

fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::io_util::write_atomic(path, |w| w.write_all(bytes).map_err(|e| Error::io(path, e)))
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Makes `month`'s model the champion: names the month in `champion.txt` (the record that
/// decides), then copies `<output>/<month>/model.json` to `champion.json`; both atomically.
fn set_champion(output: &Path, month: &str) -> Result<()> {
    let src = output.join(month).join("model.json");
    ModelFile::load(&src)?;
    let bytes = std::fs::read(&src).map_err(|e| Error::io(&src, e))?;
    write_bytes(
        &output.join("champion.txt"),
        format!("{month}\n").as_bytes(),
    )?;
    write_bytes(&output.join("champion.json"), &bytes)
}

/// Makes `champion.json` a copy of the model of the month `champion.txt` names, when that
/// month's `model.json` exists and the copy differs (a run killed between the two writes of
/// [`set_champion`]). Returns whether it rewrote the copy.
fn repair_champion_copy(output: &Path) -> Result<bool> {
    let Some(month) = champion_month(output)? else {
        return Ok(false);
    };
    let src = output.join(&month).join("model.json");
    let bytes = match std::fs::read(&src) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&src, e)),
    };
    let copy = output.join("champion.json");
    match std::fs::read(&copy) {
        Ok(c) if c == bytes => Ok(false),
        Ok(_) => write_bytes(&copy, &bytes).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_bytes(&copy, &bytes).map(|()| true)
        }
        Err(e) => Err(Error::io(&copy, e)),
    }
}

/// `champion.pinned` of an output directory: the month `ltv model promote` pinned as champion,
/// if any. While a pin exists, `ltv run` never promotes a challenger (a cron retry cannot undo
/// a rollback); `ltv model unpin` removes it.
pub fn pinned_month(output: &Path) -> Result<Option<String>> {
    month_file(&output.join("champion.pinned"))
}

/// `ltv model unpin`: lets later runs promote challengers again (under the run lock). Returns
/// the month that was pinned.
pub fn unpin(output: &Path) -> Result<Option<String>> {
    let _lock = RunLock::acquire(output)?;
    let pinned = pinned_month(output)?;
    let p = output.join("champion.pinned");
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(pinned),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(p, e)),
    }
}

/// `ltv model promote`: makes an earlier month's model the champion and pins it (under the run
/// lock): later runs keep it as champion until `ltv model unpin`.
pub fn promote(output: &Path, month: &str) -> Result<()> {
    parse_month(month)?;
    let _lock = RunLock::acquire(output)?;
    repair_champion_copy(output)?;
    let src = output.join(month).join("model.json");
    if !src.exists() {
        return Err(Error::InvalidParameter {
            name: "month",
            value: month.to_string(),
            reason: format!(
                "`{}` does not exist: that month was never run",
                src.display()
            ),
        });
    }
    // The pin first: a kill between the two leaves a pin on the month being promoted, which a
    // rerun of this command completes.
    write_bytes(
        &output.join("champion.pinned"),
        format!("{month}\n").as_bytes(),
    )?;
    set_champion(output, month)
}

/// Removes leftovers of killed runs: `.M.tmp-<pid>` directories of dead pids; a `.M.old-<pid>`
/// (a previous `M/` moved aside just before the new one was renamed in) is put back when `M/`
/// is missing, else removed.
fn clean_leftovers(output: &Path) -> Result<()> {
    let entries = std::fs::read_dir(output).map_err(|e| Error::io(output, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.') else {
            continue;
        };
        for (tag, restore) in [(".tmp-", false), (".old-", true)] {
            if let Some((month, pid)) = rest.split_once(tag) {
                let Ok(pid) = pid.parse::<u32>() else {
                    continue;
                };
                if pid_alive(pid) {
                    continue;
                }
                let final_dir = output.join(month);
                if restore && !final_dir.exists() {
                    std::fs::rename(entry.path(), &final_dir)
                        .map_err(|e| Error::io(&final_dir, e))?;
                } else {
                    std::fs::remove_dir_all(entry.path())
                        .map_err(|e| Error::io(entry.path(), e))?;
                }
            }
        }
    }
    Ok(())
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Runs month `month` (`YYYY-MM`) under `config`. Idempotent: a rerun gives the same bytes in
/// every artefact but `run.log`. On any error or kill, the previous outputs and the champion
/// are untouched and no partial `<output>/<M>` exists.
pub fn run_month(config: &Config, month: &str, hooks: &RunHooks<'_>) -> Result<RunOutcome> {
    let last_day = month_last_day(month)?;
    let output = &config.output_dir;
    let _lock = RunLock::acquire(output)?;
    (hooks.after_stage)("lock");
    clean_leftovers(output)?;
    if repair_champion_copy(output)? {
        (hooks.progress)(
            "champion.json did not match the champion named in champion.txt: restored it",
        );
    }
    let pid = std::process::id();
    let tmp = output.join(format!(".{month}.tmp-{pid}"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let result = run_in(config, month, last_day, &tmp, hooks);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn run_in(
    config: &Config,
    month: &str,
    last_day: i64,
    tmp: &Path,
    hooks: &RunHooks<'_>,
) -> Result<RunOutcome> {
    let output = &config.output_dir;
    let final_dir = output.join(month);
    let log = std::sync::Mutex::new(String::new());
    let say = |m: &str| {
        (hooks.progress)(m);
        if let Ok(mut l) = log.lock() {
            l.push_str(&format!("{} {m}\n", now()));
        }
    };
    say(&format!(
        "ltv {} run --month {month} (config `{}`, pid {})",
        env!("CARGO_PKG_VERSION"),
        config.path.display(),
        std::process::id()
    ));
    if let Some(c) = &config.comments {
        if !c.exists() {
            return Err(Error::io(
                c,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
        say(&format!(
            "comments `{}`: adds the comment and sentiment features",
            c.display()
        ));
    }
    let time = &config.read.time;
    let as_of = cutoff_at_day(last_day, time)?;
    let train_cutoff = cutoff_at_day(last_day - config.horizon_days, time)?;

    // The champion this month is compared with: on a rerun, the one recorded by the first run.
    let previous_metrics = final_dir.join("metrics.json");
    // A pin (`ltv model promote`) decides over everything else.
    let pinned = pinned_month(output)?;
    let champion_before: Option<String> = if let Some(p) = &pinned {
        say(&format!(
            "champion {p} is pinned by `ltv model promote` (`ltv model unpin` lets runs promote again)"
        ));
        Some(p.clone())
    } else if previous_metrics.exists() {
        let text = std::fs::read_to_string(&previous_metrics)
            .map_err(|e| Error::io(&previous_metrics, e))?;
        let m: MonthMetrics = serde_json::from_str(&text)?;
        say("rerun: comparing with the champion recorded by the month's first run");
        m.champion_before.map(|c| c.month)
    } else {
        champion_month(output)?
    };
    let champion: Option<(String, ModelFile)> = match champion_before {
        Some(m) => {
            let from_run = output.join(&m).join("model.json");
            let path = if from_run.exists() {
                from_run
            } else {
                output.join("champion.json")
            };
            Some((m, ModelFile::load(&path)?))
        }
        None => None,
    };

    let job = |model: ModelChoice, settings: TrainSettings| -> Result<TrainJob<'static>> {
        Ok(TrainJob {
            inputs: config.open_inputs()?,
            input_paths: config.input_paths(),
            read: config.read.clone(),
            cutoff: train_cutoff,
            horizon_days: config.horizon_days,
            lifecycle: config.lifecycle,
            model,
            settings,
            allow_partial_window: config.allow_partial_window,
        })
    };
    say(&format!(
        "training at cutoff {} ({}-day label up to {})",
        time.format(train_cutoff.instant()),
        config.horizon_days,
        time.format(as_of.instant())
    ));
    let trained = pipeline::train(job(config.model, config.settings.clone())?, &|m| say(m))?;
    let challenger = trained.file;
    let g_new = challenger.metrics.normalized_gini;
    say(&format!(
        "challenger `{}`: out-of-fold normalized Gini {g_new:.6} on {} customers",
        challenger.model.name(),
        challenger.training_customers
    ));
    (hooks.after_stage)("train");

    let (champion_score, promoted, decision) = match &champion {
        None => (
            None,
            true,
            "no champion yet: the challenger becomes champion".to_string(),
        ),
        Some((cm, cf)) => {
            let settings = TrainSettings {
                seed: config.settings.seed,
                folds: config.settings.folds,
                ..cf.hyperparameters.clone()
            };
            // The champion's Gini on this month's folds, or why its kind cannot be fitted on
            // this month's data (a fit that fails, e.g. a GLM that does not converge, must not
            // stop the month: the challenger then takes over).
            let reused = (settings == config.settings)
                .then(|| {
                    challenger
                        .model_comparison
                        .iter()
                        .find(|s| s.model == cf.model)
                        .and_then(|s| match (&s.metrics, &s.error) {
                            (Some(m), _) => Some(Ok(m.normalized_gini)),
                            (None, Some(e)) => Some(Err(e.clone())),
                            (None, None) => None,
                        })
                })
                .flatten();
            let g_old: std::result::Result<f64, String> = match reused {
                Some(g) => g,
                None => {
                    say(&format!(
                        "re-training the champion ({cm}, `{}`) on this month's folds",
                        cf.model.name()
                    ));
                    match pipeline::train(job(ModelChoice::One(cf.model), settings)?, &|m| say(m)) {
                        Ok(t) => Ok(t.file.metrics.normalized_gini),
                        Err(
                            e @ (Error::NotConverged { .. }
                            | Error::NotEnoughData(_)
                            | Error::Fit(_)
                            | Error::InvalidParameter { .. }),
                        ) => Err(e.to_string()),
                        Err(e) => return Err(e),
                    }
                }
            };
            let tol = config.gini_tolerance;
            let (promoted, decision) = match &g_old {
                Ok(g_old) if g_new >= g_old - tol => (
                    true,
                    format!(
                        "promoted: challenger Gini {g_new:.6} >= champion ({cm}) Gini {g_old:.6} - tolerance {tol}"
                    ),
                ),
                Ok(g_old) => (
                    false,
                    format!(
                        "kept champion ({cm}): challenger Gini {g_new:.6} < champion Gini {g_old:.6} - tolerance {tol}"
                    ),
                ),
                Err(e) => (
                    true,
                    format!(
                        "promoted: the champion's model kind ({cm}, `{}`) cannot be fitted on this month's data ({e}); challenger Gini {g_new:.6}",
                        cf.model.name()
                    ),
                ),
            };
            (
                Some(ChampionScore {
                    month: cm.clone(),
                    model: cf.model,
                    normalized_gini: g_old.as_ref().ok().copied(),
                    fit_error: g_old.err(),
                }),
                promoted,
                decision,
            )
        }
    };
    let (promoted, decision) = match &pinned {
        Some(p) if promoted => (
            false,
            format!(
                "kept champion ({p}): pinned by `ltv model promote`, so the challenger is not promoted (it would have been: {decision}); `ltv model unpin` lets runs promote again"
            ),
        ),
        _ => (promoted, decision),
    };
    say(&decision);
    (hooks.after_stage)("champion");

    let (scored_with, scorer) = match (&champion, promoted) {
        (Some((cm, cf)), false) => (cm.clone(), cf),
        _ => (month.to_string(), &challenger),
    };
    say(&format!(
        "scoring at {} with the model of {scored_with}",
        time.format(as_of.instant())
    ));
    let scores =
        pipeline::score_customers(scorer, config.open_inputs()?, &config.read, as_of, &|_| {})?;
    let values: Vec<(String, f64)> = (0..scores.len())
        .map(|k| {
            (
                scores.customer_id(k).into_owned(),
                scores.predicted_value(k),
            )
        })
        .collect();
    let tiers = TierMonth::compute(month, &values, config.tiers)?;
    say(&format!(
        "tiers: A from {:.4} ({} customers), B from {:.4} ({}), C ({})",
        tiers.cutoffs.a, tiers.counts.a, tiers.cutoffs.b, tiers.counts.b, tiers.counts.c
    ));
    (hooks.after_stage)("score");

    let metrics = MonthMetrics {
        month: month.to_string(),
        as_of: time.format(as_of.instant()),
        training_cutoff: time.format(train_cutoff.instant()),
        horizon_days: config.horizon_days,
        training_customers: challenger.training_customers,
        challenger_model: challenger.model,
        challenger_oof: challenger.metrics.clone(),
        champion_before: champion_score,
        gini_tolerance: config.gini_tolerance,
        promoted,
        decision,
        scored_with,
        customers_scored: values.len(),
        tiers: tiers.clone(),
    };
    let mut csv = Vec::new();
    scores.write_csv(&tiers.cutoffs, &mut csv)?;
    write_new(&tmp.join("scores.csv"), &csv)?;
    if config.scores_parquet {
        let name = tmp.join("scores.parquet");
        let mut bytes = Vec::new();
        scores.write_as(
            &tiers.cutoffs,
            crate::data::parquet::write::OutputFormat::Parquet,
            &mut bytes,
            &name,
        )?;
        write_new(&name, &bytes)?;
    }
    let model_json = serde_json::to_string_pretty(&challenger)? + "\n";
    write_new(&tmp.join("model.json"), model_json.as_bytes())?;
    write_new(&tmp.join("tiers.json"), tiers.to_json()?.as_bytes())?;
    write_new(
        &tmp.join("metrics.json"),
        (serde_json::to_string_pretty(&metrics)? + "\n").as_bytes(),
    )?;
    if let Some(report) = hooks.report {
        report(tmp, &metrics)?;
    }
    say(&format!(
        "moving the outputs into `{}`",
        final_dir.display()
    ));
    let text = log.lock().map(|l| l.clone()).unwrap_or_default();
    write_new(&tmp.join("run.log"), text.as_bytes())?;
    for f in std::fs::read_dir(tmp)
        .map_err(|e| Error::io(tmp, e))?
        .flatten()
    {
        std::fs::File::open(f.path())
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(f.path(), e))?;
    }
    (hooks.after_stage)("write");

    // Into place: a previous M/ is moved aside first (restored by the next run if killed here).
    let old = output.join(format!(".{month}.old-{}", std::process::id()));
    let had_old = final_dir.exists();
    if had_old {
        std::fs::rename(&final_dir, &old).map_err(|e| Error::io(&final_dir, e))?;
    }
    std::fs::rename(tmp, &final_dir).map_err(|e| Error::io(&final_dir, e))?;
    if had_old {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    (hooks.after_stage)("rename");

    if promoted {
        // A rerun of an older month never replaces a newer champion.
        let current = champion_month(output)?;
        if current.as_deref().is_none_or(|c| c <= month) {
            set_champion(output, month)?;
        }
    }
    tiers.save(&config.tier_history, &values)?;
    (hooks.progress)("done");
    Ok(RunOutcome {
        run_dir: final_dir,
        metrics,
    })
}

/// The month before `month` (`2025-01` → `2024-12`).
pub fn previous_month(month: &str) -> Result<String> {
    let (y, m) = crate::tiers::parse_month(month)?;
    Ok(if m == 1 {
        format!("{:04}-12", y - 1)
    } else {
        format!("{y:04}-{:02}", m - 1)
    })
}

/// Writes `report.html` into a month's (temporary) run directory: KPIs from the configured logs
/// at the end of the month, tiers from the month's `scores.csv`, calibration and feature
/// importances from its `model.json`, and the tier migration from the previous month's scores
/// when that month exists under the output folder. Meant as the [`RunHooks::report`] hook.
pub fn write_month_report(config: &Config, dir: &Path, metrics: &MonthMetrics) -> Result<()> {
    use crate::data::Cutoff;
    use crate::kpi::{compute_kpis, read_scores, KpiParams};
    let day = month_last_day(&metrics.month)?;
    let as_of = Cutoff {
        end_exclusive: config.read.time.day_start(day + 1),
    };
    let scores = read_scores(&dir.join("scores.csv"))?;
    let params = KpiParams {
        lifecycle: config.lifecycle,
        ..KpiParams::new(as_of)
    };
    let kpis = compute_kpis(config.open_inputs()?, &params, &config.read)?.with_tiers(&scores);
    let model = crate::models::file::ModelFile::load(&dir.join("model.json")).ok();
    let previous = config
        .output_dir
        .join(previous_month(&metrics.month)?)
        .join("scores.csv");
    let previous_scores = if previous.exists() {
        Some(read_scores(&previous)?)
    } else {
        None
    };
    crate::report::write_html(
        &dir.join("report.html"),
        &crate::report::ReportInput {
            kpis: &kpis,
            scores: &scores,
            previous_scores: previous_scores.as_deref(),
            model: model.as_ref(),
            actuals: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ends() {
        let day = |y, m, d| days_from_civil(y, m, d);
        assert_eq!(month_last_day("2025-06").unwrap(), day(2025, 6, 30));
        assert_eq!(month_last_day("2024-02").unwrap(), day(2024, 2, 29));
        assert_eq!(month_last_day("2025-12").unwrap(), day(2025, 12, 31));
        assert!(month_last_day("2025-6").is_err());
    }

    #[test]
    fn a_stale_champion_copy_is_repaired_from_the_named_month() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        for (m, body) in [("2025-05", "old model"), ("2025-06", "new model")] {
            std::fs::create_dir_all(out.join(m)).unwrap();
            std::fs::write(out.join(m).join("model.json"), body).unwrap();
        }
        // No champion yet: nothing to do.
        assert!(!repair_champion_copy(out).unwrap());
        // Killed between the two writes of set_champion: the record names 2025-06, the copy
        // still holds 2025-05's model.
        std::fs::write(out.join("champion.txt"), "2025-06\n").unwrap();
        std::fs::write(out.join("champion.json"), "old model").unwrap();
        assert!(repair_champion_copy(out).unwrap());
        assert_eq!(
            std::fs::read(out.join("champion.json")).unwrap(),
            b"new model"
        );
        assert!(!repair_champion_copy(out).unwrap(), "in agreement now");
        // A missing copy is restored too.
        std::fs::remove_file(out.join("champion.json")).unwrap();
        assert!(repair_champion_copy(out).unwrap());
        assert_eq!(
            std::fs::read(out.join("champion.json")).unwrap(),
            b"new model"
        );
        // The named month's directory is gone (deleted by hand): the copy is all there is.
        std::fs::remove_dir_all(out.join("2025-06")).unwrap();
        assert!(!repair_champion_copy(out).unwrap());
        assert_eq!(
            std::fs::read(out.join("champion.json")).unwrap(),
            b"new model"
        );
    }

    #[test]
    fn lock_is_exclusive_and_stale_locks_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let l = RunLock::acquire(dir.path()).unwrap();
        match RunLock::acquire(dir.path()) {
            Err(Error::Locked { pid, .. }) => assert_eq!(pid, std::process::id()),
            other => panic!("{other:?}"),
        }
        drop(l);
        // A lock file left behind with the pid of a live process (this one, as for PID 1 in a
        // container) does not block: only a held OS lock does.
        std::fs::write(
            dir.path().join(".lock"),
            format!("{}\n", std::process::id()),
        )
        .unwrap();
        let _l = RunLock::acquire(dir.path()).unwrap();
    }
}
