//! wawebctl against a scripted fake daemon: a std Unix listener in a thread answering JSON-RPC
//! lines the way a test tells it to.

mod fake;

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::{Value, json};
use wawebctl::{Cli, exit, run};

use fake::{Answer, Fake};

fn status_result() -> Value {
    json!({"state": "connected", "me": {"wid": "4915100000000@s.whatsapp.net", "pushname": "Ada",
        "platform": "android", "phone": {"os_version": "11"}}, "server_url": "ws://127.0.0.1:9/ws",
        "session_stored": true, "last_pong_ms_ago": 1500, "phone_online": true,
        "battery": {"percent": 52, "plugged": true, "powersave": false}, "reconnects": 3})
}

/// Answers every method sensibly; `subscribe` echoes its types.
fn default_answer(request: &Value) -> Answer {
    match request["method"].as_str().unwrap() {
        "status" => Answer::result(request, status_result()),
        "version" => Answer::result(
            request,
            json!({"daemon": "9.9.9", "protocol": 1, "wa_version": [2, 2142, 12]}),
        ),
        "subscribe" => {
            let events = match &request["params"]["events"] {
                Value::Null => json!([
                    "state",
                    "qr",
                    "connected",
                    "disconnected",
                    "logged_out",
                    "battery",
                    "message",
                    "ack",
                    "node",
                    "json",
                    "error"
                ]),
                events => events.clone(),
            };
            Answer::result(request, json!({"events": events, "head": 9}))
        }
        "commit" => {
            let seq = request["params"]["seq"].clone();
            let name = request["params"]["consumer"].clone();
            Answer::result(request, json!({"name": name, "seq": seq, "lag": 0}))
        }
        "consumers" => Answer::result(
            request,
            json!({"consumers": [{"name": "bot", "seq": 7, "lag": 2}], "head": 9}),
        ),
        "logout" => Answer::result(request, json!({"server_notified": true})),
        "send_text" => Answer::result(
            request,
            json!({"id": "3EB0C0FFEE", "status": 200, "t": 1600000000}),
        ),
        "query" => Answer::result(request, json!({"reply": {"status": 200}})),
        "outbox" => Answer::result(
            request,
            json!({"messages": [{"id": "3EB0AA", "to": "1@s.whatsapp.net", "kind": "text", "queued_at": 1600000000123u64, "attempts": 2}]}),
        ),
        "outbox_cancel" => Answer::result(
            request,
            json!({"id": request["params"]["id"], "cancelled": true}),
        ),
        "media_download" => {
            let path = request["params"]["output"].clone();
            Answer::result(request, json!({"path": path, "bytes": 3, "sha256": "c2hh"}))
        }
        _ => Answer::error(request, -32601, "method_not_found", "no such method"),
    }
}

#[test]
fn json_status_prints_the_result_object_as_is() {
    let fake = Fake::start(default_answer);
    let (result, out) = fake.run(&["--json", "status"]);
    assert_eq!(result, Ok(()));
    assert_eq!(out.lines().count(), 1);
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed, status_result());
    // Order kept too: exactly as the daemon wrote it.
    assert_eq!(out.trim_end(), status_result().to_string());
}

#[test]
fn human_status_is_readable() {
    let fake = Fake::start(default_answer);
    let (result, out) = fake.run(&["status"]);
    assert_eq!(result, Ok(()));
    assert!(out.contains("state:           connected"), "{out}");
    assert!(
        out.contains("4915100000000@s.whatsapp.net \"Ada\" (android)"),
        "{out}"
    );
    assert!(out.contains("1.5 s ago"), "{out}");
    assert!(out.contains("52% (charging)"), "{out}");
    assert!(out.contains("reconnects:      3"), "{out}");
}

#[test]
fn an_absent_daemon_is_exit_3_with_a_hint() {
    let dir = tempfile::Builder::new()
        .prefix("wawebctl")
        .tempdir()
        .unwrap();
    let path = dir.path().join("nobody.sock");
    let cli =
        Cli::try_parse_from(["wawebctl", "--socket", path.to_str().unwrap(), "status"]).unwrap();
    let failure = run(&cli, &mut Vec::new(), false).unwrap_err();
    assert_eq!(failure.code, exit::NO_DAEMON);
    assert!(
        failure.message.contains("systemctl --user start wawebd"),
        "{failure}"
    );
    assert!(!failure.message.contains('\n'));

    // A socket file nobody listens on is the same thing.
    drop(UnixListener::bind(&path).unwrap());
    let failure = run(&cli, &mut Vec::new(), false).unwrap_err();
    assert_eq!(failure.code, exit::NO_DAEMON);
}

#[test]
fn a_socket_that_never_answers_is_exit_5_after_the_timeout() {
    let dir = tempfile::Builder::new()
        .prefix("wawebctl")
        .tempdir()
        .unwrap();
    let path = dir.path().join("silent.sock");
    // Accepts (the kernel's backlog does that) and never reads or answers.
    let _listener = UnixListener::bind(&path).unwrap();
    let socket = path.to_str().unwrap();

    let cli =
        Cli::try_parse_from(["wawebctl", "--socket", socket, "--timeout", "1", "status"]).unwrap();
    let started = std::time::Instant::now();
    let failure = run(&cli, &mut Vec::new(), false).unwrap_err();
    assert_eq!(failure.code, exit::UNAVAILABLE, "{failure}");
    assert!(failure.message.contains("no answer from"), "{failure}");
    assert!(failure.message.contains("--timeout"), "{failure}");
    assert!(!failure.message.contains('\n'));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // A send waits for its own --timeout-ms when that is longer than --timeout's default, and
    // --timeout still wins when given.
    let cli = Cli::try_parse_from([
        "wawebctl",
        "--socket",
        socket,
        "--timeout",
        "1",
        "send",
        "4915100000001",
        "hi",
        "--timeout-ms",
        "60000",
    ])
    .unwrap();
    let failure = run(&cli, &mut Vec::new(), false).unwrap_err();
    assert_eq!(failure.code, exit::UNAVAILABLE, "{failure}");
}

#[test]
fn daemon_errors_map_to_exit_codes() {
    let fake = Fake::start(|request| {
        let text = request["params"]["text"].as_str().unwrap_or_default();
        match text {
            "nli" => Answer::error(request, -32001, "not_logged_in", "not logged in"),
            "nc" => Answer::error(request, -32003, "not_connected", "not connected"),
            "to" => Answer::error(request, -32005, "timeout", "timed out"),
            "bad" => Answer::error(request, -32602, "invalid_params", "bad recipient"),
            _ => {
                let error = json!({"code": -32004, "message": "the server answered 404",
                    "data": {"kind": "server_error", "status": 404}});
                Answer {
                    lines: vec![json!({"jsonrpc": "2.0", "id": request["id"], "error": error})],
                    close: false,
                }
            }
        }
    });
    let cases = [
        ("nli", exit::NOT_LOGGED_IN),
        ("nc", exit::UNAVAILABLE),
        ("to", exit::UNAVAILABLE),
        ("bad", exit::USAGE),
        ("server", exit::FAILURE),
    ];
    for (text, code) in cases {
        let (result, out) = fake.run(&["send", "+49 1", text]);
        let failure = result.unwrap_err();
        assert_eq!(failure.code, code, "{text}: {failure}");
        assert!(out.is_empty());
    }
    let (result, _) = fake.run(&["send", "1", "nli"]);
    assert!(result.unwrap_err().message.contains("wawebctl login"));
}

#[test]
fn send_passes_recipient_and_text() {
    let fake = Fake::start(default_answer);
    let (result, out) = fake.run(&["send", "+49 151 2345-678", "hello there"]);
    assert_eq!(result, Ok(()));
    assert_eq!(out, "sent 3EB0C0FFEE (server status 200)\n");
    let requests = fake.requests();
    assert_eq!(requests[0]["method"], "send_text");
    assert_eq!(
        requests[0]["params"],
        json!({"to": "+49 151 2345-678", "text": "hello there"})
    );
}

#[test]
fn send_takes_a_key_a_wait_and_a_timeout_and_outbox_lists_and_cancels() {
    let fake = Fake::start(|request| {
        if request["method"] == "send_text" {
            Answer::result(request, json!({"id": "3EB0BB", "status": "queued"}))
        } else {
            default_answer(request)
        }
    });
    let (result, out) = fake.run(&[
        "send",
        "1",
        "hi",
        "--idempotency-key",
        "order-17",
        "--queued",
        "--timeout-ms",
        "500",
    ]);
    assert_eq!(result, Ok(()));
    assert_eq!(out, "queued 3EB0BB\n");
    assert_eq!(
        fake.requests()[0]["params"],
        json!({"to": "1", "text": "hi", "idempotency_key": "order-17", "wait": "queued", "timeout_ms": 500})
    );
    let (result, out) = fake.run(&["outbox"]);
    assert_eq!(result, Ok(()));
    assert_eq!(
        out,
        "3EB0AA\t1@s.whatsapp.net\ttext\tqueued at 1600000000123\t2 attempts\n"
    );
    let (result, out) = fake.run(&["outbox", "--cancel", "3EB0AA"]);
    assert_eq!(result, Ok(()));
    assert_eq!(out, "cancelled 3EB0AA\n");
    let requests = fake.requests();
    let cancel = requests.last().unwrap();
    assert_eq!(
        (&cancel["method"], &cancel["params"]),
        (&json!("outbox_cancel"), &json!({"id": "3EB0AA"}))
    );
}

#[test]
fn query_checks_its_json_before_asking() {
    let fake = Fake::start(default_answer);
    let (result, _) = fake.run(&["query", "[not json"]);
    assert_eq!(result.unwrap_err().code, exit::USAGE);
    assert!(fake.requests().is_empty());

    let (result, out) = fake.run(&["--json", "query", r#"["query","exist","1@c.us"]"#]);
    assert_eq!(result, Ok(()));
    assert_eq!(out, "{\"reply\":{\"status\":200}}\n");
    assert_eq!(
        fake.requests()[0]["params"],
        json!({"json": ["query", "exist", "1@c.us"]})
    );
}

#[test]
fn logout_and_version() {
    let fake = Fake::start(default_answer);
    let (result, out) = fake.run(&["logout"]);
    assert_eq!(result, Ok(()));
    assert!(out.starts_with("logged out"), "{out}");

    let (result, out) = fake.run(&["version"]);
    assert_eq!(result, Ok(()));
    assert!(
        out.contains(&format!("wawebctl {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert!(
        out.contains("wawebd 9.9.9 (protocol 1, WhatsApp Web 2.2142.12)"),
        "{out}"
    );
}

#[test]
fn a_daemon_of_another_protocol_is_named_as_the_cause() {
    let fake = Fake::start(|request| match request["method"].as_str() {
        Some("version") => Answer::result(
            request,
            json!({"daemon": "7.0.0", "protocol": 2, "wa_version": [2, 3000, 1]}),
        ),
        _ => Answer::result(request, json!({"state": "quantum"})),
    });
    let (result, _) = fake.run(&["status"]);
    let failure = result.unwrap_err();
    assert_eq!(failure.code, exit::FAILURE);
    assert!(failure.message.contains("protocol 2"), "{failure}");
    assert!(failure.message.contains("restart the daemon"), "{failure}");

    let (result, _) = fake.run(&["version"]);
    assert!(result.unwrap_err().message.contains("protocol mismatch"));
}

#[test]
fn events_prints_params_lines_and_fails_when_the_daemon_leaves() {
    let fake = Fake::start(|request| {
        default_answer(request)
            .then_event(json!({"type": "state", "state": "connected"}))
            .then_event(json!({"type": "ack", "id": "M", "ack": 3, "chat": "1@s.whatsapp.net"}))
            .then_event(json!({"type": "from_a_newer_daemon", "x": 1}))
            .then_close()
    });
    let (result, out) = fake.run(&["events", "state", "ack"]);
    assert_eq!(result.unwrap_err().code, exit::NO_DAEMON);
    assert_eq!(
        out,
        "{\"type\":\"state\",\"state\":\"connected\"}\n\
         {\"type\":\"ack\",\"id\":\"M\",\"ack\":3,\"chat\":\"1@s.whatsapp.net\"}\n\
         {\"type\":\"from_a_newer_daemon\",\"x\":1}\n"
    );
    let requests = fake.requests();
    assert_eq!(requests[0]["method"], "subscribe");
    assert_eq!(requests[0]["params"], json!({"events": ["state", "ack"]}));
}

#[test]
fn events_with_a_consumer_resume_and_commit_each_line_once_written() {
    let fake = Fake::start(|request| {
        let answer = default_answer(request);
        if request["method"] == "subscribe" {
            answer
                .then_event(json!({"type": "ack", "id": "A", "ack": 2, "chat": "1@s.whatsapp.net", "seq": 8, "at": 1}))
                .then_event(json!({"type": "qr", "content": "x", "ref": "r", "ttl_ms": 1, "attempt": 1, "attempts_max": 1}))
                .then_event(json!({"type": "ack", "id": "B", "ack": 3, "chat": "1@s.whatsapp.net", "seq": 9, "at": 2}))
        } else if request["params"]["seq"] == 9 {
            answer.then_close()
        } else {
            answer
        }
    });
    let (result, out) = fake.run(&["events", "--consumer", "bot", "--since", "7", "ack"]);
    assert_eq!(result.unwrap_err().code, exit::NO_DAEMON);
    assert_eq!(out.lines().count(), 3);
    let requests = fake.requests();
    assert_eq!(
        requests[0]["params"],
        json!({"events": ["ack"], "since": 7, "consumer": "bot"})
    );
    let commits: Vec<&Value> = requests
        .iter()
        .filter(|request| request["method"] == "commit")
        .map(|request| &request["params"])
        .collect();
    assert_eq!(
        commits,
        [
            &json!({"consumer": "bot", "seq": 8}),
            &json!({"consumer": "bot", "seq": 9})
        ],
        "the qr has no seq to commit"
    );
    let error = Cli::try_parse_from(["wawebctl", "events", "--consumer", "Bad Name"]).unwrap_err();
    assert_eq!(error.exit_code(), 2);
}

#[test]
fn consumers_are_listed_with_their_lag() {
    let fake = Fake::start(default_answer);
    let (result, out) = fake.run(&["consumers"]);
    result.unwrap();
    assert_eq!(out, "head 9\nbot\tseq 7\tlag 2\n");
}

#[test]
fn events_reports_being_dropped_for_lagging() {
    let fake = Fake::start(|request| {
        default_answer(request)
            .then_event(json!({"type": "error", "kind": "lagged", "message": "fell behind"}))
            .then_close()
    });
    let (result, out) = fake.run(&["events"]);
    let failure = result.unwrap_err();
    assert_eq!(failure.code, exit::FAILURE);
    assert!(failure.message.contains("fell behind"), "{failure}");
    assert!(out.contains("\"lagged\""));
    assert!(
        fake.requests()[0]["params"].get("events").is_none(),
        "no types: all"
    );
}

#[test]
fn unknown_event_types_are_usage_errors() {
    let error = Cli::try_parse_from(["wawebctl", "events", "gossip"]).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("logged_out"));
    let error = Cli::try_parse_from(["wawebctl", "frobnicate"]).unwrap_err();
    assert_eq!(error.exit_code(), 2);
}

const QR_CONTENT: &str = "1@ZyYxNzk4MTI0OTg5NDI0OTk2MTY,JXRl2Zl0pUGnmo4pFs8Ib8Lnw7t4uR+1xq8gQ0pOVkc=,Cqv7vK/3JUVVL/nU86bXGA==";

/// A login that pairs: a QR code, the scan, the login.
fn pairing_answer(request: &Value, end: Value) -> Answer {
    match request["method"].as_str().unwrap() {
        "login" => Answer::result(request, json!({"state": "pairing"}))
            .then_event(json!({"type": "state", "state": "pairing"}))
            .then_event(
                json!({"type": "qr", "content": QR_CONTENT, "ref": "1@Zy", "ttl_ms": 20000,
                "attempt": 1, "attempts_max": 6}),
            )
            .then_event(json!({"type": "state", "state": "logging_in"}))
            .then_event(end),
        "subscribe" => {
            default_answer(request).then_event(json!({"type": "state", "state": "logged_out"}))
        }
        _ => default_answer(request),
    }
}

fn decode_png(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let (width, height, pixels) = wawebctl::qr::read_png(&bytes).expect("a PNG wawebctl wrote");
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

fn decode_svg(svg: &str) -> String {
    let (width, height, pixels) = wawebctl::qr::read_svg(svg).expect("an SVG wawebctl wrote");
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[test]
fn login_draws_the_qr_writes_png_and_svg_and_exits_0_when_connected() {
    let connected = json!({"type": "connected", "me": {"wid": "4915100000000@s.whatsapp.net",
        "pushname": "Ada", "platform": "android", "phone": {}}, "restored": false});
    let fake = Fake::start(move |request| pairing_answer(request, connected.clone()));
    let dir = tempfile::Builder::new()
        .prefix("wawebctl-qr")
        .tempdir()
        .unwrap();
    let png = dir.path().join("qr.png");
    let svg = dir.path().join("qr.svg");
    let (result, out) = fake.run(&[
        "login",
        "--png",
        png.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(result, Ok(()), "{out}");
    assert_eq!(decode_png(&png), QR_CONTENT);
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(decode_svg(&svg), QR_CONTENT);
    assert!(
        out.contains('\u{2580}') || out.contains('\u{2584}'),
        "the QR is drawn"
    );
    assert!(out.contains("Code 1 of 6, valid for 20 s"), "{out}");
    assert!(
        out.contains("logged in as 4915100000000@s.whatsapp.net (Ada)"),
        "{out}"
    );

    let requests = fake.requests();
    let methods: Vec<&str> = requests
        .iter()
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["subscribe", "login"],
        "subscribed before asking to log in"
    );
    assert_eq!(
        requests[0]["params"]["events"],
        json!(["state", "qr", "connected", "logged_out"])
    );
}

#[test]
fn login_fails_with_6_when_pairing_expires() {
    let expired = json!({"type": "logged_out", "reason": "pairing_expired", "status": null});
    let fake = Fake::start(move |request| pairing_answer(request, expired.clone()));
    let (result, _) = fake.run(&["login", "--no-terminal"]);
    let failure = result.unwrap_err();
    assert_eq!(failure.code, exit::LOGIN_FAILED);
    assert!(failure.message.contains("pairing_expired"), "{failure}");
}

#[test]
fn login_in_json_mode_prints_the_events() {
    let connected = json!({"type": "connected", "me": {"wid": "1@s.whatsapp.net",
        "pushname": "A", "platform": "iphone", "phone": {}}, "restored": false});
    let fake = Fake::start(move |request| pairing_answer(request, connected.clone()));
    let (result, out) = fake.run(&["--json", "login"]);
    assert_eq!(result, Ok(()));
    let types: Vec<String> = out
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["state", "state", "qr", "state", "connected"]);
}

#[test]
fn login_when_already_logged_in_succeeds() {
    let fake = Fake::start(|request| match request["method"].as_str() {
        Some("login") => Answer::error(request, -32002, "already_logged_in", "already logged in"),
        _ => default_answer(request),
    });
    let (result, out) = fake.run(&["login"]);
    assert_eq!(result, Ok(()));
    assert!(out.contains("already logged in"));
}

#[test]
fn login_fails_with_3_when_the_daemon_goes_away() {
    let fake = Fake::start(|request| match request["method"].as_str() {
        Some("login") => Answer::result(request, json!({"state": "pairing"})).then_close(),
        _ => default_answer(request),
    });
    let (result, _) = fake.run(&["login"]);
    assert_eq!(result.unwrap_err().code, exit::NO_DAEMON);
}

#[test]
fn media_download_takes_a_message_event_from_a_file_and_an_absolute_path() {
    let fake = Fake::start(default_answer);
    let dir = tempfile::Builder::new()
        .prefix("wawebctl-media")
        .tempdir()
        .unwrap();
    let event = json!({"jsonrpc": "2.0", "method": "event", "params": {"type": "message", "id": "M",
        "chat": "1@s.whatsapp.net", "from_me": false, "participant": null, "timestamp": 1,
        "push_name": null, "kind": "image", "text": null, "media": {"kind": "image",
        "url": "https://h/x.enc", "direct_path": null, "media_key": "AAEC", "mimetype": "image/jpeg",
        "file_sha256": "c2hh", "file_enc_sha256": "ZW5j", "file_length": 3}}});
    let file = dir.path().join("event.json");
    std::fs::write(&file, format!("{event}\n")).unwrap();
    let media_arg = format!("@{}", file.display());
    let (result, out) = fake.run(&[
        "media",
        "download",
        "--media",
        &media_arg,
        "-o",
        "photo.jpg",
    ]);
    assert_eq!(result, Ok(()), "{out}");
    let request = &fake.requests()[0];
    assert_eq!(request["method"], "media_download");
    assert_eq!(request["params"]["media"]["media_key"], "AAEC");
    let output = PathBuf::from(request["params"]["output"].as_str().unwrap());
    assert!(output.is_absolute());
    assert!(output.ends_with("photo.jpg"));
    assert!(out.starts_with("wrote "), "{out}");

    // A bare media object inline works too; a message without media is a usage error.
    let media = event["params"]["media"].to_string();
    let (result, _) = fake.run(&["media", "download", "--media", &media, "-o", "/tmp/x"]);
    assert_eq!(result, Ok(()));
    let text_message = json!({"type": "message", "kind": "text", "media": null}).to_string();
    let (result, _) = fake.run(&[
        "media",
        "download",
        "--media",
        &text_message,
        "-o",
        "/tmp/x",
    ]);
    assert_eq!(result.unwrap_err().code, exit::USAGE);
}

#[test]
fn completions_need_no_daemon() {
    let cli = Cli::try_parse_from([
        "wawebctl",
        "--socket",
        "/nonexistent",
        "completions",
        "bash",
    ])
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(run(&cli, &mut out, false), Ok(()));
    let script = String::from_utf8(out).unwrap();
    assert!(script.contains("wawebctl"));
    assert!(script.contains("logout"));
}

#[test]
fn help_documents_the_exit_codes() {
    let error = Cli::try_parse_from(["wawebctl", "--help"]).unwrap_err();
    let help = error.to_string();
    assert!(help.contains("Exit status:"), "{help}");
    assert!(help.contains("3  the daemon is not running"));
    assert!(help.contains("4  not logged in"));
}

#[test]
fn send_with_a_file_calls_send_media_with_an_absolute_path() {
    let fake = Fake::start(|request| {
        if request["method"] == "send_media" {
            Answer::result(
                request,
                json!({"id": "3EB0CC", "status": 200, "t": 1600000000, "media": {
                    "kind": "video", "url": "http://h/d/1", "direct_path": "/d/1",
                    "media_key": "AA==", "mimetype": "video/mp4", "file_sha256": "AQ==",
                    "file_enc_sha256": "Ag==", "file_length": 3
                }, "thumbnail_skipped": "no video frame can be decoded without an external tool"}),
            )
        } else {
            default_answer(request)
        }
    });
    let (result, out) = fake.run(&[
        "send",
        "1",
        "--video",
        "clip.mp4",
        "--caption",
        "look",
        "--queued",
    ]);
    assert_eq!(result, Ok(()));
    assert_eq!(
        out,
        "sent 3EB0CC (server status 200): video/mp4, 3 bytes\n\
         no thumbnail: no video frame can be decoded without an external tool\n"
    );
    let cwd = std::env::current_dir().unwrap();
    let request = &fake.requests()[0];
    assert_eq!(request["method"], "send_media");
    assert_eq!(
        request["params"],
        json!({"to": "1", "kind": "video", "path": cwd.join("clip.mp4"), "caption": "look", "wait": "queued"})
    );
    for (flag, kind) in [
        ("--image", "image"),
        ("--audio", "audio"),
        ("--voice", "voice"),
        ("--document", "document"),
        ("--sticker", "sticker"),
    ] {
        let (_, _) = fake.run(&["send", "1", flag, "/srv/f"]);
        let requests = fake.requests();
        let params = &requests.last().unwrap()["params"];
        assert_eq!(
            (&params["kind"], &params["path"]),
            (&json!(kind), &json!("/srv/f"))
        );
    }
    // A text and a file, two files, a caption without a file, or nothing: usage errors.
    for args in [
        &["send", "1", "hi", "--image", "/f"][..],
        &["send", "1", "--image", "/f", "--video", "/g"],
        &["send", "1", "hi", "--caption", "x"],
        &["send", "1"],
    ] {
        let mut argv = vec!["wawebctl"];
        argv.extend_from_slice(args);
        assert!(Cli::try_parse_from(argv).is_err(), "{args:?}");
    }
}
