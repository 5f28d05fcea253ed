//! `wawebd --account NAME` as a user runs it (DESIGN.md section 10): the account's socket and
//! state below the XDG folders, a clear error for a bad name, and no shared paths from the
//! shared config file.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;
use support::{Client, KillOnDrop, wait_for};

/// wawebd with only the XDG variables of a user whose folders are below `home`.
fn wawebd(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wawebd"));
    command
        .env_clear()
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("WAWEBD_LOG", "warn")
        // Nothing listens on the discard port: the daemon keeps retrying, which is enough here.
        .args(["--server-url", "ws://127.0.0.1:9/ws"])
        .stdin(Stdio::null());
    command
}

#[test]
fn an_account_runs_on_its_own_socket_and_state() {
    let home = tempfile::tempdir().unwrap();
    let child = wawebd(home.path())
        .args(["--account", "alice"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _child = KillOnDrop(child);
    let socket = home.path().join("run/wawebd/alice.sock");
    wait_for("the daemon never listened on alice.sock", || {
        UnixStream::connect(&socket).is_ok()
    });
    let mut client = Client::connect(&socket);
    let status = client.call(1, "status", json!({})).unwrap();
    assert_eq!(status["state"], "logged_out");
    let state = home.path().join("state/wawebd/alice");
    let mode = std::fs::metadata(&state).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert!(!home.path().join("run/wawebd/wawebd.sock").exists());
}

#[test]
fn bad_names_and_shared_paths_are_refused_with_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let run = |command: &mut Command| {
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(wawebd(home.path()).args(["--account", "../x"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("invalid account name"), "{stderr}");
    let (code, stderr) = run(wawebd(home.path()).env("WAWEBD_ACCOUNT", "a b"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("WAWEBD_ACCOUNT: invalid account name: ' ' is not allowed"),
        "{stderr}"
    );

    let config = home.path().join("config/wawebd");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "state_dir = \"/tmp/one\"\n").unwrap();
    let (code, stderr) = run(wawebd(home.path()).args(["--account", "bob"]));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("sets state_dir"), "{stderr}");
    assert!(!home.path().join("run/wawebd/bob.sock").exists());
}
