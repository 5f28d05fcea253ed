//! The `media_fault` command's answers: `done` with the fault and its count, and the errors of
//! a `pause_ms` that does not fit (DESIGN.md 5; the faults themselves are exercised against the
//! daemon in daemon/tests/faults_media.rs).

mod client;

use serde_json::json;

use client::*;

#[tokio::test]
async fn media_fault_answers_done_and_refuses_a_pause_that_does_not_fit() {
    let sim = start().await;
    let done = sim
        .command(json!({"cmd": "media_fault", "fault": "drip", "times": 2, "pause_ms": 300}))
        .await
        .unwrap();
    assert_eq!(
        (&done["fault"], &done["times"]),
        (&json!("drip"), &json!(2)),
        "{done}"
    );
    let done = sim
        .command(json!({"cmd": "media_fault", "fault": "drip"}))
        .await
        .unwrap();
    assert_eq!(done["times"], 1);
    for (bad, says) in [
        (json!({"fault": "stall", "pause_ms": 300}), "only for drip"),
        (json!({"fault": "drip", "pause_ms": 0}), "1 to 600000"),
        (json!({"fault": "drip", "pause_ms": 600_001}), "1 to 600000"),
    ] {
        let mut command = bad.clone();
        command["cmd"] = json!("media_fault");
        let error = sim.command(command).await.unwrap_err();
        assert!(error.to_string().contains(says), "{bad}: {error}");
    }
}
