//! The session: the one task that owns the connection, and the handle others use to reach it.
//!
//! [`handle`] is what callers hold; [`actor`] is the task and its lifecycle between
//! connections; `online` wires one open connection to its protocol machine; `calls` answers every call, with or without one; `file` writes the
//! session file in order; `backoff` and `download` are the waits and the media fetches; `media_send` and `upload`
//! send files.

pub mod handle;

pub use handle::{Command, SessionError, SessionHandle};
pub mod actor;
mod backoff;
mod calls;
mod chats;
mod compose;
mod download;
mod file;
mod groups;
mod history;
mod media_send;
mod online;
mod picture;
mod profile;
mod query;
mod receipts;
pub mod requests;
mod sending;
mod upload;

pub use actor::Actor;
pub use backoff::Backoff;
