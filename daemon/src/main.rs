//! The `wawebd` binary: argument parsing and error reporting; the work lives in the library.

mod cli;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let result = if args.get(1).is_some_and(|arg| arg == cli::docs::MAN) {
        cli::docs::man_pages(args.into_iter().skip(2))
    } else {
        cli::run(cli::Cli::parse())
    };
    match result {
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
