//! The simulator's HTTP/1.1 side, on hyper: one accept loop that the websocket front and the
//! media host share, plain or behind TLS, and the small helpers their services use (responses,
//! bounded bodies, query strings).
//!
//! A TLS handshake that fails (a client that does not trust the certificate, or speaks plain
//! HTTP to a TLS port) is logged at debug and the connection dropped; nothing else notices.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::tasks::Tasks;

/// What a service is handed.
pub type Request = hyper::Request<Incoming>;
/// A response body: complete ([`full`]) or, for the media host's faults, one that breaks off or
/// never arrives.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;
/// What a service answers.
pub type Response = hyper::Response<Body>;

/// A service's answer instead of a response: close the connection without one (the media
/// host's `drop_upload` fault).
#[derive(Debug, thiserror::Error)]
#[error("hung up without a response")]
pub struct HangUp;

/// A client that opens a connection but never finishes the TLS handshake is cut after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections forever and serves each with `service`, through `tls` when given. A
/// service that answers [`HangUp`] has its connection closed without a response.
pub async fn serve<S, F>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    what: &'static str,
    tasks: Tasks,
    service: S,
) where
    S: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response, HangUp>> + Send + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Every frame goes out when written: Nagle would hold a push back until the client
        // acknowledged the last one (up to 40 ms of delayed ACK), and paused-time tests skip
        // ahead while it waits.
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let tls = tls.clone();
        tasks.spawn(async move {
            let Some(tls) = tls else {
                return serve_connection(stream, what, service).await;
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                Ok(Ok(stream)) => serve_connection(stream, what, service).await,
                Ok(Err(error)) => tracing::debug!("sim {what}: TLS handshake failed: {error}"),
                Err(_) => tracing::debug!("sim {what}: TLS handshake timed out"),
            }
        });
    }
}

async fn serve_connection<I, S, F>(io: I, what: &'static str, service: S)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Fn(Request) -> F + Send + 'static,
    F: Future<Output = Result<Response, HangUp>> + Send + 'static,
{
    let service = service_fn(service);
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    if let Err(error) = connection.await {
        tracing::debug!("sim {what}: connection ended: {error}");
    }
}

/// A complete body.
pub fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// A complete response.
pub fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
    with_body(status, content_type, full(body))
}

/// A response with any body.
pub fn with_body(status: u16, content_type: &str, body: Body) -> Response {
    let mut response = hyper::Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// A header's value as text (lossy for bytes that are not UTF-8).
pub fn header(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Longer than the route allows.
    #[error("body too large")]
    TooLarge,
    /// The client went away or sent a broken body.
    #[error("reading the body: {0}")]
    Broken(String),
}

/// Reads the whole body, refusing more than `limit` bytes (by `Content-Length` before reading),
/// and hands each piece to `each` as it arrives (an upload is hashed while it is received).
/// With `pace` (bytes per second) it reads no faster than that.
pub async fn read_body(
    request: Request,
    limit: usize,
    pace: Option<u64>,
    mut each: impl FnMut(&Bytes),
) -> Result<Vec<u8>, BodyError> {
    let started = tokio::time::Instant::now();
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = request.into_body();
    // One copy, into a buffer of the announced size: large uploads are not collected in pieces
    // and concatenated.
    let mut whole = Vec::with_capacity(announced.unwrap_or(0) as usize);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| BodyError::Broken(error.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if whole.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            each(&data);
            whole.extend_from_slice(&data);
            if let Some(rate) = pace.filter(|rate| *rate > 0) {
                let due = Duration::from_secs_f64(whole.len() as f64 / rate as f64);
                tokio::time::sleep_until(started + due).await;
            }
        }
    }
    Ok(whole)
}

/// Reads the body and drops it, all of it or (`half`) about half of what its `Content-Length`
/// announces (all without one), for a connection closed mid-upload.
pub async fn discard_body(request: Request, half: bool) {
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    let stop = if half { announced / 2 } else { u64::MAX };
    let mut body = request.into_body();
    let mut read = 0u64;
    while read < stop {
        match body.frame().await {
            Some(Ok(frame)) => {
                read += frame.data_ref().map_or(0, |data| data.len() as u64);
            }
            _ => return,
        }
    }
}

/// Query parameters, percent-decoded; a key without `=` has the empty value.
pub fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+`; malformed escapes are kept as they are.
pub fn percent_decode(text: &str) -> String {
    // `+` first: an escaped plus (`%2B`) must stay a plus.
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip() {
        for text in ["a+b/c=", "1@abc==", "", "%", "%4", "x%zz", "%41"] {
            let _ = percent_decode(text);
        }
        assert_eq!(percent_decode("%41%2b+x"), "A+ x");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        // What the daemon's `http::percent_encode("1@a+b/c==")` writes.
        assert_eq!(percent_decode("1%40a%2Bb%2Fc%3D%3D"), "1@a+b/c==");
    }

    #[test]
    fn parses_a_query() {
        let query = parse_query(Some("auth=a%2Bb&token=abc&flag&&=x"));
        assert_eq!(query["auth"], "a+b");
        assert_eq!(query["token"], "abc");
        assert_eq!(query["flag"], "");
        assert_eq!(query[""], "x");
        assert!(parse_query(None).is_empty());
    }
}
