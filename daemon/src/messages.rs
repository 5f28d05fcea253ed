//! The store's messages (DESIGN.md 7.3 and 8): every message the daemon sees, received or sent,
//! kept in `waweb.db` as its `message` event and, where the daemon had them, the raw
//! `WebMessageInfo` bytes, keyed by chat and id.
//!
//! ```text
//! arrived(bus, message, raw)        -> journaled and upserted (chat, id) in one transaction,
//!                                      from the one serialized event line (with its type, seq
//!                                      and at), before any subscriber sees it
//! store(journal, message, raw)       -> the same upsert on its own, in order with the events
//! lookup(journal, chat, id)         -> Some(Stored { message, raw }) | None
//! newest(journal, chat)             -> the chat's latest Stored | None
//! ```
//!
//! The raw bytes are what quotes and forwards embed (the content exactly as it came), and what
//! `raw` reports for kinds the event does not map; the event is what `messages`/`message`
//! answer. A row whose event no longer parses (a newer or damaged row) reads as absent rather
//! than failing the caller: a quote then goes out by id alone.

use rusqlite::{OptionalExtension, params};
use waweb_proto::message::{Message, Source};

use waweb_proto::Event;

use crate::bus::Bus;
use crate::journal::{self, Journal};

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// As its `message` event reported it.
    pub message: Message,
    /// The encoded `WebMessageInfo`, when the daemon had it.
    pub raw: Option<Vec<u8>>,
}

/// Inserts or replaces `message` (the later version of a message wins: an `update` re-send, or
/// our own message once the server accepted it).
pub fn insert(
    transaction: &rusqlite::Transaction<'_>,
    message: &Message,
    raw: Option<&[u8]>,
) -> Result<(), journal::Error> {
    Ok(upsert(transaction, message, &event_line(message)?, raw)?)
}

fn event_line(message: &Message) -> Result<String, journal::Error> {
    serde_json::to_string(message)
        .map_err(|error| journal::Error::Db(format!("a message event: {error}")))
}

/// [`insert`] with the event already serialized: the journal's writer stores a message from the
/// line it journals (whose `type`, `seq` and `at` a reader of the row ignores).
pub fn insert_row(
    transaction: &rusqlite::Transaction<'_>,
    message: &Message,
    event: &str,
    raw: &[u8],
) -> rusqlite::Result<()> {
    upsert(transaction, message, event, Some(raw))
}

fn upsert(
    transaction: &rusqlite::Transaction<'_>,
    message: &Message,
    event: &str,
    raw: Option<&[u8]>,
) -> rusqlite::Result<()> {
    write_row(
        transaction,
        "INSERT INTO messages (chat, id, from_me, timestamp, event, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (chat, id) DO UPDATE SET
             from_me = excluded.from_me, timestamp = excluded.timestamp,
             event = excluded.event, raw = COALESCE(excluded.raw, messages.raw)",
        message,
        event,
        raw,
    )
}

/// Runs `sql`, an insert of one message row taking (chat, id, from_me, timestamp, event, raw).
fn write_row(
    transaction: &rusqlite::Transaction<'_>,
    sql: &str,
    message: &Message,
    event: &str,
    raw: Option<&[u8]>,
) -> rusqlite::Result<()> {
    transaction.prepare_cached(sql)?.execute(params![
        message.chat,
        message.id,
        message.from_me,
        message.timestamp.min(i64::MAX as u64),
        event,
        raw,
    ])?;
    Ok(())
}

/// Stores `message` unless a row for it exists: what a history page or a search brings is
/// stored, but a message the store already holds keeps the event it first came as (its
/// `source`, a later `update`).
pub fn insert_if_absent(
    transaction: &rusqlite::Transaction<'_>,
    message: &Message,
    raw: &[u8],
) -> Result<(), journal::Error> {
    let sql = "INSERT INTO messages (chat, id, from_me, timestamp, event, raw)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (chat, id) DO NOTHING";
    let event = event_line(message)?;
    Ok(write_row(transaction, sql, message, &event, Some(raw))?)
}

/// Queues `message` for the store, in order with the events; a failure is logged.
pub fn store(journal: &Journal, message: Message, raw: Option<Vec<u8>>) {
    journal.statement_detached("storing a message", move |transaction| {
        insert(transaction, &message, raw.as_deref())
    });
}

/// A message that arrived (received, from history, or our own once the server took it):
/// journaled and stored with its raw bytes in one transaction, then published. A subscriber
/// that sees the event and asks for the message finds it.
pub fn arrived(bus: &Bus, message: Message, raw: Vec<u8>) {
    log_arrival(&message);
    match bus.journal() {
        Some(journal) => {
            if let Err(event) = journal.append_message(message, raw) {
                // The journal is gone (shutdown): still tell whoever listens.
                bus.deliver_unjournaled(event);
            }
        }
        None => bus.publish(Event::Message(message)),
    }
}

/// One line per message with the fields `journalctl CHAT=…` filters on (`chat`, `id`, `kind`,
/// `from_me`, `source`) and never its text or media: live messages at info, history pages and
/// updates (which come by the hundred) at debug.
fn log_arrival(message: &Message) {
    let kind = message.kind.as_str();
    let source = message.source.as_str();
    let (chat, id, from_me) = (message.chat.as_str(), message.id.as_str(), message.from_me);
    if message.source == Source::Live {
        tracing::info!(chat, id, kind, from_me, source, "message");
    } else {
        tracing::debug!(chat, id, kind, from_me, source, "message");
    }
}

/// The stored message `id` of `chat`, if the store has it.
pub async fn lookup(
    journal: &Journal,
    chat: String,
    id: String,
) -> Result<Option<Stored>, journal::Error> {
    one_row(
        journal,
        "SELECT event, raw FROM messages WHERE chat = ?1 AND id = ?2",
        [chat, id],
    )
    .await
}

/// The one row `sql` selects (`event, raw`), read on a blocking thread.
async fn one_row<const N: usize>(
    journal: &Journal,
    sql: &'static str,
    values: [String; N],
) -> Result<Option<Stored>, journal::Error> {
    let db = journal.db().clone();
    tokio::task::spawn_blocking(move || {
        let reader = db.reader()?;
        let row = reader
            .prepare_cached(sql)?
            .query_row(rusqlite::params_from_iter(values), |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<Vec<u8>>>(1)?))
            })
            .optional()?;
        Ok(row.and_then(|(event, raw)| {
            let message = serde_json::from_str(&event).ok()?;
            Some(Stored { message, raw })
        }))
    })
    .await
    .map_err(|_| journal::Error::Stopped)?
}

/// The newest stored message of `chat` (the latest timestamp; of one second's messages, the one
/// stored last), if the store has any: what `mark_read` and `mark_unread` name by default.
pub async fn newest(journal: &Journal, chat: String) -> Result<Option<Stored>, journal::Error> {
    one_row(
        journal,
        "SELECT event, raw FROM messages WHERE chat = ?1 ORDER BY timestamp DESC, n DESC LIMIT 1",
        [chat],
    )
    .await
}

#[cfg(test)]
mod tests {
    use waweb_proto::message::MessageKind;

    use super::*;
    use crate::db::Db;
    use crate::journal::Retention;

    fn message(id: &str, text: &str) -> Message {
        Message {
            timestamp: 1_600_000_000,
            text: Some(text.into()),
            ..Message::new(id, "4915100000001@s.whatsapp.net", MessageKind::Text)
        }
    }

    async fn journal(dir: &std::path::Path) -> Journal {
        let opened = Db::open(dir).unwrap();
        Journal::start(
            opened.db,
            opened.writer,
            Retention::default(),
            Box::new(|_| {}),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_stored_message_is_found_and_a_later_version_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let journal = journal(dir.path()).await;
        let chat = "4915100000001@s.whatsapp.net".to_owned();
        assert_eq!(
            lookup(&journal, chat.clone(), "A".into()).await.unwrap(),
            None
        );

        store(&journal, message("A", "first"), Some(vec![1, 2, 3]));
        journal.flush().await;
        let found = lookup(&journal, chat.clone(), "A".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.message.text.as_deref(), Some("first"));
        assert_eq!(found.raw, Some(vec![1, 2, 3]));

        // A later version without raw bytes keeps the bytes it had.
        store(&journal, message("A", "second"), None);
        journal.flush().await;
        let found = lookup(&journal, chat.clone(), "A".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.message.text.as_deref(), Some("second"));
        assert_eq!(found.raw, Some(vec![1, 2, 3]));
        assert_eq!(
            lookup(&journal, "other@g.us".into(), "A".into())
                .await
                .unwrap(),
            None
        );
        journal.close().await;
    }

    #[tokio::test]
    async fn the_newest_message_of_a_chat_is_the_latest_stored() {
        let dir = tempfile::tempdir().unwrap();
        let journal = journal(dir.path()).await;
        let chat = "4915100000001@s.whatsapp.net".to_owned();
        assert_eq!(newest(&journal, chat.clone()).await.unwrap(), None);
        let mut later = message("B", "later");
        later.timestamp += 5;
        store(&journal, later, None);
        store(&journal, message("A", "first"), None);
        let mut elsewhere = message("C", "other chat");
        elsewhere.chat = "4915100000002@s.whatsapp.net".into();
        elsewhere.timestamp += 60;
        store(&journal, elsewhere, None);
        journal.flush().await;
        let found = newest(&journal, chat).await.unwrap().unwrap();
        assert_eq!(found.message.id, "B");
        journal.close().await;
    }
}
