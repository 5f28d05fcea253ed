//! The sending, receipt and presence subcommands against the scripted fake daemon: the params
//! each one sends and what it prints.

mod fake;

use std::io::Write;

use clap::Parser;
use serde_json::{Value, json};
use wawebctl::{Cli, exit};

use fake::{Answer, Fake};

fn answer(request: &Value) -> Answer {
    let params = &request["params"];
    match request["method"].as_str().unwrap() {
        "send_text" | "send_location" | "send_contact" | "forward" | "revoke" => Answer::result(
            request,
            json!({"id": "3EB0C0FFEE", "status": 200, "t": 1600000000}),
        ),
        "mark_read" | "mark_unread" | "mark_played" => {
            let id = params["message"]["id"].as_str().unwrap_or("3AA5NEWEST");
            Answer::result(
                request,
                json!({"chat": "4915100000001@s.whatsapp.net", "id": id}),
            )
        }
        "set_presence" | "set_typing" | "subscribe_presence" => Answer::result(request, json!({})),
        _ => Answer::error(request, -32601, "method_not_found", "no such method"),
    }
}

/// Runs `args` and returns the one request it sent, and what it printed.
fn one(fake: &Fake, args: &[&str]) -> (Value, String) {
    fake.one(args)
}

#[test]
fn send_quotes_and_mentions() {
    let fake = Fake::start(answer);
    let (request, out) = one(
        &fake,
        &[
            "send",
            "4915100000001",
            "yes @4915100000002",
            "--quote",
            "3AA5",
            "--mention",
            "4915100000002",
            "--mention",
            "4915100000003",
        ],
    );
    assert_eq!(
        request,
        json!({"method": "send_text", "params": {"to": "4915100000001", "text": "yes @4915100000002",
               "quote": {"chat": "4915100000001", "id": "3AA5", "from_me": false},
               "mentions": ["4915100000002", "4915100000003"]}})
    );
    assert_eq!(out, "sent 3EB0C0FFEE (server status 200)\n");
    let (request, _) = one(
        &fake,
        &[
            "send",
            "1-2@g.us",
            "me too",
            "--quote",
            "3EB0",
            "--quote-chat",
            "1-2@g.us",
            "--quote-from-me",
        ],
    );
    assert_eq!(
        request["params"]["quote"],
        json!({"chat": "1-2@g.us", "id": "3EB0", "from_me": true})
    );
    let (request, _) = one(
        &fake,
        &["send", "1", "x", "--quote", "Q", "--quote-participant", "2"],
    );
    assert_eq!(request["params"]["quote"]["participant"], "2");
    // A quote's details without the quote are a usage error.
    let parsed = Cli::try_parse_from(["wawebctl", "send", "1", "x", "--quote-from-me"]);
    assert!(parsed.is_err());
}

#[test]
fn locations_contacts_forwards_and_revokes() {
    let fake = Fake::start(answer);
    let (request, out) = one(
        &fake,
        &[
            "send-location",
            "4915100000001",
            "-33.8568",
            "151.2153",
            "--name",
            "Opera House",
            "--queued",
        ],
    );
    assert_eq!(
        request["params"],
        json!({"to": "4915100000001", "latitude": -33.8568, "longitude": 151.2153, "name": "Opera House", "wait": "queued"})
    );
    assert!(out.starts_with("sent 3EB0C0FFEE"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let ada = dir.path().join("ada.vcf");
    let vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nEND:VCARD\n";
    std::fs::File::create(&ada)
        .unwrap()
        .write_all(vcard.as_bytes())
        .unwrap();
    let nameless = dir.path().join("bob.vcf");
    std::fs::write(&nameless, "BEGIN:VCARD\nEND:VCARD\n").unwrap();
    let (request, _) = one(
        &fake,
        &[
            "send-contact",
            "4915100000001",
            ada.to_str().unwrap(),
            nameless.to_str().unwrap(),
        ],
    );
    assert_eq!(
        request["params"]["contacts"],
        json!([{"display_name": "Ada Lovelace", "vcard": vcard}, {"display_name": "bob", "vcard": "BEGIN:VCARD\nEND:VCARD\n"}])
    );
    let (result, _) = fake.run(&["send-contact", "1", "/nonexistent/x.vcf"]);
    assert_eq!(result.unwrap_err().code, exit::USAGE);

    let (request, _) = one(
        &fake,
        &[
            "forward",
            "4915100000002",
            "4915100000001",
            "3AA5",
            "--idempotency-key",
            "fw-1",
        ],
    );
    assert_eq!(
        request["params"],
        json!({"to": "4915100000002", "message": {"chat": "4915100000001", "id": "3AA5", "from_me": false}, "idempotency_key": "fw-1"})
    );
    let (request, _) = one(&fake, &["--json", "revoke", "4915100000001", "3EB0"]);
    assert_eq!(
        request,
        json!({"method": "revoke", "params": {"message": {"chat": "4915100000001", "id": "3EB0", "from_me": true}}})
    );
}

#[test]
fn receipts_typing_and_presence() {
    let fake = Fake::start(answer);
    let (request, out) = one(&fake, &["read", "4915100000001"]);
    assert_eq!(
        request,
        json!({"method": "mark_read", "params": {"chat": "4915100000001"}})
    );
    assert_eq!(
        out,
        "marked 4915100000001@s.whatsapp.net read at 3AA5NEWEST\n"
    );
    let (request, _) = one(
        &fake,
        &["read", "1-2@g.us", "3AA5", "--participant", "4915100000002"],
    );
    assert_eq!(
        request["params"],
        json!({"chat": "1-2@g.us", "message": {"chat": "1-2@g.us", "id": "3AA5", "from_me": false, "participant": "4915100000002"}})
    );
    let (request, _) = one(&fake, &["read", "--unread", "4915100000001"]);
    assert_eq!(
        request,
        json!({"method": "mark_unread", "params": {"chat": "4915100000001"}})
    );
    let (request, out) = one(&fake, &["played", "4915100000001", "3AA5VOICE"]);
    assert_eq!(
        request,
        json!({"method": "mark_played", "params": {"message": {"chat": "4915100000001", "id": "3AA5VOICE", "from_me": false}}})
    );
    assert!(out.contains("played at 3AA5VOICE"), "{out}");
    let (request, out) = one(&fake, &["typing", "4915100000001"]);
    assert_eq!(
        request["params"],
        json!({"chat": "4915100000001", "state": "composing"})
    );
    assert_eq!(out, "composing in 4915100000001\n");
    let (request, _) = one(&fake, &["typing", "4915100000001", "paused"]);
    assert_eq!(request["params"]["state"], "paused");
    let (request, out) = one(&fake, &["--json", "presence", "unavailable"]);
    assert_eq!(
        request,
        json!({"method": "set_presence", "params": {"presence": "unavailable"}})
    );
    assert_eq!(out, "{}\n");
    let (request, _) = one(&fake, &["presence", "--subscribe", "4915100000001"]);
    assert_eq!(
        request,
        json!({"method": "subscribe_presence", "params": {"jid": "4915100000001"}})
    );
    for bad in [
        &["presence"][..],
        &["presence", "available", "--subscribe", "1"],
        &["typing", "1", "dancing"],
        &["read", "1", "--unread", "X"],
        &["read", "1", "--from-me"],
    ] {
        let mut argv = vec!["wawebctl"];
        argv.extend_from_slice(bad);
        assert!(Cli::try_parse_from(argv).is_err(), "{bad:?}");
    }
}
