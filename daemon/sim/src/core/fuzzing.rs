//! The `sim_frames` fuzz target's entry (fuzz/README.md): client frames fed straight into a
//! [`Core`] that already has a paired, logged-in connection, without sockets.
//!
//! The costly parts (the session keys, a tokio runtime for the timers the core starts) are
//! built once; every input gets a fresh core with a copy of that session, so inputs do not
//! influence each other and thousands run per second.

use std::collections::HashSet;
use std::sync::LazyLock;

use tokio::sync::{broadcast, mpsc};
use waweb_core::crypto::{Secret, SessionKeys};
use waweb_core::wire::FrameCipher;

use super::{Conn, Core, Session, Tokens};
use crate::Config;
use crate::media_host::Store;
use crate::tasks::Tasks;

/// The connection every input speaks on.
const CONN: u64 = 1;
/// At most this many frames per input: deep enough for a login followed by actions.
const MAX_FRAMES: usize = 16;

struct Prepared {
    runtime: tokio::runtime::Runtime,
    keys: SessionKeys,
}

static PREPARED: LazyLock<Prepared> = LazyLock::new(|| Prepared {
    runtime: tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime"),
    keys: SessionKeys {
        enc: Secret::random(),
        mac: Secret::random(),
    },
});

/// One client frame, as the input spells it: a kind byte, a length byte, the bytes.
enum Frame<'a> {
    Text(String),
    /// Sealed with the session's keys, so the bytes reach the node decoder.
    Sealed(&'a [u8]),
    /// Sent as is: the frame authentication's turn.
    Raw(&'a [u8]),
}

fn frames(mut data: &[u8]) -> Vec<Frame<'_>> {
    let mut out = Vec::new();
    while let [kind, len, rest @ ..] = data {
        let (body, tail) = rest.split_at(usize::from(*len).min(rest.len()));
        out.push(match kind % 3 {
            0 => Frame::Text(String::from_utf8_lossy(body).into_owned()),
            1 => Frame::Sealed(body),
            _ => Frame::Raw(body),
        });
        data = tail;
        if out.len() == MAX_FRAMES {
            break;
        }
    }
    out
}

/// Feeds the frames `data` spells to a fresh core with a logged-in connection.
pub fn sim_frames(data: &[u8]) {
    let prepared = &*PREPARED;
    prepared.runtime.block_on(async {
        let (output, _output_rx) = broadcast::channel(64);
        let (inputs, _inputs_rx) = mpsc::channel(64);
        let tasks = Tasks::default();
        let config = Config::default();
        let store = Store::new("http://127.0.0.1:9/".into(), vec![], output.clone());
        let mut core = Core::new(config, store, output, inputs, tasks.clone());
        let (out, _out_rx) = mpsc::unbounded_channel();
        let client_id = "AAECAwQFBgcICQoLDA0ODw==".to_owned();
        core.conns.insert(CONN, logged_in_conn(out, &client_id));
        let cipher = FrameCipher::new(&prepared.keys);
        core.sessions.insert(
            client_id.clone(),
            Session {
                keys: prepared.keys.clone(),
                cipher: cipher.clone(),
                tokens: Tokens::fresh(),
                previous: None,
                conn: Some(CONN),
                offline: Vec::new(),
                offline_acks: Vec::new(),
                relayed: HashSet::new(),
            },
        );
        core.last_session = Some(client_id);
        core.last_conn = Some(CONN);
        for (n, frame) in frames(data).into_iter().enumerate() {
            match frame {
                Frame::Text(text) => core.on_text(CONN, &text),
                Frame::Sealed(node) => {
                    let tag = format!("{n}.--{n}");
                    core.on_binary(CONN, &cipher.seal_client_frame(&tag, 1, 0, node));
                }
                Frame::Raw(bytes) => core.on_binary(CONN, bytes),
            }
        }
        drop(core);
        tasks.stop().await;
    });
}

fn logged_in_conn(out: mpsc::UnboundedSender<crate::server::Outgoing>, client_id: &str) -> Conn {
    Conn {
        out,
        client_id: Some(client_id.to_owned()),
        current_ref: None,
        rerefs_used: 0,
        push_counter: 0,
        binary_counter: 0,
        session: Some(client_id.to_owned()),
        pending_challenge: None,
        half_open: false,
        gap: false,
    }
}

#[cfg(test)]
mod tests {
    use waweb_core::binary::{self, Node};

    use super::*;

    fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, u8::try_from(body.len()).unwrap()];
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn inputs_spell_frames() {
        let mut data = frame(0, b"1.--0,[\"admin\",\"test\"]");
        data.extend(frame(1, b"\xf8"));
        data.extend(frame(2, b"xyz"));
        data.push(0);
        let kinds: Vec<u8> = frames(&data)
            .iter()
            .map(|f| match f {
                Frame::Text(_) => 0,
                Frame::Sealed(_) => 1,
                Frame::Raw(_) => 2,
            })
            .collect();
        assert_eq!(kinds, [0, 1, 2]);
    }

    #[test]
    fn frames_of_every_kind_and_garbage_are_taken() {
        let node = binary::encode(&Node::new("action").attr("type", "set"));
        for data in [
            frame(0, b"?,,"),
            frame(0, b"5.--1,[\"query\",\"mediaConn\"]"),
            frame(
                0,
                b"6.--1,[\"action\",\"presence\",\"subscribe\",\"1@c.us\"]",
            ),
            frame(1, &node),
            frame(1, b"\xff\xff\xff"),
            frame(2, b"tag,\x00\x01"),
            b"\xff".to_vec(),
            Vec::new(),
        ] {
            sim_frames(&data);
        }
    }
}
