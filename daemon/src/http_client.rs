//! A small HTTP/1.1 client for the two plain HTTP exchanges of the protocol: downloading media
//! (PROTOCOL.md 10.3) and the logout request (section 6). HTTPS through rustls with the webpki
//! roots; plain HTTP for local peers such as the simulator. Bodies stream in chunks, so a large
//! download never sits in memory.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_HEAD: usize = 64 * 1024;
const MAX_REDIRECTS: usize = 5;
const READ_CHUNK: usize = 64 * 1024;

/// Why a request failed before a status line arrived, or while its body was read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Only `http://` and `https://` URLs with a host.
    #[error("unsupported URL {0:?}")]
    BadUrl(String),
    /// Connecting, TLS or the socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer did not answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The answer is not HTTP/1.x as this client reads it.
    #[error("malformed HTTP response: {0}")]
    Malformed(&'static str),
    /// More redirects than a download should need.
    #[error("too many redirects")]
    TooManyRedirects,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A URL split into what a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, Error> {
    // The query may carry tokens (the logout request does): never repeat it in an error.
    let bad = || Error::BadUrl(url.split('?').next().unwrap_or_default().to_owned());
    let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad());
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host, port.parse().map_err(|_| bad())?)
        }
        _ => (authority, if tls { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['@', ' ']) {
        return Err(bad());
    }
    Ok(Target {
        tls,
        host: host.to_owned(),
        port,
        path,
    })
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots =
                rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

async fn connect(target: &Target) -> Result<Box<dyn Stream>, Error> {
    let tcp = timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((target.host.as_str(), target.port)),
    )
    .await
    .map_err(|_| Error::Timeout)??;
    if !target.tls {
        return Ok(Box::new(tcp));
    }
    let name = rustls::pki_types::ServerName::try_from(target.host.clone())
        .map_err(|_| Error::BadUrl(target.host.clone()))?;
    let tls = timeout(
        CONNECT_TIMEOUT,
        tokio_rustls::TlsConnector::from(tls_config()).connect(name, tcp),
    )
    .await
    .map_err(|_| Error::Timeout)??;
    Ok(Box::new(tls))
}

enum Framing {
    Length(u64),
    Chunked { left_in_chunk: u64, done: bool },
    UntilClose,
}

/// A response whose body is read chunk by chunk.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names in lowercase.
    pub headers: HashMap<String, String>,
    reader: BufReader<Box<dyn Stream>>,
    framing: Framing,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .finish()
    }
}

async fn read_timed<F: std::future::Future<Output = std::io::Result<T>>, T>(
    future: F,
) -> Result<T, Error> {
    Ok(timeout(READ_TIMEOUT, future)
        .await
        .map_err(|_| Error::Timeout)??)
}

impl Response {
    /// The next piece of the body, or `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        match &mut self.framing {
            Framing::Length(0) => Ok(None),
            Framing::Length(left) => {
                let want = (*left).min(READ_CHUNK as u64) as usize;
                let mut buf = vec![0u8; want];
                let n = read_timed(self.reader.read(&mut buf)).await?;
                if n == 0 {
                    return Err(Error::Malformed("body shorter than Content-Length"));
                }
                *left -= n as u64;
                buf.truncate(n);
                Ok(Some(buf))
            }
            Framing::UntilClose => {
                let mut buf = vec![0u8; READ_CHUNK];
                let n = read_timed(self.reader.read(&mut buf)).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.truncate(n);
                Ok(Some(buf))
            }
            Framing::Chunked { done: true, .. } => Ok(None),
            Framing::Chunked {
                left_in_chunk,
                done,
            } => {
                if *left_in_chunk == 0 {
                    let mut line = String::new();
                    read_timed(read_line_limited(&mut self.reader, &mut line)).await?;
                    let size = line.trim().split(';').next().unwrap_or_default();
                    let size = u64::from_str_radix(size, 16)
                        .map_err(|_| Error::Malformed("bad chunk size"))?;
                    if size == 0 {
                        // Trailers, then the empty line.
                        loop {
                            let mut trailer = String::new();
                            read_timed(read_line_limited(&mut self.reader, &mut trailer)).await?;
                            if trailer.trim().is_empty() {
                                break;
                            }
                        }
                        *done = true;
                        return Ok(None);
                    }
                    *left_in_chunk = size;
                }
                let want = (*left_in_chunk).min(READ_CHUNK as u64) as usize;
                let mut buf = vec![0u8; want];
                let n = read_timed(self.reader.read(&mut buf)).await?;
                if n == 0 {
                    return Err(Error::Malformed("chunked body ended early"));
                }
                *left_in_chunk -= n as u64;
                buf.truncate(n);
                if *left_in_chunk == 0 {
                    let mut crlf = String::new();
                    read_timed(read_line_limited(&mut self.reader, &mut crlf)).await?;
                }
                Ok(Some(buf))
            }
        }
    }

    /// The whole body, refusing more than `limit` bytes.
    pub async fn bytes(mut self, limit: usize) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            if body.len() + chunk.len() > limit {
                return Err(Error::Malformed("body larger than expected"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

async fn read_line_limited<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    line: &mut String,
) -> std::io::Result<usize> {
    let mut limited = reader.take(MAX_HEAD as u64);
    let n = limited.read_line(line).await?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    Ok(n)
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for query values.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Sends one request and reads the response head; follows redirects for GET.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, Error> {
    let mut url = url.to_owned();
    for _ in 0..=MAX_REDIRECTS {
        let target = parse_url(&url)?;
        let response = send(method, &target, headers, body).await?;
        let redirect = matches!(response.status, 301 | 302 | 303 | 307 | 308) && method == "GET";
        match response.headers.get("location").filter(|_| redirect) {
            Some(location)
                if location.starts_with("http://") || location.starts_with("https://") =>
            {
                url = location.clone();
            }
            Some(location) if location.starts_with('/') => {
                let scheme = if target.tls { "https" } else { "http" };
                url = format!("{scheme}://{}:{}{location}", target.host, target.port);
            }
            _ => return Ok(response),
        }
    }
    Err(Error::TooManyRedirects)
}

async fn send(
    method: &str,
    target: &Target,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, Error> {
    let mut stream = connect(target).await?;
    let default_port = if target.tls { 443 } else { 80 };
    let host = if target.port == default_port {
        target.host.clone()
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: wawebd/{}\r\nAccept: */*\r\nConnection: close\r\n",
        target.path,
        env!("CARGO_PKG_VERSION")
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method != "GET" || !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    read_timed(async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.flush().await
    })
    .await?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    read_timed(read_line_limited(&mut reader, &mut status_line)).await?;
    let mut parts = status_line.split_whitespace();
    let (Some(version), Some(status)) = (parts.next(), parts.next()) else {
        return Err(Error::Malformed("no status line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Error::Malformed("not HTTP/1.x"));
    }
    let status: u16 = status
        .parse()
        .map_err(|_| Error::Malformed("bad status code"))?;
    let mut response_headers = HashMap::new();
    let mut total = status_line.len();
    loop {
        let mut line = String::new();
        total += read_timed(read_line_limited(&mut reader, &mut line)).await?;
        if total > MAX_HEAD {
            return Err(Error::Malformed("response head too long"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(Error::Malformed("bad header line"))?;
        response_headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let chunked = response_headers
        .get("transfer-encoding")
        .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
    let framing = if method == "HEAD" || status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked {
            left_in_chunk: 0,
            done: false,
        }
    } else if let Some(length) = response_headers.get("content-length") {
        Framing::Length(
            length
                .trim()
                .parse()
                .map_err(|_| Error::Malformed("bad Content-Length"))?,
        )
    } else {
        Framing::UntilClose
    };
    Ok(Response {
        status,
        headers: response_headers,
        reader,
        framing,
    })
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn urls() {
        let target = parse_url("https://mmg.whatsapp.net/d/f/x.enc?a=b").unwrap();
        assert_eq!(
            (
                target.tls,
                target.host.as_str(),
                target.port,
                target.path.as_str()
            ),
            (true, "mmg.whatsapp.net", 443, "/d/f/x.enc?a=b")
        );
        let target = parse_url("http://127.0.0.1:8080").unwrap();
        assert_eq!((target.port, target.path.as_str()), (8080, "/"));
        let target = parse_url("http://[::1]:99/x").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 99));
        for bad in [
            "ftp://x/",
            "https://",
            "http://:80/",
            "http://h:notaport/",
            "mmg.whatsapp.net/x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    async fn serve_once(response: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            socket.write_all(response).await.unwrap();
        });
        format!("http://{address}/x")
    }

    #[tokio::test]
    async fn bodies_by_length_chunks_and_close() {
        let url = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA").await;
        let response = request("GET", &url, &[], b"").await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.bytes(100).await.unwrap(), b"hello");
        let url = serve_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\nT: 1\r\n\r\n").await;
        assert_eq!(
            request("GET", &url, &[], b"")
                .await
                .unwrap()
                .bytes(100)
                .await
                .unwrap(),
            b"hello"
        );
        let url = serve_once(b"HTTP/1.0 410 Gone\r\n\r\nbye").await;
        let response = request("GET", &url, &[], b"").await.unwrap();
        assert_eq!(response.status, 410);
        assert_eq!(response.bytes(100).await.unwrap(), b"bye");
        let url = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort").await;
        assert!(
            request("GET", &url, &[], b"")
                .await
                .unwrap()
                .bytes(100)
                .await
                .is_err()
        );
        let url = serve_once(b"garbage\r\n\r\n").await;
        assert!(request("GET", &url, &[], b"").await.is_err());
        let url = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n").await;
        assert!(
            request("GET", &url, &[], b"")
                .await
                .unwrap()
                .bytes(10)
                .await
                .is_err()
        );
    }
}
