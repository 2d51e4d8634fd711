//! Throughput of `ltv::synth::generate`.
//!
//! Run: `cargo bench --bench synth -- [CUSTOMERS] [EVENTS_PER_CUSTOMER]` (defaults 1 000 000
//! and 20). Writes into a temporary directory and prints wall time, rows and bytes.
use ltv::synth::{generate, SynthParams};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let customers = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let events = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20.0);
    let params = SynthParams::default()
        .customers(customers)
        .events_per_customer(events);
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let s = generate(&params, dir.path(), &|_| {}).expect("generate");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "synth: {customers} customers, events_per_customer {events}, threads {}: {secs:.2} s; \
         {} orders, {} events, {} comments, {:.1} MB ({:.0} MB/s)",
        rayon::current_num_threads(),
        s.orders,
        s.events,
        s.comments,
        s.bytes as f64 / 1e6,
        s.bytes as f64 / 1e6 / secs
    );
}
