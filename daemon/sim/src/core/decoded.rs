//! What the phone read in a relayed message: the `WebMessageInfo` as JSON with the protobuf's
//! own field names (PROTOCOL.md 9), for the `received` line's `decoded` list. Only fields that
//! are present are written, so a test sees exactly what the client put on the wire: a quote's
//! `contextInfo`, mentions, a location's coordinates, a vcard, a revoke's key.
//!
//! ```json
//! {"key":{"remoteJid":"4915100000001@s.whatsapp.net","fromMe":true,"id":"3EB0…"},"messageTimestamp":1600000000,"status":1,
//!  "message":{"extendedTextMessage":{"text":"hi","contextInfo":{"stanzaId":"3AA5…","participant":"4915100000001@s.whatsapp.net"}}}}
//! ```

use serde_json::{Map, Value, json};
use waweb_core::message::pb;

/// The whole message.
pub(super) fn web_message_info(info: &pb::WebMessageInfo) -> Value {
    let mut out = Map::new();
    if let Some(key) = &info.key {
        out.insert("key".into(), message_key(key));
    }
    put(&mut out, "messageTimestamp", info.message_timestamp);
    put(&mut out, "status", info.status);
    put(&mut out, "participant", info.participant.clone());
    put(&mut out, "pushName", info.push_name.clone());
    put(&mut out, "messageStubType", info.message_stub_type);
    if let Some(message) = &info.message {
        out.insert("message".into(), content(message));
    }
    Value::Object(out)
}

fn put(out: &mut Map<String, Value>, name: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        out.insert(name.to_owned(), value.into());
    }
}

fn message_key(key: &pb::MessageKey) -> Value {
    let mut out = Map::new();
    put(&mut out, "remoteJid", key.remote_jid.clone());
    put(&mut out, "fromMe", key.from_me);
    put(&mut out, "id", key.id.clone());
    put(&mut out, "participant", key.participant.clone());
    Value::Object(out)
}

/// The content union, one entry per field set (normally one).
fn content(message: &pb::Message) -> Value {
    let mut out = Map::new();
    put(&mut out, "conversation", message.conversation.clone());
    if let Some(m) = &message.extended_text_message {
        let mut text = Map::new();
        put(&mut text, "text", m.text.clone());
        put(&mut text, "matchedText", m.matched_text.clone());
        put(&mut text, "canonicalUrl", m.canonical_url.clone());
        context(&mut text, &m.context_info);
        out.insert("extendedTextMessage".into(), Value::Object(text));
    }
    if let Some(m) = &message.location_message {
        let mut location = Map::new();
        put(&mut location, "degreesLatitude", m.degrees_latitude);
        put(&mut location, "degreesLongitude", m.degrees_longitude);
        put(&mut location, "name", m.name.clone());
        put(&mut location, "address", m.address.clone());
        put(&mut location, "url", m.url.clone());
        context(&mut location, &m.context_info);
        out.insert("locationMessage".into(), Value::Object(location));
    }
    if let Some(m) = &message.contact_message {
        out.insert("contactMessage".into(), contact(m));
    }
    if let Some(m) = &message.contacts_array_message {
        let mut array = Map::new();
        put(&mut array, "displayName", m.display_name.clone());
        array.insert(
            "contacts".into(),
            Value::Array(m.contacts.iter().map(contact).collect()),
        );
        context(&mut array, &m.context_info);
        out.insert("contactsArrayMessage".into(), Value::Object(array));
    }
    if let Some(m) = &message.protocol_message {
        let mut protocol = Map::new();
        if let Some(key) = &m.key {
            protocol.insert("key".into(), message_key(key));
        }
        let kind = m
            .r#type
            .map(|kind| match pb::ProtocolMessageType::try_from(kind) {
                Ok(pb::ProtocolMessageType::Revoke) => json!("REVOKE"),
                _ => json!(kind),
            });
        put(&mut protocol, "type", kind);
        put(&mut protocol, "ephemeralExpiration", m.ephemeral_expiration);
        out.insert("protocolMessage".into(), Value::Object(protocol));
    }
    media(&mut out, message);
    for (name, wrapper) in [
        ("ephemeralMessage", &message.ephemeral_message),
        ("viewOnceMessage", &message.view_once_message),
    ] {
        if let Some(inner) = wrapper.as_ref().and_then(|w| w.message.as_deref()) {
            out.insert(name.into(), json!({"message": content(inner)}));
        }
    }
    Value::Object(out)
}

fn contact(m: &pb::ContactMessage) -> Value {
    let mut out = Map::new();
    put(&mut out, "displayName", m.display_name.clone());
    put(&mut out, "vcard", m.vcard.clone());
    context(&mut out, &m.context_info);
    Value::Object(out)
}

/// The attachments' descriptive fields and context (their keys and hashes are the media
/// host's business; `media_ok` says whether they were right). A thumbnail is written as its
/// size in bytes, which is what a reader of the line wants to know of it.
fn media(out: &mut Map<String, Value>, message: &pb::Message) {
    let base = |url: &Option<String>, mimetype: &Option<String>, length: Option<u64>| {
        let mut fields = Map::new();
        put(&mut fields, "url", url.clone());
        put(&mut fields, "mimetype", mimetype.clone());
        put(&mut fields, "fileLength", length);
        fields
    };
    let thumbnail = |fields: &mut Map<String, Value>, name: &str, bytes: &Option<Vec<u8>>| {
        put(
            fields,
            name,
            bytes.as_ref().map(|bytes| json!({"bytes": bytes.len()})),
        );
    };
    if let Some(m) = &message.image_message {
        let mut fields = base(&m.url, &m.mimetype, m.file_length);
        put(&mut fields, "caption", m.caption.clone());
        put(&mut fields, "width", m.width);
        put(&mut fields, "height", m.height);
        thumbnail(&mut fields, "jpegThumbnail", &m.jpeg_thumbnail);
        context(&mut fields, &m.context_info);
        out.insert("imageMessage".into(), Value::Object(fields));
    }
    if let Some(m) = &message.video_message {
        let mut fields = base(&m.url, &m.mimetype, m.file_length);
        put(&mut fields, "caption", m.caption.clone());
        put(&mut fields, "seconds", m.seconds);
        put(&mut fields, "gifPlayback", m.gif_playback);
        put(&mut fields, "width", m.width);
        put(&mut fields, "height", m.height);
        thumbnail(&mut fields, "jpegThumbnail", &m.jpeg_thumbnail);
        context(&mut fields, &m.context_info);
        out.insert("videoMessage".into(), Value::Object(fields));
    }
    if let Some(m) = &message.audio_message {
        let mut fields = base(&m.url, &m.mimetype, m.file_length);
        put(&mut fields, "seconds", m.seconds);
        put(&mut fields, "ptt", m.ptt);
        context(&mut fields, &m.context_info);
        out.insert("audioMessage".into(), Value::Object(fields));
    }
    if let Some(m) = &message.document_message {
        let mut fields = base(&m.url, &m.mimetype, m.file_length);
        put(&mut fields, "title", m.title.clone());
        put(&mut fields, "fileName", m.file_name.clone());
        put(&mut fields, "pageCount", m.page_count);
        thumbnail(&mut fields, "jpegThumbnail", &m.jpeg_thumbnail);
        context(&mut fields, &m.context_info);
        out.insert("documentMessage".into(), Value::Object(fields));
    }
    if let Some(m) = &message.sticker_message {
        let mut fields = base(&m.url, &m.mimetype, m.file_length);
        put(&mut fields, "width", m.width);
        put(&mut fields, "height", m.height);
        put(&mut fields, "isAnimated", m.is_animated);
        thumbnail(&mut fields, "pngThumbnail", &m.png_thumbnail);
        context(&mut fields, &m.context_info);
        out.insert("stickerMessage".into(), Value::Object(fields));
    }
}

fn context(out: &mut Map<String, Value>, info: &Option<pb::ContextInfo>) {
    let Some(info) = info else {
        return;
    };
    let mut fields = Map::new();
    put(&mut fields, "stanzaId", info.stanza_id.clone());
    put(&mut fields, "participant", info.participant.clone());
    put(&mut fields, "remoteJid", info.remote_jid.clone());
    if let Some(quoted) = &info.quoted_message {
        fields.insert("quotedMessage".into(), content(quoted));
    }
    if !info.mentioned_jid.is_empty() {
        fields.insert("mentionedJid".into(), json!(info.mentioned_jid));
    }
    put(&mut fields, "forwardingScore", info.forwarding_score);
    put(&mut fields, "isForwarded", info.is_forwarded);
    put(&mut fields, "expiration", info.expiration);
    out.insert("contextInfo".into(), Value::Object(fields));
}
