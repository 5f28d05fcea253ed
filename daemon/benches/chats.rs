//! `chats` on a large store: 1,000 chats and 1,000,000 messages in a real `waweb.db`, the whole
//! list (limit 1,000) read newest first with every chat's `t` and unread count (the rows, and
//! what messages brought since, which the first call works out and later ones keep). The
//! target (BENCHMARKS.md) is under 5 ms.
//!
//! `cargo bench -p wawebd --bench chats`

use divan::Bencher;
use rusqlite::params;
use wawebd::chats::Chats;
use wawebd::chats::query::Filter;
use wawebd::db::Db;

fn main() {
    divan::main();
}

const CHATS: u64 = 1_000;
const PER_CHAT: u64 = 1_000;
/// Live messages from others after each chat's read mark.
const UNREAD: u64 = 3;

/// The store: chats read up to all but their last [`UNREAD`] messages, as after a chat list
/// and some live traffic.
fn store(dir: &std::path::Path) -> Db {
    let mut opened = Db::open(dir).unwrap();
    let transaction = opened.writer.transaction().unwrap();
    {
        let mut message = transaction
            .prepare(
                "INSERT INTO messages (chat, id, from_me, timestamp, event) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .unwrap();
        let mut chat = transaction
            .prepare(
                "INSERT INTO chats (jid, name, t, unread, read_t, read_n) VALUES (?1, ?2, ?3, 0, ?3, ?4)",
            )
            .unwrap();
        let mut n = 0u64;
        // Interleaved in time as traffic is: message m of every chat, then m + 1.
        for m in 0..PER_CHAT {
            for c in 0..CHATS {
                let jid = format!("49170{c:08}@s.whatsapp.net");
                let t = 1_600_000_000 + m * 10 + c % 10;
                let from_me = m % 3 == 0;
                let id = format!("3A{c:06}{m:012}");
                let event = format!(
                    r#"{{"type":"message","id":"{id}","chat":"{jid}","from_me":{from_me},"participant":null,"timestamp":{t},"push_name":"Chat {c}","kind":"text","text":"message number {m} of a benchmark chat","media":null,"source":"live"}}"#
                );
                message
                    .execute(params![jid, id, from_me, t, event])
                    .unwrap();
                n += 1;
                if m == PER_CHAT - UNREAD - 1 {
                    chat.execute(params![jid, format!("Chat {c}"), t, n])
                        .unwrap();
                }
            }
        }
    }
    transaction.commit().unwrap();
    opened.db
}

#[divan::bench(sample_count = 20)]
fn chats_of_a_large_store(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let reader = db.reader().unwrap();
    let filter = Filter {
        archived: None,
        limit: 1_000,
        before: None,
    };
    // The first call also works out what the messages brought (once per daemon run).
    let chats = Chats::new();
    let started = std::time::Instant::now();
    let listed = chats.chats_on(&db, &reader, filter).unwrap();
    eprintln!(
        "first chats call (loads the message part): {:?}",
        started.elapsed()
    );
    assert_eq!(listed.len(), CHATS as usize);
    assert!(
        listed.iter().all(|chat| chat.unread == 2),
        "{:?}",
        listed[0]
    );
    bencher.bench_local(|| chats.chats_on(&db, &reader, filter).unwrap());
}
