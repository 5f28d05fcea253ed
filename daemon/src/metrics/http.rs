//! `--metrics-listen`: `GET /metrics` in the OpenMetrics text format over plain HTTP/1.1.
//!
//! Off by default; it binds exactly the address it is given (loopback unless the address says
//! otherwise, with a warning then: the counters say how busy an account is). Every connection
//! is a task of its own with a deadline, so a slow or stuck client holds one of
//! [`MAX_CONNECTIONS`] slots for at most [`CONNECTION_DEADLINE`] and never the daemon; requests
//! are bounded by hyper's smallest read buffer and their bodies are never read.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::bus::Bus;
use crate::session::SessionHandle;

/// Scrapers connected at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 16;
/// A connection (its request line and headers, the answer, keep-alive requests) ends after this.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);
/// How long a client may take to send its headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// hyper's smallest read buffer: a request line and headers longer than this are refused.
const MAX_REQUEST_BYTES: usize = 8192;

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("metrics endpoint {address}: {source}")]
pub struct BindError {
    /// The address asked for.
    pub address: SocketAddr,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// Binds `address` as given, warning when it is not a loopback address.
pub async fn bind(address: SocketAddr) -> Result<TcpListener, BindError> {
    if !address.ip().is_loopback() {
        tracing::warn!(
            %address,
            "the metrics endpoint listens beyond loopback: anyone who can reach it sees the counters"
        );
    }
    TcpListener::bind(address)
        .await
        .map_err(|source| BindError { address, source })
}

type Response = hyper::Response<Full<Bytes>>;

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut response = hyper::Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Answers one request: the metrics for `GET /metrics`, 404 for another path, 405 for another
/// method.
async fn answer(request: hyper::Request<Incoming>, handle: SessionHandle, bus: Bus) -> Response {
    if request.uri().path() != "/metrics" {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found; try /metrics\n",
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = respond(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let snapshot = super::gather(&handle, &bus).await;
    let text = bus.metrics().openmetrics(&snapshot);
    respond(StatusCode::OK, super::CONTENT_TYPE, text)
}

/// Serves until `stop`; each connection runs on `tasks` (so shutdown waits for it) and is
/// cancelled with the rest.
pub async fn serve(
    listener: TcpListener,
    handle: SessionHandle,
    bus: Bus,
    (tasks, stop): (TaskTracker, CancellationToken),
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of descriptors, usually: wait a little instead of spinning.
                tracing::debug!(%error, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!("metrics endpoint: too many connections; closing one");
            continue;
        };
        let (handle, bus, stop) = (handle.clone(), bus.clone(), stop.clone());
        tasks.spawn(async move {
            let _slot = slot;
            let service = service_fn(move |request| {
                let answered = answer(request, handle.clone(), bus.clone());
                async move { Ok::<_, Infallible>(answered.await) }
            });
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_REQUEST_BYTES);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                ended = tokio::time::timeout(CONNECTION_DEADLINE, connection) => {
                    if let Ok(Err(error)) = ended {
                        tracing::debug!(%error, "metrics endpoint: connection ended");
                    }
                }
                () = stop.cancelled() => {}
            }
        });
    }
}
