//! Reading the chats and contacts back (`chats`, `contacts`, and the chat `chat_modify` names).
//!
//! ```text
//! t(chat)      = max(chats.t, newest message's timestamp)
//! unread(chat) = chats.unread (-1: marked unread, unless newer messages came)
//!                + live messages from others after the read mark (read_t, read_n)
//! rows_on: the rows alone; live_on: the message part, once (then kept by super::Chats);
//! chat: one chat, both at once
//! name(chat)   = chats.name, else the contact's name, else their notify name
//! ```

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use waweb_proto::ChatEntry;
use waweb_proto::notice::Contact;

use super::Live;
use crate::db::Db;
use crate::journal::{self, Journal};

/// Which chats `chats` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    /// Only archived (`true`) or only unarchived (`false`) ones.
    pub archived: Option<bool>,
    /// At most this many.
    pub limit: u32,
    /// Only those whose `t` is older than this.
    pub before: Option<u64>,
}

const SELECT: &str = "SELECT c.jid AS jid, coalesce(c.name, k.name, k.notify),
        max(c.t, coalesce((SELECT max(m.timestamp) FROM messages m WHERE m.chat = c.jid), 0))
            AS chat_t,
        c.unread, c.read_t, c.archived, c.pinned, c.muted_until, c.read_only, c.ephemeral_s,
        c.read_n
    FROM chats c LEFT JOIN contacts k ON k.jid = c.jid";

/// A chat row, with its read mark (`read_t`, `read_n`) beside it for the unread count.
fn entry(row: &Row<'_>) -> rusqlite::Result<(ChatEntry, (i64, i64))> {
    let unsigned = |value: Option<i64>| value.and_then(|value| u64::try_from(value).ok());
    Ok((
        ChatEntry {
            jid: row.get(0)?,
            name: row.get(1)?,
            t: unsigned(row.get(2)?).unwrap_or(0),
            unread: row.get(3)?,
            archived: row.get(5)?,
            pinned: unsigned(row.get(6)?),
            muted_until: unsigned(row.get(7)?),
            read_only: row.get(8)?,
            ephemeral_s: unsigned(row.get(9)?),
        },
        (row.get(4)?, row.get(10)?),
    ))
}

/// Adds the live messages from others since `read_t` to the stored count.
fn count_unread(
    reader: &Connection,
    chat: &mut ChatEntry,
    read_t: (i64, i64),
) -> rusqlite::Result<()> {
    let newer: i64 = reader
        .prepare_cached(
            "SELECT count(*) FROM messages
             WHERE chat = ?1 AND timestamp >= ?2 AND n > ?3 AND from_me = 0
               AND json_extract(event, '$.source') = 'live'",
        )?
        .query_row(params![chat.jid, read_t.0, read_t.1], |row| row.get(0))?;
    if newer > 0 {
        chat.unread = chat.unread.max(0) + newer;
    }
    Ok(())
}

/// Every chat row `archived` selects (all without it), as the rows have them: `t` and
/// `unread` as of the read mark, without what messages brought since ([`super::Live`]).
pub fn rows_on(reader: &Connection, archived: Option<bool>) -> rusqlite::Result<Vec<ChatEntry>> {
    let mut statement = reader.prepare_cached(
        "SELECT c.jid, coalesce(c.name, k.name, k.notify), c.t, c.unread, c.read_t,
                c.archived, c.pinned, c.muted_until, c.read_only, c.ephemeral_s, c.read_n
         FROM chats c LEFT JOIN contacts k ON k.jid = c.jid
         WHERE ?1 IS NULL OR c.archived = ?1",
    )?;
    statement
        .query_map(params![archived], entry)?
        .map(|row| row.map(|(chat, _)| chat))
        .collect()
}

/// What messages brought every chat since its read mark: its newest message's time and the
/// live messages from others after the mark. One index probe and one range per chat: run once,
/// when the daemon first needs it.
pub fn live_on(db: &Db) -> Result<HashMap<String, Live>, journal::Error> {
    let reader = db.reader()?;
    let mut statement = reader.prepare(
        "SELECT c.jid,
                coalesce((SELECT max(m.timestamp) FROM messages m WHERE m.chat = c.jid), 0),
                (SELECT count(*) FROM messages m
                 WHERE m.chat = c.jid AND m.timestamp >= c.read_t AND m.n > c.read_n
                   AND m.from_me = 0 AND json_extract(m.event, '$.source') = 'live')
         FROM chats c",
    )?;
    let live = statement
        .query_map([], |row| {
            let t: i64 = row.get(1)?;
            Ok((
                row.get::<_, String>(0)?,
                Live {
                    t: u64::try_from(t).unwrap_or(0),
                    unread: row.get(2)?,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(live)
}

/// The chat `jid`, if the store has it.
pub async fn chat(journal: &Journal, jid: String) -> Result<Option<ChatEntry>, journal::Error> {
    let db = journal.db().clone();
    tokio::task::spawn_blocking(move || {
        let reader = db.reader()?;
        let found = reader
            .prepare_cached(&format!("{SELECT} WHERE c.jid = ?1"))?
            .query_row([&jid], entry)
            .optional()?;
        Ok(match found {
            Some((mut chat, read_t)) => {
                count_unread(&reader, &mut chat, read_t)?;
                Some(chat)
            }
            None => None,
        })
    })
    .await
    .map_err(|_| journal::Error::Stopped)?
}

/// Whether `contact` matches `query` (already lowercased): a name containing it, or a number
/// containing its digits.
fn matches(contact: &Contact, query: &str) -> bool {
    let names = [&contact.name, &contact.notify, &contact.short];
    if names
        .iter()
        .filter_map(|name| name.as_deref())
        .any(|name| name.to_lowercase().contains(query))
    {
        return true;
    }
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let number_like = query
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
    let user = contact.jid.split('@').next().unwrap_or_default();
    number_like && !digits.is_empty() && user.contains(&digits)
}

/// The contacts matching `query` (all without one), ordered by JID.
pub fn contacts_on(reader: &Connection, query: Option<&str>) -> rusqlite::Result<Vec<Contact>> {
    let query = query.map(str::to_lowercase);
    let mut statement =
        reader.prepare_cached("SELECT jid, name, notify, short FROM contacts ORDER BY jid")?;
    let rows = statement.query_map([], |row| {
        Ok(Contact {
            jid: row.get(0)?,
            name: row.get(1)?,
            notify: row.get(2)?,
            short: row.get(3)?,
        })
    })?;
    let mut found = Vec::new();
    for contact in rows {
        let contact = contact?;
        if query
            .as_deref()
            .is_none_or(|query| matches(&contact, query))
        {
            found.push(contact);
        }
    }
    Ok(found)
}

/// [`contacts_on`] on a reader of its own, on a blocking thread.
pub async fn contacts(
    journal: &Journal,
    query: Option<String>,
) -> Result<Vec<Contact>, journal::Error> {
    let db = journal.db().clone();
    tokio::task::spawn_blocking(move || Ok(contacts_on(&db.reader()?, query.as_deref())?))
        .await
        .map_err(|_| journal::Error::Stopped)?
}
