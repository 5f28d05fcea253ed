//! Groups (DESIGN.md 8): every group method against the simulator's real groups, what each
//! change pushes back (the `group` events), and every refusal with the service's status (not
//! an admin, not a member, an unknown group, a bad invite code) or -32602 for bad params.

use serde_json::{Value, json};

use crate::support::{Client, Harness};

const ME: &str = "4915100000000@s.whatsapp.net";
const ALICE: &str = "4915100000001@s.whatsapp.net";
const BOB: &str = "4915100000002@s.whatsapp.net";
const CAROL: &str = "4915100000003@s.whatsapp.net";
const DAVE: &str = "4915100000004@s.whatsapp.net";
const GROUP: &str = "4915100000000-1600000000@g.us";

async fn ok(client: &mut Client, method: &str, params: Value) -> Value {
    client
        .call(method, params.clone())
        .await
        .unwrap_or_else(|error| panic!("{method} {params}: {error}"))
}

/// The error of a call that must fail with `code` (and, for -32004, the server's `status`).
async fn refused(client: &mut Client, method: &str, params: Value, code: i64, status: Option<u64>) {
    let error = client
        .call(method, params.clone())
        .await
        .expect_err(&format!("{method} {params} succeeded"));
    assert_eq!(error["code"], code, "{method} {params}: {error}");
    if let Some(status) = status {
        assert_eq!(
            error["data"]["status"], status,
            "{method} {params}: {error}"
        );
    }
}

/// Each call must be refused by the server with `status` (-32004).
async fn server_refuses<const N: usize>(
    client: &mut Client,
    status: u64,
    calls: [(&str, Value); N],
) {
    for (method, params) in calls {
        refused(client, method, params, -32004, Some(status)).await;
    }
}

async fn info(client: &mut Client, chat: &str) -> Value {
    ok(client, "group_info", json!({"chat": chat})).await
}

/// The role of `jid` in `info`: (admin, super_admin), or `None` when not in the group.
fn role(info: &Value, jid: &str) -> Option<(bool, bool)> {
    info["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|participant| participant["jid"] == jid)
        .map(|p| (p["admin"] == true, p["super_admin"] == true))
}

async fn group_event(client: &mut Client, action: &str) -> Value {
    let event = client.event("group").await;
    assert_eq!(event["action"], action, "{event}");
    event
}

/// Someone else changes a group (the simulator's `group` command); its event arrives.
async fn someone(harness: &Harness, client: &mut Client, command: Value) -> Value {
    harness.sim_command(command.clone()).await;
    group_event(client, command["action"].as_str().unwrap()).await
}

#[tokio::test]
async fn create_and_change_participants_as_the_admin() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;

    let start = info(&mut client, GROUP).await;
    assert_eq!(
        (&start["subject"], &start["owner"], &start["created"]),
        (&json!("Sim Friends"), &json!(ME), &json!(1_600_000_000))
    );
    assert_eq!(start["participants"].as_array().unwrap().len(), 4);
    assert_eq!(role(&start, ME), Some((true, true)));
    assert_eq!(role(&start, ALICE), Some((false, false)));
    assert_eq!(
        (
            &start["announce"],
            &start["restrict"],
            &start["ephemeral_s"],
            &start["description"]
        ),
        (&json!(false), &json!(false), &Value::Null, &Value::Null)
    );

    let created = ok(
        &mut client,
        "group_create",
        json!({"subject": "Lunch", "participants": ["+49 151 00000001", "4915100000004@c.us"]}),
    )
    .await;
    let chat = created["chat"].as_str().unwrap().to_owned();
    assert!(
        chat.starts_with("4915100000000-") && chat.ends_with("@g.us"),
        "{chat}"
    );
    assert_eq!(
        created["participants"],
        json!([{"jid": ALICE, "status": 200}, {"jid": DAVE, "status": 200}])
    );
    let event = group_event(&mut client, "create").await;
    assert_eq!(
        (&event["chat"], &event["subject"]),
        (&json!(chat), &json!("Lunch"))
    );
    let new = info(&mut client, &chat).await;
    assert_eq!(new["subject"], "Lunch");
    assert_eq!(role(&new, ME), Some((true, true)));
    assert_eq!(role(&new, DAVE), Some((false, false)));
    change_participants(&mut client, &chat).await;
}

/// As the admin of `chat` (with Alice and Dave in it): add, promote, demote, remove, each with
/// its per-participant statuses and its event.
async fn change_participants(client: &mut Client, chat: &str) {
    let call =
        |action: &str, who: Value| json!({"chat": chat, "action": action, "participants": who});
    let added = ok(
        client,
        "group_participants",
        call("add", json!([BOB, ALICE])),
    )
    .await;
    assert_eq!(
        added["participants"],
        json!([{"jid": BOB, "status": 200}, {"jid": ALICE, "status": 409}])
    );
    let event = group_event(client, "add").await;
    assert_eq!(
        (&event["participants"], &event["actor"]),
        (&json!([BOB]), &json!(ME))
    );

    let promoted = ok(
        client,
        "group_participants",
        call("promote", json!([ALICE, CAROL])),
    )
    .await;
    assert_eq!(
        promoted["participants"],
        json!([{"jid": ALICE, "status": 200}, {"jid": CAROL, "status": 404}])
    );
    assert_eq!(
        group_event(client, "promote").await["participants"],
        json!([ALICE])
    );
    assert_eq!(role(&info(client, chat).await, ALICE), Some((true, false)));

    let demoted = ok(
        client,
        "group_participants",
        call("demote", json!([ALICE, ME])),
    )
    .await;
    assert_eq!(
        demoted["participants"],
        json!([{"jid": ALICE, "status": 200}, {"jid": ME, "status": 403}])
    );
    group_event(client, "demote").await;

    let removed = ok(client, "group_participants", call("remove", json!([BOB]))).await;
    assert_eq!(
        removed["participants"],
        json!([{"jid": BOB, "status": 200}])
    );
    assert_eq!(
        group_event(client, "remove").await["participants"],
        json!([BOB])
    );
    let after = info(client, chat).await;
    assert_eq!(role(&after, BOB), None);
    assert_eq!(role(&after, ALICE), Some((false, false)));
}

#[tokio::test]
async fn subject_description_and_settings_change_the_group() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;

    ok(
        &mut client,
        "group_subject",
        json!({"chat": GROUP, "subject": "Lunch crew"}),
    )
    .await;
    let event = group_event(&mut client, "subject").await;
    assert_eq!(
        (&event["subject"], &event["actor"]),
        (&json!("Lunch crew"), &json!(ME))
    );
    assert_eq!(info(&mut client, GROUP).await["subject"], "Lunch crew");

    ok(
        &mut client,
        "group_description",
        json!({"chat": GROUP, "description": "noon"}),
    )
    .await;
    assert_eq!(
        group_event(&mut client, "description").await["value"],
        "noon"
    );
    // The second names the first as `prev`, which the service checks.
    ok(
        &mut client,
        "group_description",
        json!({"chat": GROUP, "description": "1 pm, daily"}),
    )
    .await;
    assert_eq!(
        group_event(&mut client, "description").await["value"],
        "1 pm, daily"
    );
    assert_eq!(info(&mut client, GROUP).await["description"], "1 pm, daily");

    ok(
        &mut client,
        "group_settings",
        json!({"chat": GROUP, "announce": true, "restrict": true, "ephemeral_s": 86400}),
    )
    .await;
    for (action, value) in [
        ("announce", "on"),
        ("restrict", "on"),
        ("ephemeral", "86400"),
    ] {
        assert_eq!(group_event(&mut client, action).await["value"], value);
    }
    let changed = info(&mut client, GROUP).await;
    assert_eq!(
        (
            &changed["announce"],
            &changed["restrict"],
            &changed["ephemeral_s"]
        ),
        (&json!(true), &json!(true), &json!(86400))
    );
    ok(
        &mut client,
        "group_settings",
        json!({"chat": GROUP, "announce": false, "ephemeral_s": 0}),
    )
    .await;
    let changed = info(&mut client, GROUP).await;
    assert_eq!(
        (
            &changed["announce"],
            &changed["restrict"],
            &changed["ephemeral_s"]
        ),
        (&json!(false), &json!(true), &Value::Null)
    );

    // Bad params never reach the server.
    let long = "x".repeat(26);
    for (method, params) in [
        ("group_subject", json!({"chat": GROUP, "subject": long})),
        ("group_subject", json!({"chat": GROUP, "subject": "  "})),
        ("group_subject", json!({"chat": ALICE, "subject": "Hi"})),
        (
            "group_description",
            json!({"chat": GROUP, "description": "x".repeat(513)}),
        ),
        ("group_settings", json!({"chat": GROUP})),
        ("group_settings", json!({"chat": GROUP, "announce": "yes"})),
        ("group_info", json!({"chat": "not a jid"})),
        ("group_create", json!({"subject": "S", "participants": []})),
        (
            "group_create",
            json!({"subject": "S", "participants": [GROUP]}),
        ),
        (
            "group_participants",
            json!({"chat": GROUP, "action": "kick", "participants": [ALICE]}),
        ),
        ("group_join", json!({"link": "https://example.com/AbC"})),
        (
            "group_join",
            json!({"code": "AbC", "link": "https://chat.whatsapp.com/AbC"}),
        ),
        ("group_join", json!({})),
    ] {
        refused(&mut client, method, params, -32602, None).await;
    }
}

#[tokio::test]
async fn invites_join_and_leaving_and_what_members_may_not_do() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;

    let first = ok(&mut client, "group_invite", json!({"chat": GROUP})).await;
    let code = first["code"].as_str().unwrap().to_owned();
    assert_eq!(first["link"], format!("https://chat.whatsapp.com/{code}"));
    assert_eq!(
        ok(&mut client, "group_invite", json!({"chat": GROUP})).await,
        first
    );
    let reset = ok(
        &mut client,
        "group_invite",
        json!({"chat": GROUP, "reset": true}),
    )
    .await;
    assert_ne!(reset["code"], first["code"]);
    group_event(&mut client, "invite").await;

    ok(&mut client, "group_leave", json!({"chat": GROUP})).await;
    let event = group_event(&mut client, "leave").await;
    assert_eq!(event["participants"], json!([ME]));
    // Not a member: no metadata, no invite code, no changes, no sending.
    let not_member = [
        ("group_info", json!({"chat": GROUP})),
        ("group_invite", json!({"chat": GROUP})),
        ("group_leave", json!({"chat": GROUP})),
        ("send_text", json!({"to": GROUP, "text": "hi"})),
    ];
    server_refuses(&mut client, 401, not_member).await;

    // The old code no longer works; the new link joins, once.
    server_refuses(&mut client, 404, [("group_join", json!({"code": code}))]).await;
    let link = reset["link"].clone();
    let joined = ok(&mut client, "group_join", json!({"link": link})).await;
    assert_eq!(joined, json!({"chat": GROUP}));
    let event = group_event(&mut client, "add").await;
    assert_eq!(event["participants"], json!([ME]));
    server_refuses(&mut client, 409, [("group_join", json!({"link": link}))]).await;

    // Back as an ordinary member (Alice took over as admin when the last one left).
    let now = info(&mut client, GROUP).await;
    assert_eq!(role(&now, ME), Some((false, false)));
    assert_eq!(role(&now, ALICE), Some((true, false)));
    let add = json!({"chat": GROUP, "action": "add", "participants": [DAVE]});
    let promote = json!({"chat": GROUP, "action": "promote", "participants": [ME]});
    let not_admin = [
        ("group_participants", add),
        ("group_participants", promote),
        ("group_settings", json!({"chat": GROUP, "announce": true})),
        ("group_invite", json!({"chat": GROUP})),
        ("group_invite", json!({"chat": GROUP, "reset": true})),
    ];
    server_refuses(&mut client, 401, not_admin).await;
    // Without `restrict` a member may rename the group; an announce group they may not write in.
    let rename = json!({"chat": GROUP, "subject": "Ours"});
    ok(&mut client, "group_subject", rename).await;
    group_event(&mut client, "subject").await;
    let announce =
        json!({"cmd": "group", "action": "announce", "chat": GROUP, "actor": ALICE, "value": "on"});
    someone(&harness, &mut client, announce).await;
    let send = [("send_text", json!({"to": GROUP, "text": "hi"}))];
    server_refuses(&mut client, 401, send).await;
    let restrict =
        json!({"cmd": "group", "action": "restrict", "chat": GROUP, "actor": ALICE, "value": "on"});
    someone(&harness, &mut client, restrict).await;
    let edits = [
        ("group_subject", json!({"chat": GROUP, "subject": "Mine"})),
        (
            "group_description",
            json!({"chat": GROUP, "description": "d"}),
        ),
    ];
    server_refuses(&mut client, 401, edits).await;
}

#[tokio::test]
async fn unknown_groups_and_the_group_command_update_the_state() {
    let mut harness = Harness::start().await;
    let mut client = harness.client().await;
    // Not logged in: a query, and a set-action (which needs our own JID as its author).
    let create = json!({"subject": "S", "participants": [ALICE]});
    for (method, params) in [
        ("group_info", json!({"chat": GROUP})),
        ("group_create", create),
    ] {
        refused(&mut client, method, params, -32001, None).await;
    }
    let mut client = harness.pair().await;

    let unknown = "4915100000000-1@g.us";
    for (method, params) in [
        ("group_info", json!({"chat": unknown})),
        ("group_invite", json!({"chat": unknown})),
        ("group_leave", json!({"chat": unknown})),
        ("group_subject", json!({"chat": unknown, "subject": "S"})),
        ("group_settings", json!({"chat": unknown, "restrict": true})),
        (
            "group_participants",
            json!({"chat": unknown, "action": "add", "participants": [ALICE]}),
        ),
        ("group_join", json!({"code": "NoSuchCode1"})),
    ] {
        refused(&mut client, method, params, -32004, Some(404)).await; // unknown
    }

    // Someone else's changes, from the simulator's `group` command, are what group_info says.
    someone(&harness, &mut client, json!({"cmd": "group", "action": "add", "chat": GROUP, "actor": ALICE, "participants": ["4915100000004"]})).await;
    someone(&harness, &mut client, json!({"cmd": "group", "action": "subject", "chat": GROUP, "actor": ALICE, "subject": "Renamed"})).await;
    someone(&harness, &mut client, json!({"cmd": "group", "action": "promote", "chat": GROUP, "actor": ME, "participants": [BOB]})).await;
    let now = info(&mut client, GROUP).await;
    assert_eq!(now["subject"], "Renamed");
    assert_eq!(role(&now, DAVE), Some((false, false)));
    assert_eq!(role(&now, BOB), Some((true, false)));
    someone(
        &harness,
        &mut client,
        json!({"cmd": "group", "action": "leave", "chat": GROUP, "actor": BOB}),
    )
    .await;
    assert_eq!(role(&info(&mut client, GROUP).await, BOB), None);
}

#[tokio::test]
async fn wawebctl_group_commands_against_the_daemon() {
    let mut harness = Harness::start().await;
    let mut client = harness.pair().await;
    let socket = harness.socket().to_owned();
    let ctl = |args: &'static [&'static str]| crate::ctl::spawn_ctl(&socket, args);

    let (result, out) = ctl(&["group", "info", GROUP]).await.unwrap();
    assert_eq!(result, Ok(()));
    assert!(out.contains("subject     Sim Friends\n"), "{out}");
    assert!(
        out.ends_with(
            "JID                          ROLE\n\
             4915100000000@s.whatsapp.net super admin\n\
             4915100000001@s.whatsapp.net member\n\
             4915100000002@s.whatsapp.net member\n\
             4915100000003@s.whatsapp.net member\n"
        ),
        "{out}"
    );
    let (result, out) = ctl(&["group", "promote", GROUP, "4915100000001"])
        .await
        .unwrap();
    assert_eq!(
        (result, out.as_str()),
        (
            Ok(()),
            "JID                          STATUS\n4915100000001@s.whatsapp.net 200\n"
        )
    );
    group_event(&mut client, "promote").await;
    let (result, out) = ctl(&["group", "invite", GROUP]).await.unwrap();
    assert_eq!(result, Ok(()));
    assert!(out.starts_with("https://chat.whatsapp.com/"), "{out}");
    let (result, _) = ctl(&["group", "info", "4915100000000-1@g.us"])
        .await
        .unwrap();
    assert!(result.unwrap_err().contains("404"));
}
