//! The outbox (DESIGN.md 6.2): every send is a row in `waweb.db` before any byte goes to the
//! server, keyed by its message id and (optionally) the caller's idempotency key.
//!
//! ```text
//! enqueue(key, 3EB0…)  -> New          state queued   (ack 0)
//! mark_sent(3EB0…)     ->              state sent, attempts + 1
//! finish(3EB0…, Ok)    ->              state acked, result kept     (ack 1)
//! enqueue(key, …)      -> Existing(Acked(result))                    (nothing is sent again)
//! pending()            -> queued and sent rows, oldest first: what a new connection sends
//! ```
//!
//! Rows are written by the journal's writer (so in order with the events); what is done is
//! kept [`KEEP_DONE`] so repeated keys keep answering, then pruned.

use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use waweb_proto::{OutboxEntry, OutboxResult, SendTextResult};

use crate::journal::{self, Journal, unix_ms};

/// How long acked, failed and cancelled rows (and so their idempotency keys) are kept.
pub const KEEP_DONE: Duration = Duration::from_secs(7 * 86_400);

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The message id (the relay's tag).
    pub id: String,
    /// The recipient's JID.
    pub recipient: String,
    /// `text`, …
    pub kind: &'static str,
    /// The encoded `WebMessageInfo`.
    pub message: Vec<u8>,
}

/// A message waiting to go out (or to be acknowledged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The message id.
    pub id: String,
    /// The recipient's JID.
    pub recipient: String,
    /// The encoded `WebMessageInfo`.
    pub message: Vec<u8>,
}

/// What queuing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Queued now.
    New,
    /// The idempotency key was seen before, for message `id`.
    Existing {
        /// That message.
        id: String,
        /// The recipient's JID.
        recipient: String,
        /// Where it stands.
        state: Done,
    },
}

/// How an earlier send with the same key stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// Still queued or sent, not acknowledged.
    Pending,
    /// Acknowledged with this result.
    Acked(SendTextResult),
    /// Refused or cancelled, with why.
    Failed(String),
}

/// Why `outbox_cancel` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// No such message in the outbox.
    #[error("no message {0} in the outbox")]
    Unknown(String),
    /// It went to the server already.
    #[error("message {0} was already sent")]
    AlreadySent(String),
    /// The database.
    #[error(transparent)]
    Journal(#[from] journal::Error),
}

/// The outbox's table, through the journal's writer and readers.
#[derive(Debug, Clone)]
pub struct Outbox {
    journal: Option<Journal>,
}

impl Outbox {
    /// The outbox in `journal`'s database (`None`: no database, every call fails).
    pub fn new(journal: Option<Journal>) -> Outbox {
        Outbox { journal }
    }

    fn journal(&self) -> Result<&Journal, journal::Error> {
        self.journal.as_ref().ok_or(journal::Error::Stopped)
    }

    /// Queues `message`, unless `key` was used before: then nothing is written and the earlier
    /// message is reported. Old done rows are pruned on the way.
    pub async fn enqueue(
        &self,
        key: Option<String>,
        message: NewMessage,
    ) -> Result<Enqueued, journal::Error> {
        self.journal()?
            .write(move |transaction, _| {
                let now = unix_ms();
                let keep = KEEP_DONE.as_millis() as u64;
                transaction.execute(
                    "DELETE FROM outbox WHERE state IN ('acked', 'failed', 'cancelled')
                     AND updated_at < ?1",
                    [now.saturating_sub(keep)],
                )?;
                if let Some(key) = &key {
                    let earlier = transaction
                        .query_row(
                            "SELECT id, recipient, state, result FROM outbox
                             WHERE idempotency_key = ?1",
                            [key],
                            |row| {
                                Ok((
                                    row.get::<_, String>(0)?,
                                    row.get::<_, String>(1)?,
                                    row.get::<_, String>(2)?,
                                    row.get::<_, Option<String>>(3)?,
                                ))
                            },
                        )
                        .optional()?;
                    if let Some((id, recipient, state, result)) = earlier {
                        let state = done_of(&state, result.as_deref());
                        return Ok(Enqueued::Existing {
                            id,
                            recipient,
                            state,
                        });
                    }
                }
                transaction.execute(
                    "INSERT INTO outbox (id, idempotency_key, recipient, kind, message, state,
                                         queued_at, attempts, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, 0, ?6)",
                    params![
                        message.id,
                        key,
                        message.recipient,
                        message.kind,
                        message.message,
                        now
                    ],
                )?;
                Ok(Enqueued::New)
            })
            .await
    }

    /// It is going to the server now: one more attempt. Not awaited: the write is queued in
    /// order with everything else.
    pub fn mark_sent(&self, id: &str) {
        self.update(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sent')",
            id,
            None,
        );
    }

    /// The server acknowledged it (`Ok`) or refused it (`Err`, why).
    pub fn finish(&self, id: &str, outcome: Result<&SendTextResult, &str>) {
        match outcome {
            Ok(result) => self.update(
                "UPDATE outbox SET state = 'acked', result = ?3, updated_at = ?2 WHERE id = ?1",
                id,
                serde_json::to_string(result).ok(),
            ),
            Err(why) => self.update(
                "UPDATE outbox SET state = 'failed', result = ?3, updated_at = ?2 WHERE id = ?1",
                id,
                Some(why.to_owned()),
            ),
        }
    }

    fn update(&self, sql: &'static str, id: &str, result: Option<String>) {
        let Ok(journal) = self.journal() else {
            return;
        };
        let id = id.to_owned();
        journal.write_detached("updating the outbox", move |transaction, _| {
            match result {
                Some(result) => transaction.execute(sql, params![id, unix_ms(), result])?,
                None => transaction.execute(sql, params![id, unix_ms()])?,
            };
            Ok(())
        });
    }

    /// The encoded `WebMessageInfo` queued under idempotency key `key`, if any: a send that
    /// must do work before it can be queued (an upload) looks first, so a repeat does none.
    pub async fn message_of_key(&self, key: &str) -> Result<Option<Vec<u8>>, journal::Error> {
        let key = key.to_owned();
        self.read(move |reader| {
            Ok(reader
                .query_row(
                    "SELECT message FROM outbox WHERE idempotency_key = ?1",
                    [key],
                    |row| row.get(0),
                )
                .optional()?)
        })
        .await
    }

    /// What a new connection sends: queued and sent rows, oldest first.
    pub async fn pending(&self) -> Result<Vec<Pending>, journal::Error> {
        let rows = self.unacknowledged().await?;
        Ok(rows.into_iter().map(|(_, pending)| pending).collect())
    }

    /// `outbox`: what the server has not acknowledged yet.
    pub async fn list(&self) -> Result<OutboxResult, journal::Error> {
        // `mark_sent` and `finish` are written without waiting: a caller answered a moment ago
        // must not find its message still listed.
        self.journal()?.flush().await;
        let rows = self.unacknowledged().await?;
        let messages = rows.into_iter().map(|(entry, _)| entry).collect();
        Ok(OutboxResult { messages })
    }

    /// Queued and sent rows, oldest first, as listed and as sent.
    async fn unacknowledged(&self) -> Result<Vec<(OutboxEntry, Pending)>, journal::Error> {
        self.read(|reader| {
            let mut query = reader.prepare(
                "SELECT id, recipient, kind, queued_at, attempts, message FROM outbox
                 WHERE state IN ('queued', 'sent') ORDER BY queued_at, rowid",
            )?;
            let rows = query.query_map([], |row| {
                let entry = OutboxEntry {
                    id: row.get(0)?,
                    to: row.get(1)?,
                    kind: row.get(2)?,
                    queued_at: row.get(3)?,
                    attempts: row.get(4)?,
                };
                let pending = Pending {
                    id: entry.id.clone(),
                    recipient: entry.to.clone(),
                    message: row.get(5)?,
                };
                Ok((entry, pending))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// `outbox_cancel`: drops a message that has not been sent; its recipient.
    pub async fn cancel(&self, id: &str) -> Result<String, CancelError> {
        let id = id.to_owned();
        let found = self
            .journal()?
            .write(move |transaction, _| {
                let row: Option<(String, String)> = transaction
                    .query_row(
                        "SELECT state, recipient FROM outbox WHERE id = ?1",
                        [&id],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?;
                if let Some((state, _)) = &row
                    && state == "queued"
                {
                    transaction.execute(
                        "UPDATE outbox SET state = 'cancelled', result = 'cancelled',
                         updated_at = ?2 WHERE id = ?1",
                        params![id, unix_ms()],
                    )?;
                }
                Ok((id, row))
            })
            .await?;
        match found {
            (_, Some((state, recipient))) if state == "queued" => Ok(recipient),
            (id, Some(_)) => Err(CancelError::AlreadySent(id)),
            (id, None) => Err(CancelError::Unknown(id)),
        }
    }

    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&rusqlite::Connection) -> Result<T, journal::Error> + Send + 'static,
    ) -> Result<T, journal::Error> {
        let db = self.journal()?.db().clone();
        tokio::task::spawn_blocking(move || query(&db.reader()?))
            .await
            .map_err(|_| journal::Error::Stopped)?
    }
}

pub(crate) fn done_of(state: &str, result: Option<&str>) -> Done {
    match state {
        "acked" => match result.and_then(|result| serde_json::from_str(result).ok()) {
            Some(result) => Done::Acked(result),
            None => Done::Failed("the stored result does not read back".into()),
        },
        "failed" | "cancelled" => Done::Failed(result.unwrap_or(state).to_owned()),
        _ => Done::Pending,
    }
}
