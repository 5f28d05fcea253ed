//! The simulator's groups on the wire (PROTOCOL.md 11.1-11.3), as a legacy client writes and
//! reads them: a `group` set-action changes the state the next `GroupMetadata` shows, its reply
//! has the shape B parses, each change is pushed (`Chat` push or stub message), and what the
//! service refused is refused with its status and changes nothing.

mod client;

use serde_json::{Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::message::{self, pb};

use client::*;

const GROUP: &str = "4915100000000-1600000000@g.us";
const ME: &str = "4915100000000@s.whatsapp.net";

async fn paired() -> (waweb_sim::Sim, Client) {
    let sim = start().await;
    let mut client = connect(&sim, "Z3JvdXBzZ3JvdXBzZ3JvdQ==").await;
    client.pair(&sim).await;
    client.login_pushes().await;
    (sim, client)
}

/// A `group` set-action of `op` (B's form: `id` is the frame's tag), metric 10, flags 0x88;
/// the JSON reply.
async fn group_op(
    client: &mut Client,
    tag: &str,
    op: &str,
    attrs: &[(&str, &str)],
    children: Vec<Node>,
) -> Value {
    let mut child = Node::new("group")
        .attr("author", ME)
        .attr("id", tag.to_owned())
        .attr("type", op.to_owned());
    for (key, value) in attrs {
        child = child.attr(key.to_string(), value.to_string());
    }
    if !children.is_empty() {
        child = child.with_content(Content::List(children));
    }
    let action = Node::new("action")
        .attr("type", "set")
        .attr("epoch", "1")
        .with_content(Content::List(vec![child]));
    client.send_node(tag, 10, 0x88, &action).await;
    client.until_tag(tag).await.1
}

fn participant(jid: &str) -> Node {
    Node::new("participant").attr("jid", jid.to_owned())
}

async fn metadata(client: &mut Client, tag: &str, chat: &str) -> Value {
    client
        .send_json(tag, json!(["query", "GroupMetadata", chat]))
        .await;
    client.until_tag(tag).await.1
}

/// The next JSON push, which must be `Chat`.
async fn chat_push(client: &mut Client) -> Value {
    let (tag, push) = client.next_json().await;
    assert!(tag.starts_with('s'), "{tag}");
    assert_eq!(push[0], "Chat", "{push}");
    push[1].clone()
}

#[tokio::test]
async fn set_actions_change_what_group_metadata_says_and_are_pushed() {
    let (_sim, mut client) = paired().await;
    let dave = "4915100000004@s.whatsapp.net";
    let reply = group_op(
        &mut client,
        "1.--1",
        "add",
        &[("jid", GROUP)],
        vec![
            participant(dave),
            participant("4915100000001@s.whatsapp.net"),
        ],
    )
    .await;
    assert_eq!(
        reply,
        json!({"status": 200, "participants": {"4915100000004@c.us": {"code": "200"}, "4915100000001@c.us": {"code": "409"}}})
    );
    assert_eq!(
        chat_push(&mut client).await,
        json!({"id": GROUP, "cmd": "action", "data": ["add", "4915100000000@c.us", {"participants": ["4915100000004@c.us"]}]})
    );
    let meta = metadata(&mut client, "1.--2", GROUP).await;
    assert_eq!(meta["participants"].as_array().unwrap().len(), 5);
    assert_eq!(
        meta["participants"][0],
        json!({"id": "4915100000000@c.us", "isAdmin": true, "isSuperAdmin": true})
    );

    let description = Node::new("description")
        .attr("id", "3EB0DESC1")
        .with_content(Content::Bytes(b"noon".to_vec()));
    let reply = group_op(
        &mut client,
        "1.--3",
        "description",
        &[("jid", GROUP)],
        vec![description],
    )
    .await;
    assert_eq!(reply, json!({"status": 200}));
    let push = chat_push(&mut client).await;
    assert_eq!(push["data"][0], "desc_add");
    assert_eq!(
        push["data"][2],
        json!({"desc": "noon", "descId": "3EB0DESC1"})
    );
    // A `prev` that is not the current description is a conflict.
    let stale = Node::new("description")
        .attr("id", "3EB0DESC2")
        .attr("prev", "3EB0OTHER")
        .with_content(Content::Bytes(b"late".to_vec()));
    let reply = group_op(
        &mut client,
        "1.--4",
        "description",
        &[("jid", GROUP)],
        vec![stale],
    )
    .await;
    assert_eq!(reply, json!({"status": 409}));
    let meta = metadata(&mut client, "1.--5", GROUP).await;
    assert_eq!(
        (&meta["desc"], &meta["descId"]),
        (&json!("noon"), &json!("3EB0DESC1"))
    );

    let announce = Node::new("announcement").attr("value", "true");
    let reply = group_op(
        &mut client,
        "1.--6",
        "prop",
        &[("jid", GROUP)],
        vec![announce],
    )
    .await;
    assert_eq!(reply, json!({"status": 200}));
    let (_, node) = client.next_node().await;
    let info =
        message::decode_web_message_info(node.children()[0].content_bytes().unwrap()).unwrap();
    assert_eq!(
        info.message_stub_type,
        Some(pb::WebMessageInfoStubType::GroupChangeAnnounce as i32)
    );
    assert_eq!(info.message_stub_parameters, ["on"]);
    assert_eq!(
        metadata(&mut client, "1.--7", GROUP).await["announce"],
        "true"
    );

    let reply = group_op(
        &mut client,
        "1.--8",
        "create",
        &[("subject", "Lunch")],
        vec![participant(dave)],
    )
    .await;
    let gid = reply["gid"].as_str().unwrap().to_owned();
    assert_eq!(
        reply["participants"],
        json!([{"4915100000004@c.us": {"code": "200"}}])
    );
    let push = chat_push(&mut client).await;
    assert_eq!(
        (&push["id"], &push["data"][0]),
        (&json!(gid), &json!("create"))
    );
    assert_eq!(push["data"][2]["regulars"], json!(["4915100000004@c.us"]));
    assert_eq!(
        metadata(&mut client, "1.--9", &gid).await["subject"],
        "Lunch"
    );
}

#[tokio::test]
async fn invites_leaving_and_the_minimal_query() {
    let (_sim, mut client) = paired().await;
    client
        .send_json("2.--1", json!(["query", "inviteCode", GROUP]))
        .await;
    let code = client.until_tag("2.--1").await.1["code"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .send_json("2.--2", json!(["action", "inviteReset", GROUP]))
        .await;
    let reset = client.until_tag("2.--2").await.1;
    let new = reset["code"].as_str().unwrap().to_owned();
    assert_ne!(new, code);
    let (_, stub) = client.next_node().await;
    assert_eq!(stub.get("add"), Some("relay"));

    let reply = group_op(&mut client, "2.--3", "leave", &[("jid", GROUP)], vec![]).await;
    assert_eq!(reply, json!({"status": 200}));
    let (_, stub) = client.next_node().await;
    let info =
        message::decode_web_message_info(stub.children()[0].content_bytes().unwrap()).unwrap();
    assert_eq!(
        info.message_stub_type,
        Some(pb::WebMessageInfoStubType::GroupParticipantLeave as i32)
    );
    assert_eq!(
        metadata(&mut client, "2.--4", GROUP).await,
        json!({"status": 401})
    );
    // Still answered after leaving, as B expects: the creator, and no longer us.
    let query = Node::new("query")
        .attr("type", "group")
        .attr("jid", GROUP)
        .attr("epoch", "2");
    client.send_node("2.--5", 10, 0x80, &query).await;
    let (tag, response) = client.next_node().await;
    assert_eq!(tag, "2.--5");
    let group = &response.children()[0];
    assert_eq!(group.get("creator"), Some(ME));
    assert!(group.children().iter().all(|p| p.get("jid") != Some(ME)));
    assert_eq!(
        group.children()[0].get("type"),
        Some("admin"),
        "the oldest took over"
    );

    for (tag, code, status) in [
        ("2.--6", code.as_str(), 404),
        ("2.--7", new.as_str(), 200),
        ("2.--8", new.as_str(), 409),
    ] {
        client
            .send_json(tag, json!(["action", "invite", code]))
            .await;
        let reply = client.until_tag(tag).await.1;
        assert_eq!(reply["status"], status, "{reply}");
    }
    assert_eq!(metadata(&mut client, "2.--9", GROUP).await["id"], GROUP);
    // A plain member now: no participant changes.
    let reply = group_op(
        &mut client,
        "2.--10",
        "promote",
        &[("jid", GROUP)],
        vec![participant(ME)],
    )
    .await;
    assert_eq!(reply, json!({"status": 401}));
    let reply = group_op(
        &mut client,
        "2.--11",
        "subject",
        &[("jid", "4915100000000-1@g.us"), ("subject", "S")],
        vec![],
    )
    .await;
    assert_eq!(reply, json!({"status": 404}));
}
