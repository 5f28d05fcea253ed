#![no_main]
//! The node decoder is total: any bytes give a node or an error, and a node re-encodes to bytes
//! that decode to the same node, up to what the format itself aliases: `c.us` is written as the
//! `s.whatsapp.net` token, and text content that the official writer would not pack or pair
//! (nested JIDs, empty text) comes back as the same bytes rather than as text.

use libfuzzer_sys::fuzz_target;
use waweb_core::binary::{self, Content, Node};

fn canonical(node: &Node) -> String {
    fn walk(node: &Node) -> Node {
        let content = match &node.content {
            Content::Text(text) => Content::Bytes(text.as_bytes().to_vec()),
            Content::List(children) => Content::List(children.iter().map(walk).collect()),
            other => other.clone(),
        };
        Node {
            tag: node.tag.clone(),
            attrs: node.attrs.clone(),
            content,
        }
    }
    serde_json::to_string(&walk(node)).unwrap().replace("c.us", "s.whatsapp.net")
}

fuzz_target!(|data: &[u8]| {
    if let Ok(node) = binary::decode(data) {
        let again = binary::decode(&binary::encode(&node)).expect("our own encoding decodes");
        assert_eq!(canonical(&again), canonical(&node));
        let json = serde_json::to_value(&node).unwrap();
        let _ = Node::from_json(&json);
    }
});
