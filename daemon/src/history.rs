//! What the store knows about the order of a chat's history (DESIGN.md 8.1, history): which
//! stored message comes just before which on the server, so `messages` can answer a page from
//! the store only when the run of messages it returns has no gap.
//!
//! ```text
//! history_links (chat, id, prev)   "on the server, the message before `id` is `prev`";
//!                                  prev = '' says `id` is the chat's first message
//! record_page(before A, [m1..mk])  -> m2→m1 … mk→mk-1, A→mk; fewer than asked: m1→'' (start)
//! record_page(after A, [m1..mk])   -> m1→A, m2→m1 …
//! walk(chat, A, Before, n)         -> up to n ids before A, newest first, and whether the
//!                                     walk ended at the chat's start
//! ```
//!
//! Messages reach the store from live traffic, login batches and pages, so two stored messages
//! next to each other in time may have others between them on the server. Only a page the
//! server sent says what is adjacent, so only pages write links; a live message joins the
//! chain with the next page that holds it (every `messages` call without an anchor asks the
//! server, the one way to learn what arrived while the daemon was away).

use rusqlite::{Connection, OptionalExtension, params};
use waweb_core::session::history::{Fetched, Kind};
use waweb_proto::compose::MessageRef;
use waweb_proto::history::MessagesResult;
use waweb_proto::message::Message;

use crate::journal;
use crate::messages;

/// The `prev` of a chat's first message.
const START: &str = "";

/// What a walk along the links found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Walk {
    /// The ids found, nearest to the anchor first.
    pub ids: Vec<String>,
    /// The walk (backwards) reached the chat's first message.
    pub at_start: bool,
}

/// A page from the store, or `None` when the store cannot tell it without a gap: the anchor
/// is not stored with that `from_me`, or the links neither reach `count + 1` messages nor the
/// chat's start.
pub fn stored_page(
    reader: &Connection,
    chat: &str,
    kind: Kind,
    anchor: &MessageRef,
    count: u32,
) -> rusqlite::Result<Option<MessagesResult>> {
    let known = load(reader, chat, std::slice::from_ref(&anchor.id))?;
    if known.is_none_or(|found| found.first().is_none_or(|m| m.from_me != anchor.from_me)) {
        return Ok(None);
    }
    let walk = walk(reader, chat, &anchor.id, kind, count as usize + 1)?;
    let more = walk.ids.len() > count as usize;
    let at_start = kind == Kind::Before && walk.at_start;
    if !(more || at_start) {
        return Ok(None);
    }
    let mut ids = walk.ids;
    ids.truncate(count as usize);
    if kind == Kind::Before {
        ids.reverse();
    }
    Ok(load(reader, chat, &ids)?.map(|messages| MessagesResult { messages, more }))
}

/// Stores a page the server sent for `kind` next to `anchor` (the newest without one) and
/// links what it proves adjacent. `asked` is the count the query asked for: a `before` page
/// shorter than that ends at the chat's first message. A message already stored keeps its row
/// (the event it first came as).
pub fn record_page(
    transaction: &rusqlite::Transaction<'_>,
    chat: &str,
    kind: Kind,
    anchor: Option<&str>,
    page: &[Fetched],
    asked: u32,
) -> Result<(), journal::Error> {
    for fetched in page {
        messages::insert_if_absent(transaction, &fetched.message, &fetched.raw)?;
    }
    for pair in page.windows(2) {
        link(transaction, chat, &pair[1].message.id, &pair[0].message.id)?;
    }
    let (first, last) = (page.first(), page.last());
    match (kind, anchor) {
        (Kind::Before, Some(anchor)) => {
            let prev = last.map_or(START, |last| last.message.id.as_str());
            link(transaction, chat, anchor, prev)?;
        }
        (Kind::After, Some(anchor)) => {
            if let Some(first) = first {
                link(transaction, chat, &first.message.id, anchor)?;
            }
        }
        (_, None) => {}
    }
    if kind == Kind::Before
        && let Some(first) = first
        && page.len() < asked as usize
    {
        link(transaction, chat, &first.message.id, START)?;
    }
    Ok(())
}

/// Records "before `id` comes `prev`", replacing what was known: the message that had `prev`
/// before it (another successor) no longer does, so a walk never forks.
fn link(
    transaction: &rusqlite::Transaction<'_>,
    chat: &str,
    id: &str,
    prev: &str,
) -> rusqlite::Result<()> {
    if prev != START {
        transaction
            .prepare_cached("DELETE FROM history_links WHERE chat = ?1 AND prev = ?2 AND id <> ?3")?
            .execute(params![chat, prev, id])?;
    }
    transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO history_links (chat, id, prev) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![chat, id, prev])?;
    Ok(())
}

/// Up to `n` ids next to `from` in direction `kind`, as far as links go.
pub fn walk(
    reader: &Connection,
    chat: &str,
    from: &str,
    kind: Kind,
    n: usize,
) -> rusqlite::Result<Walk> {
    let sql = match kind {
        Kind::Before => "SELECT prev FROM history_links WHERE chat = ?1 AND id = ?2",
        Kind::After => "SELECT id FROM history_links WHERE chat = ?1 AND prev = ?2 LIMIT 1",
    };
    let mut statement = reader.prepare_cached(sql)?;
    let mut walk = Walk::default();
    let mut at = from.to_owned();
    while walk.ids.len() < n {
        let next: Option<String> = statement
            .query_row(params![chat, at], |row| row.get(0))
            .optional()?;
        match next {
            Some(next) if next == START => {
                walk.at_start = true;
                break;
            }
            Some(next) => {
                walk.ids.push(next.clone());
                at = next;
            }
            None => break,
        }
    }
    Ok(walk)
}

/// The stored messages of `chat` with these ids, in the order given; `None` when one is not
/// stored (or no longer parses), so the caller does not answer with a gap.
pub fn load(
    reader: &Connection,
    chat: &str,
    ids: &[String],
) -> rusqlite::Result<Option<Vec<Message>>> {
    let mut statement =
        reader.prepare_cached("SELECT event FROM messages WHERE chat = ?1 AND id = ?2")?;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        let event: Option<String> = statement
            .query_row(params![chat, id], |row| row.get(0))
            .optional()?;
        match event.and_then(|event| serde_json::from_str(&event).ok()) {
            Some(message) => found.push(message),
            None => return Ok(None),
        }
    }
    Ok(Some(found))
}

/// Window `page` (from 1) of `count` stored messages whose text or caption holds `text`
/// (ASCII case-insensitively), newest first, in `chat` only if given; one more than `count`
/// when there are more, so the caller can tell.
pub fn search(
    reader: &Connection,
    text: &str,
    chat: Option<&str>,
    count: u32,
    page: u32,
) -> rusqlite::Result<Vec<Message>> {
    let needle = text.to_ascii_lowercase();
    let offset = u64::from(page.saturating_sub(1)) * u64::from(count);
    let mut statement = reader.prepare_cached(
        "SELECT event FROM messages
         WHERE (?1 IS NULL OR chat = ?1)
           AND (instr(lower(json_extract(event, '$.text')), ?2) > 0
                OR instr(lower(json_extract(event, '$.media.caption')), ?2) > 0)
         ORDER BY timestamp DESC, n DESC LIMIT ?3 OFFSET ?4",
    )?;
    let rows = statement.query_map(
        params![
            chat,
            needle,
            i64::from(count) + 1,
            offset.min(i64::MAX as u64) as i64
        ],
        |row| row.get::<_, String>(0),
    )?;
    let mut found = Vec::new();
    for row in rows {
        if let Ok(message) = serde_json::from_str(&row?) {
            found.push(message);
        }
    }
    Ok(found)
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
