//! The media host's faults, armed by the `media_fault` control command (issue 13): the next N
//! downloads (`GET /d/…` of a blob the host has) answer 404, break off at half the body with
//! the connection closed although `Content-Length` promised all of it, carry one flipped byte
//! (so the MAC fails), send their headers and then nothing, or send the body followed by zeros
//! without end (chunked, up to 1 GiB), or send the body one byte at a time with a pause before
//! each (`drip`, a host that never stalls for a whole read timeout); or the next N uploads have their connection closed once
//! half the body is in, or get no response at all once all of it is in (neither is stored), or
//! are read at 4 MiB/s and then stored as usual (an upload slower than a client's timeout).
//!
//! ```text
//! {"cmd":"media_fault","fault":"truncate","times":2} -> the next two downloads are cut at half
//! ```

use std::time::Duration;

use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::{Bytes, Frame};
use hyper::header::{CONTENT_LENGTH, HeaderValue};

use super::http::{self, Response};

/// How long a stalled download keeps its connection before it breaks off: far beyond any
/// client's read timeout.
const STALL: Duration = Duration::from_secs(600);
/// What an oversized body sends after the real one, in pieces of [`OVERSIZE_PIECE`]: 1 GiB, so
/// that a client that never stops reading still ends.
const OVERSIZE_PIECES: usize = 16_384;
const OVERSIZE_PIECE: usize = 64 * 1024;
/// How long a truncated body waits after its half before the connection closes, so that the
/// half is on the wire first.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(50);
/// The default pause before each byte of a `drip` (`pause_ms`): just under a client's default
/// 30 s read timeout.
pub const DRIP_PAUSE: Duration = Duration::from_millis(25_000);
/// The longest `pause_ms` a command may set.
pub const MAX_PAUSE: Duration = Duration::from_secs(600);
/// How fast a `slow_upload` is read, in bytes per second.
pub const SLOW_UPLOAD_RATE: u64 = 4 << 20;
/// Most repetitions one command arms.
pub const MAX_TIMES: u64 = 1_000;

/// One fault of the media host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A download answers 404.
    NotFound,
    /// A download's body stops at half, the connection closed.
    Truncate,
    /// A download's body has one byte flipped.
    Tamper,
    /// A download sends its headers, then nothing.
    Stall,
    /// A download sends the body, then zeros without end (chunked, no `Content-Length`).
    Oversize,
    /// A download's body comes one byte at a time, each after the armed pause.
    Drip,
    /// An upload's connection is closed at half its body, before any response.
    DropUpload,
    /// An upload's body is taken in whole, then no response comes.
    StallUpload,
    /// An upload's body is read at [`SLOW_UPLOAD_RATE`], then stored and answered as usual.
    SlowUpload,
}

impl Fault {
    /// Every fault with its name in the command.
    const NAMES: [(&'static str, Fault); 9] = [
        ("404", Fault::NotFound),
        ("truncate", Fault::Truncate),
        ("tamper", Fault::Tamper),
        ("stall", Fault::Stall),
        ("oversize", Fault::Oversize),
        ("drip", Fault::Drip),
        ("drop_upload", Fault::DropUpload),
        ("stall_upload", Fault::StallUpload),
        ("slow_upload", Fault::SlowUpload),
    ];

    /// The fault a command names.
    pub fn parse(name: &str) -> Result<Fault, String> {
        Self::NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, fault)| *fault)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(name, _)| *name).collect();
                format!("media_fault: fault is one of {}", names.join(", "))
            })
    }

    /// Its name in the command and in the `media_fault` output line.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, fault)| *fault == self)
            .map_or("", |(name, _)| name)
    }
}

impl Fault {
    /// Whether it breaks uploads rather than downloads.
    pub fn is_upload(self) -> bool {
        matches!(
            self,
            Fault::DropUpload | Fault::StallUpload | Fault::SlowUpload
        )
    }
}

/// The faults armed: one download fault and one upload fault at a time (arming another of the
/// same side replaces it), each with the number of requests it has left; and the pause of a
/// `drip`.
#[derive(Debug)]
pub struct Armed {
    download: Option<(Fault, u64)>,
    upload: Option<(Fault, u64)>,
    /// The pause before each byte of a `drip`.
    pub pause: Duration,
}

impl Default for Armed {
    fn default() -> Self {
        Armed {
            download: None,
            upload: None,
            pause: DRIP_PAUSE,
        }
    }
}

impl Armed {
    /// The next `times` downloads (or uploads, for an upload fault) get `fault`; 0 disarms.
    pub fn arm(&mut self, fault: Fault, times: u64) {
        let slot = if fault.is_upload() {
            &mut self.upload
        } else {
            &mut self.download
        };
        *slot = (times > 0).then_some((fault, times));
    }

    /// The fault this download gets, if one is armed (counted down).
    pub fn next_download(&mut self) -> Option<Fault> {
        count_down(&mut self.download)
    }

    /// The fault this upload gets, if one is armed (counted down).
    pub fn next_upload(&mut self) -> Option<Fault> {
        count_down(&mut self.upload)
    }
}

fn count_down(slot: &mut Option<(Fault, u64)>) -> Option<Fault> {
    let (fault, left) = slot.as_mut()?;
    let fault = *fault;
    *left -= 1;
    if *left == 0 {
        *slot = None;
    }
    Some(fault)
}

/// What an upload with a fault that hangs up gets: the connection closed at half the body, or
/// (`stall_upload`) the whole body taken in and no answer for [`STALL`].
pub async fn upload(fault: Fault, request: http::Request) -> http::HangUp {
    let stall = fault == Fault::StallUpload;
    http::discard_body(request, !stall).await;
    if stall {
        tokio::time::sleep(STALL).await;
    }
    http::HangUp
}

/// The response a download with `fault` gets instead of `body` in full; `pause` is a `drip`'s.
pub fn download(fault: Fault, mut body: Vec<u8>, pause: Duration) -> Response {
    let length = body.len();
    match fault {
        Fault::NotFound | Fault::DropUpload | Fault::StallUpload | Fault::SlowUpload => {
            http::respond(404, "text/plain", "media not available\n")
        }
        Fault::Tamper => {
            if let Some(byte) = body.get_mut(length / 2) {
                *byte ^= 0x01;
            }
            http::respond(200, "application/octet-stream", body)
        }
        Fault::Truncate => {
            body.truncate(length / 2);
            let half = futures_util::stream::iter([Ok(Frame::data(Bytes::from(body)))]);
            let cut = futures_util::stream::once(async {
                tokio::time::sleep(TRUNCATE_PAUSE).await;
                Err(std::io::Error::other("media_fault: truncated"))
            });
            promising(length, StreamBody::new(half.chain(cut)).boxed_unsync())
        }
        Fault::Oversize => {
            let zeros = Bytes::from(vec![0u8; OVERSIZE_PIECE]);
            let pieces = futures_util::stream::iter([Bytes::from(body)])
                .chain(futures_util::stream::repeat(zeros).take(OVERSIZE_PIECES))
                .map(|piece| Ok(Frame::data(piece)));
            http::with_body(
                200,
                "application/octet-stream",
                StreamBody::new(pieces).boxed_unsync(),
            )
        }
        Fault::Drip => {
            let bytes = futures_util::stream::iter(body).then(move |byte| async move {
                tokio::time::sleep(pause).await;
                Ok(Frame::data(Bytes::copy_from_slice(&[byte])))
            });
            promising(length, StreamBody::new(bytes).boxed_unsync())
        }
        Fault::Stall => {
            let nothing = futures_util::stream::once(async {
                tokio::time::sleep(STALL).await;
                Err::<Frame<Bytes>, _>(std::io::Error::other("media_fault: stalled"))
            });
            promising(length, StreamBody::new(nothing).boxed_unsync())
        }
    }
}

/// A 200 whose `Content-Length` promises `length` bytes, whatever `body` delivers.
fn promising(length: usize, body: http::Body) -> Response {
    let mut response = http::with_body(200, "application/octet-stream", body);
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for (name, fault) in Fault::NAMES {
            assert_eq!(Fault::parse(name), Ok(fault));
            assert_eq!(fault.name(), name);
        }
        assert!(Fault::parse("410").unwrap_err().contains("truncate"));
    }

    #[test]
    fn faults_count_down() {
        let mut armed = Armed::default();
        armed.arm(Fault::Tamper, 2);
        armed.arm(Fault::DropUpload, 1);
        assert_eq!(armed.next_download(), Some(Fault::Tamper));
        assert_eq!(armed.next_download(), Some(Fault::Tamper));
        assert_eq!(armed.next_download(), None);
        assert_eq!(armed.next_upload(), Some(Fault::DropUpload));
        assert_eq!(armed.next_upload(), None);
        armed.arm(Fault::StallUpload, 1);
        assert_eq!(armed.next_download(), None);
        assert_eq!(armed.next_upload(), Some(Fault::StallUpload));
        armed.arm(Fault::Stall, 3);
        armed.arm(Fault::NotFound, 0);
        assert_eq!(armed.next_download(), None);
    }
}
