//! wawebd: a daemon that keeps one legacy (pre-multi-device) WhatsApp Web session alive.
//!
//! The pure half (no tokio, no files, no sockets) turns bytes into meaning and back:
//! [`crypto`], [`binary`], [`wire`], [`message`] and [`media`]. The IO half drives it.

pub mod crypto;
pub mod hex;
pub mod binary;
pub mod message;
pub mod wire;
