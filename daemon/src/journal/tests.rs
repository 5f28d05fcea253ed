//! The journal with a real database in a temp dir, through the bus as the daemon uses it.

use std::time::Duration;

use serde_json::Value;
use waweb_proto::{ConsumerName, Event, EventType, JournalParams};

use super::*;
use crate::bus::{Bus, BusError, Subscription};
use crate::db::Db;

fn ack(n: u64) -> Event {
    Event::Ack {
        id: format!("M{n}"),
        ack: 2,
        chat: "49@s.whatsapp.net".into(),
        error: None,
    }
}

fn qr() -> Event {
    Event::Qr {
        content: "1@a,b,c".into(),
        reference: "1@a".into(),
        ttl_ms: 20_000,
        attempt: 1,
        attempts_max: 6,
    }
}

/// A bus with a journal in `dir`.
fn journaled_bus(dir: &std::path::Path, capacity: usize, retention: Retention) -> Bus {
    let bus = Bus::with_capacity(capacity);
    let opened = Db::open(dir).unwrap();
    let journal = Journal::start(opened.db, opened.writer, retention, bus.deliverer()).unwrap();
    bus.attach(journal);
    bus
}

fn params(stamped: &Stamped) -> Value {
    serde_json::from_str(&stamped.params).unwrap()
}

/// The ids of the next `n` events, checking seqs are consecutive from `first`.
async fn acks(subscription: &mut Subscription, first: u64, n: u64) -> Vec<String> {
    let mut ids = Vec::new();
    for seq in first..first + n {
        let stamped = tokio::time::timeout(Duration::from_secs(10), subscription.recv())
            .await
            .expect("an event in time")
            .unwrap();
        assert_eq!(stamped.seq, Some(seq));
        ids.push(params(&stamped)["id"].as_str().unwrap().to_owned());
    }
    ids
}

fn ids(range: std::ops::RangeInclusive<u64>) -> Vec<String> {
    range.map(|n| format!("M{n}")).collect()
}

#[tokio::test]
async fn seqs_are_consecutive_survive_a_restart_and_skip_qr() {
    let dir = tempfile::tempdir().unwrap();
    let bus = journaled_bus(dir.path(), 64, Retention::default());
    let mut live = bus.subscribe();
    bus.publish(ack(1));
    bus.publish(qr());
    bus.publish(ack(2));
    let first = live.recv().await.unwrap();
    assert_eq!((first.seq, first.kind), (Some(1), EventType::Ack));
    assert!(params(&first)["at"].as_u64().unwrap() > 1_600_000_000_000);
    let shown = live.recv().await.unwrap();
    assert_eq!((shown.seq, shown.kind), (None, EventType::Qr));
    assert!(!shown.params.contains("\"seq\""));
    assert_eq!(live.recv().await.unwrap().seq, Some(2));
    bus.close().await;
    drop((bus, live));

    let bus = journaled_bus(dir.path(), 64, Retention::default());
    assert_eq!(bus.journal().unwrap().head(), 2);
    let mut live = bus.subscribe();
    bus.publish(ack(3));
    assert_eq!(live.recv().await.unwrap().seq, Some(3), "never reused");
    let read = bus
        .journal()
        .unwrap()
        .read(JournalParams::default())
        .await
        .unwrap();
    assert_eq!(read.head, 3);
    let kinds: Vec<&str> = read
        .events
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ack", "ack", "ack"], "the qr was never stored");
}

#[tokio::test]
async fn a_replay_joins_the_live_stream_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let bus = journaled_bus(dir.path(), 8192, Retention::default());
    for n in 1..=1500 {
        bus.publish(ack(n));
    }
    bus.flush().await;
    let mut replay = bus.subscribe_since(700);
    // More arrive while the replay is still reading pages.
    for n in 1501..=2000 {
        bus.publish(ack(n));
    }
    assert_eq!(acks(&mut replay, 701, 1300).await, ids(701..=2000));
    bus.publish(ack(2001));
    assert_eq!(acks(&mut replay, 2001, 1).await, ids(2001..=2001));
}

#[tokio::test]
async fn a_subscriber_far_behind_the_ring_catches_up_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    // A ring of 4: anything more than 4 behind must come from the database.
    let bus = journaled_bus(dir.path(), 4, Retention::default());
    let mut slow = bus.subscribe();
    for n in 1..=3000 {
        bus.publish(ack(n));
    }
    bus.flush().await;
    assert_eq!(acks(&mut slow, 1, 2000).await, ids(1..=2000));
    for n in 3001..=3100 {
        bus.publish(ack(n));
    }
    assert_eq!(acks(&mut slow, 2001, 1100).await, ids(2001..=3100));
}

#[tokio::test]
async fn retention_prunes_and_a_subscriber_behind_the_pruning_is_lagged() {
    let dir = tempfile::tempdir().unwrap();
    let retention = Retention {
        max_bytes: 40_000,
        check_every: Duration::ZERO,
        ..Retention::default()
    };
    let bus = journaled_bus(dir.path(), 4, retention);
    let mut slow = bus.subscribe();
    for n in 1..=2000 {
        bus.publish(ack(n));
    }
    bus.flush().await;
    let journal = bus.journal().unwrap().clone();
    assert_eq!(journal.head(), 2000);
    assert!(journal.oldest() > 1000, "oldest {}", journal.oldest());
    assert!(journal.gap_after(0));
    assert!(!journal.gap_after(journal.oldest() - 1));
    assert_eq!(
        slow.recv().await.unwrap_err(),
        BusError::Lagged { last_seq: 0 }
    );
    // A replay asked for from a pruned point starts at the oldest kept.
    let oldest = journal.oldest();
    let mut replay = bus.subscribe_since(5);
    let first = replay.recv().await.unwrap();
    assert_eq!(first.seq, Some(oldest));
}

#[tokio::test]
async fn cursors_move_forward_only_and_new_names_start_at_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let bus = journaled_bus(dir.path(), 64, Retention::default());
    for n in 1..=10 {
        bus.publish(ack(n));
    }
    bus.flush().await;
    let journal = bus.journal().unwrap();
    let bot = ConsumerName::new("bot").unwrap();
    assert_eq!(journal.open_consumer(bot.clone()).await.unwrap(), 10);
    assert_eq!(
        journal.commit(bot.clone(), 4).await.unwrap().seq,
        10,
        "never backwards"
    );
    let other = ConsumerName::new("other").unwrap();
    assert_eq!(journal.commit(other.clone(), 3).await.unwrap().seq, 3);
    assert_eq!(journal.open_consumer(other.clone()).await.unwrap(), 3);
    assert!(matches!(
        journal.commit(bot, 11).await,
        Err(Error::AboveHead { seq: 11, head: 10 })
    ));
    let listed = journal.consumers().await.unwrap();
    let rows: Vec<(&str, u64, u64)> = listed
        .consumers
        .iter()
        .map(|c| (c.name.as_str(), c.seq, c.lag))
        .collect();
    assert_eq!(rows, [("bot", 10, 0), ("other", 3, 7)]);
}

#[tokio::test]
async fn events_reads_a_window_of_types() {
    let dir = tempfile::tempdir().unwrap();
    let bus = journaled_bus(dir.path(), 64, Retention::default());
    for n in 1..=1200 {
        bus.publish(if n % 2 == 0 { ack(n) } else { qr() });
        bus.publish(Event::Battery(waweb_proto::Battery {
            percent: (n % 100) as u8,
            plugged: false,
            powersave: false,
        }));
    }
    bus.flush().await;
    let journal = bus.journal().unwrap();
    let read = journal
        .read(JournalParams {
            since: Some(10),
            until: Some(1500),
            types: Some(vec![EventType::Ack]),
            limit: Some(1000),
        })
        .await
        .unwrap();
    let seqs: Vec<u64> = read
        .events
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs.first(), Some(&11));
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert!(seqs.iter().all(|seq| *seq <= 1500));
    assert!(read.events.iter().all(|e| e["type"] == "ack"));
    let capped = journal
        .read(JournalParams {
            limit: Some(5000),
            ..JournalParams::default()
        })
        .await
        .unwrap();
    assert_eq!(capped.events.len(), 1000);
}

#[test]
fn age_retention_finds_the_cutoff_without_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Db::open(dir.path()).unwrap();
    let day = 86_400_000;
    let now = 100 * day;
    for seq in 1..=1000u64 {
        // Ten days of events, a hundred a day; every tenth seq missing (a failed write).
        if seq % 10 == 0 {
            continue;
        }
        let at = now - 10 * day + (seq - 1) / 100 * day;
        opened
            .writer
            .execute(
                "INSERT INTO journal (seq, at, type, body) VALUES (?1, ?2, 'ack', '{}')",
                rusqlite::params![seq, at],
            )
            .unwrap();
    }
    let retention = Retention {
        keep: Duration::from_secs(3 * 86_400),
        ..Retention::default()
    };
    let mut writer = Writer::load(opened.writer, retention, Box::new(|_| {})).unwrap();
    assert_eq!((writer.oldest, writer.last_seq), (1, 999));
    writer.prune(now).unwrap();
    // Kept: what happened in the last three days (days 7, 8 and 9 of ten: seqs 701 on).
    assert_eq!(writer.oldest, 701);
    writer.prune(now).unwrap();
    assert_eq!(writer.oldest, 701, "nothing more is old");
    writer.prune(now + 20 * day).unwrap();
    assert_eq!(writer.oldest, 0, "everything is old");
}

#[test]
fn damaged_rows_are_skipped_not_served_as_broken_json() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Db::open(dir.path()).unwrap();
    let rows = [
        (1u64, "ack", r#"{"id":"a"}"#),
        (2, "ack", r#"{"id":"#),
        (3, "ack", "[1]"),
        (4, "no_such_type", "{}"),
        (5, "ack", r#" {"id":"b"}"#),
    ];
    for (seq, kind, body) in rows {
        opened
            .writer
            .execute(
                "INSERT INTO journal (seq, at, type, body) VALUES (?1, 1, ?2, ?3)",
                rusqlite::params![seq, kind, body],
            )
            .unwrap();
    }
    let page = read_page(&opened.writer, 0, 10).unwrap();
    let seqs: Vec<_> = page.iter().map(|stamped| stamped.seq).collect();
    assert_eq!(seqs, [Some(1), Some(5)]);
    for stamped in &page {
        serde_json::from_str::<Value>(&stamped.line()).expect("a served line is JSON");
    }
}

#[tokio::test]
async fn a_commit_wait_holds_an_event_until_it_is_over() {
    let dir = tempfile::tempdir().unwrap();
    let retention = Retention {
        commit_wait: Duration::from_millis(300),
        ..Retention::default()
    };
    let bus = journaled_bus(dir.path(), 64, retention);
    let mut subscription = bus.subscribe();
    let started = std::time::Instant::now();
    bus.publish(ack(1));
    tokio::time::sleep(Duration::from_millis(50)).await;
    bus.publish(ack(2));
    assert_eq!(acks(&mut subscription, 1, 2).await, ids(1..=2));
    // Neither went before the wait was over, though the first was queued alone.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}
