//! `wawebctl send TO --image FILE [--caption TEXT]` and the other kinds: `send_media` with the
//! file's path made absolute here, since the daemon has a working directory of its own.
//!
//! ```text
//! wawebctl send +4915100000001 --image cat.jpg --caption look
//! sent 3EB0C0FFEE12345678AB (server status 200): image/jpeg, 48213 bytes
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use waweb_proto::methods;
use waweb_proto::{SendMediaKind, SendMediaParams, SendMediaResult, SendStatus, SendWait};

use super::{Failure, Session, absolute, output};

/// The file to send and what it is sent as: at most one of these.
#[derive(Debug, Clone, Default, clap::Args)]
#[group(id = "media_file", multiple = false)]
pub struct MediaFile {
    /// Send this picture instead of a text (a JPEG thumbnail is made for JPEG and PNG)
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Send this video
    #[arg(long, value_name = "FILE")]
    pub video: Option<PathBuf>,
    /// Send this audio file
    #[arg(long, value_name = "FILE")]
    pub audio: Option<PathBuf>,
    /// Send this file as a voice note (Opus in Ogg)
    #[arg(long, value_name = "FILE")]
    pub voice: Option<PathBuf>,
    /// Send this file as a document, shown with its name
    #[arg(long, value_name = "FILE")]
    pub document: Option<PathBuf>,
    /// Send this WebP as a sticker
    #[arg(long, value_name = "FILE")]
    pub sticker: Option<PathBuf>,
}

/// `send`'s media flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MediaArgs {
    /// The file, if the message is one
    #[command(flatten)]
    pub file: MediaFile,
    /// The text under an image or video
    #[arg(long, value_name = "TEXT", requires = "media_file")]
    pub caption: Option<String>,
}

impl MediaArgs {
    /// The kind and the path given, if any.
    pub fn chosen(&self) -> Option<(SendMediaKind, &Path)> {
        let file = &self.file;
        [
            (SendMediaKind::Image, &file.image),
            (SendMediaKind::Video, &file.video),
            (SendMediaKind::Audio, &file.audio),
            (SendMediaKind::Voice, &file.voice),
            (SendMediaKind::Document, &file.document),
            (SendMediaKind::Sticker, &file.sticker),
        ]
        .into_iter()
        .find_map(|(kind, path)| path.as_deref().map(|path| (kind, path)))
    }
}

/// The params of `send` with a file.
pub fn params(
    to: &str,
    kind: SendMediaKind,
    path: &Path,
    caption: Option<&str>,
    (idempotency_key, queued, timeout_ms): (Option<&str>, bool, Option<u64>),
) -> Result<SendMediaParams, Failure> {
    let mut params = SendMediaParams::new(to, kind, absolute(path)?);
    params.caption = caption.map(str::to_owned);
    params.idempotency_key = idempotency_key.map(str::to_owned);
    params.wait = queued.then_some(SendWait::Queued);
    params.timeout_ms = timeout_ms;
    Ok(params)
}

impl Session {
    pub(super) fn send_media(
        mut self,
        out: &mut dyn Write,
        params: SendMediaParams,
    ) -> Result<(), Failure> {
        let (raw, result) = self.call::<methods::SendMedia>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        let SendMediaResult {
            sent,
            media,
            thumbnail_skipped,
        } = result;
        let what = format!(
            "{}, {} bytes",
            media.mimetype.as_deref().unwrap_or("no type"),
            media.file_length
        );
        match sent.status {
            SendStatus::Server(status) => {
                writeln!(out, "sent {} (server status {status}): {what}", sent.id)
            }
            SendStatus::Queued => writeln!(out, "queued {}: {what}", sent.id),
        }
        .map_err(output)?;
        if let Some(why) = thumbnail_skipped {
            writeln!(out, "no thumbnail: {why}").map_err(output)?;
        }
        Ok(())
    }
}
