//! End-to-end: the real daemon against the simulator, driven over its socket.

mod support;

mod accounts;
mod chats;
mod compose;
mod ctl;
mod demo;
mod files;
mod groups;
mod history;
mod journal;
mod lifecycle;
mod logs;
mod media_send;
mod messaging;
mod metrics;
mod outbox;
mod profile;
mod receiving;
mod socket;
mod tls;
