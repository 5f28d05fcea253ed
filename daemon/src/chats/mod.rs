//! The store's chats and contacts (DESIGN.md 8): the chat list and address book the phone sent
//! (login pushes, `query chat`/`query contacts` replies), kept up to date by what happens later:
//! `chat`, `contact` and `group` events, and messages of chats seen for the first time.
//!
//! ```text
//! list(Chats)            -> the chat rows replaced by the phone's (read as of each chat's t)
//! list(Contacts)         -> the contact rows replaced
//! message of a new chat  -> a chat row, then a `chat` event `new` (before the message)
//! chat archive/pin/mute/read/unread/clear/delete -> that row changed (delete: row and messages)
//! contact                -> upserted (no name: deleted)
//! group create/subject   -> the chat's name; leave of ourselves -> read_only, add of us -> not
//! ```
//!
//! A message changes no chat row: a chat's `t` and unread count are the row's (as of its read
//! mark) plus what messages brought since, kept in memory ([`Live`]) as they arrive and worked
//! out from `messages` once, when the daemon first needs them ([`query::live_on`]). So a stored
//! message costs the journal's writer nothing more (only the first message of a chat adds a
//! row), and `chats` reads the chat rows alone.
//! Every write goes through the journal's writer, queued before the event it stems from, so a
//! subscriber that sees the event and asks `chats` finds the change.

pub mod query;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Transaction, params};
use waweb_core::session::lists::List;
use waweb_proto::message::{Message, Source};
use waweb_proto::notice::{Chat, Contact, Group};
use waweb_proto::{ChatEntry, Event};

use crate::bus::Bus;
use crate::db::Db;
use crate::journal::{self, Journal};

/// The daemon's view of which chats exist, shared by the session and its tasks.
#[derive(Debug, Clone, Default)]
pub struct Chats {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The chats the store has, with what messages brought since each one's read mark;
    /// loaded on first use. A message of any other chat is a new chat.
    known: Mutex<Option<HashMap<String, Live>>>,
    /// The chat lists / contact lists that came since the daemon started (none: `chats` asks).
    chats_listed: Listed,
    contacts_listed: Listed,
}

/// Counts the lists of one kind queued for the store, and how many of them a flush of the
/// journal is known to have committed, so that only the first `chats` call after a list waits.
#[derive(Debug, Default)]
struct Listed {
    /// Raised only once a list's write is queued: a flush that starts after reading it commits
    /// every list it counts.
    queued: AtomicU64,
    committed: AtomicU64,
}

impl Inner {
    fn listed(&self, contacts: bool) -> &Listed {
        if contacts {
            &self.contacts_listed
        } else {
            &self.chats_listed
        }
    }
}

impl Chats {
    /// Nothing known yet; the store is read on first use.
    pub fn new() -> Self {
        Chats::default()
    }

    /// Whether the server sent a chat list (`contacts`: a contact list) since the start; when
    /// one may still be queued in `journal`'s writer, returns once it is committed.
    pub async fn listed(&self, journal: Option<&Journal>, contacts: bool) -> bool {
        let listed = self.inner.listed(contacts);
        let queued = listed.queued.load(Ordering::Acquire);
        if queued == 0 {
            return false;
        }
        if listed.committed.load(Ordering::Acquire) < queued {
            if let Some(journal) = journal {
                journal.flush().await;
            }
            listed.committed.fetch_max(queued, Ordering::Release);
        }
        true
    }

    /// Runs `change` on the known chats (loaded from `journal`'s store the first time).
    fn with_known<T>(
        &self,
        journal: &Journal,
        change: impl FnOnce(&mut HashMap<String, Live>) -> T,
    ) -> T {
        self.with_known_in(journal.db(), change)
    }

    fn with_known_in<T>(&self, db: &Db, change: impl FnOnce(&mut HashMap<String, Live>) -> T) -> T {
        let mut known = self
            .inner
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let map = known.get_or_insert_with(|| match query::live_on(db) {
            Ok(live) => live,
            Err(error) => {
                tracing::error!("reading the chat list: {error}");
                HashMap::new()
            }
        });
        change(map)
    }

    /// The chats `filter` selects, newest first (ties by JID): the rows (read on `reader`, a
    /// reader of `db`) with what messages brought since.
    pub fn chats_on(
        &self,
        db: &Db,
        reader: &rusqlite::Connection,
        filter: query::Filter,
    ) -> Result<Vec<ChatEntry>, journal::Error> {
        let mut rows = query::rows_on(reader, filter.archived)?;
        self.with_known_in(db, |known| {
            for chat in &mut rows {
                if let Some(live) = known.get(&chat.jid) {
                    live.apply(chat);
                }
            }
        });
        rows.retain(|chat| filter.before.is_none_or(|before| chat.t < before));
        rows.sort_unstable_by(|a, b| b.t.cmp(&a.t).then_with(|| a.jid.cmp(&b.jid)));
        rows.truncate(filter.limit as usize);
        Ok(rows)
    }

    /// [`Chats::chats_on`] on a reader of its own, on a blocking thread.
    pub async fn chats(
        &self,
        journal: &Journal,
        filter: query::Filter,
    ) -> Result<Vec<ChatEntry>, journal::Error> {
        let (chats, db) = (self.clone(), journal.db().clone());
        tokio::task::spawn_blocking(move || chats.chats_on(&db, &db.reader()?, filter))
            .await
            .map_err(|_| journal::Error::Stopped)?
    }

    /// A message arrived: a chat not seen before gets a row and a `chat` event `new`, both
    /// queued before the message itself, which follows.
    pub fn arrived(&self, bus: &Bus, message: Message, raw: Vec<u8>) {
        if let Some(journal) = bus.journal() {
            let unread = !message.from_me && message.source == Source::Live;
            // Every message passes here: a known chat costs a lookup, no allocation.
            let added = self.with_known(journal, |known| match known.get_mut(&message.chat) {
                Some(live) => {
                    live.t = live.t.max(message.timestamp);
                    live.unread += i64::from(unread);
                    false
                }
                None => {
                    let t = message.timestamp;
                    let unread = i64::from(unread);
                    known.insert(message.chat.clone(), Live { t, unread });
                    true
                }
            });
            if added {
                let chat = message.chat.clone();
                // A chat first seen through history or our own message starts read; a live
                // message from someone else is its first unread one.
                let read_t = if message.from_me || message.source != Source::Live {
                    message.timestamp
                } else {
                    0
                };
                let (jid, t) = (chat.clone(), message.timestamp);
                journal.statement_detached("adding a chat", move |transaction| {
                    transaction
                        .prepare_cached(
                            "INSERT INTO chats (jid, t, read_t) VALUES (?1, ?2, ?3)
                             ON CONFLICT (jid) DO NOTHING",
                        )?
                        .execute(params![jid, clamp(t), clamp(read_t)])?;
                    Ok(())
                });
                bus.publish(Event::Chat(Chat {
                    chat,
                    action: "new".into(),
                    value: None,
                }));
            }
        }
        crate::messages::arrived(bus, message, raw);
    }

    /// A list from the server: stored (replacing the one before), then remembered as received.
    /// `wait`: returns once it is committed (a `chats` call that asked for it reads it next).
    pub async fn list(&self, bus: &Bus, list: List, wait: bool) {
        let Some(journal) = bus.journal() else {
            return;
        };
        let (listed, work): (&Listed, ListWork) = match list {
            List::Unchanged => return,
            List::Chats { chats, skipped } => {
                if skipped > 0 {
                    tracing::warn!(skipped, "chat list entries without a jid");
                }
                let live: HashMap<String, Live> = chats
                    .iter()
                    .map(|chat| (chat.jid.clone(), Live::default()))
                    .collect();
                self.with_known(journal, |known| *known = live);
                (
                    &self.inner.chats_listed,
                    Box::new(move |transaction| replace_chats(transaction, &chats)),
                )
            }
            List::Contacts { contacts, skipped } => {
                if skipped > 0 {
                    tracing::warn!(skipped, "contact list entries without a jid");
                }
                (
                    &self.inner.contacts_listed,
                    Box::new(move |transaction| replace_contacts(transaction, &contacts)),
                )
            }
        };
        // Counted only once the write is queued (with `wait`, committed): a `chats` call that
        // sees the count flushes the journal ([`Chats::listed`]), which must come after this.
        if wait {
            if let Err(error) = journal.write(move |transaction, _| work(transaction)).await {
                tracing::error!("storing a list: {error}");
            }
        } else {
            journal.write_detached("storing a list", move |transaction, _| work(transaction));
        }
        listed.queued.fetch_add(1, Ordering::Release);
    }

    /// Publishes `event`, first changing the store as it says (`me`: our own JID, for a group
    /// `leave` or `add` of ourselves).
    pub fn publish(&self, bus: &Bus, event: Event, me: Option<&str>) {
        if let Some(journal) = bus.journal() {
            match &event {
                Event::Chat(chat) => self.chat_changed(journal, chat.clone()),
                Event::Contact(contact) => contact_changed(journal, contact.clone()),
                Event::Group(group) => self.group_changed(journal, group.clone(), me),
                _ => {}
            }
        }
        bus.publish(event);
    }

    fn chat_changed(&self, journal: &Journal, chat: Chat) {
        match chat.action.as_str() {
            "delete" => {
                self.with_known(journal, |known| known.remove(&chat.chat));
            }
            "new" | "star" | "unstar" => return,
            action => {
                let marked = matches!(action, "read" | "unread" | "clear");
                self.with_known(journal, |known| {
                    let live = known.entry(chat.chat.clone()).or_default();
                    if marked {
                        live.unread = 0;
                    }
                });
            }
        }
        journal.write_detached("changing a chat", move |transaction, _| {
            apply_chat(transaction, &chat)
        });
    }

    fn group_changed(&self, journal: &Journal, group: Group, me: Option<&str>) {
        // A leave without participants is the actor's own.
        let ours = me.is_some_and(|me| {
            group.participants.iter().any(|jid| jid == me)
                || (group.participants.is_empty() && group.actor.as_deref() == Some(me))
        });
        let change = match group.action.as_str() {
            "create" | "subject" => group.subject.clone().map(GroupChange::Name),
            "leave" | "remove" if ours => Some(GroupChange::ReadOnly(true)),
            "add" if ours => Some(GroupChange::ReadOnly(false)),
            _ => None,
        };
        let Some(change) = change else { return };
        self.with_known(journal, |known| {
            known.entry(group.chat.clone()).or_default();
        });
        let t = if group.action == "create" {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        } else {
            0
        };
        journal.write_detached("changing a group chat", move |transaction, _| {
            let (name, read_only) = match change {
                GroupChange::Name(name) => (Some(name), None),
                GroupChange::ReadOnly(read_only) => (None, Some(read_only)),
            };
            transaction
                .prepare_cached(
                    "INSERT INTO chats (jid, name, t, read_t, read_only)
                     VALUES (?1, ?2, ?3, ?3, coalesce(?4, 0))
                     ON CONFLICT (jid) DO UPDATE SET
                         name = coalesce(excluded.name, chats.name),
                         read_only = coalesce(?4, chats.read_only)",
                )?
                .execute(params![group.chat, name, clamp(t), read_only])?;
            Ok(())
        });
    }
}

/// Storing a list, for the journal's writer.
type ListWork = Box<dyn FnOnce(&Transaction<'_>) -> Result<(), journal::Error> + Send>;

/// What messages brought a chat since its row was last written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Live {
    /// The newest message's time (0: none since).
    pub t: u64,
    /// Live messages from others since the read mark.
    pub unread: i64,
}

impl Live {
    /// `chat` (as its row has it) with what came since.
    pub fn apply(self, chat: &mut ChatEntry) {
        chat.t = chat.t.max(self.t);
        if self.unread > 0 {
            chat.unread = chat.unread.max(0) + self.unread;
        }
    }
}

enum GroupChange {
    Name(String),
    ReadOnly(bool),
}

/// SQLite integers are signed.
fn clamp(value: u64) -> i64 {
    value.min(i64::MAX as u64) as i64
}

fn replace_chats(transaction: &Transaction<'_>, chats: &[ChatEntry]) -> Result<(), journal::Error> {
    transaction.execute("DELETE FROM chats", [])?;
    let mut insert = transaction.prepare_cached(
        "INSERT INTO chats (jid, name, t, unread, read_t, read_n, archived, pinned, muted_until,
                            read_only, ephemeral_s)
         VALUES (?1, ?2, ?3, ?4, ?3, (SELECT coalesce(max(n), 0) FROM messages),
                 ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (jid) DO NOTHING",
    )?;
    for chat in chats {
        insert.execute(params![
            chat.jid,
            chat.name,
            clamp(chat.t),
            chat.unread,
            chat.archived,
            chat.pinned.map(clamp),
            chat.muted_until.map(clamp),
            chat.read_only,
            chat.ephemeral_s.map(clamp),
        ])?;
    }
    Ok(())
}

fn replace_contacts(
    transaction: &Transaction<'_>,
    contacts: &[Contact],
) -> Result<(), journal::Error> {
    transaction.execute("DELETE FROM contacts", [])?;
    for contact in contacts {
        upsert_contact(transaction, contact)?;
    }
    Ok(())
}

fn upsert_contact(transaction: &Transaction<'_>, contact: &Contact) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO contacts (jid, name, notify, short) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (jid) DO UPDATE SET
                 name = excluded.name, notify = excluded.notify, short = excluded.short",
        )?
        .execute(params![
            contact.jid,
            contact.name,
            contact.notify,
            contact.short
        ])?;
    Ok(())
}

/// A `contact` event: a contact without a name was deleted (PROTOCOL.md 8.2).
fn contact_changed(journal: &Journal, contact: Contact) {
    journal.write_detached("changing a contact", move |transaction, _| {
        if contact.name.is_none() {
            transaction.execute("DELETE FROM contacts WHERE jid = ?1", [&contact.jid])?;
        } else {
            upsert_contact(transaction, &contact)?;
        }
        Ok(())
    });
}

/// What a `chat` event does to the chat's row (and, for `clear`/`delete`, its messages).
fn apply_chat(transaction: &Transaction<'_>, chat: &Chat) -> Result<(), journal::Error> {
    let jid = &chat.chat;
    if chat.action == "delete" {
        transaction.execute("DELETE FROM chats WHERE jid = ?1", [jid])?;
        transaction.execute("DELETE FROM messages WHERE chat = ?1", [jid])?;
        return Ok(());
    }
    transaction.execute(
        "INSERT INTO chats (jid) VALUES (?1) ON CONFLICT (jid) DO NOTHING",
        [jid],
    )?;
    let value = chat
        .value
        .as_deref()
        .and_then(|value| value.parse::<u64>().ok())
        .map(clamp);
    // The read mark moves to now: the chat's newest message and the newest row stored.
    let mark = "read_t = max(read_t, t,
                              (SELECT coalesce(max(timestamp), 0) FROM messages WHERE chat = ?1)),
                read_n = (SELECT coalesce(max(n), 0) FROM messages)";
    let sql = match chat.action.as_str() {
        "archive" => "UPDATE chats SET archived = 1 WHERE jid = ?1".to_owned(),
        "unarchive" => "UPDATE chats SET archived = 0 WHERE jid = ?1".to_owned(),
        "pin" => "UPDATE chats SET pinned = ?2 WHERE jid = ?1".to_owned(),
        "unpin" => "UPDATE chats SET pinned = NULL WHERE jid = ?1".to_owned(),
        "mute" => "UPDATE chats SET muted_until = ?2 WHERE jid = ?1".to_owned(),
        "unmute" => "UPDATE chats SET muted_until = NULL WHERE jid = ?1".to_owned(),
        "read" => {
            format!("UPDATE chats SET unread = 0, {mark} WHERE jid = ?1")
        }
        "unread" => format!("UPDATE chats SET unread = -1, {mark} WHERE jid = ?1"),
        "clear" => {
            return clear(transaction, jid, chat.value.as_deref());
        }
        _ => return Ok(()),
    };
    let needs_value = sql.contains("?2");
    let mut statement = transaction.prepare_cached(&sql)?;
    if needs_value {
        statement.execute(params![jid, value])?;
    } else {
        statement.execute([jid])?;
    }
    Ok(())
}

/// `clear`: the messages named (comma-separated ids), or all of the chat's; the chat stays.
fn clear(
    transaction: &Transaction<'_>,
    jid: &str,
    ids: Option<&str>,
) -> Result<(), journal::Error> {
    match ids {
        Some(ids) => {
            let mut delete =
                transaction.prepare_cached("DELETE FROM messages WHERE chat = ?1 AND id = ?2")?;
            for id in ids.split(',').filter(|id| !id.is_empty()) {
                delete.execute([jid, id])?;
            }
        }
        None => {
            // The chat keeps its last activity when its messages go.
            transaction.execute(
                "UPDATE chats SET t = max(t, (SELECT coalesce(max(timestamp), 0)
                                              FROM messages WHERE chat = ?1))
                 WHERE jid = ?1",
                [jid],
            )?;
            transaction.execute("DELETE FROM messages WHERE chat = ?1", [jid])?;
            transaction.execute("UPDATE chats SET unread = 0 WHERE jid = ?1", [jid])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
