use waweb_proto::ChatEntry;
use waweb_proto::notice::Contact;

use super::*;

fn chat_node(attrs: &[(&str, &str)]) -> Node {
    attrs.iter().fold(Node::new("chat"), |node, (k, v)| {
        node.attr((*k).to_owned(), (*v).to_owned())
    })
}

#[test]
fn a_chat_list_reads_every_attribute_and_skips_entries_without_jid() {
    let node = Node::new("response")
        .attr("type", "chat")
        .with_content(Content::List(vec![
            chat_node(&[
                ("jid", "4915100000001@c.us"),
                ("t", "1600000000"),
                ("count", "2"),
                ("name", "Alice"),
                ("archive", "true"),
                ("pin", "1600000100"),
                ("mute", "1600086400"),
                ("read_only", "true"),
                ("ephemeral", "604800"),
            ]),
            chat_node(&[
                ("jid", "4915100000000-1600000000@g.us"),
                ("count", "-1"),
                ("t", "x"),
            ]),
            chat_node(&[("t", "1")]),
            Node::new("user").attr("jid", "4915100000009@c.us"),
        ]));
    let Some(List::Chats { chats, skipped }) = read(&node) else {
        panic!("not a chat list");
    };
    assert_eq!(skipped, 1);
    assert_eq!(
        chats,
        vec![
            ChatEntry {
                jid: "4915100000001@s.whatsapp.net".into(),
                name: Some("Alice".into()),
                t: 1_600_000_000,
                unread: 2,
                archived: true,
                pinned: Some(1_600_000_100),
                muted_until: Some(1_600_086_400),
                read_only: true,
                ephemeral_s: Some(604_800),
            },
            ChatEntry {
                jid: "4915100000000-1600000000@g.us".into(),
                name: None,
                t: 0,
                unread: -1,
                archived: false,
                pinned: None,
                muted_until: None,
                read_only: false,
                ephemeral_s: None,
            },
        ]
    );
}

#[test]
fn a_contact_list_and_a_duplicate_reply() {
    let node = Node::new("response")
        .attr("type", "contacts")
        .attr("checksum", "abc")
        .with_content(Content::List(vec![
            Node::new("user")
                .attr("jid", "4915100000001@c.us")
                .attr("name", "Alice")
                .attr("notify", "Ali")
                .attr("short", ""),
        ]));
    assert_eq!(
        read(&node),
        Some(List::Contacts {
            contacts: vec![Contact {
                jid: "4915100000001@s.whatsapp.net".into(),
                name: Some("Alice".into()),
                notify: Some("Ali".into()),
                short: None,
            }],
            skipped: 0,
        })
    );
    let duplicate = Node::new("response")
        .attr("type", "chat")
        .attr("duplicate", "true");
    assert_eq!(read(&duplicate), Some(List::Unchanged));
    assert_eq!(read(&Node::new("response").attr("type", "emoji")), None);
    assert_eq!(read(&Node::new("action").attr("type", "chat")), None);
    // No children at all is an empty list, not an error.
    assert_eq!(
        read(&Node::new("response").attr("type", "chat")),
        Some(List::Chats {
            chats: vec![],
            skipped: 0
        })
    );
}

#[test]
fn chat_actions_are_built_as_b_sent_them() {
    let chat = "4915100000000-1600000000@g.us";
    let index = Index {
        id: "3A1",
        owner: false,
        participant: Some("4915100000002@s.whatsapp.net"),
    };
    let archive = modify(chat, &Modify::Archive(true, Some(index.clone())));
    assert_eq!(archive.metric, 12);
    assert_eq!(archive.flags, 0x80);
    assert_eq!(archive.child.get("type"), Some("archive"));
    assert_eq!(archive.child.get("index"), Some("3A1"));
    assert_eq!(archive.child.get("owner"), Some("false"));
    assert_eq!(
        archive.child.get("participant"),
        Some("4915100000002@s.whatsapp.net")
    );
    let clear = modify(chat, &Modify::Clear(Some(index.clone())));
    assert_eq!(clear.child.get("star"), Some("false"));
    assert_eq!(clear.child.get("participant"), None);
    let bare = modify(chat, &Modify::Delete(None));
    assert_eq!(bare.child.get("type"), Some("delete"));
    assert_eq!(bare.child.get("index"), None);
    let pin = modify(chat, &Modify::Pin(1_600_000_100));
    assert_eq!(pin.child.get("pin"), Some("1600000100"));
    let unpin = modify(chat, &Modify::Unpin(Some(1_600_000_100)));
    assert_eq!(unpin.child.get("type"), Some("pin"));
    assert_eq!(unpin.child.get("previous"), Some("1600000100"));
    assert_eq!(unpin.child.get("pin"), None);
    let unmute = modify(chat, &Modify::Unmute(None));
    assert_eq!(unmute.child.get("type"), Some("mute"));
    assert_eq!(unmute.child.get("previous"), None);
    let star = modify(chat, &Modify::Star(true, index));
    assert_eq!(star.metric, 10);
    assert_eq!(star.child.get("type"), Some("star"));
    assert_eq!(star.child.children()[0].get("index"), Some("3A1"));
    assert_eq!(star.child.children()[0].get("owner"), Some("false"));
}
