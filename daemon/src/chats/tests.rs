use waweb_proto::message::{Message, MessageKind, Source};
use waweb_proto::notice::{Chat, Contact, Group};
use waweb_proto::{ChatEntry, Event};

use super::query::{self, Filter};
use super::*;
use crate::db::Db;
use crate::journal::Retention;

const ALICE: &str = "4915100000001@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";
const ME: &str = "4915100000000@s.whatsapp.net";

async fn bus(dir: &std::path::Path) -> Bus {
    let bus = Bus::new();
    let opened = Db::open(dir).unwrap();
    let journal = Journal::start(
        opened.db,
        opened.writer,
        Retention::default(),
        bus.deliverer(),
    )
    .unwrap();
    bus.attach(journal);
    bus
}

fn entry(jid: &str, t: u64, unread: i64) -> ChatEntry {
    ChatEntry {
        jid: jid.into(),
        name: None,
        t,
        unread,
        archived: false,
        pinned: None,
        muted_until: None,
        read_only: false,
        ephemeral_s: None,
    }
}

fn message(chat: &str, id: &str, t: u64, from_me: bool, source: Source) -> Message {
    Message {
        timestamp: t,
        from_me,
        source,
        text: Some("hi".into()),
        ..Message::new(id, chat, MessageKind::Text)
    }
}

const ALL: Filter = Filter {
    archived: None,
    limit: 1000,
    before: None,
};

async fn all(bus: &Bus, chats: &Chats) -> Vec<ChatEntry> {
    bus.flush().await;
    chats.chats(bus.journal().unwrap(), ALL).await.unwrap()
}

#[tokio::test]
async fn a_queued_list_is_committed_before_listed_answers_and_only_the_first_call_waits() {
    let dir = tempfile::tempdir().unwrap();
    let bus = bus(dir.path()).await;
    let chats = Chats::new();
    let journal = bus.journal();
    assert!(!chats.listed(journal, false).await);
    let list = List::Chats {
        chats: vec![entry(ALICE, 100, 0)],
        skipped: 0,
    };
    chats.list(&bus, list, false).await;
    let counts = &chats.inner.chats_listed;
    assert_eq!(counts.committed.load(Ordering::Acquire), 0);
    assert!(chats.listed(journal, false).await);
    assert_eq!(counts.committed.load(Ordering::Acquire), 1);
    assert_eq!(all(&bus, &chats).await.len(), 1);
    assert!(!chats.listed(journal, true).await);
}

fn chat_event(chat: &str, action: &str, value: Option<&str>) -> Event {
    Event::Chat(Chat {
        chat: chat.into(),
        action: action.into(),
        value: value.map(str::to_owned),
    })
}

#[tokio::test]
async fn a_list_then_live_messages_give_t_and_unread() {
    let dir = tempfile::tempdir().unwrap();
    let bus = bus(dir.path()).await;
    let chats = Chats::new();
    let list = List::Chats {
        chats: vec![entry(ALICE, 100, 2), entry(GROUP, 200, 0)],
        skipped: 0,
    };
    chats.list(&bus, list, true).await;
    let journal = bus.journal();
    assert!(chats.listed(journal, false).await && !chats.listed(journal, true).await);
    let listed = all(&bus, &chats).await;
    assert_eq!(
        listed
            .iter()
            .map(|c| (c.jid.as_str(), c.t, c.unread))
            .collect::<Vec<_>>(),
        [(GROUP, 200, 0), (ALICE, 100, 2)]
    );
    // Two live messages from Alice (one in the list's own second), ours, and a history one.
    chats.arrived(&bus, message(ALICE, "A", 100, false, Source::Live), vec![]);
    chats.arrived(&bus, message(ALICE, "B", 300, false, Source::Live), vec![]);
    chats.arrived(&bus, message(ALICE, "C", 301, true, Source::Live), vec![]);
    chats.arrived(
        &bus,
        message(ALICE, "D", 50, false, Source::History),
        vec![],
    );
    let now = all(&bus, &chats).await;
    assert_eq!(
        (now[0].jid.as_str(), now[0].t, now[0].unread),
        (ALICE, 301, 4)
    );
    chats.publish(&bus, chat_event(ALICE, "read", None), None);
    assert_eq!(all(&bus, &chats).await[0].unread, 0);
    chats.publish(&bus, chat_event(ALICE, "unread", None), None);
    assert_eq!(all(&bus, &chats).await[0].unread, -1);
    chats.arrived(&bus, message(ALICE, "E", 302, false, Source::Live), vec![]);
    assert_eq!(all(&bus, &chats).await[0].unread, 1);
    bus.close().await;
}

#[tokio::test]
async fn a_new_chat_is_announced_and_chat_events_change_it() {
    let dir = tempfile::tempdir().unwrap();
    let bus = bus(dir.path()).await;
    let mut events = bus.subscribe();
    let chats = Chats::new();
    chats.arrived(&bus, message(ALICE, "A", 100, false, Source::Live), vec![]);
    chats.arrived(&bus, message(ALICE, "B", 101, false, Source::Live), vec![]);
    let first = events.recv().await.unwrap();
    assert_eq!(first.event, Some(chat_event(ALICE, "new", None)));
    assert!(matches!(
        events.recv().await.unwrap().event,
        Some(Event::Message(_))
    ));
    assert!(matches!(
        events.recv().await.unwrap().event,
        Some(Event::Message(_))
    ));
    let chat = &all(&bus, &chats).await[0];
    assert_eq!((chat.t, chat.unread), (101, 2));

    for (action, value) in [
        ("archive", None),
        ("pin", Some("150")),
        ("mute", Some("4000000000")),
    ] {
        chats.publish(&bus, chat_event(ALICE, action, value), None);
    }
    let chat = &all(&bus, &chats).await[0];
    assert!(chat.archived);
    assert_eq!(
        (chat.pinned, chat.muted_until),
        (Some(150), Some(4_000_000_000))
    );
    let archived = Filter {
        archived: Some(false),
        ..ALL
    };
    assert!(
        chats
            .chats(bus.journal().unwrap(), archived)
            .await
            .unwrap()
            .is_empty()
    );
    for action in ["unarchive", "unpin", "unmute"] {
        chats.publish(&bus, chat_event(ALICE, action, None), None);
    }
    let chat = &all(&bus, &chats).await[0];
    assert_eq!(
        (chat.archived, chat.pinned, chat.muted_until),
        (false, None, None)
    );

    // Clear keeps the chat and its t; delete removes both, and the next message is new again.
    chats.publish(&bus, chat_event(ALICE, "clear", None), None);
    let chat = &all(&bus, &chats).await[0];
    assert_eq!((chat.t, chat.unread), (101, 0));
    let journal = bus.journal().unwrap();
    assert!(
        crate::messages::newest(journal, ALICE.into())
            .await
            .unwrap()
            .is_none()
    );
    chats.publish(&bus, chat_event(ALICE, "delete", None), None);
    assert!(all(&bus, &chats).await.is_empty());
    chats.arrived(&bus, message(ALICE, "F", 200, false, Source::Live), vec![]);
    bus.flush().await;
    let mut saw_new = false;
    while let Ok(Ok(event)) =
        tokio::time::timeout(std::time::Duration::from_millis(50), events.recv()).await
    {
        saw_new |= event.event == Some(chat_event(ALICE, "new", None));
    }
    assert!(saw_new);
    bus.close().await;
}

#[tokio::test]
async fn groups_and_contacts_change_names_and_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let bus = bus(dir.path()).await;
    let chats = Chats::new();
    let group = |action: &str, participants: Vec<&str>, subject: Option<&str>| {
        Event::Group(Group {
            chat: GROUP.into(),
            action: action.into(),
            actor: Some(ME.into()),
            participants: participants.into_iter().map(str::to_owned).collect(),
            subject: subject.map(str::to_owned),
            value: None,
        })
    };
    chats.publish(
        &bus,
        group("create", vec![ME, ALICE], Some("Lunch")),
        Some(ME),
    );
    assert_eq!(all(&bus, &chats).await[0].name.as_deref(), Some("Lunch"));
    chats.publish(&bus, group("subject", vec![], Some("Dinner")), Some(ME));
    chats.publish(&bus, group("remove", vec![ALICE], None), Some(ME));
    let chat = &all(&bus, &chats).await[0];
    assert_eq!(
        (chat.name.as_deref(), chat.read_only),
        (Some("Dinner"), false)
    );
    chats.publish(&bus, group("leave", vec![], None), Some(ME));
    assert!(all(&bus, &chats).await[0].read_only);
    chats.publish(&bus, group("add", vec![ME], None), Some(ME));
    assert!(!all(&bus, &chats).await[0].read_only);

    let contact = |jid: &str, name: Option<&str>, notify: Option<&str>| Contact {
        jid: jid.into(),
        name: name.map(str::to_owned),
        notify: notify.map(str::to_owned),
        short: None,
    };
    let list = List::Contacts {
        contacts: vec![
            contact(ALICE, Some("Alice"), Some("Ali")),
            contact("4915100000002@s.whatsapp.net", Some("Bob"), None),
        ],
        skipped: 0,
    };
    chats.list(&bus, list, true).await;
    let journal = bus.journal().unwrap();
    let found = query::contacts(journal, Some("ALI".into())).await.unwrap();
    assert_eq!(found, [contact(ALICE, Some("Alice"), Some("Ali"))]);
    let found = query::contacts(journal, Some("0000002".into()))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    // A chat with a contact is named after it.
    chats.arrived(&bus, message(ALICE, "A", 100, false, Source::Live), vec![]);
    let named = all(&bus, &chats).await;
    assert_eq!(
        named
            .iter()
            .find(|c| c.jid == ALICE)
            .unwrap()
            .name
            .as_deref(),
        Some("Alice")
    );
    chats.publish(&bus, Event::Contact(contact(ALICE, None, None)), None);
    bus.flush().await;
    assert_eq!(query::contacts(journal, None).await.unwrap().len(), 1);
    chats.publish(
        &bus,
        Event::Contact(contact(ALICE, Some("Alice B."), None)),
        None,
    );
    bus.flush().await;
    assert_eq!(query::contacts(journal, None).await.unwrap().len(), 2);
    bus.close().await;
}
