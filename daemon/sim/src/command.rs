//! The control commands of DESIGN.md section 5 as a type. A command is a JSON object named by
//! its `cmd`. Its other fields are read the way the control channel always read them: a field
//! that is absent or of another type counts as missing, and the command that needs it answers
//! `<cmd> needs "<field>"`, checking its fields in the order it uses them.

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::Value;

/// One control command; its `cmd` is the variant's name in snake_case.
#[derive(Debug, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// `{"cmd":"scan","qr":CONTENT}`: the phone scans that QR.
    Scan {
        #[serde(default)]
        qr: Field<String>,
    },
    /// `{"cmd":"send_text","from":JID,"text":T}` (`chat` for a group): a contact writes;
    /// with `quote` (a message of that chat: its id, or `{"id","from_me"?}`), `mentions`
    /// (JIDs or numbers),
    /// `forwarded` or `ephemeral_s` (the chat's disappearing timer) as an
    /// `extendedTextMessage`.
    SendText {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        text: Field<String>,
        #[serde(default)]
        chat: Field<String>,
        #[serde(default)]
        quote: Field<Value>,
        #[serde(default)]
        mentions: Field<Vec<String>>,
        #[serde(default)]
        forwarded: Field<bool>,
        #[serde(default)]
        ephemeral_s: Field<u32>,
    },
    /// `{"cmd":"send_location","from":JID,"latitude":F,"longitude":F}` (`chat`, `name`,
    /// `address`): a contact shares a place.
    SendLocation {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        chat: Field<String>,
        #[serde(default)]
        latitude: Field<f64>,
        #[serde(default)]
        longitude: Field<f64>,
        #[serde(default)]
        name: Field<String>,
        #[serde(default)]
        address: Field<String>,
    },
    /// `{"cmd":"send_contact","from":JID,"contacts":[{"display_name","vcard"}]}` (`chat`): a
    /// contact shares one card (`contactMessage`) or several (`contactsArrayMessage`).
    SendContact {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        chat: Field<String>,
        #[serde(default)]
        contacts: Field<Vec<Value>>,
    },
    /// `{"cmd":"revoke","from":JID,"id":ID}` (`chat`): a contact deletes their message for
    /// everyone.
    Revoke {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        id: Field<String>,
        #[serde(default)]
        chat: Field<String>,
    },
    /// `{"cmd":"presence","from":JID,"presence":P}` (`last_seen`): a contact's presence push.
    Presence {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        presence: Field<String>,
        #[serde(default)]
        last_seen: Field<u64>,
    },
    /// `{"cmd":"typing","from":JID,"chat":JID,"state":S}`: a contact types (`composing`),
    /// records (`recording`) or stops (`paused`) in a chat.
    Typing {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        chat: Field<String>,
        #[serde(default)]
        state: Field<String>,
    },
    /// `{"cmd":"group","action":A,"chat":GID,"actor":JID,"participants":[…]}` (`subject`,
    /// `value`): a group change, as a `Chat` push or a stub message.
    Group {
        #[serde(default)]
        action: Field<String>,
        #[serde(default)]
        chat: Field<String>,
        #[serde(default)]
        actor: Field<String>,
        #[serde(default)]
        participants: Field<Vec<String>>,
        #[serde(default)]
        subject: Field<String>,
        #[serde(default)]
        value: Field<String>,
    },
    /// `{"cmd":"phone_action","action":A,"chat":JID}` (`value`, `messages`): the user archives,
    /// pins, mutes, reads… a chat on the phone.
    PhoneAction {
        #[serde(default)]
        action: Field<String>,
        #[serde(default)]
        chat: Field<String>,
        #[serde(default)]
        value: Field<String>,
        #[serde(default)]
        messages: Field<Vec<String>>,
    },
    /// `{"cmd":"add_chats","chats":[{"jid",…}]}` and/or `"count":N`: chats the phone has
    /// (for tests and large stores); the client learns them with the next list.
    AddChats {
        #[serde(default)]
        chats: Field<Vec<Value>>,
        #[serde(default)]
        count: Field<u32>,
    },
    /// `{"cmd":"add_contacts","contacts":[{"jid","name"?,"notify"?,"short"?}]}` and/or
    /// `"count":N`: entries of the phone's address book.
    AddContacts {
        #[serde(default)]
        contacts: Field<Vec<Value>>,
        #[serde(default)]
        count: Field<u32>,
    },
    /// `{"cmd":"chat_state"}`: the phone's chats and contacts as they are now.
    ChatState,
    /// `{"cmd":"remove_chat","chat":JID}`: the phone loses a chat without telling the client
    /// (its later actions on that chat are answered 404).
    RemoveChat {
        #[serde(default)]
        chat: Field<String>,
    },
    /// `{"cmd":"block","jid":JID}` (`"unblock":true`): the user blocks or unblocks someone on
    /// the phone; the whole list is pushed.
    Block {
        #[serde(default)]
        jid: Field<String>,
        #[serde(default)]
        unblock: Field<bool>,
    },
    /// `{"cmd":"call","from":JID}` (`status`: `offer` or `missed`, `id`): a contact calls.
    Call {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        status: Field<String>,
        #[serde(default)]
        id: Field<String>,
    },
    /// `{"cmd":"send_media","from":JID,"kind":K,"path":F}` (`chat`, `caption`): a contact sends
    /// a file, encrypted and served by the media host.
    SendMedia {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        kind: Field<String>,
        #[serde(default)]
        path: Field<String>,
        #[serde(default)]
        chat: Field<String>,
        #[serde(default)]
        caption: Field<String>,
        /// An audio as a voice note (`ptt`).
        #[serde(default)]
        voice: Field<bool>,
        /// A video played as a GIF.
        #[serde(default)]
        gif: Field<bool>,
        /// An inline JPEG thumbnail, base64 (images, videos, documents).
        #[serde(default)]
        thumbnail: Field<String>,
    },
    /// Cut the client's connection without a close handshake.
    Drop,
    /// Another browser takes over.
    Replace,
    /// The phone removes this linked device.
    Unpair,
    /// The next restore is answered with a challenge.
    ChallengeNext,
    /// `{"cmd":"refuse_next","status":N}`: the next login is refused with that status.
    RefuseNext {
        #[serde(default)]
        status: Field<u64>,
    },
    /// `{"cmd":"reref_next","status":N}`: the next reref is answered with that status.
    RerefNext {
        #[serde(default)]
        status: Field<u64>,
    },
    /// `{"cmd":"garbage","times":N}`: send the client malformed frames (five: bad MAC,
    /// truncated, no comma, a node that does not decode, text that is not JSON), N times over
    /// (default 1, at most 100,000).
    Garbage {
        #[serde(default)]
        times: Field<u64>,
    },
    /// `{"cmd":"bad_frames","kind":K,"count":N}` (N 1 to 1,000,000, default 1): N binary
    /// frames of one kind of damage: `hmac` (sealed with a wrong HMAC), `truncated` (sealed, then
    /// cut short) or `tiny` (1 to 3 random bytes, as fast as the socket takes them).
    BadFrames {
        #[serde(default)]
        kind: Field<String>,
        #[serde(default)]
        count: Field<u64>,
    },
    /// The connection stays open but the server stops answering.
    HalfOpen,
    /// `{"cmd":"drop_at","at":M}`: cut the connection (no close handshake) at that moment of
    /// the next matching exchange: `init` (an `init` frame arrived, unanswered), `qr` (a QR ref
    /// of a pairing was just served), `restore` (a restore `login` arrived, unanswered),
    /// `send` (a relay was delivered to the phone, its ack not sent) or `send_before` (a relay
    /// arrived, not delivered).
    DropAt {
        #[serde(default)]
        at: Field<String>,
    },
    /// Every media URL handed out so far stops working.
    ExpireMedia,
    /// `{"cmd":"forget_media","url":U}` (`status`: 404 or 410, default 410; `for_good`): the
    /// media host forgets one URL; the phone re-uploads it (the next `query media` answers the
    /// new URL), or with `for_good` has lost it too. Answered with the new `url` (or null).
    ForgetMedia {
        #[serde(default)]
        url: Field<String>,
        #[serde(default)]
        status: Field<u64>,
        #[serde(default)]
        for_good: Field<bool>,
    },
    /// `{"cmd":"on_whatsapp","number":N}` (`business`, `remove`): a number beyond the contacts
    /// is (or with `remove` no longer is) on WhatsApp.
    OnWhatsapp {
        #[serde(default)]
        number: Field<String>,
        #[serde(default)]
        business: Field<bool>,
        #[serde(default)]
        remove: Field<bool>,
    },
    /// `{"cmd":"profile","jid":J}`: what the phone holds for a JID (`picture` URL, `about`),
    /// with our `pushname` and the `blocklist`.
    Profile {
        #[serde(default)]
        jid: Field<String>,
    },
    /// `{"cmd":"fail_upload","status":N}` (default 503): the next upload to the media host, to
    /// whichever of its hosts, is answered with that status and not stored.
    FailUpload {
        #[serde(default)]
        status: Field<u64>,
    },
    /// `{"cmd":"media_fault","fault":F,"times":N}` (default 1, at most 1,000; 0 disarms): the
    /// next N downloads (for `drop_upload`, `stall_upload`, `slow_upload`: uploads) of the media host get
    /// fault F: `404`, `truncate`, `tamper`, `stall`, `oversize`, `drip`, `drop_upload`,
    /// `stall_upload` or `slow_upload` (`crate::media_fault`). `pause_ms` (only with `drip`,
    /// 1 to 600,000, default 25,000) is the pause before each byte.
    MediaFault {
        #[serde(default)]
        fault: Field<String>,
        #[serde(default)]
        times: Field<u64>,
        #[serde(default)]
        pause_ms: Field<u64>,
    },
    /// `{"cmd":"battery","percent":P,"plugged":B}`: the phone reports its battery.
    Battery {
        #[serde(default)]
        percent: Field<u64>,
        #[serde(default)]
        plugged: Field<bool>,
    },
    /// `{"cmd":"push_json","payload":ANY}`: push that JSON to the client.
    PushJson {
        #[serde(default)]
        payload: Field<Value>,
    },
    /// `{"cmd":"push_node","node":NODE}`: push that node (JSON form) to the client.
    PushNode {
        #[serde(default)]
        node: Field<Value>,
    },
    /// `{"cmd":"read","from":JID,"id":ID}`: the contact reads the client's messages to them up
    /// to `id` (ack 3 for each, PROTOCOL.md 3.7); answered with their `ids`.
    Read {
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        id: Field<String>,
    },
    /// Counts of connections, sessions and logged-in sessions.
    Status,
    /// `{"cmd":"seed_history","chat":JID,"count":N}`: the phone's archive of `chat` gains N
    /// (1 to 100,000) older text messages, "history 1" to "history N", every third one the
    /// user's; not pushed, only paged and searched. Answered with
    /// `{"chat","count","first_id","last_id","total"}`.
    SeedHistory {
        #[serde(default)]
        chat: Field<String>,
        #[serde(default)]
        count: Field<u64>,
    },
    /// `{"cmd":"login_history","per_chat":N}`: every later login pushes, after the last message
    /// of each chat, each chat's N (0 to 1,000; 0 is the default, none) most recent archived
    /// messages as an `add="before"` batch (PROTOCOL.md 8.3 step 4), the final batch with
    /// `last="true"`. Answered with `{"per_chat":N}`.
    LoginHistory {
        #[serde(default)]
        per_chat: Field<u64>,
    },
    /// `{"cmd":"flood","count":N,"rate":R,"from":JID?,"bytes":B?}`: a contact (`from`, default
    /// 4915100000001) sends N (1 to 10,000,000) live texts of about B bytes (1 to 65,536,
    /// default 32) at up to R per second, one relay frame each, ids and texts numbered 1 to N.
    /// Answered once the last is on the client's socket:
    /// `{"count":N,"first_id":ID,"last_id":ID,"conn":C,"elapsed_ms":MS}`; commands after it are
    /// answered meanwhile.
    Flood {
        #[serde(default)]
        count: Field<u64>,
        #[serde(default)]
        rate: Field<f64>,
        #[serde(default)]
        from: Field<String>,
        #[serde(default)]
        bytes: Field<u64>,
    },
}

impl Command {
    /// Reads one command line: the `cmd` its answer names (empty when it has none) and the
    /// command, or the message of its `error` line.
    pub fn parse(line: Value) -> (String, Result<Command, String>) {
        let name = line
            .get("cmd")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        // Every field reads leniently, so the only way to fail is the `cmd` itself.
        let command = match serde_json::from_value(line) {
            Ok(command) => Ok(command),
            Err(_) if name.is_empty() => Err("a command needs \"cmd\"".to_owned()),
            Err(_) => Err(format!("unknown command {name:?}")),
        };
        (name, command)
    }
}

/// A command's field: `None` when it is absent or not of type `T`.
#[derive(Debug)]
pub struct Field<T>(Option<T>);

impl<T> Default for Field<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(Self(serde_json::from_value(value).ok()))
    }
}

impl<T> Field<T> {
    /// The value, or `<cmd> needs "<field>"`.
    pub fn need(self, cmd: &str, field: &str) -> Result<T, String> {
        self.0.ok_or_else(|| format!("{cmd} needs \"{field}\""))
    }

    /// The value of an optional field.
    pub fn get(self) -> Option<T> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(line: Value) -> Result<Command, String> {
        Command::parse(line).1
    }

    #[test]
    fn names_come_from_cmd() {
        assert_eq!(Command::parse(json!({"cmd": "drop"})).0, "drop");
        assert_eq!(Command::parse(json!({"cmd": 5})).0, "");
        assert!(matches!(parse(json!({"cmd": "drop"})), Ok(Command::Drop)));
        assert!(matches!(
            parse(json!({"cmd": "challenge_next", "extra": [1]})),
            Ok(Command::ChallengeNext)
        ));
        assert!(matches!(
            parse(json!({"cmd": "half_open"})),
            Ok(Command::HalfOpen)
        ));
    }

    #[test]
    fn a_bad_cmd_is_named_as_before() {
        let needs_cmd = Err::<(), _>("a command needs \"cmd\"".to_owned());
        for line in [
            json!({}),
            json!({"cmd": ""}),
            json!({"cmd": 5}),
            json!({"cmd": null}),
            json!([1]),
            json!("scan"),
        ] {
            assert_eq!(parse(line).map(|_| ()), needs_cmd);
        }
        assert_eq!(
            parse(json!({"cmd": "frobnicate"})).map(|_| ()),
            Err("unknown command \"frobnicate\"".to_owned())
        );
        assert_eq!(
            parse(json!({"cmd": "Scan"})).map(|_| ()),
            Err("unknown command \"Scan\"".to_owned())
        );
    }

    #[test]
    fn fields_that_are_absent_or_mistyped_are_missing() {
        let Ok(Command::SendText {
            from, text, chat, ..
        }) = parse(json!({"cmd": "send_text", "from": 1, "chat": "g@g.us"}))
        else {
            panic!("not send_text");
        };
        assert_eq!(
            from.need("send_text", "from"),
            Err("send_text needs \"from\"".into())
        );
        assert_eq!(text.get(), None);
        assert_eq!(chat.get().as_deref(), Some("g@g.us"));

        let Ok(Command::RefuseNext { status }) = parse(json!({"cmd": "refuse_next", "status": -1}))
        else {
            panic!("not refuse_next");
        };
        assert_eq!(status.get(), None);
        let Ok(Command::Battery { percent, plugged }) =
            parse(json!({"cmd": "battery", "percent": 2.5, "plugged": "yes"}))
        else {
            panic!("not battery");
        };
        assert_eq!((percent.get(), plugged.get()), (None, None));
    }

    #[test]
    fn a_null_payload_is_a_payload() {
        let Ok(Command::PushJson { payload }) = parse(json!({"cmd": "push_json", "payload": null}))
        else {
            panic!("not push_json");
        };
        assert_eq!(payload.get(), Some(Value::Null));
        let Ok(Command::PushNode { node }) = parse(json!({"cmd": "push_node"})) else {
            panic!("not push_node");
        };
        assert_eq!(node.get(), None);
    }
}
