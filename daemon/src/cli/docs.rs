//! `wawebd completions SHELL` and `wawebd man --out DIR`: both are rendered from the clap
//! definitions that `--help` prints, so the package's man pages and completion scripts cannot
//! drift from the binary they ship with (docs/DESIGN.md, section 13 "Packaging").
//!
//! `man` is a packaging step, not a user command. It is not part of [`Cli`] but parsed by
//! `main` before it: clap_complete offers even hidden subcommands, and this way neither
//! `--help`, the completions nor the man pages mention it.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};

use super::Cli;

/// The first argument that selects [`man_pages`] instead of [`Cli`].
pub const MAN: &str = "man";

/// Writes the man pages (wawebd.1, wawebd-SUBCOMMAND.1) into a folder; for packaging.
#[derive(Debug, Parser)]
#[command(name = "wawebd man")]
pub struct ManArgs {
    /// The folder (created if missing; existing pages are replaced)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "wawebd", &mut out);
    out.flush().context("writing the completion script")?;
    Ok(ExitCode::SUCCESS)
}

/// `wawebd man --out DIR`, given the arguments after `man`: writes `wawebd.1` and one
/// `wawebd-SUBCOMMAND.1` per subcommand that `--help` lists.
pub fn man_pages(args: impl Iterator<Item = OsString>) -> anyhow::Result<ExitCode> {
    let args = ManArgs::parse_from(std::iter::once(OsString::from(MAN)).chain(args));
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    clap_mangen::generate_to(Cli::command(), out)
        .with_context(|| format!("writing the man pages into {}", out.display()))?;
    Ok(ExitCode::SUCCESS)
}
