//! Chats and contacts: the login lists in the store, live traffic and phone actions keeping
//! them current, `chat_modify` reaching the phone, and the store surviving a restart.

use serde_json::{Value, json};

use crate::support::{Client, Harness};

const ALICE: &str = "4915100000001@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";

async fn chats(client: &mut Client, params: Value) -> Vec<Value> {
    let result = client.call("chats", params).await.unwrap();
    result["chats"].as_array().unwrap().clone()
}

fn jids(chats: &[Value]) -> Vec<&str> {
    chats
        .iter()
        .map(|chat| chat["jid"].as_str().unwrap())
        .collect()
}

fn find<'a>(chats: &'a [Value], jid: &str) -> &'a Value {
    chats
        .iter()
        .find(|chat| chat["jid"] == jid)
        .unwrap_or_else(|| panic!("{jid} not in {chats:?}"))
}

/// The phone's view of chat `jid` (null when it has none).
async fn phone_chat(harness: &Harness, jid: &str) -> Value {
    let state = harness.sim_command(json!({"cmd": "chat_state"})).await;
    state["chats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|chat| chat["jid"] == jid)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_login_lists_are_stored_and_answered() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let all = chats(&mut client, json!({})).await;
    assert_eq!(all.len(), 4, "{all:?}");
    let alice = find(&all, ALICE);
    assert_eq!(alice["name"], "Alice");
    assert_eq!(alice["unread"], 0);
    assert_eq!(alice["archived"], false);
    assert_eq!(alice["pinned"], Value::Null);
    assert!(alice["t"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(find(&all, GROUP)["name"], "Sim Friends");
    assert_eq!(chats(&mut client, json!({"limit": 2})).await.len(), 2);

    let contacts = client.call("contacts", json!({})).await.unwrap();
    assert_eq!(contacts["contacts"].as_array().unwrap().len(), 3);
    assert_eq!(
        contacts["contacts"][0],
        json!({"jid": ALICE, "name": "Alice", "notify": "Alice", "short": "Alice"})
    );
    for (query, expected) in [
        ("ALI", "Alice"),
        ("0000002", "Bob"),
        ("+49 151 0000-0003", "Carol"),
    ] {
        let found = client
            .call("contacts", json!({"query": query}))
            .await
            .unwrap();
        let names: Vec<&str> = found["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|contact| contact["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [expected], "{query}");
    }
    let none = client
        .call("contacts", json!({"query": "zed"}))
        .await
        .unwrap();
    assert_eq!(none["contacts"], json!([]));
    for bad in [
        json!({"limit": 0}),
        json!({"limit": 1001}),
        json!({"archived": "yes"}),
        json!({"nope": 1}),
    ] {
        let error = client.call("chats", bad.clone()).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{bad}");
    }
}

#[tokio::test]
async fn live_messages_and_phone_actions_keep_the_chats_current() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    assert_eq!(chats(&mut client, json!({})).await.len(), 4);

    // A stranger writes: a new chat, announced before its message, newest and unread.
    let stranger = "4915100000009@s.whatsapp.net";
    harness
        .sim_command(json!({"cmd": "send_text", "from": stranger, "text": "hi, new here"}))
        .await;
    let new = client.event("chat").await;
    assert_eq!(
        new,
        json!({"type": "chat", "chat": stranger, "action": "new", "value": null})
    );
    let message = client.event("message").await;
    let all = chats(&mut client, json!({})).await;
    assert_eq!(all.len(), 5);
    assert_eq!(find(&all, stranger)["unread"], 1);
    assert_eq!(find(&all, stranger)["t"], message["timestamp"]);
    // Newest first.
    let times: Vec<u64> = all.iter().map(|chat| chat["t"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|pair| pair[0] >= pair[1]), "{times:?}");

    // Alice writes twice: two unread, and her chat's t moves.
    for text in ["one", "two"] {
        harness
            .sim_command(json!({"cmd": "send_text", "from": ALICE, "text": text}))
            .await;
        client.event("message").await;
    }
    let all = chats(&mut client, json!({})).await;
    assert_eq!(find(&all, ALICE)["unread"], 2);

    // What the user does on the phone reaches the store.
    let steps = [
        (json!({"action": "read"}), "read"),
        (json!({"action": "archive"}), "archive"),
        (json!({"action": "pin", "value": "1700000000"}), "pin"),
        (json!({"action": "mute", "value": "4000000000"}), "mute"),
    ];
    for (mut command, action) in steps {
        command["cmd"] = json!("phone_action");
        command["chat"] = json!(ALICE);
        harness.sim_command(command).await;
        let event = client.event("chat").await;
        assert_eq!(event["action"], action);
    }
    let archived = chats(&mut client, json!({"archived": true})).await;
    assert_eq!(jids(&archived), [ALICE]);
    assert_eq!(archived[0]["unread"], 0);
    assert_eq!(archived[0]["pinned"], 1_700_000_000);
    assert_eq!(archived[0]["muted_until"], 4_000_000_000u64);
    let unarchived = chats(&mut client, json!({"archived": false})).await;
    assert!(!jids(&unarchived).contains(&ALICE));
    assert_eq!(unarchived.len(), 4);

    for action in ["unread", "unarchive", "unpin", "unmute"] {
        harness
            .sim_command(json!({"cmd": "phone_action", "action": action, "chat": ALICE}))
            .await;
        assert_eq!(client.event("chat").await["action"], action);
    }
    let alice = find(&chats(&mut client, json!({})).await, ALICE).clone();
    assert_eq!(alice["unread"], -1);
    assert_eq!(alice["archived"], false);
    assert_eq!(alice["pinned"], Value::Null);
    assert_eq!(alice["muted_until"], Value::Null);

    // Paging: `before` a chat's t gives the older ones.
    let first = chats(&mut client, json!({"limit": 1})).await;
    let t = first[0]["t"].as_u64().unwrap();
    let older = chats(&mut client, json!({"before": t})).await;
    assert!(
        older.iter().all(|chat| chat["t"].as_u64().unwrap() < t),
        "{older:?}"
    );

    // The phone deletes the stranger's chat; the next message brings it back as new.
    harness
        .sim_command(json!({"cmd": "phone_action", "action": "delete", "chat": stranger}))
        .await;
    assert_eq!(client.event("chat").await["action"], "delete");
    assert!(!jids(&chats(&mut client, json!({})).await).contains(&stranger));
    harness
        .sim_command(json!({"cmd": "send_text", "from": stranger, "text": "again"}))
        .await;
    assert_eq!(client.event("chat").await["action"], "new");
}

#[tokio::test]
async fn chat_modify_reaches_the_phone_and_changes_the_store() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let sent = harness
        .sim_command(json!({"cmd": "send_text", "from": ALICE, "text": "star me"}))
        .await;
    client.event("message").await;

    let modify = |action: &str, extra: Value| {
        let mut params = json!({"chat": "4915100000001", "action": action});
        for (key, value) in extra.as_object().unwrap() {
            params[key] = value.clone();
        }
        params
    };
    assert_eq!(
        client
            .call("chat_modify", modify("archive", json!({})))
            .await
            .unwrap(),
        json!({})
    );
    let event = client.event("chat").await;
    assert_eq!(
        event,
        json!({"type": "chat", "chat": ALICE, "action": "archive", "value": null})
    );
    let received = loop {
        let line = harness.sim_line("received").await;
        if line["node"]["content"][0]["tag"] == "chat" {
            break line;
        }
    };
    assert_eq!(received["metric"], 12);
    assert_eq!(received["flags"], 128);
    let child = &received["node"]["content"][0]["attrs"];
    assert_eq!(child["type"], "archive");
    assert_eq!(child["index"], sent["id"]);
    assert_eq!(child["owner"], "false");
    assert_eq!(phone_chat(&harness, ALICE).await["archive"], true);
    assert_eq!(
        find(&chats(&mut client, json!({"archived": true})).await, ALICE)["archived"],
        true
    );

    client
        .call("chat_modify", modify("pin", json!({})))
        .await
        .unwrap();
    let pin = client.event("chat").await;
    let pinned: u64 = pin["value"].as_str().unwrap().parse().unwrap();
    assert_eq!(phone_chat(&harness, ALICE).await["pin"], pinned);
    let until = 4_000_000_000u64;
    client
        .call("chat_modify", modify("mute", json!({"until": until})))
        .await
        .unwrap();
    assert_eq!(client.event("chat").await["value"], until.to_string());
    assert_eq!(phone_chat(&harness, ALICE).await["mute"], until);
    let alice = find(&chats(&mut client, json!({})).await, ALICE).clone();
    assert_eq!(
        (alice["pinned"].as_u64(), alice["muted_until"].as_u64()),
        (Some(pinned), Some(until))
    );

    for action in ["unpin", "unmute", "unarchive"] {
        client
            .call("chat_modify", modify(action, json!({})))
            .await
            .unwrap();
        assert_eq!(client.event("chat").await["action"], action);
    }
    let phone = phone_chat(&harness, ALICE).await;
    assert_eq!(
        (
            phone["pin"].clone(),
            phone["mute"].clone(),
            phone["archive"].clone()
        ),
        (Value::Null, Value::Null, json!(false))
    );
    let alice = find(&chats(&mut client, json!({})).await, ALICE).clone();
    assert_eq!(
        (
            alice["pinned"].clone(),
            alice["muted_until"].clone(),
            alice["archived"].clone()
        ),
        (Value::Null, Value::Null, json!(false))
    );

    let message = json!({"chat": ALICE, "id": sent["id"], "from_me": false});
    client
        .call("chat_modify", modify("star", json!({"message": message})))
        .await
        .unwrap();
    assert_eq!(client.event("chat").await["value"], sent["id"]);
    let star = loop {
        let line = harness.sim_line("received").await;
        if line["node"]["content"][0]["attrs"]["type"] == "star" {
            break line;
        }
    };
    assert_eq!(star["metric"], 10);
    assert_eq!(
        star["node"]["content"][0]["content"][0]["attrs"]["index"],
        sent["id"]
    );

    // Bad params, and what the phone refuses.
    for (params, why) in [
        (
            json!({"chat": "4915100000077", "action": "archive"}),
            "unknown chat",
        ),
        (
            modify("mute", json!({"until": 1_600_000_000})),
            "a past until",
        ),
        (modify("mute", json!({})), "mute without until"),
        (modify("star", json!({})), "star without message"),
        (modify("explode", json!({})), "a bad action"),
        (modify("pin", json!({"until": until})), "until without mute"),
    ] {
        let error = client.call("chat_modify", params).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{why}: {error}");
    }
    harness
        .sim_command(json!({"cmd": "remove_chat", "chat": GROUP}))
        .await;
    let error = client
        .call("chat_modify", json!({"chat": GROUP, "action": "archive"}))
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32004, "{error}");
    assert_eq!(error["data"]["status"], 404, "{error}");

    // Clear keeps the chat without its messages; delete removes it, here and on the phone.
    client
        .call("chat_modify", modify("clear", json!({})))
        .await
        .unwrap();
    assert_eq!(client.event("chat").await["action"], "clear");
    // No stored message is left to mark read.
    let gone = client
        .call("mark_read", json!({"chat": ALICE}))
        .await
        .unwrap_err();
    assert_eq!(gone["code"], -32009, "{gone}");
    assert!(jids(&chats(&mut client, json!({})).await).contains(&ALICE));
    client
        .call("chat_modify", modify("delete", json!({})))
        .await
        .unwrap();
    assert_eq!(client.event("chat").await["action"], "delete");
    assert!(!jids(&chats(&mut client, json!({})).await).contains(&ALICE));
    assert_eq!(phone_chat(&harness, ALICE).await, Value::Null);
}

#[tokio::test]
async fn chats_and_contacts_survive_a_restart() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness
        .sim_command(json!({"cmd": "phone_action", "action": "archive", "chat": ALICE}))
        .await;
    assert_eq!(client.event("chat").await["action"], "archive");
    let before = chats(&mut client, json!({})).await;
    let contacts = client.call("contacts", json!({})).await.unwrap();
    drop(client);
    harness.stop_daemon().await;
    harness
        .sim_command(json!({"cmd": "add_chats", "count": 2}))
        .await;
    harness.start_daemon().await;
    // Straight after the start, before the session is back: answered from the store.
    let mut client = harness.client().await;
    let after = chats(&mut client, json!({})).await;
    assert!(after.len() >= before.len(), "{after:?}");
    assert_eq!(find(&after, ALICE)["archived"], true);
    assert_eq!(client.call("contacts", json!({})).await.unwrap(), contacts);
    // Once connected, the phone's list (with two more chats) replaces it.
    client.call("subscribe", json!({})).await.unwrap();
    client.state("connected").await;
    let deadline = tokio::time::Instant::now() + crate::support::deadline();
    loop {
        let now = chats(&mut client, json!({})).await;
        if now.len() == before.len() + 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{now:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
