//! A small, dependency-free L-BFGS minimiser with a strong-Wolfe line search (Nocedal & Wright,
//! "Numerical Optimization", 2nd ed., algorithms 7.4, 3.5 and 3.6), used by the BTYD models to
//! maximise their likelihoods over a handful of log-parameters.
//!
//! The objective is a closure `f(x, grad) -> value` that writes the gradient into `grad`. A
//! non-finite value is treated as "too far": the line search shrinks the step.

/// Stopping rules for [`minimize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Maximum number of L-BFGS iterations (each one line search).
    pub max_iterations: usize,
    /// Converged when the largest absolute gradient component is at or below this.
    pub gradient_tolerance: f64,
    /// Number of correction pairs kept (the "memory" of L-BFGS).
    pub memory: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_iterations: 1000,
            gradient_tolerance: 1e-9,
            memory: 10,
        }
    }
}

/// What [`minimize`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The last (best) point.
    pub x: Vec<f64>,
    /// The objective at `x`.
    pub value: f64,
    /// The gradient at `x`.
    pub gradient: Vec<f64>,
    /// Iterations run.
    pub iterations: usize,
    /// Objective evaluations made.
    pub evaluations: usize,
    /// Whether the gradient test was met.
    pub converged: bool,
    /// Why the run stopped, in words.
    pub message: String,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Test helper: asserts that the analytic gradient `f` writes at `theta` matches central
/// finite differences (step 1e-6) to a relative error below 1e-5 (floored at 1e-3 absolute).
#[cfg(test)]
pub(crate) fn assert_gradient_matches_finite_differences(
    f: impl Fn(&[f64], &mut [f64]) -> f64,
    theta: &[f64],
) {
    let n = theta.len();
    let mut grad = vec![0.0; n];
    f(theta, &mut grad);
    let mut tmp = vec![0.0; n];
    for j in 0..n {
        let h = 1e-6;
        let (mut up, mut dn) = (theta.to_vec(), theta.to_vec());
        up[j] += h;
        dn[j] -= h;
        let fd = (f(&up, &mut tmp) - f(&dn, &mut tmp)) / (2.0 * h);
        let rel = (grad[j] - fd).abs() / fd.abs().max(1e-3);
        assert!(
            rel < 1e-5,
            "θ={theta:?} j={j}: analytic {} vs fd {fd}",
            grad[j]
        );
    }
}

fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Minimise `f` from `x0` with L-BFGS. Never panics; a run that cannot make progress returns
/// with `converged = false` and a `message` saying why.
pub fn minimize<F>(f: F, x0: &[f64], settings: Settings) -> Outcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    minimize_with_inverse_hessian(f, x0, None, settings)
}

/// [`minimize`] with a dense initial inverse-Hessian guess `h0` (row-major `n × n`, symmetric
/// positive definite) in place of L-BFGS's scalar one: from a good guess (e.g. the inverse
/// Hessian of a subsample fit) the first steps are Newton-like.
pub fn minimize_with_inverse_hessian<F>(
    mut f: F,
    x0: &[f64],
    h0: Option<&[f64]>,
    settings: Settings,
) -> Outcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut evaluations = 1;
    let mut fx = f(&x, &mut g);
    let done = |x: Vec<f64>, fx, g, iterations, evaluations, converged, message: &str| Outcome {
        x,
        value: fx,
        gradient: g,
        iterations,
        evaluations,
        converged,
        message: message.to_string(),
    };
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return done(
            x,
            fx,
            g,
            0,
            evaluations,
            false,
            "objective is not finite at the start",
        );
    }
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho_hist: Vec<f64> = Vec::new();
    let mut dir = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    for iter in 0..settings.max_iterations {
        if inf_norm(&g) <= settings.gradient_tolerance {
            return done(
                x,
                fx,
                g,
                iter,
                evaluations,
                true,
                "gradient below tolerance",
            );
        }
        // Two-loop recursion: dir = −H g.
        dir.copy_from_slice(&g);
        let k = s_hist.len();
        let mut alpha = vec![0.0; k];
        for i in (0..k).rev() {
            alpha[i] = rho_hist[i] * dot(&s_hist[i], &dir);
            for (d, y) in dir.iter_mut().zip(&y_hist[i]) {
                *d -= alpha[i] * y;
            }
        }
        let gamma = if k > 0 {
            dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1])
        } else {
            // First step: a unit step of at most 1 in the largest coordinate.
            1.0 / inf_norm(&g).max(1.0)
        };
        match h0 {
            Some(h) if h.len() == n * n => {
                let q = dir.clone();
                for (i, d) in dir.iter_mut().enumerate() {
                    *d = dot(&h[i * n..(i + 1) * n], &q);
                }
            }
            _ => {
                for d in dir.iter_mut() {
                    *d *= gamma;
                }
            }
        }
        for i in 0..k {
            let beta = rho_hist[i] * dot(&y_hist[i], &dir);
            for (d, s) in dir.iter_mut().zip(&s_hist[i]) {
                *d += (alpha[i] - beta) * s;
            }
        }
        for d in dir.iter_mut() {
            *d = -*d;
        }
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            // Not a descent direction (curvature info went bad): restart with steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            let scale = 1.0 / inf_norm(&g).max(1.0);
            for (d, gi) in dir.iter_mut().zip(&g) {
                *d = -gi * scale;
            }
            slope = dot(&g, &dir);
        }
        let ls = line_search(&mut f, &x, fx, slope, &dir, &mut x_new, &mut g_new);
        evaluations += ls.evaluations;
        let Some((step, f_new)) = ls.result else {
            let converged = inf_norm(&g) <= settings.gradient_tolerance * 100.0;
            return done(
                x,
                fx,
                g,
                iter,
                evaluations,
                converged,
                "line search could not decrease the objective (at the limit of float precision)",
            );
        };
        let s: Vec<f64> = dir.iter().map(|d| d * step).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let f_old = fx;
        fx = f_new;
        if sy > 1e-12 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
            if s_hist.len() == settings.memory {
                s_hist.remove(0);
                y_hist.remove(0);
                rho_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
            rho_hist.push(1.0 / sy);
        }
        // No decrease beyond float resolution and an almost-small gradient: as good as it gets.
        if f_old - fx <= 4.0 * f64::EPSILON * fx.abs().max(1.0)
            && inf_norm(&g) <= settings.gradient_tolerance * 100.0
        {
            return done(
                x,
                fx,
                g,
                iter + 1,
                evaluations,
                true,
                "no further decrease possible",
            );
        }
    }
    let converged = inf_norm(&g) <= settings.gradient_tolerance;
    done(
        x,
        fx,
        g,
        settings.max_iterations,
        evaluations,
        converged,
        "maximum number of iterations reached",
    )
}

struct LineSearch {
    result: Option<(f64, f64)>,
    evaluations: usize,
}

/// Strong-Wolfe line search along `dir` from `x` (N&W algorithms 3.5 + 3.6 with cubic
/// interpolation, safeguarded by bisection). On success `x_new` / `g_new` hold the accepted
/// point and its gradient and the result is `(step, value)`.
fn line_search<F>(
    f: &mut F,
    x: &[f64],
    fx: f64,
    slope0: f64,
    dir: &[f64],
    x_new: &mut [f64],
    g_new: &mut [f64],
) -> LineSearch
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    let mut evaluations = 0;
    let mut eval = |step: f64, x_new: &mut [f64], g_new: &mut [f64]| -> (f64, f64) {
        for ((xn, xi), d) in x_new.iter_mut().zip(x).zip(dir) {
            *xn = xi + step * d;
        }
        let v = f(x_new, g_new);
        let d = dot(g_new, dir);
        if v.is_finite() && d.is_finite() {
            (v, d)
        } else {
            (f64::INFINITY, f64::NAN)
        }
    };
    let mut lo = (0.0, fx, slope0);
    let mut step = 1.0;
    let mut hi: Option<(f64, f64, f64)> = None;
    // Bracketing phase.
    for i in 0..40 {
        evaluations += 1;
        let (v, d) = eval(step, x_new, g_new);
        if !v.is_finite() {
            hi = Some((step, v, d));
            break;
        }
        if v > fx + C1 * step * slope0 || (i > 0 && v >= lo.1) {
            hi = Some((step, v, d));
            break;
        }
        if d.abs() <= -C2 * slope0 {
            return LineSearch {
                result: Some((step, v)),
                evaluations,
            };
        }
        if d >= 0.0 {
            hi = Some(lo);
            lo = (step, v, d);
            break;
        }
        lo = (step, v, d);
        step *= 2.0;
    }
    let Some(mut hi) = hi else {
        return LineSearch {
            result: None,
            evaluations,
        };
    };
    // Zoom phase (a failure here is usually the objective's float resolution: keep it short).
    for _ in 0..20 {
        let (a_lo, f_lo, d_lo) = lo;
        let (a_hi, f_hi, d_hi) = hi;
        let (left, right) = if a_lo < a_hi {
            (a_lo, a_hi)
        } else {
            (a_hi, a_lo)
        };
        let width = right - left;
        if width <= 1e-16 * right.abs().max(1e-300) {
            break;
        }
        // Cubic interpolation between lo and hi when both are finite; else bisection.
        let mut trial = f64::NAN;
        if f_hi.is_finite() && d_hi.is_finite() {
            let d1 = d_lo + d_hi - 3.0 * (f_lo - f_hi) / (a_lo - a_hi);
            let disc = d1 * d1 - d_lo * d_hi;
            if disc >= 0.0 {
                let d2 = (a_hi - a_lo).signum() * disc.sqrt();
                trial = a_hi - (a_hi - a_lo) * (d_hi + d2 - d1) / (d_hi - d_lo + 2.0 * d2);
            }
        }
        if !(trial.is_finite() && trial > left + 0.1 * width && trial < right - 0.1 * width) {
            trial = 0.5 * (left + right);
        }
        evaluations += 1;
        let (v, d) = eval(trial, x_new, g_new);
        if !v.is_finite() || v > fx + C1 * trial * slope0 || v >= f_lo {
            hi = (trial, v, d);
        } else {
            if d.abs() <= -C2 * slope0 {
                return LineSearch {
                    result: Some((trial, v)),
                    evaluations,
                };
            }
            if d * (a_hi - a_lo) >= 0.0 {
                hi = lo;
            }
            lo = (trial, v, d);
        }
    }
    // Fall back to the best sufficient-decrease point found, if any.
    if lo.0 > 0.0 && lo.1 < fx {
        evaluations += 1;
        let (v, _) = eval(lo.0, x_new, g_new);
        return LineSearch {
            result: Some((lo.0, v)),
            evaluations,
        };
    }
    LineSearch {
        result: None,
        evaluations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rosenbrock_minimum() {
        // Known minimum (1, 1) with value 0.
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let out = minimize(f, &[-1.2, 1.0], Settings::default());
        assert!(out.converged, "{}", out.message);
        assert!(
            (out.x[0] - 1.0).abs() < 1e-8 && (out.x[1] - 1.0).abs() < 1e-8,
            "{:?}",
            out.x
        );
    }

    #[test]
    fn quadratic_with_infinite_region() {
        // f = Σ (x_i − i)² for x_0 < 3, +∞ beyond: the line search must back off.
        let f = |x: &[f64], g: &mut [f64]| {
            if x[0] > 3.0 {
                return f64::INFINITY;
            }
            let mut v = 0.0;
            for (i, (xi, gi)) in x.iter().zip(g.iter_mut()).enumerate() {
                v += (xi - i as f64).powi(2);
                *gi = 2.0 * (xi - i as f64);
            }
            v
        };
        let out = minimize(f, &[2.9, 10.0, -4.0], Settings::default());
        assert!(out.converged, "{}", out.message);
        for (i, xi) in out.x.iter().enumerate() {
            assert!((xi - i as f64).abs() < 1e-8);
        }
    }
}
