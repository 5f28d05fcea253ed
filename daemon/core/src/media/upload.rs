//! The pure half of sending an attachment (PROTOCOL.md 10.6): the server's size limits (from
//! `Props`, section 3.3), the `mediaConn` reply, the upload URL for each host, the media host's
//! answer, and the content message that announces the uploaded file.
//!
//! ```text
//! ["Props",{"imageMaxKBytes":1024,"media":64,"maxFileSize":100}] -> Limits::from_props
//! {"status":200,"media_conn":{"auth":"A","ttl":3600,"hosts":[{"hostname":"mmg.whatsapp.net"}]}}
//!     -> MediaConn::from_reply
//! upload_url("mmg.whatsapp.net", Image, sha256(enc‖mac), "A")
//!     -> https://mmg.whatsapp.net/mms/image/<base64url>?auth=A&token=<base64url>
//! {"url":"https://mmg.whatsapp.net/d/f/…","direct_path":"/d/f/…"} -> Uploaded::from_reply
//! ```

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use waweb_proto::SendMediaKind;
use waweb_proto::message::MediaKind;

use super::{Encrypted, MediaType};
use crate::message::{MediaInfo, pb};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// The message type a file sent as `kind` goes in (a voice note is an audio).
pub fn media_kind(kind: SendMediaKind) -> MediaKind {
    match kind {
        SendMediaKind::Image => MediaKind::Image,
        SendMediaKind::Video => MediaKind::Video,
        SendMediaKind::Audio | SendMediaKind::Voice => MediaKind::Audio,
        SendMediaKind::Document => MediaKind::Document,
        SendMediaKind::Sticker => MediaKind::Sticker,
    }
}

/// The type whose keys and upload path a file sent as `kind` gets.
pub fn media_type(kind: SendMediaKind) -> MediaType {
    MediaType::from(media_kind(kind))
}

/// The size limits of the server's `Props` push, in bytes. `Props` gives `imageMaxKBytes` in
/// KiB, `media` (videos, audio, voice notes, stickers) and `maxFileSize` (documents) in MiB.
///
/// `{"imageMaxKBytes":1024,"media":64,"maxFileSize":100}`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Images (`imageMaxKBytes`).
    pub image: u64,
    /// Videos, audio, voice notes and stickers (`media`).
    pub media: u64,
    /// Documents (`maxFileSize`).
    pub document: u64,
    /// A group subject's length in characters (`maxSubject`), which the same push sets.
    pub group_subject: u64,
    /// A group description's length in characters (`groupDescLength`).
    pub group_description: u64,
}

impl Default for Limits {
    /// What the service announced in its last years (PROTOCOL.md 3.3), for a session that has
    /// not seen `Props` yet.
    fn default() -> Self {
        Limits {
            image: 1024 * KIB,
            media: 64 * MIB,
            document: 100 * MIB,
            group_subject: 25,
            group_description: 512,
        }
    }
}

/// A file over the server's limit for its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {kind} is {size} bytes; the server's limit ({prop}) is {limit} bytes")]
pub struct TooLarge {
    /// The kind's name.
    pub kind: &'static str,
    /// The file's size.
    pub size: u64,
    /// The limit.
    pub limit: u64,
    /// The `Props` key the limit comes from.
    pub prop: &'static str,
}

impl Limits {
    /// The limits of a `Props` body; a key that is missing or not a positive number keeps its
    /// value from `self`.
    pub fn with_props(self, props: &Value) -> Limits {
        let read = |key: &str, unit: u64, old: u64| {
            props
                .get(key)
                .and_then(|value| {
                    value
                        .as_u64()
                        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
                })
                .filter(|&value| value > 0)
                .map_or(old, |value: u64| value.saturating_mul(unit))
        };
        Limits {
            image: read("imageMaxKBytes", KIB, self.image),
            media: read("media", MIB, self.media),
            document: read("maxFileSize", MIB, self.document),
            group_subject: read("maxSubject", 1, self.group_subject),
            group_description: read("groupDescLength", 1, self.group_description),
        }
    }

    /// The limit for `kind` and the `Props` key it comes from.
    pub fn limit(&self, kind: SendMediaKind) -> (u64, &'static str) {
        match kind {
            SendMediaKind::Image => (self.image, "imageMaxKBytes"),
            SendMediaKind::Document => (self.document, "maxFileSize"),
            SendMediaKind::Video
            | SendMediaKind::Audio
            | SendMediaKind::Voice
            | SendMediaKind::Sticker => (self.media, "media"),
        }
    }

    /// Whether a file of `size` bytes may be sent as `kind`.
    pub fn check(&self, kind: SendMediaKind, size: u64) -> Result<(), TooLarge> {
        let (limit, prop) = self.limit(kind);
        if size > limit {
            return Err(TooLarge {
                kind: kind.as_str(),
                size,
                limit,
                prop,
            });
        }
        Ok(())
    }
}

/// Why a `mediaConn` reply or an upload answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `mediaConn` answered with a failure status.
    #[error("mediaConn answered {0}")]
    Status(u16),
    /// A field is missing or of the wrong type.
    #[error("the {what} has no {field}")]
    Missing {
        /// `mediaConn reply` or `upload answer`.
        what: &'static str,
        /// The field.
        field: &'static str,
    },
}

/// The upload hosts and their credential (`["query","mediaConn"]`'s reply), valid for `ttl`.
///
/// `{"auth":"A","ttl":3600,"hosts":[{"hostname":"mmg.whatsapp.net","ips":[]}]}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConn {
    /// The `auth` query value.
    pub auth: String,
    /// How long it may be used (the reply's `ttl`, seconds).
    pub ttl: Duration,
    /// `hostname` of each host, in the server's order: tried one after the other.
    pub hosts: Vec<String>,
}

impl MediaConn {
    /// Reads the whole reply, `{"status":200,"media_conn":{…}}`.
    pub fn from_reply(reply: &Value) -> Result<MediaConn, Error> {
        if let Some(status) = reply.get("status").and_then(Value::as_u64)
            && status != 200
        {
            return Err(Error::Status(u16::try_from(status).unwrap_or(u16::MAX)));
        }
        let missing = |field| Error::Missing {
            what: "mediaConn reply",
            field,
        };
        let conn = reply.get("media_conn").ok_or(missing("media_conn"))?;
        let auth = conn
            .get("auth")
            .and_then(Value::as_str)
            .filter(|auth| !auth.is_empty())
            .ok_or(missing("auth"))?;
        let hosts: Vec<String> = conn
            .get("hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|host| host.get("hostname").and_then(Value::as_str))
            .filter(|host| !host.is_empty())
            .map(str::to_owned)
            .collect();
        if hosts.is_empty() {
            return Err(missing("hosts"));
        }
        let ttl = conn.get("ttl").and_then(Value::as_u64).unwrap_or(0);
        Ok(MediaConn {
            auth: auth.to_owned(),
            ttl: Duration::from_secs(ttl),
            hosts,
        })
    }
}

/// The upload path of a type (PROTOCOL.md 10.6 step 3): stickers go with images.
pub fn upload_path(kind: MediaType) -> &'static str {
    match kind {
        MediaType::Image | MediaType::Sticker => "/mms/image",
        MediaType::Video => "/mms/video",
        MediaType::Audio => "/mms/audio",
        MediaType::Document => "/mms/document",
    }
}

/// `<scheme>://<host>/mms/<type>/<token>?auth=<auth>&token=<token>`, token being the unpadded
/// base64url of `file_enc_sha256` (B's form; URL-safe, so it needs no escaping). `auth` must
/// already be percent-encoded.
pub fn upload_url(
    scheme: &str,
    host: &str,
    kind: MediaType,
    file_enc_sha256: &[u8; 32],
    auth_encoded: &str,
) -> String {
    let token = URL_SAFE_NO_PAD.encode(file_enc_sha256);
    format!(
        "{scheme}://{host}{}/{token}?auth={auth_encoded}&token={token}",
        upload_path(kind)
    )
}

/// Where the media host put the file: the answer to a successful upload.
///
/// `{"url":"https://mmg.whatsapp.net/d/f/Ab.enc","direct_path":"/d/f/Ab.enc"}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The download URL for the message.
    pub url: String,
    /// The host-independent path, when the host gave one.
    pub direct_path: Option<String>,
}

impl Uploaded {
    /// Reads the host's JSON answer; without a `url` it is unusable (B then tries the next host).
    pub fn from_reply(reply: &Value) -> Result<Uploaded, Error> {
        let url = reply
            .get("url")
            .and_then(Value::as_str)
            .filter(|url| !url.is_empty())
            .ok_or(Error::Missing {
                what: "upload answer",
                field: "url",
            })?;
        let direct_path = reply
            .get("direct_path")
            .and_then(Value::as_str)
            .filter(|path| !path.is_empty())
            .map(str::to_owned);
        Ok(Uploaded {
            url: url.to_owned(),
            direct_path,
        })
    }
}

/// Everything the content message of an uploaded file says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// What it is sent as.
    pub kind: SendMediaKind,
    /// Where it was uploaded.
    pub uploaded: Uploaded,
    /// The media key (32 bytes).
    pub media_key: Vec<u8>,
    /// The hashes and the length of the encryption.
    pub encrypted: Encrypted,
    /// When the media key was made, unix seconds.
    pub media_key_timestamp: i64,
    /// MIME type.
    pub mimetype: String,
    /// Caption (images and videos).
    pub caption: Option<String>,
    /// A document's file name.
    pub file_name: Option<String>,
    /// Pixels, when known.
    pub width: Option<u32>,
    /// Pixels, when known.
    pub height: Option<u32>,
    /// A small JPEG (images, videos, documents).
    pub jpeg_thumbnail: Option<Vec<u8>>,
    /// A video that plays as a GIF.
    pub gif: bool,
}

impl Attachment {
    /// The content message (PROTOCOL.md 9.4, 10.2): the fields every attachment has, as a
    /// received one is built ([`MediaInfo::to_content`]), plus what only a sender sets.
    pub fn to_content(&self) -> pb::Message {
        let mut content = MediaInfo {
            kind: media_kind(self.kind),
            url: Some(self.uploaded.url.clone()),
            direct_path: self.uploaded.direct_path.clone(),
            media_key: self.media_key.clone(),
            mimetype: Some(self.mimetype.clone()),
            file_sha256: self.encrypted.file_sha256.to_vec(),
            file_enc_sha256: self.encrypted.file_enc_sha256.to_vec(),
            file_length: self.encrypted.file_length,
            caption: self.caption.clone(),
            width: self.width,
            height: self.height,
            seconds: None,
        }
        .to_content();
        let timestamp = Some(self.media_key_timestamp);
        if let Some(m) = content.image_message.as_mut() {
            m.media_key_timestamp = timestamp;
            m.jpeg_thumbnail = self.jpeg_thumbnail.clone();
        }
        if let Some(m) = content.video_message.as_mut() {
            m.media_key_timestamp = timestamp;
            m.jpeg_thumbnail = self.jpeg_thumbnail.clone();
            m.gif_playback = self.gif.then_some(true);
        }
        if let Some(m) = content.audio_message.as_mut() {
            m.media_key_timestamp = timestamp;
            m.ptt = (self.kind == SendMediaKind::Voice).then_some(true);
        }
        if let Some(m) = content.document_message.as_mut() {
            m.media_key_timestamp = timestamp;
            m.title = self.file_name.clone();
            m.file_name = self.file_name.clone();
            m.jpeg_thumbnail = self.jpeg_thumbnail.clone();
        }
        if let Some(m) = content.sticker_message.as_mut() {
            m.media_key_timestamp = timestamp;
        }
        content
    }
}

#[cfg(test)]
#[path = "upload_tests.rs"]
mod tests;
