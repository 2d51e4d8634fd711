//! `ltv model …`: inspect model files.
use ltv::models::file::ModelFile;
use std::path::PathBuf;

/// The `ltv model` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a readable summary of a model file.
    Show {
        /// The model file.
        file: PathBuf,
    },
}

/// Runs an `ltv model` subcommand.
pub fn run(cmd: Command, _quiet: bool) -> anyhow::Result<()> {
    match cmd {
        Command::Show { file } => {
            let m = ModelFile::load(&file)?;
            let text = format!(
                "{}{}\n",
                ltv::pipeline::describe(&m, &file),
                crate::output::comparison_table(&m.model_comparison, m.model)
            );
            crate::output::print(&text)
        }
    }
}
