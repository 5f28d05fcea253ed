//! The socket protocol of `wawebd`: what goes over its Unix socket, and a small client for it.
//!
//! `wawebd` keeps one WhatsApp Web session alive; everything else (`wawebctl`, scripts, bots)
//! talks to it through a Unix socket with [JSON-RPC 2.0], one JSON object per line.
//!
//! # Connecting
//!
//! The socket is at [`default_socket_path`]: `$WAWEBD_SOCKET` if set, otherwise
//! `$XDG_RUNTIME_DIR/wawebd/wawebd.sock`, or `$XDG_RUNTIME_DIR/wawebd/<name>.sock` for the
//! account `$WAWEBD_ACCOUNT` names ([`AccountName`], [`account_socket_path`]). It is mode 0600 in a 0700 directory, and the daemon
//! also checks the peer's credentials: only the daemon's own user (and root) may connect. A
//! connection from anyone else gets one `permission_denied` error line and is closed.
//!
//! ```sh
//! socat - UNIX-CONNECT:$XDG_RUNTIME_DIR/wawebd/wawebd.sock
//! ```
//!
//! # Requests and replies
//!
//! Write a request object followed by `\n`. Every request carries an `id` (an integer or a
//! string), and its reply carries the same `id`:
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"status"}
//! {"jsonrpc":"2.0","id":1,"result":{"state":"connected","me":{"wid":"4915100000000@s.whatsapp.net","pushname":"Ada","platform":"android","phone":{}},"server_url":"wss://web.whatsapp.com/ws","session_stored":true,"session_error":null,"last_pong_ms_ago":1200,"phone_online":true,"battery":null,"reconnects":0}}
//! ```
//!
//! Requests on one connection run concurrently, so **replies may come out of order**: a slow
//! `query` does not hold up a `status` sent after it. Match replies by `id`. A request without
//! `id` is a notification: the daemon runs it and never answers, not even with an error.
//!
//! The methods, their params and results are in [`methods`], one [`Call`] variant each:
//! `version`, `status`, `login`, `logout`, `subscribe`, `unsubscribe`, `send_text`, `query` and
//! `media_download`.
//!
//! # Errors
//!
//! A failed request gets an error object with `code`, `message` (for people) and `data.kind`
//! (for scripts; see [`ErrorKind`]):
//!
//! ```json
//! {"jsonrpc":"2.0","id":2,"error":{"code":-32001,"message":"not logged in; run login first","data":{"kind":"not_logged_in"}}}
//! ```
//!
//! A line that cannot be read as a request is answered with `"id":null`: not JSON (-32700
//! `parse_error`), a JSON array (-32600 `batch_unsupported`: batches are not supported, send
//! separate lines), not a request object (-32600 `invalid_request`), or longer than 1 MiB
//! (-32600 `line_too_long`). None of these closes the connection; an over-long line is skipped
//! up to its `\n` without the daemon holding it in memory.
//!
//! # Events
//!
//! After `subscribe`, the connection also carries event notifications, interleaved with replies:
//!
//! ```json
//! {"jsonrpc":"2.0","id":3,"method":"subscribe","params":{"events":["state","qr","connected"]}}
//! {"jsonrpc":"2.0","id":3,"result":{"events":["state","qr","connected"]}}
//! {"jsonrpc":"2.0","method":"event","params":{"type":"state","state":"logged_out"}}
//! {"jsonrpc":"2.0","id":4,"method":"login"}
//! {"jsonrpc":"2.0","method":"event","params":{"type":"state","state":"connecting"}}
//! {"jsonrpc":"2.0","id":4,"result":{"state":"pairing"}}
//! {"jsonrpc":"2.0","method":"event","params":{"type":"qr","content":"1@Ab,Cd=,Ef==","ref":"1@Ab","ttl_ms":20000,"attempt":1,"attempts_max":6}}
//! ```
//!
//! A subscription starts with a snapshot, the current `state` event (when `state` is in the
//! filter), and continues with every event as it happens. Events are not stored for later:
//! what happens while nobody is subscribed is not replayed. A second `subscribe` replaces the
//! filter; `unsubscribe` removes types, or all of them. The types are in [`EventType`], the
//! payloads in [`Event`].
//!
//! Each subscriber has a bounded queue. A client that does not read its events fast enough is
//! not allowed to grow the daemon's memory: it gets one last `error` event with kind `lagged`,
//! then the daemon closes the connection. Other clients are not affected. Reconnect, ask
//! `status` to resynchronise, and subscribe again.
//!
//! # Compatibility
//!
//! [`PROTOCOL_VERSION`] (also in the `version` result) changes only when something is renamed or
//! removed. New methods, new event types and new fields may appear without a version change, so
//! readers should ignore what they do not know. A result that does not parse usually means the
//! daemon is of another version: restart it after upgrading.
//!
//! # This crate
//!
//! The wire types ([`Request`], [`Response`], [`Notification`], [`RpcError`]), the methods
//! ([`Call`] and the typed [`methods`]), the events ([`Event`]), and a blocking [`Client`]. It
//! depends on serde only, so any program can use it.
//!
//! [JSON-RPC 2.0]: https://www.jsonrpc.org/specification

#![warn(missing_docs)]

pub mod chats;
pub mod client;
pub mod compose;
pub mod event;
pub mod group;
pub mod history;
pub mod journal;
pub mod message;
pub mod methods;
pub mod metrics;
pub mod notice;
pub mod profile;
pub mod receipt;
pub mod rpc;
pub mod send;
pub mod send_media;
pub mod status;

#[cfg(test)]
mod tests;

pub use chats::{
    CHATS_LIMIT_MAX, ChatAction, ChatEntry, ChatModifyParams, ChatsParams, ChatsResult,
    ContactsParams, ContactsResult,
};
pub use client::{
    ACCOUNT_ENV, ACCOUNT_NAME_MAX, AccountName, AccountNameError, Client, ClientError,
    DEFAULT_SOCKET_FILE, Events, SOCKET_DIR, SOCKET_ENV, SocketPathError, account_socket_path,
    account_socket_path_from, default_socket_path, socket_dir_from, socket_path_from,
};
pub use compose::{
    CONTACTS_MAX, ContactCard, ForwardParams, MessageRef, RevokeParams, SendContactParams,
    SendLocationParams,
};
pub use event::{Event, EventType, LAGGED, Reason};
pub use journal::{
    CommitParams, ConsumerInfo, ConsumerName, ConsumersResult, EVENTS_LIMIT_MAX, JournalParams,
    JournalResult, Journaled, SubscribeParams, SubscribeResult,
};
pub use methods::{
    Battery, Call, EventsParams, EventsResult, LoginResult, LogoutResult, Me, MediaDownloadParams,
    MediaDownloadResult, Method, NoParams, QueryParams, QueryResult, State, StatusResult,
    VersionResult,
};
pub use metrics::{ConsumerLag, JournalSize, MediaBytes, MetricsResult};
pub use profile::{
    ABOUT_MAX, AboutParams, AboutResult, BlockParams, BlocklistResult, ON_WHATSAPP_MAX, OnWhatsapp,
    OnWhatsappParams, OnWhatsappResult, PUSH_NAME_MAX, ProfilePictureParams, ProfilePictureResult,
    SetAboutParams, SetProfilePictureParams, SetPushNameParams,
};
pub use receipt::{
    ChatState, EmptyResult, MarkPlayedParams, MarkReadParams, MarkUnreadParams, Presence,
    ReceiptResult, SetPresenceParams, SetTypingParams, SubscribePresenceParams,
};
pub use rpc::{
    EVENT_METHOD, ErrorData, ErrorKind, Id, Notification, Reply, Request, Response, RpcError,
    TwoPointZero,
};
pub use send::{
    IDEMPOTENCY_KEY_MAX, OutboxCancelParams, OutboxCancelResult, OutboxEntry, OutboxResult,
    SendCommon, SendStatus, SendTextParams, SendTextResult, SendWait,
};
pub use send_media::{SendMediaKind, SendMediaParams, SendMediaResult};

/// The version of this protocol; the `protocol` field of the `version` result.
///
/// It changes only when something is renamed or removed; additions keep it.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest request line the daemon reads, in bytes without the `\n`: 1 MiB. A longer line
/// is answered with `line_too_long` and skipped.
pub const MAX_LINE: usize = 1 << 20;
