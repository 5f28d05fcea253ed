//! The daemon's logs as the real binary writes them (docs/DESIGN.md, "Logs and reload"):
//! SIGHUP reloads the level and the reconnect limits without dropping the session, a bad level
//! is a usage error, no colour into files, the fields journald would get, and JOURNAL_STREAM's
//! selection.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;
use support::{Client, Daemon, paired_with, wait_for};

const CONTACT: &str = "4915100000000@s.whatsapp.net";

fn config_file(dir: &Path) -> std::path::PathBuf {
    dir.join("wawebd/config.toml")
}

fn stderr_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
}

/// The default config file (`$XDG_CONFIG_HOME/wawebd/config.toml`) at info with slow
/// reconnects; no `WAWEBD_LOG`; stderr to a file.
fn info_config(command: &mut Command, dir: &Path) {
    std::fs::create_dir_all(dir.join("wawebd")).unwrap();
    std::fs::write(
        config_file(dir),
        "log_level = \"info\"\n[reconnect]\ninitial_ms = 30000\nmax_ms = 30000\n",
    )
    .unwrap();
    let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap();
    command.env_remove("WAWEBD_LOG").stderr(stderr);
}

fn hangup(daemon: &Daemon) {
    let status = Command::new("kill")
        .arg("-HUP")
        .arg(daemon.child.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until the daemon's stderr has `count` lines containing `needle`.
fn wait_lines(daemon: &Daemon, needle: &str, count: usize) {
    wait_for(&format!("{count} lines with {needle:?}"), || {
        stderr_text(daemon.dir.path()).matches(needle).count() >= count
    });
}

#[test]
fn sighup_applies_the_level_and_reconnect_limits_and_keeps_the_session() {
    let (mut sim, mut daemon, mut client) = paired_with(info_config);
    let dir = daemon.dir.path().to_owned();
    // A message event names its chat, id and kind, never the text.
    sim.command(json!({"cmd": "send_text", "from": CONTACT, "text": "secret words 4711"}));
    let message = client.event("message");
    wait_lines(&daemon, "message", 1);
    let text = stderr_text(&dir);
    let line = text
        .lines()
        .find(|line| line.contains(" message ") && line.contains("chat="))
        .unwrap_or_else(|| panic!("no message line in {text}"));
    assert!(line.contains(&format!("chat=\"{CONTACT}\"")), "{line}");
    assert!(line.contains(&format!("id=\"{}\"", message["id"].as_str().unwrap())));
    assert!(line.contains("kind=\"text\""), "{line}");
    assert!(!text.contains("secret words"), "{text}");
    assert!(!text.contains(" DEBUG "), "{text}");

    // Debug, fast reconnects, and one setting that needs a restart.
    std::fs::write(
        config_file(&dir),
        "log_level = \"debug\"\nreref_budget = 3\n[reconnect]\ninitial_ms = 40\nmax_ms = 80\n",
    )
    .unwrap();
    hangup(&daemon);
    wait_lines(&daemon, "configuration reloaded", 1);
    let text = stderr_text(&dir);
    assert!(
        text.contains("log_level=\"debug\" reconnect_initial_ms=40 reconnect_max_ms=80"),
        "{text}"
    );
    assert!(
        text.contains("need a restart to apply: reref_budget"),
        "{text}"
    );
    // The connection stayed up: no disconnected event, still connected.
    let status = client.call(10, "status", json!({})).unwrap();
    assert_eq!(status["state"], "connected");
    assert_eq!(status["reconnects"], 0);
    assert!(
        !client
            .events
            .iter()
            .any(|event| event["type"] == "disconnected"),
        "{:?}",
        client.events
    );

    // The new limits: the next reconnect waits at most 80 ms (the old ones waited 7.5 s or
    // more), and the debug lines of the new level appear.
    sim.command(json!({"cmd": "drop"}));
    let disconnected = client.event("disconnected");
    let retry = disconnected["retry_in_ms"].as_u64().unwrap();
    assert!((10..=80).contains(&retry), "{disconnected}");
    client.event("connected");
    wait_lines(&daemon, " DEBUG ", 1);
    let text = stderr_text(&dir);
    let reconnecting = text
        .lines()
        .find(|line| line.contains("state changed") && line.contains("reconnecting"))
        .unwrap_or_else(|| panic!("no state line in {text}"));
    assert!(
        reconnecting.contains("state=\"reconnecting\" reason=\""),
        "{reconnecting}"
    );
    // Colour codes never go to a file.
    assert!(!text.contains('\u{1b}'), "{text}");

    // A broken file changes nothing and the daemon keeps running.
    std::fs::write(config_file(&dir), "log_level = \"loud\"\n").unwrap();
    hangup(&daemon);
    wait_lines(&daemon, "reloading the configuration failed", 1);
    assert!(stderr_text(&dir).contains("\"loud\""));
    std::fs::write(config_file(&dir), "log_levle = \"info\"\n").unwrap();
    hangup(&daemon);
    wait_lines(&daemon, "reloading the configuration failed", 2);
    assert!(stderr_text(&dir).contains("log_levle"));
    let status = client.call(11, "status", json!({})).unwrap();
    assert_eq!(status["state"], "connected");
    assert!(daemon.child.0.try_wait().unwrap().is_none());
    daemon.kill();
}

/// `WAWEBD_LOG` (like `--log-level`) wins over the file on a reload too.
#[test]
fn a_level_from_the_environment_stays_on_sighup() {
    let daemon = Daemon::start_with("ws://127.0.0.1:9/ws", |command, dir| {
        info_config(command, dir);
        command.env("WAWEBD_LOG", "info");
    });
    let dir = daemon.dir.path().to_owned();
    std::fs::write(config_file(&dir), "log_level = \"trace\"\n").unwrap();
    hangup(&daemon);
    wait_lines(&daemon, "configuration reloaded", 1);
    let text = stderr_text(&dir);
    assert!(text.contains("log_level=\"info\""), "{text}");
    assert!(
        !text.contains(" DEBUG ") && !text.contains(" TRACE "),
        "{text}"
    );
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "status", json!({})).unwrap();
}

#[test]
fn an_invalid_level_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "log_level = \"chatty\"\n").unwrap();
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (&["--log-level", "infoo"], None, "\"infoo\""),
        (&["--log-level", "wawebd=loud"], None, "wawebd=loud"),
        (&[], Some("verbose"), "\"verbose\""),
        (&["--config", config.to_str().unwrap()], None, "\"chatty\""),
    ];
    for (args, env, named) in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wawebd"));
        command
            .args(args)
            .arg("--socket")
            .arg(dir.path().join("s.sock"))
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .env("XDG_CONFIG_HOME", dir.path())
            .env_remove("WAWEBD_CONFIG")
            .env_remove("WAWEBD_LOG")
            .stdin(Stdio::null());
        if let Some(env) = env {
            command.env("WAWEBD_LOG", env);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(
            stderr.contains("invalid log level") && stderr.contains(named),
            "{stderr}"
        );
        assert!(!dir.path().join("s.sock").exists());
    }
}

/// JOURNAL_STREAM naming stderr selects journald; without its socket (this machine, or a
/// container) the daemon logs plain stderr lines and says so. A JOURNAL_STREAM inherited for
/// another file keeps the human format.
#[test]
fn journal_stream_selects_journald_or_falls_back_to_stderr() {
    let journald = Path::new("/run/systemd/journal/socket").exists();
    for names_stderr in [true, false] {
        let setup: support::Setup = if names_stderr {
            |command, dir| {
                info_config(command, dir);
                let meta = std::fs::metadata(dir.join("stderr.log")).unwrap();
                command.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
            }
        } else {
            |command, dir| {
                info_config(command, dir);
                command.env("JOURNAL_STREAM", "1:1");
            }
        };
        let mut daemon = Daemon::start_with("ws://127.0.0.1:9/ws", setup);
        let mut client = Client::connect(&daemon.socket);
        client.call(1, "status", json!({})).unwrap();
        wait_lines(
            &daemon,
            "listening",
            usize::from(!(names_stderr && journald)),
        );
        let text = stderr_text(daemon.dir.path());
        let listening = text.lines().find(|line| line.contains("listening"));
        match (names_stderr, journald) {
            (true, true) => {
                // Into the journal, with its fields; nothing on stderr.
                assert_eq!(listening, None, "{text}");
                let pid = daemon.child.0.id().to_string();
                wait_for("the journal has the daemon's line", || {
                    let output = Command::new("journalctl")
                        .args(["-o", "json", "SYSLOG_IDENTIFIER=wawebd"])
                        .arg(format!("_PID={pid}"))
                        .output()
                        .unwrap();
                    String::from_utf8_lossy(&output.stdout).contains("\"MESSAGE\":\"listening\"")
                });
            }
            (true, false) => {
                assert!(text.contains("journald's socket is unavailable"), "{text}");
                // journald's own format: no timestamp in front.
                let line = listening.unwrap();
                assert!(line.trim_start().starts_with("INFO"), "{line}");
            }
            (false, _) => {
                let line = listening.unwrap();
                assert!(line.starts_with(char::is_numeric), "{line}");
                assert!(!text.contains("journald"), "{text}");
            }
        }
        daemon.kill();
    }
}

/// A pipe is not a terminal: no colour codes, even though the level names would be coloured on
/// one.
#[test]
fn no_colour_codes_into_a_pipe() {
    let mut daemon = Daemon::start_with("ws://127.0.0.1:9/ws", |command, _| {
        command
            .env("WAWEBD_LOG", "debug")
            .env_remove("NO_COLOR")
            .stderr(Stdio::piped());
    });
    // The socket accepts a moment before the line saying so is written: read until it is.
    let stderr = daemon.child.0.stderr.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let Ok(line) = line else { return };
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut text = String::new();
    while !text.contains("listening") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = received
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{text}"));
        text.push_str(&line);
        text.push('\n');
    }
    daemon.kill();
    text.extend(received.iter().map(|line| line + "\n"));
    assert!(!text.contains('\u{1b}'), "{text:?}");
}
