//! `send_media` (DESIGN.md 7.1): a file from the daemon's disk, encrypted as it is read, uploaded
//! to the server's media host and announced in a message that goes through the outbox like every
//! send.
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"send_media","params":{"to":"4915100000001","kind":"image","path":"/home/ada/cat.jpg","caption":"look"}}
//! {"jsonrpc":"2.0","id":1,"result":{"id":"3EB0C0FFEE12345678AB","status":200,"t":1600000000,"media":{"kind":"image","url":"https://mmg.whatsapp.net/d/f/Ab.enc","direct_path":"/d/f/Ab.enc","media_key":"AAEC…","mimetype":"image/jpeg","file_sha256":"47DE…","file_enc_sha256":"n4bQ…","file_length":48213,"caption":"look","width":640,"height":480}}}
//! ```

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::message::Media;
use crate::send::{SendCommon, SendTextResult, SendWait, send_params};

/// What a file is sent as.
///
/// `"kind":"voice"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendMediaKind {
    /// A picture (`imageMessage`), with a JPEG thumbnail where one can be made.
    Image,
    /// A video (`videoMessage`); `gif` makes it play as a GIF.
    Video,
    /// An audio file (`audioMessage`).
    Audio,
    /// A voice note (`audioMessage` with `ptt`).
    Voice,
    /// Any file (`documentMessage`), shown with its `file_name`.
    Document,
    /// A sticker (`stickerMessage`), a WebP.
    Sticker,
}

impl SendMediaKind {
    /// Every kind, in DESIGN.md's order.
    pub const ALL: [SendMediaKind; 6] = [
        SendMediaKind::Image,
        SendMediaKind::Video,
        SendMediaKind::Audio,
        SendMediaKind::Voice,
        SendMediaKind::Document,
        SendMediaKind::Sticker,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SendMediaKind::Image => "image",
            SendMediaKind::Video => "video",
            SendMediaKind::Audio => "audio",
            SendMediaKind::Voice => "voice",
            SendMediaKind::Document => "document",
            SendMediaKind::Sticker => "sticker",
        }
    }
}

impl fmt::Display for SendMediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

send_params! {
    /// The params of `send_media`. `quote` and `mentions` go into the attachment's
    /// `contextInfo`, as a text's do.
    ///
    /// `{"to":"4915100000001","kind":"document","path":"/home/ada/report.pdf","file_name":"report.pdf","idempotency_key":"report-3"}`
    SendMediaParams to {
        /// What the file is sent as.
        ///
        /// `"kind":"image"`
        pub kind: SendMediaKind,
        /// The file, as an absolute path the daemon can read; never inside the daemon's state or
        /// socket directory, directly or through a symlink.
        ///
        /// `"path":"/home/ada/cat.jpg"`
        pub path: PathBuf,
        /// The text under an image or video.
        ///
        /// `"caption":"look"`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub caption: Option<String>,
        /// The name a document is shown with; default: the file's own name.
        ///
        /// `"file_name":"report.pdf"`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file_name: Option<String>,
        /// The MIME type; default: guessed from the file's first bytes, then its extension.
        ///
        /// `"mimetype":"application/pdf"`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mimetype: Option<String>,
        /// A video that plays like a GIF (muted, looping).
        ///
        /// `"gif":true`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub gif: Option<bool>,
    }
}

impl SendMediaParams {
    /// `path` sent to `to` as `kind`, with the defaults.
    pub fn new(to: impl Into<String>, kind: SendMediaKind, path: impl Into<PathBuf>) -> Self {
        SendMediaParams {
            to: to.into(),
            kind,
            path: path.into(),
            caption: None,
            file_name: None,
            mimetype: None,
            gif: None,
            quote: None,
            mentions: None,
            idempotency_key: None,
            wait: None,
            timeout_ms: None,
        }
    }
}

/// The result of `send_media`: `send_text`'s, plus the attachment as a `message` event shows
/// it, and why there is no thumbnail where one was expected.
///
/// `{"id":"3EB0C0FFEE","status":200,"t":1600000000,"media":{"kind":"video",…},"thumbnail_skipped":"no video frame can be decoded without an external tool"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMediaResult {
    /// `id`, `status` and `t`, as `send_text` returns them.
    #[serde(flatten)]
    pub sent: SendTextResult,
    /// The attachment the message carries.
    ///
    /// `"media":{"kind":"image","url":"https://mmg.whatsapp.net/d/f/Ab.enc",…}`
    pub media: Media,
    /// Set when an image or video went without a thumbnail, saying why.
    ///
    /// `"thumbnail_skipped":"no video frame can be decoded without an external tool"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_skipped: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::send::SendStatus;

    #[test]
    fn params_read_every_kind_and_refuse_strangers() {
        for kind in SendMediaKind::ALL {
            let params: SendMediaParams = serde_json::from_value(
                json!({"to": "491", "kind": kind.as_str(), "path": "/tmp/x"}),
            )
            .unwrap();
            assert_eq!(params, SendMediaParams::new("491", kind, "/tmp/x"));
        }
        for bad in [
            json!({"to": "491", "kind": "gif", "path": "/tmp/x"}),
            json!({"to": "491", "kind": "image"}),
            json!({"to": "491", "kind": "image", "path": "/tmp/x", "colour": 1}),
        ] {
            assert!(serde_json::from_value::<SendMediaParams>(bad).is_err());
        }
    }

    #[test]
    fn the_result_is_send_texts_with_the_media() {
        let media: Media = serde_json::from_value(json!({
            "kind": "video", "url": "https://h/d/1", "direct_path": "/d/1", "media_key": "AA==",
            "mimetype": "video/mp4", "file_sha256": "AQ==", "file_enc_sha256": "Ag==", "file_length": 3
        }))
        .unwrap();
        let result = SendMediaResult {
            sent: SendTextResult {
                id: "3EB0".into(),
                status: SendStatus::Server(200),
                t: Some(1_600_000_000),
            },
            media,
            thumbnail_skipped: Some("why".into()),
        };
        let value = serde_json::to_value(&result).unwrap();
        assert_eq!(value["id"], "3EB0");
        assert_eq!(value["status"], 200);
        assert_eq!(value["t"], 1_600_000_000);
        assert_eq!(value["media"]["kind"], "video");
        assert_eq!(value["thumbnail_skipped"], "why");
        let back: SendMediaResult = serde_json::from_value(value).unwrap();
        assert_eq!(back, result);
    }
}
