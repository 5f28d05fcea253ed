//! The control commands of DESIGN.md section 5: what each one does to the simulated service.

use std::time::Duration;

use serde_json::{Value, json};
use waweb_core::binary::{self, Node};
use waweb_core::media::{self, MediaType};

use super::Core;
use crate::server::Outgoing;

impl Core {
    fn active_conn(&self) -> Result<u64, String> {
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

    pub(super) async fn on_command(
        &mut self,
        name: &str,
        command: &Value,
    ) -> Result<Value, String> {
        let field = |key: &str| command.get(key).and_then(Value::as_str);
        match name {
            "scan" => self.scan(field("qr").ok_or("scan needs \"qr\"")?),
            "send_text" => {
                let from = field("from").ok_or("send_text needs \"from\"")?;
                let text = field("text").ok_or("send_text needs \"text\"")?;
                let id = self.deliver_text(from, field("chat"), text)?;
                Ok(json!({"id": id}))
            }
            "send_media" => {
                let from = field("from").ok_or("send_media needs \"from\"")?;
                let kind: MediaType = field("kind")
                    .ok_or("send_media needs \"kind\"")?
                    .parse()
                    .map_err(|error: media::Error| error.to_string())?;
                let path = field("path").ok_or("send_media needs \"path\"")?;
                let plaintext = tokio::fs::read(path)
                    .await
                    .map_err(|error| format!("cannot read {path}: {error}"))?;
                self.deliver_media(
                    from,
                    field("chat"),
                    kind,
                    &plaintext,
                    field("caption"),
                    path,
                )
            }
            "drop" => {
                let conn = self.active_conn()?;
                self.close(conn, false);
                Ok(json!({"conn": conn}))
            }
            "replace" => {
                let conn = self.active_conn()?;
                self.push_json(
                    conn,
                    &json!(["Cmd", {"type": "disconnect", "kind": "replaced"}]),
                );
                self.close(conn, true);
                Ok(json!({"conn": conn}))
            }
            "unpair" => {
                let client_id = self.target_session()?;
                let session = self.sessions.remove(&client_id);
                if let Some(conn) = session.and_then(|session| session.conn) {
                    self.push_json(conn, &json!(["Cmd", {"type": "disconnect"}]));
                    self.close(conn, true);
                }
                Ok(json!({"client_id": client_id}))
            }
            "challenge_next" => {
                self.knobs.challenge_next = true;
                Ok(json!({}))
            }
            "refuse_next" => {
                let status = command
                    .get("status")
                    .and_then(Value::as_u64)
                    .ok_or("refuse_next needs \"status\"")?;
                self.knobs.refuse_next = Some(u16::try_from(status).map_err(|_| "bad status")?);
                Ok(json!({}))
            }
            "reref_next" => {
                let status = command
                    .get("status")
                    .and_then(Value::as_u64)
                    .ok_or("reref_next needs \"status\"")?;
                self.knobs.reref_next = Some(u16::try_from(status).map_err(|_| "bad status")?);
                Ok(json!({}))
            }
            "garbage" => {
                let conn = self.active_conn()?;
                self.send_garbage(conn);
                Ok(json!({"conn": conn}))
            }
            "half_open" => {
                let conn = self.active_conn()?;
                if let Some(state) = self.conns.get_mut(&conn) {
                    state.half_open = true;
                }
                Ok(json!({"conn": conn}))
            }
            "expire_media" => {
                self.store.expire_all();
                Ok(json!({}))
            }
            "battery" => {
                let percent = command
                    .get("percent")
                    .and_then(Value::as_u64)
                    .ok_or("battery needs \"percent\"")?;
                self.battery = (
                    percent.min(100) as u32,
                    command
                        .get("plugged")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                );
                let conn = self.active_conn()?;
                let node = self.battery_node();
                self.push_node(conn, &node, Duration::ZERO);
                Ok(json!({}))
            }
            "push_json" => {
                let payload = command
                    .get("payload")
                    .ok_or("push_json needs \"payload\"")?
                    .clone();
                let conn = self.active_conn()?;
                self.push_json(conn, &payload);
                Ok(json!({}))
            }
            "push_node" => {
                let node = Node::from_json(command.get("node").ok_or("push_node needs \"node\"")?)
                    .map_err(|error| error.to_string())?;
                let conn = self.active_conn()?;
                self.push_node(conn, &node, Duration::ZERO);
                Ok(json!({}))
            }
            "status" => Ok(json!({
                "connections": self.conns.len(),
                "sessions": self.sessions.len(),
                "logged_in": self.sessions.values().filter(|s| s.conn.is_some()).count(),
            })),
            "" => Err("a command needs \"cmd\"".into()),
            other => Err(format!("unknown command {other:?}")),
        }
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
