//! HTTP for the protocol's plain exchanges: the media download (PROTOCOL.md 10.3) and upload
//! (10.6), and the logout request (section 6). reqwest over the rustls settings of [`crate::tls`], so `https://` trusts
//! the same anchors as the websocket; plain `http://` for local peers such as the simulator.
//! Bodies stream, so a large download never sits in memory.
//!
//! ```text
//! GET https://mmg.whatsapp.net/d/f/…enc   Origin: https://web.whatsapp.com
//! ```

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::tls;
use crate::transport::ORIGIN;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The default longest pause between two reads of an answer (`[http] read_timeout_ms`); a
/// stalled host fails instead of hanging.
pub const READ_TIMEOUT_MS: u64 = 30_000;
/// The default slowest average a body may move at over a read timeout
/// (`[http] min_rate_bytes_per_s`): 16 KiB/s, 128 kbit/s.
pub const MIN_RATE_BYTES_PER_S: u64 = 16 * 1024;
/// The default most bytes a media download's body may have (`[media] max_download_bytes`):
/// 2 GiB, the largest file WhatsApp ever allowed.
pub const MAX_DOWNLOAD_BYTES: u64 = 2 << 30;
/// How many parts the rate window is measured in ([`RateFloor`]).
const RATE_SLOTS: usize = 16;
const MAX_REDIRECTS: usize = 5;

/// What a query value may keep unescaped (RFC 3986 unreserved characters).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query value: tokens such as `1@a+b/=` must reach the server intact.
///
/// ```
/// assert_eq!(wawebd::http::percent_encode("1@a+b/="), "1%40a%2Bb%2F%3D");
/// ```
pub fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The TLS settings (the CA file) are unusable.
    #[error(transparent)]
    Tls(#[from] tls::Error),
    /// Connecting, TLS or reading the body failed. Never names the URL, whose query may carry
    /// tokens.
    #[error("{0}")]
    Request(String),
    /// The peer sent nothing for the read timeout (or did not connect in time); as
    /// [`Error::Request`], without the URL.
    #[error("{0}")]
    Timeout(String),
    /// A body went on past the most bytes it may have ([`Limits::max_download`]).
    #[error("the body is longer than the {0} bytes [media] max_download_bytes allows")]
    TooLong(u64),
}

/// How long and how slowly an answer may take, and how large a download may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest pause between two reads (`[http] read_timeout_ms`), and the window the
    /// rate floor is measured over.
    pub read_timeout: Duration,
    /// The slowest average a body may move at over a read timeout, once one has passed
    /// (`[http] min_rate_bytes_per_s`; 0: no floor).
    pub min_rate: u64,
    /// The most bytes a media download's body may have (`[media] max_download_bytes`).
    pub max_download: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            read_timeout: Duration::from_millis(READ_TIMEOUT_MS),
            min_rate: MIN_RATE_BYTES_PER_S,
            max_download: MAX_DOWNLOAD_BYTES,
        }
    }
}

/// The rate floor of a body (DESIGN 14.3, "Drip-feeding hosts"): once a window (the read
/// timeout) has passed since the body started, the bytes that moved in the last window must be
/// at least `min_rate` × window. The window is kept in [`RATE_SLOTS`] parts, so what is
/// measured covers the last window and at most one part more (in the host's favour).
#[derive(Debug, Clone)]
pub struct RateFloor {
    min_rate: u64,
    window: Duration,
    start: Instant,
    /// Bytes per part, a ring indexed by the part's number.
    slots: [u64; RATE_SLOTS + 1],
    /// The number of the part `slots` ends with.
    current: u64,
}

impl RateFloor {
    /// A floor of `min_rate` bytes/s over `window`, for a body starting at `start`.
    pub fn new(min_rate: u64, window: Duration, start: Instant) -> Self {
        RateFloor {
            min_rate,
            window: window.max(Duration::from_millis(RATE_SLOTS as u64)),
            start,
            slots: [0; RATE_SLOTS + 1],
            current: 0,
        }
    }

    fn advance(&mut self, now: Instant) {
        let part = self.window.as_nanos() / RATE_SLOTS as u128;
        let index = (now.saturating_duration_since(self.start).as_nanos() / part) as u64;
        if index >= self.current + self.slots.len() as u64 {
            self.slots = [0; RATE_SLOTS + 1];
            self.current = index;
            return;
        }
        while self.current < index {
            self.current += 1;
            self.slots[(self.current % self.slots.len() as u64) as usize] = 0;
        }
    }

    /// Counts `bytes` that moved at `now`.
    pub fn add(&mut self, bytes: usize, now: Instant) {
        self.advance(now);
        let slot = (self.current % self.slots.len() as u64) as usize;
        self.slots[slot] = self.slots[slot].saturating_add(bytes as u64);
    }

    /// [`add`](Self::add)s, then [`check`](Self::check)s.
    pub fn record(&mut self, bytes: usize, now: Instant) -> Result<(), Error> {
        self.add(bytes, now);
        self.check(now)
    }

    /// Fails with [`Error::Timeout`] once a window has passed and less than the floor moved
    /// in the last one.
    pub fn check(&mut self, now: Instant) -> Result<(), Error> {
        self.advance(now);
        if self.min_rate == 0 || self.current < RATE_SLOTS as u64 {
            return Ok(());
        }
        let moved: u64 = self.slots.iter().sum();
        let window_ms = self.window.as_millis();
        let need = u128::from(self.min_rate) * window_ms / 1000;
        if u128::from(moved) >= need {
            return Ok(());
        }
        Err(Error::Timeout(format!(
            "{moved} bytes moved in the last {window_ms} ms, under the floor of {} bytes/s \
             ([http] min_rate_bytes_per_s)",
            self.min_rate
        )))
    }
}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        let error = error.without_url();
        // reqwest's own text is generic ("error sending request"); its source says what failed.
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        if error.is_timeout() {
            Error::Timeout(message)
        } else {
            Error::Request(message)
        }
    }
}

/// A cheap, cloneable HTTP client (connections are pooled inside).
///
/// Two reqwest clients: reqwest's `read_timeout` also runs from sending the request until the
/// answer's headers, whatever the request body does meanwhile, so an upload slower than the
/// timeout failed although it was moving all along. Uploads go through a client without it and
/// [`Http::post_stream`] times out on a stall of its own: no piece of the body taken and no
/// answer for the read timeout.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    upload: reqwest::Client,
    limits: Limits,
}

impl Http {
    /// A client trusting the webpki roots and `ca_file`, whose answers may pause at most
    /// `limits.read_timeout` between two reads.
    pub fn new(ca_file: Option<&Path>, limits: Limits) -> Result<Http, Error> {
        let tls = tls::client_config(ca_file, &[b"http/1.1"])?;
        let builder = || {
            reqwest::Client::builder()
                .tls_backend_preconfigured((*tls).clone())
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
                .no_proxy()
        };
        Ok(Http {
            client: builder().read_timeout(limits.read_timeout).build()?,
            upload: builder().build()?,
            limits,
        })
    }

    /// The longest pause allowed between two reads (`[http] read_timeout_ms`).
    pub fn read_timeout(&self) -> Duration {
        self.limits.read_timeout
    }

    /// The limits it was made with.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The body of a media download as a stream, held to the rate floor and to
    /// [`Limits::max_download`]: a host that sends a byte just inside the read timeout, or
    /// without end, fails instead of keeping the download going.
    pub fn download_body(
        &self,
        response: reqwest::Response,
    ) -> impl futures_util::Stream<Item = Result<hyper::body::Bytes, Error>> + Send + use<> {
        use futures_util::StreamExt as _;
        let limits = self.limits;
        let mut floor = RateFloor::new(limits.min_rate, limits.read_timeout, Instant::now());
        let mut total = 0u64;
        response.bytes_stream().map(move |chunk| {
            let chunk = chunk?;
            total = total.saturating_add(chunk.len() as u64);
            if total > limits.max_download {
                return Err(Error::TooLong(limits.max_download));
            }
            floor.record(chunk.len(), Instant::now())?;
            Ok(chunk)
        })
    }

    /// `GET url` with the web client's `Origin`; the body is left to stream.
    pub async fn get(&self, url: &str) -> Result<reqwest::Response, Error> {
        Ok(self.client.get(url).header("Origin", ORIGIN).send().await?)
    }

    /// `POST url` with a body of `len` bytes that streams from `body`, as the web client
    /// uploaded media (PROTOCOL.md 10.6: `Origin`, `Referer`, `application/octet-stream`).
    /// Fails with [`Error::Timeout`] once no piece of the body was taken and no answer came for
    /// the read timeout, or while the body is not all taken, once it is taken slower than the
    /// rate floor ([`RateFloor`]); a slow upload that keeps moving faster is waited for. The
    /// answer's body is the caller's to bound.
    pub async fn post_stream<S>(
        &self,
        url: &str,
        body: S,
        len: u64,
    ) -> Result<reqwest::Response, Error>
    where
        S: futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static,
    {
        use futures_util::StreamExt as _;
        let read_timeout = self.limits.read_timeout;
        let start = Instant::now();
        let progress = Arc::new(Mutex::new(Progress {
            moved: start,
            taken: 0,
            floor: RateFloor::new(self.limits.min_rate, read_timeout, start),
        }));
        let seen = Arc::clone(&progress);
        let body = body.inspect(move |piece| {
            let now = Instant::now();
            let mut progress = lock(&seen);
            progress.moved = now;
            if let Ok(piece) = piece {
                progress.taken = progress.taken.saturating_add(piece.len() as u64);
                progress.floor.add(piece.len(), now);
            }
        });
        let sending = self
            .upload
            .post(url)
            .header("Origin", ORIGIN)
            .header("Referer", format!("{ORIGIN}/"))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", len)
            .body(reqwest::Body::wrap_stream(body))
            .send();
        tokio::pin!(sending);
        // While the body is being taken the floor is looked at every part of its window.
        let tick = read_timeout / RATE_SLOTS as u32;
        loop {
            let (moved, taking) = {
                let progress = lock(&progress);
                (progress.moved, progress.taken < len)
            };
            let mut deadline = moved + read_timeout;
            if taking && self.limits.min_rate > 0 {
                deadline = deadline.min(Instant::now() + tick);
            }
            tokio::select! {
                answer = &mut sending => return Ok(answer?),
                () = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {
                    let mut progress = lock(&progress);
                    let still = progress.moved.elapsed();
                    if still >= read_timeout {
                        return Err(Error::Timeout(format!(
                            "nothing moved for {} ms: the host took no more of the body and did not answer",
                            still.as_millis()
                        )));
                    }
                    if progress.taken < len {
                        progress.floor.check(Instant::now()).map_err(|error| {
                            Error::Timeout(format!("the host takes the body too slowly: {error}"))
                        })?;
                    }
                }
            }
        }
    }

    /// `POST url` with an empty body and the web client's `Origin`; returns the status.
    pub async fn post_empty(&self, url: &str) -> Result<u16, Error> {
        let response = self
            .client
            .post(url)
            .header("Origin", ORIGIN)
            .body(Vec::new())
            .send()
            .await?;
        Ok(response.status().as_u16())
    }
}

/// How far an upload's body has been taken.
#[derive(Debug)]
struct Progress {
    /// When a piece was last taken.
    moved: Instant,
    /// The bytes taken so far.
    taken: u64,
    floor: RateFloor,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(1600);

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_drip_fails_once_a_window_passed_and_a_steady_body_never_does() {
        let start = Instant::now();
        // 1,000 bytes/s over 1.6 s: 1,600 bytes per window.
        let mut drip = RateFloor::new(1000, WINDOW, start);
        let mut steady = RateFloor::new(1000, WINDOW, start);
        for ms in (0..1600).step_by(100) {
            assert!(drip.record(1, at(start, ms)).is_ok(), "grace at {ms} ms");
        }
        let error = drip.record(1, at(start, 1600)).unwrap_err();
        assert!(matches!(&error, Error::Timeout(why) if why.contains("17 bytes moved")));
        // 110 bytes every 100 ms, 1,100 bytes/s, for ten windows.
        for ms in (0..16_000).step_by(100) {
            steady.record(110, at(start, ms)).unwrap();
        }
    }

    #[test]
    fn the_window_slides_and_a_burst_does_not_cover_a_later_stall() {
        let start = Instant::now();
        let mut floor = RateFloor::new(1000, WINDOW, start);
        // 10 MB at once, then a byte every 100 ms: the burst carries one window only.
        floor.record(10_000_000, start).unwrap();
        let mut failed = None;
        for ms in (100..10_000).step_by(100) {
            if floor.record(1, at(start, ms)).is_err() {
                failed = Some(ms);
                break;
            }
        }
        // The burst's part leaves the window 1.7 s in (16 parts of 100 ms, plus the current).
        assert_eq!(failed, Some(1700));
        // A long pause clears every part.
        let mut floor = RateFloor::new(1000, WINDOW, start);
        floor.record(5000, start).unwrap();
        assert!(floor.check(at(start, 60_000)).is_err());
    }

    #[test]
    fn no_floor_and_a_body_shorter_than_a_window_are_never_judged() {
        let start = Instant::now();
        let mut off = RateFloor::new(0, WINDOW, start);
        assert!(off.check(at(start, 100_000)).is_ok());
        let mut short = RateFloor::new(u64::MAX, WINDOW, start);
        assert!(short.record(1, at(start, 1500)).is_ok());
        assert!(short.check(at(start, 1600)).is_err());
    }
}
