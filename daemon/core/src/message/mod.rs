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

pub mod compose;
pub mod pb;
mod receive;

pub use receive::{Received, STATUS_CHAT, interpret, into_event, media_of, receive, to_event};

use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT,
};
use prost::Message as _;
use waweb_proto::message::{Media, MediaKind};

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

impl MediaInfo {
    /// The `media` object of the event: byte fields as standard base64 with padding, the form
    /// WhatsApp's own tools print hashes in.
    pub fn to_event(&self) -> Media {
        Media {
            url: self.url.clone(),
            direct_path: self.direct_path.clone(),
            mimetype: self.mimetype.clone(),
            caption: self.caption.clone(),
            width: self.width,
            height: self.height,
            seconds: self.seconds,
            ..Media::new(
                self.kind,
                STANDARD.encode(&self.media_key),
                STANDARD.encode(&self.file_sha256),
                STANDARD.encode(&self.file_enc_sha256),
                self.file_length,
            )
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

/// Whether a canonical JID is a group's (`<id>@g.us`).
pub fn is_group(jid: &str) -> bool {
    jid.strip_suffix(GROUP_SERVER)
        .is_some_and(|user| user.ends_with('@'))
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

/// The `WebMessageInfo` of a text this account sends (PROTOCOL.md 8.4): plain `conversation`
/// content; see [`outgoing`].
pub fn text_message(
    remote_jid: &str,
    id: &str,
    text: &str,
    timestamp_s: u64,
) -> pb::WebMessageInfo {
    let content = pb::Message {
        conversation: Some(text.to_owned()),
        ..Default::default()
    };
    outgoing(remote_jid, id, content, timestamp_s)
}

/// The `WebMessageInfo` of a message this account sends (PROTOCOL.md 8.4): `fromMe`, status
/// PENDING, the given content. `remote_jid` must already be canonical (`@s.whatsapp.net` or
/// `@g.us`, see [`parse_recipient`]) since the server refuses `@c.us`.
pub fn outgoing(
    remote_jid: &str,
    id: &str,
    content: pb::Message,
    timestamp_s: u64,
) -> pb::WebMessageInfo {
    pb::WebMessageInfo {
        key: Some(pb::MessageKey {
            remote_jid: Some(remote_jid.to_owned()),
            from_me: Some(true),
            id: Some(id.to_owned()),
            participant: None,
        }),
        message: Some(content),
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

/// The `WebMessageInfo` of any content someone else sent, as the server relays it; see
/// [`incoming_text`] for `participant`.
pub fn incoming(
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
mod tests;
