//! Tiny SVG building blocks: linear scales, axes with ticks and labels, escaping and number
//! formatting. Output is plain text with fixed decimals, so the same data give the same bytes.
use std::fmt::Write;

/// Chart width in SVG user units.
pub const WIDTH: f64 = 720.0;
/// Left margin (room for y tick labels and the y axis label).
pub const LEFT: f64 = 84.0;
/// Right margin.
pub const RIGHT: f64 = 24.0;
/// Top margin.
pub const TOP: f64 = 16.0;
/// Bottom margin (room for x tick labels and the x axis label).
pub const BOTTOM: f64 = 56.0;

/// Tier colours A, B, C.
pub const TIER_COLORS: [&str; 3] = ["#1b7f5f", "#5b6bbf", "#d9822b"];

/// Escapes text for HTML and SVG content and attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A coordinate with one decimal (`-0.0` printed as `0.0`).
pub fn c(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == 0.0 {
        "0.0".into()
    } else {
        format!("{r:.1}")
    }
}

/// A human-readable number: thousands as `12.3k`, millions as `1.2M`, else up to 2 decimals.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A share as a percentage with one decimal.
pub fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// "Nice" tick values covering `[lo, hi]` (about `n` of them).
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).ceil() as i64;
    let end = (hi / step + 1e-9).floor() as i64;
    // Rounded to 1e-9 so 3 × 0.2 prints as 0.6.
    (start..=end)
        .map(|i| (i as f64 * step * 1e9).round() / 1e9)
        .collect()
}

/// A linear map from a data domain onto a pixel range.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Domain start.
    pub d0: f64,
    /// Domain end.
    pub d1: f64,
    /// Pixel at `d0`.
    pub r0: f64,
    /// Pixel at `d1`.
    pub r1: f64,
}

impl Scale {
    /// The pixel of a data value.
    pub fn at(&self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            return self.r0;
        }
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// The plot area of a chart of `height`.
pub fn plot_box(height: f64) -> (f64, f64, f64, f64) {
    (LEFT, WIDTH - RIGHT, TOP, height - BOTTOM)
}

/// Opens an `<svg>` with a `<title>`.
pub fn open(out: &mut String, height: f64, title: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\"><title>{}</title>",
        c(WIDTH),
        c(height),
        c(WIDTH),
        c(height),
        esc(title)
    );
}

/// Axis titles: x under the plot, y rotated on the left.
pub fn axis_labels(out: &mut String, height: f64, x_label: &str, y_label: &str) {
    let (x0, x1, y0, y1) = plot_box(height);
    let _ = write!(
        out,
        "<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        c((x0 + x1) / 2.0),
        c(height - 12.0),
        esc(x_label)
    );
    let _ = write!(
        out,
        "<text class=\"axis-label\" transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        c((y0 + y1) / 2.0),
        esc(y_label)
    );
}

/// A numeric y axis with grid lines at nice ticks, formatted by `fmt`.
pub fn y_axis(out: &mut String, height: f64, y: &Scale, fmt: &dyn Fn(f64) -> String) {
    let (x0, x1, _, _) = plot_box(height);
    for t in ticks(y.d0.min(y.d1), y.d0.max(y.d1), 5) {
        let py = c(y.at(t));
        let _ = write!(
            out,
            "<line class=\"gridline\" x1=\"{}\" y1=\"{py}\" x2=\"{}\" y2=\"{py}\"/><text class=\"tick\" x=\"{}\" y=\"{py}\" dy=\"0.32em\" text-anchor=\"end\">{}</text>",
            c(x0),
            c(x1),
            c(x0 - 6.0),
            esc(&fmt(t))
        );
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
        c(x0),
        c(y.r0.max(y.r1)),
        c(x0),
        c(y.r0.min(y.r1))
    );
}

/// A numeric x axis with ticks, formatted by `fmt`.
pub fn x_axis(out: &mut String, height: f64, x: &Scale, fmt: &dyn Fn(f64) -> String) {
    let (x0, x1, _, y1) = plot_box(height);
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
        c(x0),
        c(y1),
        c(x1),
        c(y1)
    );
    for t in ticks(x.d0.min(x.d1), x.d0.max(x.d1), 6) {
        let px = c(x.at(t));
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{px}\" y1=\"{}\" x2=\"{px}\" y2=\"{}\"/><text class=\"tick\" x=\"{px}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            c(y1),
            c(y1 + 5.0),
            c(y1 + 18.0),
            esc(&fmt(t))
        );
    }
}

/// Category labels along the x axis at pixel centres.
pub fn x_categories(out: &mut String, height: f64, labels: &[(f64, String)]) {
    let (x0, x1, _, y1) = plot_box(height);
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
        c(x0),
        c(y1),
        c(x1),
        c(y1)
    );
    for (px, l) in labels {
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            c(*px),
            c(y1 + 18.0),
            esc(l)
        );
    }
}

/// A legend row of coloured squares and names at the right of the plot, top at `y`.
pub fn legend(out: &mut String, y: f64, items: &[(&str, &str)]) {
    let mut x = WIDTH - RIGHT - 120.0 * items.len() as f64;
    for (color, name) in items {
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text class=\"tick\" x=\"{}\" y=\"{}\">{}</text>",
            c(x),
            c(y),
            c(x + 16.0),
            c(y + 10.0),
            esc(name)
        );
        x += 120.0;
    }
}

/// A blend from white to `#1f5fa8` for a share in `[0, 1]`.
pub fn heat(share: f64) -> String {
    let s = share.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * s).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(247.0, 31.0),
        mix(250.0, 95.0),
        mix(255.0, 168.0)
    )
}

/// Text colour readable on [`heat`]`(share)`.
pub fn heat_text(share: f64) -> &'static str {
    if share > 0.55 {
        "#ffffff"
    } else {
        "#1d2733"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice_and_cover_the_range() {
        assert_eq!(ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            ticks(0.0, 100.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(ticks(0.0, 7.0, 6), vec![0.0, 2.0, 4.0, 6.0]);
    }

    #[test]
    fn scale_escape_and_colours() {
        let s = Scale {
            d0: 0.0,
            d1: 10.0,
            r0: 100.0,
            r1: 0.0,
        };
        assert_eq!(s.at(2.5), 75.0);
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(heat(0.0), "#f7faff");
        assert_eq!(heat(1.0), "#1f5fa8");
        assert_eq!(c(-0.01), "0.0");
        assert_eq!(num(12345.0), "12.3k");
        assert_eq!(pct(0.1234), "12.3%");
    }
}
