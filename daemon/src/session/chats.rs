//! `chats`, `contacts` and `chat_modify` (DESIGN.md 8): answered from the store, which asks
//! the server for a list only when none came since the daemon started (PROTOCOL.md 8.6: the
//! server pushes both lists at login; `query chat`/`query contacts` fetch them otherwise).
//!
//! ```text
//! chats {archived?, limit?, before?} -> [query chat, metric 5, when no list came] -> the store, newest first
//! contacts {query?}                  -> [query contacts, metric 6, when no list came] -> the store
//! chat_modify {chat, action, …}      -> the chat in the store (else -32602) -> <chat type=…/> metric 12 (star 10)
//!                                    -> 200: the store changes, a `chat` event as from the phone
//! ```

use tokio::sync::oneshot;
use waweb_core::session::connection::ServerReply;
use waweb_core::session::lists::{self, Index, Modify};
use waweb_proto::notice::Chat;
use waweb_proto::{
    CHATS_LIMIT_MAX, ChatAction, ChatModifyParams, ChatsParams, ChatsResult, ContactsParams,
    ContactsResult, EmptyResult, Event,
};

use super::actor::Actor;
use super::compose::{jid, person};
use super::handle::{Answer, SessionError};
use super::online::unix_now;
use super::requests::Task;
use crate::chats::query::{self, Filter};
use crate::journal::{self, Journal};
use crate::messages;

type Sender = oneshot::Sender<Answer>;

impl Actor {
    /// Publishes `event` once the store has taken it in (chat, contact and group events).
    pub(super) fn publish(&self, event: Event) {
        let me = self.me.as_ref().map(|me| me.wid.as_str());
        self.chats.publish(&self.bus, event, me);
    }

    /// `chats`.
    pub(super) fn chats_call(&self, params: ChatsParams, reply: Sender) {
        let filter = filter(params);
        self.spawn_call(reply, |task| async move {
            let filter = filter?;
            ensure_list(&task, false).await;
            let chats = task
                .chats
                .chats(store(&task)?, filter)
                .await
                .map_err(store_error)?;
            Ok(ChatsResult { chats })
        });
    }

    /// `contacts`.
    pub(super) fn contacts_call(&self, params: ContactsParams, reply: Sender) {
        self.spawn_call(reply, |task| async move {
            ensure_list(&task, true).await;
            let contacts = query::contacts(store(&task)?, params.query)
                .await
                .map_err(store_error)?;
            Ok(ContactsResult { contacts })
        });
    }

    /// `chat_modify`.
    pub(super) fn chat_modify_call(&self, params: ChatModifyParams, reply: Sender) {
        let checked = check(&params, unix_now());
        self.spawn_call(reply, move |task| async move {
            let chat = checked?;
            modify(&task, chat, params).await
        });
    }
}

/// The `chats` params as a filter: `limit` 1 to [`CHATS_LIMIT_MAX`], which is the default.
fn filter(params: ChatsParams) -> Result<Filter, SessionError> {
    let limit = params.limit.unwrap_or(CHATS_LIMIT_MAX);
    if !(1..=CHATS_LIMIT_MAX).contains(&limit) {
        return Err(SessionError::InvalidParams(format!(
            "limit must be 1 to {CHATS_LIMIT_MAX}, not {limit}"
        )));
    }
    Ok(Filter {
        archived: params.archived,
        limit,
        before: params.before,
    })
}

fn store(task: &Task) -> Result<&Journal, SessionError> {
    task.bus
        .journal()
        .ok_or_else(|| SessionError::Io("the daemon has no store".into()))
}

fn store_error(error: journal::Error) -> SessionError {
    SessionError::Io(format!("the chat store: {error}"))
}

/// Asks the server for the chat (or contact) list when none came since the start and stores
/// the answer; when one came, waits until it is committed. Without a connection, or when the
/// server does not answer with a list, the store answers with what it has.
async fn ensure_list(task: &Task, contacts: bool) {
    if task.chats.listed(task.bus.journal(), contacts).await {
        return;
    }
    let (node, metric) = lists::query(contacts);
    match task.requests.query(node, metric).await {
        Ok(ServerReply::Node(node)) => match lists::read(&node) {
            Some(list) => task.chats.list(&task.bus, list, true).await,
            None => tracing::warn!(tag = %node.tag, "a list query answered with something else"),
        },
        // Only the status: the rest can be the account's names and numbers.
        Ok(ServerReply::Json(json)) => tracing::warn!(
            status = %json.get("status").unwrap_or(&serde_json::Value::Null),
            "a list query answered JSON instead of a list"
        ),
        Err(error) => tracing::debug!("no list from the server: {error}"),
    }
}

/// The params a `chat_modify` needs besides the store: the chat's JID once they fit.
fn check(params: &ChatModifyParams, now: u64) -> Result<String, SessionError> {
    let bad = |why: String| Err(SessionError::InvalidParams(why));
    let chat = jid("chat", &params.chat)?;
    let action = params.action;
    match (action, params.until) {
        (ChatAction::Mute, None) => return bad("mute needs `until` (unix seconds)".into()),
        (ChatAction::Mute, Some(until)) if until <= now => {
            return bad(format!("until ({until}) is not in the future (now {now})"));
        }
        (ChatAction::Mute, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return bad(format!(
                "`until` goes only with mute, not {}",
                action.as_str()
            ));
        }
    }
    let starring = matches!(action, ChatAction::Star | ChatAction::Unstar);
    match &params.message {
        None if starring => bad(format!("{} needs `message`", action.as_str())),
        Some(_) if !starring => bad(format!(
            "`message` goes only with star and unstar, not {}",
            action.as_str()
        )),
        Some(message) => {
            if jid("message.chat", &message.chat)? != chat {
                return bad("message.chat must be the chat".into());
            }
            if let Some(participant) = &message.participant {
                person("message.participant", participant)?;
            }
            Ok(chat)
        }
        None => Ok(chat),
    }
}

/// Sends the chat action, then changes the store and publishes the `chat` event.
async fn modify(
    task: &Task,
    chat: String,
    params: ChatModifyParams,
) -> Result<EmptyResult, SessionError> {
    let journal = store(task)?;
    let Some(entry) = query::chat(journal, chat.clone())
        .await
        .map_err(store_error)?
    else {
        return Err(SessionError::InvalidParams(format!(
            "{chat} is not in the chat list"
        )));
    };
    let action = params.action;
    let newest = match action {
        ChatAction::Archive | ChatAction::Unarchive | ChatAction::Delete | ChatAction::Clear => {
            messages::newest(journal, chat.clone())
                .await
                .map_err(store_error)?
        }
        _ => None,
    };
    let index = newest.as_ref().map(|stored| Index {
        id: &stored.message.id,
        owner: stored.message.from_me,
        participant: stored.message.participant.as_deref(),
    });
    let starred = params.message.as_ref().map(|message| Index {
        id: &message.id,
        owner: message.from_me,
        participant: message.participant.as_deref(),
    });
    let now = unix_now();
    let (change, value) = match action {
        ChatAction::Archive => (Modify::Archive(true, index), None),
        ChatAction::Unarchive => (Modify::Archive(false, index), None),
        ChatAction::Delete => (Modify::Delete(index), None),
        ChatAction::Clear => (Modify::Clear(index), None),
        ChatAction::Pin => (Modify::Pin(now), Some(now.to_string())),
        ChatAction::Unpin => (Modify::Unpin(entry.pinned), None),
        ChatAction::Mute => {
            let until = params.until.unwrap_or(now);
            (Modify::Mute(until), Some(until.to_string()))
        }
        ChatAction::Unmute => (Modify::Unmute(entry.muted_until), None),
        ChatAction::Star | ChatAction::Unstar => {
            let Some(index) = starred else {
                return Err(SessionError::InvalidParams("star needs `message`".into()));
            };
            let value = Some(index.id.to_owned());
            (Modify::Star(action == ChatAction::Star, index), value)
        }
    };
    task.requests
        .set(lists::modify(&chat, &change), false)
        .await?;
    let me = task.me.as_ref().map(|me| me.wid.clone());
    let event = Event::Chat(Chat {
        chat,
        action: action.as_str().to_owned(),
        value,
    });
    task.chats.publish(&task.bus, event, me.as_deref());
    // The caller that reads `chats` next sees the change.
    journal.flush().await;
    Ok(EmptyResult {})
}

#[cfg(test)]
mod tests {
    use waweb_proto::MessageRef;

    use super::*;

    fn params(action: ChatAction) -> ChatModifyParams {
        ChatModifyParams {
            chat: "4915100000001".into(),
            action,
            until: None,
            message: None,
        }
    }

    #[test]
    fn chat_modify_params_are_checked_before_anything_is_sent() {
        let now = 1_600_000_000;
        assert_eq!(
            check(&params(ChatAction::Archive), now),
            Ok("4915100000001@s.whatsapp.net".into())
        );
        let invalid = |params: &ChatModifyParams| {
            matches!(check(params, now), Err(SessionError::InvalidParams(_)))
        };
        assert!(invalid(&params(ChatAction::Mute)));
        let past = ChatModifyParams {
            until: Some(now - 1),
            ..params(ChatAction::Mute)
        };
        assert!(invalid(&past));
        let future = ChatModifyParams {
            until: Some(now + 60),
            ..params(ChatAction::Mute)
        };
        assert!(check(&future, now).is_ok());
        let stray = ChatModifyParams {
            until: Some(now + 60),
            ..params(ChatAction::Pin)
        };
        assert!(invalid(&stray));
        assert!(invalid(&params(ChatAction::Star)));
        let message = MessageRef::new("4915100000001", "3A1", false);
        let star = ChatModifyParams {
            message: Some(message.clone()),
            ..params(ChatAction::Star)
        };
        assert!(check(&star, now).is_ok());
        let elsewhere = ChatModifyParams {
            message: Some(MessageRef::new("4915100000002", "3A1", false)),
            ..params(ChatAction::Unstar)
        };
        assert!(invalid(&elsewhere));
        let stray = ChatModifyParams {
            message: Some(message),
            ..params(ChatAction::Clear)
        };
        assert!(invalid(&stray));
        let nobody = ChatModifyParams {
            chat: "nobody".into(),
            ..params(ChatAction::Archive)
        };
        assert!(invalid(&nobody));
        assert!(filter(ChatsParams::default()).is_ok());
        let zero = ChatsParams {
            limit: Some(0),
            ..ChatsParams::default()
        };
        assert!(filter(zero).is_err());
    }
}
