//! `media_download`: fetch the blob from the media host, verify its MAC (and the hashes the
//! message announced) and decrypt it into the output atomically (PROTOCOL.md 10.3). It runs
//! beside the actor; it needs nothing of the connection.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT,
};
use futures_util::StreamExt;
use waweb_core::media::{Expected, MediaKeys, MediaType};
use waweb_proto::MediaDownloadResult;
use waweb_proto::message::Media;

use super::handle::SessionError;
use crate::http::{self, Http};
use crate::media_file;

fn decode_base64(field: &'static str, text: &str) -> Result<Vec<u8>, SessionError> {
    STANDARD_PAD_INDIFFERENT
        .decode(text)
        .or_else(|_| URL_SAFE_PAD_INDIFFERENT.decode(text))
        .map_err(|_| SessionError::InvalidParams(format!("media.{field} is not base64")))
}

/// Downloads into `output`, which the caller checked with
/// [`crate::output::Protected::check_output`].
pub(super) async fn download(
    http: &Http,
    media: Media,
    output: PathBuf,
    metrics: &crate::metrics::Metrics,
) -> Result<MediaDownloadResult, SessionError> {
    let kind = MediaType::from(media.kind);
    let media_key = decode_base64("media_key", &media.media_key)?;
    let keys = MediaKeys::derive(&media_key, kind)
        .map_err(|error| SessionError::InvalidParams(error.to_string()))?;
    let file_sha256 = decode_base64("file_sha256", &media.file_sha256)?;
    let file_enc_sha256 = decode_base64("file_enc_sha256", &media.file_enc_sha256)?;
    let to_array = |bytes: &[u8]| <[u8; 32]>::try_from(bytes).ok();
    let expected = Expected {
        file_sha256: to_array(&file_sha256),
        file_enc_sha256: to_array(&file_enc_sha256),
        file_length: (media.file_length > 0).then_some(media.file_length),
    };
    let url = match (&media.url, &media.direct_path) {
        (Some(url), _) if !url.is_empty() => url.clone(),
        (_, Some(path)) if !path.is_empty() => format!("https://mmg.whatsapp.net{path}"),
        _ => {
            return Err(SessionError::InvalidParams(
                "media has neither url nor direct_path".into(),
            ));
        }
    };
    let host = url.split('?').next().unwrap_or_default().to_owned();
    let response = http
        .get(&url)
        .await
        .map_err(|error| media_host_failed(format!("downloading {host}"), &error))?;
    match response.status().as_u16() {
        200 => {}
        status @ (404 | 410) => {
            return Err(SessionError::MediaExpired(format!(
                "the media host answered {status}"
            )));
        }
        status => {
            return Err(SessionError::Io(format!(
                "the media host answered {status}"
            )));
        }
    }
    // The body streams into the blocking decryptor through a sync bridge; it writes a temp file
    // beside `output` and renames it only once everything verified. A failed read is told apart
    // from a bad body by the marker its error carries.
    let body = http
        .download_body(response)
        .map(|chunk| chunk.map_err(|error| std::io::Error::other(DownloadFailed(error))));
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(body));
    let target = output.clone();
    let verified_sha256 = expected.file_sha256;
    let decrypted = tokio::task::spawn_blocking(move || {
        media_file::decrypt_to_path(reader, &target, &keys, &expected)
    })
    .await
    .map_err(|error| SessionError::Io(format!("decryption task failed: {error}")))?;
    let bytes = match decrypted {
        Ok(bytes) => bytes,
        Err(media_file::Error::Media(error)) => {
            return Err(SessionError::Integrity(error.to_string()));
        }
        Err(media_file::Error::Io { source, .. })
            if source
                .get_ref()
                .is_some_and(|inner| inner.is::<DownloadFailed>()) =>
        {
            let inner = source.get_ref().and_then(|inner| inner.downcast_ref());
            return Err(match inner {
                Some(DownloadFailed(error)) => {
                    media_host_failed(format!("downloading {host}"), error)
                }
                None => SessionError::Io(format!("downloading {host}: {source}")),
            });
        }
        Err(error) => return Err(SessionError::Io(error.to_string())),
    };
    let sha256 = match verified_sha256 {
        Some(verified) => verified,
        None => {
            let path = output.clone();
            tokio::task::spawn_blocking(move || hash_file(&path))
                .await
                .map_err(|error| SessionError::Io(error.to_string()))?
                .map_err(|error| SessionError::Io(error.to_string()))?
        }
    };
    metrics.downloaded(bytes);
    Ok(MediaDownloadResult {
        path: output.clone(),
        bytes,
        sha256: STANDARD.encode(sha256),
    })
}

/// A failed exchange with a media host (`what`: `downloading <url>`, `uploading to <host>`):
/// `timeout` when the host stalled, else `io`.
pub(super) fn media_host_failed(what: String, error: &http::Error) -> SessionError {
    match error {
        http::Error::Timeout(why) => SessionError::MediaTimeout(format!("{what}: {why}")),
        _ => SessionError::Io(format!("{what}: {error}")),
    }
}

/// Marks a read error of the media download's body (as opposed to a local file error).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DownloadFailed(http::Error);

fn hash_file(path: &std::path::Path) -> std::io::Result<[u8; 32]> {
    use sha2::Digest;
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}
