//! The session after login, without IO.
//!
//! [`connection`] is one connection as a state machine: frames, calls and ticks in; frames to
//! send, events, state changes, saves and answers out. It is built from [`liveness`] (keepalives
//! and the pong deadline), [`pending`] (requests waiting for the server, with deadlines) and
//! [`push`] (what a JSON push such as `["Msg",{…}]` or `["Cmd",{…}]`, or a binary `action` node,
//! means). The daemon's actor feeds the machine what the websocket delivered and does what comes
//! out; nothing here awaits, reads a clock or touches a socket.

pub mod actions;
pub mod connection;
pub mod garbage;
pub mod groups;
pub mod history;
pub mod lists;
pub mod liveness;
mod notices;
pub mod pending;
pub mod profile;
pub mod push;

#[cfg(test)]
mod actions_tests;
#[cfg(test)]
mod connection_tests;
#[cfg(test)]
mod tests;
