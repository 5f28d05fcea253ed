//! The daemon's counters and gauges: one [`prometheus_client`] registry, read by the `metrics`
//! socket method (as JSON) and by `--metrics-listen` (as OpenMetrics text, [`http`]).
//!
//! Counters on the hot path (a message, an ack) are handles made once at start, so counting is
//! one atomic add: no label lookup, no lock. Rare ones (a reconnect, an error reply) go through
//! the label family. Gauges that are cheap to read (the state, the journal, the outbox, lag)
//! are read when someone asks ([`gather`]) instead of being tracked; the text is then encoded
//! from the same snapshot the JSON is, so both always agree.
//!
//! docs/DESIGN.md ("Metrics") has the table of names.

pub mod http;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use waweb_proto::message::{MessageKind, Source};
use waweb_proto::{
    Call, ConsumerLag, Event, JournalSize, MediaBytes, MetricsResult, Reason, State,
};

use crate::bus::Bus;
use crate::session::SessionHandle;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The label values of the message counters: every kind, in the order of [`MessageKind`].
const KINDS: [MessageKind; 9] = MessageKind::ALL;

/// Ack levels with a counter of their own (-1 error to 4 played); any other is `other`.
const ACK_LEVELS: [&str; 7] = ["-1", "0", "1", "2", "3", "4", "other"];

/// How long `gather` waits for the session's status before leaving its values out.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LevelLabel {
    level: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConsumerLabel {
    consumer: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabel {
    direction: String,
}

/// The gauges set from a snapshot just before the text is encoded.
#[derive(Debug, Default)]
struct Gauges {
    state: Family<StateLabel, Gauge>,
    last_pong_age: Gauge<f64, AtomicU64>,
    journal_head: Gauge,
    journal_events: Gauge,
    database_bytes: Gauge,
    consumer_lag: Family<ConsumerLabel, Gauge>,
    outbox: Gauge,
}

impl Gauges {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "state",
            "The session's state: 1 for the current one",
            self.state.clone(),
        );
        registry.register_with_unit(
            "last_pong_age",
            "Time since the server last answered a keepalive (NaN when not connected)",
            Unit::Seconds,
            self.last_pong_age.clone(),
        );
        for (name, help, gauge) in [
            (
                "journal_head",
                "The journal's newest seq",
                &self.journal_head,
            ),
            (
                "journal_events",
                "Events kept in the journal",
                &self.journal_events,
            ),
            (
                "outbox_messages",
                "Messages waiting in the outbox",
                &self.outbox,
            ),
        ] {
            registry.register(name, help, gauge.clone());
        }
        registry.register_with_unit(
            "database",
            "Size of the database file and its write-ahead log",
            Unit::Bytes,
            self.database_bytes.clone(),
        );
        registry.register(
            "consumer_lag_events",
            "The journal's head minus a consumer's cursor",
            self.consumer_lag.clone(),
        );
    }
}

/// The counters, shared by every clone of the [`Bus`] that owns them.
#[derive(Debug)]
pub struct Metrics {
    /// Encoding reads the registry while the gauges are set from one snapshot; the lock keeps
    /// two scrapes from mixing theirs. Never taken on the hot path.
    registry: Mutex<Registry>,
    received: Vec<Counter>,
    sent: Vec<Counter>,
    acks: Vec<Counter>,
    reconnects: Labelled<ReasonLabel>,
    socket_errors: Labelled<CodeLabel>,
    downloaded: Counter,
    uploaded: Counter,
    subscribers: Gauge,
    /// Reply and event bytes queued for socket clients and not yet written (DESIGN.md 15.1).
    unwritten: Gauge,
    /// Socket clients disconnected by the backlog rule for not reading.
    cut: Counter,
    gauges: Gauges,
    listen: OnceLock<SocketAddr>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// One counter per label value, made now so that counting later needs no lookup.
fn counters<L: Clone + std::hash::Hash + Eq>(
    family: &Family<L, Counter>,
    labels: impl IntoIterator<Item = L>,
) -> Vec<Counter> {
    labels
        .into_iter()
        .map(|label| family.get_or_create_owned(&label))
        .collect()
}

impl Metrics {
    /// Every metric registered, at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("waweb");
        let kind_labels = || {
            KINDS.map(|kind| KindLabel {
                kind: kind.as_str().to_owned(),
            })
        };
        let received = Family::<KindLabel, Counter>::default();
        let sent = Family::<KindLabel, Counter>::default();
        let acks = Family::<LevelLabel, Counter>::default();
        let reconnects = Labelled::new(|reason| ReasonLabel { reason });
        let socket_errors = Labelled::new(|code| CodeLabel { code });
        let (reconnect_family, error_family) =
            (reconnects.family.clone(), socket_errors.family.clone());
        let media = Family::<DirectionLabel, Counter>::default();
        let subscribers = Gauge::default();
        let gauges = Gauges::default();
        let metrics = Metrics {
            received: counters(&received, kind_labels()),
            sent: counters(&sent, kind_labels()),
            acks: counters(
                &acks,
                ACK_LEVELS.map(|level| LevelLabel {
                    level: level.to_owned(),
                }),
            ),
            downloaded: media.get_or_create_owned(&DirectionLabel {
                direction: "downloaded".into(),
            }),
            uploaded: media.get_or_create_owned(&DirectionLabel {
                direction: "uploaded".into(),
            }),
            reconnects,
            socket_errors,
            subscribers: subscribers.clone(),
            unwritten: Gauge::default(),
            cut: Counter::default(),
            registry: Mutex::new(Registry::default()),
            gauges,
            listen: OnceLock::new(),
        };
        for (name, help, family) in [
            (
                "messages_received",
                "Live messages from others, by kind",
                received,
            ),
            (
                "messages_sent",
                "Live messages of this account, by kind",
                sent,
            ),
        ] {
            registry.register(name, help, family);
        }
        registry.register("acks", "Ack events, by level", acks);
        registry.register(
            "reconnects",
            "Reconnects, by why the connection ended",
            reconnect_family,
        );
        registry.register(
            "socket_errors",
            "Error replies on the control socket, by code",
            error_family,
        );
        registry.register_with_unit(
            "media",
            "Media bytes downloaded and uploaded",
            Unit::Bytes,
            media,
        );
        registry.register(
            "socket_subscribers",
            "Socket connections subscribed to events",
            subscribers,
        );
        registry.register_with_unit(
            "socket_unwritten",
            "Bytes queued for socket clients and not yet written",
            Unit::Bytes,
            metrics.unwritten.clone(),
        );
        registry.register(
            "socket_clients_cut",
            "Socket clients disconnected for not reading their replies",
            metrics.cut.clone(),
        );
        metrics.gauges.register(&mut registry);
        *metrics
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = registry;
        metrics
    }

    /// Counts a delivered event: messages, acks and reconnects.
    pub fn observe(&self, event: &Event) {
        match event {
            Event::Message(message) if message.source == Source::Live => {
                let index = KINDS
                    .iter()
                    .position(|kind| *kind == message.kind)
                    .unwrap_or(KINDS.len() - 1);
                let counters = if message.from_me {
                    &self.sent
                } else {
                    &self.received
                };
                counters[index].inc();
            }
            Event::Ack { ack, .. } => {
                let index = usize::try_from(ack + 1)
                    .ok()
                    .filter(|index| *index < ACK_LEVELS.len() - 1)
                    .unwrap_or(ACK_LEVELS.len() - 1);
                self.acks[index].inc();
            }
            Event::Disconnected {
                reason,
                retry_in_ms: Some(_),
            } => self.reconnect(reason),
            _ => {}
        }
    }

    fn reconnect(&self, reason: &Reason) {
        self.reconnects.inc(reason.as_str());
    }

    /// Counts an error reply on the socket.
    pub fn socket_error(&self, code: &str) {
        self.socket_errors.inc(code);
    }

    /// Counts media bytes written by a download.
    pub fn downloaded(&self, bytes: u64) {
        self.downloaded.inc_by(bytes);
    }

    /// Counts media bytes posted by an upload.
    pub fn uploaded(&self, bytes: u64) {
        self.uploaded.inc_by(bytes);
    }

    /// A mark held while a socket connection is subscribed.
    pub fn subscribed(&self) -> Subscribed {
        self.subscribers.inc();
        Subscribed(self.subscribers.clone())
    }

    /// The gauge of bytes queued for socket clients and not yet written; the backlog keeps it.
    pub fn unwritten(&self) -> Gauge {
        self.unwritten.clone()
    }

    /// Counts a socket client disconnected for not reading its replies.
    pub fn client_cut(&self) {
        self.cut.inc();
    }

    /// Records where the HTTP endpoint listens (once).
    pub fn set_listen(&self, address: SocketAddr) {
        let _ = self.listen.set(address);
    }

    /// The counters' part of a snapshot; [`gather`] adds the gauges.
    pub fn counted(&self) -> MetricsResult {
        let by_kind = |counters: &[Counter]| {
            KINDS
                .iter()
                .zip(counters)
                .map(|(kind, counter)| (kind.as_str().to_owned(), counter.get()))
                .collect()
        };
        MetricsResult {
            messages_received: by_kind(&self.received),
            messages_sent: by_kind(&self.sent),
            acks: ACK_LEVELS
                .iter()
                .zip(&self.acks)
                .map(|(level, counter)| ((*level).to_owned(), counter.get()))
                .collect(),
            reconnects: self.reconnects.values(),
            socket_errors: self.socket_errors.values(),
            media_bytes: MediaBytes {
                downloaded: self.downloaded.get(),
                uploaded: self.uploaded.get(),
            },
            subscribers: u64::try_from(self.subscribers.get()).unwrap_or(0),
            socket_unwritten_bytes: u64::try_from(self.unwritten.get()).unwrap_or(0),
            socket_clients_cut: self.cut.get(),
            listen: self.listen.get().map(ToString::to_string),
            ..MetricsResult::default()
        }
    }

    /// `snapshot` as OpenMetrics text: the gauges are set from it, then the registry encoded.
    pub fn openmetrics(&self, snapshot: &MetricsResult) -> String {
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        let gauges = &self.gauges;
        for state in State::ALL {
            let label = StateLabel {
                state: state.as_str().to_owned(),
            };
            gauges
                .state
                .get_or_create(&label)
                .set(i64::from(snapshot.state == Some(state)));
        }
        gauges
            .last_pong_age
            .set(snapshot.last_pong_age_s.unwrap_or(f64::NAN));
        gauges.journal_head.set(gauge(snapshot.journal.head));
        gauges.journal_events.set(gauge(snapshot.journal.events));
        gauges
            .database_bytes
            .set(gauge(snapshot.journal.database_bytes));
        gauges.consumer_lag.clear();
        for consumer in &snapshot.consumers {
            let label = ConsumerLabel {
                consumer: consumer.name.as_str().to_owned(),
            };
            gauges
                .consumer_lag
                .get_or_create(&label)
                .set(gauge(consumer.lag));
        }
        gauges.outbox.set(gauge(snapshot.outbox_depth));
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
            // Only a failing writer can fail, and a String never does; still answer something.
            text.clear();
            let _ = writeln!(text, "# EOF");
        }
        text
    }
}

fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A counter family with one label whose values are not known in advance (a reason, an error
/// code): the family for the registry, and the counters made so far for the JSON (the family
/// cannot list them). Counted only on rare paths, so the lock costs nothing that matters.
#[derive(Debug)]
struct Labelled<L> {
    family: Family<L, Counter>,
    made: Mutex<BTreeMap<String, Counter>>,
    label: fn(String) -> L,
}

impl<L: EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static>
    Labelled<L>
{
    fn new(label: fn(String) -> L) -> Self {
        Labelled {
            family: Family::default(),
            made: Mutex::new(BTreeMap::new()),
            label,
        }
    }

    fn inc(&self, value: &str) {
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        made.entry(value.to_owned())
            .or_insert_with(|| {
                self.family
                    .get_or_create_owned(&(self.label)(value.to_owned()))
            })
            .inc();
    }

    fn values(&self) -> BTreeMap<String, u64> {
        let made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        made.iter()
            .map(|(key, counter)| (key.clone(), counter.get()))
            .collect()
    }
}

/// Held while a socket connection is subscribed; dropping it counts the subscriber out.
#[derive(Debug)]
pub struct Subscribed(Gauge);

impl Drop for Subscribed {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Everything `metrics` answers: the counters, and the gauges read now from the bus, the
/// journal and the session. A part that cannot be read (the session busy for
/// [`STATUS_TIMEOUT`], the database failing) is left at its empty value and logged.
pub async fn gather(handle: &SessionHandle, bus: &Bus) -> MetricsResult {
    let mut result = bus.metrics().counted();
    result.state = bus.current_state();
    let status = tokio::time::timeout(STATUS_TIMEOUT, handle.call(Call::Status)).await;
    if let Ok(Ok(status)) = status {
        result.last_pong_age_s = status
            .get("last_pong_ms_ago")
            .and_then(serde_json::Value::as_u64)
            .map(|ms| ms as f64 / 1000.0);
    }
    let outbox = tokio::time::timeout(STATUS_TIMEOUT, handle.call(Call::Outbox)).await;
    if let Ok(Ok(outbox)) = outbox {
        result.outbox_depth = outbox
            .get("messages")
            .and_then(serde_json::Value::as_array)
            .map_or(0, |messages| messages.len() as u64);
    }
    if let Some(journal) = bus.journal() {
        match journal.consumers().await {
            Ok(consumers) => {
                result.consumers = consumers
                    .consumers
                    .into_iter()
                    .map(|consumer| ConsumerLag {
                        name: consumer.name,
                        lag: consumer.lag,
                    })
                    .collect();
            }
            Err(error) => tracing::warn!(%error, "metrics: cannot read the consumers"),
        }
        // Seqs are consecutive and pruning takes the oldest, so the span is the row count.
        let (head, oldest) = (journal.head(), journal.oldest());
        let events = if oldest == 0 {
            0
        } else {
            head.saturating_sub(oldest) + 1
        };
        let path = journal.db().path().to_owned();
        let database_bytes = tokio::task::spawn_blocking(move || database_bytes(&path))
            .await
            .unwrap_or(0);
        result.journal = JournalSize {
            head,
            events,
            database_bytes,
        };
    }
    result
}

/// The database file and its write-ahead log, in bytes (a file that is not there counts 0).
fn database_bytes(path: &std::path::Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            std::fs::metadata(&file).map_or(0, |meta| meta.len())
        })
        .sum()
}

#[cfg(test)]
mod tests;
