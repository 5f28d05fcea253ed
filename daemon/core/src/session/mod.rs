//! The session after login, without IO: what every push from the server means.
//!
//! [`liveness`] schedules keepalives and the pong deadline. [`pending`] keeps the requests that wait for the server, with their deadlines. [`push`] maps JSON pushes (`["Msg",{…}]`, `["Cmd",{…}]`, …) and binary `action` nodes to
//! [`push::Push`] outcomes: events to publish, and the few facts the session keeps (battery,
//! phone online, a disconnect order). The daemon's actor feeds it what the websocket delivered
//! and applies what comes out; nothing here awaits, reads a clock or touches a socket.

pub mod liveness;
pub mod pending;
pub mod push;

#[cfg(test)]
mod tests;
