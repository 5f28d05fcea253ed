//! The result of `metrics`: the daemon's counters and gauges as one JSON object, the same values
//! `wawebd --metrics-listen` serves in the OpenMetrics text format (docs/DESIGN.md, "Metrics").
//!
//! Maps are keyed by the label value (a message kind, an ack level, a reason, an error code);
//! every known key is present, zero or not, so a script can index without checking.
//!
//! ```json
//! {"messages_received":{"text":2,"image":0},"messages_sent":{"text":1},"acks":{"-1":0,"0":1,"1":1,"2":1,"3":0,"4":0,"other":0},"reconnects":{"connection_lost":1},"state":"connected","last_pong_age_s":1.2,"journal":{"head":41,"events":40,"database_bytes":122880},"consumers":[{"name":"bot","lag":4}],"outbox_depth":0,"subscribers":1,"socket_unwritten_bytes":0,"socket_clients_cut":0,"socket_errors":{"not_connected":1},"media_bytes":{"downloaded":1024,"uploaded":0},"listen":"127.0.0.1:9464"}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::journal::ConsumerName;
use crate::status::State;

/// The result of `metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsResult {
    /// Live messages from others, by kind (history batches are not counted).
    ///
    /// `"messages_received":{"text":2}`
    pub messages_received: BTreeMap<String, u64>,
    /// Live messages of this account (sent through the daemon or on the phone), by kind.
    ///
    /// `"messages_sent":{"text":1}`
    pub messages_sent: BTreeMap<String, u64>,
    /// `ack` events by level (`-1` error, `0` queued, `1` server, `2` delivered, `3` read,
    /// `4` played, `other`).
    ///
    /// `"acks":{"1":1,"2":1}`
    pub acks: BTreeMap<String, u64>,
    /// Reconnects by the reason the connection ended.
    ///
    /// `"reconnects":{"connection_lost":1}`
    pub reconnects: BTreeMap<String, u64>,
    /// The session's state; `null` before the first.
    ///
    /// `"state":"connected"`
    pub state: Option<State>,
    /// Seconds since the server last answered a keepalive; `null` when not connected.
    ///
    /// `"last_pong_age_s":1.2`
    pub last_pong_age_s: Option<f64>,
    /// The journal's size.
    pub journal: JournalSize,
    /// Every named consumer and how far it is behind the journal's head.
    ///
    /// `"consumers":[{"name":"bot","lag":4}]`
    pub consumers: Vec<ConsumerLag>,
    /// Messages waiting in the outbox for the server's acknowledgement.
    ///
    /// `"outbox_depth":0`
    pub outbox_depth: u64,
    /// Socket connections subscribed to events.
    ///
    /// `"subscribers":1`
    pub subscribers: u64,
    /// Bytes queued for socket clients and not yet written (replies and events; DESIGN.md 15.1).
    ///
    /// `"socket_unwritten_bytes":0`
    #[serde(default)]
    pub socket_unwritten_bytes: u64,
    /// Socket clients disconnected for not reading their replies while the daemon was over its
    /// backlog bound.
    ///
    /// `"socket_clients_cut":0`
    #[serde(default)]
    pub socket_clients_cut: u64,
    /// Error replies on the socket, by error code (`not_connected`, `invalid_params`, …).
    ///
    /// `"socket_errors":{"invalid_params":1}`
    pub socket_errors: BTreeMap<String, u64>,
    /// Media bytes downloaded (decrypted, written) and uploaded (encrypted, posted).
    pub media_bytes: MediaBytes,
    /// Where the OpenMetrics endpoint listens (the bound address, so port 0 shows the real
    /// port); `null` when it is off.
    ///
    /// `"listen":"127.0.0.1:9464"`
    #[serde(default)]
    pub listen: Option<String>,
}

/// The journal's size in `metrics`.
///
/// `{"head":41,"events":40,"database_bytes":122880}`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalSize {
    /// The newest seq.
    pub head: u64,
    /// Events kept.
    pub events: u64,
    /// The database file (`waweb.db` and its write-ahead log) in bytes.
    pub database_bytes: u64,
}

/// One consumer in `metrics`.
///
/// `{"name":"bot","lag":4}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerLag {
    /// The consumer's name.
    pub name: ConsumerName,
    /// The journal's head minus the consumer's cursor.
    pub lag: u64,
}

/// Media bytes in `metrics`.
///
/// `{"downloaded":1024,"uploaded":0}`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaBytes {
    /// Decrypted bytes written by `media_download`.
    pub downloaded: u64,
    /// Encrypted bytes posted by `send_media`.
    pub uploaded: u64,
}
