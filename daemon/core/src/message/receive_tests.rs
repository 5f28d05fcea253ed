//! Tests of the receive mapping: every field of DESIGN.md 7.3, the typed notices, broken input.

use proptest::prelude::*;
use waweb_proto::Event as Notice;
use waweb_proto::notice::{Call, Group, Revoke};

use super::*;
use crate::message::{incoming, incoming_text};

const ALICE: &str = "4915100000001@s.whatsapp.net";
const BOB: &str = "4915100000002@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";

fn from_alice(content: pb::Message) -> pb::WebMessageInfo {
    incoming(ALICE, "3A01", content, 1_600_000_000, Some("Alice"), None)
}

fn in_group(content: pb::Message) -> pb::WebMessageInfo {
    incoming(
        GROUP,
        "3A02",
        content,
        1_600_000_000,
        Some("Alice"),
        Some(ALICE),
    )
}

fn message(info: &pb::WebMessageInfo, source: Source) -> Message {
    match receive(&encode(info), source).unwrap() {
        Received::Message(message) => *message,
        Received::Notice(notice) => panic!("a notice, not a message: {notice:?}"),
    }
}

fn notice(info: &pb::WebMessageInfo) -> Notice {
    match receive(&encode(info), Source::Live).unwrap() {
        Received::Notice(notice) => notice,
        Received::Message(message) => panic!("a message, not a notice: {message:?}"),
    }
}

fn context(stanza: &str, quoted: pb::Message) -> pb::ContextInfo {
    pb::ContextInfo {
        stanza_id: Some(stanza.into()),
        participant: Some("4915100000002@c.us".into()),
        quoted_message: Some(Box::new(quoted)),
        mentioned_jid: vec![BOB.into(), "4915100000003@c.us".into()],
        is_forwarded: Some(true),
        expiration: Some(604_800),
        ..Default::default()
    }
}

fn text(text: &str) -> pb::Message {
    pb::Message {
        conversation: Some(text.into()),
        ..Default::default()
    }
}

#[test]
fn a_reply_carries_its_quote_mentions_forwarding_and_timer() {
    let content = pb::Message {
        extended_text_message: Some(Box::new(pb::ExtendedTextMessage {
            text: Some("@4915100000002 yes".into()),
            context_info: Some(context("3A00", text("lunch?"))),
            ..Default::default()
        })),
        ..Default::default()
    };
    let event = message(&from_alice(content), Source::Live);
    assert_eq!(event.kind, MessageKind::Text);
    assert_eq!(event.text.as_deref(), Some("@4915100000002 yes"));
    assert_eq!(
        event.quoted,
        Some(Quoted {
            id: "3A00".into(),
            chat: ALICE.into(),
            participant: Some(BOB.into()),
            kind: MessageKind::Text,
            text: Some("lunch?".into()),
        })
    );
    assert_eq!(
        event.mentions,
        [BOB.to_owned(), "4915100000003@s.whatsapp.net".to_owned()]
    );
    assert!(event.forwarded);
    assert_eq!(event.ephemeral_s, Some(604_800));
    assert_eq!((event.source, event.raw), (Source::Live, None));
}

#[test]
fn the_context_of_an_attachment_counts_and_a_group_quote_names_its_chat() {
    let quoted_image = pb::Message {
        image_message: Some(Box::new(pb::ImageMessage {
            caption: Some("the view".into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let mut info_context = context("3A00", quoted_image);
    info_context.remote_jid = Some(GROUP.into());
    info_context.is_forwarded = None;
    let content = pb::Message {
        image_message: Some(Box::new(pb::ImageMessage {
            media_key: Some(vec![1; 32]),
            context_info: Some(info_context),
            jpeg_thumbnail: Some(vec![0xFF, 0xD8, 0xFF]),
            ..Default::default()
        })),
        ..Default::default()
    };
    let event = message(&in_group(content), Source::History);
    let quoted = event.quoted.unwrap();
    assert_eq!(
        (quoted.chat.as_str(), quoted.kind),
        (GROUP, MessageKind::Image)
    );
    assert_eq!(quoted.text.as_deref(), Some("the view"));
    assert!(!event.forwarded);
    assert_eq!(event.source, Source::History);
    assert_eq!(event.media.unwrap().thumbnail.as_deref(), Some("/9j/"));
}

#[test]
fn a_quote_without_an_id_is_no_quote() {
    let mut without_id = context("", text("x"));
    without_id.stanza_id = None;
    let content = pb::Message {
        extended_text_message: Some(Box::new(pb::ExtendedTextMessage {
            text: Some("hi".into()),
            context_info: Some(without_id),
            ..Default::default()
        })),
        ..Default::default()
    };
    let event = message(&from_alice(content), Source::Live);
    assert_eq!(event.quoted, None);
    assert_eq!(event.mentions.len(), 2);
}

#[test]
fn locations_report_their_place_and_refuse_non_numbers() {
    let content = pb::Message {
        location_message: Some(Box::new(pb::LocationMessage {
            degrees_latitude: Some(52.5163),
            degrees_longitude: Some(13.3777),
            name: Some("Brandenburger Tor".into()),
            address: Some("Pariser Platz".into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let event = message(&from_alice(content), Source::Live);
    assert_eq!(event.kind, MessageKind::Location);
    assert_eq!(
        event.location,
        Some(Location {
            latitude: Some(52.5163),
            longitude: Some(13.3777),
            name: Some("Brandenburger Tor".into()),
            address: Some("Pariser Platz".into()),
        })
    );
    let live = pb::Message {
        live_location_message: Some(Box::new(pb::LiveLocationMessage {
            degrees_latitude: Some(f64::NAN),
            degrees_longitude: Some(f64::INFINITY),
            ..Default::default()
        })),
        ..Default::default()
    };
    let event = message(&from_alice(live), Source::Update);
    let location = event.location.unwrap();
    assert_eq!((location.latitude, location.longitude), (None, None));
    // What is written reads back: no NaN reaches the JSON.
    let line = serde_json::to_string(&message(&from_alice(pb::Message::default()), Source::Live));
    assert!(line.is_ok());
    assert_eq!(event.source, Source::Update);
}

#[test]
fn contact_cards_one_or_several() {
    let card = |name: &str| pb::ContactMessage {
        display_name: Some(name.into()),
        vcard: Some(format!("BEGIN:VCARD\nVERSION:3.0\nFN:{name}\nEND:VCARD")),
        ..Default::default()
    };
    let one = pb::Message {
        contact_message: Some(Box::new(card("Alice"))),
        ..Default::default()
    };
    let event = message(&from_alice(one), Source::Live);
    assert_eq!(event.kind, MessageKind::Contact);
    assert_eq!(event.contacts.len(), 1);
    assert_eq!(event.contacts[0].display_name.as_deref(), Some("Alice"));
    assert!(
        event.contacts[0]
            .vcard
            .as_deref()
            .unwrap()
            .contains("FN:Alice")
    );
    let several = pb::Message {
        contacts_array_message: Some(Box::new(pb::ContactsArrayMessage {
            display_name: Some("2 contacts".into()),
            contacts: vec![card("Bob"), pb::ContactMessage::default()],
            ..Default::default()
        })),
        ..Default::default()
    };
    let event = message(&from_alice(several), Source::Live);
    assert_eq!(
        event.contacts[1],
        Contact {
            display_name: None,
            vcard: None
        }
    );
}

#[test]
fn media_report_file_name_voice_gif_and_thumbnail() {
    let document = pb::Message {
        document_message: Some(Box::new(pb::DocumentMessage {
            file_name: Some("report.pdf".into()),
            jpeg_thumbnail: Some(vec![1, 2, 3]),
            ..Default::default()
        })),
        ..Default::default()
    };
    let media = message(&from_alice(document), Source::Live).media.unwrap();
    assert_eq!(media.file_name.as_deref(), Some("report.pdf"));
    assert_eq!(media.thumbnail.as_deref(), Some("AQID"));
    assert!(!media.voice && !media.gif);

    let voice = pb::Message {
        audio_message: Some(Box::new(pb::AudioMessage {
            ptt: Some(true),
            seconds: Some(4),
            ..Default::default()
        })),
        ..Default::default()
    };
    let media = message(&from_alice(voice), Source::Live).media.unwrap();
    assert!(media.voice);
    assert_eq!((media.seconds, media.thumbnail), (Some(4), None));

    let gif = pb::Message {
        video_message: Some(Box::new(pb::VideoMessage {
            gif_playback: Some(true),
            jpeg_thumbnail: Some(Vec::new()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let media = message(&from_alice(gif), Source::Live).media.unwrap();
    assert!(media.gif);
    assert_eq!(media.thumbnail, None, "an empty thumbnail is none");

    let sticker = pb::Message {
        sticker_message: Some(Box::new(pb::StickerMessage {
            png_thumbnail: Some(vec![0x89, b'P']),
            ..Default::default()
        })),
        ..Default::default()
    };
    let media = message(&from_alice(sticker), Source::Live).media.unwrap();
    assert_eq!(media.thumbnail.as_deref(), Some("iVA="));
}

#[test]
fn disappearing_and_view_once_content_is_unwrapped_with_its_context() {
    let inner = pb::Message {
        extended_text_message: Some(Box::new(pb::ExtendedTextMessage {
            text: Some("gone soon".into()),
            context_info: Some(pb::ContextInfo {
                expiration: Some(86_400),
                ..Default::default()
            }),
            ..Default::default()
        })),
        ..Default::default()
    };
    let wrapped = pb::Message {
        ephemeral_message: Some(Box::new(pb::FutureProofMessage {
            message: Some(Box::new(pb::Message {
                view_once_message: Some(Box::new(pb::FutureProofMessage {
                    message: Some(Box::new(inner)),
                })),
                ..Default::default()
            })),
        })),
        ..Default::default()
    };
    let event = message(&from_alice(wrapped), Source::Live);
    assert_eq!(event.text.as_deref(), Some("gone soon"));
    assert_eq!(event.ephemeral_s, Some(86_400));
    // The chat's timer may also come on the message itself.
    let mut info = from_alice(text("x"));
    info.ephemeral_duration = Some(3600);
    assert_eq!(message(&info, Source::Live).ephemeral_s, Some(3600));
    info.ephemeral_duration = Some(0);
    assert_eq!(message(&info, Source::Live).ephemeral_s, None);
}

#[test]
fn statuses_are_statuses_whatever_the_batch() {
    let info = incoming(STATUS_CHAT, "3A09", text("my day"), 1, None, Some(ALICE));
    assert_eq!(message(&info, Source::History).source, Source::Status);
    assert_eq!(message(&info, Source::Live).source, Source::Status);
}

fn revoke_of(id: Option<&str>, from_me: bool) -> pb::Message {
    pb::Message {
        protocol_message: Some(Box::new(pb::ProtocolMessage {
            key: Some(pb::MessageKey {
                remote_jid: Some(ALICE.into()),
                from_me: Some(from_me),
                id: id.map(str::to_owned),
                participant: None,
            }),
            r#type: Some(pb::ProtocolMessageType::Revoke as i32),
            ..Default::default()
        })),
        ..Default::default()
    }
}

#[test]
fn a_revoke_is_a_revoke_event_not_a_message() {
    assert_eq!(
        notice(&from_alice(revoke_of(Some("3A00"), false))),
        Notice::Revoke(Revoke {
            chat: ALICE.into(),
            id: "3A00".into(),
            from_me: false,
            participant: None,
            by: Some(ALICE.into()),
        })
    );
    assert_eq!(
        notice(&in_group(revoke_of(Some("3A00"), false))),
        Notice::Revoke(Revoke {
            chat: GROUP.into(),
            id: "3A00".into(),
            from_me: false,
            participant: Some(ALICE.into()),
            by: Some(ALICE.into()),
        })
    );
    // Our own revoke (sent from this daemon or the phone): nobody else to name.
    let mut own = crate::message::outgoing(ALICE, "3EB0", revoke_of(Some("3EB1"), true), 1);
    own.status = None;
    let Notice::Revoke(revoke) = notice(&own) else {
        panic!("not a revoke");
    };
    assert_eq!(
        (revoke.from_me, revoke.by, revoke.id.as_str()),
        (true, None, "3EB1")
    );
}

#[test]
fn unmapped_content_is_other_with_the_bytes_as_they_came() {
    // A revoke naming no message, and another protocol message, are kept as `other`.
    let info = from_alice(revoke_of(None, false));
    let mut bytes = encode(&info);
    // A field this schema does not know (tag 1000, varint 7) must survive in `raw`.
    bytes.extend_from_slice(&[0xC0, 0x3E, 7]);
    let Received::Message(event) = receive(&bytes, Source::Live).unwrap() else {
        panic!("not a message");
    };
    assert_eq!(event.kind, MessageKind::Other);
    assert_eq!(STANDARD.decode(event.raw.unwrap()).unwrap(), bytes);
    // Without bytes, the re-encoded message stands in.
    let setting = pb::Message {
        protocol_message: Some(Box::new(pb::ProtocolMessage {
            r#type: Some(pb::ProtocolMessageType::EphemeralSetting as i32),
            ephemeral_expiration: Some(60),
            ..Default::default()
        })),
        ..Default::default()
    };
    let info = from_alice(setting);
    let event = into_event(info.clone()).unwrap();
    assert_eq!(STANDARD.decode(event.raw.unwrap()).unwrap(), encode(&info));
    assert_eq!(to_event(&from_alice(text("hi"))).unwrap().raw, None);
}

fn stub(kind: pb::WebMessageInfoStubType, params: &[&str]) -> pb::WebMessageInfo {
    pb::WebMessageInfo {
        message: None,
        message_stub_type: Some(kind as i32),
        message_stub_parameters: params.iter().map(|p| (*p).to_owned()).collect(),
        ..in_group(pb::Message::default())
    }
}

#[test]
fn group_stubs_are_group_events() {
    use pb::WebMessageInfoStubType as S;
    let cases = [
        (S::GroupCreate, vec!["Lunch"], "create", Some("Lunch"), None),
        (
            S::GroupChangeSubject,
            vec!["Dinner"],
            "subject",
            Some("Dinner"),
            None,
        ),
        (
            S::GroupChangeDescription,
            vec!["about"],
            "description",
            None,
            Some("about"),
        ),
        (
            S::GroupChangeAnnounce,
            vec!["on"],
            "announce",
            None,
            Some("on"),
        ),
        (
            S::GroupChangeRestrict,
            vec!["off"],
            "restrict",
            None,
            Some("off"),
        ),
        (
            S::ChangeEphemeralSetting,
            vec!["604800"],
            "ephemeral",
            None,
            Some("604800"),
        ),
        (
            S::GroupChangeInviteLink,
            vec!["AbCd"],
            "invite",
            None,
            Some("AbCd"),
        ),
    ];
    for (kind, params, action, subject, value) in cases {
        assert_eq!(
            notice(&stub(kind, &params)),
            Notice::Group(Group {
                chat: GROUP.into(),
                action: action.into(),
                actor: Some(ALICE.into()),
                participants: Vec::new(),
                subject: subject.map(str::to_owned),
                value: value.map(str::to_owned),
            }),
            "{kind:?}"
        );
    }
    for (kind, action) in [
        (S::GroupParticipantAdd, "add"),
        (S::GroupParticipantInvite, "add"),
        (S::GroupParticipantRemove, "remove"),
        (S::GroupParticipantLeave, "leave"),
        (S::GroupParticipantPromote, "promote"),
        (S::GroupParticipantDemote, "demote"),
    ] {
        let Notice::Group(group) = notice(&stub(kind, &["4915100000002@c.us"])) else {
            panic!("{kind:?} is not a group event");
        };
        assert_eq!(
            (group.action.as_str(), group.participants),
            (action, vec![BOB.to_owned()])
        );
    }
}

#[test]
fn missed_calls_and_revoked_stubs_and_unknown_stubs() {
    use pb::WebMessageInfoStubType as S;
    let mut missed = stub(S::CallMissedVoice, &[]);
    missed.key = Some(pb::MessageKey {
        remote_jid: Some(ALICE.into()),
        from_me: Some(false),
        id: Some("3A05".into()),
        participant: None,
    });
    missed.participant = None;
    assert_eq!(
        notice(&missed),
        Notice::Call(Call {
            from: ALICE.into(),
            id: "3A05".into(),
            status: "missed".into(),
        })
    );
    let Notice::Revoke(revoke) = notice(&stub(S::Revoke, &[])) else {
        panic!("a revoked stub is a revoke");
    };
    assert_eq!((revoke.id.as_str(), revoke.chat.as_str()), ("3A02", GROUP));
    // A stub the daemon has no event for is a message of kind other, nothing lost.
    for unknown in [S::GroupChangeIcon as i32, S::E2eEncrypted as i32, 999] {
        let mut info = stub(S::Unknown, &["x"]);
        info.message_stub_type = Some(unknown);
        let event = message(&info, Source::History);
        assert_eq!(event.kind, MessageKind::Other);
        assert!(event.raw.is_some());
    }
    // Ephemeral settings outside a group are not group events.
    let mut one_to_one = stub(S::ChangeEphemeralSetting, &["60"]);
    one_to_one.key.as_mut().unwrap().remote_jid = Some(ALICE.into());
    assert_eq!(message(&one_to_one, Source::Live).kind, MessageKind::Other);
}

#[test]
fn a_stub_without_key_fields_is_an_error_not_a_panic() {
    let mut info = stub(pb::WebMessageInfoStubType::GroupCreate, &[]);
    info.key.as_mut().unwrap().id = None;
    assert_eq!(
        receive(&encode(&info), Source::Live),
        Err(Error::MissingKeyField("id"))
    );
    info.key = None;
    assert_eq!(
        receive(&encode(&info), Source::Live),
        Err(Error::MissingKey)
    );
    assert!(receive(&[0xFF, 0x01], Source::Live).is_err());
    let text_event = message(
        &incoming_text(ALICE, "3A", "hi", 1, None, None),
        Source::Live,
    );
    assert_eq!(text_event.text.as_deref(), Some("hi"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Corrupting a reply with every context field, a revoke and a stub reaches the nested
    /// decoders of the receive path; nothing may panic.
    #[test]
    fn corrupted_receives_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let info = match which {
            0 => from_alice(pb::Message {
                extended_text_message: Some(Box::new(pb::ExtendedTextMessage {
                    text: Some("hi".into()),
                    context_info: Some(context("3A00", text("quoted"))),
                    ..Default::default()
                })),
                ..Default::default()
            }),
            1 => in_group(revoke_of(Some("3A00"), false)),
            _ => stub(pb::WebMessageInfoStubType::GroupParticipantAdd, &[ALICE, BOB]),
        };
        let mut bytes = encode(&info);
        for (at, value) in edits {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if let Ok(Received::Message(event)) = receive(&bytes, Source::Live) {
            prop_assert!(serde_json::to_string(&event).is_ok());
        }
    }
}
