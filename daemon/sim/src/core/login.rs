//! Pairing and login as the server runs them: `init` and `reref` hand out QR refs, `login`
//! restores a session (with a challenge when asked to), `Conn` and the login-time pushes follow;
//! a goodbye or the HTTP logout ends a session.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use waweb_core::binary::{Content, Node};
use waweb_core::crypto;
use waweb_core::message;

use super::drops::DropAt;
use super::phone::CONTACTS;
use super::{CURRENT_VERSION, Core, PendingChallenge, Tokens, now_ms, random_bytes, str_at};

impl Core {
    fn new_ref(&mut self, conn: u64) -> String {
        let reference = format!("1@{}", BASE64.encode(random_bytes::<48>()));
        if let Some(state) = self.conns.get_mut(&conn) {
            state.current_ref = Some((reference.clone(), Instant::now()));
        }
        reference
    }

    pub(super) fn on_init(&mut self, conn: u64, tag: &str, array: &[Value]) {
        if self.drop_if_armed(conn, DropAt::Init) {
            return;
        }
        let Some(client_id) = str_at(array, 4).filter(|id| !id.is_empty()) else {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        };
        if let Some(state) = self.conns.get_mut(&conn) {
            state.client_id = Some(client_id.to_owned());
        }
        let reference = self.new_ref(conn);
        let reply = json!({
            "status": 200, "ref": reference, "ttl": self.config.ttl.as_millis() as u64,
            "update": false, "curr": CURRENT_VERSION, "time": now_ms() as f64,
        });
        self.send_json(conn, tag, &reply);
        if let Some(state) = self.conns.get_mut(&conn) {
            state.gap = true;
        }
        // A restore's init carries a known client id; its ref is no QR (PROTOCOL.md 5.2).
        if !self.sessions.contains_key(client_id) {
            self.drop_if_armed(conn, DropAt::Qr);
        }
    }

    pub(super) fn on_reref(&mut self, conn: u64, tag: &str) {
        let Some(state) = self.conns.get(&conn) else {
            return;
        };
        if state.client_id.is_none() || state.session.is_some() {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        }
        let reply = match self.knobs.reref_next.take() {
            Some(304) => json!({"status": 304}),
            Some(status) if status != 200 => json!({"status": status}),
            _ if state.rerefs_used >= self.config.reref_budget => json!({"status": 429}),
            _ => {
                if let Some(state) = self.conns.get_mut(&conn) {
                    state.rerefs_used += 1;
                }
                let reference = self.new_ref(conn);
                json!({"status": 200, "ref": reference, "ttl": self.config.ttl.as_millis() as u64})
            }
        };
        let served = reply["ref"].is_string();
        self.send_json(conn, tag, &reply);
        if served {
            self.drop_if_armed(conn, DropAt::Qr);
        }
    }

    pub(super) fn on_login(&mut self, conn: u64, tag: &str, array: &[Value]) {
        let (Some(client_token), Some(server_token), Some(client_id), Some(mode)) = (
            str_at(array, 2),
            str_at(array, 3),
            str_at(array, 4),
            str_at(array, 5),
        ) else {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        };
        if self.drop_if_armed(conn, DropAt::Restore) {
            return;
        }
        if let Some(status) = self.knobs.refuse_next.take() {
            let reply = if status == 403 {
                json!({"status": 403, "tos": 2})
            } else {
                json!({"status": status})
            };
            self.send_json(conn, tag, &reply);
            self.emit(json!({"type": "login_refused", "conn": conn, "status": status}));
            return;
        }
        let current = self
            .conns
            .get(&conn)
            .and_then(|state| state.session.clone());
        if current.as_deref() == Some(client_id) {
            // Clients resend the login every few seconds until the session opens; repeat the
            // answer and change nothing.
            self.send_json(conn, tag, &json!({"status": 200}));
            return;
        }
        if let Some(state) = self.conns.get_mut(&conn) {
            state.client_id = Some(client_id.to_owned());
        }
        let Some(session) = self.sessions.get(client_id) else {
            self.send_json(conn, tag, &json!({"status": 401}));
            self.emit(json!({"type": "login_refused", "conn": conn, "status": 401}));
            return;
        };
        let current_tokens =
            session.tokens.client == client_token && session.tokens.server == server_token;
        let stale = session
            .previous
            .as_ref()
            .is_some_and(|(client, server)| client == client_token && server == server_token);
        if !current_tokens && !stale {
            self.send_json(conn, tag, &json!({"status": 401}));
            self.emit(json!({"type": "login_refused", "conn": conn, "status": 401}));
            return;
        }
        let elsewhere = session
            .conn
            .is_some_and(|other| other != conn && self.conns.contains_key(&other));
        if mode == "reconnect" && elsewhere {
            self.send_json(conn, tag, &json!({"status": 409}));
            self.emit(json!({"type": "login_refused", "conn": conn, "status": 409}));
            return;
        }
        if stale || std::mem::take(&mut self.knobs.challenge_next) {
            let challenge = random_bytes::<32>().to_vec();
            let payload =
                json!(["Cmd", {"type": "challenge", "challenge": BASE64.encode(&challenge)}]);
            if let Some(state) = self.conns.get_mut(&conn) {
                state.pending_challenge = Some(PendingChallenge {
                    login_tag: tag.to_owned(),
                    challenge,
                    stale,
                });
            }
            self.push_json(conn, &payload);
            return;
        }
        self.complete_login(conn, client_id, tag, Login::Current);
    }

    pub(super) fn on_challenge(&mut self, conn: u64, tag: &str, array: &[Value]) {
        let pending = self
            .conns
            .get_mut(&conn)
            .and_then(|state| state.pending_challenge.take());
        let client_id = self
            .conns
            .get(&conn)
            .and_then(|state| state.client_id.clone());
        let (Some(pending), Some(client_id)) = (pending, client_id) else {
            self.send_json(conn, tag, &json!({"status": 400}));
            return;
        };
        let answer = str_at(array, 2).unwrap_or_default();
        let valid = str_at(array, 4) == Some(client_id.as_str())
            && self.sessions.get(&client_id).is_some_and(|session| {
                crypto::constant_time_eq(
                    session.keys.challenge_answer(&pending.challenge).as_bytes(),
                    answer.as_bytes(),
                )
            });
        if !valid {
            self.send_json(conn, tag, &json!({"status": 401}));
            self.send_json(conn, &pending.login_tag, &json!({"status": 401}));
            self.emit(json!({"type": "login_refused", "conn": conn, "status": 401, "challenge": "wrong answer"}));
            return;
        }
        self.send_json(conn, tag, &json!({"status": 200}));
        if let Some(state) = self.conns.get_mut(&conn) {
            state.gap = true;
        }
        let login = if pending.stale {
            Login::Stale
        } else {
            Login::Challenged
        };
        self.complete_login(conn, &client_id, &pending.login_tag, login);
    }

    fn complete_login(&mut self, conn: u64, client_id: &str, login_tag: &str, login: Login) {
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        let other = session.conn.filter(|other| *other != conn);
        let old = std::mem::replace(&mut session.tokens, Tokens::fresh());
        // A login with the current pair proves the client stored it: it becomes the fallback.
        // With the stale pair, the current one was never acknowledged (the client may have
        // died before storing it) and the stale pair stays the fallback: two crashes in a row
        // between a `Conn` and its save do not lose the session.
        if login != Login::Stale {
            session.previous = Some((old.client, old.server));
        }
        let challenged = login != Login::Current;
        session.conn = Some(conn);
        let offline = std::mem::take(&mut session.offline);
        let offline_acks = std::mem::take(&mut session.offline_acks);
        if let Some(other) = other.filter(|other| self.conns.contains_key(other)) {
            self.push_json(
                other,
                &json!(["Cmd", {"type": "disconnect", "kind": "replaced"}]),
            );
            self.close(other, true);
            self.emit(json!({"type": "replaced", "conn": other, "by": conn}));
        }
        if let Some(state) = self.conns.get_mut(&conn) {
            state.session = Some(client_id.to_owned());
            state.current_ref = None;
        }
        self.last_session = Some(client_id.to_owned());
        let conn_payload = self.conn_payload(client_id, false);
        self.push_json(conn, &json!(["Conn", conn_payload]));
        // The login reply comes after Conn: B races the two and takes whichever is first.
        self.send_json(conn, login_tag, &json!({"status": 200}));
        self.after_conn(conn);
        for info in offline {
            self.relay_to(conn, &info);
        }
        for receipt in offline_acks {
            self.push_json(conn, &receipt);
        }
        self.emit(
            json!({"type": "logged_in", "conn": conn, "restored": true, "challenged": challenged}),
        );
    }

    pub(super) fn conn_payload(&self, client_id: &str, with_secret: bool) -> Value {
        let session = &self.sessions[client_id];
        let mut payload = json!({
            "ref": "",
            "wid": format!("{}@c.us", self.config.phone_number),
            "connected": true,
            "isResponse": if with_secret { "false" } else { "true" },
            "serverToken": session.tokens.server,
            "clientToken": session.tokens.client,
            "browserToken": session.tokens.browser,
            "lc": "DE", "lg": "en", "locales": "en-DE,de-DE", "is24h": true,
            "protoVersion": [0, 17], "binVersion": 11,
            "battery": self.battery.0, "plugged": self.battery.1,
            "platform": "android",
            "features": {"KEY_PARTICIPANT": true, "FLAGS": "EAEYASgBOAFAAUgBWAFgAWgBeAGYAQGgAQGwAQK4AQHIAQHYAQHoAQI=", "URL": true},
            "phone": {
                "wa_version": "2.21.23.23", "mcc": "262", "mnc": "001", "os_version": "11",
                "device_manufacturer": "Simulated", "device_model": "Phone", "os_build_number": "SIM.1"
            },
            "pushname": self.config.pushname,
            "tos": 0,
        });
        if with_secret {
            // The caller fills in the real secret; the field is only present on a new pairing.
            payload["secret"] = json!("");
        }
        payload
    }

    /// Blocklist, Stream, Props, then (after a delay, once the client has its keys) the binary
    /// login-time pushes of PROTOCOL.md 8.3.
    pub(super) fn after_conn(&mut self, conn: u64) {
        let blocklist = self.blocklist_push();
        self.push_json(conn, &blocklist);
        self.push_json(conn, &json!(["Stream", "update", false, CURRENT_VERSION]));
        self.push_json(conn, &json!(["Props", {
            "imageMaxKBytes": 1024, "imageMaxEdge": 1600, "videoMaxEdge": 960, "maxParticipants": 257,
            "maxSubject": 25, "media": 64, "maxFileSize": 100, "groupDescLength": 512,
            "mmsMediaKeyTTL": 172_800, "gifSearch": "tenor"
        }]));
        let delay = self.config.push_delay;
        let chats = self.book.chat_list();
        self.push_node(conn, &chats, delay);
        let contacts = self.book.contact_list();
        self.push_node(conn, &contacts, Duration::ZERO);
        let last: Vec<Node> = self
            .history
            .values()
            .filter_map(|messages| messages.back())
            .map(|info| Node::new("message").with_content(Content::Bytes(message::encode(info))))
            .collect();
        if !last.is_empty() {
            let node = Node::new("action")
                .attr("add", "last")
                .with_content(Content::List(last));
            self.push_node(conn, &node, Duration::ZERO);
        }
        for batch in self.login_history_batches() {
            self.push_node(conn, &batch, Duration::ZERO);
        }
        let frequent = CONTACTS
            .iter()
            .map(|contact| Node::new("message").with_content(Content::Text(contact.number.into())))
            .collect();
        let node = Node::new("action").with_content(Content::List(vec![
            Node::new("contacts")
                .attr("type", "frequent")
                .with_content(Content::List(frequent)),
        ]));
        self.push_node(conn, &node, Duration::ZERO);
        let battery = self.battery_node();
        self.push_node(conn, &battery, Duration::ZERO);
    }

    pub(super) fn on_goodbye(&mut self, conn: u64) {
        if let Some(client_id) = self
            .conns
            .get(&conn)
            .and_then(|state| state.session.clone())
        {
            self.sessions.remove(&client_id);
            self.emit(json!({"type": "logged_out", "conn": conn, "client_id": client_id, "by": "goodbye"}));
        }
        self.close(conn, true);
    }

    pub(super) fn on_http_logout(&mut self, query: &HashMap<String, String>) -> (u16, String) {
        let (Some(browser_token), Some(logout_token)) = (query.get("t"), query.get("m")) else {
            return (400, json!({"status": 400}).to_string());
        };
        let found = self.sessions.iter().find_map(|(client_id, session)| {
            let valid = crypto::constant_time_eq(
                session.tokens.browser.as_bytes(),
                browser_token.as_bytes(),
            ) && crypto::constant_time_eq(
                session.keys.logout_token().as_bytes(),
                logout_token.as_bytes(),
            );
            valid.then(|| (client_id.clone(), session.conn))
        });
        let Some((client_id, conn)) = found else {
            return (401, json!({"status": 401}).to_string());
        };
        self.sessions.remove(&client_id);
        if let Some(conn) = conn {
            self.push_json(conn, &json!(["Cmd", {"type": "disconnect"}]));
            self.close(conn, true);
        }
        self.emit(json!({"type": "logged_out", "client_id": client_id, "by": "http"}));
        (200, json!({"status": 200}).to_string())
    }
}

/// How a restore was authenticated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Login {
    /// With the current tokens, no challenge.
    Current,
    /// With the current tokens, challenged anyway (`challenge_next`).
    Challenged,
    /// With the previous tokens, challenged.
    Stale,
}
