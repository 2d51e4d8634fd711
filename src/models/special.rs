//! Special functions for the BTYD models: `ln Γ`, digamma `ψ`, and the Gauss hypergeometric
//! function `₂F₁(a, b; c; z)` on the real line left of 1 (the domain the BG/NBD formulas use).
//!
//! Everything here is plain `f64` code with no dependencies, accurate to about 1e-14 relative
//! on the arguments the models use (positive `Γ` arguments, `z ∈ (−∞, 1)`).

use crate::{Error, Result};
use std::f64::consts::PI;

/// Lanczos coefficients (g = 7, n = 9), as in Numerical Recipes 3rd ed. / Boost's "lanczos13"
/// family; relative error below 1e-15 for positive arguments.
const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// `ln |Γ(x)|` for real `x` that is not a non-positive integer (there it returns `+∞`).
///
/// Lanczos approximation for `x ≥ 0.5`, reflection `Γ(x)Γ(1−x) = π / sin(πx)` below.
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.5 {
        let s = (PI * x).sin();
        if s == 0.0 {
            return f64::INFINITY;
        }
        // ln|Γ(x)| = ln π − ln|sin πx| − ln|Γ(1−x)|
        return PI.ln() - s.abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut acc = LANCZOS[0];
    let t = x + LANCZOS_G + 0.5;
    for (i, &c) in LANCZOS.iter().enumerate().skip(1) {
        acc += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + acc.ln()
}

/// The sign of `Γ(x)` (+1 or −1); `Γ` is positive for `x > 0` and alternates between the poles.
pub fn gamma_sign(x: f64) -> f64 {
    if x > 0.0 {
        return 1.0;
    }
    // On (−k−1, −k) the sign is (−1)^(k+1).
    let k = (-x).floor();
    if (k as i64) % 2 == 0 {
        -1.0
    } else {
        1.0
    }
}

/// Digamma `ψ(x) = d ln Γ(x) / dx` for real `x` that is not a non-positive integer.
///
/// Recurrence `ψ(x) = ψ(x+1) − 1/x` up to `x ≥ 10`, then the asymptotic series; reflection
/// `ψ(1−x) − ψ(x) = π cot(πx)` for negative `x`.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        let s = (PI * x).sin();
        if s == 0.0 {
            return f64::NAN;
        }
        return digamma(1.0 - x) - PI * (PI * x).cos() / s;
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli-number series: −1/(2x) − Σ B_2k / (2k x^{2k}).
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0 - inv2 * (1.0 / 132.0 - inv2 * 691.0 / 32760.0)))));
    acc + x.ln() - 0.5 * inv - series
}

/// Largest number of series terms [`hyp2f1`] sums before giving up.
const MAX_TERMS: usize = 20_000_000;

/// Direct Gauss series `Σ (a)_n (b)_n / ((c)_n n!) zⁿ` for `|z| < 1`.
fn series(a: f64, b: f64, c: f64, z: f64) -> Result<f64> {
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for n in 0..MAX_TERMS {
        let nf = n as f64;
        term *= (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
        sum += term;
        if term == 0.0 {
            return Ok(sum);
        }
        // Past the point where the term ratio is below 1 in magnitude, stop once the term is
        // negligible. The ratio tends to z, so the tail is bounded by |term| / (1 − |z|).
        let ratio = ((a + nf + 1.0) * (b + nf + 1.0) / ((c + nf + 1.0) * (nf + 2.0)) * z).abs();
        if ratio < 1.0 && term.abs() <= 1e-17 * sum.abs() * (1.0 - ratio) {
            return Ok(sum);
        }
        if !sum.is_finite() {
            break;
        }
    }
    Err(Error::Fit(format!(
        "hyp2f1({a}, {b}; {c}; {z}): series did not converge"
    )))
}

/// Gauss hypergeometric function `₂F₁(a, b; c; z)` for real parameters and `z < 1`.
///
/// * `z < 0`: Pfaff's transformation `₂F₁(a,b;c;z) = (1−z)^(−a) ₂F₁(a, c−b; c; z/(z−1))`
///   (or the one with `a` and `b` swapped, whichever series converges faster) moves the
///   argument into `[0, 1)`.
/// * `0 ≤ z ≤ 0.9`: the Gauss series.
/// * `0.9 < z < 1`: the connection formula to `1 − z` (Abramowitz & Stegun 15.3.6) when
///   `c − a − b` is at least 1e-3 from an integer; otherwise the Gauss series (slow but exact).
///
/// Errors ([`Error::InvalidParameter`]) for `z ≥ 1`, non-finite input or `c` a non-positive
/// integer; [`Error::Fit`] if the series does not converge in 2·10⁷ terms.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64> {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "hyp2f1 arguments",
            value: format!("({a}, {b}, {c}, {z})"),
            reason: "all arguments must be finite".into(),
        });
    }
    if z >= 1.0 {
        return Err(Error::InvalidParameter {
            name: "z",
            value: z.to_string(),
            reason: "hyp2f1 is implemented for z < 1 only".into(),
        });
    }
    if c <= 0.0 && c == c.floor() {
        return Err(Error::InvalidParameter {
            name: "c",
            value: c.to_string(),
            reason: "c must not be a non-positive integer".into(),
        });
    }
    if z == 0.0 || a == 0.0 || b == 0.0 {
        return Ok(1.0);
    }
    if z < 0.0 {
        let w = z / (z - 1.0);
        // Either Pfaff form is valid; prefer the one whose series terminates or whose first
        // parameters are smaller in magnitude (fewer, better-behaved terms).
        let (p1, p2) = ((a, c - b), (b, c - a));
        let cost = |(u, v): (f64, f64)| {
            let term = |s: f64| {
                if s <= 0.0 && s == s.floor() {
                    0.0
                } else {
                    s.abs()
                }
            };
            term(u) * term(v)
        };
        let (lead, other) = if cost(p1) <= cost(p2) { p1 } else { p2 };
        return Ok((1.0 - z).powf(-lead) * hyp2f1_unit(lead, other, c, w)?);
    }
    hyp2f1_unit(a, b, c, z)
}

/// `₂F₁` for `0 ≤ z < 1`.
fn hyp2f1_unit(a: f64, b: f64, c: f64, z: f64) -> Result<f64> {
    if z <= 0.9 {
        return series(a, b, c, z);
    }
    let m = c - a - b;
    let terminates = |s: f64| s <= 0.0 && s == s.floor();
    if (m - m.round()).abs() < 1e-3 || terminates(a) || terminates(b) {
        return series(a, b, c, z);
    }
    // A&S 15.3.6: two series in 1 − z with Γ-function weights (signed, via ln|Γ|).
    let gw = |num: [f64; 2], den: [f64; 2]| -> f64 {
        let sign =
            gamma_sign(num[0]) * gamma_sign(num[1]) * gamma_sign(den[0]) * gamma_sign(den[1]);
        let any_pole = den.iter().any(|&d| terminates(d));
        if any_pole {
            return 0.0; // 1/Γ(pole) = 0
        }
        sign * (ln_gamma(num[0]) + ln_gamma(num[1]) - ln_gamma(den[0]) - ln_gamma(den[1])).exp()
    };
    let y = 1.0 - z;
    let w1 = gw([c, m], [c - a, c - b]);
    let w2 = gw([c, -m], [a, b]);
    let s1 = if w1 == 0.0 {
        0.0
    } else {
        series(a, b, 1.0 - m, y)?
    };
    let s2 = if w2 == 0.0 {
        0.0
    } else {
        series(c - a, c - b, m + 1.0, y)?
    };
    Ok(w1 * s1 + y.powf(m) * w2 * s2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn ln_gamma_known_values() {
        // Γ(n) = (n−1)!
        assert_relative_eq!(ln_gamma(1.0), 0.0, epsilon = 1e-14);
        assert_relative_eq!(ln_gamma(5.0), 24f64.ln(), epsilon = 1e-13);
        assert_relative_eq!(
            ln_gamma(21.0),
            2_432_902_008_176_640_000f64.ln(),
            max_relative = 1e-14
        );
        // Γ(1/2) = √π, Γ(−1/2) = −2√π
        assert_relative_eq!(ln_gamma(0.5), 0.5 * PI.ln(), epsilon = 1e-14);
        assert_relative_eq!(ln_gamma(-0.5), (2.0 * PI.sqrt()).ln(), epsilon = 1e-13);
        assert_eq!(gamma_sign(-0.5), -1.0);
        assert_eq!(gamma_sign(-1.5), 1.0);
        // Stirling-checked large argument: ln Γ(1000) (mpmath.loggamma(1000)).
        assert_relative_eq!(ln_gamma(1000.0), 5905.220423209181, max_relative = 1e-14);
    }

    #[test]
    fn digamma_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(n+1) = ψ(n) + 1/n
        let euler = 0.577_215_664_901_532_9;
        assert_relative_eq!(digamma(1.0), -euler, epsilon = 1e-14);
        assert_relative_eq!(digamma(0.5), -euler - 2.0 * 2f64.ln(), epsilon = 1e-14);
        assert_relative_eq!(
            digamma(4.0),
            -euler + 1.0 + 0.5 + 1.0 / 3.0,
            epsilon = 1e-14
        );
        assert_relative_eq!(
            digamma(-0.5),
            digamma(1.5) - PI * (PI * -0.5).cos() / (PI * -0.5).sin(),
            epsilon = 1e-13
        );
        // Derivative of ln_gamma by central differences.
        for &x in &[0.05f64, 0.3, 2.7, 17.0, 300.0] {
            let h = 1e-5 * x.max(1.0);
            let fd = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert_relative_eq!(digamma(x), fd, max_relative = 1e-7);
        }
    }

    #[test]
    fn hyp2f1_closed_forms() {
        // ₂F₁(1,1;2;z) = −ln(1−z)/z, on both sides of 0 and near 1.
        for &z in &[
            -50.0, -3.0, -0.7, -1e-3, 1e-3, 0.3, 0.85, 0.93, 0.99, 0.9999,
        ] {
            let want = -(1.0f64 - z).ln() / z;
            assert_relative_eq!(
                hyp2f1(1.0, 1.0, 2.0, z).unwrap(),
                want,
                max_relative = 1e-11
            );
        }
        // ₂F₁(a,b;b;z) = (1−z)^(−a)
        for &(a, b, z) in &[
            (0.7, 2.3, 0.5),
            (3.1, 0.4, -2.0),
            (1.7, 5.5, 0.95),
            (0.25, 9.0, -20.0),
        ] {
            assert_relative_eq!(
                hyp2f1(a, b, b, z).unwrap(),
                (1.0 - z).powf(-a),
                max_relative = 1e-11
            );
        }
        // ₂F₁(1/2,1/2;3/2;z²) = arcsin(z)/z
        for &s in &[0.2, 0.7, 0.97] {
            let z: f64 = s;
            assert_relative_eq!(
                hyp2f1(0.5, 0.5, 1.5, z * z).unwrap(),
                z.asin() / z,
                max_relative = 1e-11
            );
        }
        // Terminating series: ₂F₁(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1))
        let (b, c, z) = (1.5, 2.5, -4.0);
        let want = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
        assert_relative_eq!(hyp2f1(-2.0, b, c, z).unwrap(), want, max_relative = 1e-13);
    }

    #[test]
    fn hyp2f1_matches_mpmath() {
        // Reference values from mpmath 1.3 (independent arbitrary-precision implementation):
        //   python3 -c "import mpmath; mpmath.mp.dps=30; print(mpmath.hyp2f1(a,b,c,z))"
        let cases = [
            // (a, b, c, z, mpmath value)
            (
                0.2426 + 2.0,
                2.4258 + 2.0,
                0.7929 + 2.4258 + 1.0,
                0.5,
                MP[0],
            ),
            (1.3, 2.7, 0.9, 0.95, MP[1]),
            (12.5, 3.2, 8.1, 0.7, MP[2]),
            (0.8, 1.9, 3.3, -7.5, MP[3]),
            (2.5, -0.3, 1.7, 0.999, MP[4]),
        ];
        for (a, b, c, z, want) in cases {
            let got = hyp2f1(a, b, c, z).unwrap();
            assert_relative_eq!(got, want, max_relative = 1e-11);
        }
    }

    /// mpmath values for `hyp2f1_matches_mpmath`, in the same order (rounded to f64).
    const MP: [f64; 5] = [
        5.160_438_863_784_008,
        17_968.879_690_372_83,
        1_092.939_003_019_712_3,
        0.294_155_899_278_126,
        -8.265_020_347_827_753,
    ];

    #[test]
    fn hyp2f1_rejects_bad_input() {
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_err());
        assert!(hyp2f1(1.0, 1.0, -2.0, 0.5).is_err());
        assert!(hyp2f1(f64::NAN, 1.0, 2.0, 0.5).is_err());
    }
}
