//! `messages`, `message` and `search` (DESIGN.md 8, 8.1 history): pages of a chat's history
//! from the store where its links (crate::history) prove the run has no gap, from the server
//! (PROTOCOL.md 11.3 `message`, then stored and linked) where they do not.
//!
//! ```text
//! messages {chat, before: A, count: 25}
//!     store: A known (same from_me) and 26 linked before it   -> the 25 nearest, more: true
//!            fewer, but the links reach the chat's start     -> those, more: false
//!     else:  <query type=message kind=before count=26 index=A owner=…/> -> stored, linked;
//!            26 came -> the 25 nearest, more: true; fewer -> all, more: false (the start)
//! messages {chat}                 -> always the server: only it knows what is newest
//! search {text, page: p}          -> the server's page p ∪ the store's window p, newest first
//! ```
//!
//! Fetched pages are stored silently, not published as `message` events: a bridge
//! backfilling thousands of messages asked for them and has them in the reply, and echoing them
//! would fill the journal (and every subscriber) with copies.

use std::collections::HashSet;

use rusqlite::Connection;
use waweb_core::session::history::{self as wire, Fetched, Kind};
use waweb_proto::compose::MessageRef;
use waweb_proto::history::{
    DEFAULT_COUNT, MAX_COUNT, MessagesParams, MessagesResult, SearchParams,
};
use waweb_proto::message::Message;

use super::compose::jid;
use super::handle::SessionError;
use super::requests::Task;
use crate::history;
use crate::journal::{self, Journal};
use crate::messages;

impl Task {
    /// `messages`.
    pub(super) async fn messages(
        self,
        params: MessagesParams,
    ) -> Result<MessagesResult, SessionError> {
        let count = count(params.count)?;
        let chat = jid("chat", &params.chat)?;
        let anchor = match (params.before, params.after) {
            (Some(_), Some(_)) => {
                return Err(SessionError::InvalidParams(
                    "give `before` or `after`, not both".into(),
                ));
            }
            (Some(before), None) => Some((Kind::Before, before)),
            (None, Some(after)) => Some((Kind::After, after)),
            (None, None) => None,
        };
        let journal = self.journal()?.clone();
        let Some((kind, anchor)) = anchor else {
            return self.fetch(&journal, chat, Kind::Before, None, count).await;
        };
        let field = format!("{}.chat", kind.as_str());
        if jid(&field, &anchor.chat)? != chat {
            return Err(SessionError::InvalidParams(format!(
                "{field}: the anchor must be a message of `chat` ({chat})"
            )));
        }
        let stored = {
            let (chat, anchor) = (chat.clone(), anchor.clone());
            read(&journal, move |reader| {
                history::stored_page(reader, &chat, kind, &anchor, count)
            })
            .await?
        };
        match stored {
            Some(page) => Ok(page),
            None => self.fetch(&journal, chat, kind, Some(anchor), count).await,
        }
    }

    /// A page from the server: one more than `count` is asked for, so a full reply says there
    /// are more; all of it is stored and linked.
    async fn fetch(
        &self,
        journal: &Journal,
        chat: String,
        kind: Kind,
        anchor: Option<MessageRef>,
        count: u32,
    ) -> Result<MessagesResult, SessionError> {
        let asked = count + 1;
        let index = anchor
            .as_ref()
            .map(|anchor| (anchor.id.as_str(), anchor.from_me));
        let node = wire::page_query(&chat, kind, asked, index);
        let reply = self.requests.query(node, wire::PAGE_METRIC).await?;
        let mut page = wire::page_reply(reply).map_err(|error| match (&anchor, error) {
            (Some(anchor), wire::Error::AnchorUnknown) => SessionError::NotFound(format!(
                "message {} of {chat} (from_me {}) is not known to the server",
                anchor.id, anchor.from_me
            )),
            (_, error) => server_error(error),
        })?;
        // A message of another chat in the reply would link into this chat's history.
        page.retain(|fetched| fetched.message.chat == chat);
        let more = page.len() > count as usize;
        let keep = match kind {
            Kind::Before => page.len().saturating_sub(count as usize)..page.len(),
            Kind::After => 0..page.len().min(count as usize),
        };
        let ids: Vec<String> = page[keep.clone()]
            .iter()
            .map(|fetched| fetched.message.id.clone())
            .collect();
        let anchor_id = anchor.map(|anchor| anchor.id);
        let stored = journal
            .write(move |transaction, _| {
                history::record_page(transaction, &chat, kind, anchor_id.as_deref(), &page, asked)?;
                let stored = history::load(transaction, &chat, &ids)?;
                Ok(stored.unwrap_or_else(|| {
                    page[keep]
                        .iter()
                        .map(|fetched| fetched.message.clone())
                        .collect()
                }))
            })
            .await
            .map_err(store_error)?;
        Ok(MessagesResult {
            messages: stored,
            more,
        })
    }

    /// `message`: the stored event, when its chat, id and `from_me` match a stored one.
    pub(super) async fn message(self, reference: MessageRef) -> Result<Message, SessionError> {
        let chat = jid("chat", &reference.chat)?;
        let journal = self.journal()?;
        let not_found = || {
            SessionError::NotFound(format!(
                "message {} of {chat} (from_me {}) is not in the store",
                reference.id, reference.from_me
            ))
        };
        let stored = messages::lookup(journal, chat.clone(), reference.id.clone())
            .await
            .map_err(store_error)?
            .ok_or_else(not_found)?;
        if stored.message.from_me != reference.from_me {
            return Err(not_found());
        }
        Ok(stored.message)
    }

    /// `search`: the server's page merged with the store's window of the same number, newest
    /// first, one entry per chat and id. Without a connection (logged in, but it is down) the
    /// store answers alone.
    pub(super) async fn search(self, params: SearchParams) -> Result<MessagesResult, SessionError> {
        let count = count(params.count)?;
        let page = params.page.unwrap_or(1);
        if page == 0 {
            return Err(SessionError::InvalidParams(
                "page: pages count from 1".into(),
            ));
        }
        if params.text.trim().is_empty() {
            return Err(SessionError::InvalidParams(
                "text: nothing to search for".into(),
            ));
        }
        let chat = params
            .chat
            .as_deref()
            .map(|chat| jid("chat", chat))
            .transpose()?;
        let journal = self.journal()?.clone();
        let node = wire::search_query(&params.text, chat.as_deref(), count, page);
        let server = match self.requests.query(node, wire::SEARCH_METRIC).await {
            Ok(reply) => Some(wire::search_reply(reply).map_err(server_error)?),
            Err(SessionError::NotConnected) => None,
            Err(error) => return Err(error),
        };
        let (server_more, found) = match server {
            Some(found) => (!found.last, keep_found(&journal, found.messages).await?),
            None => (false, Vec::new()),
        };
        let text = params.text;
        let local = read(&journal, move |reader| {
            history::search(reader, &text, chat.as_deref(), count, page)
        })
        .await?;
        let store_more = local.len() > count as usize;
        Ok(MessagesResult {
            messages: merge(found, local.into_iter().take(count as usize)),
            more: server_more || store_more,
        })
    }

    fn journal(&self) -> Result<&Journal, SessionError> {
        self.bus
            .journal()
            .ok_or_else(|| SessionError::Internal("the message store is not open".into()))
    }
}

/// Stores what a search found (a message already stored keeps its row) and returns the
/// stored versions, in the server's order.
async fn keep_found(journal: &Journal, found: Vec<Fetched>) -> Result<Vec<Message>, SessionError> {
    journal
        .write(move |transaction, _| {
            let mut stored = Vec::with_capacity(found.len());
            for fetched in found {
                messages::insert_if_absent(transaction, &fetched.message, &fetched.raw)?;
                let id = std::slice::from_ref(&fetched.message.id);
                let row = history::load(transaction, &fetched.message.chat, id)?;
                stored.push(row.and_then(|mut row| row.pop()).unwrap_or(fetched.message));
            }
            Ok(stored)
        })
        .await
        .map_err(store_error)
}

/// The server's matches and the store's, newest first (the server's order among equal
/// times), each chat and id once.
fn merge(found: Vec<Message>, local: impl Iterator<Item = Message>) -> Vec<Message> {
    let mut seen = HashSet::new();
    let mut merged: Vec<Message> = found
        .into_iter()
        .chain(local)
        .filter(|message| seen.insert((message.chat.clone(), message.id.clone())))
        .collect();
    merged.sort_by_key(|message| std::cmp::Reverse(message.timestamp));
    merged
}

fn count(count: Option<u32>) -> Result<u32, SessionError> {
    match count.unwrap_or(DEFAULT_COUNT) {
        count @ 1..=MAX_COUNT => Ok(count),
        other => Err(SessionError::InvalidParams(format!(
            "count: {other} is not between 1 and {MAX_COUNT}"
        ))),
    }
}

fn server_error(error: wire::Error) -> SessionError {
    let status = match error {
        wire::Error::AnchorUnknown => 404,
        wire::Error::Refused(status) => status,
        wire::Error::Shape => 0,
    };
    SessionError::Server {
        status,
        message: error.to_string(),
    }
}

fn store_error(error: journal::Error) -> SessionError {
    SessionError::Io(format!("the message store: {error}"))
}

/// Runs `work` on a reader of its own, on a blocking thread.
async fn read<T: Send + 'static>(
    journal: &Journal,
    work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, SessionError> {
    let db = journal.db().clone();
    tokio::task::spawn_blocking(move || {
        let reader = db.reader().map_err(journal::Error::from)?;
        work(&reader).map_err(journal::Error::from)
    })
    .await
    .map_err(|_| SessionError::Stopped)?
    .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use waweb_proto::message::MessageKind;

    use super::*;

    fn at(id: &str, chat: &str, t: u64) -> Message {
        Message {
            timestamp: t,
            ..Message::new(id, chat, MessageKind::Text)
        }
    }

    #[test]
    fn a_merge_is_newest_first_without_repeats() {
        let found = vec![at("A", "c@g.us", 5), at("B", "c@g.us", 9)];
        let local = vec![
            at("C", "c@g.us", 7),
            at("A", "c@g.us", 5),
            at("A", "d@g.us", 1),
        ];
        let merged = merge(found, local.into_iter());
        let keys: Vec<(&str, &str)> = merged
            .iter()
            .map(|m| (m.id.as_str(), m.chat.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("B", "c@g.us"),
                ("C", "c@g.us"),
                ("A", "c@g.us"),
                ("A", "d@g.us")
            ]
        );
    }

    #[test]
    fn counts_are_checked() {
        assert_eq!(count(None), Ok(DEFAULT_COUNT));
        assert_eq!(count(Some(100)), Ok(100));
        assert!(matches!(
            count(Some(0)),
            Err(SessionError::InvalidParams(_))
        ));
        assert!(matches!(
            count(Some(101)),
            Err(SessionError::InvalidParams(_))
        ));
    }
}
