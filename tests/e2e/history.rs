//! History and search (DESIGN.md 8): a chat of 5,000 messages paged from the server in both
//! directions without a gap or a repeat, then from the store with no server query (the
//! simulator's `history_query` lines count them), kept across a restart; `message`; `search`;
//! every error a caller can get.

use serde_json::{Value, json};

use crate::support::{Client, Harness};

const CAROL: &str = "4915100000003@s.whatsapp.net";

/// The simulator's lines so far.
fn lines(harness: &mut Harness) -> Vec<Value> {
    std::iter::from_fn(|| harness.sim_output.try_recv().ok()).collect()
}

/// The simulator's `history_query` (or `search_query`) lines so far.
fn queries(harness: &mut Harness, kind: &str) -> Vec<Value> {
    lines(harness)
        .into_iter()
        .filter(|line| line["type"] == kind)
        .collect()
}

fn reference(message: &Value) -> Value {
    json!({"chat": message["chat"], "id": message["id"], "from_me": message["from_me"]})
}

fn number(message: &Value) -> u64 {
    let text = message["text"].as_str().unwrap();
    text.strip_prefix("history ").unwrap().parse().unwrap()
}

/// Pages through CAROL's chat from `anchor` (the newest without one) in direction `kind`,
/// `count` at a time, until `more` is false: every message in chat order and the page count.
async fn page_all(
    client: &mut Client,
    kind: &str,
    anchor: Option<Value>,
    count: u32,
) -> (Vec<Value>, usize) {
    let mut all: Vec<Value> = Vec::new();
    let mut anchor = anchor;
    let mut pages = 0;
    loop {
        let mut params = json!({"chat": "4915100000003", "count": count});
        if let Some(anchor) = &anchor {
            params[kind] = reference(anchor);
        }
        let page = client.call("messages", params).await.unwrap();
        pages += 1;
        let messages = page["messages"].as_array().unwrap().clone();
        assert!(messages.len() <= count as usize);
        let more = page["more"].as_bool().unwrap();
        if kind == "after" {
            anchor = messages.last().cloned().or(anchor);
            all.extend(messages);
        } else {
            anchor = messages.first().cloned().or(anchor);
            all.splice(0..0, messages);
        }
        if !more {
            return (all, pages);
        }
    }
}

#[tokio::test]
async fn a_long_chat_pages_both_ways_from_the_server_then_from_the_store_and_survives_a_restart() {
    let mut harness = Harness::start().await;
    let mut client = harness.client().await;
    // Nothing to ask before logging in.
    let error = client
        .call("messages", json!({"chat": CAROL}))
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32001, "{error}");
    drop(client);
    let mut client = harness.pair().await;
    let seeded = harness
        .sim_command(json!({"cmd": "seed_history", "chat": CAROL, "count": 5000}))
        .await;
    assert_eq!(seeded["total"], 5000);
    queries(&mut harness, "history_query");

    // First pass, backwards from the newest: every page from the server.
    let (back, pages) = page_all(&mut client, "before", None, 100).await;
    assert_eq!(
        back.iter().map(number).collect::<Vec<_>>(),
        (1..=5000).collect::<Vec<_>>()
    );
    assert_eq!(back[4999]["id"], seeded["last_id"]);
    assert!(
        back.iter()
            .all(|m| m["chat"] == CAROL && m["source"] == "history")
    );
    assert!(
        back.iter()
            .all(|m| m["from_me"] == number(m).is_multiple_of(3))
    );
    assert_eq!(pages, 50);
    let seen = lines(&mut harness);
    let asked: Vec<&Value> = seen
        .iter()
        .filter(|l| l["type"] == "history_query")
        .collect();
    assert_eq!(asked.len(), 50);
    // One more than a page, to tell whether there are more; B's attributes (PROTOCOL.md 11.3).
    assert_eq!(asked[0]["count"], "101");
    assert_eq!(asked[0]["kind"], "before");
    assert_eq!(asked[0]["index"], Value::Null);
    assert_eq!(asked[1]["index"], back[4900]["id"]);
    assert_eq!(
        asked[1]["owner"],
        if back[4900]["from_me"] == true {
            "true"
        } else {
            "false"
        }
    );
    let line = seen
        .iter()
        .find(|line| line["type"] == "received" && line["node"]["attrs"]["type"] == "message")
        .unwrap();
    assert_eq!(
        (line["metric"].clone(), line["flags"].clone()),
        (json!(7), json!(128))
    );

    // Second pass, backwards from the newest known: all from the store.
    let (again, pages) = page_all(&mut client, "before", Some(back[4999].clone()), 100).await;
    assert_eq!(again, back[..4999]);
    assert_eq!(pages, 50);
    assert_eq!(queries(&mut harness, "history_query"), Vec::<Value>::new());

    // Forwards from the first: the store until it cannot tell whether newer ones exist.
    let (forward, _) = page_all(&mut client, "after", Some(back[0].clone()), 100).await;
    assert_eq!(forward, back[1..]);
    let asked = queries(&mut harness, "history_query");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["kind"], "after");

    // One message, and its twin with the other from_me.
    let one = client.call("message", reference(&back[41])).await.unwrap();
    assert_eq!(one, back[41]);
    let mut wrong = reference(&back[41]);
    wrong["from_me"] = json!(back[41]["from_me"] != true);
    let error = client.call("message", wrong.clone()).await.unwrap_err();
    assert_eq!(error["code"], -32009, "{error}");

    // After a restart the store still answers, before the session is even back.
    drop(client);
    harness.stop_daemon().await;
    harness.start_daemon().await;
    let mut client = harness.client().await;
    let page = client
        .call(
            "messages",
            json!({"chat": CAROL, "before": reference(&back[10]), "count": 10}),
        )
        .await
        .unwrap();
    assert_eq!(page["messages"].as_array().unwrap()[..], back[..10]);
    assert_eq!(page["more"], false);
    let page = client
        .call(
            "messages",
            json!({"chat": CAROL, "after": reference(&back[10]), "count": 5}),
        )
        .await
        .unwrap();
    assert_eq!(page["messages"].as_array().unwrap()[..], back[11..16]);
    assert_eq!(page["more"], true);
    assert_eq!(queries(&mut harness, "history_query"), Vec::<Value>::new());
    client
        .call("subscribe", json!({"events": ["state"]}))
        .await
        .unwrap();
    client.state("connected").await;

    // Errors: an anchor nobody knows, or with the wrong owner flag, is not found.
    let mut unknown = reference(&back[10]);
    unknown["id"] = json!("3A00NOSUCHMESSAGE000");
    let error = client
        .call("messages", json!({"chat": CAROL, "before": unknown}))
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32009, "{error}");
    let error = client
        .call("messages", json!({"chat": CAROL, "after": wrong}))
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32009, "{error}");
    let bad = [
        json!({"chat": CAROL, "count": 0}),
        json!({"chat": CAROL, "count": 101}),
        json!({"chat": "hello"}),
        json!({"chat": CAROL, "before": reference(&back[1]), "after": reference(&back[2])}),
        json!({"chat": "4915100000001", "before": reference(&back[1])}),
        json!({"chat": CAROL, "cursor": 1}),
    ];
    for params in bad {
        let error = client.call("messages", params.clone()).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{params}: {error}");
    }
}

#[tokio::test]
async fn search_merges_the_server_and_the_store_once_per_message() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness
        .sim_command(json!({"cmd": "seed_history", "chat": CAROL, "count": 40}))
        .await;
    // A live message the store holds and the server knows too.
    harness
        .sim_command(
            json!({"cmd": "send_text", "from": "4915100000003", "text": "HISTORY 3 again, live"}),
        )
        .await;
    let live = client.event("message").await;
    queries(&mut harness, "search_query");

    let found = client
        .call(
            "search",
            json!({"text": "history 3", "chat": "4915100000003", "count": 5}),
        )
        .await
        .unwrap();
    let messages = found["messages"].as_array().unwrap();
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    // Newest first: the live one, then 39 … 36 from the server; the store's own match (the
    // live one) only once.
    assert_eq!(
        texts,
        [
            "HISTORY 3 again, live",
            "history 39",
            "history 38",
            "history 37",
            "history 36"
        ]
    );
    assert_eq!(messages[0]["id"], live["id"]);
    assert_eq!(messages[0]["source"], "live");
    assert_eq!(found["more"], true);
    let asked = queries(&mut harness, "search_query");
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0]["count"].clone(), asked[0]["page"].clone()),
        (json!(5), json!(1))
    );
    assert_eq!(asked[0]["jid"], CAROL);

    // The last page; what the server found is stored now.
    let last = client
        .call(
            "search",
            json!({"text": "history 3", "count": 5, "page": 3}),
        )
        .await
        .unwrap();
    let texts: Vec<&str> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["history 30", "history 3"]);
    assert_eq!(last["more"], false);
    let stored = client
        .call("message", reference(&last["messages"][1]))
        .await
        .unwrap();
    assert_eq!(stored["text"], "history 3");

    for params in [
        json!({"text": ""}),
        json!({"text": "x", "page": 0}),
        json!({"text": "x", "count": 500}),
        json!({"text": "x", "chat": "nobody"}),
    ] {
        let error = client.call("search", params.clone()).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{params}: {error}");
    }
}
