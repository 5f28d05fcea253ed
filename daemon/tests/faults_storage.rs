//! Storage faults with the real binaries (issue 13): a session file that cannot be read, and a
//! full disk under the database while a flood of messages is journaled. The corrupt database
//! on start is tests/e2e/journal.rs (`a_corrupt_database_is_moved_aside_…`).

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use support::{
    Client, IN_NAMESPACE, Sim, database, fill, in_mount_namespace, mount_tmpfs, paired,
    paired_with, wait_for,
};

const FROM: &str = "4915100000001@s.whatsapp.net";

/// The tmpfs under the state directory: the empty database and its WAL fit many times over.
const TMPFS_SIZE: &str = "4m";

#[test]
fn a_corrupt_session_file_stops_the_start_with_a_clear_error_and_is_kept() {
    let (_sim, mut daemon, _client) = paired();
    daemon.kill();
    let path = daemon.state.join("session.json");
    let session = std::fs::read(&path).unwrap();
    let secrets = string_values(&serde_json::from_slice(&session).unwrap());
    assert!(secrets.len() >= 5, "tokens and keys: {}", secrets.len());
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 131 + 7) as u8).collect();
    let cases: [(&str, Vec<u8>); 3] = [
        ("cut in half", session[..session.len() / 2].to_vec()),
        ("random bytes", garbage),
        (
            "a stranger's JSON",
            br#"{"version":1,"clientId":"x"}"#.to_vec(),
        ),
    ];
    for (case, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let (status, stderr) = daemon.run_to_exit();
        assert!(!status.success(), "{case}: the daemon started anyway");
        assert!(
            stderr.contains("session file") && stderr.contains("unreadable"),
            "{case}: {stderr}"
        );
        assert!(
            stderr.contains(&path.display().to_string()),
            "{case}: {stderr}"
        );
        for secret in &secrets {
            assert!(!stderr.contains(secret.as_str()), "{case}: a secret logged");
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{case}: the file changed"
        );
    }
    // Put back, the session restores: nothing of it was lost.
    std::fs::write(&path, &session).unwrap();
    daemon.restart_connected();
}

/// The string values of a JSON object longer than 8 characters (tokens, keys, ids).
fn string_values(value: &Value) -> Vec<String> {
    let object = value.as_object().unwrap();
    object
        .values()
        .filter_map(Value::as_str)
        .filter(|text| text.len() > 8)
        .map(str::to_owned)
        .collect()
}

/// A [`support::Setup`]: the state directory is a small tmpfs, mounted once (restarts reuse it).
fn state_on_tmpfs(_: &mut Command, dir: &Path) {
    let state = dir.join("state");
    if state.exists() {
        return;
    }
    std::fs::create_dir(&state).unwrap();
    mount_tmpfs(&state, TMPFS_SIZE);
}

/// `count` messages `m<first>`… of `size` bytes each from the simulator, answered.
fn flood(sim: &mut Sim, first: usize, count: usize, size: usize) {
    for n in first..first + count {
        let text = format!("m{n} {}", "x".repeat(size));
        sim.submit(&json!({"cmd": "send_text", "from": FROM, "text": text}));
    }
    assert_eq!(sim.answers("send_text", count), count);
}

/// The next `count` live message events: number → seq (`None`: delivered, not journaled).
fn live_messages(client: &mut Client, count: usize) -> BTreeMap<usize, Option<u64>> {
    let mut seen = BTreeMap::new();
    while seen.len() < count {
        let event = client.event("message");
        if event["source"] != "live" {
            continue;
        }
        let text = event["text"].as_str().unwrap();
        let n = text[1..].split(' ').next().unwrap().parse().unwrap();
        seen.insert(n, event["seq"].as_u64());
    }
    seen
}

#[test]
fn a_full_disk_under_a_flood_keeps_the_daemon_up_and_the_journal_whole() {
    if std::env::var_os(IN_NAMESPACE).is_none() {
        return in_mount_namespace(
            "a_full_disk_under_a_flood_keeps_the_daemon_up_and_the_journal_whole",
        );
    }
    let (mut sim, mut daemon, mut client) = paired_with(state_on_tmpfs);
    flood(&mut sim, 0, 50, 100);
    let before = live_messages(&mut client, 50);
    assert!(
        before.values().all(Option::is_some),
        "journaled: {before:?}"
    );

    let filler = fill(&daemon.state);
    flood(&mut sim, 50, 200, 2000);
    let during = live_messages(&mut client, 200);
    let unjournaled = during.values().filter(|seq| seq.is_none()).count();
    assert!(unjournaled > 0, "the disk was never full: {during:?}");
    assert!(daemon.log().contains("could not write to the journal"));
    let status = client.call(10, "status", json!({})).unwrap();
    assert_eq!(status["state"], "connected", "{status}");

    // Space again: journal writes resume.
    std::fs::remove_file(filler).unwrap();
    flood(&mut sim, 250, 20, 100);
    let after = live_messages(&mut client, 20);
    assert!(after.values().all(Option::is_some), "journaled: {after:?}");

    let mut expected: Vec<u64> = before
        .values()
        .chain(during.values())
        .flatten()
        .copied()
        .collect();
    expected.extend(after.values().flatten());
    let listed = client
        .call(
            11,
            "events",
            json!({"since": 0, "types": ["message"], "limit": 1000}),
        )
        .unwrap();
    let listed: Vec<u64> = listed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["source"] == "live")
        .map(|event| event["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        listed, expected,
        "every journaled event is listed, in order"
    );

    daemon.kill();
    let (check, stored) = database(&daemon.state.join("waweb.db"));
    assert_eq!(check, "ok");
    assert!(expected.iter().all(|seq| stored.contains(seq)));
    wait_for("the tmpfs is unmounted", || {
        Command::new("umount")
            .arg(&daemon.state)
            .status()
            .is_ok_and(|status| status.success())
    });
}

/// [`state_on_tmpfs`] with [`support::short_backoff`].
fn state_on_tmpfs_quick(command: &mut Command, dir: &Path) {
    state_on_tmpfs(command, dir);
    support::short_backoff(command, dir);
}

/// The files in `dir` that are neither the session file, the database nor `filler`: what a
/// failed save left behind.
fn strays(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "session.json" && name != "filler" && !name.starts_with("waweb.db"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_full_disk_when_the_session_is_saved_keeps_the_old_file_and_the_daemon_up() {
    const NAME: &str = "a_full_disk_when_the_session_is_saved_keeps_the_old_file_and_the_daemon_up";
    if std::env::var_os(IN_NAMESPACE).is_none() {
        return in_mount_namespace(NAME);
    }
    let (mut sim, mut daemon, mut client) = paired_with(state_on_tmpfs_quick);
    let path = daemon.state.join("session.json");
    let before = std::fs::read(&path).unwrap();
    let filler = fill(&daemon.state);
    // The restore after the cut rotates the tokens; the new ones cannot be stored.
    sim.command(json!({"cmd": "drop"}));
    client.event("disconnected");
    wait_for("the failed save is logged", || {
        daemon.log().contains("could not store the session")
    });
    let log = daemon.log();
    assert!(log.contains("No space left on device"), "{log}");
    assert!(!log.contains(sim_token(&before).as_str()), "a token logged");
    let status = client.call(10, "status", json!({})).unwrap();
    assert_ne!(status["state"], "connected", "{status}");
    assert_eq!(status["session_stored"], false, "{status}");
    assert!(
        status["session_error"]
            .as_str()
            .is_some_and(|error| error.contains("No space left")),
        "{status}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the old file changed"
    );
    assert_eq!(strays(&daemon.state), Vec::<String>::new());

    // Space again: the retry stores the new tokens and the connection comes into use.
    std::fs::remove_file(filler).unwrap();
    client.event("connected");
    let after = std::fs::read(&path).unwrap();
    assert_ne!(after, before, "the rotated tokens are stored");
    let status = client.call(11, "status", json!({})).unwrap();
    assert_eq!(status["session_stored"], true, "{status}");
    assert!(status["session_error"].is_null(), "{status}");

    // And they are the ones the server holds: a restart restores without a challenge.
    daemon.kill();
    // The lines so far (the restore that found the disk full among them) are passed over.
    let _ = sim.lines.try_iter().count();
    let _client = daemon.restart_connected();
    let logged_in = sim.line_where("the restore", |line| {
        line["type"] == "logged_in" && line["challenged"] == false
    });
    assert_eq!(logged_in["restored"], true);
    daemon.kill();
    wait_for("the tmpfs is unmounted", || {
        Command::new("umount")
            .arg(&daemon.state)
            .status()
            .is_ok_and(|status| status.success())
    });
}

/// The client token of a session file's bytes.
fn sim_token(session: &[u8]) -> String {
    let value: Value = serde_json::from_slice(session).unwrap();
    value["clientToken"].as_str().unwrap().to_owned()
}
