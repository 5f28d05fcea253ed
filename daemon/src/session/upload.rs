//! The IO half of `send_media` (PROTOCOL.md 10.6), as a task beside the actor: open the file
//! (never one of the daemon's own), check it against the server's limits, encrypt it as it is
//! read into a spool (an unlinked temporary file), and POST the spool, streaming, to each host
//! of `mediaConn` in turn. The actor queues the message that announces it.
//!
//! ```text
//! open + check limits -> sniff MIME, picture facts -> encrypt_stream -> spool (enc ‖ mac)
//!     -> POST host 1 (failed: 5xx, no url, network) -> POST host 2 -> 200 {"url"}
//!     -> Attachment::to_content -> Command::Uploaded -> the outbox
//! ```
//!
//! The token in the URL is the hash of the whole body, so the body must be complete before the
//! first byte is posted: hence the spool, and never the file in memory.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

use waweb_core::crypto;
use waweb_core::media::MediaKeys;
use waweb_core::media::mime::{self, SNIFF_LEN};
use waweb_core::media::upload::{self as wire, Attachment, Limits, MediaConn, Uploaded};
use waweb_core::message::pb;
use waweb_proto::{SendMediaKind, SendMediaParams};

use super::download::media_host_failed;
use super::handle::SessionError;
use super::online::unix_now;
use crate::http::{self, Http};
use crate::media_file;
use crate::output::Protected;
use crate::thumbnail::{self, Skipped};

/// Files up to this size get their picture facts read for a thumbnail; a larger image (a
/// server that allows one) goes without rather than fill the memory.
const PICTURE_MAX: u64 = 16 * 1024 * 1024;
/// The longest upload answer read.
const ANSWER_MAX: usize = 64 * 1024;
/// Reads of the POST body from the spool, and how many may wait to be sent.
const POST_CHUNK: usize = 512 * 1024;
const POST_DEPTH: usize = 4;

/// Params that make no sense whatever the file, refused before any work.
pub(super) fn check_params(params: &SendMediaParams) -> Result<(), SessionError> {
    let invalid = |why: String| Err(SessionError::InvalidParams(why));
    if !params.path.is_absolute() {
        return invalid("path must be an absolute path".into());
    }
    let kind = params.kind;
    if params.caption.is_some() && !matches!(kind, SendMediaKind::Image | SendMediaKind::Video) {
        return invalid(format!(
            "a {kind} has no caption; captions are for images and videos"
        ));
    }
    if params.file_name.is_some() && kind != SendMediaKind::Document {
        return invalid(format!(
            "a {kind} has no file_name; file names are for documents"
        ));
    }
    if params.gif.is_some() && kind != SendMediaKind::Video {
        return invalid(format!("gif is for videos, not a {kind}"));
    }
    if let Some(mimetype) = &params.mimetype
        && (mimetype.is_empty() || !mimetype.contains('/') || mimetype.len() > 255)
    {
        return invalid(format!("mimetype {mimetype:?} is not a MIME type"));
    }
    Ok(())
}

/// One upload: the params and what the actor knew when it started.
pub(super) struct Job {
    pub(super) params: SendMediaParams,
    pub(super) limits: Limits,
    pub(super) conn: MediaConn,
    pub(super) scheme: &'static str,
    pub(super) protected: Protected,
    pub(super) http: Http,
    /// Where the posted bytes are counted.
    pub(super) bus: crate::bus::Bus,
}

/// The encrypted file, ready to post.
struct Prepared {
    spool: File,
    len: u64,
    attachment: Attachment,
}

/// Uploads the file and returns the content message announcing it.
pub(super) async fn run(job: Job) -> Result<pb::Message, SessionError> {
    let Job {
        params,
        limits,
        conn,
        scheme,
        protected,
        http,
        bus,
    } = job;
    let started = std::time::Instant::now();
    let prepared = tokio::task::spawn_blocking(move || prepare(&params, limits, &protected))
        .await
        .map_err(|error| SessionError::Io(format!("the encryption task failed: {error}")))??;
    let Prepared {
        spool,
        len,
        mut attachment,
    } = prepared;
    let encrypted = started.elapsed();
    attachment.uploaded = post(&http, &conn, scheme, &attachment, &spool, len).await?;
    bus.metrics().uploaded(len);
    tracing::info!(
        bytes = len,
        encrypt_ms = encrypted.as_millis() as u64,
        upload_ms = (started.elapsed() - encrypted).as_millis() as u64,
        "media uploaded"
    );
    Ok(attachment.to_content())
}

fn invalid(error: impl ToString) -> SessionError {
    SessionError::InvalidParams(error.to_string())
}

fn io(context: &str) -> impl FnOnce(std::io::Error) -> SessionError + '_ {
    move |error| SessionError::Io(format!("{context}: {error}"))
}

/// Blocking: open, check, sniff, picture, encrypt into the spool.
fn prepare(
    params: &SendMediaParams,
    limits: Limits,
    protected: &Protected,
) -> Result<Prepared, SessionError> {
    let kind = params.kind;
    let file = protected.open_input(&params.path).map_err(invalid)?;
    let size = file.metadata().map_err(io("reading the file"))?.len();
    limits.check(kind, size).map_err(invalid)?;
    let name = file_name_of(&params.path);
    // A picture small enough for a thumbnail is read once, whole: the sniffing, the thumbnail
    // and the encryption all take it from memory.
    let whole = match kind {
        SendMediaKind::Image if size <= PICTURE_MAX => {
            let mut bytes = vec![0; size as usize];
            file.read_exact_at(&mut bytes, 0)
                .map_err(io("reading the file"))?;
            Some(bytes)
        }
        _ => None,
    };
    let head = match &whole {
        Some(bytes) => bytes[..bytes.len().min(SNIFF_LEN)].to_vec(),
        None => {
            let mut head = vec![0; SNIFF_LEN];
            let read = file.read_at(&mut head, 0).map_err(io("reading the file"))?;
            head.truncate(read);
            head
        }
    };
    let mimetype = params
        .mimetype
        .clone()
        .unwrap_or_else(|| mime::guess(kind, &head, &name));
    let picture = whole.as_deref().map(thumbnail::picture);
    let mut media_key = [0u8; 32];
    crypto::fill_random(&mut media_key);
    let keys = MediaKeys::derive(&media_key, wire::media_type(kind)).map_err(invalid)?;
    let dir = std::env::temp_dir();
    // Unlinked from the start, as the download spool: it vanishes with the process.
    let mut spool = tempfile::tempfile_in(&dir).map_err(io("creating the upload spool"))?;
    let encrypted = match &whole {
        Some(bytes) => media_file::encrypt_stream(&bytes[..], &mut spool, None, &keys),
        None => media_file::encrypt_stream(&file, &mut spool, None, &keys),
    }
    .map_err(|error| match error {
        media_file::Error::Media(error) => SessionError::Internal(error.to_string()),
        other => SessionError::Io(other.to_string()),
    })?;
    // A file that grew while it was read is judged by what was read.
    limits.check(kind, encrypted.file_length).map_err(invalid)?;
    let len = spool
        .seek(SeekFrom::End(0))
        .map_err(io("reading the upload spool"))?;
    let (width, height) = picture.as_ref().and_then(|picture| picture.size).unzip();
    let attachment = Attachment {
        kind,
        uploaded: Uploaded {
            url: String::new(),
            direct_path: None,
        },
        media_key: media_key.to_vec(),
        encrypted,
        media_key_timestamp: unix_now() as i64,
        mimetype,
        caption: params.caption.clone(),
        file_name: (kind == SendMediaKind::Document)
            .then(|| params.file_name.clone().unwrap_or(name)),
        width,
        height,
        jpeg_thumbnail: picture.and_then(|picture| picture.thumbnail.ok()),
        gif: params.gif.unwrap_or(false),
    };
    Ok(Prepared {
        spool,
        len,
        attachment,
    })
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "file".to_owned())
}

/// Why one host did not take the file.
enum HostFailed {
    /// Try the next host.
    Next(SessionError),
    /// The host refused the file itself (4xx): no other host will take it.
    Refused(SessionError),
}

/// Posts the spool to each host in turn until one takes it.
async fn post(
    http: &Http,
    conn: &MediaConn,
    scheme: &str,
    attachment: &Attachment,
    spool: &File,
    len: u64,
) -> Result<Uploaded, SessionError> {
    let auth = http::percent_encode(&conn.auth);
    let mut last = SessionError::Io("mediaConn named no host".into());
    for host in &conn.hosts {
        let url = wire::upload_url(
            scheme,
            host,
            wire::media_type(attachment.kind),
            &attachment.encrypted.file_enc_sha256,
            &auth,
        );
        match post_one(http, &url, host, spool, len).await {
            Ok(uploaded) => return Ok(uploaded),
            Err(HostFailed::Refused(error)) => return Err(error),
            Err(HostFailed::Next(error)) => {
                tracing::warn!(host = %host, "upload failed, trying the next host: {error}");
                last = error;
            }
        }
    }
    Err(last)
}

async fn post_one(
    http: &Http,
    url: &str,
    host: &str,
    spool: &File,
    len: u64,
) -> Result<Uploaded, HostFailed> {
    let next = |error| HostFailed::Next(error);
    let body = spool
        .try_clone()
        .map_err(io("reading the upload spool"))
        .map_err(next)?;
    let response = http
        .post_stream(url, spool_body(body), len)
        .await
        .map_err(|error| next(media_host_failed(format!("uploading to {host}"), &error)))?;
    let status = response.status().as_u16();
    let server = |message: String| SessionError::Server { status, message };
    if (400..500).contains(&status) {
        return Err(HostFailed::Refused(server(format!(
            "the media host {host} refused the upload"
        ))));
    }
    if status != 200 {
        return Err(next(server(format!("the media host {host} failed"))));
    }
    // The answer is small: all of it within one read timeout (the upload client has none).
    let answer = tokio::time::timeout(http.read_timeout(), read_answer(response))
        .await
        .map_err(|_| {
            next(SessionError::MediaTimeout(format!(
                "the media host {host} did not finish its answer"
            )))
        })?
        .map_err(next)?;
    Uploaded::from_reply(&answer)
        .map_err(|error| next(SessionError::Io(format!("the media host {host}: {error}"))))
}

async fn read_answer(mut response: reqwest::Response) -> Result<serde_json::Value, SessionError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| SessionError::Io(http::Error::from(error).to_string()))?
    {
        if bytes.len() + chunk.len() > ANSWER_MAX {
            return Err(SessionError::Io("the upload answer is too long".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&bytes)
        .map_err(|error| SessionError::Io(format!("the upload answer is not JSON: {error}")))
}

/// The spool as a request body: a thread reads it from the start in large chunks and hands
/// them over a short queue, so the async side only moves buffers (a few MiB at most in flight).
fn spool_body(spool: File) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send {
    let (chunks, queue) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(POST_DEPTH);
    std::thread::spawn(move || {
        // Positional reads: every attempt's clone of the spool shares one file offset, and the
        // reader of a host that failed mid-upload may still be reading when the next host's
        // starts; with a shared offset one would skip what the other read.
        let mut offset = 0u64;
        loop {
            let mut chunk = vec![0; POST_CHUNK];
            let read = match spool.read_at(&mut chunk, offset) {
                Ok(0) => return,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    let _ = chunks.blocking_send(Err(error));
                    return;
                }
            };
            offset += read as u64;
            chunk.truncate(read);
            // A closed queue: the request ended (a failed host); the next one reads anew.
            if chunks.blocking_send(Ok(chunk)).is_err() {
                return;
            }
        }
    });
    futures_util::stream::unfold(queue, |mut queue| async move {
        queue.recv().await.map(|chunk| (chunk, queue))
    })
}

/// Why a message of this content has no thumbnail, where one was expected.
pub(super) fn thumbnail_skipped(content: &pb::Message) -> Option<String> {
    let skipped = match (&content.image_message, &content.video_message) {
        (Some(image), _) if image.jpeg_thumbnail.is_none() => Skipped::Undecodable,
        (_, Some(video)) if video.jpeg_thumbnail.is_none() => Skipped::Video,
        _ => return None,
    };
    Some(skipped.reason().to_owned())
}
