//! The websocket to the server: opened with the web client's `Origin`, which the service
//! required, over TLS for `wss://` (rustls, the anchors of [`crate::tls`]) or plain for local
//! `ws://` peers. [`Net`] bundles it with the HTTP client, so both trust the same anchors.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The only origin the service accepted.
pub const ORIGIN: &str = "https://web.whatsapp.com";

/// The largest frame and message accepted from the server (8 MiB): tungstenite's default is
/// 64 MiB, so a hostile peer announcing a 100 MiB frame could make the daemon allocate it. A
/// refused frame ends the read with an error, which the connection treats like any other
/// protocol error (reconnect with backoff).
pub const MAX_FRAME_BYTES: usize = 8 << 20;

/// An open connection to the server.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why the websocket could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not a websocket URL.
    #[error("invalid server URL {url}: {message}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// TCP, TLS or the upgrade failed.
    #[error("connecting to {url}: {message}")]
    Connect {
        /// The URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// The connection did not open in time.
    #[error("connecting to {0}: timed out")]
    Timeout(String),
}

/// Everything that opens connections: the websocket's TLS settings and the HTTP client.
#[derive(Debug, Clone)]
pub struct Net {
    websocket_tls: Arc<rustls::ClientConfig>,
    /// Media downloads and the logout request.
    pub http: crate::http::Http,
}

impl Net {
    /// Trusting the webpki roots and, if given, the certificates in `ca_file`.
    pub fn new(ca_file: Option<&Path>) -> Result<Net, crate::http::Error> {
        Self::with_limits(ca_file, crate::http::Limits::default())
    }

    /// [`Net::new`] whose HTTP answers are held to `limits`.
    pub fn with_limits(
        ca_file: Option<&Path>,
        limits: crate::http::Limits,
    ) -> Result<Net, crate::http::Error> {
        Ok(Net {
            websocket_tls: crate::tls::client_config(ca_file, &[])?,
            http: crate::http::Http::new(ca_file, limits)?,
        })
    }

    /// Opens the websocket within `limit`.
    pub async fn connect(&self, url: &str, limit: Duration) -> Result<Socket, Error> {
        connect(url, limit, self.websocket_tls.clone()).await
    }
}

async fn connect(
    url: &str,
    limit: Duration,
    tls: Arc<rustls::ClientConfig>,
) -> Result<Socket, Error> {
    let mut request = url.into_client_request().map_err(|error| Error::BadUrl {
        url: url.to_owned(),
        message: error.to_string(),
    })?;
    request
        .headers_mut()
        .insert("Origin", HeaderValue::from_static(ORIGIN));
    let connector = tokio_tungstenite::Connector::Rustls(tls);
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        false,
        Some(connector),
    );
    match tokio::time::timeout(limit, connecting).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(error)) => Err(Error::Connect {
            url: url.to_owned(),
            message: error.to_string(),
        }),
        Err(_) => Err(Error::Timeout(url.to_owned())),
    }
}
