//! `ltv synth`.
/// Arguments of `ltv synth`.
#[derive(Debug, clap::Args)]
pub struct Args {}
/// Runs `ltv synth`.
pub fn run(_args: Args, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
