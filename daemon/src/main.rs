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
            // A log level the daemon does not understand is a usage error, as clap's own are.
            match error.downcast_ref::<wawebd::config::Error>() {
                Some(wawebd::config::Error::LogLevel { .. }) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
