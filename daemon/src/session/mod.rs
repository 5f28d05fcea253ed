//! The session: the one task that owns the connection, and the handle others use to reach it.

pub mod handle;

pub use handle::{Command, SessionError, SessionHandle};
pub mod actor;
mod backoff;
mod download;

pub use actor::Actor;
pub use backoff::Backoff;
