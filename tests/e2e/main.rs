//! End-to-end: the real daemon against the simulator, driven over its socket.

mod support;

mod ctl;
mod files;
mod journal;
mod lifecycle;
mod messaging;
mod outbox;
mod receiving;
mod socket;
mod tls;
