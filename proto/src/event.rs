//! Events: what the daemon pushes to subscribers as `event` notifications.

use std::fmt;
use std::str::FromStr;

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::message::Message;
use crate::methods::{Battery, Me, State, UnknownName};
use crate::notice::{Blocklist, Call, Chat, Contact, Group, Picture, Presence, Revoke};

/// One event, the `params` of an `event` notification, tagged by `type`.
///
/// ```json
/// {"jsonrpc":"2.0","method":"event","params":{"type":"qr","content":"1@Ab,Cd=,Ef==","ref":"1@Ab","ttl_ms":20000,"attempt":1,"attempts_max":6}}
/// ```
///
/// Readers should skip (not fail on) types they do not know, and ignore fields they do not
/// know: new ones are added without a protocol version bump.
// Most events are messages, which live only until they are journaled and written out; boxing
// the largest variant would cost an allocation per message for the sake of the rare small ones.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The session changed state; the first event of every subscription that includes `state`.
    ///
    /// `{"type":"state","state":"reconnecting","reason":"pong_timeout","message":"the server stopped answering keepalives"}`
    State {
        /// The new state.
        state: State,
        /// Why, when the change was not asked for; left out otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
        /// The reason in words, for people; left out with `reason`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A QR code to scan with the phone; a new one replaces the last.
    ///
    /// `{"type":"qr","content":"1@Ab,Cd=,Ef==","ref":"1@Ab","ttl_ms":20000,"attempt":1,"attempts_max":6}`
    Qr {
        /// What the QR code encodes: exactly `ref,base64(publicKey),clientId`.
        content: String,
        /// The server's reference inside `content`.
        #[serde(rename = "ref")]
        reference: String,
        /// How long this code is valid, as the server said.
        ttl_ms: u64,
        /// Which code this is, counting from 1.
        attempt: u32,
        /// How many codes pairing shows before it gives up (`logged_out` with `pairing_expired`).
        attempts_max: u32,
    },
    /// Logged in: after a scan (`restored: false`) or from a stored session (`restored: true`).
    ///
    /// `{"type":"connected","me":{"wid":"4915100000000@s.whatsapp.net","pushname":"Ada","platform":"android","phone":{}},"restored":false}`
    Connected {
        /// The account.
        me: Me,
        /// Whether a stored session was used instead of a QR scan.
        restored: bool,
    },
    /// The connection was lost; the session is kept.
    ///
    /// `{"type":"disconnected","reason":"connection_lost","retry_in_ms":2000}`
    Disconnected {
        /// Why.
        reason: Reason,
        /// When the daemon tries again; `null` when it will not by itself (as after `replaced`).
        retry_in_ms: Option<u64>,
    },
    /// The session ended and was erased (or pairing gave up); a new `login` is needed.
    ///
    /// `{"type":"logged_out","reason":"unpaired","status":401}`
    LoggedOut {
        /// Why.
        reason: Reason,
        /// The server's status behind it; `null` when none applies (`logout`, `pairing_expired`).
        status: Option<u16>,
    },
    /// The phone's battery changed.
    ///
    /// `{"type":"battery","percent":52,"plugged":false,"powersave":false}`
    Battery(Battery),
    /// A chat message arrived or was sent (from this daemon or from the phone); see
    /// [`Message`] for the fields.
    ///
    /// `{"type":"message","id":"3EB0A38DBC008F49C0BC","chat":"4915100000000@s.whatsapp.net","from_me":false,"participant":null,"timestamp":1600000000,"push_name":"Contact 0","kind":"text","text":"hi","media":null,"source":"live"}`
    Message(Message),
    /// A message was deleted for everyone; see [`Revoke`].
    ///
    /// `{"type":"revoke","chat":"4915100000001@s.whatsapp.net","id":"3A0B","from_me":false,"participant":null,"by":"4915100000001@s.whatsapp.net"}`
    Revoke(Revoke),
    /// Someone's presence or typing state; see [`Presence`].
    ///
    /// `{"type":"presence","jid":"4915100000001@s.whatsapp.net","chat":null,"presence":"available","last_seen":null}`
    Presence(Presence),
    /// A group changed; see [`Group`].
    ///
    /// `{"type":"group","chat":"4915100000000-1600000000@g.us","action":"subject","actor":"4915100000001@s.whatsapp.net","participants":[],"subject":"Lunch","value":null}`
    Group(Group),
    /// The phone archived, pinned, muted, read… a chat; see [`Chat`].
    ///
    /// `{"type":"chat","chat":"4915100000001@s.whatsapp.net","action":"archive","value":null}`
    Chat(Chat),
    /// A contact changed; see [`Contact`].
    ///
    /// `{"type":"contact","jid":"4915100000001@s.whatsapp.net","name":"Alice","notify":"Ali","short":"Alice"}`
    Contact(Contact),
    /// The block list, in full; see [`Blocklist`].
    ///
    /// `{"type":"blocklist","jids":["4915100000003@s.whatsapp.net"]}`
    Blocklist(Blocklist),
    /// A profile picture changed; see [`Picture`].
    ///
    /// `{"type":"picture","jid":"4915100000001@s.whatsapp.net","removed":true}`
    Picture(Picture),
    /// A call came in or was missed; see [`Call`].
    ///
    /// `{"type":"call","from":"4915100000001@s.whatsapp.net","id":"1600000000-1","status":"offer"}`
    Call(Call),
    /// A message's delivery state changed.
    ///
    /// `{"type":"ack","id":"3EB0C0FFEE","ack":3,"chat":"4915100000000@s.whatsapp.net"}`
    Ack {
        /// The message's id.
        id: String,
        /// For messages of ours, 0 queued in the outbox; then the number the server sent
        /// (PROTOCOL.md 3.7): 1 sent, 2 delivered, 3 read, 4 played, -1 failed.
        ack: i64,
        /// The chat of the message.
        chat: String,
        /// With `-1` for a message of ours: why it failed; left out otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A decrypted binary node that no event above describes, so nothing is dropped silently.
    ///
    /// `{"type":"node","tag":"action","attrs":{"add":"relay"},"content":[{"tag":"received","attrs":{"index":"1"},"content":null}],"frame_tag":"12345.--7"}`
    Node {
        /// The node's tag.
        tag: String,
        /// The node's attributes, a JSON object of strings.
        attrs: Value,
        /// `null`, a string, `{"base64":…}` for bytes, or an array of nodes.
        content: Value,
        /// The message tag of the frame that carried it.
        frame_tag: String,
    },
    /// A JSON push that no event above describes, as it was.
    ///
    /// `{"type":"json","tag":"s3","payload":["Props",{"imageMaxKBytes":1024}]}`
    Json {
        /// The frame's message tag.
        tag: String,
        /// The whole JSON of the frame.
        payload: Value,
    },
    /// This subscription ends: the last event before the daemon closes the connection.
    ///
    /// `{"type":"error","kind":"lagged","message":"the journal no longer holds what this subscriber missed","last_seq":1037}`
    Error {
        /// Why: `lagged` when the subscriber fell behind further than the journal reaches back.
        kind: String,
        /// The same in words.
        message: String,
        /// With `lagged`: the last seq this subscriber was sent, to resume from with `since`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<u64>,
    },
}

impl Event {
    /// The `type` of this event.
    pub fn event_type(&self) -> EventType {
        match self {
            Event::State { .. } => EventType::State,
            Event::Qr { .. } => EventType::Qr,
            Event::Connected { .. } => EventType::Connected,
            Event::Disconnected { .. } => EventType::Disconnected,
            Event::LoggedOut { .. } => EventType::LoggedOut,
            Event::Battery(_) => EventType::Battery,
            Event::Message(_) => EventType::Message,
            Event::Revoke(_) => EventType::Revoke,
            Event::Presence(_) => EventType::Presence,
            Event::Group(_) => EventType::Group,
            Event::Chat(_) => EventType::Chat,
            Event::Contact(_) => EventType::Contact,
            Event::Blocklist(_) => EventType::Blocklist,
            Event::Picture(_) => EventType::Picture,
            Event::Call(_) => EventType::Call,
            Event::Ack { .. } => EventType::Ack,
            Event::Node { .. } => EventType::Node,
            Event::Json { .. } => EventType::Json,
            Event::Error { .. } => EventType::Error,
        }
    }
}

/// The `kind` of the `error` event sent to a subscriber that fell behind.
pub const LAGGED: &str = "lagged";

/// An event type, as named in `type` and in `subscribe` filters.
///
/// `"message"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// `"state"`
    State,
    /// `"qr"`
    Qr,
    /// `"connected"`
    Connected,
    /// `"disconnected"`
    Disconnected,
    /// `"logged_out"`
    LoggedOut,
    /// `"battery"`
    Battery,
    /// `"message"`
    Message,
    /// `"revoke"`
    Revoke,
    /// `"presence"`
    Presence,
    /// `"group"`
    Group,
    /// `"chat"`
    Chat,
    /// `"contact"`
    Contact,
    /// `"blocklist"`
    Blocklist,
    /// `"picture"`
    Picture,
    /// `"call"`
    Call,
    /// `"ack"`
    Ack,
    /// `"node"`
    Node,
    /// `"json"`
    Json,
    /// `"error"`: always delivered to a subscriber that is about to be dropped, whatever its
    /// filter; subscribing to it changes nothing.
    Error,
}

impl EventType {
    /// Every type, in the order `subscribe` results list them.
    pub const ALL: [EventType; 19] = [
        EventType::State,
        EventType::Qr,
        EventType::Connected,
        EventType::Disconnected,
        EventType::LoggedOut,
        EventType::Battery,
        EventType::Message,
        EventType::Revoke,
        EventType::Presence,
        EventType::Group,
        EventType::Chat,
        EventType::Contact,
        EventType::Blocklist,
        EventType::Picture,
        EventType::Call,
        EventType::Ack,
        EventType::Node,
        EventType::Json,
        EventType::Error,
    ];

    /// The snake_case name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::State => "state",
            EventType::Qr => "qr",
            EventType::Connected => "connected",
            EventType::Disconnected => "disconnected",
            EventType::LoggedOut => "logged_out",
            EventType::Battery => "battery",
            EventType::Message => "message",
            EventType::Revoke => "revoke",
            EventType::Presence => "presence",
            EventType::Group => "group",
            EventType::Chat => "chat",
            EventType::Contact => "contact",
            EventType::Blocklist => "blocklist",
            EventType::Picture => "picture",
            EventType::Call => "call",
            EventType::Ack => "ack",
            EventType::Node => "node",
            EventType::Json => "json",
            EventType::Error => "error",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = UnknownName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownName(name.to_owned()))
    }
}

/// Why the session changed state, lost its connection or ended: a snake_case code.
///
/// Codes this version does not know read as [`Reason::Other`] and are written back unchanged.
///
/// `"reason":"logged_in_elsewhere"`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `"logout"`: a `logout` request.
    Logout,
    /// `"unpaired"`: the phone removed this device (401).
    Unpaired,
    /// `"forbidden"`: the server refused the account (403).
    Forbidden,
    /// `"already_logged_in"`: the server said this client is already logged in (405).
    AlreadyLoggedIn,
    /// `"logged_in_elsewhere"`: the session is in use by another browser (409).
    LoggedInElsewhere,
    /// `"session_invalid"`: the server no longer accepts the stored tokens (419).
    SessionInvalid,
    /// `"pairing_expired"`: every QR code expired without a scan, or the server said 429.
    PairingExpired,
    /// `"replaced"`: another browser took the session over.
    Replaced,
    /// `"connection_lost"`: the websocket failed or closed unexpectedly.
    ConnectionLost,
    /// `"pong_timeout"`: the server stopped answering keepalives.
    PongTimeout,
    /// `"server_closed"`: the server closed the connection cleanly.
    ServerClosed,
    /// `"protocol_error"`: the server sent nothing but frames that could not be read (64 in a
    /// row); the daemon reconnects with backoff.
    ProtocolError,
    /// `"session_not_stored"`: logged in, but the rotated tokens could not be written to the
    /// session file; the daemon keeps retrying and is `connected` only once they are on disk
    /// (`status.session_error` says why).
    SessionNotStored,
    /// Any other code, as written.
    Other(String),
}

impl Reason {
    const KNOWN: [Reason; 13] = [
        Reason::Logout,
        Reason::Unpaired,
        Reason::Forbidden,
        Reason::AlreadyLoggedIn,
        Reason::LoggedInElsewhere,
        Reason::SessionInvalid,
        Reason::PairingExpired,
        Reason::Replaced,
        Reason::ConnectionLost,
        Reason::PongTimeout,
        Reason::ServerClosed,
        Reason::ProtocolError,
        Reason::SessionNotStored,
    ];

    /// The snake_case code, as on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Reason::Logout => "logout",
            Reason::Unpaired => "unpaired",
            Reason::Forbidden => "forbidden",
            Reason::AlreadyLoggedIn => "already_logged_in",
            Reason::LoggedInElsewhere => "logged_in_elsewhere",
            Reason::SessionInvalid => "session_invalid",
            Reason::PairingExpired => "pairing_expired",
            Reason::Replaced => "replaced",
            Reason::ConnectionLost => "connection_lost",
            Reason::PongTimeout => "pong_timeout",
            Reason::ServerClosed => "server_closed",
            Reason::ProtocolError => "protocol_error",
            Reason::SessionNotStored => "session_not_stored",
            Reason::Other(code) => code,
        }
    }

    /// The reason behind a server's failure status at login, if the status has one.
    ///
    /// ```
    /// use waweb_proto::Reason;
    /// assert_eq!(Reason::from_status(401), Some(Reason::Unpaired));
    /// ```
    pub fn from_status(status: u16) -> Option<Reason> {
        match status {
            401 => Some(Reason::Unpaired),
            403 => Some(Reason::Forbidden),
            405 => Some(Reason::AlreadyLoggedIn),
            409 => Some(Reason::LoggedInElsewhere),
            419 => Some(Reason::SessionInvalid),
            _ => None,
        }
    }

    /// A short human explanation to put beside the code (the `message` of a `state` event).
    pub fn description(&self) -> &str {
        match self {
            Reason::Logout => "logged out on request",
            Reason::Unpaired => "the phone removed this device (401)",
            Reason::Forbidden => "the server refused this account (403)",
            Reason::AlreadyLoggedIn => "the server says this client is already logged in (405)",
            Reason::LoggedInElsewhere => "the session is in use by another browser (409)",
            Reason::SessionInvalid => "the server no longer accepts the stored session (419)",
            Reason::PairingExpired => "no QR code was scanned in time",
            Reason::Replaced => "another browser took the session over",
            Reason::ConnectionLost => "the connection was lost",
            Reason::PongTimeout => "the server stopped answering keepalives",
            Reason::ServerClosed => "the server closed the connection",
            Reason::ProtocolError => "the server sent only frames that could not be read",
            Reason::SessionNotStored => {
                "the new session tokens could not be stored; retrying before going online"
            }
            Reason::Other(code) => code,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Reason {
    fn from(code: &str) -> Self {
        Reason::KNOWN
            .into_iter()
            .find(|known| known.as_str() == code)
            .unwrap_or_else(|| Reason::Other(code.to_owned()))
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(Reason::from(&*code))
    }
}
