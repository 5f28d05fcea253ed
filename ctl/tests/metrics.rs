//! `wawebctl metrics` against the scripted fake daemon: the request it sends, the lines for
//! people, `--json`, and a result this version cannot read.

mod fake;

use serde_json::{Value, json};
use wawebctl::exit;

use fake::{Answer, Fake};

fn metrics_result() -> Value {
    json!({"messages_received": {"text": 2, "image": 0}, "messages_sent": {"text": 1},
        "acks": {"1": 1, "2": 1, "3": 0}, "reconnects": {}, "state": "connected",
        "last_pong_age_s": 1.25, "journal": {"head": 41, "events": 40, "database_bytes": 122880},
        "consumers": [{"name": "bot", "lag": 4}], "outbox_depth": 0, "subscribers": 1,
        "socket_unwritten_bytes": 7, "socket_clients_cut": 1, "socket_errors": {"invalid_params": 3}, "media_bytes": {"downloaded": 1024, "uploaded": 0},
        "listen": "127.0.0.1:9464"})
}

#[test]
fn metrics_prints_lines_for_people_and_the_result_with_json() {
    let fake = Fake::start(|request| match request["method"].as_str() {
        Some("metrics") => Answer::result(request, metrics_result()),
        _ => Answer::error(request, -32601, "method_not_found", "no such method"),
    });
    let (request, out) = fake.one(&["metrics"]);
    assert_eq!(request, json!({"method": "metrics", "params": null}));
    assert_eq!(
        out,
        "state          connected\n\
         last pong      1.2 s ago\n\
         received       text 2\n\
         sent           text 1\n\
         acks           1 1, 2 1\n\
         reconnects     none\n\
         journal        head 41, 40 events, 122880 bytes on disk\n\
         consumers      bot lag 4\n\
         outbox         0\n\
         subscribers    1\n\
         socket backlog 7 bytes unwritten, 1 clients cut\n\
         socket errors  invalid_params 3\n\
         media          1024 bytes downloaded, 0 uploaded\n\
         endpoint       http://127.0.0.1:9464/metrics\n"
    );
    let (_, out) = fake.one(&["--json", "metrics"]);
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed, metrics_result());
}

#[test]
fn metrics_of_a_fresh_daemon_and_of_one_that_answers_nonsense() {
    let fake = Fake::start(|request| {
        let mut result = metrics_result();
        result["state"] = Value::Null;
        result["last_pong_age_s"] = Value::Null;
        result["listen"] = Value::Null;
        result["consumers"] = json!([]);
        Answer::result(request, result)
    });
    let (_, out) = fake.one(&["metrics"]);
    assert!(
        out.starts_with("state          unknown\nlast pong      -\n"),
        "{out}"
    );
    assert!(out.contains("consumers      none\n"), "{out}");
    assert!(out.ends_with("endpoint       off\n"), "{out}");

    let fake = Fake::start(|request| Answer::result(request, json!({"state": 7})));
    let (result, out) = fake.run(&["metrics"]);
    let failure = result.unwrap_err();
    assert_eq!(failure.code, exit::FAILURE);
    assert!(
        failure
            .message
            .contains("the result of metrics does not fit"),
        "{failure:?}"
    );
    assert_eq!(out, "");
}
