//! The content of what this account sends besides media (DESIGN.md 7.1, PROTOCOL.md 9.4):
//! texts with quotes and mentions, locations, contact cards, forwards and revokes.
//!
//! ```text
//! text("hi", None)                              -> {conversation: "hi"}
//! text("hi @49…", context(quote, [49…]))        -> {extendedTextMessage: {text, contextInfo: {stanzaId, participant, quotedMessage, mentionedJid}}}
//! location(52.5, 13.4, name, address, None)     -> {locationMessage: {degreesLatitude, degreesLongitude, name, address}}
//! contacts([one], None) / contacts([a, b], None) -> {contactMessage} / {contactsArrayMessage}
//! forward(stored content, None)                 -> the content, contextInfo {isForwarded, forwardingScore + 1}
//! revoke(chat, id)                              -> {protocolMessage: {key: {remoteJid, fromMe: true, id}, type: REVOKE}}
//! ```
//!
//! Pure: the caller looks quoted and forwarded messages up and passes their stored bytes.

use super::{decode_web_message_info, is_group, pb, unwrap_content};

/// Why content could not be built; each is a bad param of the method.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A latitude outside -90 to 90 (or not a number).
    #[error("latitude must be between -90 and 90, not {0}")]
    Latitude(f64),
    /// A longitude outside -180 to 180 (or not a number).
    #[error("longitude must be between -180 and 180, not {0}")]
    Longitude(f64),
    /// `send_contact` without a card, or with more than [`CONTACTS_MAX`].
    #[error("contacts must hold 1 to {CONTACTS_MAX} cards, not {0}")]
    ContactCount(usize),
    /// A stored message with nothing a chat could show again (a revoke, a group notice).
    #[error("the message has no content that can be forwarded")]
    NothingToForward,
}

/// The most cards one contact message carries.
pub const CONTACTS_MAX: usize = waweb_proto::CONTACTS_MAX;

/// A message being replied to.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// Its chat (canonical JID).
    pub chat: String,
    /// Its id.
    pub id: String,
    /// Whether this account wrote it.
    pub from_me: bool,
    /// Its author in a group, if known.
    pub participant: Option<String>,
    /// Its content, when the store holds it; without it the quote goes by id alone, which
    /// phones show as a reply to a message they look up themselves.
    pub content: Option<pb::Message>,
}

impl Quote {
    /// Who wrote the quoted message: us, the group member, or the other person of a 1:1 chat.
    fn author(&self, own_jid: &str) -> Option<String> {
        if self.from_me {
            Some(own_jid.to_owned())
        } else if let Some(participant) = &self.participant {
            Some(participant.clone())
        } else if !is_group(&self.chat) {
            Some(self.chat.clone())
        } else {
            None
        }
    }
}

/// The content of stored `WebMessageInfo` bytes, as a quote embeds it: unwrapped from
/// view-once and disappearing wrappers, and without its own quote (a reply to a reply embeds
/// one level, as the official clients did, instead of a growing chain). `None` for bytes that
/// do not decode or carry no content.
pub fn stored_content(raw: &[u8]) -> Option<pb::Message> {
    let info = decode_web_message_info(raw).ok()?;
    let mut content = unwrap_content(info.message.as_ref()?).clone();
    if let Some(Some(context)) = content.context_info_slot() {
        context.quoted_message = None;
    }
    Some(content)
}

/// The `contextInfo` for a quote and mentions (already canonical JIDs); `None` when there is
/// neither, so plain content stays plain. `own_jid` names the author of a quoted own message.
pub fn context(
    quote: Option<Quote>,
    mentions: Vec<String>,
    own_jid: &str,
) -> Option<pb::ContextInfo> {
    if quote.is_none() && mentions.is_empty() {
        return None;
    }
    let mut context = pb::ContextInfo {
        mentioned_jid: mentions,
        ..Default::default()
    };
    if let Some(quote) = quote {
        context.participant = quote.author(own_jid);
        context.remote_jid = is_group(&quote.chat).then(|| quote.chat.clone());
        context.stanza_id = Some(quote.id);
        context.quoted_message = quote.content.map(Box::new);
    }
    Some(context)
}

/// A text: `conversation` when plain, `extendedTextMessage` with a context.
pub fn text(text: String, context: Option<pb::ContextInfo>) -> pb::Message {
    match context {
        None => pb::Message {
            conversation: Some(text),
            ..Default::default()
        },
        Some(context) => pb::Message {
            extended_text_message: Some(Box::new(pb::ExtendedTextMessage {
                text: Some(text),
                context_info: Some(context),
                ..Default::default()
            })),
            ..Default::default()
        },
    }
}

/// A `locationMessage`; coordinates outside the globe are refused.
pub fn location(
    latitude: f64,
    longitude: f64,
    name: Option<String>,
    address: Option<String>,
    context: Option<pb::ContextInfo>,
) -> Result<pb::Message, Error> {
    if !(-90.0..=90.0).contains(&latitude) {
        return Err(Error::Latitude(latitude));
    }
    if !(-180.0..=180.0).contains(&longitude) {
        return Err(Error::Longitude(longitude));
    }
    Ok(pb::Message {
        location_message: Some(Box::new(pb::LocationMessage {
            degrees_latitude: Some(latitude),
            degrees_longitude: Some(longitude),
            name,
            address,
            context_info: context,
            ..Default::default()
        })),
        ..Default::default()
    })
}

/// Contact cards, `(display name, vcard)`: one is a `contactMessage`, more a
/// `contactsArrayMessage` named "<n> contacts" (what phones show as its title).
pub fn contacts(
    cards: Vec<(String, String)>,
    context: Option<pb::ContextInfo>,
) -> Result<pb::Message, Error> {
    if !(1..=CONTACTS_MAX).contains(&cards.len()) {
        return Err(Error::ContactCount(cards.len()));
    }
    let count = cards.len();
    let mut cards: Vec<pb::ContactMessage> = cards
        .into_iter()
        .map(|(display_name, vcard)| pb::ContactMessage {
            display_name: Some(display_name),
            vcard: Some(vcard),
            context_info: None,
        })
        .collect();
    if count == 1 {
        let mut card = cards.remove(0);
        card.context_info = context;
        return Ok(pb::Message {
            contact_message: Some(Box::new(card)),
            ..Default::default()
        });
    }
    Ok(pb::Message {
        contacts_array_message: Some(Box::new(pb::ContactsArrayMessage {
            display_name: Some(format!("{count} contacts")),
            contacts: cards,
            context_info: context,
        })),
        ..Default::default()
    })
}

/// A stored message's content sent again, marked forwarded: its context is replaced by
/// `isForwarded` and a `forwardingScore` one above the one it had (so a message forwarded
/// many times shows as such), plus the new quote and mentions, if any. Plain text becomes
/// `extendedTextMessage`, which is where a text's context lives.
pub fn forward(
    content: pb::Message,
    context: Option<pb::ContextInfo>,
) -> Result<pb::Message, Error> {
    let mut content = unwrap_content(&content).clone();
    if let Some(conversation) = content.conversation.take() {
        content.extended_text_message = Some(Box::new(pb::ExtendedTextMessage {
            text: Some(conversation),
            ..Default::default()
        }));
    }
    let slot = content.context_info_slot().ok_or(Error::NothingToForward)?;
    let score = slot
        .as_ref()
        .and_then(|old| old.forwarding_score)
        .unwrap_or(0);
    let mut context = context.unwrap_or_default();
    context.is_forwarded = Some(true);
    context.forwarding_score = Some(score.saturating_add(1));
    *slot = Some(context);
    Ok(content)
}

/// An attachment (or any content with a `contextInfo`) with the quote and mentions of its
/// send; content without a place for them is returned as it was.
pub fn with_context(mut content: pb::Message, context: Option<pb::ContextInfo>) -> pb::Message {
    if let (Some(context), Some(slot)) = (context, content.context_info_slot()) {
        *slot = Some(context);
    }
    content
}

/// "Delete for everyone" of our message `id` in `chat` (PROTOCOL.md 9.4): a `protocolMessage`
/// REVOKE naming its key.
pub fn revoke(chat: &str, id: &str) -> pb::Message {
    revoke_key(pb::MessageKey {
        remote_jid: Some(chat.to_owned()),
        from_me: Some(true),
        id: Some(id.to_owned()),
        participant: None,
    })
}

/// A `protocolMessage` REVOKE of the message `key` names, as its author sends it (the key as
/// the receiver stores the message: a contact's own revoke says `fromMe: false`).
pub fn revoke_key(key: pb::MessageKey) -> pb::Message {
    pb::Message {
        protocol_message: Some(Box::new(pb::ProtocolMessage {
            key: Some(key),
            r#type: Some(pb::ProtocolMessageType::Revoke.into()),
            ..Default::default()
        })),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
