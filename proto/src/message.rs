//! The payload of the `message` event (DESIGN.md section 4), and the `media` object that scripts
//! hand back to `media_download`.
//!
//! One received or sent chat message, flattened from the protocol's `WebMessageInfo` so scripts
//! never see protobuf:
//!
//! ```json
//! {"id":"3EB0A38DBC008F49C0BC","chat":"4915100000000@s.whatsapp.net","from_me":false,"participant":null,"timestamp":1600000000,"push_name":"Contact 0","kind":"text","text":"hi","media":null,"source":"live"}
//! ```
//!
//! Presence rules, chosen so `jq` filters need no `// empty` guards for the common fields:
//! the fields of DESIGN.md section 4 (`id` … `media`) and `source` are always written (absent
//! values as `null`); the fields of section 7.3 (`quoted`, `mentions`, `forwarded`, `location`,
//! `contacts`, `ephemeral_s`, `raw`) are left out when the message has none (`forwarded` when
//! false, `mentions` when empty), so the common text message stays one short line. In [`Media`]
//! the identifying and integrity fields are always written, while `caption`, `width`, `height`,
//! `seconds`, `file_name`, `thumbnail`, `voice` and `gif` are left out when absent or false.
//! Reading is lenient wherever writing may leave out or write `null`, so any object this module
//! writes reads back unchanged, and rows stored before a field existed still read.

use serde::{Deserialize, Serialize};

/// One chat message as the `message` event reports it.
///
/// ```json
/// {"id":"3EB0C431C26A1916E9F6","chat":"4915100000000-1600000000@g.us","from_me":false,"participant":"4915100000000@s.whatsapp.net","timestamp":1600000000,"push_name":"Contact 0","kind":"image","text":null,"media":{"kind":"image","url":"https://mmg.whatsapp.net/d/f/Ab.enc","direct_path":"/v/t62.7118-24/1_2_3.enc","media_key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","mimetype":"image/jpeg","file_sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","file_enc_sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","file_length":0,"caption":"look","width":640,"height":480},"source":"live","quoted":{"id":"3A0B","chat":"4915100000000-1600000000@g.us","participant":"4915100000001@s.whatsapp.net","kind":"text","text":"where?"},"mentions":["4915100000001@s.whatsapp.net"],"forwarded":true}
/// ```
///
/// Build one with [`Message::new`] and struct update syntax, so fields added later do not break
/// the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The message id, opaque: ids from phones and from web clients look different.
    ///
    /// `"id":"3EB0A38DBC008F49C0BC"`
    pub id: String,
    /// The chat the message belongs to: the other person, or the group, never `@c.us`.
    ///
    /// `"chat":"4915100000000@s.whatsapp.net"`
    pub chat: String,
    /// Whether the message was written by this account (on the phone or through this daemon),
    /// so scripts can skip their own echoes.
    ///
    /// `"from_me":true`
    pub from_me: bool,
    /// Who wrote it inside a group chat; `null` outside groups, where `chat` is the author.
    ///
    /// `"participant":"4915100000001@s.whatsapp.net"`
    #[serde(default)]
    pub participant: Option<String>,
    /// When the message was sent, in unix seconds as the server stamped it; 0 when it had no
    /// timestamp.
    ///
    /// `"timestamp":1600000000`
    pub timestamp: u64,
    /// The display name the sender chose for themselves (not the address-book name); `null`
    /// when the message carried none, as own messages usually do.
    ///
    /// `"push_name":"Contact 0"`
    #[serde(default)]
    pub push_name: Option<String>,
    /// What the message mainly is, so scripts can dispatch without probing fields.
    ///
    /// `"kind":"text"`
    pub kind: MessageKind,
    /// The text body of a text message; `null` for everything else (a media caption lives in
    /// `media.caption`, so a script printing `text` never prints captions as if they were chat).
    ///
    /// `"text":"hi"`
    #[serde(default)]
    pub text: Option<String>,
    /// The attachment of an image, video, audio, document or sticker message; `null` otherwise.
    ///
    /// `"media":{"kind":"audio","url":null,"direct_path":"/v/t62/a.enc","media_key":"AAEC","mimetype":"audio/ogg; codecs=opus","file_sha256":"","file_enc_sha256":"","file_length":3,"seconds":2}`
    #[serde(default)]
    pub media: Option<Media>,
    /// How the daemon came to see it: relayed now, from a history batch, re-sent as an update,
    /// or a status (story). Always written.
    ///
    /// `"source":"history"`
    #[serde(default)]
    pub source: Source,
    /// The message this one replies to, as the reply quoted it; left out when it quotes nothing.
    ///
    /// `"quoted":{"id":"3A0B","chat":"4915100000000@s.whatsapp.net","participant":null,"kind":"text","text":"where?"}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted: Option<Quoted>,
    /// The JIDs the message mentions (`@<digits>` in its text); left out when empty.
    ///
    /// `"mentions":["4915100000001@s.whatsapp.net"]`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Whether the sender forwarded it from elsewhere; left out when false.
    ///
    /// `"forwarded":true`
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forwarded: bool,
    /// The place of a location message (static or live); left out otherwise.
    ///
    /// `"location":{"latitude":52.52,"longitude":13.405,"name":"Berlin","address":null}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The cards of a contact message, one or several; left out otherwise.
    ///
    /// `"contacts":[{"display_name":"Alice","vcard":"BEGIN:VCARD\nVERSION:3.0\nFN:Alice\nEND:VCARD"}]`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// The chat's disappearing-message timer in seconds, as the message carried it; left out
    /// when the chat has none.
    ///
    /// `"ephemeral_s":604800`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_s: Option<u32>,
    /// For `kind: "other"` only: the whole `WebMessageInfo` as the server sent it, standard
    /// base64, so content the daemon does not map is not lost; left out otherwise.
    ///
    /// `"raw":"CgYKBDFAZy51"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl Message {
    /// A message with only its identity and kind: not from us, no participant, timestamp 0,
    /// no text or media, `source: live`, nothing quoted. Set the rest with struct update
    /// syntax: `Message { text: Some("hi".into()), ..Message::new(id, chat, MessageKind::Text) }`.
    pub fn new(id: impl Into<String>, chat: impl Into<String>, kind: MessageKind) -> Self {
        Self {
            id: id.into(),
            chat: chat.into(),
            from_me: false,
            participant: None,
            timestamp: 0,
            push_name: None,
            kind,
            text: None,
            media: None,
            source: Source::Live,
            quoted: None,
            mentions: Vec::new(),
            forwarded: false,
            location: None,
            contacts: Vec::new(),
            ephemeral_s: None,
            raw: None,
        }
    }
}

/// How a message reached the daemon (DESIGN.md 7.3), so a bot can answer only what is new.
///
/// `"source":"live"`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `"live"`: relayed as it was sent (`add="relay"`), or our own send once the server took
    /// it; also what a stored row from before this field existed reads as.
    #[default]
    Live,
    /// `"history"`: from a login-time or history batch (`add="last"`, `"before"`, `"after"`,
    /// `"unread"`) or a history query: the bot may have seen it before.
    History,
    /// `"update"`: an existing message re-sent with changes (`add="update"`: a new media URL, a
    /// live location's next position).
    Update,
    /// `"status"`: a status (story) posted to `status@broadcast`.
    Status,
}

impl Source {
    /// The name as on the wire: `Source::History.as_str() == "history"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Live => "live",
            Source::History => "history",
            Source::Update => "update",
            Source::Status => "status",
        }
    }
}

/// The quoted message of a reply, as the reply carried it (ContextInfo, PROTOCOL.md 9.4).
///
/// `{"id":"3A0B","chat":"4915100000000@s.whatsapp.net","participant":"4915100000001@s.whatsapp.net","kind":"text","text":"where?"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quoted {
    /// The quoted message's id.
    pub id: String,
    /// Its chat: the reply's own chat unless the quote names another.
    pub chat: String,
    /// Its author when the reply names one (always in groups); `null` otherwise.
    #[serde(default)]
    pub participant: Option<String>,
    /// What it is, from the quoted content the reply embeds; `other` when it embeds none.
    pub kind: MessageKind,
    /// Its text body (or a media caption, the only words a quoted attachment has); `null`
    /// when it has none.
    #[serde(default)]
    pub text: Option<String>,
}

/// A shared place (`locationMessage` or `liveLocationMessage`).
///
/// `{"latitude":52.52,"longitude":13.405,"name":"Berlin","address":"Pariser Platz"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Degrees north; `null` when the message had none or not a finite number.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Degrees east; `null` like `latitude`.
    #[serde(default)]
    pub longitude: Option<f64>,
    /// The place's name; `null` when not given.
    #[serde(default)]
    pub name: Option<String>,
    /// Its address; `null` when not given.
    #[serde(default)]
    pub address: Option<String>,
}

/// One shared contact card.
///
/// `{"display_name":"Alice","vcard":"BEGIN:VCARD\nVERSION:3.0\nFN:Alice\nEND:VCARD"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The name shown for the card; `null` when not given.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The vCard text; `null` when not given.
    #[serde(default)]
    pub vcard: Option<String>,
}

/// What a message mainly is, written in `snake_case`.
///
/// `"kind":"location"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Plain or extended text (quotes, mentions, link previews): `"text"`.
    Text,
    /// A photo, `media` set: `"image"`.
    Image,
    /// A video or GIF, `media` set: `"video"`.
    Video,
    /// An audio file or voice note, `media` set: `"audio"`.
    Audio,
    /// Any other file, `media` set: `"document"`.
    Document,
    /// A sticker, `media` set: `"sticker"`.
    Sticker,
    /// A static or live location: `"location"`.
    Location,
    /// One contact card or several: `"contact"`.
    Contact,
    /// Anything else (revokes, group notices, payments, templates…): `"other"`; the daemon
    /// still reports it so nothing is dropped silently.
    Other,
}

impl MessageKind {
    /// Every kind, in declaration order.
    pub const ALL: [MessageKind; 9] = [
        MessageKind::Text,
        MessageKind::Image,
        MessageKind::Video,
        MessageKind::Audio,
        MessageKind::Document,
        MessageKind::Sticker,
        MessageKind::Location,
        MessageKind::Contact,
        MessageKind::Other,
    ];

    /// The name as on the wire: `MessageKind::Image.as_str() == "image"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Image => "image",
            MessageKind::Video => "video",
            MessageKind::Audio => "audio",
            MessageKind::Document => "document",
            MessageKind::Sticker => "sticker",
            MessageKind::Location => "location",
            MessageKind::Contact => "contact",
            MessageKind::Other => "other",
        }
    }
}

impl From<MediaKind> for MessageKind {
    /// A message is of the kind of its attachment.
    fn from(kind: MediaKind) -> Self {
        match kind {
            MediaKind::Image => Self::Image,
            MediaKind::Video => Self::Video,
            MediaKind::Audio => Self::Audio,
            MediaKind::Document => Self::Document,
            MediaKind::Sticker => Self::Sticker,
        }
    }
}

/// Which kind of attachment a [`Media`] is; its own type (not [`MessageKind`]) so that
/// `media_download` refuses `"kind":"text"` while parsing its params, and because the kind
/// selects the key-derivation string the file was encrypted with (PROTOCOL.md section 10.1).
///
/// `"kind":"sticker"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// `"image"`: an `imageMessage`.
    Image,
    /// `"video"`: a `videoMessage`, GIFs included.
    Video,
    /// `"audio"`: an `audioMessage`, voice notes included.
    Audio,
    /// `"document"`: a `documentMessage`.
    Document,
    /// `"sticker"`: a `stickerMessage` (encrypted like an image).
    Sticker,
}

/// Everything needed to download and verify one attachment, as the message carried it.
///
/// Byte strings are standard base64 with padding (`""` when the message had none, which is what
/// an absent protobuf `bytes` field means). `url`, `direct_path` and `mimetype` are written as
/// `null` when absent and may be omitted when read, since either URL alone can locate the file.
/// `media_key`, the two hashes and `file_length` must be present when read: they are what makes
/// a download verifiable. When read back for `media_download`, `media_key` may also be URL-safe
/// base64; the daemon decodes it.
///
/// ```json
/// {"kind":"video","url":"https://mmg.whatsapp.net/d/f/Ab.enc","direct_path":"/v/t62.7161-24/1.enc","media_key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","mimetype":"video/mp4","file_sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","file_enc_sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","file_length":1024,"caption":"clip","width":320,"height":240,"seconds":7}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Which message type carried it, which also picks the decryption keys.
    ///
    /// `"kind":"image"`
    pub kind: MediaKind,
    /// The full download URL; it expires after a while, when `direct_path` still works.
    ///
    /// `"url":"https://mmg.whatsapp.net/d/f/Ab.enc"`
    #[serde(default)]
    pub url: Option<String>,
    /// The host-independent path of the file, to be joined with a current media host.
    ///
    /// `"direct_path":"/v/t62.7118-24/1_2_3.enc"`
    #[serde(default)]
    pub direct_path: Option<String>,
    /// The per-file key (32 bytes) the file is encrypted with, base64.
    ///
    /// `"media_key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="`
    pub media_key: String,
    /// The file's MIME type as the sender declared it.
    ///
    /// `"mimetype":"image/jpeg"`
    #[serde(default)]
    pub mimetype: Option<String>,
    /// SHA-256 of the decrypted file, base64: checked after decryption.
    ///
    /// `"file_sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="`
    pub file_sha256: String,
    /// SHA-256 of the downloaded (encrypted) body, base64: checked before decryption.
    ///
    /// `"file_enc_sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="`
    pub file_enc_sha256: String,
    /// Length of the decrypted file in bytes; 0 when the message did not say.
    ///
    /// `"file_length":1024`
    pub file_length: u64,
    /// The caption under an image or video; left out when there is none.
    ///
    /// `"caption":"look"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Width in pixels of an image, video or sticker; left out when not given.
    ///
    /// `"width":640`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels of an image, video or sticker; left out when not given.
    ///
    /// `"height":480`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Duration in seconds of a video or audio; left out when not given.
    ///
    /// `"seconds":7`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
    /// A document's file name as the sender gave it; left out when there is none.
    ///
    /// `"file_name":"report.pdf"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// An audio recorded as a voice note (push-to-talk); left out when false.
    ///
    /// `"voice":true`
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub voice: bool,
    /// The small inline preview (a JPEG, or a sticker's PNG), standard base64; left out when
    /// the message has none.
    ///
    /// `"thumbnail":"/9j/4AAQSkZJRg=="`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    /// A video to be played as a looping GIF; left out when false.
    ///
    /// `"gif":true`
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gif: bool,
}

impl Media {
    /// An attachment with its identifying and integrity fields only (byte fields already
    /// base64) and every optional field absent; set the rest with struct update syntax.
    pub fn new(
        kind: MediaKind,
        media_key: String,
        file_sha256: String,
        file_enc_sha256: String,
        file_length: u64,
    ) -> Self {
        Self {
            kind,
            url: None,
            direct_path: None,
            media_key,
            mimetype: None,
            file_sha256,
            file_enc_sha256,
            file_length,
            caption: None,
            width: None,
            height: None,
            seconds: None,
            file_name: None,
            voice: false,
            thumbnail: None,
            gif: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn media() -> Media {
        Media {
            url: Some("https://mmg.whatsapp.net/d/f/Ab.enc".into()),
            direct_path: Some("/v/t62.7118-24/1_2_3.enc".into()),
            mimetype: Some("image/jpeg".into()),
            caption: Some("look".into()),
            width: Some(640),
            height: Some(480),
            ..Media::new(
                MediaKind::Image,
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
                "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
                "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
                1024,
            )
        }
    }

    fn text_message() -> Message {
        Message {
            timestamp: 1_600_000_000,
            push_name: Some("Contact 0".into()),
            text: Some("hi".into()),
            ..Message::new(
                "3EB0A38DBC008F49C0BC",
                "4915100000000@s.whatsapp.net",
                MessageKind::Text,
            )
        }
    }

    /// A reply with every field of DESIGN.md 7.3 set.
    fn full_message() -> Message {
        Message {
            participant: Some("4915100000001@s.whatsapp.net".into()),
            kind: MessageKind::Document,
            text: None,
            media: Some(Media {
                file_name: Some("report.pdf".into()),
                voice: true,
                thumbnail: Some("/9j/4AAQ".into()),
                gif: true,
                seconds: Some(3),
                ..media()
            }),
            source: Source::History,
            quoted: Some(Quoted {
                id: "3A0B".into(),
                chat: "4915100000000-1600000000@g.us".into(),
                participant: None,
                kind: MessageKind::Text,
                text: Some("where?".into()),
            }),
            mentions: vec!["4915100000002@s.whatsapp.net".into()],
            forwarded: true,
            location: Some(Location {
                latitude: Some(52.52),
                longitude: Some(-13.405),
                name: Some("Berlin".into()),
                address: None,
            }),
            contacts: vec![Contact {
                display_name: Some("Alice".into()),
                vcard: None,
            }],
            ephemeral_s: Some(604_800),
            raw: Some("CgYKBDFAZy51".into()),
            chat: "4915100000000-1600000000@g.us".into(),
            ..text_message()
        }
    }

    #[test]
    fn text_message_shape_has_every_field_with_nulls() {
        let value = serde_json::to_value(text_message()).unwrap();
        assert_eq!(
            value,
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
                "source": "live",
            })
        );
    }

    #[test]
    fn receiving_fields_are_written_where_present() {
        let value = serde_json::to_value(full_message()).unwrap();
        assert_eq!(value["source"], "history");
        assert_eq!(
            value["quoted"],
            json!({"id": "3A0B", "chat": "4915100000000-1600000000@g.us", "participant": null,
                   "kind": "text", "text": "where?"})
        );
        assert_eq!(value["mentions"], json!(["4915100000002@s.whatsapp.net"]));
        assert_eq!(value["forwarded"], true);
        assert_eq!(
            value["location"],
            json!({"latitude": 52.52, "longitude": -13.405, "name": "Berlin", "address": null})
        );
        assert_eq!(
            value["contacts"],
            json!([{"display_name": "Alice", "vcard": null}])
        );
        assert_eq!(value["ephemeral_s"], 604_800);
        assert_eq!(value["raw"], "CgYKBDFAZy51");
        let media = &value["media"];
        assert_eq!(
            (
                &media["file_name"],
                &media["voice"],
                &media["thumbnail"],
                &media["gif"]
            ),
            (
                &json!("report.pdf"),
                &json!(true),
                &json!("/9j/4AAQ"),
                &json!(true)
            )
        );
    }

    #[test]
    fn a_row_stored_before_source_existed_reads_as_live() {
        let old = json!({
            "id": "A", "chat": "4915100000000@s.whatsapp.net", "from_me": true,
            "participant": null, "timestamp": 1, "push_name": null, "kind": "text",
            "text": "hi", "media": null,
        });
        let message: Message = serde_json::from_value(old).unwrap();
        assert_eq!(message.source, Source::Live);
        assert!(message.mentions.is_empty() && !message.forwarded && message.quoted.is_none());
        for (source, name) in [
            (Source::Live, "live"),
            (Source::History, "history"),
            (Source::Update, "update"),
            (Source::Status, "status"),
        ] {
            assert_eq!(serde_json::to_value(source).unwrap(), json!(name));
        }
    }

    #[test]
    fn media_shape_uses_design_names_and_skips_absent_extras() {
        let value = serde_json::to_value(media()).unwrap();
        assert_eq!(
            value,
            json!({
                "kind": "image",
                "url": "https://mmg.whatsapp.net/d/f/Ab.enc",
                "direct_path": "/v/t62.7118-24/1_2_3.enc",
                "media_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                "mimetype": "image/jpeg",
                "file_sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                "file_enc_sha256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
                "file_length": 1024,
                "caption": "look",
                "width": 640,
                "height": 480,
            })
        );

        let bare = Media {
            url: None,
            direct_path: None,
            mimetype: None,
            caption: None,
            width: None,
            height: None,
            ..media()
        };
        let value = serde_json::to_value(bare).unwrap();
        // Sorted: the map's order depends on whether some crate enables `preserve_order`.
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "direct_path",
                "file_enc_sha256",
                "file_length",
                "file_sha256",
                "kind",
                "media_key",
                "mimetype",
                "url"
            ]
        );
        assert_eq!(value["url"], serde_json::Value::Null);
    }

    #[test]
    fn every_kind_is_snake_case() {
        let kinds = [
            (MessageKind::Text, "text"),
            (MessageKind::Image, "image"),
            (MessageKind::Video, "video"),
            (MessageKind::Audio, "audio"),
            (MessageKind::Document, "document"),
            (MessageKind::Sticker, "sticker"),
            (MessageKind::Location, "location"),
            (MessageKind::Contact, "contact"),
            (MessageKind::Other, "other"),
        ];
        for (kind, name) in kinds {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(name));
            assert_eq!(
                serde_json::from_value::<MessageKind>(json!(name)).unwrap(),
                kind
            );
        }
        let media_kinds = [
            MediaKind::Image,
            MediaKind::Video,
            MediaKind::Audio,
            MediaKind::Document,
            MediaKind::Sticker,
        ];
        for kind in media_kinds {
            let as_message = serde_json::to_value(MessageKind::from(kind)).unwrap();
            assert_eq!(serde_json::to_value(kind).unwrap(), as_message);
        }
        assert!(serde_json::from_value::<MediaKind>(json!("text")).is_err());
    }

    #[test]
    fn what_is_written_reads_back() {
        let with_media = Message {
            kind: MessageKind::Image,
            text: None,
            participant: Some("4915100000001@s.whatsapp.net".into()),
            media: Some(media()),
            ..text_message()
        };
        for message in [text_message(), with_media, full_message()] {
            let line = serde_json::to_string(&message).unwrap();
            assert_eq!(serde_json::from_str::<Message>(&line).unwrap(), message);
        }
    }

    #[test]
    fn a_hand_written_media_object_may_omit_optional_fields() {
        let media: Media = serde_json::from_value(json!({
            "kind": "audio",
            "direct_path": "/v/t62/a.enc",
            "media_key": "AAEC-_8=",
            "file_sha256": "",
            "file_enc_sha256": "",
            "file_length": 3,
        }))
        .unwrap();
        assert_eq!(media.kind, MediaKind::Audio);
        assert_eq!(media.url, None);
        assert_eq!(media.mimetype, None);
        assert_eq!(media.media_key, "AAEC-_8=");
        assert_eq!(media.seconds, None);
    }

    #[test]
    fn a_media_object_without_its_key_is_refused() {
        let missing_key = json!({
            "kind": "image",
            "url": "https://mmg.whatsapp.net/d/f/Ab.enc",
            "file_sha256": "",
            "file_enc_sha256": "",
            "file_length": 3,
        });
        assert!(serde_json::from_value::<Media>(missing_key).is_err());
    }
}
