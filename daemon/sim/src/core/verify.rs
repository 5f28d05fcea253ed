//! The phone checks every attachment a client relays, as a receiving phone would before showing
//! it (PROTOCOL.md 10.3): fetch the blob the message's `url` names from the media host's store,
//! check `fileEncSha256` over the whole body, the MAC, decrypt, then `fileSha256` and
//! `fileLength`. The verdict goes on the `received` line: `"media_ok":true`, or `false` with
//! `"media_error"` saying which check failed.
//!
//! ```text
//! imageMessage{url:".../d/7-Ab", mediaKey, fileSha256, fileEncSha256, fileLength}
//!     -> blob 7-Ab -> sha256(body) == fileEncSha256 -> HMAC ok -> AES-CBC -> sha256, length ok
//! ```

use waweb_core::crypto;
use waweb_core::media::{self, Expected, MediaKeys, MediaType};
use waweb_core::message::{self, pb};

use crate::media_host::Store;

/// The verdict on a message's attachment, or `None` when it has none.
pub(super) fn verify(store: &Store, info: &pb::WebMessageInfo) -> Option<Result<(), String>> {
    let content = message::unwrap_content(info.message.as_ref()?);
    let media = message::media_of(content)?;
    Some(check(store, &media))
}

fn check(store: &Store, media: &message::MediaInfo) -> Result<(), String> {
    let kind = MediaType::from(media.kind);
    let url = media.url.as_deref().ok_or("the message has no url")?;
    let keys = MediaKeys::derive(&media.media_key, kind).map_err(|error| error.to_string())?;
    let hash = |field: &str, bytes: &[u8]| {
        <[u8; 32]>::try_from(bytes).map_err(|_| format!("{field} is not 32 bytes"))
    };
    let file_enc_sha256 = hash("fileEncSha256", &media.file_enc_sha256)?;
    let file_sha256 = hash("fileSha256", &media.file_sha256)?;
    if media.file_length == 0 {
        return Err("the message has no fileLength".into());
    }
    if media.mimetype.as_deref().is_none_or(str::is_empty) {
        return Err("the message has no mimetype".into());
    }
    store.with_blob(url, |body| {
        if crypto::sha256(body) != file_enc_sha256 {
            return Err("fileEncSha256 does not match the uploaded body".to_owned());
        }
        let expected = Expected {
            file_sha256: Some(file_sha256),
            file_enc_sha256: None,
            file_length: Some(media.file_length),
        };
        media::decrypt(&keys, body, &expected)
            .map(drop)
            .map_err(|error| error.to_string())
    })?
}
