//! wawebd: a daemon that keeps one legacy (pre-multi-device) WhatsApp Web session alive.
//!
//! The pure half (no tokio, no files, no sockets) lives in the `waweb_core` crate; this crate is
//! the IO half that drives it: the session actor, the socket server, the session store.

pub mod bus;
pub mod chats;
pub mod config;
pub mod daemon;
pub mod db;
pub mod history;
pub mod http;
pub mod ipc;
pub mod journal;
pub mod media_file;
pub mod messages;
pub mod metrics;
pub mod outbox;
pub mod output;
pub mod session;
pub mod store;
pub mod thumbnail;
pub mod tls;
pub mod transport;
