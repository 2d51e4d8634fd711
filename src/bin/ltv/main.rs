//! The `ltv` command-line tool: parses arguments and calls the library.
mod args;
mod commands;
mod output;
mod settings;

use clap::Parser;

fn main() {
    // Usage errors exit 1 like every other bad input (README: 0 ok, 1 bad input or flags,
    // 2 internal error); --help and --version exit 0.
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    output::init(&cli.global);
    let code = match commands::dispatch(cli) {
        Ok(()) => 0,
        Err(err) => output::report_error(&err),
    };
    std::process::exit(code);
}
