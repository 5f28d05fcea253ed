//! Just enough HTTP/1.1 for the simulator: read one request head (and a bounded body) from a
//! loopback client, write one response. The websocket front and the media host share it.

use std::collections::HashMap;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Longest request head accepted; real upgrade requests are well under 2 KiB.
const MAX_HEAD: usize = 16 * 1024;

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ….
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// Query parameters, percent-decoded.
    pub query: HashMap<String, String>,
    /// Header names in lowercase.
    pub headers: HashMap<String, String>,
    /// Bytes read past the head (the start of the body).
    pub rest: Vec<u8>,
}

impl Request {
    /// A header's value by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket failed or closed early.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Not HTTP, or a head over the limit.
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// A body longer than the route allows.
    #[error("body too large")]
    TooLarge,
}

/// Reads a request head.
pub async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Request, Error> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            break end;
        }
        if buf.len() > MAX_HEAD {
            return Err(Error::Malformed("request head too long"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(Error::Malformed(
                "connection closed before the request head ended",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head =
        std::str::from_utf8(&buf[..head_end]).map_err(|_| Error::Malformed("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().ok_or(Error::Malformed("empty request"))?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed("bad request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Error::Malformed("not HTTP/1.x"));
    }
    let mut headers = HashMap::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or(Error::Malformed("bad header line"))?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, parse_query(query)),
        None => (target, HashMap::new()),
    };
    Ok(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query,
        headers,
        rest: buf[head_end + 4..].to_vec(),
    })
}

/// Reads the body announced by `Content-Length`, refusing more than `limit` bytes.
pub async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    request: &Request,
    limit: usize,
) -> Result<Vec<u8>, Error> {
    let length: usize = match request.header("content-length") {
        Some(value) => value
            .parse()
            .map_err(|_| Error::Malformed("bad Content-Length"))?,
        None => 0,
    };
    if length > limit {
        return Err(Error::TooLarge);
    }
    let mut body = request.rest.clone();
    body.truncate(length);
    let mut chunk = vec![0u8; 64 * 1024];
    while body.len() < length {
        let want = (length - body.len()).min(chunk.len());
        let n = stream.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Err(Error::Malformed("body ended early"));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(body)
}

/// Writes a complete response and flushes it.
pub async fn respond<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        413 => "Payload Too Large",
        _ => "Status",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
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
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 3;
                    }
                    None => {
                        out.push(b'%');
                        index += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            other => {
                out.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

    #[tokio::test]
    async fn parses_a_request() {
        let raw = b"POST /mms/image/abc?auth=a%2Bb&token=abc HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel".to_vec();
        let mut stream = std::io::Cursor::new([raw, b"lo".to_vec()].concat());
        let request = read_request(&mut stream).await.unwrap();
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/mms/image/abc")
        );
        assert_eq!(request.query["auth"], "a+b");
        assert_eq!(request.header("host"), Some("x"));
        assert_eq!(
            read_body(&mut stream, &request, 10).await.unwrap(),
            b"hello"
        );
        let mut stream = std::io::Cursor::new(b"garbage\r\n\r\n".to_vec());
        assert!(read_request(&mut stream).await.is_err());
    }
}
