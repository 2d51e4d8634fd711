//! Benchmark: fit BG/NBD and Gamma-Gamma on simulated customers (default 1,000,000) and print
//! wall times. The simulated summaries are written to
//! `target/btyd_bench/summaries_<n>.csv` (`frequency,recency,T,monetary_value`, weeks) so that
//! `benches/compare/btyd_lifetimes.py` fits `lifetimes` on the same data.
//!
//! Run: `cargo bench --bench btyd` or `cargo bench --bench btyd -- 200000`.
use ltv::models::bgnbd::BgNbd;
use ltv::models::gamma_gamma::GammaGamma;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;
use common::cpu_seconds;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let truth = BgNbd::from_parameters(0.25, 4.0, 0.8, 2.5)?;
    let spend = GammaGamma::from_parameters(6.0, 4.0, 15.0)?;
    let t0 = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let ages: Vec<f64> = (0..n).map(|_| rng.gen_range(1.0..104.0)).collect();
    let data = truth.simulate(&ages, 1);
    let freqs: Vec<f64> = data.iter().map(|s| s.frequency).collect();
    let spends = spend.simulate(&freqs, 2);
    eprintln!("simulated {n} customers in {:.2?}", t0.elapsed());

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/btyd_bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("summaries_{n}.csv"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(out, "frequency,recency,T,monetary_value")?;
    let mut it = spends.iter();
    for s in &data {
        let m = if s.frequency > 0.0 {
            it.next().map_or(0.0, |p| p.1)
        } else {
            0.0
        };
        writeln!(out, "{},{},{},{}", s.frequency, s.recency, s.age, m)?;
    }
    out.flush()?;
    eprintln!("wrote {}", path.display());

    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let bg = BgNbd::params().fit(&data)?;
    let bg_time = t.elapsed();
    let t = Instant::now();
    let gg = GammaGamma::params().fit(&spends)?;
    let gg_time = t.elapsed();
    let fit_cpu = cpu_seconds() - cpu0;
    let t = Instant::now();
    let pred = bg.predict_expected_purchases(52.0, &data)?;
    let pred_time = t.elapsed();
    println!(
        "ltv BG/NBD fit: {n} customers, {:.3} s, {} iterations, r={:.4} alpha={:.4} a={:.4} b={:.4}",
        bg_time.as_secs_f64(),
        bg.iterations,
        bg.r,
        bg.alpha,
        bg.a,
        bg.b
    );
    println!(
        "ltv Gamma-Gamma fit: {} repeat customers, {:.3} s, {} iterations, p={:.4} q={:.4} v={:.4}",
        spends.len(),
        gg_time.as_secs_f64(),
        gg.iterations,
        gg.p,
        gg.q,
        gg.v
    );
    println!(
        "ltv expected purchases (52 weeks) for {n} customers: {:.3} s (mean {:.4})",
        pred_time.as_secs_f64(),
        pred.iter().sum::<f64>() / n as f64
    );
    println!(
        "ltv total fit (BG/NBD + Gamma-Gamma): wall {:.3} s, cpu {:.2} s, {} threads",
        (bg_time + gg_time).as_secs_f64(),
        fit_cpu,
        rayon::current_num_threads()
    );
    Ok(())
}
