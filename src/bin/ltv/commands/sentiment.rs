//! `ltv sentiment …`.
/// The `ltv sentiment` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Score text.
    Score {},
}
/// Runs an `ltv sentiment` subcommand.
pub fn run(_cmd: Command, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
