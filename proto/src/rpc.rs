//! The JSON-RPC 2.0 envelope: requests, responses, notifications and error objects.
//!
//! Only the parts of JSON-RPC 2.0 that waweb uses are modelled: ids are integers or strings,
//! params are an object (or absent), batches are refused by the daemon.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `"jsonrpc":"2.0"` member every line carries.
///
/// It holds no data: it exists so that a line with another version is refused while parsing.
///
/// `"jsonrpc":"2.0"`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TwoPointZero;

impl Serialize for TwoPointZero {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("2.0")
    }
}

impl<'de> Deserialize<'de> for TwoPointZero {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let version = Cow::<str>::deserialize(deserializer)?;
        if version == "2.0" {
            Ok(TwoPointZero)
        } else {
            Err(de::Error::custom(format!(
                "jsonrpc must be \"2.0\", not {version:?}"
            )))
        }
    }
}

/// A request id, chosen by the client and echoed in the reply so replies can come out of order.
///
/// Integers and strings are accepted; the daemon refuses `null`, fractions, booleans and
/// structures as ids (an absent id makes the request a notification instead).
///
/// `"id":7` or `"id":"status-1"`
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    /// `"id":7`
    Number(i64),
    /// `"id":"status-1"`
    String(String),
}

impl Id {
    /// Reads an id the way the daemon does: `Some` for an integer that fits `i64` or a string,
    /// `None` for anything else.
    pub fn from_value(value: &Value) -> Option<Id> {
        match value {
            Value::Number(number) => number.as_i64().map(Id::Number),
            Value::String(text) => Some(Id::String(text.clone())),
            _ => None,
        }
    }
}

impl From<i64> for Id {
    fn from(number: i64) -> Self {
        Id::Number(number)
    }
}

impl From<String> for Id {
    fn from(text: String) -> Self {
        Id::String(text)
    }
}

impl From<&str> for Id {
    fn from(text: &str) -> Self {
        Id::String(text.to_owned())
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Number(number) => write!(f, "{number}"),
            Id::String(text) => write!(f, "{text:?}"),
        }
    }
}

/// One request line from a client.
///
/// Without an `id` it is a notification: the daemon runs it and never answers, not even with an
/// error.
///
/// ```json
/// {"jsonrpc":"2.0","id":1,"method":"send_text","params":{"to":"+49 151 2345-678","text":"hi"}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Always `"2.0"`.
    pub jsonrpc: TwoPointZero,
    /// The id to echo; `None` (left out of the line) for a notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Id>,
    /// The method name, one of [`Call::NAMES`](crate::Call::NAMES).
    pub method: String,
    /// The method's params object; left out for methods that take none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

impl Request {
    /// A request that expects a reply.
    pub fn new(id: impl Into<Id>, method: impl Into<String>, params: Option<Value>) -> Self {
        Request {
            jsonrpc: TwoPointZero,
            id: Some(id.into()),
            method: method.into(),
            params,
        }
    }

    /// A notification: the daemon runs it and sends nothing back.
    pub fn notification(method: impl Into<String>, params: Option<Value>) -> Self {
        Request {
            jsonrpc: TwoPointZero,
            id: None,
            method: method.into(),
            params,
        }
    }
}

/// What a request produced: the method's result object, or an error object.
pub type Reply = Result<Value, RpcError>;

/// One reply line from the daemon.
///
/// Exactly one of `result` and `error` is present. `id` is the request's id, or `null` when the
/// request could not be read far enough to find it (a parse error, a line over 1 MiB, a batch).
///
/// ```json
/// {"jsonrpc":"2.0","id":1,"result":{"id":"3EB0C0FFEE","status":200,"t":1600000000}}
/// {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"not JSON: expected value at line 1 column 1","data":{"kind":"parse_error"}}}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request's id; `None` is written as `"id":null`.
    pub id: Option<Id>,
    /// The `result` member, or the `error` member.
    pub reply: Reply,
}

impl Response {
    /// A successful reply.
    pub fn ok(id: Option<Id>, result: Value) -> Self {
        Response {
            id,
            reply: Ok(result),
        }
    }

    /// An error reply.
    pub fn error(id: Option<Id>, error: RpcError) -> Self {
        Response {
            id,
            reply: Err(error),
        }
    }
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("jsonrpc", &TwoPointZero)?;
        map.serialize_entry("id", &self.id)?;
        match &self.reply {
            Ok(result) => map.serialize_entry("result", result)?,
            Err(error) => map.serialize_entry("error", error)?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read as a map first: `"result":null` is a valid result and must not be confused with
        // an absent `result`, which a derived `Option` field would do.
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        let version = map
            .remove("jsonrpc")
            .ok_or_else(|| de::Error::missing_field("jsonrpc"))?;
        TwoPointZero::deserialize(version).map_err(de::Error::custom)?;
        let id = match map.remove("id") {
            None => return Err(de::Error::missing_field("id")),
            Some(Value::Null) => None,
            Some(value) => Some(Id::deserialize(value).map_err(de::Error::custom)?),
        };
        let reply = match (map.remove("result"), map.remove("error")) {
            (Some(result), None) => Ok(result),
            (None, Some(error)) => Err(RpcError::deserialize(error).map_err(de::Error::custom)?),
            (Some(_), Some(_)) => {
                return Err(de::Error::custom(
                    "a response has both `result` and `error`",
                ));
            }
            (None, None) => {
                return Err(de::Error::custom(
                    "a response has neither `result` nor `error`",
                ));
            }
        };
        Ok(Response { id, reply })
    }
}

/// A line without an id sent by the daemon; waweb's only one is `event`.
///
/// `P` is the params type: [`Value`] when reading any notification, `&Event` when the daemon
/// writes one without first turning the event into a [`Value`].
///
/// ```json
/// {"jsonrpc":"2.0","method":"event","params":{"type":"state","state":"connected"}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification<P = Value> {
    /// Always `"2.0"`.
    pub jsonrpc: TwoPointZero,
    /// `"event"` for every notification the daemon sends today.
    pub method: Cow<'static, str>,
    /// For `event`, the event object with its `type`.
    pub params: P,
}

/// The method name of event notifications: `"method":"event"`.
pub const EVENT_METHOD: &str = "event";

impl<'a> Notification<&'a crate::Event> {
    /// Wraps an event for writing, borrowing it so nothing is copied.
    pub fn event(event: &'a crate::Event) -> Self {
        Notification {
            jsonrpc: TwoPointZero,
            method: Cow::Borrowed(EVENT_METHOD),
            params: event,
        }
    }
}

/// The JSON-RPC error object of a failed request.
///
/// `data.kind` names the error for scripts; `code` follows JSON-RPC (and is determined by the
/// kind); `message` is for humans and may change between releases. `data.status` is present for
/// `server_error` only: the status the WhatsApp server answered with.
///
/// ```json
/// {"code":-32004,"message":"the server answered 404","data":{"kind":"server_error","status":404}}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcError {
    /// The JSON-RPC error code, for example `-32001`.
    pub code: i64,
    /// A one-line human explanation.
    pub message: String,
    /// The machine-readable details; always written by wawebd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<ErrorData>,
}

/// `text` cut to at most `max` bytes on a character boundary, ending in `…` when cut.
pub(crate) fn bounded(mut text: String, max: usize) -> String {
    const ELLIPSIS: &str = "…";
    if text.len() <= max {
        return text;
    }
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(ELLIPSIS);
    text
}

impl RpcError {
    /// The longest `message` an error carries, in bytes.
    pub const MAX_MESSAGE: usize = 2048;

    /// An error of `kind`, with the code that kind has.
    ///
    /// ```
    /// use waweb_proto::{ErrorKind, RpcError};
    /// let error = RpcError::new(ErrorKind::NotLoggedIn, "not logged in");
    /// assert_eq!(error.code, -32001);
    /// ```
    ///
    /// A message longer than [`RpcError::MAX_MESSAGE`] bytes is cut there (with `…`): messages
    /// often quote the request (a method name, a value serde refused), and a client sending
    /// megabyte lines must not get megabytes back for each.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RpcError {
            code: kind.code(),
            message: bounded(message.into(), RpcError::MAX_MESSAGE),
            data: Some(ErrorData {
                kind,
                status: None,
                id: None,
                queued: None,
            }),
        }
    }

    /// A send's `timeout` (-32005): the server has not acknowledged message `id` yet; it stays
    /// queued.
    pub fn queued_timeout(id: impl Into<String>, message: impl Into<String>) -> Self {
        RpcError {
            code: ErrorKind::Timeout.code(),
            message: message.into(),
            data: Some(ErrorData {
                kind: ErrorKind::Timeout,
                status: None,
                id: Some(id.into()),
                queued: Some(true),
            }),
        }
    }

    /// A `server_error` (-32004) carrying the server's status.
    pub fn server_error(status: u16, message: impl Into<String>) -> Self {
        RpcError {
            code: ErrorKind::ServerError.code(),
            message: message.into(),
            data: Some(ErrorData {
                kind: ErrorKind::ServerError,
                status: Some(status),
                id: None,
                queued: None,
            }),
        }
    }

    /// The error's kind: `data.kind` when present, else derived from the code (so errors from
    /// other JSON-RPC peers still classify).
    pub fn kind(&self) -> ErrorKind {
        match &self.data {
            Some(data) if data.kind != ErrorKind::Unknown => data.kind,
            _ => ErrorKind::from_code(self.code),
        }
    }

    /// `data.status` of a `server_error`.
    pub fn status(&self) -> Option<u16> {
        self.data.as_ref().and_then(|data| data.status)
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RpcError {}

/// The `data` member of an [`RpcError`].
///
/// `"data":{"kind":"server_error","status":404}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    /// The snake_case name scripts match on.
    ///
    /// `"kind":"not_logged_in"`
    #[serde(default)]
    pub kind: ErrorKind,
    /// The server's status, for `server_error` only; left out otherwise.
    ///
    /// `"status":404`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// For a send's `timeout`: the message's id; left out otherwise.
    ///
    /// `"id":"3EB0C0FFEE"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For a send's `timeout`: true, the message is still queued and will go out; left out
    /// otherwise.
    ///
    /// `"queued":true`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued: Option<bool>,
}

/// What went wrong, as `data.kind` names it.
///
/// Several kinds share code -32600 (the request as a whole is unacceptable); the kind tells them
/// apart. The domain kinds (-32001 to -32009) are what a session can answer.
///
/// `"kind":"line_too_long"`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// -32700 `parse_error`: the line is not JSON (or not UTF-8). Replied with `"id":null`.
    ParseError,
    /// -32600 `invalid_request`: JSON, but not a request object (no `method`, a bad `id`, a
    /// `jsonrpc` other than `"2.0"`).
    InvalidRequest,
    /// -32600 `line_too_long`: the line was over 1 MiB; it was skipped without being read into
    /// memory. Replied with `"id":null`; the connection stays usable.
    LineTooLong,
    /// -32600 `batch_unsupported`: the line was a JSON array (a JSON-RPC batch). Send the
    /// requests as separate lines instead; they run concurrently anyway.
    BatchUnsupported,
    /// -32600 `permission_denied`: the connecting process belongs to another user; written once
    /// before the daemon closes the connection.
    PermissionDenied,
    /// -32601 `method_not_found`: no such method (an older daemon, or a typo).
    MethodNotFound,
    /// -32602 `invalid_params`: the params do not fit the method (missing, wrong type, an
    /// unknown event type, a recipient that is no phone number or JID, …).
    InvalidParams,
    /// -32603 `internal_error`: the daemon cannot serve the request, usually because it is
    /// shutting down.
    InternalError,
    /// -32001 `not_logged_in`: there is no session; run `login` first.
    NotLoggedIn,
    /// -32002 `already_logged_in`: `login` while connected or while a stored session exists.
    AlreadyLoggedIn,
    /// -32003 `not_connected`: logged in, but the connection is down right now (reconnecting).
    NotConnected,
    /// -32004 `server_error`: the WhatsApp server answered with a failure status, in
    /// `data.status`.
    ServerError,
    /// -32005 `timeout`: the server did not answer in time.
    Timeout,
    /// -32006 `integrity`: a MAC or hash did not match (a tampered or corrupt media file).
    Integrity,
    /// -32007 `io`: reading or writing a local file, or the media download itself, failed.
    Io,
    /// -32008 `media_expired`: the media host no longer has the file (HTTP 404/410).
    MediaExpired,
    /// -32009 `not_found`: the message (or chat) named is not in the daemon's store.
    NotFound,
    /// -32000 `too_many_connections`: the daemon already serves as many clients as it allows
    /// (`max_connections`); written once before it closes the connection. Close an idle client
    /// and connect again.
    TooManyConnections,
    /// Any kind this version does not know (from a newer daemon); read only, written as
    /// `"unknown"`.
    #[default]
    #[serde(other)]
    Unknown,
}

impl ErrorKind {
    /// The JSON-RPC code of this kind.
    pub fn code(self) -> i64 {
        match self {
            ErrorKind::ParseError => -32700,
            ErrorKind::InvalidRequest
            | ErrorKind::LineTooLong
            | ErrorKind::BatchUnsupported
            | ErrorKind::PermissionDenied => -32600,
            ErrorKind::MethodNotFound => -32601,
            ErrorKind::InvalidParams => -32602,
            ErrorKind::InternalError | ErrorKind::Unknown => -32603,
            ErrorKind::NotLoggedIn => -32001,
            ErrorKind::AlreadyLoggedIn => -32002,
            ErrorKind::NotConnected => -32003,
            ErrorKind::ServerError => -32004,
            ErrorKind::Timeout => -32005,
            ErrorKind::Integrity => -32006,
            ErrorKind::Io => -32007,
            ErrorKind::MediaExpired => -32008,
            ErrorKind::NotFound => -32009,
            ErrorKind::TooManyConnections => -32000,
        }
    }

    /// The general kind of a code, for replies without `data.kind`.
    pub fn from_code(code: i64) -> ErrorKind {
        match code {
            -32700 => ErrorKind::ParseError,
            -32600 => ErrorKind::InvalidRequest,
            -32601 => ErrorKind::MethodNotFound,
            -32602 => ErrorKind::InvalidParams,
            -32603 => ErrorKind::InternalError,
            -32001 => ErrorKind::NotLoggedIn,
            -32002 => ErrorKind::AlreadyLoggedIn,
            -32003 => ErrorKind::NotConnected,
            -32004 => ErrorKind::ServerError,
            -32005 => ErrorKind::Timeout,
            -32006 => ErrorKind::Integrity,
            -32007 => ErrorKind::Io,
            -32008 => ErrorKind::MediaExpired,
            -32009 => ErrorKind::NotFound,
            -32000 => ErrorKind::TooManyConnections,
            _ => ErrorKind::Unknown,
        }
    }

    /// The snake_case name, as in `data.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ParseError => "parse_error",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::LineTooLong => "line_too_long",
            ErrorKind::BatchUnsupported => "batch_unsupported",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::MethodNotFound => "method_not_found",
            ErrorKind::InvalidParams => "invalid_params",
            ErrorKind::InternalError => "internal_error",
            ErrorKind::NotLoggedIn => "not_logged_in",
            ErrorKind::AlreadyLoggedIn => "already_logged_in",
            ErrorKind::NotConnected => "not_connected",
            ErrorKind::ServerError => "server_error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Io => "io",
            ErrorKind::MediaExpired => "media_expired",
            ErrorKind::NotFound => "not_found",
            ErrorKind::TooManyConnections => "too_many_connections",
            ErrorKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
