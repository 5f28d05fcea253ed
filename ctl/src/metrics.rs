//! `wawebctl metrics`: the daemon's counters and gauges, as lines for people or (`--json`) as
//! the `metrics` result.
//!
//! ```text
//! state          connected
//! last pong      1.2 s ago
//! received       text 2, image 1
//! ```

use std::collections::BTreeMap;
use std::io::Write;

use waweb_proto::methods;
use waweb_proto::{MetricsResult, NoParams};

use crate::{Failure, Session, output};

/// The non-zero entries of a map as `key count, …`, or `none`.
fn counts(map: &BTreeMap<String, u64>) -> String {
    let entries: Vec<String> = map
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(key, count)| format!("{key} {count}"))
        .collect();
    if entries.is_empty() {
        "none".to_owned()
    } else {
        entries.join(", ")
    }
}

/// The result as `name value` lines, names padded to one column.
pub fn lines(result: &MetricsResult) -> Vec<(&'static str, String)> {
    let consumers: Vec<String> = result
        .consumers
        .iter()
        .map(|consumer| format!("{} lag {}", consumer.name, consumer.lag))
        .collect();
    vec![
        (
            "state",
            result
                .state
                .map_or_else(|| "unknown".to_owned(), |state| state.to_string()),
        ),
        (
            "last pong",
            result
                .last_pong_age_s
                .map_or_else(|| "-".to_owned(), |age| format!("{age:.1} s ago")),
        ),
        ("received", counts(&result.messages_received)),
        ("sent", counts(&result.messages_sent)),
        ("acks", counts(&result.acks)),
        ("reconnects", counts(&result.reconnects)),
        (
            "journal",
            format!(
                "head {}, {} events, {} bytes on disk",
                result.journal.head, result.journal.events, result.journal.database_bytes
            ),
        ),
        (
            "consumers",
            if consumers.is_empty() {
                "none".to_owned()
            } else {
                consumers.join(", ")
            },
        ),
        ("outbox", result.outbox_depth.to_string()),
        ("subscribers", result.subscribers.to_string()),
        (
            "socket backlog",
            format!(
                "{} bytes unwritten, {} clients cut",
                result.socket_unwritten_bytes, result.socket_clients_cut
            ),
        ),
        ("socket errors", counts(&result.socket_errors)),
        (
            "media",
            format!(
                "{} bytes downloaded, {} uploaded",
                result.media_bytes.downloaded, result.media_bytes.uploaded
            ),
        ),
        (
            "endpoint",
            result
                .listen
                .as_ref()
                .map_or_else(|| "off".to_owned(), |at| format!("http://{at}/metrics")),
        ),
    ]
}

impl Session {
    pub(crate) fn metrics(mut self, out: &mut dyn Write) -> Result<(), Failure> {
        let (raw, result) = self.call::<methods::Metrics>(NoParams)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        for (name, value) in lines(&result) {
            writeln!(out, "{name:<14} {value}").map_err(output)?;
        }
        Ok(())
    }
}
