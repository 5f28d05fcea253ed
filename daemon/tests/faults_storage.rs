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
    daemon.restart();
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "subscribe", json!({})).unwrap();
    let status = client.call(2, "status", json!({})).unwrap();
    if status["state"] != "connected" {
        client.event("connected");
    }
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
