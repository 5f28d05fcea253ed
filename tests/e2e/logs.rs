//! The fields a log layer gets for state changes and messages, through a real session: what
//! tracing-journald turns into STATE=, REASON=, CHAT=, … (docs/DESIGN.md, "Logs and reload").
//! The layer is the process's global subscriber, so it also sees the other tests' sessions:
//! every captured event must pass, which only makes the check stronger.

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::support::Harness;

const CONTACT: &str = "4915100000000@s.whatsapp.net";

/// One event as a layer saw it: its level and its fields in order, `message` first.
#[derive(Debug, Clone)]
struct Captured {
    level: Level,
    fields: Vec<(String, String)>,
}

impl Captured {
    fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|(name, _)| name.as_str()).collect()
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

/// Only the daemon's state-change and message events, so the rest of the suite pays nothing.
fn wanted(metadata: &Metadata<'_>) -> bool {
    let fields = metadata.fields();
    metadata.is_event()
        && metadata.target().starts_with("wawebd")
        && (fields.field("state").is_some() || fields.field("chat").is_some())
}

impl<S: Subscriber> Layer<S> for Capture {
    fn register_callsite(
        &self,
        metadata: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if wanted(metadata) {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted(metadata)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Fields(Vec<(String, String)>);
        impl Visit for Fields {
            fn record_str(&mut self, field: &Field, value: &str) {
                self.0.push((field.name().into(), value.into()));
            }
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0.push((field.name().into(), format!("{value:?}")));
            }
        }
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            fields: fields.0,
        });
    }
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        capture
    })
}

#[tokio::test]
async fn state_changes_and_messages_carry_their_fields_never_the_text() {
    let capture = capture();
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    harness
        .sim_command(json!({"cmd": "send_text", "from": CONTACT, "text": "secret words 4711"}))
        .await;
    let message = client.event("message").await;
    let id = message["id"].as_str().unwrap().to_owned();
    harness.sim_command(json!({"cmd": "drop"})).await;
    let disconnected = client.event("disconnected").await;
    client.event("connected").await;

    let events = capture.0.lock().unwrap().clone();
    for event in &events {
        assert!(
            event
                .fields
                .iter()
                .all(|(_, value)| !value.contains("secret words")),
            "{event:?}"
        );
        if event.get("message") == Some("state changed") {
            let names = event.names();
            assert!(
                names == ["message", "state", "reason"] || names == ["message", "state"],
                "{event:?}"
            );
        }
        if event.get("message") == Some("message") {
            assert_eq!(
                event.names(),
                ["message", "chat", "id", "kind", "from_me", "source"],
                "{event:?}"
            );
            let live = event.get("source") == Some("live");
            assert_eq!(event.level == Level::INFO, live, "{event:?}");
        }
    }
    let ours = events
        .iter()
        .find(|event| event.get("message") == Some("message") && event.get("id") == Some(&id))
        .unwrap_or_else(|| panic!("no message event for {id}"));
    assert_eq!(
        (ours.get("chat"), ours.get("kind"), ours.get("from_me")),
        (Some(CONTACT), Some("text"), Some("false"))
    );
    let reason = disconnected["reason"].as_str().unwrap();
    assert!(
        events
            .iter()
            .any(|event| event.get("message") == Some("state changed")
                && event.get("state") == Some("reconnecting")
                && event.get("reason") == Some(reason)),
        "no reconnecting state with reason {reason}"
    );
}
