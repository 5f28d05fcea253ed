//! The receive path of one relayed chat message, stage by stage and whole: open (HMAC verify and
//! AES-CBC decrypt), decode the node, decode the `WebMessageInfo`, map it to the `message` event
//! and write the JSON line a subscriber reads.
//!
//! `cargo bench -p waweb-core --bench pipeline`; frames per second = 1 / time per frame.

use std::hint::black_box;

use waweb_core::binary::{self, Content, Node};
use waweb_core::crypto::SessionKeys;
use waweb_core::message;
use waweb_core::wire::FrameCipher;
use waweb_proto::{Event, Notification};

fn main() {
    divan::main();
}

struct Fixture {
    cipher: FrameCipher,
    frame: Vec<u8>,
    node_bytes: Vec<u8>,
    wmi: Vec<u8>,
}

/// A typical incoming relay: a one-line text from a contact with a push name (~250 bytes).
fn fixture() -> Fixture {
    let cipher = FrameCipher::new(&SessionKeys::random());
    let info = message::incoming_text(
        "4915112345678@s.whatsapp.net",
        "3AA55DBD30C9CD2FD815",
        "Hey, are we still on for lunch tomorrow at the usual place? I can bring the documents along.",
        1_600_000_000,
        Some("Contact 0"),
        None,
    );
    let wmi = message::encode(&info);
    let node = Node::new("action")
        .attr("add", "relay")
        .with_content(Content::List(vec![
            Node::new("message").with_content(Content::Bytes(wmi.clone())),
        ]));
    let node_bytes = binary::encode(&node);
    let frame = cipher.seal_server_frame("1600000000-123", &node_bytes);
    Fixture {
        cipher,
        frame,
        node_bytes,
        wmi,
    }
}

/// The line exactly as the socket server writes it.
fn json_line(event: &Event, out: &mut Vec<u8>) {
    out.clear();
    serde_json::to_writer(&mut *out, &Notification::event(event)).expect("serialisable");
    out.push(b'\n');
}

/// The whole path; the figure the README quotes.
#[divan::bench(sample_count = 500, sample_size = 200)]
fn frame_to_json_line(bencher: divan::Bencher) {
    let fixture = fixture();
    eprintln!("relay frame: {} bytes", fixture.frame.len());
    let mut line = Vec::with_capacity(512);
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench_local(|| {
            let (_, node_bytes) = fixture
                .cipher
                .open_server_frame(black_box(&fixture.frame))
                .unwrap();
            let node = binary::decode(&node_bytes).unwrap();
            for child in node.children() {
                if let Some(bytes) = child.content_bytes() {
                    let info = message::decode_web_message_info(bytes).unwrap();
                    let event = Event::Message(message::into_event(info).unwrap());
                    json_line(&event, &mut line);
                }
            }
            black_box(&line);
        });
}

#[divan::bench(sample_count = 500, sample_size = 200)]
fn stage_open(bencher: divan::Bencher) {
    let fixture = fixture();
    bencher.bench_local(|| {
        fixture
            .cipher
            .open_server_frame(black_box(&fixture.frame))
            .unwrap()
    });
}

#[divan::bench(sample_count = 500, sample_size = 200)]
fn stage_decode_node(bencher: divan::Bencher) {
    let fixture = fixture();
    bencher.bench_local(|| binary::decode(black_box(&fixture.node_bytes)).unwrap());
}

#[divan::bench(sample_count = 500, sample_size = 200)]
fn stage_protobuf_and_event(bencher: divan::Bencher) {
    let fixture = fixture();
    bencher.bench_local(|| {
        message::into_event(message::decode_web_message_info(black_box(&fixture.wmi)).unwrap())
            .unwrap()
    });
}

#[divan::bench(sample_count = 500, sample_size = 200)]
fn stage_json_line(bencher: divan::Bencher) {
    let fixture = fixture();
    let info = message::decode_web_message_info(&fixture.wmi).unwrap();
    let event = Event::Message(message::into_event(info).unwrap());
    let mut line = Vec::with_capacity(512);
    bencher.bench_local(|| json_line(black_box(&event), &mut line));
}

#[divan::bench(sample_count = 500, sample_size = 200)]
fn stage_encode_node(bencher: divan::Bencher) {
    let fixture = fixture();
    let node = binary::decode(&fixture.node_bytes).unwrap();
    bencher.bench_local(|| binary::encode(black_box(&node)));
}
