//! [`Node`] to bytes, as the official web client wrote them (PROTOCOL.md 7.7).

use super::{Content, Node, PACKED_MAX, tag, token};

/// Encodes `node` into a fresh buffer.
///
/// A node may hold at most 65535 children and 32766 attributes (the LIST_16 limit); nodes built
/// from outside input go through [`Node::from_json`](super::Node::from_json), which checks that.
pub fn encode(node: &Node) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_into(node, &mut out);
    out
}

/// Appends the bytes of `node` to `out`.
pub fn encode_into(node: &Node, out: &mut Vec<u8>) {
    let has_content = !matches!(node.content, Content::Null);
    list_start(1 + 2 * node.attrs.len() + usize::from(has_content), out);
    string(&node.tag, false, out);
    for (key, value) in &node.attrs {
        string(key, false, out);
        string(value, false, out);
    }
    match &node.content {
        Content::Null => {}
        Content::List(children) => {
            list_start(children.len(), out);
            for child in children {
                encode_into(child, out);
            }
        }
        Content::Bytes(bytes) => byte_length_and_bytes(bytes, out),
        Content::Text(text) => string(text, true, out),
    }
}

fn list_start(size: usize, out: &mut Vec<u8>) {
    match size {
        0 => out.push(tag::LIST_EMPTY),
        1..=255 => out.extend_from_slice(&[tag::LIST_8, size as u8]),
        _ => {
            let size = u16::try_from(size).expect("a node list holds at most 65535 entries");
            out.push(tag::LIST_16);
            out.extend_from_slice(&size.to_be_bytes());
        }
    }
}

fn byte_length_and_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    let len = bytes.len();
    if len < 1 << 8 {
        out.extend_from_slice(&[tag::BINARY_8, len as u8]);
    } else if len < 1 << 20 {
        out.push(tag::BINARY_20);
        out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    } else {
        let len = u32::try_from(len).expect("node content is limited to 4 GiB by the format");
        out.push(tag::BINARY_32);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

fn string(text: &str, is_content: bool, out: &mut Vec<u8>) {
    if text == "c.us" && !is_content {
        out.push(token::index_of("s.whatsapp.net").expect("token 80"));
    } else if let Some(index) = token::index_of(text) {
        out.push(index);
    } else if let Some((user, server)) = split_jid(text) {
        out.push(tag::JID_PAIR);
        jid_user(user, out);
        string(server, false, out);
    } else if is_content && !text.is_empty() && nibble_packable(text) {
        // Numbers as text content (e.g. the frequent-contacts list) go NIBBLE_8-packed, as the
        // real server wrote them: a raw string would come back as bytes, and B then tries to
        // read those bytes as a WebMessageInfo and drops the session (PROTOCOL.md 8.3).
        packed(tag::NIBBLE_8, text, out);
    } else if is_content && !text.is_empty() && hex_packable(text) {
        // Likewise hex text: packed, it reads back as text rather than bytes.
        packed(tag::HEX_8, text, out);
    } else {
        byte_length_and_bytes(text.as_bytes(), out);
    }
}

fn hex_packable(text: &str) -> bool {
    text.len() <= PACKED_MAX
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

fn nibble_packable(text: &str) -> bool {
    text.len() <= PACKED_MAX
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// The user and server of `text` if the official writer would write it as a JID pair.
fn split_jid(text: &str) -> Option<(&str, &str)> {
    let at = text.find('@')?;
    if at == 0 {
        return None;
    }
    let (user, server) = (&text[..at], &text[at + 1..]);
    const SERVERS: [&str; 6] = [
        "s.whatsapp.net",
        "c.us",
        "g.us",
        "broadcast",
        "call",
        "b.whatsapp.net",
    ];
    let known_server = SERVERS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(server));
    (known_server && valid_jid_user(user)).then_some((user, server))
}

/// A user part may end in `.<agent>` and/or `:<device>` (numbers up to 255, as JID_AD carries
/// them), nothing else odd.
fn valid_jid_user(user: &str) -> bool {
    let mut rest = user;
    if let Some((head, device)) = rest.rsplit_once(':') {
        if !short_number(device) {
            return false;
        }
        rest = head;
    }
    if let Some((head, agent)) = rest.rsplit_once('.') {
        if !short_number(agent) {
            return false;
        }
        rest = head;
    }
    !rest.is_empty() && !rest.contains(['.', ':', '@'])
}

fn short_number(text: &str) -> bool {
    (1..=3).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit())
}

fn jid_user(user: &str, out: &mut Vec<u8>) {
    if user.is_empty() {
        out.push(tag::LIST_EMPTY);
    } else if nibble_packable(user) {
        packed(tag::NIBBLE_8, user, out);
    } else if hex_packable(user) {
        packed(tag::HEX_8, user, out);
    } else {
        string(user, false, out);
    }
}

fn packed(packing: u8, text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let odd = bytes.len() % 2 == 1;
    out.push(packing);
    out.push(if odd { 0x80 } else { 0 } | bytes.len().div_ceil(2) as u8);
    let value = |byte: u8| match byte {
        b'0'..=b'9' => byte - b'0',
        b'-' => 10,
        b'.' => 11,
        b'A'..=b'F' => byte - b'A' + 10,
        _ => unreachable!("the caller checked the alphabet"),
    };
    for pair in bytes.chunks(2) {
        let high = value(pair[0]);
        let low = pair.get(1).map_or(0x0f, |byte| value(*byte));
        out.push((high << 4) | low);
    }
}
