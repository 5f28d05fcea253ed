//! The command line of `wawebd` (DESIGN.md section 2).

mod decode;
mod demo;
pub mod docs;
mod logging;
mod media;
mod reload;
mod run;
mod sim;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keeps one legacy WhatsApp Web session alive and serves it over a Unix socket.
#[derive(Debug, Parser)]
#[command(
    name = "wawebd",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Run against an in-process simulator whose phone scans the QR by itself and whose
    /// contacts keep writing; nothing leaves the machine.
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    run: run::Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run(run::Args),
    /// Verify, decrypt and decode captured frames or plain nodes, printing JSON.
    Decode(decode::Args),
    /// Run the simulator of the server, the phone and the media host (control on stdin/stdout).
    Sim(sim::Args),
    /// Encrypt or decrypt media blobs offline, streaming.
    #[command(subcommand)]
    Media(media::Command),
    /// Print a shell completion script
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Decode(args)) => decode::run(args),
        Some(Command::Media(command)) => media::run(command),
        Some(Command::Sim(args)) => sim::run(args),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Completions { shell }) => docs::completions(shell),
        None if cli.demo => demo::run(cli.run),
        None => run::run(cli.run),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
