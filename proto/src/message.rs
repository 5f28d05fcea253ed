//! The payload of the `message` event (DESIGN.md section 4), and the `media` object that scripts
//! hand back to `media_download`.
//!
//! One received or sent chat message, flattened from the protocol's `WebMessageInfo` so scripts
//! never see protobuf:
//!
//! ```json
//! {"id":"3EB0A38DBC008F49C0BC","chat":"4915100000000@s.whatsapp.net","from_me":false,"participant":null,"timestamp":1600000000,"push_name":"Contact 0","kind":"text","text":"hi","media":null}
//! ```
//!
//! Presence rules, chosen so `jq` filters need no `// empty` guards for the common fields:
//! every field of [`Message`] is always written (absent values as `null`); in [`Media`] the
//! identifying and integrity fields are always written, while `caption`, `width`, `height` and
//! `seconds` are left out when the message has none (DESIGN.md: "where present"). Reading is
//! lenient wherever writing may write `null`, so any object this module writes reads back
//! unchanged.

use serde::{Deserialize, Serialize};

/// One chat message as the `message` event reports it.
///
/// ```json
/// {"id":"3EB0C431C26A1916E9F6","chat":"4915100000000-1600000000@g.us","from_me":false,"participant":"4915100000000@s.whatsapp.net","timestamp":1600000000,"push_name":"Contact 0","kind":"image","text":null,"media":{"kind":"image","url":"https://mmg.whatsapp.net/d/f/Ab.enc","direct_path":"/v/t62.7118-24/1_2_3.enc","media_key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","mimetype":"image/jpeg","file_sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","file_enc_sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","file_length":0,"caption":"look","width":640,"height":480}}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn media() -> Media {
        Media {
            kind: MediaKind::Image,
            url: Some("https://mmg.whatsapp.net/d/f/Ab.enc".into()),
            direct_path: Some("/v/t62.7118-24/1_2_3.enc".into()),
            media_key: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
            mimetype: Some("image/jpeg".into()),
            file_sha256: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
            file_enc_sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
            file_length: 1024,
            caption: Some("look".into()),
            width: Some(640),
            height: Some(480),
            seconds: None,
        }
    }

    fn text_message() -> Message {
        Message {
            id: "3EB0A38DBC008F49C0BC".into(),
            chat: "4915100000000@s.whatsapp.net".into(),
            from_me: false,
            participant: None,
            timestamp: 1_600_000_000,
            push_name: Some("Contact 0".into()),
            kind: MessageKind::Text,
            text: Some("hi".into()),
            media: None,
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
            })
        );
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
        for message in [text_message(), with_media] {
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
