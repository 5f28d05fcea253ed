//! The server's side of the protocol: text frames (keepalives and JSON commands) and binary
//! frames (decrypted, decoded and answered: relays, actions, queries) from a connected client.

use std::time::Duration;

use serde_json::{Value, json};
use waweb_core::binary::{self, Content, Node};
use waweb_core::message::{self, pb};
use waweb_core::wire::{self, ClientText};

use super::decoded;
use super::drops::DropAt;
use super::verify;
use super::{Core, Input, Timer, now_ms, now_s, str_at};

/// A message of a relay, decoded once, with the phone's verdict on its attachment (if it has
/// one).
struct Relayed {
    info: pb::WebMessageInfo,
    verdict: Option<Result<(), String>>,
}

impl Core {
    pub(super) fn on_text(&mut self, conn: u64, text: &str) {
        let half_open = self.conns.get(&conn).is_some_and(|state| state.half_open);
        match wire::parse_client_text(text) {
            Ok(ClientText::Keepalive) => {
                self.emit(json!({"type": "received", "conn": conn, "keepalive": true}));
                if !half_open {
                    self.send_raw_text(conn, format!("!{}", now_ms()));
                }
            }
            Ok(ClientText::Json { tag, json }) => match serde_json::from_str::<Value>(json) {
                Ok(value) => {
                    self.emit(json!({"type": "received", "conn": conn, "tag": tag, "json": value}));
                    if !half_open {
                        self.on_json(conn, tag, &value);
                    }
                }
                Err(error) => self.emit(json!({
                    "type": "received", "conn": conn, "tag": tag, "error": format!("invalid JSON: {error}")
                })),
            },
            Err(error) => self.emit(json!({"type": "received", "conn": conn, "error": error.to_string()})),
        }
    }

    fn on_json(&mut self, conn: u64, tag: &str, value: &Value) {
        let Some(array) = value.as_array() else {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        };
        let words: Vec<&str> = array
            .iter()
            .take(3)
            .map(|word| word.as_str().unwrap_or_default())
            .collect();
        match words.as_slice() {
            ["admin", "init", ..] => self.on_init(conn, tag, array),
            ["admin", "Conn", "reref"] => self.on_reref(conn, tag),
            ["admin", "login", ..] => self.on_login(conn, tag, array),
            ["admin", "challenge", ..] => self.on_challenge(conn, tag, array),
            ["admin", "test", ..] => {
                let logged_in = self
                    .conns
                    .get(&conn)
                    .is_some_and(|state| state.session.is_some());
                self.send_json(conn, tag, &json!(["Pong", logged_in]));
            }
            ["admin", "Conn", "disconnect"] => self.on_goodbye(conn),
            ["admin", ..] => self.send_json(conn, tag, &json!({"status": 400})),
            _ if self
                .conns
                .get(&conn)
                .is_none_or(|state| state.session.is_none()) =>
            {
                self.send_json(conn, tag, &json!({"status": 401}));
            }
            ["action", "presence", "subscribe"] => {
                self.send_json(conn, tag, &json!({"status": 200}));
                if let Some(jid) = str_at(array, 3) {
                    let payload = json!(["Presence", {"id": message::jid_for_json_command(jid), "type": "available"}]);
                    self.push_json(conn, &payload);
                }
            }
            ["query", "exist" | "ProfilePicThumb" | "Status", ..] => {
                self.on_profile_query(conn, tag, array)
            }
            ["query", "Presence", "lastseen"] => {
                self.send_json(conn, tag, &json!({"t": now_s().saturating_sub(300)}));
            }
            ["query", "GroupMetadata" | "inviteCode", ..]
            | ["action", "inviteReset" | "invite", ..] => {
                self.on_group_command(conn, tag, &words);
            }
            ["query", "mediaConn", ..] => {
                let hosts: Vec<Value> = self
                    .store
                    .hostnames()
                    .iter()
                    .map(|host| json!({"hostname": host, "ips": []}))
                    .collect();
                let reply = json!({"status": 200, "media_conn": {
                    "auth": self.store.auth(), "ttl": 3600, "hosts": hosts
                }});
                self.send_json(conn, tag, &reply);
            }
            _ => self.send_json(conn, tag, &json!({"status": 404})),
        }
    }

    pub(super) fn on_binary(&mut self, conn: u64, data: &[u8]) {
        let Some(cipher) = self.cipher_of(conn) else {
            self.emit(
                json!({"type": "received", "conn": conn, "error": "binary frame before login"}),
            );
            self.close(conn, false);
            return;
        };
        let opened = match cipher.open_client_frame(data) {
            Ok(opened) => opened,
            Err(error) => {
                // The real service's reaction is unknown; closing is what a server must do with
                // frames it cannot authenticate.
                let tag = data
                    .split(|&b| b == b',')
                    .next()
                    .map(String::from_utf8_lossy);
                self.emit(json!({"type": "received", "conn": conn, "tag": tag, "error": error.to_string()}));
                self.close(conn, false);
                return;
            }
        };
        let node = match binary::decode(&opened.node) {
            Ok(node) => node,
            Err(error) => {
                self.emit(json!({"type": "received", "conn": conn, "tag": opened.tag, "error": error.to_string()}));
                self.close(conn, false);
                return;
            }
        };
        let mut line = json!({
            "type": "received", "conn": conn, "tag": opened.tag, "node": node,
            "metric": opened.metric, "flags": opened.flags,
        });
        // Each message is decoded and its attachment verified once, for this line and for the
        // phone's handling below.
        let relayed: Vec<Relayed> = node
            .children()
            .iter()
            .filter(|child| child.tag == "message")
            .filter_map(|child| child.content_bytes())
            .filter_map(|bytes| message::decode_web_message_info(bytes).ok())
            .map(|info| Relayed {
                verdict: verify::verify(&self.store, &info),
                info,
            })
            .collect();
        let verdicts: Vec<&Result<(), String>> = relayed
            .iter()
            .filter_map(|relayed| relayed.verdict.as_ref())
            .collect();
        if !verdicts.is_empty() {
            let failed: Vec<&String> = verdicts.iter().filter_map(|v| v.as_ref().err()).collect();
            line["media_ok"] = json!(failed.is_empty());
            if let Some(why) = failed.first() {
                line["media_error"] = json!(why);
            }
        }
        if !relayed.is_empty() {
            line["decoded"] = relayed
                .iter()
                .map(|relayed| decoded::web_message_info(&relayed.info))
                .collect();
            let messages: Vec<Value> = relayed
                .iter()
                .filter_map(|relayed| message::to_event(&relayed.info).ok())
                .filter_map(|event| serde_json::to_value(event).ok())
                .collect();
            line["messages"] = json!(messages);
        }
        self.emit(line);
        let half_open = self.conns.get(&conn).is_some_and(|state| state.half_open);
        if !half_open {
            let tag = opened.tag.to_owned();
            self.on_node(conn, &tag, &node, relayed);
        }
    }

    fn on_node(&mut self, conn: u64, tag: &str, node: &Node, relayed: Vec<Relayed>) {
        match (node.tag.as_ref(), node.get("type")) {
            ("action", Some("relay")) => self.on_relay(conn, tag, relayed),
            ("action", _) if self.on_group_actions(conn, tag, node) => {}
            ("action", _) => {
                if let Some(status) = self.chat_set_action(node) {
                    self.send_json(conn, tag, &json!({"status": status}));
                    return;
                }
                let mut reply = json!({"status": 200});
                let mut pushes = Vec::new();
                for child in node.children() {
                    if matches!(
                        child.tag.as_ref(),
                        "profile" | "status" | "picture" | "block"
                    ) {
                        pushes.extend(self.on_profile_set(tag, child, &mut reply));
                    }
                }
                self.send_json(conn, tag, &reply);
                if reply["status"] == 200 {
                    for push in pushes {
                        self.push_json(conn, &push);
                    }
                }
            }
            ("query", Some(kind)) => self.on_query(conn, tag, kind, node),
            _ => self.send_json(conn, tag, &json!({"status": 400})),
        }
    }

    fn on_relay(&mut self, conn: u64, tag: &str, relayed: Vec<Relayed>) {
        let Some(client_id) = self
            .conns
            .get(&conn)
            .and_then(|state| state.session.clone())
        else {
            return;
        };
        if relayed.is_empty() {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        }
        // Into a group: members only, and only admins while it is an announce group.
        let refusal = relayed.iter().find_map(|relayed| {
            let key = relayed.info.key.as_ref()?;
            self.send_refusal(&message::normalize_jid(key.remote_jid.as_deref()?))
        });
        if let Some(status) = refusal {
            self.send_json(conn, tag, &json!({"status": status}));
            return;
        }
        if self.drop_if_armed(conn, DropAt::SendBefore) {
            return;
        }
        // Cut after the phone has the messages, before their ack goes out: the client never
        // learns that they arrived and must send them again.
        let cut_before_ack = self.knobs.drop_at == Some(DropAt::Send);
        if !cut_before_ack {
            // The real service first acknowledged receipt with an empty frame, then answered.
            self.send_raw_text(conn, format!("{tag},"));
            self.send_json(conn, tag, &json!({"status": 200, "t": now_s()}));
        }
        for Relayed { info, verdict } in relayed {
            let Some(key) = info.key.as_ref() else {
                continue;
            };
            let chat = message::normalize_jid(key.remote_jid.as_deref().unwrap_or_default());
            let id = key.id.clone().unwrap_or_default();
            let first = self
                .sessions
                .get_mut(&client_id)
                .is_some_and(|session| session.relayed.insert(id.clone()));
            self.emit(json!({"type": "relayed", "conn": conn, "id": id, "chat": chat, "duplicate": !first}));
            if !first {
                continue;
            }
            self.react_later(&chat, &info, verdict);
            self.book.message(&chat, now_s(), false);
            self.remember(&chat, info);
            let acks = [
                (2, Duration::from_millis(200)),
                (3, Duration::from_millis(1200)),
            ];
            let reads = if self.config.auto_read { 2 } else { 1 };
            for (ack, after) in acks.into_iter().take(reads) {
                let timer = Timer::Ack {
                    client_id: client_id.clone(),
                    id: id.clone(),
                    ack,
                    peer: chat.clone(),
                };
                let inputs = self.inputs.clone();
                self.tasks.spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = inputs.send(Input::Timer(timer)).await;
                });
            }
        }
        if cut_before_ack {
            self.drop_if_armed(conn, DropAt::Send);
        }
    }

    fn on_query(&mut self, conn: u64, tag: &str, kind: &str, node: &Node) {
        let reply = match kind {
            "chat" => self.book.chat_list(),
            "contacts" => self.book.contact_list(),
            "message" => return self.on_history_query(conn, tag, node),
            "search" => return self.on_search_query(conn, tag, node),
            "media" => {
                let Some(media) = node.get("index").and_then(|id| self.media.get(id)) else {
                    self.send_json(conn, tag, &json!({"status": 404}));
                    return;
                };
                let url = media.url.clone().unwrap_or_default();
                self.store.refresh();
                Node::new("response")
                    .attr("type", "media")
                    .attr("url", url)
                    .attr("code", "200")
            }
            "group" => match self.group_query(node) {
                Some(reply) => reply,
                None => {
                    self.send_json(conn, tag, &json!({"status": 404}));
                    return;
                }
            },
            "status" | "emoji" | "quick_reply" | "label" => Node::new("response")
                .attr("type", kind.to_owned())
                .with_content(Content::List(vec![])),
            _ => {
                self.send_json(conn, tag, &json!({"status": 404}));
                return;
            }
        };
        self.send_node(conn, tag, &reply, Duration::ZERO);
    }
}
