//! What the package ships beside the binaries, checked against the sources it comes from:
//! the man pages (`wawebd man`, `wawebctl man`) name every subcommand and every long flag that
//! `--help` shows, at every level, and the sample config is one the daemon accepts and that
//! states its defaults. `scripts/check-package.sh` checks the built .deb itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;

/// The subcommands (without clap's `help`) and the long flags listed in one `--help` text.
#[derive(Debug, Default)]
struct HelpItems {
    subcommands: Vec<String>,
    flags: Vec<String>,
}

/// Reads the `Commands:` list and the option lines (`  -s, --socket <PATH>`) of a help text.
fn help_items(help: &str) -> HelpItems {
    let mut items = HelpItems::default();
    let mut in_commands = false;
    for line in help.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            in_commands = line == "Commands:";
            continue;
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if in_commands && indent == 2 {
            let name = trimmed.split_whitespace().next().unwrap_or_default();
            if name != "help" {
                items.subcommands.push(name.to_owned());
            }
        } else if trimmed.starts_with('-') && (indent == 2 || indent == 6) {
            let flags = trimmed.split([' ', ',', '=', '<', '[']);
            let flags = flags.filter(|word| word.starts_with("--") && word.len() > 2);
            items.flags.extend(flags.map(str::to_owned));
        }
    }
    items
}

/// A man page as text, with roff's escaped hyphens (`\-\-socket`) made plain.
fn read_page(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.1"));
    let page = fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error} (pages: {:?})", path.display(), pages(dir)));
    page.replace("\\-", "-")
}

fn pages(dir: &Path) -> BTreeSet<String> {
    let entries = fs::read_dir(dir).unwrap();
    entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Walks the command tree as `--help` shows it (`help` gives the help text of a command path)
/// and checks each level against its page; returns the pages it checked.
fn check_pages(bin: &str, dir: &Path, help: &dyn Fn(&[String]) -> String) -> BTreeSet<String> {
    let mut checked = BTreeSet::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let text = help(&path);
        let items = help_items(&text);
        assert!(!items.flags.is_empty(), "no flags parsed from:\n{text}");
        let name = std::iter::once(bin.to_owned())
            .chain(path.iter().cloned())
            .collect::<Vec<_>>()
            .join("-");
        let page = read_page(dir, &name);
        for flag in &items.flags {
            assert!(page.contains(flag.as_str()), "{name}.1 lacks {flag}");
        }
        for subcommand in &items.subcommands {
            assert!(
                page.contains(subcommand.as_str()),
                "{name}.1 lacks {subcommand}"
            );
            let mut deeper = path.clone();
            deeper.push(subcommand.clone());
            todo.push(deeper);
        }
        checked.insert(format!("{name}.1"));
    }
    checked
}

fn wawebd(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "wawebd {args:?}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn wawebd_man_pages_cover_its_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    wawebd(&["man", "--out", out.to_str().unwrap()]);
    let checked = check_pages("wawebd", &out, &|path| {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        wawebd(&args)
    });
    assert!(checked.contains("wawebd-media-encrypt.1"), "{checked:?}");
    // Every page is one --help shows: the hidden `man` has none, `help` neither.
    assert_eq!(pages(&out), checked);
    // `man` is a packaging step: not in --help, not offered by the completions.
    let help = wawebd(&["--help"]);
    let items = help_items(&help);
    assert!(
        items.subcommands.contains(&"decode".to_owned()),
        "{items:?}"
    );
    assert!(items.flags.contains(&"--state-dir".to_owned()), "{items:?}");
    assert!(!items.subcommands.contains(&"help".to_owned()), "{items:?}");
    assert!(!help.contains("  man "), "{help}");
    assert!(!wawebd(&["completions", "bash"]).contains(" man "));
}

#[test]
fn wawebctl_man_pages_cover_its_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    assert_eq!(wawebctl::write_man_pages(&out), Ok(()));
    let checked = check_pages("wawebctl", &out, &|path| {
        let args = ["wawebctl"]
            .into_iter()
            .chain(path.iter().map(String::as_str));
        let error = wawebctl::Cli::try_parse_from(args.chain(["--help"])).unwrap_err();
        error.render().to_string()
    });
    assert!(checked.contains("wawebctl-media-download.1"), "{checked:?}");
    assert!(checked.contains("wawebctl-group-create.1"), "{checked:?}");
    assert_eq!(pages(&out), checked);
}

#[test]
fn man_into_a_file_is_a_clear_error() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .args(["man", "--out"])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("wawebd: creating "), "{stderr}");
    let failure = wawebctl::write_man_pages(file.path()).unwrap_err();
    assert!(
        failure.to_string().contains("cannot write the man pages"),
        "{failure}"
    );
}

#[test]
fn wawebd_completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let script = wawebd(&["completions", shell]);
        for word in ["wawebd", "decode", "state-dir", "completions"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
}

/// The sample config the package installs as /usr/share/doc/wawebd/config.toml.
fn sample_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.sample.toml")
}

#[test]
fn the_sample_config_is_accepted_and_states_the_defaults() {
    // An empty home: no config file of the machine's user is read by the `None` case.
    let home = tempfile::tempdir().unwrap();
    let env: BTreeMap<&str, String> = BTreeMap::from([
        ("XDG_RUNTIME_DIR", "/run/user/1".to_owned()),
        ("HOME", home.path().to_str().unwrap().to_owned()),
    ]);
    let lookup = |name: &str| env.get(name).cloned();
    let resolve = |config: Option<PathBuf>| {
        let overrides = wawebd::config::Overrides {
            config,
            ..Default::default()
        };
        wawebd::config::Config::resolve(overrides, &lookup)
    };
    let sample = resolve(Some(sample_config())).expect("the sample config is valid");
    let defaults = resolve(None).unwrap();
    // Same values as no file at all: the sample documents the defaults, it changes nothing.
    assert_eq!(format!("{sample:?}"), format!("{defaults:?}"));
    let text = fs::read_to_string(sample_config()).unwrap();
    for key in [
        "server_url",
        "log_level",
        "max_connections",
        "[reconnect]",
        "[journal]",
        "[http]",
        "min_rate_bytes_per_s",
        "[media]",
        "[keepalive]",
    ] {
        assert!(text.contains(key), "the sample lacks {key}");
    }
}
