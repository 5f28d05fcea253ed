//! Entry points for the fuzz targets in `fuzz/` (not an API): the socket's line framing,
//! request parsing and every method's params, without a session or any I/O.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde_json::Value;
use waweb_proto::{Call, MAX_LINE};

use super::lines::{Line, LineBudget, LineReader};
use super::parse_request;

/// Frames `data` into lines as a connection does (read in chunks of a size taken from the
/// first byte, a budget of two lines), then parses each line and its request.
pub fn rpc_lines(data: &[u8]) {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let budget = LineBudget::new(2 * MAX_LINE);
    let mut reader = LineReader::new(Chunked { data: rest, chunk }, MAX_LINE, budget);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        // A byte slice never blocks, so each read completes in one poll.
        let Poll::Ready(next) = pin!(reader.next()).poll(&mut context) else {
            panic!("reading from memory returned Pending");
        };
        match next {
            Ok(Some(Line::Text(line))) => {
                if let Ok(value) = serde_json::from_slice::<Value>(&line) {
                    let _ = parse_request(value);
                }
            }
            Ok(Some(Line::TooLong | Line::Busy)) => {}
            Ok(None) | Err(_) => return,
        }
    }
}

/// Parses params for the method the first byte picks (of every method, plus one unknown name),
/// from the JSON in the rest.
pub fn rpc_params(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let names = Call::NAMES;
    let method = names.get(usize::from(pick) % (names.len() + 1)).copied();
    let params = serde_json::from_slice::<Value>(rest).ok();
    if let Ok(call) = Call::parse(method.unwrap_or("no_such_method"), params) {
        // What parses re-encodes, and parses again to the same call.
        let again = call.params().expect("parsed params encode");
        assert_eq!(Call::parse(call.name(), again).ok(), Some(call));
    }
}

/// A reader that hands out at most `chunk` bytes per read, so line ends fall anywhere.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl tokio::io::AsyncRead for Chunked<'_> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let take = self.chunk.min(self.data.len()).min(buf.remaining());
        let (head, tail) = self.data.split_at(take);
        buf.put_slice(head);
        self.data = tail;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_params_take_garbage() {
        rpc_lines(b"\x03{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}\n\xff\xfe\n[1]\n");
        rpc_lines(&[0; 10]);
        rpc_lines(b"");
        let mut long = vec![7u8];
        long.extend(std::iter::repeat_n(b'a', MAX_LINE + 10));
        rpc_lines(&long);
        for pick in 0..=u8::MAX {
            rpc_params(&[pick]);
            rpc_params(&[&[pick][..], b"{}"].concat());
            rpc_params(&[&[pick][..], b"{\"chat\":1,\"limit\":-1}"].concat());
        }
    }
}
