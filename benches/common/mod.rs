//! Helpers shared by the benchmark binaries (each includes this file with `#[path]`).
#![allow(dead_code)]

/// CPU seconds (user + system, all threads) used by this process so far (Linux; NaN elsewhere).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    // Fields 14 and 15 of stat (utime, stime, in 1/100 s) are the 12th and 13th after `)`.
    let field = |k: usize| {
        after
            .split_whitespace()
            .nth(k)
            .and_then(|v| v.parse::<f64>().ok())
    };
    field(11)
        .zip(field(12))
        .map_or(f64::NAN, |(u, s)| (u + s) / 100.0)
}

/// Coefficient of determination of predictions `p` for targets `y`.
pub fn r2(y: &[f64], p: &[f64]) -> f64 {
    let m = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - m).powi(2)).sum();
    1.0 - ss_res / ss_tot
}
