//! Socket clients that ask for bulk pages and never read them (issue 13): the daemon-wide
//! bound on unwritten replies (DESIGN.md 15.1) keeps its memory flat while a well-behaved
//! client is answered at once, and a client stuck over its share is disconnected.

mod support;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Client, DEADLINE, paired, wait_for};

/// Journaled messages of about this many bytes each, so one `events` page is about 1 MiB.
const EVENTS: u64 = 3000;
const TEXT_BYTES: u64 = 1000;
/// The attackers, each sending this many `events` pages of the largest size without reading.
const CLIENTS: usize = 8;
const REQUESTS: u64 = 200;
/// How long the attack is watched (less than the 10 s after which stuck clients are cut);
/// `HOSTILE_WATCH_SECS` makes it longer, for measuring.
fn watch() -> Duration {
    let secs = std::env::var("HOSTILE_WATCH_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok());
    Duration::from_secs(secs.unwrap_or(6))
}
const RSS_MAX_KIB: u64 = 150 << 10;
const STATUS_MAX: Duration = Duration::from_millis(200);

#[test]
fn clients_that_never_read_bulk_replies_hold_bounded_memory_and_are_cut() {
    let (mut sim, daemon, mut client) = paired();
    sim.submit(&json!({"cmd": "flood", "count": EVENTS, "rate": 100_000, "bytes": TEXT_BYTES}));
    assert_eq!(sim.answers("flood", 1), 1);
    client.call(3, "unsubscribe", json!({})).unwrap();
    let mut id = 10;
    wait_for("the flood is journaled", || {
        id += 1;
        let page = client
            .call(id, "events", json!({"since": 0, "limit": 1}))
            .unwrap();
        page["head"].as_u64().unwrap() >= EVENTS
    });
    let idle = daemon.rss_kib();

    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "events",
        "params": {"since": 0, "limit": 1000}});
    let burst = format!("{request}\n").repeat(REQUESTS as usize);
    let attackers: Vec<UnixStream> = (0..CLIENTS)
        .map(|_| {
            let mut stream = UnixStream::connect(&daemon.socket).unwrap();
            stream.set_write_timeout(Some(DEADLINE)).unwrap();
            stream.write_all(burst.as_bytes()).unwrap();
            stream
        })
        .collect();

    // A well-behaved client asks for `status` all along, in its own thread: a call that never
    // comes back (the client's read deadline) fails that thread, not the RSS sampling here.
    let stop = Arc::new(AtomicBool::new(false));
    let prober = std::thread::spawn({
        let (stop, socket) = (stop.clone(), daemon.socket.clone());
        move || {
            let mut client = Client::connect(&socket);
            let mut slowest = Duration::ZERO;
            for id in 100.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let asked = Instant::now();
                let status = client.call(id, "status", json!({})).unwrap();
                slowest = slowest.max(asked.elapsed());
                assert_eq!(status["state"], "connected", "{status}");
                std::thread::sleep(Duration::from_millis(50));
            }
            slowest
        }
    });
    let started = Instant::now();
    let mut rss_max = 0;
    while started.elapsed() < watch() {
        rss_max = rss_max.max(daemon.rss_kib());
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let slowest = prober
        .join()
        .map_err(|_| "a status call got no answer in 20 s");
    eprintln!(
        "idle {} MiB; {CLIENTS} clients x {REQUESTS} unread pages for {:?}: VmRSS max {} MiB, \
         slowest status {slowest:?}",
        idle >> 10,
        watch(),
        rss_max >> 10
    );
    assert!(rss_max < RSS_MAX_KIB, "VmRSS {} MiB", rss_max >> 10);
    let slowest = slowest.unwrap();
    assert!(slowest < STATUS_MAX, "a status took {slowest:?}");

    // Those keeping the total over the bound are cut, one warning line each; one that is cut
    // lets the others' pages be built again, so they follow one by one.
    let cut = |log: &str| {
        log.matches("disconnecting a client that does not read")
            .count()
    };
    let deadline = Instant::now() + DEADLINE;
    while cut(&daemon.log()) == 0 {
        assert!(Instant::now() < deadline, "nobody cut: {}", daemon.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = daemon.log();
    assert!(cut(&log) <= CLIENTS, "{log}");
    for warning in log.lines().filter(|line| cut(line) > 0) {
        assert!(!warning.contains("events"), "a method echoed: {warning}");
    }
    drop(attackers);
    // A well-behaved bulk reader is served in full.
    let page = client
        .call(id + 1, "events", json!({"since": 0, "limit": 1000}))
        .unwrap();
    assert_eq!(page["events"].as_array().unwrap().len(), 1000);
}

/// Odd requests on the real daemon: each gets its error, and the connection goes on.
#[test]
fn deep_nesting_and_odd_ids_get_errors_and_the_connection_goes_on() {
    let sim = support::Sim::start();
    let daemon = support::Daemon::start(&sim.ws_url);
    let mut client = Client::connect(&daemon.socket);
    let depth = 100_000;
    let deep = format!("{}{}\n", "[".repeat(depth), "]".repeat(depth));
    let nested_params = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"status","params":{}{}}}"#,
        r#"{"a":"#.repeat(depth),
        "}".repeat(depth)
    );
    let cases: [(&str, &str, i64, Value); 8] = [
        ("100,000 deep array", deep.trim_end(), -32700, Value::Null),
        ("100,000 deep params", &nested_params, -32700, Value::Null),
        (
            "object id",
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"status"}"#,
            -32600,
            Value::Null,
        ),
        (
            "array id",
            r#"{"jsonrpc":"2.0","id":[1],"method":"status"}"#,
            -32600,
            Value::Null,
        ),
        (
            "fractional id",
            r#"{"jsonrpc":"2.0","id":1.5,"method":"status"}"#,
            -32600,
            Value::Null,
        ),
        (
            "id over i64",
            r#"{"jsonrpc":"2.0","id":9223372036854775808,"method":"status"}"#,
            -32600,
            Value::Null,
        ),
        (
            "huge method name",
            &format!(
                r#"{{"jsonrpc":"2.0","id":7,"method":"{}"}}"#,
                "m".repeat(100_000)
            ),
            -32601,
            json!(7),
        ),
        (
            "params of the wrong type",
            r#"{"jsonrpc":"2.0","id":8,"method":"events","params":{"since":"x"}}"#,
            -32602,
            json!(8),
        ),
    ];
    for (case, line, code, id) in cases {
        writeln!(client.writer, "{line}").unwrap();
        let reply = client.line().expect("an answer");
        assert_eq!(reply["error"]["code"], code, "{case}: {reply}");
        assert_eq!(reply["id"], id, "{case}: {reply}");
        assert!(
            reply.to_string().len() < 4096,
            "{case}: the input echoed back"
        );
    }
    for id in [json!(-5), json!(i64::MIN), json!(i64::MAX), json!("s")] {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "version"});
        writeln!(client.writer, "{request}").unwrap();
        let reply = client.line().expect("an answer");
        assert_eq!(reply["id"], id, "{reply}");
        assert_eq!(reply["result"]["protocol"], 1, "{reply}");
    }
}
