//! Writes N typical ~255-byte relay frames, each prefixed by its length (the input of
//! `wawebd decode --stream`), and prints the keys as `ENC_KEY=… MAC_KEY=…` on stderr.
//!
//! `cargo run --release --example make_frames -- 1000000 > frames.bin`

use std::io::{BufWriter, Write};

use waweb_core::binary::{self, Content, Node};
use waweb_core::crypto::SessionKeys;
use waweb_core::wire::FrameCipher;
use waweb_core::{hex, message};

fn main() -> std::io::Result<()> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let keys = SessionKeys::random();
    eprintln!(
        "ENC_KEY={} MAC_KEY={}",
        hex::encode(keys.enc.expose()),
        hex::encode(keys.mac.expose())
    );
    let cipher = FrameCipher::new(&keys);
    let info = message::incoming_text(
        "4915112345678@s.whatsapp.net",
        "3AA55DBD30C9CD2FD815",
        "Hey, are we still on for lunch tomorrow at the usual place? I can bring the documents along.",
        1_600_000_000,
        Some("Contact 0"),
        None,
    );
    let node = Node::new("action")
        .attr("add", "relay")
        .with_content(Content::List(vec![
            Node::new("message").with_content(Content::Bytes(message::encode(&info))),
        ]));
    let node_bytes = binary::encode(&node);
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    for index in 0..count {
        let frame = cipher.seal_server_frame(&format!("1600000000-{index}"), &node_bytes);
        out.write_all(&(frame.len() as u32).to_be_bytes())?;
        out.write_all(&frame)?;
    }
    out.flush()
}
