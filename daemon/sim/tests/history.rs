//! The phone's history (PROTOCOL.md 11.3): `seed_history` archives, `query message` pages in
//! both directions without a gap or a repeat, 404 for an anchor the chat lacks, `query search`,
//! and a control line per query.

mod client;

use serde_json::{Value, json};
use waweb_core::binary::Node;
use waweb_core::message::{self, pb};
use waweb_core::session::history::{self, Kind};

use client::*;

const CHAT: &str = "4915100000003@s.whatsapp.net";

/// Sends `node` as a binary query and returns the reply: a node, or the JSON it came as.
async fn ask(client: &mut Client, tag: &str, metric: u8, node: Node) -> Result<Node, Value> {
    client
        .send_node(tag, metric, 0x80, &node.attr("epoch", "3"))
        .await;
    loop {
        match client.next().await {
            Frame::Binary(data) => {
                let cipher = waweb_core::wire::FrameCipher::new(client.keys.as_ref().unwrap());
                let (got, bytes) = cipher.open_server_frame(&data).unwrap();
                if got == tag {
                    return Ok(waweb_core::binary::decode(&bytes).unwrap());
                }
            }
            Frame::Text(text) => {
                if let Some(json) = text.strip_prefix(&format!("{tag},")) {
                    return Err(serde_json::from_str(json).unwrap());
                }
            }
            Frame::Closed => panic!("closed"),
        }
    }
}

/// The query a client sends (the daemon's own builder: the simulator must answer any client).
fn page(kind: Kind, count: u32, anchor: Option<&pb::WebMessageInfo>) -> Node {
    let anchor = anchor.map(|info| {
        let key = info.key.as_ref().unwrap();
        (key.id.as_deref().unwrap(), key.from_me == Some(true))
    });
    history::page_query(CHAT, kind, count, anchor)
}

fn infos(node: &Node) -> Vec<pb::WebMessageInfo> {
    node.children()
        .iter()
        .map(|child| message::decode_web_message_info(child.content_bytes().unwrap()).unwrap())
        .collect()
}

fn number(info: &pb::WebMessageInfo) -> u64 {
    let text = info
        .message
        .as_ref()
        .unwrap()
        .conversation
        .as_deref()
        .unwrap();
    text.strip_prefix("history ").unwrap().parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_seeded_chat_pages_both_ways_without_gaps_and_unknown_anchors_are_404() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "aGlzdG9yeWhpc3RvcnloaQ==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    let seeded = sim
        .command(json!({"cmd": "seed_history", "chat": "4915100000003", "count": 5000}))
        .await
        .unwrap();
    assert_eq!(seeded["count"], 5000);
    assert_eq!(seeded["total"], 5000);

    // Backwards from the newest, 120 at a time.
    let mut back = infos(
        &ask(&mut client, "b0", 7, page(Kind::Before, 120, None))
            .await
            .unwrap(),
    );
    assert_eq!(
        back.last()
            .and_then(|i| i.key.clone())
            .unwrap()
            .id
            .as_deref(),
        seeded["last_id"].as_str()
    );
    let mut n = 0;
    while back.len() < 5000 {
        n += 1;
        let older = ask(
            &mut client,
            &format!("b{n}"),
            7,
            page(Kind::Before, 120, back.first()),
        )
        .await;
        let mut older = infos(&older.unwrap());
        assert!(!older.is_empty());
        older.extend(back);
        back = older;
    }
    let numbers: Vec<u64> = back.iter().map(number).collect();
    assert_eq!(numbers, (1..=5000).collect::<Vec<_>>());
    assert!(
        back.iter()
            .all(|info| info.key.as_ref().unwrap().from_me == Some(number(info).is_multiple_of(3)))
    );
    // Before the first there is nothing.
    let none = ask(
        &mut client,
        "b-end",
        7,
        page(Kind::Before, 120, back.first()),
    )
    .await
    .unwrap();
    assert!(none.children().is_empty());
    assert_eq!(none.get("type"), Some("message"));

    // Forwards from the first, 77 at a time.
    let mut forward = vec![back[0].clone()];
    let mut n = 0;
    loop {
        n += 1;
        let newer = ask(
            &mut client,
            &format!("a{n}"),
            7,
            page(Kind::After, 77, forward.last()),
        )
        .await;
        let newer = infos(&newer.unwrap());
        if newer.is_empty() {
            break;
        }
        forward.extend(newer);
    }
    assert_eq!(forward.iter().map(number).collect::<Vec<_>>(), numbers);
    // Without an anchor, `after` starts at the beginning.
    let first = infos(
        &ask(&mut client, "a-start", 7, page(Kind::After, 3, None))
            .await
            .unwrap(),
    );
    assert_eq!(first.iter().map(number).collect::<Vec<_>>(), [1, 2, 3]);

    // An anchor with the wrong owner flag, or of nothing, is 404.
    let mut wrong = back[0].clone();
    wrong.key.as_mut().unwrap().from_me = Some(true);
    let refused = ask(&mut client, "w1", 7, page(Kind::Before, 5, Some(&wrong))).await;
    assert_eq!(refused.unwrap_err(), json!({"status": 404}));
    wrong.key.as_mut().unwrap().id = Some("NOSUCHID".into());
    let refused = ask(&mut client, "w2", 7, page(Kind::After, 5, Some(&wrong))).await;
    assert_eq!(refused.unwrap_err(), json!({"status": 404}));

    // One control line per query, saying what was served.
    let lines: Vec<Value> = std::iter::from_fn(|| output.try_recv().ok())
        .filter(|line| line["type"] == "history_query")
        .collect();
    assert_eq!(lines.len(), 1 + 41 + 1 + 66 + 1 + 2, "{:?}", lines.last());
    assert_eq!(lines[0]["returned"], 120);
    assert_eq!(lines[0]["kind"], "before");
    assert_eq!(lines.last().unwrap()["status"], 404);
    assert_eq!(lines.last().unwrap()["index"], "NOSUCHID");
}

#[tokio::test(start_paused = true)]
async fn search_finds_texts_newest_first_page_by_page() {
    let sim = start().await;
    let mut output = sim.subscribe();
    let mut client = connect(&sim, "c2VhcmNoc2VhcmNoc2VhcmM=").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    sim.command(json!({"cmd": "seed_history", "chat": CHAT, "count": 30}))
        .await
        .unwrap();
    sim.command(json!({"cmd": "seed_history", "chat": "4915100000004", "count": 5}))
        .await
        .unwrap();
    let search = |text: &str, count: u32, page: u32, jid: Option<&str>| {
        history::search_query(text, jid, count, page)
    };
    // "History 2" matches 2 and 20-29 in CHAT (case-insensitively), and 2 in the other chat.
    let first = ask(&mut client, "s1", 24, search("History 2", 5, 1, Some(CHAT)))
        .await
        .unwrap();
    assert_eq!(first.get("last"), Some("false"));
    assert_eq!(
        infos(&first).iter().map(number).collect::<Vec<_>>(),
        [29, 28, 27, 26, 25]
    );
    let third = ask(&mut client, "s3", 24, search("history 2", 5, 3, Some(CHAT)))
        .await
        .unwrap();
    assert_eq!(third.get("last"), Some("true"));
    assert_eq!(infos(&third).iter().map(number).collect::<Vec<_>>(), [2]);
    let everywhere = ask(&mut client, "s4", 24, search("history 2", 50, 1, None))
        .await
        .unwrap();
    assert_eq!(infos(&everywhere).len(), 12);
    let nothing = ask(&mut client, "s5", 24, search("lunch", 5, 1, None))
        .await
        .unwrap();
    assert!(nothing.children().is_empty() && nothing.get("last") == Some("true"));
    let lines: Vec<Value> = std::iter::from_fn(|| output.try_recv().ok())
        .filter(|line| line["type"] == "search_query")
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["returned"], 5);
    assert_eq!(lines[0]["jid"], CHAT);
    assert_eq!(lines[3]["last"], true);

    // Bad seeds are refused.
    assert!(
        sim.command(json!({"cmd": "seed_history", "chat": CHAT, "count": 0}))
            .await
            .is_err()
    );
    assert!(
        sim.command(json!({"cmd": "seed_history", "count": 3}))
            .await
            .is_err()
    );
}
