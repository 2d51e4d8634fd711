//! One module per subcommand; each turns its flags into library calls.
pub mod evaluate;
pub mod features;
pub mod model;
pub mod report;
pub mod run;
pub mod score;
pub mod sentiment;
pub mod synth;
pub mod tiers;
pub mod train;

use crate::args::{Cli, Command};

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    if let Some(n) = cli.global.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot start {n} threads: {e}"))?;
    }
    let quiet = cli.global.quiet;
    match cli.command {
        Command::Features(a) => features::run(a, quiet),
        Command::Synth(a) => synth::run(a, quiet),
        Command::Sentiment(c) => sentiment::run(c, quiet),
        Command::Train(a) => train::run(a, quiet),
        Command::Evaluate(a) => evaluate::run(a, quiet),
        Command::Score(a) => score::run(a, quiet),
        Command::Report(a) => report::run(a, quiet),
        Command::Model(c) => model::run(c, quiet),
        Command::Run(a) => run::run(a, quiet),
        Command::Tiers(c) => tiers::run(c, quiet),
    }
}
