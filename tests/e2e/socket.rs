//! Bad input on the real daemon's socket: answered with standard errors, connection kept.

use serde_json::{Value, json};

use crate::support::Harness;

#[tokio::test]
async fn bad_lines_get_errors_and_the_connection_stays_usable() {
    let harness = Harness::start().await;
    let mut client = harness.client().await;
    client.send_line("this is not json").await;
    let reply = client.read_line().await.unwrap();
    assert_eq!(
        (reply["id"].clone(), reply["error"]["code"].clone()),
        (Value::Null, json!(-32700))
    );
    client.send_line(&"x".repeat(1_100_000)).await;
    let reply = client.read_line().await.unwrap();
    assert_eq!(reply["error"]["code"], -32600);
    assert_eq!(reply["error"]["data"]["kind"], "line_too_long");
    client
        .send_line(r#"[{"jsonrpc":"2.0","id":1,"method":"status"}]"#)
        .await;
    assert_eq!(
        client.read_line().await.unwrap()["error"]["data"]["kind"],
        "batch_unsupported"
    );
    assert_eq!(
        client.call("frobnicate", Value::Null).await.unwrap_err()["code"],
        -32601
    );
    assert_eq!(
        client
            .call("send_text", json!({"to": 5}))
            .await
            .unwrap_err()["code"],
        -32602
    );
    assert_eq!(
        client
            .call("subscribe", json!({"events": ["nope"]}))
            .await
            .unwrap_err()["code"],
        -32602
    );
    // A notification is executed and not answered; the next reply is for the next request.
    client
        .send_line(r#"{"jsonrpc":"2.0","method":"status"}"#)
        .await;
    let version = client.call("version", Value::Null).await.unwrap();
    assert_eq!(version["protocol"], 1);
    assert_eq!(version["wa_version"], json!([2, 2142, 12]));
    assert_eq!(
        client
            .call("send_text", json!({"to": "4915100000001", "text": "x"}))
            .await
            .unwrap_err()["data"]["kind"],
        "not_logged_in"
    );
}
