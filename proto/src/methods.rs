//! The methods a client can call: their names, params and results.
//!
//! Every method is listed exactly once, as a variant of [`Call`] in the `methods!` invocation
//! below, with its wire name, its params type (if it takes any) and its result type. Everything
//! else follows from that one line:
//!
//! - [`Call::name`] and [`Call::NAMES`] (the list the daemon names in a `method_not_found` error);
//! - [`Call::parse`], which turns a request's `method` and `params` into a `Call` with the errors
//!   the daemon answers (-32601 for an unknown method, -32602 for bad params);
//! - [`Call::params`] and [`Call::request`], which turn a `Call` back into a request;
//! - a unit type per method implementing [`Method`], so a caller names the method once and gets
//!   both types right: `client.call::<Status>(&NoParams)` returns a [`StatusResult`].
//!
//! # Adding a method
//!
//! 1. Add one line to the `methods!` list: `Name(ParamsType) = "wire_name" -> ResultType;`
//!    (leave out `(ParamsType)` for a method without params), with a doc comment giving the wire
//!    name and a JSON request and reply, like the others. Define the params and result types
//!    below if they are new.
//! 2. The compiler then asks for the method's arm in the daemon's session (`on_call` in
//!    `daemon/src/session/calls.rs`, the one place that matches on a `Call`; what a call does on
//!    the wire goes into `waweb_core::session::connection`), and in the fake session of the
//!    socket server's tests.
//! 3. Add a `wawebctl` subcommand that sends it as a typed call (`call::<methods::Name>`).
//!
//! The socket server, the session handle and [`Client`](crate::Client) need no change.
//!
//! Params are JSON objects; a method without params also accepts `params` left out or `null`.
//! Params refuse unknown fields, so a misspelt field is an `invalid_params` error instead of
//! being silently ignored; results accept unknown fields, so a newer daemon may add some.

use std::fmt;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chats::{ChatModifyParams, ChatsParams, ChatsResult, ContactsParams, ContactsResult};
use crate::compose::{
    ForwardParams, MessageRef, RevokeParams, SendContactParams, SendLocationParams,
};
use crate::event::EventType;
use crate::group::{
    GroupCreateParams, GroupCreateResult, GroupDescriptionParams, GroupInfoResult,
    GroupInviteParams, GroupInviteResult, GroupJoinParams, GroupJoinResult, GroupParams,
    GroupParticipantsParams, GroupParticipantsResult, GroupSettingsParams, GroupSubjectParams,
};
use crate::history::{MessagesParams, MessagesResult, SearchParams};
use crate::journal::{
    CommitParams, ConsumerInfo, ConsumersResult, JournalParams, JournalResult, SubscribeParams,
    SubscribeResult,
};
use crate::message::{Media, Message};
use crate::metrics::MetricsResult;
use crate::profile::{
    AboutParams, AboutResult, BlockParams, BlocklistResult, OnWhatsappParams, OnWhatsappResult,
    ProfilePictureParams, ProfilePictureResult, SetAboutParams, SetProfilePictureParams,
    SetPushNameParams,
};
use crate::receipt::{
    EmptyResult, MarkPlayedParams, MarkReadParams, MarkUnreadParams, ReceiptResult,
    SetPresenceParams, SetTypingParams, SubscribePresenceParams,
};
use crate::rpc::{ErrorKind, Id, Request, RpcError};
use crate::send::{
    OutboxCancelParams, OutboxCancelResult, OutboxResult, SendTextParams, SendTextResult,
};
use crate::send_media::{SendMediaParams, SendMediaResult};
pub use crate::status::{
    Battery, LoginResult, LogoutResult, Me, State, StatusResult, UnknownName, VersionResult,
};

/// A method of the socket protocol: its wire name and the shapes of its params and result.
///
/// Implemented by the unit types the `methods!` list generates, one per [`Call`] variant.
pub trait Method {
    /// The `method` member of the request.
    const NAME: &'static str;
    /// What goes in `params`.
    type Params: Serialize + DeserializeOwned + Clone;
    /// What comes back in `result`.
    type Result: Serialize + DeserializeOwned;

    /// The call of this method with these params.
    fn call(params: Self::Params) -> Call;
}

/// The params of a method that takes none.
///
/// Written as `{}`; the daemon also accepts the `params` member being left out or `null` (which
/// is what a request built from a [`Call`] does).
///
/// `"params":{}`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoParams;

impl Serialize for NoParams {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde::ser::SerializeMap::end(serializer.serialize_map(Some(0))?)
    }
}

impl<'de> Deserialize<'de> for NoParams {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Empty;

        impl<'de> serde::de::Visitor<'de> for Empty {
            type Value = NoParams;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("no params (an empty object)")
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<NoParams, E> {
                Ok(NoParams)
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<NoParams, A::Error> {
                match map.next_key::<String>()? {
                    None => Ok(NoParams),
                    Some(key) => Err(serde::de::Error::custom(format!(
                        "this method takes no params, but `{key}` was given"
                    ))),
                }
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<NoParams, A::Error> {
                match seq.next_element::<serde::de::IgnoredAny>()? {
                    None => Ok(NoParams),
                    Some(_) => Err(serde::de::Error::custom("this method takes no params")),
                }
            }
        }

        deserializer.deserialize_any(Empty)
    }
}

/// Reads a method's params: an object, or nothing (`params` left out or `null`) for `{}`.
fn params_of<P: DeserializeOwned>(method: &str, params: Option<Value>) -> Result<P, RpcError> {
    let params = match params {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(params @ Value::Object(_)) => params,
        // Arrays too: DESIGN.md makes params an object, so positional params are refused by
        // every method alike.
        Some(_) => {
            return Err(RpcError::new(
                ErrorKind::InvalidParams,
                "`params` must be an object",
            ));
        }
    };
    serde_json::from_value(params).map_err(|error| {
        RpcError::new(
            ErrorKind::InvalidParams,
            format!("bad params for {method}: {error}"),
        )
    })
}

/// Generates [`Call`], its impls and one [`Method`] type per method from one list.
///
/// Each entry is `Name(ParamsType) = "wire_name" -> ResultType;`, or `Name = "wire_name" ->
/// ResultType;` for a method without params (a unit variant whose `Method::Params` is
/// [`NoParams`]).
macro_rules! methods {
    ($(
        $(#[$doc:meta])*
        $name:ident $(($params:ty))? = $wire:literal -> $result:ty;
    )*) => {
        /// A request to the daemon, parsed as far as the method's params: one variant per
        /// method.
        ///
        /// Build one to send it ([`Call::request`]), or read one from a request's `method` and
        /// `params` ([`Call::parse`]).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Call {
            $(
                $(#[$doc])*
                $name $(($params))?,
            )*
        }

        impl Call {
            /// Every method name, in the order of DESIGN.md's table.
            pub const NAMES: &'static [&'static str] = &[$($wire),*];

            /// The wire name: the request's `method` member.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Call::$name { .. } => $wire,)*
                }
            }

            /// Reads a request's `method` and `params` (`None` when the member is absent).
            ///
            /// An unknown method is `method_not_found` (-32601), naming every method; params
            /// that do not fit are `invalid_params` (-32602). Methods without params take
            /// `params` left out, `null` or `{}`; params are always an object, never an array.
            ///
            /// ```
            /// use waweb_proto::{Call, QueryParams};
            /// use serde_json::json;
            ///
            /// let call = Call::parse("query", Some(json!({"json": ["query", "exist"]}))).unwrap();
            /// assert_eq!(call, Call::Query(QueryParams::json(json!(["query", "exist"]))));
            /// assert_eq!(Call::parse("status", None).unwrap(), Call::Status);
            /// assert_eq!(Call::parse("reboot", None).unwrap_err().code, -32601);
            /// assert_eq!(Call::parse("status", Some(json!([]))).unwrap_err().code, -32602);
            /// ```
            pub fn parse(method: &str, params: Option<Value>) -> Result<Call, RpcError> {
                match method {
                    $($wire => methods!(@parse $name, $wire, params $(, $params)?),)*
                    _ => Err(RpcError::new(
                        ErrorKind::MethodNotFound,
                        format!(
                            "no method {:?}; the methods are {}",
                            crate::rpc::bounded(method.to_owned(), 64),
                            Call::NAMES.join(", ")
                        ),
                    )),
                }
            }

            /// The `params` member of this call: its params object, or `None` (the member
            /// left out) for a method without params.
            ///
            /// Fails only for params that JSON cannot hold (a path that is not UTF-8).
            pub fn params(&self) -> Result<Option<Value>, serde_json::Error> {
                match self {
                    $(methods!(@pattern $name, params $(, $params)?) => {
                        methods!(@to_value params $(, $params)?)
                    })*
                }
            }

            /// This call as a request with `id`.
            ///
            /// ```
            /// use waweb_proto::{Call, EventType, SubscribeParams};
            ///
            /// let call = Call::Subscribe(SubscribeParams::only([EventType::Qr]));
            /// assert_eq!(
            ///     serde_json::to_string(&call.request(5).unwrap()).unwrap(),
            ///     r#"{"jsonrpc":"2.0","id":5,"method":"subscribe","params":{"events":["qr"]}}"#
            /// );
            /// ```
            pub fn request(&self, id: impl Into<Id>) -> Result<Request, serde_json::Error> {
                Ok(Request::new(id, self.name(), self.params()?))
            }
        }

        $(
            #[doc = concat!(
                "The `", $wire, "` method as a type, for typed calls; see [`Call::",
                stringify!($name), "`]."
            )]
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name;

            impl Method for $name {
                const NAME: &'static str = $wire;
                type Params = methods!(@params $($params)?);
                type Result = $result;

                fn call(params: Self::Params) -> Call {
                    methods!(@build $name, params $(, $params)?)
                }
            }
        )*
    };

    (@parse $name:ident, $wire:literal, $value:ident) => {
        params_of::<NoParams>($wire, $value).map(|NoParams| Call::$name)
    };
    (@parse $name:ident, $wire:literal, $value:ident, $params:ty) => {
        params_of::<$params>($wire, $value).map(Call::$name)
    };
    (@pattern $name:ident, $value:ident) => { Call::$name };
    (@pattern $name:ident, $value:ident, $params:ty) => { Call::$name($value) };
    (@to_value $value:ident) => { Ok(None) };
    (@to_value $value:ident, $params:ty) => { serde_json::to_value($value).map(Some) };
    (@params) => { NoParams };
    (@params $params:ty) => { $params };
    (@build $name:ident, $value:ident) => {{
        let NoParams = $value;
        Call::$name
    }};
    (@build $name:ident, $value:ident, $params:ty) => { Call::$name($value) };
}

methods! {
    /// `version`: which daemon and protocol answer, answered by the socket server itself.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":1,"method":"version"}
    /// {"jsonrpc":"2.0","id":1,"result":{"daemon":"0.1.0","protocol":1,"wa_version":[2,2142,12]}}
    /// ```
    Version = "version" -> VersionResult;

    /// `status`: a snapshot of the session, the connection and the phone.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":2,"method":"status"}
    /// {"jsonrpc":"2.0","id":2,"result":{"state":"connected","me":{"wid":"4915100000000@s.whatsapp.net","pushname":"Ada","platform":"android","phone":{}},"server_url":"wss://web.whatsapp.com/ws","session_stored":true,"last_pong_ms_ago":1200,"phone_online":true,"battery":null,"reconnects":0}}
    /// ```
    Status = "status" -> StatusResult;

    /// `login`: start pairing; the QR codes then arrive as `qr` events, so subscribe first.
    ///
    /// Refused with `already_logged_in` when connected or holding a stored session; while
    /// already pairing it re-emits the current `qr` event.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":3,"method":"login"}
    /// {"jsonrpc":"2.0","id":3,"result":{"state":"pairing"}}
    /// ```
    Login = "login" -> LoginResult;

    /// `logout`: tell the server goodbye (best effort) and erase the stored session.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":4,"method":"logout"}
    /// {"jsonrpc":"2.0","id":4,"result":{"server_notified":true}}
    /// ```
    Logout = "logout" -> LogoutResult;

    /// `subscribe`: receive `event` notifications of the given types on this connection,
    /// answered by the socket server itself.
    ///
    /// A new subscription first gets the current `state` event (if `state` is subscribed),
    /// then every event as it happens. With `since` (or a `consumer` and its cursor) it first
    /// replays every journaled event after that seq, then goes live with no gap and no
    /// duplicate (DESIGN.md 6.1). A second `subscribe` replaces the filter (and, with `since` or
    /// `consumer`, the starting point).
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":5,"method":"subscribe","params":{"events":["qr","state"]}}
    /// {"jsonrpc":"2.0","id":5,"result":{"events":["state","qr"],"head":1041}}
    /// {"jsonrpc":"2.0","id":6,"method":"subscribe","params":{"consumer":"bot"}}
    /// {"jsonrpc":"2.0","id":6,"result":{"events":["state","qr","…"],"head":1041,"gap":false}}
    /// ```
    Subscribe(SubscribeParams) = "subscribe" -> SubscribeResult;

    /// `unsubscribe`: stop some event types, or all when `events` is absent or empty; answered
    /// by the socket server itself.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":6,"method":"unsubscribe","params":{"events":["qr"]}}
    /// {"jsonrpc":"2.0","id":6,"result":{"events":["state"]}}
    /// ```
    Unsubscribe(EventsParams) = "unsubscribe" -> EventsResult;

    /// `send_text`: send a text message through the outbox (DESIGN.md 6.2); the reply comes
    /// once the server acknowledged it, or at once with `wait: "queued"`. While disconnected the
    /// message waits in the outbox (also across restarts); an `idempotency_key` seen before
    /// returns the first call's result instead of sending again.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":7,"method":"send_text","params":{"to":"+49 151 2345-678","text":"hi","idempotency_key":"order-17"}}
    /// {"jsonrpc":"2.0","id":7,"result":{"id":"3EB0C0FFEE","status":200,"t":1600000000}}
    /// ```
    SendText(SendTextParams) = "send_text" -> SendTextResult;

    /// `query`: send any JSON command, binary node or set-action child to the server and return
    /// its reply as it came (20 s timeout).
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":8,"method":"query","params":{"json":["query","exist","4915100000000@c.us"]}}
    /// {"jsonrpc":"2.0","id":8,"result":{"reply":{"status":200}}}
    /// {"jsonrpc":"2.0","id":9,"method":"query","params":{"node":{"tag":"query","attrs":{"type":"chat"},"content":null},"metric":5}}
    /// {"jsonrpc":"2.0","id":9,"result":{"reply_node":{"tag":"response","attrs":{"type":"chat"},"content":[]}}}
    /// {"jsonrpc":"2.0","id":10,"method":"query","params":{"set":{"tag":"profile","attrs":{"name":"Ada"},"content":null},"metric":10}}
    /// {"jsonrpc":"2.0","id":10,"result":{"reply":{"status":200,"pushname":"Ada"}}}
    /// ```
    Query(QueryParams) = "query" -> QueryResult;

    /// `media_download`: download, decrypt and verify the attachment of a message: its `media`
    /// object, or a `message` reference looked up in the store. When the host answers 404/410
    /// the phone is asked for a fresh URL once (PROTOCOL.md 10.5); then it is `media_expired`.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":9,"method":"media_download","params":{"message":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815","from_me":false},"output":"/tmp/photo.jpg"}}
    /// {"jsonrpc":"2.0","id":9,"method":"media_download","params":{"media":{"kind":"image","url":"https://mmg.whatsapp.net/d/f/Ab.enc","direct_path":null,"media_key":"AAEC…","mimetype":"image/jpeg","file_sha256":"47DE…","file_enc_sha256":"n4bQ…","file_length":1024},"output":"/tmp/photo.jpg"}}
    /// {"jsonrpc":"2.0","id":9,"result":{"path":"/tmp/photo.jpg","bytes":1024,"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}
    /// ```
    MediaDownload(MediaDownloadParams) = "media_download" -> MediaDownloadResult;

    /// `commit`: a named consumer has handled everything up to `seq`; its cursor moves there
    /// (never backwards). A seq above the head is `invalid_params`; a new name is created.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":10,"method":"commit","params":{"consumer":"bot","seq":1037}}
    /// {"jsonrpc":"2.0","id":10,"result":{"name":"bot","seq":1037,"lag":4}}
    /// ```
    Commit(CommitParams) = "commit" -> ConsumerInfo;

    /// `consumers`: every named consumer with its cursor and lag.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":11,"method":"consumers"}
    /// {"jsonrpc":"2.0","id":11,"result":{"consumers":[{"name":"bot","seq":1037,"lag":4}],"head":1041}}
    /// ```
    Consumers = "consumers" -> ConsumersResult;

    /// `events`: read the journal without subscribing.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":12,"method":"events","params":{"since":1000,"limit":2}}
    /// {"jsonrpc":"2.0","id":12,"result":{"events":[{"type":"ack","seq":1001,"at":1600000000123,"id":"3EB0C0FFEE","ack":2,"chat":"49…@s.whatsapp.net"},{"type":"battery","seq":1002,"at":1600000000200,"percent":52,"plugged":false,"powersave":false}],"head":1041}}
    /// ```
    Events(JournalParams) = "events" -> JournalResult;

    /// `outbox`: the messages not yet acknowledged by the server, oldest first.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":13,"method":"outbox"}
    /// {"jsonrpc":"2.0","id":13,"result":{"messages":[{"id":"3EB0C0FFEE","to":"4915100000001@s.whatsapp.net","kind":"text","queued_at":1600000000123,"attempts":0}]}}
    /// ```
    Outbox = "outbox" -> OutboxResult;

    /// `outbox_cancel`: drop a queued message that has not been sent yet.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":14,"method":"outbox_cancel","params":{"id":"3EB0C0FFEE"}}
    /// {"jsonrpc":"2.0","id":14,"result":{"id":"3EB0C0FFEE","cancelled":true}}
    /// ```
    OutboxCancel(OutboxCancelParams) = "outbox_cancel" -> OutboxCancelResult;

    /// `send_location`: send a location (DESIGN.md 7.1), through the outbox like `send_text`.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":15,"method":"send_location","params":{"to":"4915100000001","latitude":52.5163,"longitude":13.3777,"name":"Brandenburger Tor"}}
    /// {"jsonrpc":"2.0","id":15,"result":{"id":"3EB0C0FFEE","status":200,"t":1600000000}}
    /// ```
    SendLocation(SendLocationParams) = "send_location" -> SendTextResult;

    /// `send_contact`: send one contact card (`contactMessage`) or several
    /// (`contactsArrayMessage`).
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":16,"method":"send_contact","params":{"to":"4915100000001","contacts":[{"display_name":"Ada","vcard":"BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEND:VCARD"}]}}
    /// {"jsonrpc":"2.0","id":16,"result":{"id":"3EB0C0FFEE","status":200,"t":1600000000}}
    /// ```
    SendContact(SendContactParams) = "send_contact" -> SendTextResult;

    /// `forward`: send a stored message's content again, marked as forwarded; `not_found` when
    /// the store does not hold it.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":17,"method":"forward","params":{"to":"4915100000002","message":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815","from_me":false}}}
    /// {"jsonrpc":"2.0","id":17,"result":{"id":"3EB0C0FFEE","status":200,"t":1600000000}}
    /// ```
    Forward(ForwardParams) = "forward" -> SendTextResult;

    /// `revoke`: delete one of our messages for everyone (a `protocolMessage` REVOKE to its
    /// chat); a message that is not ours is `invalid_params`.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":18,"method":"revoke","params":{"message":{"chat":"4915100000001@s.whatsapp.net","id":"3EB0C0FFEE","from_me":true}}}
    /// {"jsonrpc":"2.0","id":18,"result":{"id":"3EB0AB12CD","status":200,"t":1600000005}}
    /// ```
    Revoke(RevokeParams) = "revoke" -> SendTextResult;

    /// `mark_read`: a read receipt for a chat up to `message` (default: the newest stored one;
    /// `not_found` when the store holds none).
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":19,"method":"mark_read","params":{"chat":"4915100000001"}}
    /// {"jsonrpc":"2.0","id":19,"result":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815"}}
    /// ```
    MarkRead(MarkReadParams) = "mark_read" -> ReceiptResult;

    /// `mark_unread`: mark a chat unread (`count -2` with its newest stored message).
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":20,"method":"mark_unread","params":{"chat":"4915100000001"}}
    /// {"jsonrpc":"2.0","id":20,"result":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815"}}
    /// ```
    MarkUnread(MarkUnreadParams) = "mark_unread" -> ReceiptResult;

    /// `mark_played`: a played receipt for a voice note someone sent.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":21,"method":"mark_played","params":{"message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false}}}
    /// {"jsonrpc":"2.0","id":21,"result":{"chat":"4915100000001@s.whatsapp.net","id":"3AA55DBD30C9CD2FD815"}}
    /// ```
    MarkPlayed(MarkPlayedParams) = "mark_played" -> ReceiptResult;

    /// `set_presence`: our own presence, `available` or `unavailable`.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":22,"method":"set_presence","params":{"presence":"unavailable"}}
    /// {"jsonrpc":"2.0","id":22,"result":{}}
    /// ```
    SetPresence(SetPresenceParams) = "set_presence" -> EmptyResult;

    /// `set_typing`: show `composing`, `recording` or `paused` in a chat.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":23,"method":"set_typing","params":{"chat":"4915100000001","state":"composing"}}
    /// {"jsonrpc":"2.0","id":23,"result":{}}
    /// ```
    SetTyping(SetTypingParams) = "set_typing" -> EmptyResult;

    /// `subscribe_presence`: ask for a contact's presence; `presence` events follow.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":24,"method":"subscribe_presence","params":{"jid":"4915100000001"}}
    /// {"jsonrpc":"2.0","id":24,"result":{}}
    /// ```
    SubscribePresence(SubscribePresenceParams) = "subscribe_presence" -> EmptyResult;

    /// `send_media`: encrypt a file as it is read, upload it to the server's media host (the
    /// next host when one fails) and send it through the outbox like `send_text`; the result
    /// adds the `media` of the message. Size limits follow the server's `Props`.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":25,"method":"send_media","params":{"to":"4915100000001","kind":"image","path":"/home/ada/cat.jpg","caption":"look"}}
    /// {"jsonrpc":"2.0","id":25,"result":{"id":"3EB0C0FFEE","status":200,"t":1600000000,"media":{"kind":"image","url":"https://mmg.whatsapp.net/d/f/Ab.enc","direct_path":"/d/f/Ab.enc","media_key":"AAEC…","mimetype":"image/jpeg","file_sha256":"47DE…","file_enc_sha256":"n4bQ…","file_length":48213,"caption":"look","width":640,"height":480}}}
    /// ```
    SendMedia(SendMediaParams) = "send_media" -> SendMediaResult;

    /// `on_whatsapp`: which numbers are on WhatsApp (one `exist` query each, at most 50).
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":26,"method":"on_whatsapp","params":{"numbers":["4915100000001","+49 151 0000099"]}}
    /// {"jsonrpc":"2.0","id":26,"result":{"results":[{"input":"4915100000001","jid":"4915100000001@s.whatsapp.net","exists":true,"business":false},{"input":"+49 151 0000099","jid":"4915100000099@s.whatsapp.net","exists":false,"business":false}]}}
    /// ```
    OnWhatsapp(OnWhatsappParams) = "on_whatsapp" -> OnWhatsappResult;

    /// `profile_picture`: the URL of a person's or group's picture (null when there is none);
    /// with `output` the JPEG is also downloaded there.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":27,"method":"profile_picture","params":{"jid":"4915100000001","output":"/tmp/ada.jpg"}}
    /// {"jsonrpc":"2.0","id":27,"result":{"url":"https://pps.whatsapp.net/v/abc.jpg"}}
    /// ```
    ProfilePicture(ProfilePictureParams) = "profile_picture" -> ProfilePictureResult;

    /// `set_profile_picture`: our picture from a JPEG or PNG, cropped and scaled to 640x640
    /// with a 96x96 preview.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":28,"method":"set_profile_picture","params":{"path":"/home/ada/me.png"}}
    /// {"jsonrpc":"2.0","id":28,"result":{}}
    /// ```
    SetProfilePicture(SetProfilePictureParams) = "set_profile_picture" -> EmptyResult;

    /// `about`: a person's "about" text.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":29,"method":"about","params":{"jid":"4915100000001"}}
    /// {"jsonrpc":"2.0","id":29,"result":{"text":"Hey there! I am using WhatsApp."}}
    /// ```
    About(AboutParams) = "about" -> AboutResult;

    /// `set_about`: our own "about" text.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":30,"method":"set_about","params":{"text":"At the gym"}}
    /// {"jsonrpc":"2.0","id":30,"result":{}}
    /// ```
    SetAbout(SetAboutParams) = "set_about" -> EmptyResult;

    /// `set_push_name`: our display name; `status.me.pushname` shows it afterwards.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":31,"method":"set_push_name","params":{"name":"Ada L."}}
    /// {"jsonrpc":"2.0","id":31,"result":{}}
    /// ```
    SetPushName(SetPushNameParams) = "set_push_name" -> EmptyResult;

    /// `block`: block a person.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":32,"method":"block","params":{"jid":"4915100000003"}}
    /// {"jsonrpc":"2.0","id":32,"result":{}}
    /// ```
    Block(BlockParams) = "block" -> EmptyResult;

    /// `unblock`: unblock a person.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":33,"method":"unblock","params":{"jid":"4915100000003"}}
    /// {"jsonrpc":"2.0","id":33,"result":{}}
    /// ```
    Unblock(BlockParams) = "unblock" -> EmptyResult;

    /// `blocklist`: everyone blocked, as the server last said (and our own changes since).
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":34,"method":"blocklist"}
    /// {"jsonrpc":"2.0","id":34,"result":{"jids":["4915100000003@s.whatsapp.net"]}}
    /// ```
    Blocklist = "blocklist" -> BlocklistResult;

    /// `group_info`: a group's subject, owner, description, settings and participants, as the
    /// server has them (`GroupMetadata`); only members may ask.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":40,"method":"group_info","params":{"chat":"4915100000000-1600000000@g.us"}}
    /// {"jsonrpc":"2.0","id":40,"result":{"chat":"4915100000000-1600000000@g.us","subject":"Sim Friends","owner":"4915100000000@s.whatsapp.net","created":1600000000,"description":null,"announce":false,"restrict":false,"ephemeral_s":null,"participants":[{"jid":"4915100000000@s.whatsapp.net","admin":true,"super_admin":true}]}}
    /// ```
    GroupInfo(GroupParams) = "group_info" -> GroupInfoResult;

    /// `group_create`: a new group with us as its super admin and these participants.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":41,"method":"group_create","params":{"subject":"Lunch","participants":["4915100000001"]}}
    /// {"jsonrpc":"2.0","id":41,"result":{"chat":"4915100000000-1600000100@g.us","participants":[{"jid":"4915100000001@s.whatsapp.net","status":200}]}}
    /// ```
    GroupCreate(GroupCreateParams) = "group_create" -> GroupCreateResult;

    /// `group_participants`: add, remove, promote or demote people (admins only); each gets
    /// the server's status.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":42,"method":"group_participants","params":{"chat":"4915100000000-1600000000@g.us","action":"add","participants":["4915100000004"]}}
    /// {"jsonrpc":"2.0","id":42,"result":{"participants":[{"jid":"4915100000004@s.whatsapp.net","status":200}]}}
    /// ```
    GroupParticipants(GroupParticipantsParams) = "group_participants" -> GroupParticipantsResult;

    /// `group_leave`: leave a group.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":43,"method":"group_leave","params":{"chat":"4915100000000-1600000000@g.us"}}
    /// {"jsonrpc":"2.0","id":43,"result":{}}
    /// ```
    GroupLeave(GroupParams) = "group_leave" -> EmptyResult;

    /// `group_subject`: rename a group.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":44,"method":"group_subject","params":{"chat":"4915100000000-1600000000@g.us","subject":"Lunch"}}
    /// {"jsonrpc":"2.0","id":44,"result":{}}
    /// ```
    GroupSubject(GroupSubjectParams) = "group_subject" -> EmptyResult;

    /// `group_description`: set (or, with `""`, remove) a group's description.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":45,"method":"group_description","params":{"chat":"4915100000000-1600000000@g.us","description":"Noon, daily"}}
    /// {"jsonrpc":"2.0","id":45,"result":{}}
    /// ```
    GroupDescription(GroupDescriptionParams) = "group_description" -> EmptyResult;

    /// `group_settings`: who may send (`announce`), who may edit the group (`restrict`), and
    /// disappearing messages (`ephemeral_s`, 0 = off); admins only.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":46,"method":"group_settings","params":{"chat":"4915100000000-1600000000@g.us","announce":true}}
    /// {"jsonrpc":"2.0","id":46,"result":{}}
    /// ```
    GroupSettings(GroupSettingsParams) = "group_settings" -> EmptyResult;

    /// `group_invite`: the group's invite code and link (admins only); `reset` revokes the old
    /// one first.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":47,"method":"group_invite","params":{"chat":"4915100000000-1600000000@g.us"}}
    /// {"jsonrpc":"2.0","id":47,"result":{"code":"Fq3Ab9kLmN2pQr","link":"https://chat.whatsapp.com/Fq3Ab9kLmN2pQr"}}
    /// ```
    GroupInvite(GroupInviteParams) = "group_invite" -> GroupInviteResult;

    /// `group_join`: join a group by its invite `code` or `link`.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":48,"method":"group_join","params":{"link":"https://chat.whatsapp.com/Fq3Ab9kLmN2pQr"}}
    /// {"jsonrpc":"2.0","id":48,"result":{"chat":"4915100000000-1600000000@g.us"}}
    /// ```
    GroupJoin(GroupJoinParams) = "group_join" -> GroupJoinResult;

    /// `messages`: a page of a chat's history, oldest first: the newest messages, or those just
    /// `before` or `after` a message. Served from the store where it knows the messages are
    /// contiguous, else fetched from the server (and stored); `more` says whether older (or,
    /// with `after`, newer) ones exist. An anchor neither knows is `not_found`.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":26,"method":"messages","params":{"chat":"4915100000001","before":{"chat":"4915100000001","id":"3EB0C0FFEE","from_me":true},"count":1}}
    /// {"jsonrpc":"2.0","id":26,"result":{"messages":[{"id":"3A55DBD30C9CD2FD815","chat":"4915100000001@s.whatsapp.net","from_me":false,"participant":null,"timestamp":1600000000,"push_name":null,"kind":"text","text":"hi","media":null,"source":"history"}],"more":true}}
    /// ```
    Messages(MessagesParams) = "messages" -> MessagesResult;

    /// `message`: one stored message, as its `message` event carried it; `not_found` when the
    /// store does not hold it.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":27,"method":"message","params":{"chat":"4915100000001","id":"3A55DBD30C9CD2FD815","from_me":false}}
    /// {"jsonrpc":"2.0","id":27,"result":{"id":"3A55DBD30C9CD2FD815","chat":"4915100000001@s.whatsapp.net","from_me":false,"participant":null,"timestamp":1600000000,"push_name":null,"kind":"text","text":"hi","media":null,"source":"live"}}
    /// ```
    GetMessage(MessageRef) = "message" -> Message;

    /// `search`: messages whose text or caption holds `text`, newest first: the server's search
    /// merged with the store's, one entry per chat and id; `more` when a next `page` has more.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":28,"method":"search","params":{"text":"lunch","count":10,"page":1}}
    /// {"jsonrpc":"2.0","id":28,"result":{"messages":[{"id":"3A02","chat":"4915100000001@s.whatsapp.net","from_me":false,"participant":null,"timestamp":1600000100,"push_name":null,"kind":"text","text":"lunch?","media":null,"source":"history"}],"more":false}}
    /// ```
    Search(SearchParams) = "search" -> MessagesResult;

    /// `chats`: the chat list from the daemon's store, newest first (DESIGN.md 8); at most
    /// 1000 a call, paged with `before` (the `t` of the last chat of the previous page).
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":40,"method":"chats","params":{"archived":false,"limit":1}}
    /// {"jsonrpc":"2.0","id":40,"result":{"chats":[{"jid":"4915100000001@s.whatsapp.net","name":"Alice","t":1600000000,"unread":2,"archived":false,"pinned":null,"muted_until":null,"read_only":false,"ephemeral_s":null}]}}
    /// ```
    Chats(ChatsParams) = "chats" -> ChatsResult;

    /// `contacts`: the address book from the daemon's store, filtered by `query`.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":41,"method":"contacts","params":{"query":"ali"}}
    /// {"jsonrpc":"2.0","id":41,"result":{"contacts":[{"jid":"4915100000001@s.whatsapp.net","name":"Alice","notify":"Ali","short":"Alice"}]}}
    /// ```
    Contacts(ContactsParams) = "contacts" -> ContactsResult;

    /// `chat_modify`: archive, pin, mute, clear, delete a chat or star a message, as the phone
    /// does (PROTOCOL.md 11.2); once the server said 200 the store changes and a `chat` event
    /// follows.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":42,"method":"chat_modify","params":{"chat":"4915100000001","action":"mute","until":1600086400}}
    /// {"jsonrpc":"2.0","id":42,"result":{}}
    /// ```
    ChatModify(ChatModifyParams) = "chat_modify" -> EmptyResult;

    /// `metrics`: the daemon's counters and gauges (messages, acks, reconnects, state, journal,
    /// outbox, socket, media), the values `--metrics-listen` serves as OpenMetrics text;
    /// answered by the socket server itself.
    ///
    /// ```json
    /// {"jsonrpc":"2.0","id":43,"method":"metrics"}
    /// {"jsonrpc":"2.0","id":43,"result":{"messages_received":{"text":2},"messages_sent":{"text":1},"acks":{"1":1},"reconnects":{},"state":"connected","last_pong_age_s":1.2,"journal":{"head":41,"events":40,"database_bytes":122880},"consumers":[{"name":"bot","lag":4}],"outbox_depth":0,"subscribers":1,"socket_errors":{},"media_bytes":{"downloaded":0,"uploaded":0},"listen":"127.0.0.1:9464"}}
    /// ```
    Metrics = "metrics" -> MetricsResult;
}

/// Every method name, in the order of DESIGN.md's table: [`Call::NAMES`].
pub const METHODS: &[&str] = Call::NAMES;

/// The params of `subscribe` and `unsubscribe`.
///
/// Absent or empty `events` means every type. Unknown type names are refused with
/// `invalid_params`.
///
/// `{"events":["message","ack"]}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    /// The event types; `None` (left out) for all.
    ///
    /// `"events":["message"]`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventType>>,
}

impl EventsParams {
    /// Every type.
    pub fn all() -> Self {
        EventsParams { events: None }
    }

    /// Just these types (an empty list also means every type).
    pub fn only(types: impl IntoIterator<Item = EventType>) -> Self {
        EventsParams {
            events: Some(types.into_iter().collect()),
        }
    }
}

/// The result of `subscribe` and `unsubscribe`: every type now subscribed, in the order of
/// [`EventType::ALL`].
///
/// `{"events":["state","qr"]}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsResult {
    /// The subscribed types; empty when nothing is subscribed.
    ///
    /// `"events":["state","qr"]`
    pub events: Vec<EventType>,
}

/// The params of `query`: exactly one of `json`, `node` and `set`; `metric` (and `flags`,
/// default `0x80`) go with a node or set-action child.
///
/// `{"json":["query","exist","4915100000000@c.us"]}` or
/// `{"node":{"tag":"query","attrs":{"type":"chat"},"content":null},"metric":5}`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryParams {
    /// A raw command, sent to the server as the JSON payload of a tagged frame.
    ///
    /// `"json":["query","ProfilePicThumb","4915100000000@c.us"]`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// A node in the JSON form of DESIGN.md 4, sent as an encrypted binary frame (an `action`
    /// or `query` without `epoch` gets the connection's next one).
    ///
    /// `"node":{"tag":"query","attrs":{"type":"chat"},"content":null}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Value>,
    /// The child of an `action type=set`, in the same JSON form; answered with its JSON reply.
    ///
    /// `"set":{"tag":"profile","attrs":{"name":"Ada"},"content":null}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Value>,
    /// The frame's metric byte (PROTOCOL.md 1.4), needed with `node` and `set`.
    ///
    /// `"metric":5`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u8>,
    /// The frame's flags byte; `0x80` (128) when left out.
    ///
    /// `"flags":136`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u8>,
    /// With `set`: the child's `id` attribute is the frame's tag (pictures, group operations).
    ///
    /// `"id_is_tag":true`
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub id_is_tag: bool,
}

impl QueryParams {
    /// A raw JSON command.
    pub fn json(json: Value) -> Self {
        QueryParams {
            json: Some(json),
            ..QueryParams::default()
        }
    }
}

/// The result of `query`: the server's reply, JSON or a binary node.
///
/// `{"reply":{"status":200}}` or `{"reply_node":{"tag":"response","attrs":{"type":"chat"},"content":null}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryResult {
    /// A JSON reply, as it was.
    ///
    /// `{"reply":{"status":200}}`
    Reply(Value),
    /// A binary reply, as a node in JSON (`{"tag","attrs","content"}`).
    ///
    /// `{"reply_node":{"tag":"response","attrs":{},"content":null}}`
    ReplyNode(Value),
}

/// The params of `media_download`: exactly one of `media` and `message`.
///
/// `{"media":{"kind":"image",…},"output":"/home/ada/photo.jpg"}` or
/// `{"message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false},"output":"/home/ada/photo.jpg"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaDownloadParams {
    /// The `media` object of a `message` event, as it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// A stored message whose media to download; with it an expired URL can be refreshed.
    ///
    /// `"message":{"chat":"4915100000001","id":"3AA55DBD30C9CD2FD815","from_me":false}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageRef>,
    /// Where to write the file: an absolute path (the daemon's working directory is not the
    /// caller's) whose folder exists; an existing file is replaced atomically.
    ///
    /// `"output":"/home/ada/photo.jpg"`
    pub output: PathBuf,
}

/// The result of `media_download`.
///
/// `{"path":"/home/ada/photo.jpg","bytes":1024,"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDownloadResult {
    /// The file written: the `output` param.
    ///
    /// `"path":"/home/ada/photo.jpg"`
    pub path: PathBuf,
    /// Its size.
    ///
    /// `"bytes":1024`
    pub bytes: u64,
    /// SHA-256 of the decrypted file, standard base64 (as `file_sha256`).
    ///
    /// `"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="`
    pub sha256: String,
}
