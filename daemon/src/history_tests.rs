use waweb_proto::message::{MessageKind, Source};

use super::*;
use crate::db::Db;

const CHAT: &str = "4915100000001@s.whatsapp.net";

fn fetched(id: &str, text: &str, t: u64) -> Fetched {
    Fetched {
        message: Message {
            timestamp: t,
            text: Some(text.into()),
            source: Source::History,
            ..Message::new(id, CHAT, MessageKind::Text)
        },
        raw: vec![1],
    }
}

fn page(range: std::ops::Range<u64>) -> Vec<Fetched> {
    range
        .map(|n| fetched(&format!("M{n}"), &format!("message {n}"), 1_600_000_000 + n))
        .collect()
}

fn ids(range: impl Iterator<Item = u64>) -> Vec<String> {
    range.map(|n| format!("M{n}")).collect()
}

fn record(writer: &mut Connection, kind: Kind, anchor: Option<&str>, page: &[Fetched], asked: u32) {
    let transaction = writer.transaction().unwrap();
    record_page(&transaction, CHAT, kind, anchor, page, asked).unwrap();
    transaction.commit().unwrap();
}

#[test]
fn pages_link_what_they_prove_adjacent_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Db::open(dir.path()).unwrap();
    let mut writer = opened.writer;
    // The newest page, full: M10..M14, no start known.
    record(&mut writer, Kind::Before, None, &page(10..15), 5);
    let reader = opened.db.reader().unwrap();
    let back = walk(&reader, CHAT, "M14", Kind::Before, 10).unwrap();
    assert_eq!(back.ids, ids((10..14).rev()));
    assert!(!back.at_start);
    // Nothing links M10 to anything older yet, nor M14 to anything newer.
    assert_eq!(
        walk(&reader, CHAT, "M14", Kind::After, 3).unwrap().ids,
        Vec::<String>::new()
    );

    // A short page before M10: M7..M9 is the chat's start.
    record(&mut writer, Kind::Before, Some("M10"), &page(7..10), 5);
    let back = walk(&reader, CHAT, "M12", Kind::Before, 10).unwrap();
    assert_eq!(back.ids, ids((7..12).rev()));
    assert!(back.at_start);
    // Forwards from the start, up to the newest linked.
    let forward = walk(&reader, CHAT, "M7", Kind::After, 100).unwrap();
    assert_eq!(forward.ids, ids(8..15));
    // A walk stops at n.
    assert_eq!(
        walk(&reader, CHAT, "M7", Kind::After, 2).unwrap().ids,
        ids(8..10)
    );

    // An after page past M14 links on.
    record(&mut writer, Kind::After, Some("M14"), &page(15..17), 5);
    assert_eq!(
        walk(&reader, CHAT, "M13", Kind::After, 10).unwrap().ids,
        ids(14..17)
    );
    let loaded = load(&reader, CHAT, &ids(14..17)).unwrap().unwrap();
    assert_eq!(loaded[2].text.as_deref(), Some("message 16"));
    assert_eq!(load(&reader, CHAT, &ids(16..18)).unwrap(), None);
    // An empty before page of the first message says it is the first.
    record(&mut writer, Kind::Before, Some("M7"), &[], 5);
    let back = walk(&reader, CHAT, "M7", Kind::Before, 5).unwrap();
    assert!(back.ids.is_empty() && back.at_start);
}

#[test]
fn a_new_successor_replaces_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Db::open(dir.path()).unwrap();
    let mut writer = opened.writer;
    record(&mut writer, Kind::Before, None, &page(1..4), 10);
    // The server now says M5 follows M2 (M3 was deleted on the phone).
    record(
        &mut writer,
        Kind::After,
        Some("M2"),
        &[fetched("M5", "five", 5)],
        10,
    );
    let reader = opened.db.reader().unwrap();
    assert_eq!(
        walk(&reader, CHAT, "M1", Kind::After, 5).unwrap().ids,
        ids([2, 5].into_iter())
    );
}

#[test]
fn a_stored_message_keeps_its_row_and_search_finds_text_and_captions() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Db::open(dir.path()).unwrap();
    let mut writer = opened.writer;
    let transaction = writer.transaction().unwrap();
    let live = Message {
        timestamp: 1_600_000_001,
        text: Some("Lunch at noon?".into()),
        ..Message::new("M1", CHAT, MessageKind::Text)
    };
    messages::insert(&transaction, &live, None).unwrap();
    transaction.commit().unwrap();
    let mut captioned = fetched("M2", "", 1_600_000_002);
    captioned.message.text = None;
    captioned.message.kind = MessageKind::Image;
    captioned.message.media = Some(waweb_proto::message::Media {
        caption: Some("after LUNCH".into()),
        ..waweb_proto::message::Media::new(
            waweb_proto::message::MediaKind::Image,
            "AAEC".into(),
            String::new(),
            String::new(),
            3,
        )
    });
    let mut again = fetched("M1", "Lunch at noon?", 1_600_000_001);
    again.message.source = Source::History;
    record(
        &mut writer,
        Kind::Before,
        None,
        &[again, captioned, fetched("M3", "dinner", 3)],
        3,
    );
    let reader = opened.db.reader().unwrap();
    let stored = load(&reader, CHAT, &ids(1..2)).unwrap().unwrap();
    assert_eq!(stored[0].source, Source::Live);

    let found = search(&reader, "lunch", None, 10, 1).unwrap();
    let found: Vec<&str> = found.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(found, ["M2", "M1"]);
    assert_eq!(
        search(&reader, "lunch", None, 1, 1).unwrap().len(),
        2,
        "one more than count"
    );
    let second = search(&reader, "lunch", None, 1, 2).unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, "M1");
    assert!(
        search(&reader, "lunch", Some("other@g.us"), 10, 1)
            .unwrap()
            .is_empty()
    );
    assert!(
        search(&reader, "text", None, 10, 1).unwrap().is_empty(),
        "keys do not match"
    );
}
