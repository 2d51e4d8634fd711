//! The `ltv` command-line tool: parses arguments and calls the library.
mod args;
mod commands;
mod output;
mod settings;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    output::init(&cli.global);
    let code = match commands::dispatch(cli) {
        Ok(()) => 0,
        Err(err) => output::report_error(&err),
    };
    std::process::exit(code);
}
