//! Tests of the node codec: the protocol's frames, round trips and refusals, with proptest.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::hex;

fn node_from(value: Value) -> Node {
    Node::from_json(&value).unwrap()
}

fn frames_vectors() -> Value {
    serde_json::from_str(include_str!("../../tests/vectors/frames.json")).unwrap()
}

#[test]
fn decodes_every_vector_node() {
    for case in frames_vectors()["frames"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let bytes = hex::decode(case["node_bytes"].as_str().unwrap()).unwrap();
        let node = decode(&bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(serde_json::to_value(&node).unwrap(), case["node"], "{name}");
        // What we write back decodes to the same node, so nothing is lost in a relay.
        assert_eq!(decode(&encode(&node)).unwrap(), node, "{name}");
    }
}

/// PROTOCOL.md 7.8 and 8.4: the exact bytes the official writer produced.
#[test]
fn encodes_like_the_official_writer() {
    let cases = [
        (
            json!({"tag":"query","attrs":{"type":"chat","epoch":"1"}}),
            "f805445b136bfc0131",
        ),
        (
            json!({"tag":"action","attrs":{"type":"set","epoch":"6"},"content":[
                {"tag":"presence","attrs":{"type":"composing","to":"491234567890@s.whatsapp.net"}}]}),
            "f806095b526bfc0136f801f805415b1659faff0649123456789050",
        ),
        (
            json!({"tag":"query","attrs":{"type":"group","jid":"491234567890-1509911919@g.us","epoch":"2"}}),
            "f807445b242dfaff8c491234567890a1509911919f236bfc0132",
        ),
        (
            json!({"tag":"query","attrs":{"jid":"status@broadcast"}}),
            "f803442dfa5412",
        ),
        (
            json!({"tag":"action","attrs":{"type":"set","epoch":"7"},"content":[
                {"tag":"read","attrs":{"jid":"491234567890@s.whatsapp.net","count":"1",
                 "index":"3AA55DBD30C9CD2FD815","owner":"false"}}]}),
            "f806095b526bfc0137f801f809462dfaff064912345678905018fc01312afc1433414135354442443330433943443246443831353c20",
        ),
        (
            json!({"tag":"profile","attrs":{"name":"Bob"},"content":[]}),
            "f8048638fc03426f6200",
        ),
        (
            json!({"tag":"status","content":{"base64":"QnVzeQ=="}}),
            "f80254fc0442757379",
        ),
    ];
    for (value, expected) in cases {
        let node = node_from(value.clone());
        assert_eq!(hex::encode(&encode(&node)), expected, "{value}");
        assert_eq!(
            serde_json::to_value(decode(&hex::decode(expected).unwrap()).unwrap()).unwrap()["tag"],
            value["tag"]
        );
    }
}

#[test]
fn relay_node_of_section_8_4() {
    let wmi = hex::decode(
        "0a350a1b34393132333435363738393040732e77686174736170702e6e657410011a143345423043343331433236
         41313931364539463612070a0548656c6c6f1880a0f8fa052001",
    )
    .unwrap();
    let node = Node::new("action")
        .attr("type", "relay")
        .attr("epoch", "5")
        .with_content(Content::List(vec![
            Node::new("message").with_content(Content::Bytes(wmi.clone())),
        ]));
    let mut expected = hex::decode("f806095b4b6bfc0135f801f80234fc48").unwrap();
    expected.extend_from_slice(&wmi);
    assert_eq!(encode(&node), expected);
}

#[test]
fn length_encodings_switch_at_the_documented_sizes() {
    let bytes_node = |len: usize| Node::new("status").with_content(Content::Bytes(vec![7; len]));
    // f8 02 54 ("status" is token 84), then the length.
    assert_eq!(&encode(&bytes_node(255))[3..5], &[0xfc, 0xff]);
    assert_eq!(&encode(&bytes_node(300))[3..7], &[0xfd, 0x00, 0x01, 0x2c]);
    assert_eq!(
        &encode(&bytes_node((1 << 20) - 1))[3..7],
        &[0xfd, 0x0f, 0xff, 0xff]
    );
    assert_eq!(
        &encode(&bytes_node(1 << 20))[3..8],
        &[0xfe, 0x00, 0x10, 0x00, 0x00]
    );
    for len in [0, 255, 256, (1 << 20) - 1, 1 << 20] {
        assert_eq!(
            decode(&encode(&bytes_node(len))).unwrap(),
            bytes_node(len),
            "{len}"
        );
    }
    let list = |len: usize| {
        Node::new("response").with_content(Content::List(vec![Node::new("chat"); len]))
    };
    assert_eq!(&encode(&list(255))[3..5], &[0xf8, 0xff]);
    assert_eq!(&encode(&list(300))[3..6], &[0xf9, 0x01, 0x2c]);
    assert_eq!(decode(&encode(&list(300))).unwrap(), list(300));
    // Attributes count toward the node's own list size: 128 attributes make 257 entries.
    let mut wide = Node::new("x");
    for index in 0..128 {
        wide = wide.attr(format!("k{index}"), "v");
    }
    assert_eq!(&encode(&wide)[..3], &[0xf9, 0x01, 0x01]);
    assert_eq!(decode(&encode(&wide)).unwrap(), wide);
}

#[test]
fn jid_forms() {
    let jid = |text: &str| decode(&encode(&Node::new("x").attr("jid", text.to_owned()))).unwrap();
    assert_eq!(jid("123@c.us").get("jid"), Some("123@s.whatsapp.net"));
    assert_eq!(
        jid("3EB0ABCDEF@s.whatsapp.net").get("jid"),
        Some("3EB0ABCDEF@s.whatsapp.net")
    );
    assert_eq!(
        jid("abc@s.whatsapp.net").get("jid"),
        Some("abc@s.whatsapp.net")
    );
    assert_eq!(jid("49.1:2@c.us").get("jid"), Some("49.1:2@s.whatsapp.net"));
    assert_eq!(jid("a@b@g.us").get("jid"), Some("a@b@g.us"));
    assert_eq!(jid("x@example.com").get("jid"), Some("x@example.com"));
    assert_eq!(
        encode(&Node::new("x").attr("s", "c.us")),
        vec![0xf8, 0x03, 0xfc, 0x01, b'x', 0xfc, 0x01, b's', 0x50]
    );
    // An empty user part (LIST_EMPTY) reads as the server alone, as the official reader does.
    assert_eq!(
        decode(&[0xf8, 0x03, 0x09, 0x2d, 0xfa, 0x00, 0x23])
            .unwrap()
            .get("jid"),
        Some("g.us")
    );
    assert_eq!(
        decode(&[0xf8, 0x03, 0x09, 0x2d, 0xfa, 0x23, 0x00])
            .unwrap_err()
            .kind,
        ErrorKind::NullJidServer
    );
    // JID_AD of the multi-device transition: agent 1, device 2.
    let ad = [0xf8, 0x03, 0x09, 0x2d, 0xf7, 0x01, 0x02, 0xff, 0x01, 0x49];
    assert_eq!(
        decode(&ad).unwrap().get("jid"),
        Some("49.1:2@s.whatsapp.net")
    );
}

#[test]
fn numeric_content_is_nibble_packed() {
    let node = Node::new("message").with_content(Content::Text("4915100000001".into()));
    assert_eq!(hex::encode(&encode(&node)), "f80234ff874915100000001f");
    assert_eq!(decode(&encode(&node)).unwrap(), node);
    // Attribute values stay raw strings, as the official writer wrote them.
    assert_eq!(
        hex::encode(&encode(&Node::new("x").attr("t", "12"))),
        "f803fc017857fc023132"
    );
}

#[test]
fn packed_strings_decode_with_the_odd_flag() {
    // "123" packs as 12 3f with the odd bit; "12" as 12; "-." as ab.
    let with = |packing: u8, body: &[u8]| {
        let mut bytes = vec![0xf8, 0x02, 0x09, packing];
        bytes.extend_from_slice(body);
        decode(&bytes).map(|node| node.content)
    };
    let text = |s: &str| Ok(Content::Text(Text::Owned(s.into())));
    assert_eq!(with(0xff, &[0x82, 0x12, 0x3f]), text("123"));
    assert_eq!(with(0xff, &[0x01, 0x12]), text("12"));
    assert_eq!(with(0xff, &[0x01, 0xab]), text("-."));
    assert_eq!(with(0xfb, &[0x81, 0xaf]), text("A"));
    assert_eq!(with(0xfb, &[0x02, 0x3e, 0xb0]), text("3EB0"));
    assert_eq!(with(0xff, &[0x00]), text(""));
    assert_eq!(
        with(0xff, &[0x01, 0x1c]).unwrap_err().kind,
        ErrorKind::InvalidNibble(12)
    );
    assert_eq!(
        with(0xff, &[0x01, 0x1f]).unwrap_err().kind,
        ErrorKind::InvalidNibble(15)
    );
    assert_eq!(
        with(0xff, &[0x05, 0x12]).unwrap_err().kind,
        ErrorKind::UnexpectedEnd { needed: 4 }
    );
}

#[test]
fn refusals_name_what_and_where() {
    let kind = |bytes: &[u8]| decode(bytes).unwrap_err();
    assert_eq!(
        kind(&[]),
        Error {
            offset: 0,
            kind: ErrorKind::UnexpectedEnd { needed: 1 }
        }
    );
    assert_eq!(kind(&[0x05]).kind, ErrorKind::InvalidListTag(5));
    assert_eq!(kind(&[0xf8, 0x01, 0x02]).kind, ErrorKind::StreamEnd);
    assert_eq!(kind(&[0x00, 0x09]).kind, ErrorKind::InvalidNode);
    assert_eq!(kind(&[0xf8, 0x01, 0x00]).kind, ErrorKind::InvalidNode);
    assert_eq!(kind(&[0xf8, 0x01, 0xfc, 0x00]).kind, ErrorKind::InvalidNode);
    assert_eq!(
        kind(&[0xf8, 0x01, 0xb0]),
        Error {
            offset: 2,
            kind: ErrorKind::UndefinedToken(176)
        }
    );
    assert_eq!(
        kind(&[0xf8, 0x01, 0x01]).kind,
        ErrorKind::InvalidStringTag(1)
    );
    assert_eq!(
        kind(&[0xf8, 0x01, 0xf3]).kind,
        ErrorKind::InvalidStringTag(0xf3)
    );
    assert_eq!(
        kind(&[0xf8, 0x01, 0xed, 0x07]).kind,
        ErrorKind::DictionaryToken {
            dictionary: 1,
            index: 7
        }
    );
    assert_eq!(
        kind(&[0xf8, 0x01, 0xfc, 0x02, 0xff, 0xfe]).kind,
        ErrorKind::InvalidUtf8
    );
    assert_eq!(
        kind(&[0xf8, 0x03, 0x09, 0x00, 0x09]).kind,
        ErrorKind::NullAttributeKey
    );
    assert_eq!(
        kind(&[0xf8, 0x02, 0x09, 0xfe, 0xff, 0xff, 0xff, 0xff]).kind,
        ErrorKind::UnexpectedEnd {
            needed: 0xffff_ffff
        }
    );
    // A null attribute value means "absent".
    assert_eq!(
        decode(&[0xf8, 0x03, 0x09, 0x5b, 0x00]).unwrap(),
        Node::new("action")
    );
    // Trailing bytes are ignored.
    assert_eq!(
        decode(&[0xf8, 0x01, 0x09, 0xde, 0xad]).unwrap(),
        Node::new("action")
    );
}

#[test]
fn depth_is_bounded_without_recursion_blowup() {
    // 100 000 nested single-child lists, and a JID whose user is a JID whose user is ...
    let mut deep = Vec::new();
    for _ in 0..100_000 {
        deep.extend_from_slice(&[0xf8, 0x02, 0x09, 0xf8, 0x01]);
    }
    assert_eq!(decode(&deep).unwrap_err().kind, ErrorKind::TooDeep);
    let mut jids = vec![0xf8, 0x02, 0x09];
    jids.extend(std::iter::repeat_n(0xfa, 100_000));
    assert_eq!(decode(&jids).unwrap_err().kind, ErrorKind::TooDeep);
    // Huge announced sizes allocate nothing beyond the input.
    assert!(decode(&[0xf8, 0x02, 0x09, 0xf9, 0xff, 0xff]).is_err());
    assert!(decode(&[0xf9, 0xff, 0xff, 0x09]).is_err());
}

#[test]
fn every_truncation_and_mutation_of_the_vectors_is_handled() {
    for case in frames_vectors()["frames"].as_array().unwrap() {
        let bytes = hex::decode(case["node_bytes"].as_str().unwrap()).unwrap();
        for cut in 0..bytes.len() {
            // Any strict prefix ends before the announced content.
            assert!(
                decode(&bytes[..cut]).is_err(),
                "{} cut at {cut}",
                case["name"]
            );
        }
        for index in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut mutated = bytes.clone();
                mutated[index] ^= flip;
                let _ = decode(&mutated);
            }
        }
    }
}

#[test]
fn json_form_refuses_what_the_wire_cannot_carry() {
    let error = |value: Value| Node::from_json(&value).unwrap_err().to_string();
    assert_eq!(error(json!("x")), "node: a node must be an object");
    assert_eq!(error(json!({"tag":""})), "tag: must be a non-empty string");
    assert_eq!(
        error(json!({"tag":"a","attrs":{"k":1}})),
        "attrs.k: must be a string"
    );
    assert_eq!(
        error(json!({"tag":"a","content":[{"tag":"b","content":{"base64":"!"}}]})),
        "content[0].content.base64: invalid base64"
    );
    assert!(error(json!({"tag":"a","content":5})).starts_with("content: must be"));
    let node = node_from(json!({"tag":"a","attrs":null,"content":{"base64":""}}));
    assert_eq!(node.content, Content::Bytes(vec![]));
    assert_eq!(
        serde_json::to_string(&node_from(
            json!({"tag":"a","attrs":{"z":"1","b":"2"},"content":"hi"})
        ))
        .unwrap(),
        r#"{"tag":"a","attrs":{"z":"1","b":"2"},"content":"hi"}"#
    );
}

#[test]
fn direct_json_writer_escapes_what_serde_json_escapes() {
    for text in [
        "",
        "plain",
        "quote \" inside",
        "back\\slash",
        "line\nbreak\ttab\r",
        "\u{1}\u{1f}\u{7f}",
        "Grüße, 🙂",
    ] {
        let node = Node::new(text)
            .attr(text, text)
            .with_content(Content::Text(Text::Owned(text.to_owned())));
        let mut direct = Vec::new();
        node.write_json(&mut direct);
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            serde_json::to_string(&node).unwrap(),
            "{text:?}"
        );
    }
    for len in [0, 1, 2, 3, 4, 255] {
        let node = Node::new("m").with_content(Content::Bytes(vec![0xfb; len]));
        let mut direct = Vec::new();
        node.write_json(&mut direct);
        assert_eq!(direct, serde_json::to_vec(&node).unwrap(), "{len} bytes");
    }
}

// ---- properties ----

fn text_strategy() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        // Tokens (but not "c.us", which is written as token 80 and so reads back as s.whatsapp.net).
        (3u8..176).prop_map(|index| token::lookup(index).unwrap().to_owned()),
        "[a-z_-]{1,12}",
        "\\PC{0,20}",
        "[0-9]{1,15}@s\\.whatsapp\\.net",
        "[0-9]{6,13}-[0-9]{10}@g\\.us",
        "[0-9A-F]{1,30}@s\\.whatsapp\\.net",
        "[0-9]{1,300}",
        ".{0,300}",
    ]
    .prop_filter("c.us is aliased to token 80", |text| text != "c.us")
}

fn content_text_strategy() -> impl Strategy<Value = String> + Clone {
    // As content, only tokens and JIDs come back as text; raw strings come back as bytes.
    prop_oneof![
        (3u8..176).prop_map(|index| token::lookup(index).unwrap().to_owned()),
        "[0-9]{1,15}@s\\.whatsapp\\.net",
        "status@broadcast",
        "[0-9.-]{1,254}",
        "[0-9A-F]{1,254}",
    ]
}

/// JSON objects cannot repeat a key, so generated nodes do not either.
fn unique_attrs(attrs: Vec<(String, String)>) -> Vec<(Text, Text)> {
    let mut seen = std::collections::HashSet::new();
    attrs
        .into_iter()
        .filter(|(key, _)| seen.insert(key.clone()))
        .map(|(key, value)| (Text::Owned(key), Text::Owned(value)))
        .collect()
}

fn node_strategy() -> impl Strategy<Value = Node> {
    let attrs = prop::collection::vec((text_strategy(), text_strategy()), 0..6);
    let tag = text_strategy().prop_filter("tags are non-empty", |tag| !tag.is_empty());
    let leaf = (
        tag.clone(),
        attrs.clone(),
        prop_oneof![
            Just(Content::Null),
            prop::collection::vec(any::<u8>(), 0..600).prop_map(Content::Bytes),
            content_text_strategy().prop_map(|text| Content::Text(Text::Owned(text))),
            Just(Content::List(vec![])),
        ],
    )
        .prop_map(|(tag, attrs, content)| Node {
            tag: Text::Owned(tag),
            attrs: unique_attrs(attrs),
            content,
        });
    leaf.prop_recursive(6, 400, 300, move |inner| {
        (
            tag.clone(),
            attrs.clone(),
            prop::collection::vec(inner, 0..300),
        )
            .prop_map(|(tag, attrs, children)| Node {
                tag: Text::Owned(tag),
                attrs: unique_attrs(attrs),
                content: Content::List(children),
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn decode_inverts_encode(node in node_strategy()) {
        let bytes = encode(&node);
        prop_assert_eq!(decode(&bytes).unwrap(), node.clone());
        // The JSON form reads back to the same node too.
        let json = serde_json::to_value(&node).unwrap();
        prop_assert_eq!(encode(&Node::from_json(&json).unwrap()), bytes);
        // The direct writer of `decode --stream` writes the serde form byte for byte.
        let mut direct = Vec::new();
        node.write_json(&mut direct);
        prop_assert_eq!(String::from_utf8(direct).unwrap(), serde_json::to_string(&node).unwrap());
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_node_shaped_bytes(
        prefix in prop::sample::select(vec![0xf8u8, 0xf9, 0x00]),
        bytes in prop::collection::vec(prop_oneof![Just(0xfau8), Just(0xfc), Just(0xff), Just(0xfb), Just(0xf8), Just(0x00), any::<u8>()], 0..512)
    ) {
        let mut input = vec![prefix];
        input.extend_from_slice(&bytes);
        let _ = decode(&input);
    }
}
