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
    read_timeout: Duration,
}

impl Http {
    /// A client trusting the webpki roots and `ca_file`, whose answers may pause at most
    /// `read_timeout` between two reads.
    pub fn new(ca_file: Option<&Path>, read_timeout: Duration) -> Result<Http, Error> {
        let tls = tls::client_config(ca_file, &[b"http/1.1"])?;
        let builder = || {
            reqwest::Client::builder()
                .tls_backend_preconfigured((*tls).clone())
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
                .no_proxy()
        };
        Ok(Http {
            client: builder().read_timeout(read_timeout).build()?,
            upload: builder().build()?,
            read_timeout,
        })
    }

    /// The longest pause allowed between two reads (`[http] read_timeout_ms`).
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// `GET url` with the web client's `Origin`; the body is left to stream.
    pub async fn get(&self, url: &str) -> Result<reqwest::Response, Error> {
        Ok(self.client.get(url).header("Origin", ORIGIN).send().await?)
    }

    /// `POST url` with a body of `len` bytes that streams from `body`, as the web client
    /// uploaded media (PROTOCOL.md 10.6: `Origin`, `Referer`, `application/octet-stream`).
    /// Fails with [`Error::Timeout`] once no piece of the body was taken and no answer came for
    /// the read timeout; a slow upload that keeps moving is waited for. The answer's body is
    /// the caller's to bound.
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
        let moved = Arc::new(Mutex::new(Instant::now()));
        let seen = Arc::clone(&moved);
        let body = body.inspect(move |_| *lock(&seen) = Instant::now());
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
        loop {
            let deadline = tokio::time::Instant::from_std(*lock(&moved) + self.read_timeout);
            tokio::select! {
                answer = &mut sending => return Ok(answer?),
                () = tokio::time::sleep_until(deadline) => {
                    let still = lock(&moved).elapsed();
                    if still >= self.read_timeout {
                        return Err(Error::Timeout(format!(
                            "nothing moved for {} ms: the host took no more of the body and did not answer",
                            still.as_millis()
                        )));
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
