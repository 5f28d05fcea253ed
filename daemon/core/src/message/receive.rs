//! Received `WebMessageInfo`s interpreted (PROTOCOL.md 9.5, DESIGN.md 7.3): a chat message
//! becomes a `message` event with every field the daemon maps; a revoke, a group stub or a
//! missed-call stub becomes the typed event it stands for.
//!
//! ```text
//! receive(<WMI conversation "hi">, bytes, Live)            -> Message(message event, source live)
//! receive(<WMI protocolMessage{REVOKE, key.id=3A0B}>, …)    -> Notice(revoke {id: 3A0B, …})
//! receive(<WMI stub GROUP_PARTICIPANT_ADD ["49…@c.us"]>, …) -> Notice(group {action: add, …})
//! receive(<WMI stub CALL_MISSED_VOICE>, …)                  -> Notice(call {status: missed})
//! ```
//!
//! Pure and total: any decoded message maps to something or to an [`Error`], never a panic.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use waweb_proto::Event as Notice;
use waweb_proto::message::{
    Contact, Location, Media, MediaKind, Message, MessageKind, Quoted, Source,
};
use waweb_proto::notice::{Call, Group, Revoke};

use super::{
    Error, LEGACY_USER_SERVER, MediaInfo, encode, is_group, normalize_jid, pb, unwrap_content,
};
use pb::WebMessageInfoStubType as Stub;

/// The chat of statuses (stories), PROTOCOL.md 7.6.
pub const STATUS_CHAT: &str = "status@broadcast";

/// What one received `WebMessageInfo` means.
#[allow(clippy::large_enum_variant)] // lives only until published; see push::Push
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// A chat message: publish and store it (with the bytes it came as).
    Message(Box<Message>),
    /// A typed event standing for a system message (`revoke`, `group`, `call`).
    Notice(Notice),
}

/// Interprets received `WebMessageInfo` bytes as they came in a `message` node: `raw` is
/// reported for kinds the daemon does not map, `source` says how the message came (a message in
/// `status@broadcast` is a status whatever the batch).
pub fn receive(bytes: &[u8], source: Source) -> Result<Received, Error> {
    let info = super::decode_web_message_info(bytes)?;
    interpret(info, Some(bytes), source)
}

/// [`receive`] for a message already decoded; without `raw` bytes, an unmapped kind reports
/// the message re-encoded (fields this daemon's schema lacks are then lost).
pub fn interpret(
    info: pb::WebMessageInfo,
    raw: Option<&[u8]>,
    source: Source,
) -> Result<Received, Error> {
    if let Some(notice) = notice_of(&info)? {
        return Ok(Received::Notice(notice));
    }
    message_event(info, raw, source).map(|message| Received::Message(Box::new(message)))
}

/// Interprets a message as the `message` event reports it (PROTOCOL.md 9.5), source `live`.
///
/// `text` is the text body only (`conversation` or `extendedTextMessage.text`); a caption is part
/// of the attachment and goes to `media.caption`. Empty strings for participant and push name are
/// reported as absent, since some senders write empty fields rather than leaving them out.
/// A message without a timestamp reports 0 rather than failing: the content is still worth
/// delivering. Revokes and stubs come out as `kind: "other"` messages here; [`interpret`] turns
/// them into their typed events.
pub fn to_event(info: &pb::WebMessageInfo) -> Result<Message, Error> {
    into_event(info.clone())
}

/// [`to_event`] for a message that is not needed afterwards: its strings move into the event
/// instead of being copied, which is what the receive path wants.
pub fn into_event(info: pb::WebMessageInfo) -> Result<Message, Error> {
    message_event(info, None, Source::Live)
}

fn message_event(
    info: pb::WebMessageInfo,
    raw: Option<&[u8]>,
    source: Source,
) -> Result<Message, Error> {
    // The kind is known before the message is taken apart, so only an unmapped one pays for
    // re-encoding when the caller has no bytes.
    let unmapped = info
        .message
        .as_ref()
        .map(|content| kind_of(unwrap_content(content)))
        .unwrap_or(MessageKind::Other)
        == MessageKind::Other;
    let raw = unmapped.then(|| STANDARD.encode(raw.map_or_else(|| encode(&info), <[u8]>::to_vec)));
    let pb::WebMessageInfo {
        key,
        message,
        message_timestamp,
        participant,
        push_name,
        ephemeral_duration,
        ..
    } = info;
    let key = key.ok_or(Error::MissingKey)?;
    let chat = take_non_empty(key.remote_jid).ok_or(Error::MissingKeyField("remoteJid"))?;
    let id = take_non_empty(key.id).ok_or(Error::MissingKeyField("id"))?;
    let chat = normalize_jid_owned(chat);
    let participant = take_non_empty(participant)
        .or(take_non_empty(key.participant))
        .map(normalize_jid_owned);
    let mut content = message.map(unwrap_content_owned);
    let media = content.as_ref().and_then(media_event);
    let kind = match (&media, &content) {
        (Some(media), _) => MessageKind::from(media.kind),
        (None, Some(content)) => kind_without_media(content),
        (None, None) => MessageKind::Other,
    };
    let context = content.as_ref().and_then(|content| content.context_info());
    let source = if chat == STATUS_CHAT {
        Source::Status
    } else {
        source
    };
    let mut event = Message {
        from_me: key.from_me.unwrap_or(false),
        participant,
        timestamp: message_timestamp.unwrap_or(0),
        push_name: take_non_empty(push_name),
        media,
        source,
        quoted: context.and_then(|context| quoted(context, &chat)),
        mentions: context.map_or_else(Vec::new, |context| {
            context
                .mentioned_jid
                .iter()
                .map(|jid| normalize_jid(jid))
                .collect()
        }),
        forwarded: context.and_then(|context| context.is_forwarded) == Some(true),
        location: content.as_ref().and_then(location_of),
        contacts: content.as_ref().map_or_else(Vec::new, contacts_of),
        ephemeral_s: context
            .and_then(|context| context.expiration)
            .or(ephemeral_duration)
            .filter(|seconds| *seconds > 0),
        raw,
        ..Message::new(id, chat, kind)
    };
    event.text = content.as_mut().and_then(take_text);
    Ok(event)
}

/// Who a system message comes from, as its notice reports it.
struct Origin {
    chat: String,
    from_me: bool,
    /// The author: the participant in a group; `None` outside groups.
    author: Option<String>,
    /// Who to name as the doer: the author, else the chat; nobody when it is this account.
    by: Option<String>,
}

/// The typed event a system message stands for, if it is one the daemon maps.
fn notice_of(info: &pb::WebMessageInfo) -> Result<Option<Notice>, Error> {
    let key = info.key.as_ref().ok_or(Error::MissingKey)?;
    let chat = non_empty(&key.remote_jid)
        .map(normalize_jid)
        .ok_or(Error::MissingKeyField("remoteJid"))?;
    let from_me = key.from_me.unwrap_or(false);
    let author = non_empty(&info.participant)
        .or(non_empty(&key.participant))
        .map(normalize_jid);
    let by = if from_me {
        None
    } else {
        author.clone().or_else(|| Some(chat.clone()))
    };
    let origin = Origin {
        chat,
        from_me,
        author,
        by,
    };
    if let Some(protocol) = info
        .message
        .as_ref()
        .and_then(|content| unwrap_content(content).protocol_message.as_deref())
    {
        return Ok(revoke_of(protocol, origin));
    }
    let Some(stub) = info.message_stub_type.filter(|stub| *stub != 0) else {
        return Ok(None);
    };
    let id = non_empty(&key.id).ok_or(Error::MissingKeyField("id"))?;
    Ok(stub_notice(stub, &info.message_stub_parameters, id, origin))
}

/// `protocolMessage` REVOKE naming its target; any other protocol message is no notice.
fn revoke_of(protocol: &pb::ProtocolMessage, origin: Origin) -> Option<Notice> {
    let is_revoke = protocol.r#type.unwrap_or(0) == pb::ProtocolMessageType::Revoke as i32;
    let target = protocol.key.as_ref()?;
    let id = non_empty(&target.id).filter(|_| is_revoke)?;
    Some(Notice::Revoke(Revoke {
        chat: origin.chat,
        id: id.to_owned(),
        // The key names the message as the receiving side stored it (B looks it up so);
        // without `fromMe`, the sender can only have deleted their own.
        from_me: target.from_me.unwrap_or(origin.from_me),
        participant: non_empty(&target.participant)
            .map(normalize_jid)
            .or(origin.author),
        by: origin.by,
    }))
}

/// The notice a stub message (PROTOCOL.md 9.1) stands for; `None` for stubs without one.
fn stub_notice(stub: i32, params: &[String], id: &str, origin: Origin) -> Option<Notice> {
    let first = params.first().filter(|value| !value.is_empty()).cloned();
    let group =
        |action: &str, participants: bool, subject: Option<String>, value: Option<String>| {
            Some(Notice::Group(Group {
                chat: origin.chat.clone(),
                action: action.to_owned(),
                actor: origin.author.clone(),
                participants: if participants {
                    params.iter().map(|jid| normalize_jid(jid)).collect()
                } else {
                    Vec::new()
                },
                subject,
                value,
            }))
        };
    match Stub::try_from(stub).unwrap_or(Stub::Unknown) {
        Stub::Revoke => Some(Notice::Revoke(Revoke {
            chat: origin.chat.clone(),
            id: id.to_owned(),
            from_me: origin.from_me,
            participant: origin.author.clone(),
            by: origin.by.clone(),
        })),
        Stub::GroupCreate => group("create", false, first, None),
        Stub::GroupChangeSubject => group("subject", false, first, None),
        Stub::GroupChangeDescription => group("description", false, None, first),
        Stub::GroupChangeAnnounce => group("announce", false, None, first),
        Stub::GroupChangeRestrict => group("restrict", false, None, first),
        // In a 1:1 chat the timer is no group change; it stays a message.
        Stub::ChangeEphemeralSetting if is_group(&origin.chat) => {
            group("ephemeral", false, None, first)
        }
        Stub::GroupChangeInviteLink => group("invite", false, None, first),
        Stub::GroupParticipantAdd | Stub::GroupParticipantInvite => group("add", true, None, None),
        Stub::GroupParticipantRemove => group("remove", true, None, None),
        Stub::GroupParticipantLeave => group("leave", true, None, None),
        Stub::GroupParticipantPromote => group("promote", true, None, None),
        Stub::GroupParticipantDemote => group("demote", true, None, None),
        Stub::CallMissedVoice
        | Stub::CallMissedVideo
        | Stub::CallMissedGroupVoice
        | Stub::CallMissedGroupVideo => Some(Notice::Call(Call {
            from: origin.author.clone().unwrap_or_else(|| origin.chat.clone()),
            id: id.to_owned(),
            status: "missed".into(),
        })),
        _ => None,
    }
}

fn quoted(context: &pb::ContextInfo, chat: &str) -> Option<Quoted> {
    let id = non_empty(&context.stanza_id)?;
    let content = context.quoted_message.as_deref().map(unwrap_content);
    Some(Quoted {
        id: id.to_owned(),
        chat: non_empty(&context.remote_jid).map_or_else(|| chat.to_owned(), normalize_jid),
        participant: non_empty(&context.participant).map(normalize_jid),
        kind: content.map_or(MessageKind::Other, kind_of),
        text: content.and_then(|content| {
            text_of(content)
                .or_else(|| caption_of(content))
                .map(str::to_owned)
        }),
    })
}

fn location_of(content: &pb::Message) -> Option<Location> {
    fn finite(value: Option<f64>) -> Option<f64> {
        value.filter(|value| value.is_finite())
    }
    if let Some(m) = &content.location_message {
        return Some(Location {
            latitude: finite(m.degrees_latitude),
            longitude: finite(m.degrees_longitude),
            name: non_empty(&m.name).map(str::to_owned),
            address: non_empty(&m.address).map(str::to_owned),
        });
    }
    content.live_location_message.as_ref().map(|m| Location {
        latitude: finite(m.degrees_latitude),
        longitude: finite(m.degrees_longitude),
        name: None,
        address: None,
    })
}

fn contacts_of(content: &pb::Message) -> Vec<Contact> {
    fn card(m: &pb::ContactMessage) -> Contact {
        Contact {
            display_name: non_empty(&m.display_name).map(str::to_owned),
            vcard: non_empty(&m.vcard).map(str::to_owned),
        }
    }
    if let Some(m) = &content.contact_message {
        return vec![card(m)];
    }
    content
        .contacts_array_message
        .as_ref()
        .map_or_else(Vec::new, |m| m.contacts.iter().map(card).collect())
}

/// The `media` object of content with an attachment: [`MediaInfo::to_event`] plus the fields
/// only a received message has to report (file name, voice, thumbnail, GIF playback).
fn media_event(content: &pb::Message) -> Option<Media> {
    let mut media = media_of(content)?.to_event();
    let thumbnail = match media.kind {
        MediaKind::Image => content
            .image_message
            .as_ref()
            .and_then(|m| m.jpeg_thumbnail.as_ref()),
        MediaKind::Video => content
            .video_message
            .as_ref()
            .and_then(|m| m.jpeg_thumbnail.as_ref()),
        MediaKind::Document => content
            .document_message
            .as_ref()
            .and_then(|m| m.jpeg_thumbnail.as_ref()),
        MediaKind::Sticker => content
            .sticker_message
            .as_ref()
            .and_then(|m| m.png_thumbnail.as_ref()),
        MediaKind::Audio => None,
    };
    media.thumbnail = thumbnail
        .filter(|bytes| !bytes.is_empty())
        .map(|bytes| STANDARD.encode(bytes));
    media.file_name = content
        .document_message
        .as_ref()
        .and_then(|m| non_empty(&m.file_name))
        .map(str::to_owned);
    media.voice = content.audio_message.as_ref().and_then(|m| m.ptt) == Some(true);
    media.gif = content.video_message.as_ref().and_then(|m| m.gif_playback) == Some(true);
    Some(media)
}

fn take_non_empty(field: Option<String>) -> Option<String> {
    field.filter(|value| !value.is_empty())
}

/// [`normalize_jid`] without a copy when the JID is already canonical (the common case).
fn normalize_jid_owned(jid: String) -> String {
    if jid.ends_with(LEGACY_USER_SERVER) {
        normalize_jid(&jid)
    } else {
        jid
    }
}

fn unwrap_content_owned(message: pb::Message) -> pb::Message {
    if std::ptr::eq(unwrap_content(&message), &message) {
        message
    } else {
        unwrap_content(&message).clone()
    }
}

fn take_text(content: &mut pb::Message) -> Option<String> {
    content.conversation.take().or_else(|| {
        content
            .extended_text_message
            .as_mut()
            .and_then(|extended| extended.text.take())
    })
}

fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|value| !value.is_empty())
}

fn text_of(content: &pb::Message) -> Option<&str> {
    content.conversation.as_deref().or_else(|| {
        content
            .extended_text_message
            .as_ref()
            .and_then(|extended| extended.text.as_deref())
    })
}

fn caption_of(content: &pb::Message) -> Option<&str> {
    let image = content
        .image_message
        .as_ref()
        .and_then(|m| m.caption.as_deref());
    image.or_else(|| {
        content
            .video_message
            .as_ref()
            .and_then(|m| m.caption.as_deref())
    })
}

/// What already unwrapped content is, as `kind` reports it.
fn kind_of(content: &pb::Message) -> MessageKind {
    match media_kind(content) {
        Some(kind) => MessageKind::from(kind),
        None => kind_without_media(content),
    }
}

fn media_kind(content: &pb::Message) -> Option<MediaKind> {
    if content.image_message.is_some() {
        Some(MediaKind::Image)
    } else if content.video_message.is_some() {
        Some(MediaKind::Video)
    } else if content.audio_message.is_some() {
        Some(MediaKind::Audio)
    } else if content.document_message.is_some() {
        Some(MediaKind::Document)
    } else if content.sticker_message.is_some() {
        Some(MediaKind::Sticker)
    } else {
        None
    }
}

fn kind_without_media(content: &pb::Message) -> MessageKind {
    if content.location_message.is_some() || content.live_location_message.is_some() {
        MessageKind::Location
    } else if content.contact_message.is_some() || content.contacts_array_message.is_some() {
        MessageKind::Contact
    } else if text_of(content).is_some() {
        MessageKind::Text
    } else {
        MessageKind::Other
    }
}

/// The attachment of already unwrapped content: the first of image, video, audio, document and
/// sticker (PROTOCOL.md 9.5 step 3), or `None` for content without one.
pub fn media_of(content: &pb::Message) -> Option<MediaInfo> {
    fn bytes(field: &Option<Vec<u8>>) -> Vec<u8> {
        field.clone().unwrap_or_default()
    }
    fn text(field: &Option<String>) -> Option<String> {
        non_empty(field).map(str::to_owned)
    }
    let kind = media_kind(content)?;
    // One shape for the five message types; the fields a type lacks stay absent.
    let info = |url: &Option<String>,
                direct_path: &Option<String>,
                media_key: &Option<Vec<u8>>,
                mimetype: &Option<String>,
                file_sha256: &Option<Vec<u8>>,
                file_enc_sha256: &Option<Vec<u8>>,
                file_length: Option<u64>| MediaInfo {
        kind,
        url: text(url),
        direct_path: text(direct_path),
        media_key: bytes(media_key),
        mimetype: text(mimetype),
        file_sha256: bytes(file_sha256),
        file_enc_sha256: bytes(file_enc_sha256),
        file_length: file_length.unwrap_or(0),
        caption: None,
        width: None,
        height: None,
        seconds: None,
    };
    let media = match kind {
        MediaKind::Image => {
            let m = content.image_message.as_deref()?;
            MediaInfo {
                caption: text(&m.caption),
                width: m.width,
                height: m.height,
                ..info(
                    &m.url,
                    &m.direct_path,
                    &m.media_key,
                    &m.mimetype,
                    &m.file_sha256,
                    &m.file_enc_sha256,
                    m.file_length,
                )
            }
        }
        MediaKind::Video => {
            let m = content.video_message.as_deref()?;
            MediaInfo {
                caption: text(&m.caption),
                width: m.width,
                height: m.height,
                seconds: m.seconds,
                ..info(
                    &m.url,
                    &m.direct_path,
                    &m.media_key,
                    &m.mimetype,
                    &m.file_sha256,
                    &m.file_enc_sha256,
                    m.file_length,
                )
            }
        }
        MediaKind::Audio => {
            let m = content.audio_message.as_deref()?;
            MediaInfo {
                seconds: m.seconds,
                ..info(
                    &m.url,
                    &m.direct_path,
                    &m.media_key,
                    &m.mimetype,
                    &m.file_sha256,
                    &m.file_enc_sha256,
                    m.file_length,
                )
            }
        }
        MediaKind::Document => {
            let m = content.document_message.as_deref()?;
            info(
                &m.url,
                &m.direct_path,
                &m.media_key,
                &m.mimetype,
                &m.file_sha256,
                &m.file_enc_sha256,
                m.file_length,
            )
        }
        MediaKind::Sticker => {
            let m = content.sticker_message.as_deref()?;
            MediaInfo {
                width: m.width,
                height: m.height,
                ..info(
                    &m.url,
                    &m.direct_path,
                    &m.media_key,
                    &m.mimetype,
                    &m.file_sha256,
                    &m.file_enc_sha256,
                    m.file_length,
                )
            }
        }
    };
    Some(media)
}

#[cfg(test)]
#[path = "receive_tests.rs"]
mod tests;
