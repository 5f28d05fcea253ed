//! The simulated phone and its contacts: it scans QR codes, its contacts send texts and media
//! (and, in demo mode, chatter), it acknowledges what the client sends, and it answers for the
//! chat list, the contact list and the group.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::crypto::{KeyPair, SessionKeys};
use waweb_core::media::{self, MediaKeys, MediaType};
use waweb_core::message::{self, MediaInfo, pb};
use waweb_core::wire::FrameCipher;
use waweb_proto::message::MediaKind;

use crate::command::Field;

use super::{Core, Session, Timer, Tokens, now_s, random_bytes, user_jid};

/// Someone in the phone's address book.
pub(super) struct Contact {
    pub(super) number: &'static str,
    pub(super) name: &'static str,
}

/// The phone's contacts; all three are in the group.
pub(super) const CONTACTS: [Contact; 3] = [
    Contact {
        number: "4915100000001",
        name: "Alice",
    },
    Contact {
        number: "4915100000002",
        name: "Bob",
    },
    Contact {
        number: "4915100000003",
        name: "Carol",
    },
];

pub(super) const GROUP_SUBJECT: &str = "Sim Friends";

impl Core {
    pub(super) fn battery_node(&self) -> Node {
        let (percent, plugged) = self.battery;
        Node::new("action").with_content(Content::List(vec![
            Node::new("battery")
                .attr("live", plugged.to_string())
                .attr("value", percent.to_string())
                .attr("powersave", "false"),
        ]))
    }

    pub(super) fn group_jid(&self) -> String {
        format!("{}-1600000000@g.us", self.config.phone_number)
    }

    /// `Msg` ack `ack` for message `id` the client sent to `peer` (PROTOCOL.md 3.7), if the
    /// session is connected.
    fn push_ack(&mut self, client_id: &str, id: &str, ack: i64, peer: &str) {
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        let payload = json!(["Msg", {
            "cmd": "ack", "id": id, "ack": ack,
            "from": format!("{}@c.us", self.config.phone_number),
            "to": message::jid_for_json_command(peer), "t": now_s()
        }]);
        match session.conn {
            Some(conn) => self.push_json(conn, &payload),
            // Kept for the next login, like the messages of an offline client.
            None => session.offline_acks.push(payload),
        }
    }

    /// The `read` command: contact `from` reads what the client sent them, up to message `id`;
    /// one `Msg` ack 3 per message (B reads only `Msg`), oldest first.
    pub(super) fn read_up_to(
        &mut self,
        from: Field<String>,
        id: Field<String>,
    ) -> Result<Value, String> {
        let from = from.need("read", "from")?;
        let id = id.need("read", "id")?;
        let client_id = self.target_session()?;
        let peer = user_jid(&from);
        let own: Vec<String> = self
            .history
            .get(&peer)
            .into_iter()
            .flatten()
            .filter_map(|info| info.key.as_ref())
            .filter(|key| key.from_me == Some(true))
            .filter_map(|key| key.id.clone())
            .collect();
        let Some(last) = own.iter().position(|own| *own == id) else {
            return Err(format!("the client sent no message {id} to {peer}"));
        };
        let ids = &own[..=last];
        for read in ids {
            self.push_ack(&client_id, read, 3, &peer);
        }
        Ok(json!({"ids": ids}))
    }

    pub(super) fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Ack {
                client_id,
                id,
                ack,
                peer,
            } => self.push_ack(&client_id, &id, ack, &peer),
            Timer::React { from, quote, text } => self.react(&from, quote, &text),
            Timer::Chatter => {
                const LINES: [&str; 6] = [
                    "Hi! How are you?",
                    "Are we still on for lunch tomorrow?",
                    "Look at this 👀",
                    "Running 5 minutes late, sorry.",
                    "Did you see the game last night?",
                    "Good night! 🌙",
                ];
                if self.last_session.is_none() {
                    return;
                }
                let index = self.chatter_index;
                self.chatter_index += 1;
                let contact = &CONTACTS[index % CONTACTS.len()];
                let chat = (index % 4 == 3).then(|| self.group_jid());
                let result = match index % 6 {
                    2 => self.deliver_media(
                        contact.number,
                        chat.as_deref(),
                        MediaType::Image,
                        &gradient_bmp(index),
                        "view.bmp",
                        &MediaExtras {
                            caption: Some("the view from here".into()),
                            ..MediaExtras::default()
                        },
                    ),
                    5 => self.deliver_media(
                        contact.number,
                        chat.as_deref(),
                        MediaType::Document,
                        b"milk\neggs\ncoffee\nbread\n",
                        "shopping-list.txt",
                        &MediaExtras::default(),
                    ),
                    _ => self
                        .deliver_text(contact.number, chat.as_deref(), LINES[index % LINES.len()])
                        .map(|id| json!({"id": id})),
                };
                if let Err(error) = result {
                    tracing::debug!("sim chatter: {error}");
                }
            }
        }
    }

    pub(super) fn contact_name(number: &str) -> Option<&'static str> {
        CONTACTS
            .iter()
            .find(|contact| contact.number == number)
            .map(|contact| contact.name)
    }

    pub(super) fn target_session(&self) -> Result<String, String> {
        self.last_session
            .clone()
            .filter(|id| self.sessions.contains_key(id))
            .ok_or_else(|| "no paired client: scan a QR first".to_owned())
    }

    pub(super) fn deliver_text(
        &mut self,
        from: &str,
        chat: Option<&str>,
        text: &str,
    ) -> Result<String, String> {
        let content = pb::Message {
            conversation: Some(text.to_owned()),
            ..Default::default()
        };
        self.deliver_content(from, chat, content)
    }

    pub(super) fn deliver(&mut self, client_id: &str, chat: &str, info: pb::WebMessageInfo) {
        let t = info.message_timestamp.unwrap_or_else(now_s);
        self.book.message(chat, t, true);
        self.remember(chat, info.clone());
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        match session.conn {
            Some(conn) => self.relay_to(conn, &info),
            // The real service kept messages for an offline web client until it came back.
            None => session.offline.push(info),
        }
    }

    pub(super) fn relay_to(&mut self, conn: u64, info: &pb::WebMessageInfo) {
        let node = Node::new("action")
            .attr("add", "relay")
            .with_content(Content::List(vec![
                Node::new("message").with_content(Content::Bytes(message::encode(info))),
            ]));
        self.push_node(conn, &node, Duration::ZERO);
    }

    pub(super) fn scan(&mut self, qr: &str) -> Result<Value, String> {
        let mut parts = qr.split(',');
        let (Some(reference), Some(public), Some(client_id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("a QR reads ref,base64(publicKey),clientId".into());
        };
        let ttl = self.config.ttl;
        let conn = self
            .conns
            .iter()
            .find(|(_, state)| {
                state.session.is_none()
                    && state.client_id.as_deref() == Some(client_id)
                    && state
                        .current_ref
                        .as_ref()
                        .is_some_and(|(current, _)| current == reference)
            })
            .map(|(conn, state)| {
                (
                    *conn,
                    state.current_ref.as_ref().map(|(_, at)| at.elapsed()),
                )
            });
        let Some((conn, age)) = conn else {
            return Err("no connection shows that QR (unknown ref or client id)".into());
        };
        if age.is_some_and(|age| age > ttl) {
            return Err("that QR has expired".into());
        }
        let public: [u8; 32] = BASE64
            .decode(public)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the QR's public key is not 32 bytes of base64")?;
        let keys = SessionKeys::random();
        let secret = keys.to_pairing_secret(&KeyPair::generate(), &public);
        let session = Session {
            cipher: FrameCipher::new(&keys),
            keys,
            tokens: Tokens::fresh(),
            previous: None,
            conn: Some(conn),
            offline: Vec::new(),
            offline_acks: Vec::new(),
            relayed: HashSet::new(),
        };
        self.sessions.insert(client_id.to_owned(), session);
        self.last_session = Some(client_id.to_owned());
        let mut payload = self.conn_payload(client_id, true);
        payload["secret"] = json!(BASE64.encode(secret));
        payload["ref"] = json!(reference);
        if let Some(state) = self.conns.get_mut(&conn) {
            state.session = Some(client_id.to_owned());
            state.current_ref = None;
        }
        self.push_json(conn, &json!(["Conn", payload]));
        self.after_conn(conn);
        let wid = format!("{}@c.us", self.config.phone_number);
        self.emit(json!({"type": "paired", "conn": conn, "wid": wid, "client_id": client_id}));
        self.emit(
            json!({"type": "logged_in", "conn": conn, "restored": false, "challenged": false}),
        );
        Ok(json!({"conn": conn, "wid": wid}))
    }

    pub(super) fn deliver_media(
        &mut self,
        from: &str,
        chat: Option<&str>,
        kind: MediaType,
        plaintext: &[u8],
        path: &str,
        extras: &MediaExtras,
    ) -> Result<Value, String> {
        let client_id = self.target_session()?;
        let media_key = random_bytes::<32>();
        let keys = MediaKeys::derive(&media_key, kind).map_err(|error| error.to_string())?;
        let sealed = media::encrypt(&keys, plaintext, false).map_err(|error| error.to_string())?;
        let (url, direct_path) = self.store.put(sealed.body);
        let (media_kind, mimetype) = match kind {
            MediaType::Image if path.ends_with(".bmp") => (MediaKind::Image, "image/bmp"),
            MediaType::Image if path.ends_with(".bmp") => (MediaKind::Image, "image/bmp"),
            MediaType::Image => (MediaKind::Image, "image/jpeg"),
            MediaType::Video => (MediaKind::Video, "video/mp4"),
            MediaType::Audio => (MediaKind::Audio, "audio/ogg; codecs=opus"),
            MediaType::Document => (MediaKind::Document, mime_of(path)),
            MediaType::Sticker => (MediaKind::Sticker, "image/webp"),
        };
        let info = MediaInfo {
            kind: media_kind,
            url: Some(url.clone()),
            direct_path: Some(direct_path),
            media_key: media_key.to_vec(),
            mimetype: Some(mimetype.to_owned()),
            file_sha256: sealed.encrypted.file_sha256.to_vec(),
            file_enc_sha256: sealed.encrypted.file_enc_sha256.to_vec(),
            file_length: sealed.encrypted.file_length,
            caption: extras.caption.clone(),
            width: matches!(kind, MediaType::Image | MediaType::Sticker).then_some(512),
            height: matches!(kind, MediaType::Image | MediaType::Sticker).then_some(512),
            seconds: matches!(kind, MediaType::Video | MediaType::Audio).then_some(3),
        };
        let sender = user_jid(from);
        let number = sender.split('@').next().unwrap_or_default().to_owned();
        let remote = chat.map(str::to_owned).unwrap_or_else(|| sender.clone());
        let id = phone_message_id();
        let participant = chat.is_some().then_some(sender.as_str());
        let mut wmi = message::incoming_media(
            &remote,
            &id,
            &info,
            now_s(),
            Self::contact_name(&number),
            participant,
        );
        if let Some(content) = wmi.message.as_mut() {
            extras.apply(content, path);
        }
        self.media.insert(id.clone(), info);
        self.deliver(&client_id, &remote, wmi);
        Ok(json!({"id": id, "url": url, "media_key": BASE64.encode(media_key)}))
    }
}

/// What a phone puts into a media message besides the file (PROTOCOL.md 9.4): the caption, the
/// voice-note and GIF flags and an inline thumbnail, as `send_media` asks; a document always
/// carries its file name, as phones sent it.
#[derive(Debug, Default)]
pub(super) struct MediaExtras {
    pub(super) caption: Option<String>,
    pub(super) voice: bool,
    pub(super) gif: bool,
    pub(super) thumbnail: Option<Vec<u8>>,
}

impl MediaExtras {
    fn apply(&self, content: &mut pb::Message, path: &str) {
        if let Some(audio) = content.audio_message.as_mut() {
            audio.ptt = self.voice.then_some(true);
        }
        if let Some(video) = content.video_message.as_mut() {
            video.gif_playback = self.gif.then_some(true);
            video.jpeg_thumbnail = self.thumbnail.clone();
        }
        if let Some(image) = content.image_message.as_mut() {
            image.jpeg_thumbnail = self.thumbnail.clone();
        }
        if let Some(document) = content.document_message.as_mut() {
            let name = std::path::Path::new(path).file_name();
            document.file_name = name.map(|name| name.to_string_lossy().into_owned());
            document.jpeg_thumbnail = self.thumbnail.clone();
        }
    }
}

/// A small 24-bit BMP with a colour gradient: a real picture the demo can send as an image.
/// The id a `protocolMessage` REVOKE names, if `info` is one.
pub(super) fn revoked_id(info: &pb::WebMessageInfo) -> Option<&str> {
    let protocol = info.message.as_ref()?.protocol_message.as_ref()?;
    let revoke = protocol.r#type == Some(pb::ProtocolMessageType::Revoke.into());
    revoke.then(|| protocol.key.as_ref()?.id.as_deref())?
}

fn gradient_bmp(seed: usize) -> Vec<u8> {
    const SIDE: u32 = 64;
    let row = SIDE * 3;
    let size = 54 + row * SIDE;
    let mut bmp = Vec::with_capacity(size as usize);
    bmp.extend_from_slice(b"BM");
    bmp.extend_from_slice(&size.to_le_bytes());
    bmp.extend_from_slice(&[0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0]);
    bmp.extend_from_slice(&SIDE.to_le_bytes());
    bmp.extend_from_slice(&SIDE.to_le_bytes());
    bmp.extend_from_slice(&[1, 0, 24, 0, 0, 0, 0, 0]);
    bmp.extend_from_slice(&(row * SIDE).to_le_bytes());
    bmp.extend_from_slice(&[0; 16]);
    let shift = (seed as u32).wrapping_mul(37);
    for y in 0..SIDE {
        for x in 0..SIDE {
            bmp.extend_from_slice(&[
                (x * 4).wrapping_add(shift) as u8,
                (y * 4) as u8,
                ((x + y) * 2).wrapping_add(shift) as u8,
            ]);
        }
    }
    bmp
}

fn mime_of(path: &str) -> &'static str {
    match path
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("bmp") => "image/bmp",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Phones wrote ids like `3AA55DBD30C9CD2FD815`: `3A` and 18 uppercase hex digits.
pub(super) fn phone_message_id() -> String {
    let mut id = String::from("3A");
    for byte in random_bytes::<9>() {
        id.push_str(&format!("{byte:02X}"));
    }
    id
}
