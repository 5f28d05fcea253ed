//! The daemon's own files under stress: a session save that fails, saves a crash interrupted,
//! and outputs that point into the daemon's folders.

use std::os::unix::fs::symlink;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{DEADLINE, Harness};

/// Polls `status` until `done` holds for it.
async fn status_until(client: &mut crate::support::Client, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let status = client.call("status", Value::Null).await.unwrap();
        if done(&status) {
            return status;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_login_whose_tokens_cannot_be_stored_is_not_connected_until_they_are() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let paired = std::fs::read(harness.session_file()).unwrap();

    // A non-empty folder where the session file was: no rename can replace it, not even root's.
    std::fs::remove_file(harness.session_file()).unwrap();
    std::fs::create_dir_all(harness.session_file().join("blocker")).unwrap();
    harness.sim_command(json!({"cmd": "drop"})).await;
    let held = client.state("logging_in").await;
    loop {
        let event = client.event("state").await;
        if event["reason"] == "session_not_stored" {
            break;
        }
        assert_ne!(event["state"], "connected", "{held} then {event}");
    }
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(status["state"], "logging_in");
    assert_eq!(status["session_stored"], false);
    assert!(
        status["session_error"]
            .as_str()
            .is_some_and(|error| error.contains("session.json")),
        "{status}"
    );
    // Nothing goes to the server on this connection yet: a send waits in the outbox.
    let queued = client
        .call(
            "send_text",
            json!({"to": "4915100000001", "text": "not yet", "wait": "queued"}),
        )
        .await
        .unwrap();
    assert_eq!(queued["status"], "queued");

    // Once the disk takes it again, the retry stores the new tokens and the login completes.
    std::fs::remove_dir_all(harness.session_file()).unwrap();
    assert_eq!(client.event("connected").await["restored"], true);
    loop {
        let ack = client.event("ack").await;
        if ack["id"] == queued["id"] && ack["ack"] == 1 {
            break;
        }
    }
    let status = status_until(&mut client, |status| status["state"] == "connected").await;
    assert_eq!(
        (&status["session_stored"], &status["session_error"]),
        (&json!(true), &Value::Null)
    );
    let stored: Value =
        serde_json::from_slice(&std::fs::read(harness.session_file()).unwrap()).unwrap();
    let before: Value = serde_json::from_slice(&paired).unwrap();
    assert_eq!(stored["clientId"], before["clientId"]);
    assert_ne!(
        stored["serverToken"], before["serverToken"],
        "rotated at the restore"
    );
}

/// The session file and its temp files in `state` (the database beside them is not one).
fn session_files(state: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(state)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("waweb.db"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn temp_files_of_interrupted_saves_are_cleaned_or_recovered_at_start() {
    let mut harness = Harness::start().await;
    drop(harness.pair().await);
    harness.stop_daemon().await;
    let state = harness.config.state_dir.clone();
    let session = std::fs::read(harness.session_file()).unwrap();
    // A save killed before its rename, with the newest tokens, and one killed mid-write.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(state.join(".session.json.0a0b0c0d0e0f.tmp"), &session).unwrap();
    std::fs::write(state.join(".session.json.ffffffffffff.tmp"), &session[..20]).unwrap();
    std::fs::remove_file(harness.session_file()).unwrap();

    harness.start_daemon().await;
    let mut client = harness.client().await;
    client.call("subscribe", json!({})).await.unwrap();
    assert_eq!(client.event("connected").await["restored"], true);
    assert_eq!(session_files(&state), ["session.json"]);

    // Logout removes any temp file too.
    std::fs::write(state.join(".session.json.0a0b0c0d0e0f.tmp"), &session).unwrap();
    client.call("logout", Value::Null).await.unwrap();
    assert!(session_files(&state).is_empty());
}

#[tokio::test]
async fn media_download_never_writes_into_the_daemons_folders() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let source = harness.dir.path().join("cat.jpg");
    std::fs::write(&source, b"a small picture").unwrap();
    harness
        .sim_command(
            json!({"cmd": "send_media", "from": "4915100000003", "kind": "image", "path": source}),
        )
        .await;
    let media = client.event("message").await["media"].clone();
    assert_eq!(media["kind"], "image");
    let session = std::fs::read(harness.session_file()).unwrap();

    let state = harness.config.state_dir.clone();
    let run = harness.socket().parent().unwrap().to_owned();
    symlink(&state, harness.dir.path().join("state-link")).unwrap();
    symlink(
        harness.session_file(),
        harness.dir.path().join("session-link"),
    )
    .unwrap();
    for output in [
        harness.session_file(),
        state.join("photo.jpg"),
        harness.socket().to_owned(),
        run.join("photo.jpg"),
        harness.dir.path().join("state-link/session.json"),
        harness.dir.path().join("session-link"),
    ] {
        let error = client
            .call("media_download", json!({"media": media, "output": output}))
            .await
            .unwrap_err();
        assert_eq!(error["code"], -32602, "{}: {error}", output.display());
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("inside the daemon's"),
            "{error}"
        );
    }
    assert_eq!(std::fs::read(harness.session_file()).unwrap(), session);
    assert!(!state.join("photo.jpg").exists() && !run.join("photo.jpg").exists());
    let status = client.call("status", Value::Null).await.unwrap();
    assert_eq!(status["state"], "connected");

    // Elsewhere it works as before.
    let output = harness.dir.path().join("photo.jpg");
    let result = client
        .call("media_download", json!({"media": media, "output": output}))
        .await
        .unwrap();
    assert_eq!(result["sha256"], media["file_sha256"]);
    assert_eq!(std::fs::read(&output).unwrap(), b"a small picture");
}
