//! Receipts, presence and typing (DESIGN.md 7.2): set-actions and the presence subscription,
//! sent on the open connection and answered once the server said 200. None of these is
//! queued: a receipt or a typing state that arrives minutes late means something else.
//!
//! ```text
//! mark_read {chat, message?}  -> newest(chat) when no message -> <read jid index owner count=1>  metric 11
//! mark_unread {chat}          -> newest(chat)                 -> <read … count=-2>               metric 11
//! mark_played {message}       -> <received type=played index from owner=false count=1>           metric 13
//! set_presence / set_typing   -> <presence type=…(to=chat)>                                      metric 8
//! subscribe_presence {jid}    -> ["action","presence","subscribe","<jid @c.us>"]
//! ```

use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;
use waweb_core::message::is_group;
use waweb_core::session::actions::{self, SetAction};
use waweb_core::session::connection::Output;
use waweb_proto::message::MessageKind;
use waweb_proto::notice::Chat;
use waweb_proto::{
    EmptyResult, Event, MarkPlayedParams, MarkReadParams, MarkUnreadParams, MessageRef,
    ReceiptResult, SetPresenceParams, SetTypingParams, SubscribePresenceParams,
};

use super::actor::Actor;
use super::compose::{jid, person};
use super::handle::{Answer, Reply, SessionError};
use super::online::{Link, Waiter};
use crate::messages;

type Sender = tokio::sync::oneshot::Sender<Answer>;

/// The message a receipt names: its id, whether we wrote it, and its author in a group.
struct Named {
    id: String,
    from_me: bool,
    participant: Option<String>,
}

impl Actor {
    /// `mark_read`, `mark_unread`, `mark_played`, `set_presence`, `set_typing` and
    /// `subscribe_presence` need the connection; without one they fail at once.
    pub(super) async fn receipt_call(
        &mut self,
        call: ReceiptCall,
        reply: Sender,
        link: Option<&mut Link>,
    ) -> Vec<Output<Waiter>> {
        let Some(link) = link else {
            let _ = reply.send(Err(self.not_available()));
            return Vec::new();
        };
        let prepared = match call {
            ReceiptCall::Read(params) => self.read_action(params).await,
            ReceiptCall::Unread(params) => self.unread_action(params).await,
            ReceiptCall::Played(params) => self.played_action(params).await,
            ReceiptCall::Presence(params) => {
                done(actions::presence(params.presence), EmptyResult {})
            }
            ReceiptCall::Typing(params) => jid("chat", &params.chat)
                .and_then(|chat| done(actions::typing(&chat, params.state), EmptyResult {})),
            ReceiptCall::Subscribe(params) => person("jid", &params.jid)
                .and_then(|jid| done(actions::subscribe_presence(&jid), EmptyResult {})),
        };
        let Prepared {
            request,
            result,
            then,
        } = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                let _ = reply.send(Err(error));
                return Vec::new();
            }
        };
        let waiter = Waiter::Done {
            reply: Reply::new(reply),
            result,
            then,
        };
        match request {
            Request::Set(action) => link.machine.set(action, waiter, Instant::now()),
            Request::Command(json) => link.machine.command(&json, waiter, Instant::now()),
        }
    }

    async fn read_action(&self, params: MarkReadParams) -> Result<Prepared, SessionError> {
        let chat = jid("chat", &params.chat)?;
        let named = match params.message {
            Some(reference) => {
                if jid("message.chat", &reference.chat)? != chat {
                    return Err(SessionError::InvalidParams(
                        "message.chat must be the chat being marked read".into(),
                    ));
                }
                named(reference)?
            }
            None => self.newest(&chat).await?,
        };
        let participant = named.participant.as_deref().filter(|_| is_group(&chat));
        let action = actions::read(&chat, &named.id, named.from_me, participant);
        let read = chat_event(&chat, "read");
        done(action, ReceiptResult { chat, id: named.id }).map(|prepared| prepared.then(read))
    }

    async fn unread_action(&self, params: MarkUnreadParams) -> Result<Prepared, SessionError> {
        let chat = jid("chat", &params.chat)?;
        let named = self.newest(&chat).await?;
        let participant = named.participant.as_deref().filter(|_| is_group(&chat));
        let action = actions::unread(&chat, &named.id, named.from_me, participant);
        let unread = chat_event(&chat, "unread");
        done(action, ReceiptResult { chat, id: named.id }).map(|prepared| prepared.then(unread))
    }

    async fn played_action(&self, params: MarkPlayedParams) -> Result<Prepared, SessionError> {
        let chat = jid("message.chat", &params.message.chat)?;
        if params.message.from_me {
            return Err(SessionError::InvalidParams(
                "played receipts are for voice notes someone else sent (from_me: false)".into(),
            ));
        }
        if let Some(stored) = self.stored(&chat, &params.message.id).await?
            && stored.message.kind != MessageKind::Audio
        {
            return Err(SessionError::InvalidParams(format!(
                "message {} is not a voice note",
                params.message.id
            )));
        }
        let named = named(params.message)?;
        let participant = named.participant.as_deref().filter(|_| is_group(&chat));
        let action = actions::played(&chat, &named.id, participant);
        done(action, ReceiptResult { chat, id: named.id })
    }

    /// The newest message of `chat` in the store, or `not_found`.
    async fn newest(&self, chat: &str) -> Result<Named, SessionError> {
        let not_found = || {
            SessionError::NotFound(format!(
                "no message of {chat} is in the store; name one with `message`"
            ))
        };
        let journal = self.bus.journal().ok_or_else(not_found)?;
        let stored = messages::newest(journal, chat.to_owned())
            .await
            .map_err(|error| SessionError::Io(format!("the message store: {error}")))?
            .ok_or_else(not_found)?;
        Ok(Named {
            id: stored.message.id,
            from_me: stored.message.from_me,
            participant: stored.message.participant,
        })
    }
}

/// The receipt and presence calls, as [`Actor::receipt_call`] takes them.
pub(super) enum ReceiptCall {
    Read(MarkReadParams),
    Unread(MarkUnreadParams),
    Played(MarkPlayedParams),
    Presence(SetPresenceParams),
    Typing(SetTypingParams),
    Subscribe(SubscribePresenceParams),
}

fn named(reference: MessageRef) -> Result<Named, SessionError> {
    let participant = match &reference.participant {
        Some(participant) => Some(person("message.participant", participant)?),
        None => None,
    };
    Ok(Named {
        id: reference.id,
        from_me: reference.from_me,
        participant,
    })
}

/// What goes to the server: a set-action, or a JSON command answered by a status.
enum Request {
    Set(SetAction),
    Command(Value),
}

impl From<SetAction> for Request {
    fn from(action: SetAction) -> Self {
        Request::Set(action)
    }
}

impl From<Value> for Request {
    fn from(json: Value) -> Self {
        Request::Command(json)
    }
}

/// A request, the result to answer once the server said 200, and the event that follows it.
struct Prepared {
    request: Request,
    result: Value,
    then: Option<Box<Event>>,
}

impl Prepared {
    fn then(self, event: Event) -> Self {
        Prepared {
            then: Some(Box::new(event)),
            ..self
        }
    }
}

/// The request and the result to answer once the server said 200.
fn done(request: impl Into<Request>, result: impl Serialize) -> Result<Prepared, SessionError> {
    let result = serde_json::to_value(result)
        .map_err(|error| SessionError::Internal(format!("cannot encode the result: {error}")))?;
    Ok(Prepared {
        request: request.into(),
        result,
        then: None,
    })
}

/// The `chat` event a read or unread receipt is followed by (DESIGN.md 7.2), as the phone's own
/// `read` action would be reported.
fn chat_event(chat: &str, action: &str) -> Event {
    Event::Chat(Chat {
        chat: chat.to_owned(),
        action: action.to_owned(),
        value: None,
    })
}
