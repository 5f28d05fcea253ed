//! The command line of `wawebd` (DESIGN.md section 2).

mod decode;
mod media;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keeps one legacy WhatsApp Web session alive and serves it over a Unix socket.
#[derive(Debug, Parser)]
#[command(name = "wawebd", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify, decrypt and decode captured frames or plain nodes, printing JSON.
    Decode(decode::Args),
    /// Encrypt or decrypt media blobs offline, streaming.
    #[command(subcommand)]
    Media(media::Command),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Decode(args)) => decode::run(args),
        Some(Command::Media(command)) => media::run(command),
        None => anyhow::bail!("the daemon itself is not built yet; try `wawebd --help`"),
    }
}
