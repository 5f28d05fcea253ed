use waweb_proto::message::{Message, MessageKind, Source};
use waweb_proto::{ConsumerLag, ConsumerName, Event, JournalSize, Reason, State};

use super::Metrics;

fn message(kind: MessageKind, from_me: bool, source: Source) -> Event {
    Event::Message(Message {
        from_me,
        source,
        ..Message::new("3EB0", "4915100000001@s.whatsapp.net", kind)
    })
}

fn ack(level: i64) -> Event {
    Event::Ack {
        id: "3EB0".into(),
        ack: level,
        chat: "4915100000001@s.whatsapp.net".into(),
        error: None,
    }
}

#[test]
fn live_messages_are_counted_by_kind_and_direction() {
    let metrics = Metrics::new();
    metrics.observe(&message(MessageKind::Text, false, Source::Live));
    metrics.observe(&message(MessageKind::Text, false, Source::Live));
    metrics.observe(&message(MessageKind::Image, true, Source::Live));
    // History batches, updates and statuses are not traffic.
    for source in [Source::History, Source::Update, Source::Status] {
        metrics.observe(&message(MessageKind::Text, false, source));
    }
    let counted = metrics.counted();
    assert_eq!(counted.messages_received["text"], 2);
    assert_eq!(counted.messages_received["image"], 0);
    assert_eq!(counted.messages_sent["image"], 1);
    assert_eq!(counted.messages_sent["text"], 0);
    // Every kind is listed, zero or not.
    assert_eq!(counted.messages_received.len(), 9);
    assert!(counted.messages_received.contains_key("other"));
}

#[test]
fn acks_by_level_and_reconnects_by_reason() {
    let metrics = Metrics::new();
    for level in [-1, 1, 1, 3, 4, 7, -5] {
        metrics.observe(&ack(level));
    }
    metrics.observe(&Event::Disconnected {
        reason: Reason::ConnectionLost,
        retry_in_ms: Some(1000),
    });
    metrics.observe(&Event::Disconnected {
        reason: Reason::PongTimeout,
        retry_in_ms: Some(1000),
    });
    // An end without a retry is no reconnect.
    metrics.observe(&Event::Disconnected {
        reason: Reason::Replaced,
        retry_in_ms: None,
    });
    let counted = metrics.counted();
    let acks: Vec<(&str, u64)> = counted
        .acks
        .iter()
        .map(|(level, count)| (level.as_str(), *count))
        .collect();
    assert_eq!(
        acks,
        [
            ("-1", 1),
            ("0", 0),
            ("1", 2),
            ("2", 0),
            ("3", 1),
            ("4", 1),
            ("other", 2)
        ]
    );
    assert_eq!(counted.reconnects.len(), 2);
    assert_eq!(counted.reconnects["connection_lost"], 1);
    assert_eq!(counted.reconnects["pong_timeout"], 1);
}

#[test]
fn errors_media_and_subscribers() {
    let metrics = Metrics::new();
    metrics.socket_error("invalid_params");
    metrics.socket_error("invalid_params");
    metrics.socket_error("not_connected");
    metrics.downloaded(1024);
    metrics.uploaded(10);
    metrics.uploaded(5);
    let first = metrics.subscribed();
    let second = metrics.subscribed();
    assert_eq!(metrics.counted().subscribers, 2);
    drop(first);
    let counted = metrics.counted();
    assert_eq!(counted.subscribers, 1);
    assert_eq!(counted.socket_errors["invalid_params"], 2);
    assert_eq!(counted.socket_errors["not_connected"], 1);
    assert_eq!(
        (counted.media_bytes.downloaded, counted.media_bytes.uploaded),
        (1024, 15)
    );
    drop(second);
    assert_eq!(metrics.counted().subscribers, 0);
    assert_eq!(metrics.counted().listen, None);
    metrics.set_listen("127.0.0.1:9464".parse().unwrap());
    assert_eq!(metrics.counted().listen.as_deref(), Some("127.0.0.1:9464"));
}

#[test]
fn the_text_follows_openmetrics_names_and_the_snapshot() {
    let metrics = Metrics::new();
    metrics.observe(&message(MessageKind::Text, false, Source::Live));
    metrics.observe(&ack(2));
    metrics.socket_error("not_found");
    metrics.downloaded(7);
    metrics.unwritten().inc_by(300);
    metrics.unwritten().dec_by(100);
    metrics.client_cut();
    let mut snapshot = metrics.counted();
    snapshot.state = Some(State::Connected);
    snapshot.last_pong_age_s = Some(1.5);
    snapshot.journal = JournalSize {
        head: 41,
        events: 40,
        database_bytes: 4096,
    };
    snapshot.consumers = vec![ConsumerLag {
        name: ConsumerName::new("bot").unwrap(),
        lag: 4,
    }];
    snapshot.outbox_depth = 3;
    assert_eq!(
        (snapshot.socket_unwritten_bytes, snapshot.socket_clients_cut),
        (200, 1)
    );
    let text = metrics.openmetrics(&snapshot);
    for line in [
        "# TYPE waweb_messages_received counter",
        "waweb_messages_received_total{kind=\"text\"} 1",
        "waweb_messages_received_total{kind=\"image\"} 0",
        "waweb_acks_total{level=\"2\"} 1",
        "waweb_socket_errors_total{code=\"not_found\"} 1",
        "# UNIT waweb_media_bytes bytes",
        "waweb_media_bytes_total{direction=\"downloaded\"} 7",
        "waweb_state{state=\"connected\"} 1",
        "waweb_state{state=\"reconnecting\"} 0",
        "waweb_last_pong_age_seconds 1.5",
        "waweb_journal_head 41",
        "waweb_journal_events 40",
        "waweb_database_bytes 4096",
        "waweb_consumer_lag_events{consumer=\"bot\"} 4",
        "waweb_outbox_messages 3",
        "waweb_socket_subscribers 0",
        "# UNIT waweb_socket_unwritten_bytes bytes",
        "waweb_socket_unwritten_bytes 200",
        "# TYPE waweb_socket_clients_cut counter",
        "waweb_socket_clients_cut_total 1",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
    assert!(text.ends_with("# EOF\n"), "{text}");

    // A consumer that is gone disappears; an unknown pong age is NaN, as OpenMetrics has it.
    snapshot.consumers.clear();
    snapshot.last_pong_age_s = None;
    let text = metrics.openmetrics(&snapshot);
    assert!(!text.contains("consumer=\"bot\""), "{text}");
    assert!(text.contains("waweb_last_pong_age_seconds NaN"), "{text}");
}
