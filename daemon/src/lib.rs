//! wawebd: a daemon that keeps one legacy (pre-multi-device) WhatsApp Web session alive.
//!
//! The pure half (no tokio, no files, no sockets) turns bytes into meaning and back:
//! [`crypto`], [`binary`], [`wire`], [`message`] and [`media`]. The IO half drives it.

pub mod binary;
pub mod bus;
pub mod config;
pub mod crypto;
pub mod daemon;
pub mod hex;
pub mod http;
pub mod ipc;
pub mod login;
pub mod media;
pub mod media_file;
pub mod message;
pub mod output;
pub mod session;
pub mod sim;
pub mod store;
pub mod tls;
pub mod transport;
pub mod wire;
