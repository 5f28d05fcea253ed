//! `messages` answered from the store: a page of 25 before or after an anchor, from a
//! `waweb.db` of 1,000 chats of 1,000 messages each (1,000,000 messages, every chat linked as
//! a full backwards pass of pages left it), including the reader connection each call opens.
//! The target (BENCHMARKS.md) is under 5 ms a page.
//!
//! `cargo bench -p wawebd --bench history` (building the store takes a minute; set
//! `WAWEB_BENCH_CHATS` and `WAWEB_BENCH_PER_CHAT` for another size)

use std::sync::OnceLock;

use divan::Bencher;
use waweb_core::session::history::{Fetched, Kind};
use waweb_proto::compose::MessageRef;
use waweb_proto::message::{Message, MessageKind, Source};
use wawebd::db::Db;
use wawebd::history;

fn main() {
    divan::main();
}

/// The store, built once for every bench.
struct Store {
    _dir: tempfile::TempDir,
    db: Db,
    chats: u64,
    per_chat: u64,
}

fn size(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn chat(n: u64) -> String {
    format!("49151{n:08}@s.whatsapp.net")
}

fn id(chat: u64, n: u64) -> String {
    format!("3A{chat:08X}{n:010X}")
}

/// Chat `c`'s messages as the server would page them: texts of a typical length, every third
/// one ours, one second apart.
fn message(c: u64, n: u64) -> Fetched {
    let message = Message {
        from_me: n.is_multiple_of(3),
        timestamp: 1_600_000_000 + n,
        push_name: Some("Alice".into()),
        text: Some(format!(
            "message {n} of chat {c}, about as long as a chat line usually is"
        )),
        source: Source::History,
        ..Message::new(id(c, n), chat(c), MessageKind::Text)
    };
    Fetched {
        message,
        raw: vec![0x0a; 120],
    }
}

/// Builds the store the way the daemon fills it: each chat's history recorded as `before`
/// pages of 100 from the newest back to the start, through [`history::record_page`].
fn build() -> Store {
    let chats = size("WAWEB_BENCH_CHATS", 1_000);
    let per_chat = size("WAWEB_BENCH_PER_CHAT", 1_000);
    let dir = tempfile::tempdir().unwrap();
    let opened = Db::open(dir.path()).unwrap();
    let mut writer = opened.writer;
    for c in 0..chats {
        let transaction = writer.transaction().unwrap();
        let mut anchor: Option<String> = None;
        let mut end = per_chat;
        while end > 0 {
            let start = end.saturating_sub(100);
            let page: Vec<Fetched> = (start..end).map(|n| message(c, n)).collect();
            let asked = if start == 0 { 101 } else { 100 };
            history::record_page(
                &transaction,
                &chat(c),
                Kind::Before,
                anchor.as_deref(),
                &page,
                asked,
            )
            .unwrap();
            anchor = Some(id(c, start));
            end = start;
        }
        transaction.commit().unwrap();
    }
    Store {
        _dir: dir,
        db: opened.db,
        chats,
        per_chat,
    }
}

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(build)
}

fn page(kind: Kind, n: u64) {
    let store = store();
    let c = n % store.chats;
    let at = store.per_chat / 2 + n % (store.per_chat / 4);
    let anchor = MessageRef::new(chat(c), id(c, at), at.is_multiple_of(3));
    let reader = store.db.reader().unwrap();
    let page = history::stored_page(&reader, &chat(c), kind, &anchor, 25)
        .unwrap()
        .expect("the store holds the page");
    assert_eq!(page.messages.len(), 25);
    assert!(page.more);
}

#[divan::bench(sample_count = 200)]
fn before_25(bencher: Bencher) {
    store();
    let mut n = 0;
    bencher.bench_local(|| {
        n += 7;
        page(Kind::Before, n)
    });
}

#[divan::bench(sample_count = 200)]
fn after_25(bencher: Bencher) {
    store();
    let mut n = 0;
    bencher.bench_local(|| {
        n += 7;
        page(Kind::After, n)
    });
}
