//! `ltv model …`: inspect model files; promote an earlier month's model to champion.
use ltv::config::Overrides;
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
    /// Make an earlier month's model the champion of `ltv run` (roll back) and pin it: copies
    /// `<output>/<M>/model.json` to `<output>/champion.json`, names M in `champion.txt` and
    /// writes `champion.pinned`. While pinned, `ltv run` (a cron retry of a later month
    /// included) keeps M as champion and scores with it; `ltv model unpin` lets runs promote
    /// challengers again. Exit 3 if a run holds the lock.
    ///
    /// Example:
    ///   ltv model promote --month 2025-05 --config ltv.toml
    #[command(verbatim_doc_comment)]
    Promote {
        /// The month whose model becomes champion, `YYYY-MM`.
        #[arg(long, value_name = "YYYY-MM")]
        month: String,
        /// The configuration file (for the output directory).
        #[arg(long, default_value = "ltv.toml", value_name = "TOML")]
        config: PathBuf,
        /// The runs directory (overrides the config and LTV_OUTPUT_DIR).
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
    },
    /// Remove the pin of `ltv model promote`: later runs compare challengers with the champion
    /// and promote them again. Exit 3 if a run holds the lock.
    ///
    /// Example:
    ///   ltv model unpin --config ltv.toml
    #[command(verbatim_doc_comment)]
    Unpin {
        /// The configuration file (for the output directory).
        #[arg(long, default_value = "ltv.toml", value_name = "TOML")]
        config: PathBuf,
        /// The runs directory (overrides the config and LTV_OUTPUT_DIR).
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
    },
}

/// Runs an `ltv model` subcommand.
pub fn run(cmd: Command, quiet: bool) -> anyhow::Result<()> {
    match cmd {
        Command::Promote {
            month,
            config,
            output_dir,
        } => {
            let cli = Overrides {
                output_dir,
                ..Overrides::default()
            };
            let result = super::run::load_config(&config, &cli).and_then(|c| {
                ltv::monthly::promote(&c.output_dir, &month)?;
                Ok(c.output_dir)
            });
            match result {
                Ok(dir) => {
                    if !quiet {
                        eprintln!(
                            "champion is now {month} (`{}`), pinned: runs keep it until `ltv model unpin`",
                            dir.join("champion.json").display()
                        );
                    }
                    Ok(())
                }
                Err(e) => super::run::fail(e),
            }
        }
        Command::Unpin { config, output_dir } => {
            let cli = Overrides {
                output_dir,
                ..Overrides::default()
            };
            let result = super::run::load_config(&config, &cli)
                .and_then(|c| Ok(ltv::monthly::unpin(&c.output_dir)?));
            match result {
                Ok(was) => {
                    if !quiet {
                        match was {
                            Some(m) => {
                                eprintln!("unpinned {m}: runs may promote challengers again")
                            }
                            None => eprintln!("nothing was pinned"),
                        }
                    }
                    Ok(())
                }
                Err(e) => super::run::fail(e),
            }
        }
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
