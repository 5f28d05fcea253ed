//! The send methods besides plain text and media (DESIGN.md 7.1): what each one builds, with
//! quoted and forwarded messages looked up in the store; they all go out through
//! [`Actor::send`](super::sending) like `send_text`.
//!
//! ```text
//! send_text {quote?, mentions?}  -> lookup(quote) -> conversation | extendedTextMessage{contextInfo}
//! send_location / send_contact   -> locationMessage / contactMessage | contactsArrayMessage
//! forward {message}              -> lookup(message) -> its content, contextInfo.isForwarded | not_found
//! revoke {message}               -> protocolMessage REVOKE to the message's chat | invalid_params (not ours)
//! ```

use waweb_core::message::compose::{self, Quote};
use waweb_core::message::{self, is_group, pb};
use waweb_proto::{
    ForwardParams, MessageRef, RevokeParams, SendContactParams, SendLocationParams, SendTextParams,
    SendTextResult,
};

use super::actor::Actor;
use super::handle::{Reply, SessionError};
use super::online::{Link, Waiter};
use super::sending::{Outgoing, SendOptions};
use crate::messages::{self, Stored};
use waweb_core::session::connection::Output;

/// A chat or person as `to` spells it, as a canonical JID; `what` names the param.
pub(super) fn jid(what: &str, to: &str) -> Result<String, SessionError> {
    message::parse_recipient(to)
        .map_err(|error| SessionError::InvalidParams(format!("{what}: {error}")))
}

/// A person (not a group), as `to` spells it.
pub(super) fn person(what: &str, to: &str) -> Result<String, SessionError> {
    let jid = jid(what, to)?;
    if is_group(&jid) {
        return Err(SessionError::InvalidParams(format!(
            "{what}: {to:?} is a group; a person's number or JID is needed"
        )));
    }
    Ok(jid)
}

fn bad(error: compose::Error) -> SessionError {
    SessionError::InvalidParams(error.to_string())
}

/// A send method's call, before it is built into an [`Outgoing`].
pub(super) enum Compose {
    Text(SendTextParams),
    Location(SendLocationParams),
    Contact(SendContactParams),
    Forward(ForwardParams),
    Revoke(RevokeParams),
}

impl Compose {
    fn options(&self) -> SendOptions {
        match self {
            Compose::Text(params) => SendOptions::from(params),
            Compose::Location(params) => SendOptions::from(params),
            Compose::Contact(params) => SendOptions::from(params),
            Compose::Forward(params) => SendOptions::from(params),
            Compose::Revoke(params) => SendOptions::from(params),
        }
    }
}

impl Actor {
    /// A send method: refused, or built (looking up what it quotes or forwards) and queued,
    /// then relayed now if the connection is usable.
    pub(super) async fn send_composed(
        &mut self,
        compose: Compose,
        reply: Reply<SendTextResult>,
        link: Option<&mut Link>,
    ) -> Vec<Output<Waiter>> {
        let options = compose.options();
        let outgoing = match self.check_send(&options) {
            Ok(()) => self.build(compose).await,
            Err(error) => Err(error),
        };
        match outgoing {
            Ok(outgoing) => self.send(outgoing, options, reply, link).await,
            Err(error) => {
                let _ = reply.send(Err(error));
                Vec::new()
            }
        }
    }

    async fn build(&self, compose: Compose) -> Result<Outgoing, SessionError> {
        match compose {
            Compose::Text(params) => self.text_outgoing(params).await,
            Compose::Location(params) => self.location_outgoing(params).await,
            Compose::Contact(params) => self.contact_outgoing(params).await,
            Compose::Forward(params) => self.forward_outgoing(params).await,
            Compose::Revoke(params) => self.revoke_outgoing(params.message).await,
        }
    }

    /// Our own JID, for the author of a quoted own message.
    fn own_jid(&self) -> String {
        self.credentials
            .as_ref()
            .map(|credentials| message::normalize_jid(&credentials.wid))
            .unwrap_or_default()
    }

    /// The stored message a reference names (its chat already canonical); `None` when the
    /// store does not hold it or there is no store.
    pub(super) async fn stored(
        &self,
        chat: &str,
        id: &str,
    ) -> Result<Option<Stored>, SessionError> {
        let Some(journal) = self.bus.journal() else {
            return Ok(None);
        };
        messages::lookup(journal, chat.to_owned(), id.to_owned())
            .await
            .map_err(|error| SessionError::Io(format!("the message store: {error}")))
    }

    /// The `contextInfo` of a send's `quote` and `mentions`: the quoted message embedded when
    /// the store holds it, by id alone when not.
    pub(super) async fn context(
        &self,
        quote: Option<MessageRef>,
        mentions: Option<Vec<String>>,
    ) -> Result<Option<pb::ContextInfo>, SessionError> {
        let mentions = mentions
            .unwrap_or_default()
            .iter()
            .map(|mention| person("mentions", mention))
            .collect::<Result<Vec<_>, _>>()?;
        let quote = match quote {
            None => None,
            Some(reference) => {
                let chat = jid("quote.chat", &reference.chat)?;
                let participant = match &reference.participant {
                    Some(participant) => Some(person("quote.participant", participant)?),
                    None => None,
                };
                let stored = self.stored(&chat, &reference.id).await?;
                let participant =
                    participant.or_else(|| stored.as_ref()?.message.participant.clone());
                let content = stored
                    .and_then(|stored| stored.raw)
                    .and_then(|raw| compose::stored_content(&raw));
                Some(Quote {
                    chat,
                    id: reference.id,
                    from_me: reference.from_me,
                    participant,
                    content,
                })
            }
        };
        Ok(compose::context(quote, mentions, &self.own_jid()))
    }

    /// `send_text`'s message: plain, or extended with a quote and mentions.
    async fn text_outgoing(&self, params: SendTextParams) -> Result<Outgoing, SessionError> {
        let recipient = jid("to", &params.to)?;
        let context = self.context(params.quote, params.mentions).await?;
        Ok(Outgoing {
            recipient,
            kind: "text",
            content: compose::text(params.text, context),
        })
    }

    async fn location_outgoing(
        &self,
        params: SendLocationParams,
    ) -> Result<Outgoing, SessionError> {
        let recipient = jid("to", &params.to)?;
        let context = self.context(params.quote, params.mentions).await?;
        let content = compose::location(
            params.latitude,
            params.longitude,
            params.name,
            params.address,
            context,
        )
        .map_err(bad)?;
        Ok(Outgoing {
            recipient,
            kind: "location",
            content,
        })
    }

    async fn contact_outgoing(&self, params: SendContactParams) -> Result<Outgoing, SessionError> {
        let recipient = jid("to", &params.to)?;
        let context = self.context(params.quote, params.mentions).await?;
        let cards = params
            .contacts
            .into_iter()
            .map(|card| (card.display_name, card.vcard))
            .collect();
        Ok(Outgoing {
            recipient,
            kind: "contact",
            content: compose::contacts(cards, context).map_err(bad)?,
        })
    }

    async fn forward_outgoing(&self, params: ForwardParams) -> Result<Outgoing, SessionError> {
        let recipient = jid("to", &params.to)?;
        let chat = jid("message.chat", &params.message.chat)?;
        let id = &params.message.id;
        let not_found =
            || SessionError::NotFound(format!("message {id} of {chat} is not in the store"));
        let stored = self.stored(&chat, id).await?.ok_or_else(not_found)?;
        let raw = stored.raw.ok_or_else(not_found)?;
        let content = message::decode_web_message_info(&raw)
            .ok()
            .and_then(|info| info.message)
            .ok_or_else(|| bad(compose::Error::NothingToForward))?;
        let context = self.context(params.quote, params.mentions).await?;
        Ok(Outgoing {
            recipient,
            kind: "forward",
            content: compose::forward(content, context).map_err(bad)?,
        })
    }

    async fn revoke_outgoing(&self, reference: MessageRef) -> Result<Outgoing, SessionError> {
        let chat = jid("message.chat", &reference.chat)?;
        let not_ours = || {
            SessionError::InvalidParams(format!(
                "message {} is not ours: only our own messages can be revoked",
                reference.id
            ))
        };
        if !reference.from_me {
            return Err(not_ours());
        }
        // The store knows better than the caller, when it knows.
        if let Some(stored) = self.stored(&chat, &reference.id).await?
            && !stored.message.from_me
        {
            return Err(not_ours());
        }
        Ok(Outgoing {
            content: compose::revoke(&chat, &reference.id),
            recipient: chat,
            kind: "revoke",
        })
    }
}
