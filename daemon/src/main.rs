//! The `wawebd` binary: argument parsing and error reporting; the work lives in the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("wawebd: {error:#}");
            ExitCode::FAILURE
        }
    }
}
