//! Sentiment throughput and model load time.
//!
//! `cargo bench --bench sentiment` (optionally `-- N` comments, default 200 000).
//! Data: synthetic comments of ~30–80 characters, half Chinese, half English (a few mixed),
//! built from templates with a fixed seed. Reports model load time (embedded JSON → scorer) and
//! comments/s with 1 thread and with all threads (rayon `score_batch`).
use ltv::sentiment::SentimentScorer;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

const ZH_PARTS: &[&str] = &[
    "质量很好",
    "物流也快",
    "下次还买",
    "包装有点破损",
    "客服态度不错",
    "味道一般般",
    "不太满意",
    "性价比很高",
    "颜色和图片不一样",
    "发货太慢了",
    "孩子很喜欢",
    "已经回购好几次了",
    "没有想象中的好",
    "做工精细",
    "尺码偏小",
    "非常失望",
    "推荐给朋友了",
    "还可以吧",
];
const EN_PARTS: &[&str] = &[
    "great quality",
    "arrived quickly",
    "will buy again",
    "the box was damaged",
    "tastes a bit bland",
    "not what I expected",
    "my kids love it",
    "way too expensive",
    "customer service was helpful",
    "never ordering again",
    "pretty good value",
    "NOT worth it",
    "absolutely delicious!",
    "it's okay I guess",
    "smells strange",
];

fn comment(rng: &mut ChaCha8Rng) -> String {
    let zh = rng.gen_bool(0.5);
    let (parts, sep, target) = if zh {
        (ZH_PARTS, "，", rng.gen_range(12..30))
    } else {
        (EN_PARTS, ", ", rng.gen_range(30..80))
    };
    let mut s = String::new();
    while s.chars().count() < target {
        if !s.is_empty() {
            s.push_str(sep);
        }
        s.push_str(parts.choose(rng).unwrap());
    }
    if rng.gen_bool(0.05) {
        s.push_str(if zh { " good" } else { " 好评" });
    }
    if rng.gen_bool(0.3) {
        s.push_str(if zh { "！" } else { "!" });
    }
    s
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let texts: Vec<String> = (0..n).map(|_| comment(&mut rng)).collect();
    let mean_chars = texts.iter().map(|t| t.chars().count()).sum::<usize>() as f64 / n as f64;

    let mut loads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let s = SentimentScorer::embedded().unwrap();
        loads.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(s);
    }
    loads.sort_by(f64::total_cmp);
    let scorer = SentimentScorer::embedded().unwrap();

    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let run = |pool: Option<&rayon::ThreadPool>| {
        let mut best = f64::INFINITY;
        let mut out = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            out = match pool {
                Some(p) => p.install(|| scorer.score_batch(&texts)),
                None => scorer.score_batch(&texts),
            };
            best = best.min(t.elapsed().as_secs_f64());
        }
        (n as f64 / best, out)
    };
    let (rate1, out1) = run(Some(&one));
    let (rate_all, out_all) = run(None);
    assert_eq!(out1, out_all, "thread count changed the output");
    let pos = out_all.iter().filter(|s| s.score > 0.0).count();

    println!(
        "sentiment bench: {n} synthetic comments, mean {mean_chars:.1} chars, {:.0}% scored > 0",
        100.0 * pos as f64 / n as f64
    );
    println!(
        "machine: {} logical cores available to rayon",
        rayon::current_num_threads()
    );
    println!(
        "model load (embedded zh+en+VADER): min {:.1} ms, median {:.1} ms",
        loads[0], loads[2]
    );
    println!("throughput 1 thread : {rate1:>10.0} comments/s");
    println!("throughput all      : {rate_all:>10.0} comments/s");
}
