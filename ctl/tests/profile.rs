//! The profile subcommands, `query` with a node and `media download --message` against the
//! scripted fake daemon: the params each one sends and what it prints.

mod fake;

use clap::Parser;
use serde_json::{Value, json};
use wawebctl::exit;

use fake::{Answer, Fake};

const ME: &str = "4915100000000@s.whatsapp.net";

fn answer(request: &Value) -> Answer {
    let params = &request["params"];
    match request["method"].as_str().unwrap() {
        "status" => Answer::result(
            request,
            json!({"state": "connected", "me": {"wid": ME, "pushname": "Ada", "platform": "android", "phone": {}},
                   "server_url": "ws://x", "session_stored": true, "last_pong_ms_ago": null,
                   "phone_online": true, "battery": null, "reconnects": 0}),
        ),
        "on_whatsapp" => Answer::result(
            request,
            json!({"results": [
                {"input": "4915100000001", "jid": "4915100000001@s.whatsapp.net", "exists": true, "business": false},
                {"input": "4915100000099", "jid": "4915100000099@s.whatsapp.net", "exists": false, "business": false}]}),
        ),
        "profile_picture" if params["jid"] == "4915100000002" => {
            Answer::result(request, json!({"url": null}))
        }
        "profile_picture" => Answer::result(request, json!({"url": "https://pps/x.jpg"})),
        "about" if params["jid"] == "4915100000003" => {
            Answer::error(request, -32004, "server_error", "the server answered 404")
        }
        "about" => Answer::result(
            request,
            json!({"text": format!("about {}", params["jid"].as_str().unwrap())}),
        ),
        "blocklist" => Answer::result(request, json!({"jids": ["4915100000003@s.whatsapp.net"]})),
        "media_download" => Answer::result(
            request,
            json!({"path": params["output"], "bytes": 3, "sha256": "AAAA"}),
        ),
        "query" => Answer::result(
            request,
            json!({"reply_node": {"tag": "response", "attrs": {}, "content": null}}),
        ),
        _ => Answer::result(request, json!({})),
    }
}

/// Runs `args`; the requests it sent (method and params) and what it printed.
fn sent(fake: &Fake, args: &[&str]) -> (Vec<Value>, String) {
    let (result, out) = fake.run(args);
    assert_eq!(result, Ok(()), "{args:?}");
    let requests = fake
        .requests()
        .into_iter()
        .map(|request| json!({"method": request["method"], "params": request["params"]}))
        .collect();
    (requests, out)
}

#[test]
fn profile_subcommands_send_their_params_and_print_for_people() {
    let fake = Fake::start(answer);
    let (requests, out) = sent(&fake, &["on-whatsapp", "4915100000001", "4915100000099"]);
    assert_eq!(
        requests,
        [
            json!({"method": "on_whatsapp", "params": {"numbers": ["4915100000001", "4915100000099"]}})
        ]
    );
    assert_eq!(
        out,
        "NUMBER        JID                          ON WHATSAPP BUSINESS\n\
         4915100000001 4915100000001@s.whatsapp.net yes         no\n\
         4915100000099 4915100000099@s.whatsapp.net no          no\n"
    );
    let (requests, out) = sent(&fake, &["picture", "4915100000001", "-o", "/tmp/a.jpg"]);
    assert_eq!(
        requests,
        [
            json!({"method": "profile_picture", "params": {"jid": "4915100000001", "output": "/tmp/a.jpg"}})
        ]
    );
    assert_eq!(out, "https://pps/x.jpg\nwrote /tmp/a.jpg\n");
    let (_, out) = sent(&fake, &["picture", "4915100000002"]);
    assert_eq!(out, "4915100000002 has no profile picture\n");
    let (requests, out) = sent(&fake, &["set-picture", "/tmp/me.png"]);
    assert_eq!(
        requests,
        [json!({"method": "set_profile_picture", "params": {"path": "/tmp/me.png"}})]
    );
    assert_eq!(out, "profile picture set\n");
    // Without a JID, ours (from status).
    let (requests, out) = sent(&fake, &["about"]);
    assert_eq!(
        requests[1],
        json!({"method": "about", "params": {"jid": ME}})
    );
    assert_eq!(out, format!("about {ME}\n"));
    let (requests, _) = sent(&fake, &["set-about", "At the gym"]);
    assert_eq!(
        requests,
        [json!({"method": "set_about", "params": {"text": "At the gym"}})]
    );
    let (requests, out) = sent(&fake, &["set-name", "Ada L."]);
    assert_eq!(
        requests,
        [json!({"method": "set_push_name", "params": {"name": "Ada L."}})]
    );
    assert_eq!(out, "name set to Ada L.\n");
    let (requests, out) = sent(&fake, &["block", "4915100000003"]);
    assert_eq!(
        requests,
        [json!({"method": "block", "params": {"jid": "4915100000003"}})]
    );
    assert_eq!(out, "blocked 4915100000003\n");
    let (requests, _) = sent(&fake, &["unblock", "4915100000003"]);
    assert_eq!(requests[0]["method"], "unblock");
    let (_, out) = sent(&fake, &["blocklist"]);
    assert_eq!(out, "JID\n4915100000003@s.whatsapp.net\n");
    let (_, out) = sent(&fake, &["--json", "blocklist"]);
    assert_eq!(out, "{\"jids\":[\"4915100000003@s.whatsapp.net\"]}\n");

    // A server refusal is exit 1 with the daemon's message.
    let (result, _) = fake.run(&["about", "4915100000003"]);
    let failure = result.unwrap_err();
    assert_eq!(failure.code, exit::FAILURE);
    assert!(failure.message.contains("404"), "{failure:?}");
}

#[test]
fn query_sends_nodes_and_media_download_takes_a_message() {
    let fake = Fake::start(answer);
    let node = r#"{"tag":"query","attrs":{"type":"chat"}}"#;
    let (requests, _) = sent(&fake, &["query", "--metric", "5", node]);
    assert_eq!(
        requests,
        [
            json!({"method": "query", "params": {"node": {"tag": "query", "attrs": {"type": "chat"}}, "metric": 5}})
        ]
    );
    let (requests, _) = sent(
        &fake,
        &[
            "query",
            "--set",
            "--metric",
            "14",
            "--flags",
            "136",
            "--id-is-tag",
            node,
        ],
    );
    assert_eq!(
        requests[0]["params"],
        json!({"set": {"tag": "query", "attrs": {"type": "chat"}}, "metric": 14, "flags": 136, "id_is_tag": true})
    );
    let (requests, _) = sent(&fake, &["query", r#"["query","exist","1@c.us"]"#]);
    assert_eq!(
        requests[0]["params"],
        json!({"json": ["query", "exist", "1@c.us"]})
    );

    let (requests, out) = sent(
        &fake,
        &[
            "media",
            "download",
            "--message",
            "4915100000001",
            "3AA5",
            "--from-me",
            "-o",
            "/tmp/x.jpg",
        ],
    );
    assert_eq!(
        requests,
        [json!({"method": "media_download", "params": {
            "message": {"chat": "4915100000001", "id": "3AA5", "from_me": true}, "output": "/tmp/x.jpg"}})]
    );
    assert_eq!(out, "wrote /tmp/x.jpg (3 bytes, sha256 AAAA)\n");
    // Usage errors are clap's.
    for args in [
        &["query", "--set", "{}"][..],
        &["media", "download", "-o", "/tmp/x.jpg"],
        &[
            "media",
            "download",
            "--media",
            "{}",
            "--message",
            "a",
            "b",
            "-o",
            "/tmp/x",
        ],
        &["on-whatsapp"],
    ] {
        let argv = std::iter::once("wawebctl").chain(args.iter().copied());
        assert!(wawebctl::Cli::try_parse_from(argv).is_err(), "{args:?}");
    }
}
