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
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt, BufReader};

/// The bytes of unfinished lines held for all connections together.
///
/// Each connection may hold one line of up to `MAX_LINE` bytes, but 200 clients each sending
/// most of a line and then waiting would hold 200 of them; past this budget the line that
/// would grow it is dropped instead ([`Line::Busy`]), so memory stays bounded whatever the
/// number of clients.
#[derive(Debug)]
pub(crate) struct LineBudget {
    held: AtomicUsize,
    max: usize,
}

impl LineBudget {
    pub(crate) fn new(max: usize) -> Arc<LineBudget> {
        Arc::new(LineBudget {
            held: AtomicUsize::new(0),
            max,
        })
    }

    /// Takes `bytes` from the budget, or nothing and `false` when that would exceed it.
    fn take(&self, bytes: usize) -> bool {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|&total| total <= self.max)
            })
            .is_ok()
    }

    fn give(&self, bytes: usize) {
        self.held.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// The bytes held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }
}

/// One line from the client.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// A line without its `\n`.
    Text(Vec<u8>),
    /// A line longer than the limit, reported as soon as it crosses the limit; the rest of it is
    /// read and dropped.
    TooLong,
    /// A line that would have taken the [`LineBudget`] of all connections over its bound,
    /// dropped as [`Line::TooLong`] is.
    Busy,
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
    /// The share of the budget that `line` holds.
    held: Held,
}

/// Bytes taken from a [`LineBudget`], given back when dropped (also when the connection's
/// task is cancelled mid-line).
struct Held {
    budget: Arc<LineBudget>,
    bytes: usize,
}

impl Held {
    fn grow(&mut self, bytes: usize) -> bool {
        let taken = self.budget.take(bytes);
        if taken {
            self.bytes += bytes;
        }
        taken
    }

    fn release(&mut self) {
        self.budget.give(std::mem::take(&mut self.bytes));
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.release();
    }
}

impl<R: tokio::io::AsyncRead + Unpin> LineReader<R> {
    pub(super) fn new(read: R, max: usize, budget: Arc<LineBudget>) -> Self {
        LineReader {
            inner: BufReader::new(read),
            line: Vec::new(),
            max,
            discarding: false,
            held: Held { budget, bytes: 0 },
        }
    }

    pub(super) fn into_inner(self) -> R {
        self.inner.into_inner()
    }

    /// The line so far, its share of the budget given back.
    fn take_line(&mut self) -> Vec<u8> {
        self.held.release();
        std::mem::take(&mut self.line)
    }

    /// The next non-blank line; `None` at the end of the stream.
    pub(super) async fn next(&mut self) -> io::Result<Option<Line>> {
        loop {
            let buf = self.inner.fill_buf().await?;
            if buf.is_empty() {
                // A last line without `\n` still counts.
                let line = self.take_line();
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
                drop(self.take_line());
                self.discarding = newline.is_none();
                result = Some(Line::TooLong);
            } else if newline.is_none() && !self.held.grow(take) {
                // Only unfinished lines count: a whole line goes to the caller at once.
                drop(self.take_line());
                self.discarding = true;
                result = Some(Line::Busy);
            } else {
                self.line.extend_from_slice(&buf[..take]);
                if newline.is_some() {
                    let line = self.take_line();
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
