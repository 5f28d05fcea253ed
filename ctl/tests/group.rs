//! `wawebctl group …` against the scripted fake daemon: the params each subcommand sends, what
//! it prints for people and with `--json`, and how a refusal exits.

mod fake;

use serde_json::{Value, json};
use wawebctl::exit;

use fake::{Answer, Fake};

const GROUP: &str = "4915100000000-1600000000@g.us";

fn answer(request: &Value) -> Answer {
    let params = &request["params"];
    let statuses = |params: &Value| -> Value {
        params["participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|jid| json!({"jid": format!("{}@s.whatsapp.net", jid.as_str().unwrap()), "status": 200}))
            .collect()
    };
    match request["method"].as_str().unwrap() {
        "group_info" if params["chat"] == GROUP => Answer::result(
            request,
            json!({"chat": GROUP, "subject": "Sim\u{1b}[2J Friends", "owner": "4915100000000@s.whatsapp.net",
                   "created": 1600000000, "description": null, "announce": true, "restrict": false,
                   "ephemeral_s": 604800, "participants": [
                       {"jid": "4915100000000@s.whatsapp.net", "admin": true, "super_admin": true},
                       {"jid": "4915100000001@s.whatsapp.net", "admin": true, "super_admin": false},
                       {"jid": "4915100000002@s.whatsapp.net", "admin": false, "super_admin": false}]}),
        ),
        "group_info" => Answer::error(request, -32004, "server_error", "the server answered 401"),
        "group_create" => Answer::result(
            request,
            json!({"chat": "4915100000000-1600000100@g.us", "participants": statuses(params)}),
        ),
        "group_participants" => Answer::result(request, json!({"participants": statuses(params)})),
        "group_leave" | "group_subject" | "group_description" | "group_settings" => {
            Answer::result(request, json!({}))
        }
        "group_invite" => Answer::result(
            request,
            json!({"code": "AbC123", "link": "https://chat.whatsapp.com/AbC123"}),
        ),
        "group_join" => Answer::result(request, json!({"chat": GROUP})),
        _ => Answer::error(request, -32601, "method_not_found", "no such method"),
    }
}

#[test]
fn info_prints_the_fields_and_a_participant_table() {
    let fake = Fake::start(answer);
    let (request, out) = fake.one(&["group", "info", GROUP]);
    assert_eq!(
        request,
        json!({"method": "group_info", "params": {"chat": GROUP}})
    );
    assert_eq!(
        out,
        "FIELD       VALUE\n\
         group       4915100000000-1600000000@g.us\n\
         subject     Sim?[2J Friends\n\
         owner       4915100000000@s.whatsapp.net\n\
         created     1600000000\n\
         description -\n\
         announce    on\n\
         restrict    off\n\
         ephemeral   604800 s\n\
         \n\
         JID                          ROLE\n\
         4915100000000@s.whatsapp.net super admin\n\
         4915100000001@s.whatsapp.net admin\n\
         4915100000002@s.whatsapp.net member\n"
    );
    let (_, out) = fake.one(&["--json", "group", "info", GROUP]);
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["ephemeral_s"], 604800);
    let (result, _) = fake.run(&["group", "info", "1-2@g.us"]);
    assert_eq!(result.unwrap_err().code, exit::FAILURE);
}

#[test]
fn every_subcommand_sends_its_params() {
    let fake = Fake::start(answer);
    let (request, out) = fake.one(&["group", "create", "Lunch", "4915100000001", "4915100000002"]);
    assert_eq!(
        request,
        json!({"method": "group_create", "params": {"subject": "Lunch", "participants": ["4915100000001", "4915100000002"]}})
    );
    assert_eq!(
        out,
        "created 4915100000000-1600000100@g.us\n\
         JID                          STATUS\n\
         4915100000001@s.whatsapp.net 200\n\
         4915100000002@s.whatsapp.net 200\n"
    );
    for action in ["add", "remove", "promote", "demote"] {
        let (request, out) = fake.one(&["group", action, GROUP, "4915100000004"]);
        assert_eq!(
            request,
            json!({"method": "group_participants", "params": {"chat": GROUP, "action": action, "participants": ["4915100000004"]}})
        );
        assert!(out.ends_with("4915100000004@s.whatsapp.net 200\n"), "{out}");
    }
    let cases: [(&[&str], Value, &str); 7] = [
        (
            &["group", "leave", GROUP],
            json!({"method": "group_leave", "params": {"chat": GROUP}}),
            "left 4915100000000-1600000000@g.us\n",
        ),
        (
            &["group", "subject", GROUP, "Lunch crew"],
            json!({"method": "group_subject", "params": {"chat": GROUP, "subject": "Lunch crew"}}),
            "renamed 4915100000000-1600000000@g.us\n",
        ),
        (
            &["group", "description", GROUP, ""],
            json!({"method": "group_description", "params": {"chat": GROUP, "description": ""}}),
            "set the description of 4915100000000-1600000000@g.us\n",
        ),
        (
            &[
                "group",
                "settings",
                GROUP,
                "--announce",
                "on",
                "--restrict",
                "off",
                "--ephemeral",
                "0",
            ],
            json!({"method": "group_settings", "params": {"chat": GROUP, "announce": true, "restrict": false, "ephemeral_s": 0}}),
            "changed the settings of 4915100000000-1600000000@g.us\n",
        ),
        (
            &["group", "invite", GROUP, "--reset"],
            json!({"method": "group_invite", "params": {"chat": GROUP, "reset": true}}),
            "https://chat.whatsapp.com/AbC123\n",
        ),
        (
            &["group", "join", "https://chat.whatsapp.com/AbC123"],
            json!({"method": "group_join", "params": {"link": "https://chat.whatsapp.com/AbC123"}}),
            "joined 4915100000000-1600000000@g.us\n",
        ),
        (
            &["group", "join", "AbC123"],
            json!({"method": "group_join", "params": {"code": "AbC123"}}),
            "joined 4915100000000-1600000000@g.us\n",
        ),
    ];
    for (args, expected, printed) in cases {
        let (request, out) = fake.one(args);
        assert_eq!(request, expected, "{args:?}");
        assert_eq!(out, printed, "{args:?}");
    }
    let (request, out) = fake.one(&["--json", "group", "settings", GROUP, "--announce", "off"]);
    assert_eq!(request["params"], json!({"chat": GROUP, "announce": false}));
    assert_eq!(out, "{}\n");
}
