//! The websocket to the server: opened with the web client's `Origin`, which the service
//! required, over TLS for `wss://` (rustls, webpki roots) or plain for local `ws://` peers.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The only origin the service accepted.
pub const ORIGIN: &str = "https://web.whatsapp.com";

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

/// Opens the websocket within `limit`.
pub async fn connect(url: &str, limit: Duration) -> Result<Socket, Error> {
    // tokio-tungstenite's TLS takes the process-wide provider; ring is the one built in.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut request = url.into_client_request().map_err(|error| Error::BadUrl {
        url: url.to_owned(),
        message: error.to_string(),
    })?;
    request
        .headers_mut()
        .insert("Origin", HeaderValue::from_static(ORIGIN));
    match tokio::time::timeout(limit, tokio_tungstenite::connect_async(request)).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(error)) => Err(Error::Connect {
            url: url.to_owned(),
            message: error.to_string(),
        }),
        Err(_) => Err(Error::Timeout(url.to_owned())),
    }
}
