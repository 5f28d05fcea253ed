//! The control commands of DESIGN.md section 5: what each one does to the simulated service.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use waweb_core::binary::{self, Node};
use waweb_core::media::{self, MediaType};

use super::group_ops::GroupChange;
use super::phone::MediaExtras;
use super::receiving::RichText;
use super::{Answer, Core, random_bytes};
use crate::command::{Command, Field};
use crate::media_fault::{self, Fault};
use crate::server::Outgoing;

impl Core {
    pub(super) fn active_conn(&self) -> Result<u64, String> {
        let logged_in = self
            .last_session
            .as_ref()
            .and_then(|id| self.sessions.get(id))
            .and_then(|session| session.conn)
            .filter(|conn| self.conns.contains_key(conn));
        logged_in
            .or(self.last_conn.filter(|conn| self.conns.contains_key(conn)))
            .ok_or_else(|| "no client is connected".to_owned())
    }

    /// Carries out one command; the fields of its `done` line, or the message of its `error`.
    /// A command answered later (`flood`, once its last message is out) takes `answer`.
    pub(super) async fn on_command(
        &mut self,
        command: Command,
        answer: &mut Option<Answer>,
    ) -> Result<Value, String> {
        match command {
            Command::Scan { qr } => self.scan(&qr.need("scan", "qr")?),
            Command::SendText {
                from,
                text,
                chat,
                quote,
                mentions,
                forwarded,
                ephemeral_s,
            } => {
                let from = from.need("send_text", "from")?;
                let text = text.need("send_text", "text")?;
                let chat = chat.get();
                let quote = match quote.get() {
                    None => None,
                    Some(Value::String(id)) => Some(id),
                    Some(reference) => Some(
                        reference["id"]
                            .as_str()
                            .ok_or("send_text quote is an id or {\"id\",\"from_me\"}")?
                            .to_owned(),
                    ),
                };
                let rich = RichText {
                    quote,
                    mentions: mentions.get().unwrap_or_default(),
                    forwarded: forwarded.get().unwrap_or(false),
                    ephemeral_s: ephemeral_s.get().filter(|seconds| *seconds > 0),
                };
                let id = if rich.is_plain() {
                    self.deliver_text(&from, chat.as_deref(), &text)?
                } else {
                    self.deliver_rich_text(&from, chat.as_deref(), &text, rich)?
                };
                Ok(json!({"id": id}))
            }
            Command::SendLocation {
                from,
                chat,
                latitude,
                longitude,
                name,
                address,
            } => self.send_location(from, chat, latitude, longitude, (name, address)),
            Command::SendContact {
                from,
                chat,
                contacts,
            } => self.send_contact(from, chat, contacts),
            Command::Revoke { from, id, chat } => self.revoke(from, id, chat),
            Command::Presence {
                from,
                presence,
                last_seen,
            } => self.presence(from, presence, last_seen),
            Command::Typing { from, chat, state } => self.typing(from, chat, state),
            Command::Group {
                action,
                chat,
                actor,
                participants,
                subject,
                value,
            } => self.group_change(GroupChange {
                action,
                chat,
                actor,
                participants,
                subject,
                value,
            }),
            Command::PhoneAction {
                action,
                chat,
                value,
                messages,
            } => self.phone_action(action, chat, value, messages),
            Command::Block { jid, unblock } => self.block(jid, unblock),
            Command::AddChats { chats, count } => self.add_chats(chats, count),
            Command::AddContacts { contacts, count } => self.add_contacts(contacts, count),
            Command::ChatState => Ok(self.book.state()),
            Command::RemoveChat { chat } => self.remove_chat(chat),
            Command::Call { from, status, id } => self.call(from, status, id),
            Command::SendMedia {
                from,
                kind,
                path,
                chat,
                caption,
                voice,
                gif,
                thumbnail,
            } => {
                let extras = MediaExtras {
                    caption: caption.get(),
                    voice: voice.get().unwrap_or(false),
                    gif: gif.get().unwrap_or(false),
                    thumbnail: match thumbnail.get() {
                        Some(text) => Some(
                            BASE64
                                .decode(text)
                                .map_err(|_| "send_media thumbnail is not base64")?,
                        ),
                        None => None,
                    },
                };
                self.send_media(from, kind, path, chat, extras).await
            }
            Command::Drop => {
                let conn = self.active_conn()?;
                self.close(conn, false);
                Ok(json!({"conn": conn}))
            }
            Command::Replace => {
                let conn = self.active_conn()?;
                self.push_json(
                    conn,
                    &json!(["Cmd", {"type": "disconnect", "kind": "replaced"}]),
                );
                self.close(conn, true);
                Ok(json!({"conn": conn}))
            }
            Command::Unpair => self.unpair(),
            Command::ChallengeNext => {
                self.knobs.challenge_next = true;
                Ok(json!({}))
            }
            Command::RefuseNext { status } => {
                let status = status.need("refuse_next", "status")?;
                self.knobs.refuse_next = Some(u16::try_from(status).map_err(|_| "bad status")?);
                Ok(json!({}))
            }
            Command::RerefNext { status } => {
                let status = status.need("reref_next", "status")?;
                self.knobs.reref_next = Some(u16::try_from(status).map_err(|_| "bad status")?);
                Ok(json!({}))
            }
            Command::Garbage { times } => {
                let times = times.get().unwrap_or(1);
                if !(1..=100_000).contains(&times) {
                    return Err("garbage: times must be 1 to 100000".into());
                }
                let conn = self.active_conn()?;
                for _ in 0..times {
                    self.send_garbage(conn);
                }
                Ok(json!({"conn": conn, "frames": times * 5}))
            }
            Command::BadFrames { kind, count } => {
                let kind = kind.need("bad_frames", "kind")?;
                let count = count.get().unwrap_or(1);
                if !(1..=1_000_000).contains(&count) {
                    return Err("bad_frames: count must be 1 to 1000000".into());
                }
                let conn = self.active_conn()?;
                self.send_bad_frames(conn, &kind, count)?;
                Ok(json!({"conn": conn, "frames": count}))
            }
            Command::HalfOpen => {
                let conn = self.active_conn()?;
                if let Some(state) = self.conns.get_mut(&conn) {
                    state.half_open = true;
                }
                Ok(json!({"conn": conn}))
            }
            Command::DropAt { at } => {
                let at = at.need("drop_at", "at")?.parse()?;
                self.knobs.drop_at = Some(at);
                Ok(json!({"at": at.name()}))
            }
            Command::ExpireMedia => {
                self.store.expire_all();
                Ok(json!({}))
            }
            Command::ForgetMedia {
                url,
                status,
                for_good,
            } => {
                let url = url.need("forget_media", "url")?;
                let status = match status.get().unwrap_or(410) {
                    status @ (404 | 410) => status as u16,
                    _ => return Err("forget_media: status is 404 or 410".into()),
                };
                self.forget_media(&url, status, for_good.get().unwrap_or(false))
            }
            Command::OnWhatsapp {
                number,
                business,
                remove,
            } => {
                let number = number.need("on_whatsapp", "number")?;
                let business = business.get().unwrap_or(false);
                let jid = self
                    .profiles
                    .set_known(&number, business, remove.get().unwrap_or(false));
                Ok(json!({"jid": jid}))
            }
            Command::Profile { jid } => {
                let jid = jid
                    .get()
                    .unwrap_or_else(|| self.config.phone_number.clone());
                let mut state = self.profiles.state_of(&jid);
                state["pushname"] = json!(self.config.pushname);
                state["blocklist"] = json!(self.blocklist);
                Ok(state)
            }
            Command::FailUpload { status } => {
                let status = u16::try_from(status.get().unwrap_or(503))
                    .ok()
                    .filter(|status| (100..600).contains(status))
                    .ok_or("fail_upload: status must be an HTTP status")?;
                self.store.fail_next_upload(status);
                Ok(json!({"status": status}))
            }
            Command::MediaFault {
                fault,
                times,
                pause_ms,
            } => {
                let fault = Fault::parse(&fault.need("media_fault", "fault")?)?;
                let times = times.get().unwrap_or(1);
                if times > media_fault::MAX_TIMES {
                    return Err(format!(
                        "media_fault: times is 0 to {}",
                        media_fault::MAX_TIMES
                    ));
                }
                let pause = match pause_ms.get() {
                    None => media_fault::DRIP_PAUSE,
                    Some(_) if fault != Fault::Drip => {
                        return Err("media_fault: pause_ms is only for drip".into());
                    }
                    Some(ms) => Some(Duration::from_millis(ms))
                        .filter(|pause| !pause.is_zero() && *pause <= media_fault::MAX_PAUSE)
                        .ok_or("media_fault: pause_ms is 1 to 600000")?,
                };
                self.store.arm_fault(fault, times, pause);
                Ok(json!({"fault": fault.name(), "times": times}))
            }
            Command::Battery { percent, plugged } => {
                let percent = percent.need("battery", "percent")?;
                self.battery = (percent.min(100) as u32, plugged.get().unwrap_or(false));
                let conn = self.active_conn()?;
                let node = self.battery_node();
                self.push_node(conn, &node, Duration::ZERO);
                Ok(json!({}))
            }
            Command::PushJson { payload } => {
                let payload = payload.need("push_json", "payload")?;
                let conn = self.active_conn()?;
                self.push_json(conn, &payload);
                Ok(json!({}))
            }
            Command::PushNode { node } => {
                let node = Node::from_json(&node.need("push_node", "node")?)
                    .map_err(|error| error.to_string())?;
                let conn = self.active_conn()?;
                self.push_node(conn, &node, Duration::ZERO);
                Ok(json!({}))
            }
            Command::Flood {
                count,
                rate,
                from,
                bytes,
            } => self.start_flood(count, rate, from, bytes, answer),
            Command::Read { from, id } => self.read_up_to(from, id),
            Command::SeedHistory { chat, count } => self.seed_history(chat, count),
            Command::LoginHistory { per_chat } => self.set_login_history(per_chat),
            Command::Status => Ok(json!({
                "connections": self.conns.len(),
                "sessions": self.sessions.len(),
                "logged_in": self.sessions.values().filter(|s| s.conn.is_some()).count(),
            })),
        }
    }

    async fn send_media(
        &mut self,
        from: Field<String>,
        kind: Field<String>,
        path: Field<String>,
        chat: Field<String>,
        extras: MediaExtras,
    ) -> Result<Value, String> {
        let from = from.need("send_media", "from")?;
        let kind: MediaType = kind
            .need("send_media", "kind")?
            .parse()
            .map_err(|error: media::Error| error.to_string())?;
        let path = path.need("send_media", "path")?;
        let plaintext = tokio::fs::read(&path)
            .await
            .map_err(|error| format!("cannot read {path}: {error}"))?;
        self.deliver_media(
            &from,
            chat.get().as_deref(),
            kind,
            &plaintext,
            &path,
            &extras,
        )
    }

    fn unpair(&mut self) -> Result<Value, String> {
        let client_id = self.target_session()?;
        let session = self.sessions.remove(&client_id);
        if let Some(conn) = session.and_then(|session| session.conn) {
            self.push_json(conn, &json!(["Cmd", {"type": "disconnect"}]));
            self.close(conn, true);
        }
        Ok(json!({"client_id": client_id}))
    }

    /// `count` frames of one kind of damage (`bad_frames`); the sealed kinds need a logged-in
    /// connection (its keys).
    fn send_bad_frames(&mut self, conn: u64, kind: &str, count: u64) -> Result<(), String> {
        let mut frame: Box<dyn FnMut(u64) -> Vec<u8>> = match kind {
            "tiny" => Box::new(|_| {
                let bytes = random_bytes::<4>();
                let len = 1 + usize::from(bytes[3] % 3);
                bytes[..len].to_vec()
            }),
            "hmac" | "truncated" => {
                let cipher = self
                    .cipher_of(conn)
                    .ok_or("bad_frames: the connection is not logged in")?;
                let node = binary::encode(&self.battery_node());
                let truncate = kind == "truncated";
                Box::new(move |n| {
                    let mut data = cipher.seal_server_frame(&format!("bad-{n}"), &node);
                    if truncate {
                        // Half of it: the tag, the HMAC and a few bytes of ciphertext.
                        data.truncate(data.len() / 2);
                    } else {
                        let last = data.len() - 1;
                        data[last] ^= 0x5a;
                    }
                    data
                })
            }
            _ => return Err("bad_frames: kind is hmac, truncated or tiny".into()),
        };
        for n in 0..count {
            let data = frame(n);
            self.queue(conn, |delay| Outgoing::Binary { delay, data });
        }
        Ok(())
    }

    fn send_garbage(&mut self, conn: u64) {
        let Some(cipher) = self.cipher_of(conn) else {
            self.send_raw_text(conn, "garbage without comma".into());
            return;
        };
        let node = binary::encode(&self.battery_node());
        let mut bad_mac = cipher.seal_server_frame("garbage-1", &node);
        let last = bad_mac.len() - 1;
        bad_mac[last] ^= 0x5a;
        let mut truncated = cipher.seal_server_frame("garbage-2", &node);
        truncated.truncate(truncated.len() - 7);
        let no_comma = b"garbage3-no-comma".to_vec();
        let bad_node = cipher.seal_server_frame("garbage-4", &[0xf8, 0x01, 0xb0]);
        for data in [bad_mac, truncated, no_comma, bad_node] {
            self.queue(conn, |delay| Outgoing::Binary { delay, data });
        }
        self.send_raw_text(conn, "garbage-5,[not json".into());
    }
}
