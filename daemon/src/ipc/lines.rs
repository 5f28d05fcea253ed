//! Splitting a client's bytes into lines of bounded length.
//!
//! Written by hand rather than with `tokio_util::codec::LinesCodec`: that codec yields `String`s
//! and reports a line that is not UTF-8 as an I/O error, after which a framed stream is done,
//! while the contract (DESIGN.md section 4) wants such a line answered with -32700 and the
//! connection to go on; and the reader must hand its half back at the end of input for the
//! hang-up watch. What it does is small: bound each line, report `line_too_long` as soon as a
//! line crosses the bound, skip the rest of it without holding it, skip blank lines.
//!
//! ```text
//! {"jsonrpc":"2.0","id":1,"method":"status"}\n  -> Line::Text(b"{…}")
//! <2 MiB without a newline>\n                     -> Line::TooLong, then the next line
//! ```

use std::io;

use tokio::io::{AsyncBufReadExt, BufReader};

/// One line from the client.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// A line without its `\n`.
    Text(Vec<u8>),
    /// A line longer than the limit, reported as soon as it crosses the limit; the rest of it is
    /// read and dropped.
    TooLong,
}

/// Splits the client's bytes into lines of bounded length.
///
/// Cancel-safe: everything read so far lives in `self`, and the only await is `fill_buf`, which
/// keeps its data until `consume`.
pub(super) struct LineReader<R> {
    inner: BufReader<R>,
    line: Vec<u8>,
    max: usize,
    discarding: bool,
}

impl<R: tokio::io::AsyncRead + Unpin> LineReader<R> {
    pub(super) fn new(read: R, max: usize) -> Self {
        LineReader {
            inner: BufReader::new(read),
            line: Vec::new(),
            max,
            discarding: false,
        }
    }

    pub(super) fn into_inner(self) -> R {
        self.inner.into_inner()
    }

    /// The next non-blank line; `None` at the end of the stream.
    pub(super) async fn next(&mut self) -> io::Result<Option<Line>> {
        loop {
            let buf = self.inner.fill_buf().await?;
            if buf.is_empty() {
                // A last line without `\n` still counts.
                let line = std::mem::take(&mut self.line);
                self.discarding = false;
                if is_blank(&line) {
                    return Ok(None);
                }
                return Ok(Some(Line::Text(line)));
            }
            let newline = buf.iter().position(|&byte| byte == b'\n');
            let take = newline.unwrap_or(buf.len());
            let consumed = newline.map_or(take, |at| at + 1);
            let mut result = None;
            if self.discarding {
                self.discarding = newline.is_none();
            } else if self.line.len() + take > self.max {
                self.line = Vec::new();
                self.discarding = newline.is_none();
                result = Some(Line::TooLong);
            } else {
                self.line.extend_from_slice(&buf[..take]);
                if newline.is_some() {
                    let line = std::mem::take(&mut self.line);
                    if !is_blank(&line) {
                        result = Some(Line::Text(line));
                    }
                }
            }
            self.inner.consume(consumed);
            if result.is_some() {
                return Ok(result);
            }
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}
