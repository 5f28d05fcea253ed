//! `history`, `message` and `search` against the scripted fake daemon: the params each sends
//! and the table (or JSON) it prints.

mod fake;

use clap::Parser;
use serde_json::{Value, json};

use fake::{Answer, Fake};

fn message(id: &str, from_me: bool, text: Value, t: u64) -> Value {
    json!({"id": id, "chat": "4915100000001@s.whatsapp.net", "from_me": from_me, "participant": null,
           "timestamp": t, "push_name": if from_me { Value::Null } else { json!("Alice") },
           "kind": if text.is_null() { "image" } else { "text" }, "text": text,
           "media": if text.is_null() { json!({"kind": "image", "url": null, "direct_path": null, "media_key": "AAEC",
                     "mimetype": "image/jpeg", "file_sha256": "", "file_enc_sha256": "", "file_length": 3,
                     "caption": "a cat\nsleeping"}) } else { Value::Null },
           "source": "history"})
}

fn answer(request: &Value) -> Answer {
    let page = json!({"messages": [
        message("3A01", false, json!("hi"), 1_600_000_000),
        message("3EB0", true, Value::Null, 1_600_000_061),
    ], "more": true});
    match request["method"].as_str().unwrap() {
        "messages" | "search" => Answer::result(request, page),
        "message" if request["params"]["id"] == "3A01" => {
            Answer::result(request, message("3A01", false, json!("hi"), 1_600_000_000))
        }
        "message" => Answer::error(
            request,
            -32009,
            "not_found",
            "message X is not in the store",
        ),
        _ => Answer::error(request, -32601, "method_not_found", "no such method"),
    }
}

fn sent(fake: &Fake, args: &[&str]) -> (Value, String) {
    let (result, out) = fake.run(args);
    assert_eq!(result, Ok(()), "{args:?}");
    let mut requests = fake.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    (requests.remove(0)["params"].clone(), out)
}

#[test]
fn history_names_its_anchor_and_prints_a_table() {
    let fake = Fake::start(answer);
    let (params, out) = sent(
        &fake,
        &[
            "history",
            "4915100000001",
            "--before",
            "3EB0",
            "--from-me",
            "--count",
            "2",
        ],
    );
    assert_eq!(
        params,
        json!({"chat": "4915100000001", "before": {"chat": "4915100000001", "id": "3EB0", "from_me": true}, "count": 2})
    );
    assert_eq!(
        out,
        "TIME (UTC)          ID   FROM                  TEXT\n\
         2020-09-13 12:26:40 3A01 Alice (4915100000001) hi\n\
         2020-09-13 12:27:41 3EB0 me                    [image] a cat sleeping\n\
         (more older)\n"
    );
    let (params, _) = sent(&fake, &["history", "4915100000001", "--after", "3A01"]);
    assert_eq!(
        params,
        json!({"chat": "4915100000001", "after": {"chat": "4915100000001", "id": "3A01", "from_me": false}})
    );
    let (params, out) = sent(&fake, &["--json", "history", "4915100000001"]);
    assert_eq!(params, json!({"chat": "4915100000001"}));
    let printed: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(printed["more"], true);
    assert_eq!(printed["messages"][1]["id"], "3EB0");
    // --before and --after together are bad usage, sent nowhere.
    let both = [
        "wawebctl",
        "history",
        "4915100000001",
        "--before",
        "A",
        "--after",
        "B",
    ];
    assert!(wawebctl::Cli::try_parse_from(both).is_err());
    let no_anchor = ["wawebctl", "history", "4915100000001", "--from-me"];
    assert!(wawebctl::Cli::try_parse_from(no_anchor).is_err());
}

#[test]
fn message_and_search_send_their_params() {
    let fake = Fake::start(answer);
    let (params, out) = sent(&fake, &["message", "4915100000001", "3A01"]);
    assert_eq!(
        params,
        json!({"chat": "4915100000001", "id": "3A01", "from_me": false})
    );
    assert!(out.ends_with("3A01 Alice (4915100000001) hi\n"), "{out}");
    let (result, _) = fake.run(&["message", "4915100000001", "3A02", "--from-me"]);
    let failure = result.unwrap_err();
    assert!(
        failure.message.contains("not in the store"),
        "{}",
        failure.message
    );
    fake.requests();
    let (params, out) = sent(
        &fake,
        &[
            "search",
            "lunch",
            "--chat",
            "4915100000001",
            "--count",
            "5",
            "--page",
            "2",
        ],
    );
    assert_eq!(
        params,
        json!({"text": "lunch", "chat": "4915100000001", "count": 5, "page": 2})
    );
    assert!(out.ends_with("(more on the next page)\n"), "{out}");
}
