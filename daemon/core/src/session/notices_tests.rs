//! The typed pushes from their wire forms, and what stays a `json`/`node` event.

use serde_json::json;
use waweb_proto::Event;
use waweb_proto::notice::{Blocklist, Call, Chat, Contact, Group, Picture, Presence};

use super::super::push::{self, Push};
use crate::binary::{Content, Node};

const ME: &str = "4915100000000@s.whatsapp.net";
const ALICE: &str = "4915100000001@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";

fn json_event(payload: serde_json::Value) -> Push {
    let mut pushes = push::json_push("s9", payload, ME);
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    pushes.remove(0)
}

fn kept_as_json(payload: serde_json::Value) {
    assert!(
        matches!(json_event(payload.clone()), Push::Event(Event::Json { .. })),
        "{payload}"
    );
}

#[test]
fn presence_of_a_person_and_typing_in_a_group() {
    assert_eq!(
        json_event(
            json!(["Presence", {"id": "4915100000001@c.us", "type": "unavailable", "t": 1_600_000_000}])
        ),
        Push::Event(Event::Presence(Presence {
            jid: ALICE.into(),
            chat: None,
            presence: "unavailable".into(),
            last_seen: Some(1_600_000_000),
        }))
    );
    assert_eq!(
        json_event(
            json!(["Presence", {"id": GROUP, "type": "composing", "participant": "4915100000001@c.us"}])
        ),
        Push::Event(Event::Presence(Presence {
            jid: ALICE.into(),
            chat: Some(GROUP.into()),
            presence: "composing".into(),
            last_seen: None,
        }))
    );
    kept_as_json(json!(["Presence", {"type": "available"}]));
    kept_as_json(json!(["Presence", {"id": ALICE}]));
    kept_as_json(json!(["Presence", "available"]));
}

#[test]
fn blocklist_and_picture() {
    assert_eq!(
        json_event(json!(["Blocklist", {"id": 1, "blocklist": ["4915100000001@c.us", 5]}])),
        Push::Event(Event::Blocklist(Blocklist {
            jids: vec![ALICE.into()]
        }))
    );
    assert_eq!(
        json_event(json!(["Blocklist", {"id": 1, "blocklist": []}])),
        Push::Event(Event::Blocklist(Blocklist { jids: Vec::new() }))
    );
    kept_as_json(json!(["Blocklist", {"id": 1}]));
    assert_eq!(
        json_event(
            json!(["Cmd", {"type": "picture", "jid": "4915100000001@c.us", "tag": "removed"}])
        ),
        Push::Event(Event::Picture(Picture {
            jid: ALICE.into(),
            removed: true
        }))
    );
    assert_eq!(
        json_event(json!(["Cmd", {"type": "picture", "jid": GROUP, "tag": "1600000000"}])),
        Push::Event(Event::Picture(Picture {
            jid: GROUP.into(),
            removed: false
        }))
    );
    kept_as_json(json!(["Cmd", {"type": "picture", "jid": ""}]));
    kept_as_json(json!(["Cmd", {"type": "upgrade_md_prod", "version": "2.2126.11"}]));
}

#[test]
fn group_changes_of_the_chat_push() {
    let change =
        |data: serde_json::Value| json!(["Chat", {"id": GROUP, "cmd": "action", "data": data}]);
    assert_eq!(
        json_event(change(
            json!(["add", "4915100000000@c.us", {"participants": ["4915100000001@c.us"]}])
        )),
        Push::Event(Event::Group(Group {
            chat: GROUP.into(),
            action: "add".into(),
            actor: Some(ME.into()),
            participants: vec![ALICE.into()],
            subject: None,
            value: None,
        }))
    );
    let Push::Event(Event::Group(create)) = json_event(change(json!(["create", null, {
        "subject": "Lunch", "creation": 1, "admins": ["4915100000000@c.us"], "regulars": ["4915100000001@c.us"]
    }]))) else {
        panic!("not a group event");
    };
    assert_eq!((create.action.as_str(), create.actor), ("create", None));
    assert_eq!(create.participants, [ME.to_owned(), ALICE.to_owned()]);
    assert_eq!(create.subject.as_deref(), Some("Lunch"));
    let Push::Event(Event::Group(subject)) = json_event(change(
        json!(["subject", ALICE, {"subject": "Dinner", "s_t": 2}]),
    )) else {
        panic!("not a group event");
    };
    assert_eq!(subject.subject.as_deref(), Some("Dinner"));
    let Push::Event(Event::Group(description)) = json_event(change(
        json!(["desc_add", ALICE, {"desc": "about us", "descId": "1"}]),
    )) else {
        panic!("not a group event");
    };
    assert_eq!(
        (description.action.as_str(), description.value.as_deref()),
        ("description", Some("about us"))
    );
    for action in ["remove", "promote", "demote"] {
        let Push::Event(Event::Group(group)) = json_event(change(json!([action, ALICE, {}])))
        else {
            panic!("{action} is not a group event");
        };
        assert_eq!(
            (group.action.as_str(), group.participants.len()),
            (action, 0)
        );
    }
    kept_as_json(change(json!(["frobnicate", ALICE, {}])));
    kept_as_json(change(json!([])));
    kept_as_json(change(json!("add")));
    kept_as_json(json!(["Chat", {"id": GROUP, "cmd": "other", "data": ["add", null, {}]}]));
    kept_as_json(json!(["Chat", {"cmd": "action", "data": ["add", null, {}]}]));
}

fn action(children: Vec<Node>) -> Node {
    Node::new("action").with_content(Content::List(children))
}

fn events(node: Node) -> Vec<Push> {
    push::node_push("f", node)
}

#[test]
fn the_phones_chat_actions() {
    let chat = |kind: &'static str| {
        Node::new("chat")
            .attr("jid", "4915100000001@c.us")
            .attr("type", kind)
    };
    let expect = |action: &str, value: Option<&str>| {
        Push::Event(Event::Chat(Chat {
            chat: ALICE.into(),
            action: action.into(),
            value: value.map(str::to_owned),
        }))
    };
    let item = |id: &'static str| Node::new("item").attr("owner", "false").attr("index", id);
    let pushes = events(action(vec![
        chat("archive"),
        chat("unarchive"),
        chat("pin").attr("pin", "1600000000"),
        chat("pin").attr("previous", "1600000000"),
        chat("mute").attr("mute", "1600086400"),
        chat("mute").attr("previous", "1600086400"),
        chat("mute").attr("mute", "0"),
        chat("delete"),
        chat("clear"),
        chat("star").with_content(Content::List(vec![item("3A01"), item("3A02")])),
        chat("unstar").with_content(Content::List(vec![item("3A01")])),
        Node::new("read").attr("jid", "4915100000001@c.us"),
        Node::new("read")
            .attr("jid", "4915100000001@c.us")
            .attr("type", "false"),
    ]));
    assert_eq!(
        pushes,
        [
            expect("archive", None),
            expect("unarchive", None),
            expect("pin", Some("1600000000")),
            expect("unpin", None),
            expect("mute", Some("1600086400")),
            expect("unmute", None),
            expect("unmute", None),
            expect("delete", None),
            expect("clear", None),
            expect("star", Some("3A01,3A02")),
            expect("unstar", Some("3A01")),
            expect("read", None),
            expect("unread", None),
        ]
    );
    // A top-level read (PROTOCOL.md 8.1) is the same command.
    assert_eq!(
        events(Node::new("read").attr("jid", "4915100000001@c.us")),
        [expect("read", None)]
    );
}

#[test]
fn a_call_the_server_asks_about_in_a_query_is_a_call_event() {
    let query = Node::new("query").with_content(Content::List(vec![
        Node::new("call")
            .attr("from", "4915100000001@c.us")
            .attr("id", "C3")
            .with_content(Content::List(vec![
                Node::new("offer").attr("call-id", "C3"),
            ])),
    ]));
    assert_eq!(
        events(query),
        [Push::Event(Event::Call(Call {
            from: ALICE.into(),
            id: "C3".into(),
            status: "offer".into(),
        }))]
    );
    // A query about anything else still goes out whole.
    let other = Node::new("query").with_content(Content::List(vec![Node::new("ping")]));
    assert!(matches!(
        &events(other)[..],
        [Push::Event(Event::Node { .. })]
    ));
}

#[test]
fn contacts_and_calls() {
    let pushes = events(action(vec![
        Node::new("user")
            .attr("jid", "4915100000001@c.us")
            .attr("name", "Alice")
            .attr("notify", "Ali")
            .attr("short", "Alice"),
        Node::new("user").attr("jid", "4915100000001@c.us"),
        Node::new("call")
            .attr("from", "4915100000001@c.us")
            .attr("id", "C1")
            .with_content(Content::List(vec![
                Node::new("offer").attr("call-id", "C1"),
            ])),
        Node::new("call")
            .attr("jid", "4915100000001@c.us")
            .attr("type", "terminate")
            .with_content(Content::List(vec![Node::new("x").attr("call-id", "C2")])),
    ]));
    assert_eq!(
        pushes,
        [
            Push::Event(Event::Contact(Contact {
                jid: ALICE.into(),
                name: Some("Alice".into()),
                notify: Some("Ali".into()),
                short: Some("Alice".into()),
            })),
            Push::Event(Event::Contact(Contact {
                jid: ALICE.into(),
                name: None,
                notify: None,
                short: None,
            })),
            Push::Event(Event::Call(Call {
                from: ALICE.into(),
                id: "C1".into(),
                status: "offer".into(),
            })),
            Push::Event(Event::Call(Call {
                from: ALICE.into(),
                id: "C2".into(),
                status: "terminate".into(),
            })),
        ]
    );
}

#[test]
fn a_json_call_push_is_read_too() {
    assert_eq!(
        json_event(json!(["Call", {"id": "C9", "from": "4915100000001@c.us", "type": "offer"}])),
        Push::Event(Event::Call(Call {
            from: ALICE.into(),
            id: "C9".into(),
            status: "offer".into(),
        }))
    );
    kept_as_json(json!(["Call", {"id": "C9", "from": ALICE}]));
    kept_as_json(json!(["Call", {"from": ALICE, "status": "missed"}]));
}

#[test]
fn broken_typed_children_are_logged_and_kept_as_a_node() {
    let pushes = events(action(vec![
        Node::new("read"),
        Node::new("chat").attr("type", "archive"),
        Node::new("chat")
            .attr("jid", ALICE)
            .attr("type", "frobnicate"),
        Node::new("chat").attr("jid", ALICE).attr("type", "spam"),
        Node::new("user").attr("name", "nobody"),
        Node::new("call").attr("from", ALICE),
        Node::new("call").attr("id", "C1").attr("type", "offer"),
        Node::new("call").attr("from", ALICE).attr("id", "C1"),
    ]));
    let broken: Vec<&str> = pushes
        .iter()
        .filter_map(|push| match push {
            Push::Undecodable { what, .. } => Some(what.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(broken, ["read", "chat", "user", "call", "call", "call"]);
    let Some(Push::Event(Event::Node { content, .. })) = pushes.last() else {
        panic!("{pushes:?}");
    };
    assert_eq!(content.as_array().unwrap().len(), 8);
    let lone = events(Node::new("call"));
    assert!(matches!(
        &lone[..],
        [Push::Undecodable { .. }, Push::Event(Event::Node { .. })]
    ));
}
