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
/// The daemon-wide bound on unwritten replies (`ipc::Options::max_unwritten_bytes`), and what
/// may be held past it: one line per connection (a page of about 1 MiB) and two pages built.
const UNWRITTEN_BOUND: u64 = 64 << 20;
const UNWRITTEN_OVER: u64 = (CLIENTS as u64 + 3) * (3 << 20) / 2;
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
    let (mut rss_max, mut unwritten_max) = (0, 0);
    let mut sampled = Instant::now();
    while started.elapsed() < watch() {
        rss_max = rss_max.max(daemon.rss_kib());
        if sampled.elapsed() > Duration::from_millis(200) {
            id += 1;
            let metrics = client.call(id, "metrics", json!({})).unwrap();
            unwritten_max = unwritten_max.max(metrics["socket_unwritten_bytes"].as_u64().unwrap());
            sampled = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let slowest = prober
        .join()
        .map_err(|_| "a status call got no answer in 20 s");
    eprintln!(
        "idle {} MiB; {CLIENTS} clients x {REQUESTS} unread pages for {:?}: VmRSS max {} MiB, \
         slowest status {slowest:?}, unwritten max {} MiB",
        idle >> 10,
        watch(),
        rss_max >> 10,
        unwritten_max >> 20
    );
    assert!(rss_max < RSS_MAX_KIB, "VmRSS {} MiB", rss_max >> 10);
    // The metric shows the backlog the attackers hold (pages of 1 MiB), within the bound.
    assert!(
        unwritten_max > 1 << 20 && unwritten_max < UNWRITTEN_BOUND + UNWRITTEN_OVER,
        "waweb_socket_unwritten_bytes peaked at {unwritten_max}"
    );
    let slowest = slowest.unwrap();
    assert!(slowest < STATUS_MAX, "a status took {slowest:?}");

    // Those keeping the total over the bound are cut; one that is cut lets the others' pages
    // be built again, so they follow one by one. Every cut is counted in the metrics, but the
    // warning is one line for all of them (then a count at most every 10 s).
    let cut = |log: &str| {
        log.matches("disconnecting a client that does not read")
            .count()
    };
    let mut cuts = |id: u64| {
        let metrics = client.call(id, "metrics", json!({})).unwrap();
        metrics["socket_clients_cut"].as_u64().unwrap()
    };
    let deadline = Instant::now() + DEADLINE;
    let mut first = None;
    while cuts(id) < 2 {
        id += 1;
        assert!(
            Instant::now() < deadline,
            "fewer than two cut: {}",
            daemon.log()
        );
        if first.is_none() && cut(&daemon.log()) > 0 {
            first = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    id += 1;
    let counted = cuts(id);
    let log = daemon.log();
    let first = first.unwrap_or_else(Instant::now);
    if first.elapsed() < Duration::from_secs(9) {
        assert_eq!(cut(&log), 1, "{counted} cut: {log}");
    }
    assert!(counted as usize <= CLIENTS, "{counted} cut");
    for warning in log.lines().filter(|line| cut(line) > 0) {
        assert!(!warning.contains("events"), "a method echoed: {warning}");
    }
    eprintln!("{counted} clients cut, {} warning line(s)", cut(&log));
    drop(attackers);
    // What they held goes back: the gauge falls to what the well-behaved client holds, nothing.
    wait_for("the backlog is written or dropped", || {
        id += 1;
        let metrics = client.call(id, "metrics", json!({})).unwrap();
        metrics["socket_unwritten_bytes"] == 0
    });
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

/// The example requests in the proto crate's method docs (one or more per method with params):
/// each method's valid params, to spoil one field at a time.
fn example_params() -> Vec<(String, serde_json::Map<String, Value>)> {
    include_str!("../../proto/src/methods.rs")
        .lines()
        .filter_map(|line| line.trim().strip_prefix("/// "))
        .filter(|line| line.starts_with(r#"{"jsonrpc":"2.0""#))
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|request| {
            let method = request["method"].as_str()?.to_owned();
            Some((method, request["params"].as_object()?.clone()))
        })
        .collect()
}

/// Values of each JSON type but null; a field is given those not of its own type.
fn wrong_values() -> [Value; 5] {
    [
        json!(7),
        json!("x"),
        json!(true),
        json!([1, "a", [null]]),
        json!({"a": {"b": [1, {"c": "d"}]}}),
    ]
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The one field that takes any JSON: `query`'s `json`, the raw query sent as it is (the
/// server answers what it makes of it).
const FREE_FORM: (&str, &str) = ("query", "json");

/// Every method of the proto's table with params of the wrong JSON types, as a whole and one
/// field at a time: each an `invalid_params` error, and the daemon goes on.
#[test]
fn every_method_with_params_of_the_wrong_types_gets_invalid_params() {
    let (_sim, _daemon, mut client) = paired();
    let mut id = 100;
    let mut sent = 0;
    let mut expect_invalid = |client: &mut Client, method: &str, params: Value| {
        id += 1;
        sent += 1;
        let Err(error) = client.call(id, method, params.clone()) else {
            panic!("{method} {params} was accepted");
        };
        assert_eq!(error["code"], -32602, "{method} {params}: {error}");
        assert_eq!(
            error["data"]["kind"], "invalid_params",
            "{method} {params}: {error}"
        );
    };
    for method in waweb_proto::methods::METHODS {
        for params in wrong_values() {
            expect_invalid(&mut client, method, params);
        }
    }
    let examples = example_params();
    let with_fields: std::collections::BTreeSet<&str> =
        examples.iter().map(|(method, _)| method.as_str()).collect();
    assert!(with_fields.len() >= 20, "examples of {with_fields:?}");
    for (method, params) in &examples {
        assert!(
            waweb_proto::methods::METHODS.contains(&method.as_str()),
            "{method}"
        );
        for (field, good) in params {
            if (method.as_str(), field.as_str()) == FREE_FORM {
                continue;
            }
            for wrong in wrong_values().into_iter().filter(|v| !same_type(v, good)) {
                let mut spoilt = params.clone();
                spoilt.insert(field.clone(), wrong);
                expect_invalid(&mut client, method, Value::Object(spoilt));
            }
        }
    }
    eprintln!(
        "{sent} requests: {} methods, {} examples with fields",
        waweb_proto::methods::METHODS.len(),
        examples.len()
    );
    let status = client.call(1, "status", json!({})).unwrap();
    assert_eq!(status["state"], "connected", "{status}");
}

/// A journal of 1 MiB (`[journal] max_mb = 1`), so a flood prunes past a subscriber that
/// stopped reading.
fn small_journal(_: &mut std::process::Command, dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("wawebd")).unwrap();
    std::fs::write(dir.join("wawebd/config.toml"), "[journal]\nmax_mb = 1\n").unwrap();
}

/// The seqs of the `message` events a subscriber reads until `stop` says so (or the
/// connection ends), and the line it stopped at.
fn read_messages(client: &mut Client, stop: impl Fn(&Value, usize) -> bool) -> (Vec<u64>, Value) {
    let mut seqs = Vec::new();
    while let Some(line) = client.line() {
        let params = &line["params"];
        if params["type"] == "message" {
            seqs.push(params["seq"].as_u64().expect("a seq"));
        }
        if stop(params, seqs.len()) {
            return (seqs, line);
        }
    }
    (seqs, Value::Null)
}

/// DESIGN.md 6.1 on the real daemon: while a flood runs past the journal's size, a subscriber
/// that never reads is cut with `lagged` (its last seq) and a close; the one that reads gets
/// every message in order, and the session goes on.
#[test]
fn a_subscriber_that_never_reads_a_flood_is_cut_as_lagged_and_the_others_get_everything() {
    // More than the idle one can hold: its socket, its queue (4,096 lines) and the bus's ring
    // (4,096 events); then it is served from the journal, which is pruned past it.
    const COUNT: usize = 12_000;
    let (mut sim, daemon, mut client) = support::paired_with(small_journal);
    client.call(3, "unsubscribe", json!({})).unwrap();
    let mut idle = Client::connect(&daemon.socket);
    idle.call(1, "subscribe", json!({"events": ["message"]}))
        .unwrap();
    let reader = std::thread::spawn({
        let mut reader = Client::connect(&daemon.socket);
        reader
            .call(1, "subscribe", json!({"events": ["message", "error"]}))
            .unwrap();
        move || {
            read_messages(&mut reader, |params, count| {
                params["type"] == "error" || count == COUNT
            })
        }
    });
    sim.submit(&json!({"cmd": "flood", "count": COUNT, "rate": 6000, "bytes": 200}));
    assert_eq!(sim.answers("flood", 1), 1);
    let (seqs, last) = reader.join().unwrap();
    assert_eq!(seqs.len(), COUNT, "the reader stopped at {last}");
    assert!(seqs.windows(2).all(|pair| pair[1] == pair[0] + 1), "a gap");

    // The journal is pruned (every 10 s, on an append) down to its 1 MiB, past the idle one.
    let mut id = 10;
    wait_for("the journal is pruned", || {
        id += 1;
        sim.command(json!({"cmd": "send_text", "from": "4915100000001", "text": "tick"}));
        let page = client
            .call(id, "events", json!({"since": 0, "limit": 1}))
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        // Far past where the idle one stands (its socket and its queue: under 5,000).
        page["events"][0]["seq"].as_u64().unwrap() > COUNT as u64 / 2
    });
    // The idle one: what its socket held, then `lagged` naming the last seq it got, then EOF.
    let (got, lagged) = read_messages(&mut idle, |params, count| {
        params["type"] == "error" || count == COUNT
    });
    assert_eq!(lagged["params"]["kind"], "lagged", "{lagged}");
    assert_eq!(
        lagged["params"]["last_seq"],
        json!(got.last().copied().unwrap_or(0))
    );
    assert!(got.len() < COUNT, "it got all {} anyway", got.len());
    assert!(idle.line().is_none(), "not closed");
    eprintln!(
        "the idle subscriber got {} of {COUNT} before it was cut",
        got.len()
    );
    assert_eq!(
        client.call(id + 1, "status", json!({})).unwrap()["state"],
        "connected"
    );
}
