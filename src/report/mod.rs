//! The self-contained HTML report: KPI cards and seven inline-SVG charts (cohort retention,
//! lifecycle funnel, predicted value by tier, gain curve, decile calibration, tier migration,
//! feature importances). One file, inline CSS, no scripts, no network; the same inputs give the
//! same bytes (no timestamps). Each chart is a `<figure id="chart-…">` with a heading, an SVG
//! with a `<title>`, and axis labels.
//!
//! Chart ids: `chart-cohort-retention`, `chart-lifecycle-funnel`, `chart-value-distribution`,
//! `chart-gain-curve`, `chart-decile-calibration`, `chart-tier-migration`,
//! `chart-feature-importance` ([`CHART_IDS`]).
pub mod svg;

use crate::evaluate::DecileRow;
use crate::kpi::{Kpis, ScoreRow};
use crate::models::file::ModelFile;
use crate::tiers::Tier;
use crate::{Error, Result};
use rustc_hash::FxHashMap;
use std::fmt::Write;
use std::path::Path;
use svg::{c, esc, num, pct, Scale};

/// The ids of the report's charts, in page order.
pub const CHART_IDS: [&str; 7] = [
    "chart-cohort-retention",
    "chart-lifecycle-funnel",
    "chart-value-distribution",
    "chart-gain-curve",
    "chart-decile-calibration",
    "chart-tier-migration",
    "chart-feature-importance",
];

/// Everything the report shows.
pub struct ReportInput<'a> {
    /// The KPIs (with tiers).
    pub kpis: &'a Kpis,
    /// The current `scores.csv`.
    pub scores: &'a [ScoreRow],
    /// The previous month's `scores.csv`, for the migration matrix.
    pub previous_scores: Option<&'a [ScoreRow]>,
    /// The model file (decile calibration, feature importances, gain curve fallback).
    pub model: Option<&'a ModelFile>,
    /// Actual future spend per customer (`customer_id`, `future_spend`) for the gain curve.
    pub actuals: Option<&'a [(String, f64)]>,
}

/// A gain curve: points `(share of customers, cumulative share of actual spend)` from (0, 0)
/// to (1, 1), customers ranked by prediction, highest first.
#[derive(Debug, Clone, PartialEq)]
pub struct GainCurve {
    /// The points, ascending in x.
    pub points: Vec<(f64, f64)>,
    /// Where the actual values come from (shown under the chart).
    pub source: String,
}

/// The gain curve of predictions against actual values. Customers are ranked by prediction,
/// highest first; a group of equal predictions is one step (a straight segment), so ties do not
/// depend on input order. `None` if there are no customers or the total actual is not positive.
pub fn gain_curve(predicted: &[f64], actual: &[f64]) -> Option<Vec<(f64, f64)>> {
    let n = predicted.len();
    let total: f64 = actual.iter().sum();
    if n == 0 || n != actual.len() || total.is_nan() || total <= 0.0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| predicted[j].total_cmp(&predicted[i]));
    let mut points = vec![(0.0, 0.0)];
    let (mut cum, mut i) = (0.0, 0);
    while i < n {
        let mut j = i;
        while j < n && predicted[order[j]] == predicted[order[i]] {
            cum += actual[order[j]];
            j += 1;
        }
        points.push((j as f64 / n as f64, cum / total));
        i = j;
    }
    Some(points)
}

/// The gain curve implied by a decile table (deciles 10 down to 1, each as one step):
/// x = cumulative count share, y = cumulative `count × mean_actual` share.
pub fn gain_curve_from_deciles(deciles: &[DecileRow]) -> Option<Vec<(f64, f64)>> {
    let n: usize = deciles.iter().map(|d| d.count).sum();
    let total: f64 = deciles
        .iter()
        .map(|d| d.count as f64 * d.mean_actual.unwrap_or(0.0))
        .sum();
    if n == 0 || total.is_nan() || total <= 0.0 {
        return None;
    }
    let mut rows: Vec<&DecileRow> = deciles.iter().collect();
    rows.sort_by_key(|d| std::cmp::Reverse(d.decile));
    let mut points = vec![(0.0, 0.0)];
    let (mut k, mut cum) = (0usize, 0.0);
    for d in rows.iter().filter(|d| d.count > 0) {
        k += d.count;
        cum += d.count as f64 * d.mean_actual.unwrap_or(0.0);
        points.push((k as f64 / n as f64, cum / total));
    }
    Some(points)
}

/// Tier migration between two scorings: `counts[from][to]` with rows A, B, C, *new* (not in the
/// previous scores) and columns A, B, C, *gone* (not in the current scores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The counts.
    pub counts: [[u64; 4]; 4],
}

impl Migration {
    /// Row labels (previous tier).
    pub const ROWS: [&'static str; 4] = ["A", "B", "C", "new"];
    /// Column labels (current tier).
    pub const COLUMNS: [&'static str; 4] = ["A", "B", "C", "gone"];

    /// Joins the two scorings by `customer_id`.
    pub fn between(previous: &[ScoreRow], current: &[ScoreRow]) -> Migration {
        let idx = |t: Tier| match t {
            Tier::A => 0,
            Tier::B => 1,
            Tier::C => 2,
        };
        let prev: FxHashMap<&str, Tier> = previous
            .iter()
            .map(|r| (r.customer_id.as_str(), r.tier))
            .collect();
        let cur: FxHashMap<&str, Tier> = current
            .iter()
            .map(|r| (r.customer_id.as_str(), r.tier))
            .collect();
        let mut counts = [[0u64; 4]; 4];
        for r in current {
            let from = prev.get(r.customer_id.as_str()).map_or(3, |&t| idx(t));
            counts[from][idx(r.tier)] += 1;
        }
        for r in previous {
            if !cur.contains_key(r.customer_id.as_str()) {
                counts[idx(r.tier)][3] += 1;
            }
        }
        Migration { counts }
    }

    /// The share of row `from` that went to column `to` (`None` for an empty row).
    pub fn row_share(&self, from: usize, to: usize) -> Option<f64> {
        let n: u64 = self.counts[from].iter().sum();
        (n > 0).then(|| self.counts[from][to] as f64 / n as f64)
    }
}

/// Reads actual future spend from a features CSV with `customer_id` and `future_spend` columns
/// (`ltv features --label`). Empty `future_spend` cells count as 0.
pub fn read_actuals(path: &Path) -> Result<Vec<(String, f64)>> {
    let bad = |line: u64, reason: String| Error::InvalidParameter {
        name: "actuals",
        value: format!("{}:{line}", path.display()),
        reason,
    };
    let (_, mut rdr) = crate::data::chunks::checked_csv_reader(path)?;
    let header = rdr.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    let find = |name: &str| {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            bad(
                1,
                format!("no `{name}` column; build it with `ltv features --label`"),
            )
        })
    };
    let (ci, cf) = (find("customer_id")?, find("future_spend")?);
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut line = 1u64;
    while rdr
        .read_record(&mut rec)
        .map_err(|e| bad(line + 1, e.to_string()))?
    {
        line += 1;
        let v = rec.get(cf).unwrap_or("").trim();
        let spend = if v.is_empty() {
            0.0
        } else {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(line, format!("`future_spend` not a number: `{v}`")))?
        };
        out.push((rec.get(ci).unwrap_or("").trim().to_string(), spend));
    }
    Ok(out)
}

/// The gain curve for the report: from `actuals` joined to `scores` by `customer_id` (scored
/// customers without an actual row are left out), else from the model's out-of-fold decile
/// table, else `None`.
pub fn report_gain_curve(input: &ReportInput<'_>) -> Option<GainCurve> {
    if let Some(actuals) = input.actuals {
        let map: FxHashMap<&str, f64> = actuals.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let (mut p, mut a) = (Vec::new(), Vec::new());
        for s in input.scores {
            if let Some(&v) = map.get(s.customer_id.as_str()) {
                p.push(s.predicted_value);
                a.push(v);
            }
        }
        let n = p.len();
        return gain_curve(&p, &a).map(|points| GainCurve {
            points,
            source: format!("actual future spend of {n} scored customers (--actuals)"),
        });
    }
    let m = input.model?;
    gain_curve_from_deciles(&m.metrics.deciles).map(|points| GainCurve {
        points,
        source: format!(
            "the model's out-of-fold decile table ({} training customers, cutoff {}); the curve is exact at decile boundaries",
            m.training_customers, m.cutoff
        ),
    })
}

fn figure(out: &mut String, id: &str, title: &str, note: &str, body: &str) {
    let _ = writeln!(
        out,
        "<figure class=\"chart\" id=\"{id}\"><h2>{}</h2>{body}<figcaption>{}</figcaption></figure>",
        esc(title),
        esc(note)
    );
}

fn placeholder(title: &str, message: &str) -> String {
    let mut s = String::new();
    let h = 140.0;
    svg::open(&mut s, h, title);
    let _ = write!(
        s,
        "<rect class=\"empty\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/><text class=\"empty-text\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></svg>",
        c(svg::LEFT),
        c(svg::TOP),
        c(svg::WIDTH - svg::LEFT - svg::RIGHT),
        c(h - svg::TOP - 20.0),
        c(svg::WIDTH / 2.0),
        c(h / 2.0),
        esc(message)
    );
    s
}

fn chart_cohorts(k: &Kpis) -> String {
    let title = "Cohort retention";
    if k.cohorts.is_empty() {
        return placeholder(title, "no purchases at or before the as-of date");
    }
    let row_h = 22.0;
    let h = svg::TOP + row_h * k.cohorts.len() as f64 + svg::BOTTOM;
    let (x0, x1, y0, _) = svg::plot_box(h);
    let label_w = 70.0;
    let cols = crate::kpi::RETENTION_DAYS.len() as f64;
    let cw = (x1 - x0 - label_w) / cols;
    let mut s = String::new();
    svg::open(&mut s, h, title);
    for (r, co) in k.cohorts.iter().enumerate() {
        let y = y0 + r as f64 * row_h;
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" dy=\"0.32em\" text-anchor=\"end\">{}</text><text class=\"tick\" x=\"{}\" y=\"{}\" dy=\"0.32em\" text-anchor=\"end\">n={}</text>",
            c(x0 - 6.0),
            c(y + row_h / 2.0),
            esc(&co.month),
            c(x0 + label_w - 8.0),
            c(y + row_h / 2.0),
            co.new_customers
        );
        for (i, ret) in co.retention.iter().enumerate() {
            let x = x0 + label_w + i as f64 * cw;
            let (fill, text, color) = match ret.rate {
                Some(v) => (svg::heat(v), pct(v), svg::heat_text(v)),
                None => ("#e4e7eb".to_string(), "–".to_string(), "#6b7785"),
            };
            let _ = write!(
                s,
                "<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"><title>{} D{}: {} of {}</title></rect><text class=\"cell-text\" x=\"{}\" y=\"{}\" dy=\"0.32em\" text-anchor=\"middle\" fill=\"{color}\">{text}</text>",
                c(x + 1.0),
                c(y + 1.0),
                c(cw - 2.0),
                c(row_h - 2.0),
                esc(&co.month),
                ret.days,
                ret.retained,
                ret.eligible,
                c(x + cw / 2.0),
                c(y + row_h / 2.0),
            );
        }
    }
    let labels: Vec<(f64, String)> = crate::kpi::RETENTION_DAYS
        .iter()
        .enumerate()
        .map(|(i, d)| (x0 + label_w + (i as f64 + 0.5) * cw, format!("D{d}")))
        .collect();
    svg::x_categories(&mut s, h, &labels);
    svg::axis_labels(
        &mut s,
        h,
        "days after the first purchase (retained = bought again within D days)",
        "cohort: month of first purchase",
    );
    s.push_str("</svg>");
    s
}

fn hbar_chart(
    title: &str,
    items: &[(String, f64, String)],
    x_label: &str,
    y_label: &str,
    color: &str,
    centered: bool,
) -> String {
    let row_h = 30.0;
    let h = svg::TOP + row_h * items.len() as f64 + svg::BOTTOM;
    let (x0, x1, y0, _) = svg::plot_box(h);
    let label_w = if centered { 0.0 } else { 150.0 };
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max);
    let x = Scale {
        d0: 0.0,
        d1: if max > 0.0 { max } else { 1.0 },
        r0: x0 + label_w,
        r1: x1 - 60.0,
    };
    let mut s = String::new();
    svg::open(&mut s, h, title);
    if !centered {
        svg::x_axis(&mut s, h, &x, &|v| num(v));
    } else {
        let (_, _, _, y1) = svg::plot_box(h);
        let _ = write!(
            s,
            "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            c(x0),
            c(y1),
            c(x1),
            c(y1)
        );
    }
    let mid = (x.r0 + x.r1) / 2.0;
    for (r, (label, v, text)) in items.iter().enumerate() {
        let y = y0 + r as f64 * row_h;
        let w = (x.at(*v) - x.r0).max(0.0);
        let bx = if centered { mid - w / 2.0 } else { x.r0 };
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{color}\"><title>{}: {}</title></rect>",
            c(bx),
            c(y + 4.0),
            c(w),
            c(row_h - 8.0),
            esc(label),
            esc(text)
        );
        let (lx, anchor) = if centered {
            (x0 - 6.0, "end")
        } else {
            (x.r0 - 6.0, "end")
        };
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" dy=\"0.32em\" text-anchor=\"{anchor}\">{}</text><text class=\"value\" x=\"{}\" y=\"{}\" dy=\"0.32em\">{}</text>",
            c(lx),
            c(y + row_h / 2.0),
            esc(label),
            c(bx + w + 6.0),
            c(y + row_h / 2.0),
            esc(text)
        );
    }
    svg::axis_labels(&mut s, h, x_label, y_label);
    s.push_str("</svg>");
    s
}

fn chart_funnel(k: &Kpis) -> String {
    let total: u64 = k.lifecycle.iter().map(|s| s.customers).sum();
    let items: Vec<(String, f64, String)> = k
        .lifecycle
        .iter()
        .map(|s| {
            let share = if total > 0 {
                s.customers as f64 / total as f64
            } else {
                0.0
            };
            (
                s.stage.clone(),
                s.customers as f64,
                format!("{} ({})", s.customers, pct(share)),
            )
        })
        .collect();
    hbar_chart(
        "Lifecycle stages",
        &items,
        "customers (bar width ∝ count)",
        "stage",
        "#3d7ab8",
        true,
    )
}

fn chart_distribution(scores: &[ScoreRow]) -> String {
    let title = "Predicted value by tier";
    if scores.is_empty() {
        return placeholder(title, "no scored customers");
    }
    let mut v: Vec<f64> = scores.iter().map(|s| s.predicted_value).collect();
    v.sort_by(f64::total_cmp);
    let lo = v[0].min(0.0);
    let p99 = v[((v.len() - 1) as f64 * 0.99).round() as usize];
    let hi = if p99 > lo { p99 } else { lo + 1.0 };
    const BINS: usize = 30;
    let width = (hi - lo) / BINS as f64;
    let mut counts = [[0u64; 3]; BINS];
    for s in scores {
        let b = (((s.predicted_value - lo) / width).floor().max(0.0) as usize).min(BINS - 1);
        let t = match s.tier {
            Tier::A => 0,
            Tier::B => 1,
            Tier::C => 2,
        };
        counts[b][t] += 1;
    }
    let max = counts
        .iter()
        .map(|b| b.iter().sum::<u64>())
        .max()
        .unwrap_or(1) as f64;
    let h = 340.0;
    let (x0, x1, y0, y1) = svg::plot_box(h);
    let x = Scale {
        d0: lo,
        d1: hi,
        r0: x0,
        r1: x1,
    };
    let y = Scale {
        d0: 0.0,
        d1: max.max(1.0),
        r0: y1,
        r1: y0 + 20.0,
    };
    let mut s = String::new();
    svg::open(&mut s, h, title);
    svg::y_axis(&mut s, h, &y, &|v| num(v));
    for (b, bin) in counts.iter().enumerate() {
        let mut base = 0u64;
        for t in 0..3 {
            if bin[t] == 0 {
                continue;
            }
            let top = y.at((base + bin[t]) as f64);
            let bottom = y.at(base as f64);
            let _ = write!(
                s,
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>tier {}: {} customers, value {}–{}</title></rect>",
                c(x.at(lo + b as f64 * width) + 0.5),
                c(top),
                c((x.at(lo + width) - x.at(lo) - 1.0).max(0.5)),
                c(bottom - top),
                svg::TIER_COLORS[t],
                ["A", "B", "C"][t],
                bin[t],
                num(lo + b as f64 * width),
                num(lo + (b + 1) as f64 * width)
            );
            base += bin[t];
        }
    }
    svg::x_axis(&mut s, h, &x, &|v| num(v));
    svg::legend(
        &mut s,
        svg::TOP,
        &[
            (svg::TIER_COLORS[0], "tier A"),
            (svg::TIER_COLORS[1], "tier B"),
            (svg::TIER_COLORS[2], "tier C"),
        ],
    );
    svg::axis_labels(
        &mut s,
        h,
        "predicted value (net spend in the model horizon; last bin holds the top 1 %)",
        "customers",
    );
    s.push_str("</svg>");
    s
}

fn chart_gain(g: Option<&GainCurve>) -> String {
    let title = "Gain curve";
    let Some(g) = g else {
        return placeholder(title, "needs --actuals or --model");
    };
    let h = 360.0;
    let (x0, x1, y0, y1) = svg::plot_box(h);
    let x = Scale {
        d0: 0.0,
        d1: 1.0,
        r0: x0,
        r1: x1,
    };
    let y = Scale {
        d0: 0.0,
        d1: 1.0,
        r0: y1,
        r1: y0,
    };
    let mut s = String::new();
    svg::open(&mut s, h, title);
    svg::y_axis(&mut s, h, &y, &|v| pct(v));
    svg::x_axis(&mut s, h, &x, &|v| pct(v));
    let _ = write!(
        s,
        "<line class=\"baseline\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
        c(x.at(0.0)),
        c(y.at(0.0)),
        c(x.at(1.0)),
        c(y.at(1.0))
    );
    // At most ~400 points: keep a point when it moves at least half a pixel.
    let mut pts = String::new();
    let mut last: Option<(f64, f64)> = None;
    for (i, &(px, py)) in g.points.iter().enumerate() {
        let (sx, sy) = (x.at(px), y.at(py));
        let keep = i + 1 == g.points.len()
            || last.is_none_or(|(lx, ly)| (sx - lx).abs() >= 0.5 || (sy - ly).abs() >= 0.5);
        if keep {
            let _ = write!(pts, "{},{} ", c(sx), c(sy));
            last = Some((sx, sy));
        }
    }
    let _ = write!(
        s,
        "<polyline class=\"curve\" points=\"{}\"/>",
        pts.trim_end()
    );
    if let Some(&(px, py)) = g.points.iter().find(|p| p.0 >= 0.1 - 1e-12) {
        let _ = write!(
            s,
            "<circle class=\"marker\" cx=\"{}\" cy=\"{}\" r=\"4\"/><text class=\"value\" x=\"{}\" y=\"{}\">top {} → {} of spend</text>",
            c(x.at(px)),
            c(y.at(py)),
            c(x.at(px) + 8.0),
            c(y.at(py) + 16.0),
            pct(px),
            pct(py)
        );
    }
    svg::legend(
        &mut s,
        y1 - 24.0,
        &[("#c0392b", "model"), ("#9aa5b1", "random order")],
    );
    svg::axis_labels(
        &mut s,
        h,
        "share of customers, ranked by predicted value (highest first)",
        "cumulative share of actual spend",
    );
    s.push_str("</svg>");
    s
}

fn chart_calibration(m: Option<&ModelFile>) -> String {
    let title = "Decile calibration";
    let Some(m) = m.filter(|m| !m.metrics.deciles.is_empty()) else {
        return placeholder(title, "needs --model (its out-of-fold decile table)");
    };
    let d = &m.metrics.deciles;
    let max = d
        .iter()
        .flat_map(|r| [r.mean_predicted, r.mean_actual])
        .flatten()
        .fold(0.0, f64::max);
    let min = d
        .iter()
        .flat_map(|r| [r.mean_predicted, r.mean_actual])
        .flatten()
        .fold(0.0, f64::min);
    let h = 340.0;
    let (x0, x1, y0, y1) = svg::plot_box(h);
    let y = Scale {
        d0: min,
        d1: if max > min { max } else { min + 1.0 },
        r0: y1,
        r1: y0 + 20.0,
    };
    let slot = (x1 - x0) / d.len() as f64;
    let mut s = String::new();
    svg::open(&mut s, h, title);
    svg::y_axis(&mut s, h, &y, &|v| num(v));
    let colors = ["#5b6bbf", "#d9822b"];
    let mut labels = Vec::new();
    for (i, r) in d.iter().enumerate() {
        let sx = x0 + i as f64 * slot;
        for (j, v) in [r.mean_predicted, r.mean_actual].iter().enumerate() {
            if let Some(v) = v {
                let (top, bottom) = (y.at(v.max(0.0)), y.at(v.min(0.0)));
                let _ = write!(
                    s,
                    "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>decile {} {}: {} ({} customers)</title></rect>",
                    c(sx + slot * 0.12 + j as f64 * slot * 0.38),
                    c(top),
                    c(slot * 0.36),
                    c((bottom - top).max(0.5)),
                    colors[j],
                    r.decile,
                    ["mean predicted", "mean actual"][j],
                    num(*v),
                    r.count
                );
            }
        }
        labels.push((sx + slot / 2.0, r.decile.to_string()));
    }
    svg::x_categories(&mut s, h, &labels);
    svg::legend(
        &mut s,
        svg::TOP,
        &[(colors[0], "mean predicted"), (colors[1], "mean actual")],
    );
    svg::axis_labels(
        &mut s,
        h,
        "decile of predicted value (1 = lowest, 10 = highest)",
        "mean net spend per customer",
    );
    s.push_str("</svg>");
    s
}

fn chart_migration(prev: Option<&[ScoreRow]>, cur: &[ScoreRow]) -> String {
    let title = "Tier migration";
    let Some(prev) = prev else {
        return placeholder(title, "needs --previous-scores");
    };
    let m = Migration::between(prev, cur);
    let h = 56.0 * 4.0 + svg::TOP + svg::BOTTOM + 20.0;
    let (x0, x1, y0, _) = svg::plot_box(h);
    let y0 = y0 + 20.0;
    let cw = (x1 - x0) / 4.0;
    let rh = 56.0;
    let mut s = String::new();
    svg::open(&mut s, h, title);
    for (j, col) in Migration::COLUMNS.iter().enumerate() {
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            c(x0 + (j as f64 + 0.5) * cw),
            c(y0 - 6.0),
            esc(col)
        );
    }
    for (i, row) in Migration::ROWS.iter().enumerate() {
        let y = y0 + i as f64 * rh;
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" dy=\"0.32em\" text-anchor=\"end\">{}</text>",
            c(x0 - 6.0),
            c(y + rh / 2.0),
            esc(row)
        );
        for j in 0..4 {
            let share = m.row_share(i, j);
            let v = share.unwrap_or(0.0);
            let (fill, fg) = if i == 3 && j == 3 {
                ("#e4e7eb".to_string(), "#6b7785")
            } else {
                (svg::heat(v), svg::heat_text(v))
            };
            let x = x0 + j as f64 * cw;
            let _ = write!(
                s,
                "<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"><title>{} → {}: {}</title></rect><text class=\"cell-text\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{fg}\">{}</text><text class=\"cell-sub\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{fg}\">{}</text>",
                c(x + 1.0),
                c(y + 1.0),
                c(cw - 2.0),
                c(rh - 2.0),
                row,
                Migration::COLUMNS[j],
                m.counts[i][j],
                c(x + cw / 2.0),
                c(y + rh / 2.0 - 2.0),
                m.counts[i][j],
                c(x + cw / 2.0),
                c(y + rh / 2.0 + 14.0),
                share.map_or("–".to_string(), pct)
            );
        }
    }
    svg::axis_labels(
        &mut s,
        h,
        "tier now (--scores); gone = not scored now",
        "tier before (--previous-scores)",
    );
    s.push_str("</svg>");
    s
}

fn chart_importance(m: Option<&ModelFile>) -> String {
    let title = "Top feature importances";
    let Some(m) = m.filter(|m| !m.feature_importances.is_empty()) else {
        return placeholder(
            title,
            "needs --model with a tree model (tree, boosting, hybrid)",
        );
    };
    let items: Vec<(String, f64, String)> = m
        .feature_importances
        .iter()
        .take(12)
        .map(|(n, v)| (n.clone(), *v, format!("{v:.3}")))
        .collect();
    hbar_chart(
        title,
        &items,
        "importance (share, from the model file)",
        "feature",
        "#1b7f5f",
        false,
    )
}

const CSS: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans CJK SC',sans-serif;margin:0;background:#f4f6f8;color:#1d2733}
main{max-width:1560px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}
.sub{color:#5c6b7a;margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin-bottom:18px}
.card{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .k{color:#5c6b7a;font-size:12px}.card .v{font-size:20px;font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(740px,1fr));gap:16px}
figure.chart{background:#fff;border-radius:8px;margin:0;padding:14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
figcaption{color:#5c6b7a;font-size:12px;margin-top:6px}
svg{max-width:100%;height:auto;display:block}
.tick{font-size:11px;fill:#3d4a57}.axis-label{font-size:12px;fill:#1d2733;font-weight:600}
.axis{stroke:#7b8794;stroke-width:1}.gridline{stroke:#e4e7eb;stroke-width:1}
.value{font-size:11px;fill:#1d2733}.cell-text{font-size:12px;font-weight:600}.cell-sub{font-size:11px}
.cell{stroke:#fff}.baseline{stroke:#9aa5b1;stroke-dasharray:5 4;stroke-width:1.5}
.curve{fill:none;stroke:#c0392b;stroke-width:2.5}.marker{fill:#c0392b}
.empty{fill:#f4f6f8;stroke:#c5ccd3;stroke-dasharray:4 4}.empty-text{fill:#5c6b7a;font-size:13px}
table{border-collapse:collapse;background:#fff;margin-bottom:18px}td,th{padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right}th:first-child,td:first-child{text-align:left}";

fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or("–".to_string(), f)
}

/// Renders the report page.
pub fn render_html(input: &ReportInput<'_>) -> String {
    let k = input.kpis;
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>ltv report</title><style>");
    out.push_str(CSS);
    out.push_str("</style></head><body><main>\n");
    let _ = writeln!(
        out,
        "<h1>Customer value report</h1><p class=\"sub\">as of {} · KPIs over the last {} days · {} customers · {} scored{}</p>",
        esc(&k.as_of),
        k.period_days,
        k.customers,
        input.scores.len(),
        input
            .model
            .map_or(String::new(), |m| format!(" · model {} (trained at {})", esc(m.model.name()), esc(&m.cutoff)))
    );
    let cards: Vec<(&str, String)> = vec![
        ("reach (customers pushed)", k.reach.to_string()),
        ("push open rate", opt(k.push_open_rate, pct)),
        ("click rate (per push)", opt(k.click_rate, pct)),
        (
            "interactions / user / month",
            opt(k.interactions_per_user_per_month, |v| format!("{v:.2}")),
        ),
        ("conversion (7 days)", opt(k.conversion_rate, pct)),
        ("3-month repurchase rate", opt(k.repurchase_rate_3m, pct)),
        ("net spend", num(k.net_spend)),
        ("ARPU", opt(k.arpu, |v| format!("{v:.2}"))),
        ("ARPPU", opt(k.arppu, |v| format!("{v:.2}"))),
        (
            "average order value",
            opt(k.average_order_value, |v| format!("{v:.2}")),
        ),
        ("active customers", k.active_customers.to_string()),
        ("paying customers", k.paying_customers.to_string()),
    ];
    out.push_str("<section class=\"cards\" id=\"kpis\">");
    for (name, v) in cards {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div></div>",
            esc(name),
            esc(&v)
        );
    }
    out.push_str("</section>\n");
    if !k.tiers.is_empty() {
        out.push_str("<table id=\"tiers\"><tr><th>tier</th><th>customers</th><th>share of customers</th><th>predicted value</th><th>share of value</th></tr>");
        for t in &k.tiers {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.tier),
                t.customers,
                opt(t.customer_share, pct),
                num(t.predicted_value),
                opt(t.value_share, pct)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("<div class=\"charts\">\n");
    let gain = report_gain_curve(input);
    figure(
        &mut out,
        CHART_IDS[0],
        "Cohort retention (D1 / D7 / D30)",
        "Share of each month's new customers who bought again on a later day within 1, 7 and 30 days of their first purchase day; only customers whose window ended by the as-of date count.",
        &chart_cohorts(k),
    );
    figure(
        &mut out,
        CHART_IDS[1],
        "Lifecycle funnel",
        "Customers per lifecycle stage at the as-of date (potential: no purchase; new: first purchase under 30 days ago; active / silent / churned by idle days).",
        &chart_funnel(k),
    );
    figure(
        &mut out,
        CHART_IDS[2],
        "Predicted value distribution by tier",
        "Histogram of predicted_value from --scores, stacked by tier.",
        &chart_distribution(input.scores),
    );
    figure(
        &mut out,
        CHART_IDS[3],
        "Gain curve",
        &gain
            .as_ref()
            .map_or("No actual values available.".to_string(), |g| {
                format!("Actual values: {}. Dashed: random order.", g.source)
            }),
        &chart_gain(gain.as_ref()),
    );
    figure(
        &mut out,
        CHART_IDS[4],
        "Decile calibration",
        "Mean predicted vs mean actual value per decile of prediction, out of fold, from the model file.",
        &chart_calibration(input.model),
    );
    figure(
        &mut out,
        CHART_IDS[5],
        "Tier migration",
        "Customers by tier in --previous-scores (rows) and --scores (columns); the percentage is the share of the row.",
        &chart_migration(input.previous_scores, input.scores),
    );
    figure(
        &mut out,
        CHART_IDS[6],
        "Top feature importances",
        "The model's feature importances (largest first).",
        &chart_importance(input.model),
    );
    out.push_str("</div></main></body></html>\n");
    out
}

/// Renders the report and writes it atomically.
pub fn write_html(path: &Path, input: &ReportInput<'_>) -> Result<()> {
    let html = render_html(input);
    crate::io_util::write_atomic(path, |w| {
        w.write_all(html.as_bytes()).map_err(|e| Error::io(path, e))
    })
}

#[cfg(test)]
mod tests;
