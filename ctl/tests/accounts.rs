//! Many accounts (DESIGN.md section 10): `--account` and `WAWEBD_ACCOUNT` pick
//! `$XDG_RUNTIME_DIR/wawebd/<name>.sock`, `--socket` wins, bad names are usage errors, and
//! `wawebctl accounts` lists every socket with its daemon's state.

mod fake;

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Command;

use clap::Parser;
use fake::{Answer, Fake, run_in, socket_dir};
use serde_json::{Value, json};
use wawebctl::{Cli, exit};

/// A fake daemon of `account` in `<runtime>/wawebd/`, answering `status` with `state` and a
/// JID that names the account, so a test sees which daemon answered.
fn daemon(account: &str, state: &'static str) -> Fake {
    let runtime = socket_dir();
    std::fs::create_dir(runtime.path().join("wawebd")).unwrap();
    let path = runtime.path().join(format!("wawebd/{account}.sock"));
    daemon_at(runtime, &path, account, state)
}

fn daemon_at(runtime: tempfile::TempDir, path: &Path, account: &str, state: &'static str) -> Fake {
    let wid = format!("{}@s.whatsapp.net", account.len());
    Fake::start_at(runtime, path.to_owned(), move |request| {
        assert_eq!(request["method"], "status");
        let me = json!({"wid": wid, "pushname": "x", "platform": "android", "phone": {}});
        Answer::result(request, status(state, me))
    })
}

fn status(state: &str, me: Value) -> Value {
    json!({"state": state, "me": me, "server_url": "ws://127.0.0.1:9/ws",
        "session_stored": true, "last_pong_ms_ago": null, "phone_online": null,
        "battery": null, "reconnects": 0})
}

/// `XDG_RUNTIME_DIR` of a fake made by [`daemon`].
fn runtime_of(fake: &Fake) -> String {
    let dir = fake.path.parent().and_then(Path::parent).unwrap();
    dir.to_str().unwrap().to_owned()
}

#[test]
fn the_account_flag_and_variable_pick_that_accounts_socket() {
    let alice = daemon("alice", "connected");
    let runtime = runtime_of(&alice);
    let xdg = ("XDG_RUNTIME_DIR", runtime.as_str());
    for (argv, env) in [
        (
            &["wawebctl", "--account", "alice", "--json", "status"][..],
            vec![xdg],
        ),
        // A global flag: after the subcommand too.
        (
            &["wawebctl", "status", "--json", "--account=alice"],
            vec![xdg],
        ),
        (
            &["wawebctl", "--json", "status"],
            vec![xdg, ("WAWEBD_ACCOUNT", "alice")],
        ),
        // --account is a flag, so it wins over the variables.
        (
            &["wawebctl", "--account", "alice", "--json", "status"],
            vec![
                xdg,
                ("WAWEBD_SOCKET", "/nowhere.sock"),
                ("WAWEBD_ACCOUNT", "bob"),
            ],
        ),
    ] {
        let (result, out) = run_in(argv, &env);
        assert_eq!(result, Ok(()), "{argv:?} {env:?}");
        let status: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(status["me"]["wid"], "5@s.whatsapp.net", "{argv:?}");
        assert_eq!(alice.requests().len(), 1);
    }

    // Another account's socket is not there: the daemon is not running (exit 3), on bob's path.
    let (result, _) = run_in(&["wawebctl", "--account", "bob", "status"], &[xdg]);
    let failure = result.unwrap_err();
    assert_eq!(failure.code, exit::NO_DAEMON);
    assert!(
        failure
            .message
            .contains(&format!("{runtime}/wawebd/bob.sock"))
            && failure.message.contains("wawebd --account bob")
            && failure
                .message
                .contains("systemctl --user start wawebd@bob)"),
        "{failure}"
    );
    // An empty variable is unset: the default account's socket.
    let (result, _) = run_in(&["wawebctl", "status"], &[xdg, ("WAWEBD_ACCOUNT", "")]);
    let failure = result.unwrap_err();
    assert!(failure.message.contains("/wawebd/wawebd.sock"), "{failure}");
    assert!(alice.requests().is_empty());
}

#[test]
fn the_socket_flag_wins_over_the_account() {
    let alice = daemon("alice", "connected");
    let socket = alice.path.to_str().unwrap();
    let env = [("XDG_RUNTIME_DIR", "/nowhere"), ("WAWEBD_ACCOUNT", "carol")];
    let argv = ["wawebctl", "--account", "bob", "--socket", socket, "status"];
    let (result, out) = run_in(&argv, &env);
    assert_eq!(result, Ok(()));
    assert!(out.contains("5@s.whatsapp.net"), "{out}");
    assert_eq!(alice.requests().len(), 1);
}

#[test]
fn invalid_account_names_are_usage_errors() {
    let long = "a".repeat(65);
    for bad in [
        "", "../x", ".hidden", "a/b", "x.sock", "-v", "wawebd", &long,
    ] {
        let flag = format!("--account={bad}");
        let argv = ["wawebctl", &flag, "status"];
        let error = Cli::try_parse_from(argv).unwrap_err();
        assert_eq!(error.exit_code(), 2, "{bad:?}");
        assert!(
            error.to_string().contains("invalid account name"),
            "{bad:?}: {error}"
        );
        let env = [("XDG_RUNTIME_DIR", "/run/user/7"), ("WAWEBD_ACCOUNT", bad)];
        let (result, _) = run_in(&["wawebctl", "status"], &env);
        if bad.is_empty() {
            continue; // empty is unset
        }
        let failure = result.unwrap_err();
        assert_eq!(failure.code, exit::USAGE, "{bad:?}");
        assert!(
            failure
                .message
                .starts_with("WAWEBD_ACCOUNT: invalid account name"),
            "{failure}"
        );
    }
}

/// The shipped binary, in a real process environment: the variable and the exit status.
#[test]
fn the_binary_reads_the_variable_and_exits_2_on_a_bad_name() {
    let alice = daemon("alice", "pairing");
    let wawebctl = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wawebctl"));
        command
            .env_clear()
            .env("XDG_RUNTIME_DIR", runtime_of(&alice));
        command
    };
    let output = wawebctl()
        .env("WAWEBD_ACCOUNT", "alice")
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["state"], "pairing");

    let output = wawebctl()
        .args(["--account", "a/b", "status"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid account name"), "{stderr}");
    let output = wawebctl()
        .env("WAWEBD_ACCOUNT", ".x")
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("wawebctl: WAWEBD_ACCOUNT: invalid account name"),
        "{stderr}"
    );
}

#[test]
fn accounts_lists_live_dead_and_hung_daemons_and_exits_0() {
    let default = daemon("wawebd", "connected");
    let runtime = runtime_of(&default);
    let dir = Path::new(&runtime).join("wawebd");
    let alice = daemon_at(socket_dir(), &dir.join("alice.sock"), "alice", "logged_out");
    // A socket left by a crash: bound, then nobody listens.
    drop(UnixListener::bind(dir.join("bob.sock")).unwrap());
    // A daemon that accepts and never answers.
    let _hung = UnixListener::bind(dir.join("carol.sock")).unwrap();
    // Not sockets of an account: skipped.
    std::fs::write(dir.join("dave.sock"), "a file").unwrap();
    drop(UnixListener::bind(dir.join("x.y.sock")).unwrap());

    let xdg = [("XDG_RUNTIME_DIR", runtime.as_str())];
    let (result, out) = run_in(&["wawebctl", "accounts"], &xdg);
    assert_eq!(result, Ok(()));
    let socket = |name: &str| dir.join(name).display().to_string();
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["ACCOUNT", "STATE", "ME", "SOCKET"]);
    assert_eq!(
        lines[1],
        ["-", "connected", "6@s.whatsapp.net", &socket("wawebd.sock")]
    );
    assert_eq!(
        lines[2],
        [
            "alice",
            "logged_out",
            "5@s.whatsapp.net",
            &socket("alice.sock")
        ]
    );
    assert_eq!(
        lines[3],
        ["bob", "not", "running", "-", &socket("bob.sock")]
    );
    assert_eq!(lines[4][..2], ["carol", "unreachable"]);
    assert!(
        out.lines()
            .nth(4)
            .unwrap()
            .contains("did not answer within 2s"),
        "{out}"
    );
    assert_eq!(lines.len(), 5, "{out}");

    let (result, out) = run_in(&["wawebctl", "accounts", "--json"], &xdg);
    assert_eq!(result, Ok(()));
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert_eq!(
        (
            &rows[0]["account"],
            &rows[0]["running"],
            &rows[0]["status"]["state"]
        ),
        (&Value::Null, &json!(true), &json!("connected"))
    );
    assert_eq!(rows[1]["account"], "alice");
    assert_eq!(rows[1]["socket"], socket("alice.sock"));
    assert_eq!(
        rows[2],
        json!({"account": "bob", "socket": socket("bob.sock"), "running": false,
            "status": null, "error": "not running"})
    );
    assert_eq!(rows[3]["status"], Value::Null);
    assert!(
        rows[3]["error"]
            .as_str()
            .unwrap()
            .contains("did not answer within 2s")
    );
    assert_eq!(alice.requests().len(), 2);

    // --dir looks elsewhere; a missing folder holds no daemons, and without XDG_RUNTIME_DIR or
    // --dir there is nowhere to look.
    let (result, out) = run_in(
        &[
            "wawebctl",
            "accounts",
            "--json",
            "--dir",
            &socket("missing"),
        ],
        &[],
    );
    assert_eq!((result, out.as_str()), (Ok(()), ""));
    let (result, _) = run_in(&["wawebctl", "accounts"], &[]);
    assert_eq!(result.unwrap_err().code, exit::USAGE);
}
