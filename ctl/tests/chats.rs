//! The chat and contact subcommands against the scripted fake daemon: the params each one
//! sends, the tables they print and `--json`.

mod fake;

use clap::Parser;
use serde_json::{Value, json};
use wawebctl::Cli;

use fake::{Answer, Fake};

fn answer(request: &Value) -> Answer {
    match request["method"].as_str().unwrap() {
        "chats" => Answer::result(
            request,
            json!({"chats": [
                {"jid": "4915100000001@s.whatsapp.net", "name": "Alice", "t": 1600000100, "unread": 2,
                 "archived": true, "pinned": 1600000000, "muted_until": null, "read_only": false, "ephemeral_s": null},
                {"jid": "1-2@g.us", "name": null, "t": 1600000000, "unread": -1,
                 "archived": false, "pinned": null, "muted_until": null, "read_only": true, "ephemeral_s": 604800}
            ]}),
        ),
        "contacts" => Answer::result(
            request,
            json!({"contacts": [{"jid": "4915100000001@s.whatsapp.net", "name": "Alice", "notify": null, "short": "Ali"}]}),
        ),
        "chat_modify" => Answer::result(request, json!({})),
        _ => Answer::error(request, -32601, "method_not_found", "no such method"),
    }
}

fn one(fake: &Fake, args: &[&str]) -> (Value, String) {
    fake.one(args)
}

#[test]
fn chats_and_contacts_print_tables_or_json() {
    let fake = Fake::start(answer);
    let (request, out) = one(&fake, &["chats", "--archived", "--limit", "5"]);
    assert_eq!(
        request,
        json!({"method": "chats", "params": {"archived": true, "limit": 5}})
    );
    assert_eq!(
        out,
        "JID                          NAME  UNREAD T          FLAGS\n\
         4915100000001@s.whatsapp.net Alice 2      1600000100 archived,pinned\n\
         1-2@g.us                     -     marked 1600000000 read-only\n"
    );
    let (request, _) = one(&fake, &["chats", "--unarchived", "--before", "1600000000"]);
    assert_eq!(
        request["params"],
        json!({"archived": false, "before": 1600000000})
    );
    let (request, out) = one(&fake, &["--json", "chats"]);
    assert_eq!(request["params"], json!({}));
    let printed: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(printed["chats"][1]["ephemeral_s"], 604800);
    assert!(Cli::try_parse_from(["wawebctl", "chats", "--archived", "--unarchived"]).is_err());

    let (request, out) = one(&fake, &["contacts", "ali"]);
    assert_eq!(
        request,
        json!({"method": "contacts", "params": {"query": "ali"}})
    );
    assert_eq!(
        out,
        "JID                          NAME  NOTIFY SHORT\n\
         4915100000001@s.whatsapp.net Alice -      Ali\n"
    );
}

#[test]
fn chat_actions_send_chat_modify() {
    let fake = Fake::start(answer);
    let (request, out) = one(&fake, &["chat", "archive", "4915100000001"]);
    assert_eq!(
        request,
        json!({"method": "chat_modify", "params": {"chat": "4915100000001", "action": "archive"}})
    );
    assert_eq!(out, "archived 4915100000001\n");
    let (request, _) = one(
        &fake,
        &["chat", "mute", "4915100000001", "--until", "4000000000"],
    );
    assert_eq!(
        request["params"],
        json!({"chat": "4915100000001", "action": "mute", "until": 4000000000u64})
    );
    let (request, _) = one(&fake, &["chat", "mute", "4915100000001", "--for", "8h"]);
    let until = request["params"]["until"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 28_700..=now + 28_900).contains(&until), "{until}");
    assert!(Cli::try_parse_from(["wawebctl", "chat", "mute", "4915100000001"]).is_err());
    assert!(
        Cli::try_parse_from(["wawebctl", "chat", "mute", "4915100000001", "--for", "8x"]).is_err()
    );
    let (request, _) = one(&fake, &["chat", "star", "1-2@g.us", "3A1", "--from-me"]);
    assert_eq!(
        request["params"],
        json!({"chat": "1-2@g.us", "action": "star", "message": {"chat": "1-2@g.us", "id": "3A1", "from_me": true}})
    );
    for action in ["unarchive", "pin", "unpin", "unmute", "clear", "delete"] {
        let (request, _) = one(&fake, &["chat", action, "4915100000001"]);
        assert_eq!(request["params"]["action"], action);
    }
    let (request, out) = one(&fake, &["--json", "chat", "unstar", "4915100000001", "3A2"]);
    assert_eq!(request["params"]["action"], "unstar");
    assert_eq!(out, "{}\n");
}
