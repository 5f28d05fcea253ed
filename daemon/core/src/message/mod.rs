//! Chat messages: the `WebMessageInfo` protobuf (PROTOCOL.md section 9) turned into the
//! `message` event of the socket protocol (DESIGN.md section 4), and built for sending.
//!
//! Pure: bytes and values in, bytes and values out. The connection decides when a relayed
//! `message` node is decoded and what happens when it does not decode.
//!
//! JIDs: inside this daemon and in every event, people are `<digits>@s.whatsapp.net` and groups
//! `<id>@g.us` (PROTOCOL.md 8.7). [`normalize_jid`] brings the `@c.us` spelling of JSON frames
//! and some binary decoders into that form; [`jid_for_json_command`] turns it back for the JSON
//! commands that want `@c.us`.

pub mod pb;

use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT,
};
use prost::Message as _;
use waweb_proto::message::{Media, MediaKind, Message as Event, MessageKind};

/// The canonical server part of a person's JID.
pub const USER_SERVER: &str = "s.whatsapp.net";
/// The legacy spelling of [`USER_SERVER`] used by JSON frames.
pub const LEGACY_USER_SERVER: &str = "c.us";
/// The server part of a group's JID.
pub const GROUP_SERVER: &str = "g.us";

/// E.164 caps a phone number at 15 digits; anything longer is a typo or a pasted id, and
/// refusing it early beats sending to a JID nobody has.
const MAX_PHONE_DIGITS: usize = 15;
/// The shortest international numbers (small countries) still have a country code and several
/// subscriber digits; fewer digits is a typo such as a missing country code.
const MIN_PHONE_DIGITS: usize = 5;

/// Why a message could not be decoded or interpreted, or a recipient was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The bytes are not a `WebMessageInfo` (truncated, wrong wire types, bad UTF-8, nesting
    /// deeper than prost's recursion limit).
    #[error("not a WebMessageInfo: {0}")]
    Decode(#[from] prost::DecodeError),
    /// `key` is required by the schema and without it the message belongs to no chat.
    #[error("WebMessageInfo has no key")]
    MissingKey,
    /// A key without a chat or an id cannot be reported or answered.
    #[error("message key has no {0}")]
    MissingKeyField(&'static str),
    /// `send_text`'s `to` is neither a phone number nor a person's or group's JID.
    #[error("{to:?} is not a phone number or a person's or group's JID: {reason}")]
    BadRecipient {
        /// What was given.
        to: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A byte field of a `media` object is not base64.
    #[error("media field {0} is not base64")]
    BadBase64(&'static str),
}

/// Decodes relayed `WebMessageInfo` bytes (the content of a `message` node).
///
/// Never panics, whatever the bytes: prost bounds allocations by the input length and nesting by
/// its recursion limit. A message without `key` is refused here rather than later because the
/// schema makes it required and nothing downstream could place it in a chat.
pub fn decode_web_message_info(bytes: &[u8]) -> Result<pb::WebMessageInfo, Error> {
    let info = pb::WebMessageInfo::decode(bytes)?;
    if info.key.is_none() {
        return Err(Error::MissingKey);
    }
    Ok(info)
}

/// Encodes a `WebMessageInfo` for a `message` node; fields come out in tag order, as every
/// protobuf writer emits them, so the bytes match other clients' for the same content.
pub fn encode(info: &pb::WebMessageInfo) -> Vec<u8> {
    info.encode_to_vec()
}

/// The content a reader should look at: view-once and disappearing messages wrap the real
/// content in a `FutureProofMessage` (possibly both, one inside the other).
pub fn unwrap_content(message: &pb::Message) -> &pb::Message {
    let mut current = message;
    loop {
        let inner = [&current.ephemeral_message, &current.view_once_message]
            .into_iter()
            .flatten()
            .find_map(|wrapper| wrapper.message.as_deref());
        match inner {
            Some(inner) => current = inner,
            None => return current,
        }
    }
}

/// Interprets a message as the `message` event reports it (PROTOCOL.md 9.5).
///
/// `text` is the text body only (`conversation` or `extendedTextMessage.text`); a caption is part
/// of the attachment and goes to `media.caption`. Empty strings for participant and push name are
/// reported as absent, since some senders write empty fields rather than leaving them out.
/// A message without a timestamp reports 0 rather than failing: the content is still worth
/// delivering.
pub fn to_event(info: &pb::WebMessageInfo) -> Result<Event, Error> {
    into_event(info.clone())
}

/// [`to_event`] for a message that is not needed afterwards: its strings move into the event
/// instead of being copied, which is what the receive path wants.
pub fn into_event(info: pb::WebMessageInfo) -> Result<Event, Error> {
    let pb::WebMessageInfo {
        key,
        message,
        message_timestamp,
        participant,
        push_name,
        ..
    } = info;
    let key = key.ok_or(Error::MissingKey)?;
    let chat = take_non_empty(key.remote_jid).ok_or(Error::MissingKeyField("remoteJid"))?;
    let id = take_non_empty(key.id).ok_or(Error::MissingKeyField("id"))?;
    let participant = take_non_empty(participant)
        .or(take_non_empty(key.participant))
        .map(normalize_jid_owned);
    let mut content = message.map(unwrap_content_owned);
    let media = content.as_ref().and_then(media_of);
    let kind = match (&media, &content) {
        (Some(media), _) => MessageKind::from(media.kind),
        (None, Some(content)) => kind_without_media(content),
        (None, None) => MessageKind::Other,
    };
    Ok(Event {
        id,
        chat: normalize_jid_owned(chat),
        from_me: key.from_me.unwrap_or(false),
        participant,
        timestamp: message_timestamp.unwrap_or(0),
        push_name: take_non_empty(push_name),
        kind,
        text: content.as_mut().and_then(take_text),
        media: media.map(|media| media.to_event()),
    })
}

fn take_non_empty(field: Option<String>) -> Option<String> {
    field.filter(|value| !value.is_empty())
}

/// [`normalize_jid`] without a copy when the JID is already canonical (the common case).
fn normalize_jid_owned(jid: String) -> String {
    if jid.ends_with(LEGACY_USER_SERVER) {
        normalize_jid(&jid)
    } else {
        jid
    }
}

fn unwrap_content_owned(message: pb::Message) -> pb::Message {
    if std::ptr::eq(unwrap_content(&message), &message) {
        message
    } else {
        unwrap_content(&message).clone()
    }
}

fn take_text(content: &mut pb::Message) -> Option<String> {
    content.conversation.take().or_else(|| {
        content
            .extended_text_message
            .as_mut()
            .and_then(|extended| extended.text.take())
    })
}

fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|value| !value.is_empty())
}

fn text_of(content: &pb::Message) -> Option<&str> {
    content.conversation.as_deref().or_else(|| {
        content
            .extended_text_message
            .as_ref()
            .and_then(|extended| extended.text.as_deref())
    })
}

fn kind_without_media(content: &pb::Message) -> MessageKind {
    if content.location_message.is_some() || content.live_location_message.is_some() {
        MessageKind::Location
    } else if content.contact_message.is_some() || content.contacts_array_message.is_some() {
        MessageKind::Contact
    } else if text_of(content).is_some() {
        MessageKind::Text
    } else {
        MessageKind::Other
    }
}

/// An attachment with its byte fields as bytes: what a message carries, what `media_download`
/// needs, and what a simulator puts into the messages it sends.
///
/// The counterpart of [`waweb_proto::message::Media`], which carries the same with base64 text.
/// Byte fields absent from the protobuf are empty here, as proto2 defines them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    /// Which message type carries it, which also picks the key-derivation string.
    pub kind: MediaKind,
    /// Full download URL; expires.
    pub url: Option<String>,
    /// Host-independent path; survives URL expiry.
    pub direct_path: Option<String>,
    /// The per-file key (32 bytes when valid).
    pub media_key: Vec<u8>,
    /// MIME type as the sender declared it.
    pub mimetype: Option<String>,
    /// SHA-256 of the plaintext.
    pub file_sha256: Vec<u8>,
    /// SHA-256 of the uploaded body (`enc ‖ mac`).
    pub file_enc_sha256: Vec<u8>,
    /// Plaintext length; 0 when not given.
    pub file_length: u64,
    /// Image or video caption.
    pub caption: Option<String>,
    /// Pixels (image, video, sticker).
    pub width: Option<u32>,
    /// Pixels (image, video, sticker).
    pub height: Option<u32>,
    /// Duration (video, audio).
    pub seconds: Option<u32>,
}

/// The attachment of already unwrapped content: the first of image, video, audio, document and
/// sticker (PROTOCOL.md 9.5 step 3), or `None` for content without one.
pub fn media_of(content: &pb::Message) -> Option<MediaInfo> {
    fn bytes(field: &Option<Vec<u8>>) -> Vec<u8> {
        field.clone().unwrap_or_default()
    }
    fn text(field: &Option<String>) -> Option<String> {
        non_empty(field).map(str::to_owned)
    }
    if let Some(m) = &content.image_message {
        return Some(MediaInfo {
            kind: MediaKind::Image,
            url: text(&m.url),
            direct_path: text(&m.direct_path),
            media_key: bytes(&m.media_key),
            mimetype: text(&m.mimetype),
            file_sha256: bytes(&m.file_sha256),
            file_enc_sha256: bytes(&m.file_enc_sha256),
            file_length: m.file_length.unwrap_or(0),
            caption: text(&m.caption),
            width: m.width,
            height: m.height,
            seconds: None,
        });
    }
    if let Some(m) = &content.video_message {
        return Some(MediaInfo {
            kind: MediaKind::Video,
            url: text(&m.url),
            direct_path: text(&m.direct_path),
            media_key: bytes(&m.media_key),
            mimetype: text(&m.mimetype),
            file_sha256: bytes(&m.file_sha256),
            file_enc_sha256: bytes(&m.file_enc_sha256),
            file_length: m.file_length.unwrap_or(0),
            caption: text(&m.caption),
            width: m.width,
            height: m.height,
            seconds: m.seconds,
        });
    }
    if let Some(m) = &content.audio_message {
        return Some(MediaInfo {
            kind: MediaKind::Audio,
            url: text(&m.url),
            direct_path: text(&m.direct_path),
            media_key: bytes(&m.media_key),
            mimetype: text(&m.mimetype),
            file_sha256: bytes(&m.file_sha256),
            file_enc_sha256: bytes(&m.file_enc_sha256),
            file_length: m.file_length.unwrap_or(0),
            caption: None,
            width: None,
            height: None,
            seconds: m.seconds,
        });
    }
    if let Some(m) = &content.document_message {
        return Some(MediaInfo {
            kind: MediaKind::Document,
            url: text(&m.url),
            direct_path: text(&m.direct_path),
            media_key: bytes(&m.media_key),
            mimetype: text(&m.mimetype),
            file_sha256: bytes(&m.file_sha256),
            file_enc_sha256: bytes(&m.file_enc_sha256),
            file_length: m.file_length.unwrap_or(0),
            caption: None,
            width: None,
            height: None,
            seconds: None,
        });
    }
    if let Some(m) = &content.sticker_message {
        return Some(MediaInfo {
            kind: MediaKind::Sticker,
            url: text(&m.url),
            direct_path: text(&m.direct_path),
            media_key: bytes(&m.media_key),
            mimetype: text(&m.mimetype),
            file_sha256: bytes(&m.file_sha256),
            file_enc_sha256: bytes(&m.file_enc_sha256),
            file_length: m.file_length.unwrap_or(0),
            caption: None,
            width: m.width,
            height: m.height,
            seconds: None,
        });
    }
    None
}

impl MediaInfo {
    /// The `media` object of the event: byte fields as standard base64 with padding, the form
    /// WhatsApp's own tools print hashes in.
    pub fn to_event(&self) -> Media {
        Media {
            kind: self.kind,
            url: self.url.clone(),
            direct_path: self.direct_path.clone(),
            media_key: STANDARD.encode(&self.media_key),
            mimetype: self.mimetype.clone(),
            file_sha256: STANDARD.encode(&self.file_sha256),
            file_enc_sha256: STANDARD.encode(&self.file_enc_sha256),
            file_length: self.file_length,
            caption: self.caption.clone(),
            width: self.width,
            height: self.height,
            seconds: self.seconds,
        }
    }

    /// Reads a `media` object a script handed back (`media_download`). Byte fields may be
    /// standard or URL-safe base64, padded or not, because scripts pass keys through URLs and
    /// shells that mangle `+`, `/` and `=`. Lengths are not checked here: that is the downloader's
    /// business, which knows what it needs.
    pub fn from_event(media: &Media) -> Result<Self, Error> {
        Ok(Self {
            kind: media.kind,
            url: media.url.clone(),
            direct_path: media.direct_path.clone(),
            media_key: lenient_base64("media_key", &media.media_key)?,
            mimetype: media.mimetype.clone(),
            file_sha256: lenient_base64("file_sha256", &media.file_sha256)?,
            file_enc_sha256: lenient_base64("file_enc_sha256", &media.file_enc_sha256)?,
            file_length: media.file_length,
            caption: media.caption.clone(),
            width: media.width,
            height: media.height,
            seconds: media.seconds,
        })
    }

    /// The content message carrying this attachment, for a simulator or a future sender. The
    /// fields a kind does not have (a document's caption, an audio's width) are dropped, as the
    /// schema has nowhere to put them.
    pub fn to_content(&self) -> pb::Message {
        let media_key = Some(self.media_key.clone());
        let file_sha256 = Some(self.file_sha256.clone());
        let file_enc_sha256 = Some(self.file_enc_sha256.clone());
        let file_length = Some(self.file_length);
        let url = self.url.clone();
        let direct_path = self.direct_path.clone();
        let mimetype = self.mimetype.clone();
        let mut content = pb::Message::default();
        match self.kind {
            MediaKind::Image => {
                content.image_message = Some(Box::new(pb::ImageMessage {
                    url,
                    direct_path,
                    mimetype,
                    media_key,
                    file_sha256,
                    file_enc_sha256,
                    file_length,
                    caption: self.caption.clone(),
                    width: self.width,
                    height: self.height,
                    ..Default::default()
                }));
            }
            MediaKind::Video => {
                content.video_message = Some(Box::new(pb::VideoMessage {
                    url,
                    direct_path,
                    mimetype,
                    media_key,
                    file_sha256,
                    file_enc_sha256,
                    file_length,
                    caption: self.caption.clone(),
                    width: self.width,
                    height: self.height,
                    seconds: self.seconds,
                    ..Default::default()
                }));
            }
            MediaKind::Audio => {
                content.audio_message = Some(Box::new(pb::AudioMessage {
                    url,
                    direct_path,
                    mimetype,
                    media_key,
                    file_sha256,
                    file_enc_sha256,
                    file_length,
                    seconds: self.seconds,
                    ..Default::default()
                }));
            }
            MediaKind::Document => {
                content.document_message = Some(Box::new(pb::DocumentMessage {
                    url,
                    direct_path,
                    mimetype,
                    media_key,
                    file_sha256,
                    file_enc_sha256,
                    file_length,
                    ..Default::default()
                }));
            }
            MediaKind::Sticker => {
                content.sticker_message = Some(Box::new(pb::StickerMessage {
                    url,
                    direct_path,
                    mimetype,
                    media_key,
                    file_sha256,
                    file_enc_sha256,
                    file_length,
                    width: self.width,
                    height: self.height,
                    ..Default::default()
                }));
            }
        }
        content
    }
}

fn lenient_base64(field: &'static str, text: &str) -> Result<Vec<u8>, Error> {
    STANDARD_PAD_INDIFFERENT
        .decode(text)
        .or_else(|_| URL_SAFE_PAD_INDIFFERENT.decode(text))
        .map_err(|_| Error::BadBase64(field))
}

/// Brings a JID into the canonical form of events and protobuf keys: `@c.us` becomes
/// `@s.whatsapp.net`; groups (`@g.us`), `status@broadcast` and anything unrecognised are left
/// alone, because rewriting what we do not understand would only hide it.
pub fn normalize_jid(jid: &str) -> String {
    match jid.strip_suffix(LEGACY_USER_SERVER) {
        Some(user) if user.ends_with('@') => format!("{user}{USER_SERVER}"),
        _ => jid.to_owned(),
    }
}

/// The spelling JSON commands use: `@s.whatsapp.net` becomes `@c.us` (the official client's
/// form; PROTOCOL.md 8.7), everything else is unchanged.
pub fn jid_for_json_command(jid: &str) -> String {
    match jid.strip_suffix(USER_SERVER) {
        Some(user) if user.ends_with('@') => format!("{user}{LEGACY_USER_SERVER}"),
        _ => jid.to_owned(),
    }
}

/// Turns `send_text`'s `to` into the JID to put into `key.remoteJid` (DESIGN.md 4.1).
///
/// Accepted: a phone number in international form, digits with optional spaces, dashes and
/// parentheses and one leading `+` (`+49 151 2345-678` → `491512345678@s.whatsapp.net`);
/// `<digits>@s.whatsapp.net`; `<digits>@c.us` (rewritten, since the server refuses `@c.us` in
/// `remoteJid`); `<digits and dashes>@g.us`. A person's number must have 5 to 15 digits (E.164),
/// which catches a forgotten country code or a pasted id before anything is sent to a JID
/// nobody has. Everything else, letters and broadcast lists included, is refused.
pub fn parse_recipient(to: &str) -> Result<String, Error> {
    let refuse = |reason| Error::BadRecipient {
        to: to.to_owned(),
        reason,
    };
    let trimmed = to.trim();
    if let Some((user, server)) = trimmed.split_once('@') {
        return match server {
            USER_SERVER | LEGACY_USER_SERVER => {
                if !user.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(refuse("a person's JID has only digits before the @"));
                }
                check_phone_digits(user.len()).map_err(refuse)?;
                Ok(format!("{user}@{USER_SERVER}"))
            }
            GROUP_SERVER => {
                let well_formed = user.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                    && user.starts_with(|c: char| c.is_ascii_digit())
                    && user.ends_with(|c: char| c.is_ascii_digit());
                if !well_formed {
                    return Err(refuse(
                        "a group's JID has digits and dashes before the @, starting and ending with a digit",
                    ));
                }
                Ok(format!("{user}@{GROUP_SERVER}"))
            }
            _ => Err(refuse(
                "the part after @ must be s.whatsapp.net, c.us or g.us",
            )),
        };
    }
    let number = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut digits = String::with_capacity(number.len());
    for c in number.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' => {}
            _ => {
                return Err(refuse(
                    "a phone number has digits, spaces, dashes, parentheses and one leading +",
                ));
            }
        }
    }
    check_phone_digits(digits.len()).map_err(refuse)?;
    Ok(format!("{digits}@{USER_SERVER}"))
}

fn check_phone_digits(count: usize) -> Result<(), &'static str> {
    if count < MIN_PHONE_DIGITS {
        Err("too few digits for an international phone number (country code missing?)")
    } else if count > MAX_PHONE_DIGITS {
        Err("more than 15 digits, longer than any phone number")
    } else {
        Ok(())
    }
}

/// A fresh message id in the official web client's format: `3EB0` and 16 uppercase hex digits
/// (8 random bytes), so our messages look like any other web client's (PROTOCOL.md 8.4).
pub fn new_message_id() -> String {
    use std::fmt::Write as _;
    let mut random = [0u8; 8];
    crate::crypto::fill_random(&mut random);
    let mut id = String::with_capacity(20);
    id.push_str("3EB0");
    for byte in random {
        let _ = write!(id, "{byte:02X}");
    }
    id
}

/// The `WebMessageInfo` of a text this account sends (PROTOCOL.md 8.4): `fromMe`, status
/// PENDING, plain `conversation` content. `remote_jid` must already be canonical
/// (`@s.whatsapp.net` or `@g.us`, see [`parse_recipient`]) since the server refuses `@c.us`.
pub fn text_message(
    remote_jid: &str,
    id: &str,
    text: &str,
    timestamp_s: u64,
) -> pb::WebMessageInfo {
    pb::WebMessageInfo {
        key: Some(pb::MessageKey {
            remote_jid: Some(remote_jid.to_owned()),
            from_me: Some(true),
            id: Some(id.to_owned()),
            participant: None,
        }),
        message: Some(pb::Message {
            conversation: Some(text.to_owned()),
            ..Default::default()
        }),
        message_timestamp: Some(timestamp_s),
        status: Some(pb::WebMessageInfoStatus::Pending.into()),
        ..Default::default()
    }
}

/// The `WebMessageInfo` of a text someone else sent, as the server relays it: what a simulator
/// pushes to the client.
///
/// `participant` is the author when `remote_jid` is a group; it goes into both the message and
/// its key, as the server fills both for group messages.
pub fn incoming_text(
    remote_jid: &str,
    id: &str,
    text: &str,
    timestamp_s: u64,
    push_name: Option<&str>,
    participant: Option<&str>,
) -> pb::WebMessageInfo {
    let content = pb::Message {
        conversation: Some(text.to_owned()),
        ..Default::default()
    };
    incoming(remote_jid, id, content, timestamp_s, push_name, participant)
}

/// The `WebMessageInfo` of an attachment someone else sent, as the server relays it; see
/// [`incoming_text`] for `participant`.
pub fn incoming_media(
    remote_jid: &str,
    id: &str,
    media: &MediaInfo,
    timestamp_s: u64,
    push_name: Option<&str>,
    participant: Option<&str>,
) -> pb::WebMessageInfo {
    incoming(
        remote_jid,
        id,
        media.to_content(),
        timestamp_s,
        push_name,
        participant,
    )
}

fn incoming(
    remote_jid: &str,
    id: &str,
    content: pb::Message,
    timestamp_s: u64,
    push_name: Option<&str>,
    participant: Option<&str>,
) -> pb::WebMessageInfo {
    pb::WebMessageInfo {
        key: Some(pb::MessageKey {
            remote_jid: Some(remote_jid.to_owned()),
            from_me: Some(false),
            id: Some(id.to_owned()),
            participant: participant.map(str::to_owned),
        }),
        message: Some(content),
        message_timestamp: Some(timestamp_s),
        status: Some(pb::WebMessageInfoStatus::ServerAck.into()),
        participant: participant.map(str::to_owned),
        push_name: push_name.map(str::to_owned),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    const FRAMES: &str = include_str!("../../tests/vectors/frames.json");

    /// PROTOCOL.md 8.4's verified bytes.
    const HELLO_WMI: &str = "0a350a1b34393132333435363738393040732e77686174736170702e6e657410011a143345423043343331433236\
                             41313931364539463612070a0548656c6c6f1880a0f8fa052001";

    fn unhex(text: &str) -> Vec<u8> {
        crate::hex::decode(text).unwrap()
    }

    fn vector_wmi(name: &str) -> Vec<u8> {
        let frames: Value = serde_json::from_str(FRAMES).unwrap();
        let frame = frames["frames"]
            .as_array()
            .unwrap()
            .iter()
            .find(|frame| frame["name"] == name)
            .unwrap_or_else(|| panic!("no frame {name:?}"));
        let child = &frame["node"]["content"][0];
        assert_eq!(child["tag"], "message");
        STANDARD
            .decode(child["content"]["base64"].as_str().unwrap())
            .unwrap()
    }

    fn sample_media(kind: MediaKind) -> MediaInfo {
        let (mimetype, caption, size, seconds) = match kind {
            MediaKind::Image => ("image/jpeg", Some("a photo"), Some((640, 480)), None),
            MediaKind::Video => ("video/mp4", Some("a clip"), Some((320, 240)), Some(7)),
            MediaKind::Audio => ("audio/ogg; codecs=opus", None, None, Some(3)),
            MediaKind::Document => ("application/pdf", None, None, None),
            MediaKind::Sticker => ("image/webp", None, Some((512, 512)), None),
        };
        MediaInfo {
            kind,
            url: Some(format!("https://mmg.whatsapp.net/d/f/{kind:?}.enc")),
            direct_path: Some(format!("/v/t62.7118-24/{kind:?}.enc")),
            media_key: (0..32).collect(),
            mimetype: Some(mimetype.to_owned()),
            file_sha256: vec![0xAA; 32],
            file_enc_sha256: vec![0xFB; 32],
            file_length: 123_456,
            caption: caption.map(str::to_owned),
            width: size.map(|(width, _)| width),
            height: size.map(|(_, height)| height),
            seconds,
        }
    }

    const ALL_MEDIA: [MediaKind; 5] = [
        MediaKind::Image,
        MediaKind::Video,
        MediaKind::Audio,
        MediaKind::Document,
        MediaKind::Sticker,
    ];

    #[test]
    fn text_message_encodes_to_the_verified_bytes() {
        let info = text_message(
            "491234567890@s.whatsapp.net",
            "3EB0C431C26A1916E9F6",
            "Hello",
            1_600_000_000,
        );
        let bytes = encode(&info);
        assert_eq!(bytes, unhex(HELLO_WMI));
        assert_eq!(
            bytes.len(),
            72,
            "PROTOCOL.md 8.4 frames it as BINARY_8 0x48"
        );

        let event = to_event(&decode_web_message_info(&bytes).unwrap()).unwrap();
        assert_eq!(event.id, "3EB0C431C26A1916E9F6");
        assert_eq!(event.chat, "491234567890@s.whatsapp.net");
        assert!(event.from_me);
        assert_eq!(event.kind, MessageKind::Text);
        assert_eq!(event.text.as_deref(), Some("Hello"));
        assert_eq!(event.push_name, None);
    }

    #[test]
    fn relayed_vector_messages_decode_to_events() {
        let cases = [
            (
                "relay message",
                "4915100000000",
                "3EB0A38DBC008F49C0BC",
                "hi".to_owned(),
                1_600_000_000,
                "Contact 0",
            ),
            (
                "relay unicode",
                "4915100000001",
                "3EB0B5A63D15468346B9",
                "grüße 👋".to_owned(),
                1_600_000_001,
                "Contact 1",
            ),
            (
                "binary20 content",
                "4915100000002",
                "3EB018048C732DF953CA",
                "x".repeat(300),
                1_600_000_002,
                "Contact 2",
            ),
        ];
        for (name, user, id, text, timestamp, push_name) in cases {
            let bytes = vector_wmi(name);
            let info = decode_web_message_info(&bytes).unwrap();
            assert_eq!(info.status(), pb::WebMessageInfoStatus::ServerAck, "{name}");
            let event = to_event(&info).unwrap();
            let chat = format!("{user}@s.whatsapp.net");
            let expected = Event {
                id: id.to_owned(),
                chat: chat.clone(),
                from_me: false,
                participant: None,
                timestamp,
                push_name: Some(push_name.to_owned()),
                kind: MessageKind::Text,
                text: Some(text.clone()),
                media: None,
            };
            assert_eq!(event, expected, "{name}");

            // The simulator's builder writes exactly what the reference server wrote.
            let rebuilt = incoming_text(&chat, id, &text, timestamp, Some(push_name), None);
            assert_eq!(encode(&rebuilt), bytes, "{name}");
        }
    }

    #[test]
    fn event_json_uses_the_design_names() {
        let event =
            to_event(&decode_web_message_info(&vector_wmi("relay message")).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({
                "id": "3EB0A38DBC008F49C0BC",
                "chat": "4915100000000@s.whatsapp.net",
                "from_me": false,
                "participant": null,
                "timestamp": 1_600_000_000u64,
                "push_name": "Contact 0",
                "kind": "text",
                "text": "hi",
                "media": null,
            })
        );

        let info = incoming_media(
            "4915100000000-1600000000@g.us",
            "3EB0000000000000000A",
            &sample_media(MediaKind::Video),
            1_600_000_100,
            Some("Contact 1"),
            Some("4915100000001@s.whatsapp.net"),
        );
        let value = serde_json::to_value(to_event(&info).unwrap()).unwrap();
        assert_eq!(
            value,
            json!({
                "id": "3EB0000000000000000A",
                "chat": "4915100000000-1600000000@g.us",
                "from_me": false,
                "participant": "4915100000001@s.whatsapp.net",
                "timestamp": 1_600_000_100u64,
                "push_name": "Contact 1",
                "kind": "video",
                "text": null,
                "media": {
                    "kind": "video",
                    "url": "https://mmg.whatsapp.net/d/f/Video.enc",
                    "direct_path": "/v/t62.7118-24/Video.enc",
                    "media_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                    "mimetype": "video/mp4",
                    "file_sha256": STANDARD.encode([0xAA; 32]),
                    "file_enc_sha256": STANDARD.encode([0xFB; 32]),
                    "file_length": 123_456,
                    "caption": "a clip",
                    "width": 320,
                    "height": 240,
                    "seconds": 7,
                },
            })
        );
    }

    #[test]
    fn every_media_kind_round_trips() {
        for kind in ALL_MEDIA {
            let media = sample_media(kind);
            let info = incoming_media(
                "4915100000000@s.whatsapp.net",
                "3AA55DBD30C9CD2FD815",
                &media,
                1_600_000_000,
                Some("Contact 0"),
                None,
            );
            let decoded = decode_web_message_info(&encode(&info)).unwrap();
            assert_eq!(decoded, info, "{kind:?}");
            let event = to_event(&decoded).unwrap();
            assert_eq!(event.kind, MessageKind::from(kind));
            assert_eq!(event.text, None, "{kind:?}: a caption is not the text");
            let reported = event.media.expect("media event");
            assert_eq!(reported, media.to_event(), "{kind:?}");
            assert_eq!(reported.kind, kind);
            assert_eq!(reported.url, media.url);
            assert_eq!(reported.direct_path, media.direct_path);
            assert_eq!(reported.mimetype, media.mimetype);
            assert_eq!(reported.file_length, 123_456);
            assert_eq!(reported.caption, media.caption);
            assert_eq!(
                (reported.width, reported.height),
                (media.width, media.height)
            );
            assert_eq!(reported.seconds, media.seconds);
            assert_eq!(MediaInfo::from_event(&reported).unwrap(), media, "{kind:?}");
        }
    }

    #[test]
    fn sticker_fields_use_their_own_numbers() {
        // Sticker: 2 fileSha256, 3 fileEncSha256, 4 mediaKey, 5 mimetype, 8 directPath, 9 fileLength.
        let sticker = pb::StickerMessage {
            file_sha256: Some(vec![1]),
            file_enc_sha256: Some(vec![2]),
            media_key: Some(vec![3]),
            mimetype: Some("m".into()),
            direct_path: Some("p".into()),
            file_length: Some(4),
            ..Default::default()
        };
        assert_eq!(
            sticker.encode_to_vec(),
            [
                0x12, 1, 1, 0x1a, 1, 2, 0x22, 1, 3, 0x2a, 1, b'm', 0x42, 1, b'p', 0x48, 4
            ]
        );
        let image = pb::ImageMessage {
            file_sha256: Some(vec![1]),
            file_enc_sha256: Some(vec![2]),
            media_key: Some(vec![3]),
            ..Default::default()
        };
        assert_eq!(image.encode_to_vec(), [0x22, 1, 1, 0x42, 1, 3, 0x4a, 1, 2]);
    }

    #[test]
    fn media_key_may_come_back_url_safe_or_unpadded() {
        let media = MediaInfo {
            media_key: vec![0xFB, 0xFF, 0xBF, 0x01],
            ..sample_media(MediaKind::Image)
        };
        let mut object = media.to_event();
        assert_eq!(object.media_key, "+/+/AQ==");
        for spelling in ["+/+/AQ==", "+/+/AQ", "-_-_AQ==", "-_-_AQ"] {
            object.media_key = spelling.to_owned();
            assert_eq!(MediaInfo::from_event(&object).unwrap(), media, "{spelling}");
        }
        object.media_key = "not base64!".to_owned();
        assert_eq!(
            MediaInfo::from_event(&object),
            Err(Error::BadBase64("media_key"))
        );
    }

    #[test]
    fn missing_media_fields_are_empty_or_absent() {
        let content = pb::Message {
            document_message: Some(Box::default()),
            ..Default::default()
        };
        let media = media_of(&content).unwrap().to_event();
        assert_eq!(media.kind, MediaKind::Document);
        assert_eq!(
            (media.url, media.direct_path, media.mimetype),
            (None, None, None)
        );
        assert_eq!(
            (media.media_key.as_str(), media.file_sha256.as_str()),
            ("", "")
        );
        assert_eq!(media.file_length, 0);
    }

    fn wrapped(
        field: fn(&mut pb::Message) -> &mut Option<Box<pb::FutureProofMessage>>,
        inner: pb::Message,
    ) -> pb::Message {
        let mut outer = pb::Message::default();
        *field(&mut outer) = Some(Box::new(pb::FutureProofMessage {
            message: Some(Box::new(inner)),
        }));
        outer
    }

    fn ephemeral(message: &mut pb::Message) -> &mut Option<Box<pb::FutureProofMessage>> {
        &mut message.ephemeral_message
    }

    fn view_once(message: &mut pb::Message) -> &mut Option<Box<pb::FutureProofMessage>> {
        &mut message.view_once_message
    }

    fn with_content(content: pb::Message) -> pb::WebMessageInfo {
        pb::WebMessageInfo {
            message: Some(content),
            ..incoming_text("4915100000000@s.whatsapp.net", "ID", "", 1, None, None)
        }
    }

    fn event_of(content: pb::Message) -> Event {
        let bytes = encode(&with_content(content));
        to_event(&decode_web_message_info(&bytes).unwrap()).unwrap()
    }

    #[test]
    fn ephemeral_and_view_once_are_unwrapped() {
        let text = pb::Message {
            conversation: Some("vanishing".into()),
            ..Default::default()
        };
        let event = event_of(wrapped(ephemeral, text.clone()));
        assert_eq!(
            (event.kind, event.text.as_deref()),
            (MessageKind::Text, Some("vanishing"))
        );

        let image = sample_media(MediaKind::Image);
        let event = event_of(wrapped(view_once, image.to_content()));
        assert_eq!(event.kind, MessageKind::Image);
        assert_eq!(event.media, Some(image.to_event()));

        // A view-once photo in a chat with disappearing messages wears both wrappers.
        let event = event_of(wrapped(ephemeral, wrapped(view_once, image.to_content())));
        assert_eq!(event.media, Some(image.to_event()));

        // An empty wrapper is no content at all, not a crash.
        let empty = pb::Message {
            ephemeral_message: Some(Box::default()),
            ..Default::default()
        };
        assert_eq!(event_of(empty).kind, MessageKind::Other);
    }

    #[test]
    fn kinds_and_texts_of_other_content() {
        let extended = pb::Message {
            extended_text_message: Some(Box::new(pb::ExtendedTextMessage {
                text: Some("see https://example.org".into()),
                matched_text: Some("https://example.org".into()),
                context_info: Some(pb::ContextInfo {
                    stanza_id: Some("3EB0QUOTED".into()),
                    quoted_message: Some(Box::new(pb::Message {
                        conversation: Some("quoted".into()),
                        ..Default::default()
                    })),
                    mentioned_jid: vec!["4915100000001@s.whatsapp.net".into()],
                    ..Default::default()
                }),
                ..Default::default()
            })),
            ..Default::default()
        };
        let event = event_of(extended);
        assert_eq!(event.kind, MessageKind::Text);
        assert_eq!(event.text.as_deref(), Some("see https://example.org"));

        let location = pb::Message {
            location_message: Some(Box::new(pb::LocationMessage {
                degrees_latitude: Some(52.5),
                degrees_longitude: Some(13.4),
                ..Default::default()
            })),
            ..Default::default()
        };
        let live = pb::Message {
            live_location_message: Some(Box::default()),
            ..Default::default()
        };
        let contact = pb::Message {
            contact_message: Some(Box::new(pb::ContactMessage {
                display_name: Some("Ann".into()),
                vcard: Some("BEGIN:VCARD\nEND:VCARD".into()),
                context_info: None,
            })),
            ..Default::default()
        };
        let contacts = pb::Message {
            contacts_array_message: Some(Box::new(pb::ContactsArrayMessage {
                contacts: vec![pb::ContactMessage::default(); 2],
                ..Default::default()
            })),
            ..Default::default()
        };
        let revoke = pb::Message {
            protocol_message: Some(Box::new(pb::ProtocolMessage {
                key: Some(pb::MessageKey {
                    id: Some("3EB0GONE".into()),
                    ..Default::default()
                }),
                r#type: Some(pb::ProtocolMessageType::Revoke.into()),
                ..Default::default()
            })),
            ..Default::default()
        };
        for (content, kind) in [
            (location, MessageKind::Location),
            (live, MessageKind::Location),
            (contact, MessageKind::Contact),
            (contacts, MessageKind::Contact),
            (revoke, MessageKind::Other),
        ] {
            let event = event_of(content);
            assert_eq!(event.kind, kind);
            assert_eq!((event.text, event.media), (None, None), "{kind:?}");
        }

        let stub = pb::WebMessageInfo {
            message: None,
            message_stub_type: Some(pb::WebMessageInfoStubType::GroupParticipantAdd.into()),
            message_stub_parameters: vec!["4915100000003@s.whatsapp.net".into()],
            ..with_content(pb::Message::default())
        };
        let decoded = decode_web_message_info(&encode(&stub)).unwrap();
        assert_eq!(
            decoded.message_stub_type(),
            pb::WebMessageInfoStubType::GroupParticipantAdd
        );
        let event = to_event(&decoded).unwrap();
        assert_eq!(
            (event.kind, event.text, event.media),
            (MessageKind::Other, None, None)
        );
    }

    #[test]
    fn participant_and_chat_are_normalised() {
        let group = incoming_text(
            "4915100000000-1600000000@g.us",
            "ID",
            "hello group",
            1,
            Some("Contact 1"),
            Some("4915100000001@c.us"),
        );
        let event = to_event(&group).unwrap();
        assert_eq!(event.chat, "4915100000000-1600000000@g.us");
        assert_eq!(
            event.participant.as_deref(),
            Some("4915100000001@s.whatsapp.net")
        );

        // Only the key names the author: still reported.
        let mut key_only = group.clone();
        key_only.participant = None;
        let event = to_event(&key_only).unwrap();
        assert_eq!(
            event.participant.as_deref(),
            Some("4915100000001@s.whatsapp.net")
        );

        // The message's own field wins over the key's; empty ones count as absent.
        let mut both = group;
        both.participant = Some("4915100000002@s.whatsapp.net".into());
        assert_eq!(
            to_event(&both).unwrap().participant.as_deref(),
            Some("4915100000002@s.whatsapp.net")
        );
        both.participant = Some(String::new());
        both.key.as_mut().unwrap().participant = Some(String::new());
        both.push_name = Some(String::new());
        let event = to_event(&both).unwrap();
        assert_eq!((event.participant, event.push_name), (None, None));

        let legacy = incoming_text("4915100000000@c.us", "ID", "hi", 1, None, None);
        assert_eq!(
            to_event(&legacy).unwrap().chat,
            "4915100000000@s.whatsapp.net"
        );
    }

    #[test]
    fn keys_are_required() {
        let bytes = encode(&pb::WebMessageInfo {
            message_timestamp: Some(1),
            ..Default::default()
        });
        assert_eq!(decode_web_message_info(&bytes), Err(Error::MissingKey));
        assert_eq!(
            to_event(&pb::WebMessageInfo::default()),
            Err(Error::MissingKey)
        );

        let mut info = incoming_text("4915100000000@s.whatsapp.net", "ID", "hi", 1, None, None);
        info.key.as_mut().unwrap().id = None;
        assert_eq!(to_event(&info), Err(Error::MissingKeyField("id")));
        info.key.as_mut().unwrap().remote_jid = Some(String::new());
        assert_eq!(to_event(&info), Err(Error::MissingKeyField("remoteJid")));

        // No timestamp is reported as 0 rather than losing the message.
        let mut info = incoming_text("4915100000000@s.whatsapp.net", "ID", "hi", 1, None, None);
        info.message_timestamp = None;
        assert_eq!(to_event(&info).unwrap().timestamp, 0);
    }

    #[test]
    fn garbage_is_an_error() {
        for bytes in [
            &b"\x0a"[..],
            b"\x0a\x05\x0a\x03ab",
            b"\xff\xff\xff",
            b"\x0a\x02\x0a\xff",
            b"\x07",
        ] {
            assert!(
                matches!(decode_web_message_info(bytes), Err(Error::Decode(_))),
                "{bytes:?}"
            );
        }
        // Not UTF-8 where the schema says string.
        assert!(matches!(
            decode_web_message_info(b"\x0a\x03\x0a\x01\xff"),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let mut bytes = unhex(HELLO_WMI);
        // Field 99 (varint) and field 29 (a length-delimited PaymentInfo we do not model).
        bytes.extend_from_slice(&[0x98, 0x06, 0x01, 0xea, 0x01, 0x02, 0x08, 0x01]);
        let info = decode_web_message_info(&bytes).unwrap();
        assert_eq!(to_event(&info).unwrap().text.as_deref(), Some("Hello"));
    }

    /// `depth` ephemeral wrappers around a text, as raw bytes, built without recursion.
    fn nested_ephemeral(depth: usize) -> Vec<u8> {
        fn field(tag: &[u8], payload: Vec<u8>) -> Vec<u8> {
            let mut out = tag.to_vec();
            prost::encoding::encode_varint(payload.len() as u64, &mut out);
            out.extend(payload);
            out
        }
        let mut message = field(&[0x0a], b"deep".to_vec());
        for _ in 0..depth {
            message = field(&[0xc2, 0x02], field(&[0x0a], message));
        }
        let mut info = encode(&pb::WebMessageInfo {
            message: None,
            ..incoming_text("4915100000000@s.whatsapp.net", "ID", "", 1, None, None)
        });
        info.extend(field(&[0x12], message));
        info
    }

    #[test]
    fn nesting_is_bounded_without_overflowing_the_stack() {
        let event = to_event(&decode_web_message_info(&nested_ephemeral(40)).unwrap()).unwrap();
        assert_eq!(event.text.as_deref(), Some("deep"));
        for depth in [60, 1_000, 20_000] {
            assert!(matches!(
                decode_web_message_info(&nested_ephemeral(depth)),
                Err(Error::Decode(_))
            ));
        }
    }

    #[test]
    fn recipients_accepted() {
        let cases = [
            ("+49 151 2345-678", "491512345678@s.whatsapp.net"),
            ("+49 (151) 2345 678", "491512345678@s.whatsapp.net"),
            ("  491512345678 ", "491512345678@s.whatsapp.net"),
            ("491512345678", "491512345678@s.whatsapp.net"),
            ("491512345678@s.whatsapp.net", "491512345678@s.whatsapp.net"),
            ("491512345678@c.us", "491512345678@s.whatsapp.net"),
            (
                "4915100000000-1600000000@g.us",
                "4915100000000-1600000000@g.us",
            ),
            ("120363021234567890@g.us", "120363021234567890@g.us"),
            ("12345", "12345@s.whatsapp.net"),
            ("123456789012345", "123456789012345@s.whatsapp.net"),
        ];
        for (to, jid) in cases {
            assert_eq!(parse_recipient(to).as_deref(), Ok(jid), "{to:?}");
        }
    }

    #[test]
    fn recipients_refused() {
        let cases = [
            "",
            "+",
            "1234",
            "1234567890123456",
            "++491512345678",
            "49151+2345678",
            "0049-151.2345678",
            "call me",
            "491512345678x",
            "@s.whatsapp.net",
            "abc@s.whatsapp.net",
            "+491512345678@s.whatsapp.net",
            "49 151@c.us",
            "491512345678@whatsapp.net",
            "491512345678@S.WHATSAPP.NET",
            "status@broadcast",
            "@g.us",
            "-123@g.us",
            "123-@g.us",
            "12a3@g.us",
            "1@2@g.us",
        ];
        for to in cases {
            let result = parse_recipient(to);
            assert!(
                matches!(&result, Err(Error::BadRecipient { to: given, .. }) if given == to),
                "{to:?} gave {result:?}"
            );
        }
    }

    #[test]
    fn jid_spellings() {
        assert_eq!(normalize_jid("491@c.us"), "491@s.whatsapp.net");
        assert_eq!(normalize_jid("491@s.whatsapp.net"), "491@s.whatsapp.net");
        assert_eq!(normalize_jid("491-160@g.us"), "491-160@g.us");
        assert_eq!(normalize_jid("status@broadcast"), "status@broadcast");
        assert_eq!(normalize_jid("491@notc.us"), "491@notc.us");
        assert_eq!(jid_for_json_command("491@s.whatsapp.net"), "491@c.us");
        assert_eq!(jid_for_json_command("491@c.us"), "491@c.us");
        assert_eq!(jid_for_json_command("491-160@g.us"), "491-160@g.us");
        assert_eq!(jid_for_json_command("status@broadcast"), "status@broadcast");
    }

    #[test]
    fn message_ids_look_like_the_web_clients() {
        let id = new_message_id();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("3EB0"));
        assert!(
            id[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert_ne!(new_message_id(), id);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(info) = decode_web_message_info(&bytes) {
                let _ = to_event(&info);
            }
        }

        /// Random bytes rarely get past the first tag; corrupting a real message reaches the
        /// nested decoders.
        #[test]
        fn corrupted_messages_never_panic(
            kind in 0usize..5,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in any::<usize>(),
        ) {
            let info = incoming_media(
                "4915100000000-1600000000@g.us",
                "ID",
                &sample_media(ALL_MEDIA[kind]),
                1,
                Some("Contact 0"),
                Some("4915100000001@s.whatsapp.net"),
            );
            let mut bytes = encode(&info);
            for (at, value) in edits {
                let at = at % bytes.len();
                bytes[at] = value;
            }
            bytes.truncate(cut % (bytes.len() + 1));
            if let Ok(info) = decode_web_message_info(&bytes) {
                let _ = to_event(&info);
            }
        }

        #[test]
        fn texts_round_trip(text in ".{0,200}", timestamp in any::<u64>(), from_me in any::<bool>()) {
            let info = if from_me {
                text_message("4915100000000@s.whatsapp.net", "3EB0", &text, timestamp)
            } else {
                incoming_text("4915100000000@s.whatsapp.net", "3EB0", &text, timestamp, Some("n"), None)
            };
            let event = to_event(&decode_web_message_info(&encode(&info)).unwrap()).unwrap();
            prop_assert_eq!(event.from_me, from_me);
            prop_assert_eq!(event.timestamp, timestamp);
            prop_assert_eq!(event.text.as_deref(), Some(text.as_str()));
        }
    }
}
