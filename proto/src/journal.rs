//! The journal's side of the protocol (DESIGN.md 6.1): resuming a subscription from a sequence
//! number or a named consumer's cursor, moving cursors, reading the journal without
//! subscribing.
//!
//! Every journaled event carries `seq` (strictly increasing, never reused, consecutive between
//! journaled events) and `at` (unix milliseconds) beside its `type`; `qr` events are never
//! journaled and carry neither.
//!
//! ```json
//! {"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"events":["message"],"consumer":"bot"}}
//! {"jsonrpc":"2.0","id":1,"result":{"events":["message"],"head":1041,"gap":false}}
//! {"jsonrpc":"2.0","method":"event","params":{"type":"message","seq":1037,"at":1600000000123,…}}
//! {"jsonrpc":"2.0","id":2,"method":"commit","params":{"consumer":"bot","seq":1037}}
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::event::{Event, EventType};

/// A consumer's name: 1 to 64 of `a-z`, `0-9`, `_` and `-`.
///
/// `"consumer":"bridge-1"`
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ConsumerName(String);

impl ConsumerName {
    /// The name, checked.
    pub fn new(name: impl Into<String>) -> Result<Self, BadConsumerName> {
        let name = name.into();
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(ConsumerName(name))
        } else {
            Err(BadConsumerName(name.chars().take(80).collect()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConsumerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ConsumerName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ConsumerName::new(name).map_err(serde::de::Error::custom)
    }
}

/// A name that is not a valid [`ConsumerName`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadConsumerName(pub String);

impl fmt::Display for BadConsumerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "consumer names are 1-64 of a-z, 0-9, _ and -, not {:?}",
            self.0
        )
    }
}

impl std::error::Error for BadConsumerName {}

/// The params of `subscribe`.
///
/// `events` absent or empty: every type. `since`: replay every journaled event after that seq
/// first. `consumer`: a durable cursor; without `since` the subscription resumes after it (a
/// new name starts at the head).
///
/// `{"events":["message","ack"],"since":1000,"consumer":"bot"}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeParams {
    /// The event types; `None` (left out) for all.
    ///
    /// `"events":["message"]`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventType>>,
    /// Replay the journal after this seq before the live events.
    ///
    /// `"since":1000`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// Resume (and later `commit`) this named cursor.
    ///
    /// `"consumer":"bot"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<ConsumerName>,
}

impl SubscribeParams {
    /// Every type, live from now on.
    pub fn all() -> Self {
        SubscribeParams::default()
    }

    /// Just these types (an empty list also means every type), live from now on.
    pub fn only(types: impl IntoIterator<Item = EventType>) -> Self {
        SubscribeParams {
            events: Some(types.into_iter().collect()),
            ..SubscribeParams::default()
        }
    }
}

/// The result of `subscribe`.
///
/// `{"events":["state","message"],"head":1041,"gap":false}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeResult {
    /// The subscribed types, in the order of [`EventType::ALL`].
    ///
    /// `"events":["message"]`
    pub events: Vec<EventType>,
    /// The newest seq in the journal when the subscription started (0 when it is empty).
    ///
    /// `"head":1041`
    #[serde(default)]
    pub head: u64,
    /// With `since` or a consumer: whether events after the starting point were already pruned
    /// (the replay then starts at the oldest one kept). Left out otherwise.
    ///
    /// `"gap":false`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<bool>,
}

/// The params of `commit`: move a consumer's cursor (never backwards).
///
/// `{"consumer":"bot","seq":1037}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitParams {
    /// The consumer.
    ///
    /// `"consumer":"bot"`
    pub consumer: ConsumerName,
    /// The last seq it has handled; above the head is `invalid_params`.
    ///
    /// `"seq":1037`
    pub seq: u64,
}

/// A consumer's cursor: the result of `commit`, and one entry of `consumers`.
///
/// `{"name":"bot","seq":1037,"lag":4}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerInfo {
    /// The name.
    ///
    /// `"name":"bot"`
    pub name: ConsumerName,
    /// The last seq it committed (a new consumer starts at the head it saw).
    ///
    /// `"seq":1037`
    pub seq: u64,
    /// How many journaled events came after it: `head - seq`.
    ///
    /// `"lag":4`
    pub lag: u64,
}

/// The result of `consumers`.
///
/// `{"consumers":[{"name":"bot","seq":1037,"lag":4}],"head":1041}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumersResult {
    /// Every consumer, by name.
    pub consumers: Vec<ConsumerInfo>,
    /// The newest seq.
    ///
    /// `"head":1041`
    pub head: u64,
}

/// The most events one `events` call returns.
pub const EVENTS_LIMIT_MAX: u32 = 1000;

/// The params of `events`: read the journal without subscribing.
///
/// `{"since":1000,"until":1100,"types":["message"],"limit":100}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalParams {
    /// Events after this seq (default: from the oldest kept).
    ///
    /// `"since":1000`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// Events up to and including this seq.
    ///
    /// `"until":1100`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<u64>,
    /// Only these types (absent or empty: all).
    ///
    /// `"types":["message","ack"]`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<EventType>>,
    /// At most this many (default 100, at most [`EVENTS_LIMIT_MAX`]).
    ///
    /// `"limit":100`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// The result of `events`: the events in seq order, each as its notification's `params`.
///
/// `{"events":[{"type":"message","seq":1001,"at":1600000000123,…}],"head":1041}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalResult {
    /// The events, oldest first.
    pub events: Vec<Value>,
    /// The newest seq.
    ///
    /// `"head":1041`
    pub head: u64,
}

/// An event as a notification carries it: the event, and its place in the journal.
///
/// `{"type":"ack","id":"3EB0C0FFEE","ack":2,"chat":"49…@s.whatsapp.net","seq":7,"at":1600000000123}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journaled {
    /// The event.
    #[serde(flatten)]
    pub event: Event,
    /// Its sequence number; `None` for events never journaled (`qr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// When it happened, unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
}
