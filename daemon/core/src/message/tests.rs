//! Tests of the message mapping: the protocol's verified bytes, events, outgoing messages.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use waweb_proto::message::{Message as Event, MessageKind};

const FRAMES: &str = include_str!("../../tests/vectors/frames.json");

/// PROTOCOL.md 8.4's verified bytes.
const HELLO_WMI: &str = "0a350a1b34393132333435363738393040732e77686174736170702e6e657410011a143345423043343331433236\
                         41313931364539463612070a0548656c6c6f1880a0f8fa052001";

fn unhex(text: &str) -> Vec<u8> {
    crate::hex::decode(text).unwrap()
}

fn vector_wmi(name: &str) -> Vec<u8> {
    let frames: Value = serde_json::from_str(FRAMES).unwrap();
    let frame = frames["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|frame| frame["name"] == name)
        .unwrap_or_else(|| panic!("no frame {name:?}"));
    let child = &frame["node"]["content"][0];
    assert_eq!(child["tag"], "message");
    STANDARD
        .decode(child["content"]["base64"].as_str().unwrap())
        .unwrap()
}

fn sample_media(kind: MediaKind) -> MediaInfo {
    let (mimetype, caption, size, seconds) = match kind {
        MediaKind::Image => ("image/jpeg", Some("a photo"), Some((640, 480)), None),
        MediaKind::Video => ("video/mp4", Some("a clip"), Some((320, 240)), Some(7)),
        MediaKind::Audio => ("audio/ogg; codecs=opus", None, None, Some(3)),
        MediaKind::Document => ("application/pdf", None, None, None),
        MediaKind::Sticker => ("image/webp", None, Some((512, 512)), None),
    };
    MediaInfo {
        kind,
        url: Some(format!("https://mmg.whatsapp.net/d/f/{kind:?}.enc")),
        direct_path: Some(format!("/v/t62.7118-24/{kind:?}.enc")),
        media_key: (0..32).collect(),
        mimetype: Some(mimetype.to_owned()),
        file_sha256: vec![0xAA; 32],
        file_enc_sha256: vec![0xFB; 32],
        file_length: 123_456,
        caption: caption.map(str::to_owned),
        width: size.map(|(width, _)| width),
        height: size.map(|(_, height)| height),
        seconds,
    }
}

const ALL_MEDIA: [MediaKind; 5] = [
    MediaKind::Image,
    MediaKind::Video,
    MediaKind::Audio,
    MediaKind::Document,
    MediaKind::Sticker,
];

#[test]
fn text_message_encodes_to_the_verified_bytes() {
    let info = text_message(
        "491234567890@s.whatsapp.net",
        "3EB0C431C26A1916E9F6",
        "Hello",
        1_600_000_000,
    );
    let bytes = encode(&info);
    assert_eq!(bytes, unhex(HELLO_WMI));
    assert_eq!(
        bytes.len(),
        72,
        "PROTOCOL.md 8.4 frames it as BINARY_8 0x48"
    );

    let event = to_event(&decode_web_message_info(&bytes).unwrap()).unwrap();
    assert_eq!(event.id, "3EB0C431C26A1916E9F6");
    assert_eq!(event.chat, "491234567890@s.whatsapp.net");
    assert!(event.from_me);
    assert_eq!(event.kind, MessageKind::Text);
    assert_eq!(event.text.as_deref(), Some("Hello"));
    assert_eq!(event.push_name, None);
}

#[test]
fn relayed_vector_messages_decode_to_events() {
    let cases = [
        (
            "relay message",
            "4915100000000",
            "3EB0A38DBC008F49C0BC",
            "hi".to_owned(),
            1_600_000_000,
            "Contact 0",
        ),
        (
            "relay unicode",
            "4915100000001",
            "3EB0B5A63D15468346B9",
            "grüße 👋".to_owned(),
            1_600_000_001,
            "Contact 1",
        ),
        (
            "binary20 content",
            "4915100000002",
            "3EB018048C732DF953CA",
            "x".repeat(300),
            1_600_000_002,
            "Contact 2",
        ),
    ];
    for (name, user, id, text, timestamp, push_name) in cases {
        let bytes = vector_wmi(name);
        let info = decode_web_message_info(&bytes).unwrap();
        assert_eq!(info.status(), pb::WebMessageInfoStatus::ServerAck, "{name}");
        let event = to_event(&info).unwrap();
        let chat = format!("{user}@s.whatsapp.net");
        let expected = Event {
            timestamp,
            push_name: Some(push_name.to_owned()),
            text: Some(text.clone()),
            ..Event::new(id, chat.clone(), MessageKind::Text)
        };
        assert_eq!(event, expected, "{name}");

        // The simulator's builder writes exactly what the reference server wrote.
        let rebuilt = incoming_text(&chat, id, &text, timestamp, Some(push_name), None);
        assert_eq!(encode(&rebuilt), bytes, "{name}");
    }
}

#[test]
fn event_json_uses_the_design_names() {
    let event = to_event(&decode_web_message_info(&vector_wmi("relay message")).unwrap()).unwrap();
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({
            "id": "3EB0A38DBC008F49C0BC",
            "chat": "4915100000000@s.whatsapp.net",
            "from_me": false,
            "participant": null,
            "timestamp": 1_600_000_000u64,
            "push_name": "Contact 0",
            "kind": "text",
            "text": "hi",
            "media": null,
            "source": "live",
        })
    );

    let info = incoming_media(
        "4915100000000-1600000000@g.us",
        "3EB0000000000000000A",
        &sample_media(MediaKind::Video),
        1_600_000_100,
        Some("Contact 1"),
        Some("4915100000001@s.whatsapp.net"),
    );
    let value = serde_json::to_value(to_event(&info).unwrap()).unwrap();
    assert_eq!(
        value,
        json!({
            "id": "3EB0000000000000000A",
            "chat": "4915100000000-1600000000@g.us",
            "from_me": false,
            "participant": "4915100000001@s.whatsapp.net",
            "timestamp": 1_600_000_100u64,
            "push_name": "Contact 1",
            "kind": "video",
            "text": null,
            "media": {
                "kind": "video",
                "url": "https://mmg.whatsapp.net/d/f/Video.enc",
                "direct_path": "/v/t62.7118-24/Video.enc",
                "media_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                "mimetype": "video/mp4",
                "file_sha256": STANDARD.encode([0xAA; 32]),
                "file_enc_sha256": STANDARD.encode([0xFB; 32]),
                "file_length": 123_456,
                "caption": "a clip",
                "width": 320,
                "height": 240,
                "seconds": 7,
            },
            "source": "live",
        })
    );
}

#[test]
fn every_media_kind_round_trips() {
    for kind in ALL_MEDIA {
        let media = sample_media(kind);
        let info = incoming_media(
            "4915100000000@s.whatsapp.net",
            "3AA55DBD30C9CD2FD815",
            &media,
            1_600_000_000,
            Some("Contact 0"),
            None,
        );
        let decoded = decode_web_message_info(&encode(&info)).unwrap();
        assert_eq!(decoded, info, "{kind:?}");
        let event = to_event(&decoded).unwrap();
        assert_eq!(event.kind, MessageKind::from(kind));
        assert_eq!(event.text, None, "{kind:?}: a caption is not the text");
        let reported = event.media.expect("media event");
        assert_eq!(reported, media.to_event(), "{kind:?}");
        assert_eq!(reported.kind, kind);
        assert_eq!(reported.url, media.url);
        assert_eq!(reported.direct_path, media.direct_path);
        assert_eq!(reported.mimetype, media.mimetype);
        assert_eq!(reported.file_length, 123_456);
        assert_eq!(reported.caption, media.caption);
        assert_eq!(
            (reported.width, reported.height),
            (media.width, media.height)
        );
        assert_eq!(reported.seconds, media.seconds);
        assert_eq!(MediaInfo::from_event(&reported).unwrap(), media, "{kind:?}");
    }
}

#[test]
fn sticker_fields_use_their_own_numbers() {
    // Sticker: 2 fileSha256, 3 fileEncSha256, 4 mediaKey, 5 mimetype, 8 directPath, 9 fileLength.
    let sticker = pb::StickerMessage {
        file_sha256: Some(vec![1]),
        file_enc_sha256: Some(vec![2]),
        media_key: Some(vec![3]),
        mimetype: Some("m".into()),
        direct_path: Some("p".into()),
        file_length: Some(4),
        ..Default::default()
    };
    assert_eq!(
        sticker.encode_to_vec(),
        [
            0x12, 1, 1, 0x1a, 1, 2, 0x22, 1, 3, 0x2a, 1, b'm', 0x42, 1, b'p', 0x48, 4
        ]
    );
    let image = pb::ImageMessage {
        file_sha256: Some(vec![1]),
        file_enc_sha256: Some(vec![2]),
        media_key: Some(vec![3]),
        ..Default::default()
    };
    assert_eq!(image.encode_to_vec(), [0x22, 1, 1, 0x42, 1, 3, 0x4a, 1, 2]);
}

#[test]
fn media_key_may_come_back_url_safe_or_unpadded() {
    let media = MediaInfo {
        media_key: vec![0xFB, 0xFF, 0xBF, 0x01],
        ..sample_media(MediaKind::Image)
    };
    let mut object = media.to_event();
    assert_eq!(object.media_key, "+/+/AQ==");
    for spelling in ["+/+/AQ==", "+/+/AQ", "-_-_AQ==", "-_-_AQ"] {
        object.media_key = spelling.to_owned();
        assert_eq!(MediaInfo::from_event(&object).unwrap(), media, "{spelling}");
    }
    object.media_key = "not base64!".to_owned();
    assert_eq!(
        MediaInfo::from_event(&object),
        Err(Error::BadBase64("media_key"))
    );
}

#[test]
fn missing_media_fields_are_empty_or_absent() {
    let content = pb::Message {
        document_message: Some(Box::default()),
        ..Default::default()
    };
    let media = media_of(&content).unwrap().to_event();
    assert_eq!(media.kind, MediaKind::Document);
    assert_eq!(
        (media.url, media.direct_path, media.mimetype),
        (None, None, None)
    );
    assert_eq!(
        (media.media_key.as_str(), media.file_sha256.as_str()),
        ("", "")
    );
    assert_eq!(media.file_length, 0);
}

fn wrapped(
    field: fn(&mut pb::Message) -> &mut Option<Box<pb::FutureProofMessage>>,
    inner: pb::Message,
) -> pb::Message {
    let mut outer = pb::Message::default();
    *field(&mut outer) = Some(Box::new(pb::FutureProofMessage {
        message: Some(Box::new(inner)),
    }));
    outer
}

fn ephemeral(message: &mut pb::Message) -> &mut Option<Box<pb::FutureProofMessage>> {
    &mut message.ephemeral_message
}

fn view_once(message: &mut pb::Message) -> &mut Option<Box<pb::FutureProofMessage>> {
    &mut message.view_once_message
}

fn with_content(content: pb::Message) -> pb::WebMessageInfo {
    pb::WebMessageInfo {
        message: Some(content),
        ..incoming_text("4915100000000@s.whatsapp.net", "ID", "", 1, None, None)
    }
}

fn event_of(content: pb::Message) -> Event {
    let bytes = encode(&with_content(content));
    to_event(&decode_web_message_info(&bytes).unwrap()).unwrap()
}

#[test]
fn ephemeral_and_view_once_are_unwrapped() {
    let text = pb::Message {
        conversation: Some("vanishing".into()),
        ..Default::default()
    };
    let event = event_of(wrapped(ephemeral, text.clone()));
    assert_eq!(
        (event.kind, event.text.as_deref()),
        (MessageKind::Text, Some("vanishing"))
    );

    let image = sample_media(MediaKind::Image);
    let event = event_of(wrapped(view_once, image.to_content()));
    assert_eq!(event.kind, MessageKind::Image);
    assert_eq!(event.media, Some(image.to_event()));

    // A view-once photo in a chat with disappearing messages wears both wrappers.
    let event = event_of(wrapped(ephemeral, wrapped(view_once, image.to_content())));
    assert_eq!(event.media, Some(image.to_event()));

    // An empty wrapper is no content at all, not a crash.
    let empty = pb::Message {
        ephemeral_message: Some(Box::default()),
        ..Default::default()
    };
    assert_eq!(event_of(empty).kind, MessageKind::Other);
}

#[test]
fn kinds_and_texts_of_other_content() {
    let extended = pb::Message {
        extended_text_message: Some(Box::new(pb::ExtendedTextMessage {
            text: Some("see https://example.org".into()),
            matched_text: Some("https://example.org".into()),
            context_info: Some(pb::ContextInfo {
                stanza_id: Some("3EB0QUOTED".into()),
                quoted_message: Some(Box::new(pb::Message {
                    conversation: Some("quoted".into()),
                    ..Default::default()
                })),
                mentioned_jid: vec!["4915100000001@s.whatsapp.net".into()],
                ..Default::default()
            }),
            ..Default::default()
        })),
        ..Default::default()
    };
    let event = event_of(extended);
    assert_eq!(event.kind, MessageKind::Text);
    assert_eq!(event.text.as_deref(), Some("see https://example.org"));

    let location = pb::Message {
        location_message: Some(Box::new(pb::LocationMessage {
            degrees_latitude: Some(52.5),
            degrees_longitude: Some(13.4),
            ..Default::default()
        })),
        ..Default::default()
    };
    let live = pb::Message {
        live_location_message: Some(Box::default()),
        ..Default::default()
    };
    let contact = pb::Message {
        contact_message: Some(Box::new(pb::ContactMessage {
            display_name: Some("Ann".into()),
            vcard: Some("BEGIN:VCARD\nEND:VCARD".into()),
            context_info: None,
        })),
        ..Default::default()
    };
    let contacts = pb::Message {
        contacts_array_message: Some(Box::new(pb::ContactsArrayMessage {
            contacts: vec![pb::ContactMessage::default(); 2],
            ..Default::default()
        })),
        ..Default::default()
    };
    let revoke = pb::Message {
        protocol_message: Some(Box::new(pb::ProtocolMessage {
            key: Some(pb::MessageKey {
                id: Some("3EB0GONE".into()),
                ..Default::default()
            }),
            r#type: Some(pb::ProtocolMessageType::Revoke.into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    for (content, kind) in [
        (location, MessageKind::Location),
        (live, MessageKind::Location),
        (contact, MessageKind::Contact),
        (contacts, MessageKind::Contact),
        (revoke, MessageKind::Other),
    ] {
        let event = event_of(content);
        assert_eq!(event.kind, kind);
        assert_eq!((event.text, event.media), (None, None), "{kind:?}");
    }

    let stub = pb::WebMessageInfo {
        message: None,
        message_stub_type: Some(pb::WebMessageInfoStubType::GroupParticipantAdd.into()),
        message_stub_parameters: vec!["4915100000003@s.whatsapp.net".into()],
        ..with_content(pb::Message::default())
    };
    let decoded = decode_web_message_info(&encode(&stub)).unwrap();
    assert_eq!(
        decoded.message_stub_type(),
        pb::WebMessageInfoStubType::GroupParticipantAdd
    );
    let event = to_event(&decoded).unwrap();
    assert_eq!(
        (event.kind, event.text, event.media),
        (MessageKind::Other, None, None)
    );
}

#[test]
fn participant_and_chat_are_normalised() {
    let group = incoming_text(
        "4915100000000-1600000000@g.us",
        "ID",
        "hello group",
        1,
        Some("Contact 1"),
        Some("4915100000001@c.us"),
    );
    let event = to_event(&group).unwrap();
    assert_eq!(event.chat, "4915100000000-1600000000@g.us");
    assert_eq!(
        event.participant.as_deref(),
        Some("4915100000001@s.whatsapp.net")
    );

    // Only the key names the author: still reported.
    let mut key_only = group.clone();
    key_only.participant = None;
    let event = to_event(&key_only).unwrap();
    assert_eq!(
        event.participant.as_deref(),
        Some("4915100000001@s.whatsapp.net")
    );

    // The message's own field wins over the key's; empty ones count as absent.
    let mut both = group;
    both.participant = Some("4915100000002@s.whatsapp.net".into());
    assert_eq!(
        to_event(&both).unwrap().participant.as_deref(),
        Some("4915100000002@s.whatsapp.net")
    );
    both.participant = Some(String::new());
    both.key.as_mut().unwrap().participant = Some(String::new());
    both.push_name = Some(String::new());
    let event = to_event(&both).unwrap();
    assert_eq!((event.participant, event.push_name), (None, None));

    let legacy = incoming_text("4915100000000@c.us", "ID", "hi", 1, None, None);
    assert_eq!(
        to_event(&legacy).unwrap().chat,
        "4915100000000@s.whatsapp.net"
    );
}

#[test]
fn keys_are_required() {
    let bytes = encode(&pb::WebMessageInfo {
        message_timestamp: Some(1),
        ..Default::default()
    });
    assert_eq!(decode_web_message_info(&bytes), Err(Error::MissingKey));
    assert_eq!(
        to_event(&pb::WebMessageInfo::default()),
        Err(Error::MissingKey)
    );

    let mut info = incoming_text("4915100000000@s.whatsapp.net", "ID", "hi", 1, None, None);
    info.key.as_mut().unwrap().id = None;
    assert_eq!(to_event(&info), Err(Error::MissingKeyField("id")));
    info.key.as_mut().unwrap().remote_jid = Some(String::new());
    assert_eq!(to_event(&info), Err(Error::MissingKeyField("remoteJid")));

    // No timestamp is reported as 0 rather than losing the message.
    let mut info = incoming_text("4915100000000@s.whatsapp.net", "ID", "hi", 1, None, None);
    info.message_timestamp = None;
    assert_eq!(to_event(&info).unwrap().timestamp, 0);
}

#[test]
fn garbage_is_an_error() {
    for bytes in [
        &b"\x0a"[..],
        b"\x0a\x05\x0a\x03ab",
        b"\xff\xff\xff",
        b"\x0a\x02\x0a\xff",
        b"\x07",
    ] {
        assert!(
            matches!(decode_web_message_info(bytes), Err(Error::Decode(_))),
            "{bytes:?}"
        );
    }
    // Not UTF-8 where the schema says string.
    assert!(matches!(
        decode_web_message_info(b"\x0a\x03\x0a\x01\xff"),
        Err(Error::Decode(_))
    ));
}

#[test]
fn unknown_fields_are_skipped() {
    let mut bytes = unhex(HELLO_WMI);
    // Field 99 (varint) and field 29 (a length-delimited PaymentInfo we do not model).
    bytes.extend_from_slice(&[0x98, 0x06, 0x01, 0xea, 0x01, 0x02, 0x08, 0x01]);
    let info = decode_web_message_info(&bytes).unwrap();
    assert_eq!(to_event(&info).unwrap().text.as_deref(), Some("Hello"));
}

/// `depth` ephemeral wrappers around a text, as raw bytes, built without recursion.
fn nested_ephemeral(depth: usize) -> Vec<u8> {
    fn field(tag: &[u8], payload: Vec<u8>) -> Vec<u8> {
        let mut out = tag.to_vec();
        prost::encoding::encode_varint(payload.len() as u64, &mut out);
        out.extend(payload);
        out
    }
    let mut message = field(&[0x0a], b"deep".to_vec());
    for _ in 0..depth {
        message = field(&[0xc2, 0x02], field(&[0x0a], message));
    }
    let mut info = encode(&pb::WebMessageInfo {
        message: None,
        ..incoming_text("4915100000000@s.whatsapp.net", "ID", "", 1, None, None)
    });
    info.extend(field(&[0x12], message));
    info
}

#[test]
fn nesting_is_bounded_without_overflowing_the_stack() {
    let event = to_event(&decode_web_message_info(&nested_ephemeral(40)).unwrap()).unwrap();
    assert_eq!(event.text.as_deref(), Some("deep"));
    for depth in [60, 1_000, 20_000] {
        assert!(matches!(
            decode_web_message_info(&nested_ephemeral(depth)),
            Err(Error::Decode(_))
        ));
    }
}

#[test]
fn recipients_accepted() {
    let cases = [
        ("+49 151 2345-678", "491512345678@s.whatsapp.net"),
        ("+49 (151) 2345 678", "491512345678@s.whatsapp.net"),
        ("  491512345678 ", "491512345678@s.whatsapp.net"),
        ("491512345678", "491512345678@s.whatsapp.net"),
        ("491512345678@s.whatsapp.net", "491512345678@s.whatsapp.net"),
        ("491512345678@c.us", "491512345678@s.whatsapp.net"),
        (
            "4915100000000-1600000000@g.us",
            "4915100000000-1600000000@g.us",
        ),
        ("120363021234567890@g.us", "120363021234567890@g.us"),
        ("12345", "12345@s.whatsapp.net"),
        ("123456789012345", "123456789012345@s.whatsapp.net"),
    ];
    for (to, jid) in cases {
        assert_eq!(parse_recipient(to).as_deref(), Ok(jid), "{to:?}");
    }
}

#[test]
fn recipients_refused() {
    let cases = [
        "",
        "+",
        "1234",
        "1234567890123456",
        "++491512345678",
        "49151+2345678",
        "0049-151.2345678",
        "call me",
        "491512345678x",
        "@s.whatsapp.net",
        "abc@s.whatsapp.net",
        "+491512345678@s.whatsapp.net",
        "49 151@c.us",
        "491512345678@whatsapp.net",
        "491512345678@S.WHATSAPP.NET",
        "status@broadcast",
        "@g.us",
        "-123@g.us",
        "123-@g.us",
        "12a3@g.us",
        "1@2@g.us",
    ];
    for to in cases {
        let result = parse_recipient(to);
        assert!(
            matches!(&result, Err(Error::BadRecipient { to: given, .. }) if given == to),
            "{to:?} gave {result:?}"
        );
    }
}

#[test]
fn jid_spellings() {
    assert_eq!(normalize_jid("491@c.us"), "491@s.whatsapp.net");
    assert_eq!(normalize_jid("491@s.whatsapp.net"), "491@s.whatsapp.net");
    assert_eq!(normalize_jid("491-160@g.us"), "491-160@g.us");
    assert_eq!(normalize_jid("status@broadcast"), "status@broadcast");
    assert_eq!(normalize_jid("491@notc.us"), "491@notc.us");
    assert_eq!(jid_for_json_command("491@s.whatsapp.net"), "491@c.us");
    assert_eq!(jid_for_json_command("491@c.us"), "491@c.us");
    assert_eq!(jid_for_json_command("491-160@g.us"), "491-160@g.us");
    assert_eq!(jid_for_json_command("status@broadcast"), "status@broadcast");
}

#[test]
fn message_ids_look_like_the_web_clients() {
    let id = new_message_id();
    assert_eq!(id.len(), 20);
    assert!(id.starts_with("3EB0"));
    assert!(
        id[4..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    );
    assert_ne!(new_message_id(), id);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(info) = decode_web_message_info(&bytes) {
            let _ = to_event(&info);
        }
    }

    /// Random bytes rarely get past the first tag; corrupting a real message reaches the
    /// nested decoders.
    #[test]
    fn corrupted_messages_never_panic(
        kind in 0usize..5,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let info = incoming_media(
            "4915100000000-1600000000@g.us",
            "ID",
            &sample_media(ALL_MEDIA[kind]),
            1,
            Some("Contact 0"),
            Some("4915100000001@s.whatsapp.net"),
        );
        let mut bytes = encode(&info);
        for (at, value) in edits {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if let Ok(info) = decode_web_message_info(&bytes) {
            let _ = to_event(&info);
        }
    }

    #[test]
    fn texts_round_trip(text in ".{0,200}", timestamp in any::<u64>(), from_me in any::<bool>()) {
        let info = if from_me {
            text_message("4915100000000@s.whatsapp.net", "3EB0", &text, timestamp)
        } else {
            incoming_text("4915100000000@s.whatsapp.net", "3EB0", &text, timestamp, Some("n"), None)
        };
        let event = to_event(&decode_web_message_info(&encode(&info)).unwrap()).unwrap();
        prop_assert_eq!(event.from_me, from_me);
        prop_assert_eq!(event.timestamp, timestamp);
        prop_assert_eq!(event.text.as_deref(), Some(text.as_str()));
    }
}
