//! `ltv features`.
/// Arguments of `ltv features`.
#[derive(Debug, clap::Args)]
pub struct Args {}
/// Runs `ltv features`.
pub fn run(_args: Args, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
