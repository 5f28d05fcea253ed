//! The content we build, checked against hand-assembled protobuf bytes (PROTOCOL.md 9.3, 9.4)
//! and decoded back.

use prost::Message as _;

use super::*;
use crate::message::{self, pb};

/// One length-delimited field: `tag` (field number << 3 | 2), length, bytes.
fn field(tag: u8, bytes: &[u8]) -> Vec<u8> {
    assert!(bytes.len() < 128, "one-byte lengths only");
    let mut out = vec![tag, bytes.len() as u8];
    out.extend_from_slice(bytes);
    out
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

const ALICE: &str = "4915100000001@s.whatsapp.net";
const ME: &str = "4915100000000@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";

#[test]
fn plain_text_stays_conversation_and_mentions_make_it_extended() {
    assert_eq!(
        text("hi".into(), None).encode_to_vec(),
        field(0x0a, b"hi"),
        "Message.conversation (1)"
    );
    let context = context(None, vec![ALICE.into()], ME);
    let content = text("hi @4915100000001".into(), context);
    // extendedTextMessage (6) { text (1), contextInfo (17) { mentionedJid (15) } }
    let context_info = field(0x7a, ALICE.as_bytes());
    let mut context_field = vec![0x8a, 0x01, context_info.len() as u8];
    context_field.extend(&context_info);
    let extended = concat(&[&field(0x0a, b"hi @4915100000001"), &context_field]);
    assert_eq!(content.encode_to_vec(), field(0x32, &extended));
}

#[test]
fn a_quote_the_store_does_not_hold_goes_by_id_with_its_author() {
    let quote = Quote {
        chat: ALICE.into(),
        id: "3AA55DBD30C9CD2FD815".into(),
        from_me: false,
        participant: None,
        content: None,
    };
    let by_id = context(Some(quote), vec![], ME).unwrap();
    assert_eq!(by_id.stanza_id.as_deref(), Some("3AA55DBD30C9CD2FD815"));
    assert_eq!(by_id.participant.as_deref(), Some(ALICE));
    assert_eq!((by_id.quoted_message, by_id.remote_jid), (None, None));
    // contextInfo { stanzaId (1), participant (2) }
    let quoted = context(
        Some(Quote {
            chat: ALICE.into(),
            id: "Q".into(),
            from_me: true,
            participant: None,
            content: None,
        }),
        vec![],
        ME,
    )
    .unwrap();
    assert_eq!(
        quoted.encode_to_vec(),
        concat(&[&field(0x0a, b"Q"), &field(0x12, ME.as_bytes())]),
        "an own message's author is us"
    );
}

#[test]
fn a_stored_group_message_is_quoted_with_its_content_chat_and_author() {
    // The stored message itself replied to something: that inner quote is not embedded.
    let inner = context(
        Some(Quote {
            chat: GROUP.into(),
            id: "OLDER".into(),
            from_me: false,
            participant: Some(ALICE.into()),
            content: Some(text("older".into(), None)),
        }),
        vec![],
        ME,
    );
    let stored = message::incoming(
        GROUP,
        "3AA5",
        text("look".into(), inner),
        1_600_000_000,
        Some("Alice"),
        Some(ALICE),
    );
    let content = stored_content(&message::encode(&stored)).unwrap();
    let extended = content.extended_text_message.as_ref().unwrap();
    assert_eq!(extended.text.as_deref(), Some("look"));
    assert_eq!(extended.context_info.as_ref().unwrap().quoted_message, None);
    let quote = Quote {
        chat: GROUP.into(),
        id: "3AA5".into(),
        from_me: false,
        participant: Some(ALICE.into()),
        content: Some(content.clone()),
    };
    let context = context(Some(quote), vec![], ME).unwrap();
    assert_eq!(context.remote_jid.as_deref(), Some(GROUP));
    assert_eq!(context.participant.as_deref(), Some(ALICE));
    assert_eq!(context.quoted_message.as_deref(), Some(&content));
    assert_eq!(stored_content(b"\xff\xff"), None);
}

#[test]
fn a_location_has_its_coordinates_as_doubles() {
    let content = location(52.5, -13.25, Some("Tor".into()), Some("Platz".into()), None).unwrap();
    let mut body = vec![0x09];
    body.extend(52.5f64.to_le_bytes());
    body.push(0x11);
    body.extend((-13.25f64).to_le_bytes());
    body.extend(field(0x1a, b"Tor"));
    body.extend(field(0x22, b"Platz"));
    assert_eq!(
        content.encode_to_vec(),
        field(0x2a, &body),
        "locationMessage (5)"
    );
    assert_eq!(
        location(90.5, 0.0, None, None, None),
        Err(Error::Latitude(90.5))
    );
    assert_eq!(
        location(0.0, -180.5, None, None, None),
        Err(Error::Longitude(-180.5))
    );
    assert!(location(f64::NAN, 0.0, None, None, None).is_err());
}

#[test]
fn one_card_is_a_contact_message_and_more_an_array() {
    let card = |name: &str| {
        (
            name.to_owned(),
            format!("BEGIN:VCARD\nFN:{name}\nEND:VCARD"),
        )
    };
    let one = contacts(vec![card("Ada")], None).unwrap();
    let vcard = b"BEGIN:VCARD\nFN:Ada\nEND:VCARD";
    let mut body = field(0x0a, b"Ada");
    body.extend([0x82, 0x01, vcard.len() as u8]);
    body.extend(vcard);
    assert_eq!(
        one.encode_to_vec(),
        field(0x22, &body),
        "contactMessage (4)"
    );
    let two = contacts(vec![card("Ada"), card("Bob")], None).unwrap();
    let array = two.contacts_array_message.unwrap();
    assert_eq!(array.display_name.as_deref(), Some("2 contacts"));
    assert_eq!(array.contacts.len(), 2);
    assert_eq!(array.contacts[1].display_name.as_deref(), Some("Bob"));
    assert_eq!(contacts(vec![], None), Err(Error::ContactCount(0)));
    assert_eq!(
        contacts(vec![card("x"); CONTACTS_MAX + 1], None),
        Err(Error::ContactCount(CONTACTS_MAX + 1))
    );
}

#[test]
fn a_forward_is_marked_and_counts_up() {
    let once = forward(text("news".into(), None), None).unwrap();
    let extended = once.extended_text_message.as_ref().unwrap();
    assert_eq!(extended.text.as_deref(), Some("news"));
    let context = extended.context_info.as_ref().unwrap();
    assert_eq!(
        (context.is_forwarded, context.forwarding_score),
        (Some(true), Some(1))
    );
    // contextInfo { forwardingScore (21) = 1, isForwarded (22) = true }
    assert_eq!(
        context.encode_to_vec(),
        [0xa8, 0x01, 0x01, 0xb0, 0x01, 0x01]
    );
    let twice = forward(once, None).unwrap();
    let score = twice.extended_text_message.unwrap().context_info.unwrap();
    assert_eq!(score.forwarding_score, Some(2));
    // A quote the original carried is not forwarded; a new one is.
    let quoted = text(
        "re".into(),
        self::context(
            Some(Quote {
                chat: ALICE.into(),
                id: "Q".into(),
                from_me: false,
                participant: None,
                content: None,
            }),
            vec![],
            ME,
        ),
    );
    let forwarded = forward(quoted, None).unwrap();
    let context = forwarded
        .extended_text_message
        .unwrap()
        .context_info
        .unwrap();
    assert_eq!(context.stanza_id, None);
    let image = pb::Message {
        image_message: Some(Box::new(pb::ImageMessage {
            url: Some("https://mmg/x.enc".into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let image = forward(image, None).unwrap().image_message.unwrap();
    assert_eq!(image.url.as_deref(), Some("https://mmg/x.enc"));
    assert_eq!(image.context_info.unwrap().is_forwarded, Some(true));
    assert_eq!(
        forward(revoke(ALICE, "X"), None),
        Err(Error::NothingToForward)
    );
}

#[test]
fn a_revoke_names_our_message_by_its_key() {
    let key = concat(&[
        &field(0x0a, ALICE.as_bytes()),
        &[0x10, 0x01],
        &field(0x1a, b"3EB0C0FFEE"),
    ]);
    // protocolMessage (12) { key (1), type (2) = REVOKE (0) }
    let body = concat(&[&field(0x0a, &key), &[0x10, 0x00]]);
    assert_eq!(
        revoke(ALICE, "3EB0C0FFEE").encode_to_vec(),
        field(0x62, &body)
    );
}
