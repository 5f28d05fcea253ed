//! The demo's contacts answer what the client sends them (only with `chatter`, which is what
//! `wawebd --demo` runs): a quote is quoted back with what it quoted, a picture or any other
//! attachment is thanked for once the phone verified it (or called broken when it did not:
//! the verdict of the relay's `received` line), a location and a contact card get a word. Plain texts get no answer: the contacts
//! chatter anyway, and a bot that answers texts would loop with them.
//!
//! ```text
//! client -> Alice: image (media_ok)        Alice, ~1 s later, quoting it: "Nice picture! 😍"
//! client -> Alice: reply to "Hi!"           Alice, quoting the reply: "You quoted “Hi!” — yes, I said that."
//! ```

use std::time::Duration;

use tokio::sync::mpsc;
use waweb_core::message::{self, pb};
use waweb_proto::message::MediaKind;

use super::phone::CONTACTS;
use super::receiving::RichText;
use super::{Core, Input, Timer};

/// How long a contact takes to answer: long enough to read as an answer in the demo.
const ANSWER_AFTER: Duration = Duration::from_millis(900);

impl Core {
    /// In demo mode, schedules the contact's answer to a message the client relayed to them.
    /// `verdict` is the phone's check of the attachment, made when the relay arrived.
    pub(super) fn react_later(
        &mut self,
        chat: &str,
        info: &pb::WebMessageInfo,
        verdict: Option<Result<(), String>>,
    ) {
        if self.config.chatter.is_none() {
            return;
        }
        let number = chat.strip_suffix("@s.whatsapp.net").unwrap_or_default();
        if !CONTACTS.iter().any(|contact| contact.number == number) {
            return;
        }
        let (Some(text), Some(id)) = (
            reaction(info, verdict),
            info.key.as_ref().and_then(|key| key.id.clone()),
        ) else {
            return;
        };
        let timer = Timer::React {
            from: number.to_owned(),
            quote: id,
            text,
        };
        let inputs: mpsc::Sender<Input> = self.inputs.clone();
        self.tasks.spawn(async move {
            tokio::time::sleep(ANSWER_AFTER).await;
            let _ = inputs.send(Input::Timer(timer)).await;
        });
    }

    /// The contact's answer, as it quotes the message: `Timer::React` fired.
    pub(super) fn react(&mut self, from: &str, quote: String, text: &str) {
        let rich = RichText {
            quote: Some(quote),
            mentions: Vec::new(),
            forwarded: false,
            ephemeral_s: None,
        };
        if let Err(error) = self.deliver_rich_text(from, None, text, rich) {
            tracing::debug!("sim reaction: {error}");
        }
    }
}

/// What a contact says to this message, if anything.
fn reaction(info: &pb::WebMessageInfo, verdict: Option<Result<(), String>>) -> Option<String> {
    let content = message::unwrap_content(info.message.as_ref()?);
    if let Some(verdict) = verdict {
        let kind = message::media_of(content)?.kind;
        return Some(match verdict {
            Ok(()) if kind == MediaKind::Image => "Nice picture! 😍".to_owned(),
            Ok(()) => format!("Thanks for the {}!", media_word(kind)),
            Err(_) => format!("Your {} arrived broken 😕", media_word(kind)),
        });
    }
    if let Some(location) = &content.location_message {
        let place = location.name.clone().unwrap_or_else(|| {
            let (lat, lon) = (location.degrees_latitude, location.degrees_longitude);
            format!("{:.4}, {:.4}", lat.unwrap_or(0.0), lon.unwrap_or(0.0))
        });
        return Some(format!("See you at {place}!"));
    }
    if let Some(card) = &content.contact_message {
        let name = card.display_name.as_deref().unwrap_or("them");
        return Some(format!("Thanks, I saved {name}."));
    }
    let context = content
        .extended_text_message
        .as_ref()?
        .context_info
        .as_ref()?;
    context.stanza_id.as_ref()?;
    let quoted = context.quoted_message.as_deref().and_then(|quoted| {
        let quoted = message::unwrap_content(quoted);
        quoted.conversation.clone().or_else(|| {
            quoted
                .extended_text_message
                .as_ref()
                .and_then(|text| text.text.clone())
        })
    });
    Some(match quoted {
        Some(text) => format!("You quoted “{}” — yes, I said that.", shorten(&text)),
        None => "You quoted a message I no longer have.".to_owned(),
    })
}

fn media_word(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "picture",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
        MediaKind::Document => "document",
        MediaKind::Sticker => "sticker",
    }
}

/// At most 40 characters of a quoted text, cut at a character boundary.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
