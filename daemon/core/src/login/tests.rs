//! Tests of the login state machine: pairing, reref, restore and challenge, frame by frame.

use super::*;
use crate::testing::credentials;

fn settings() -> Settings {
    Settings {
        version: [2, 2142, 12],
        browser: ["Linux".into(), "wawebd".into(), "0.1.0".into()],
        reref_budget: 2,
    }
}

fn sends(outputs: &[Output]) -> Vec<(String, Value)> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Send { tag, json } => Some((tag.clone(), json.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn pairing_shows_each_ref_then_gives_up() {
    let mut tags = TagCounter::new(1_600_000_000);
    let keys = KeyPair::from_private(&[9; 32]);
    let public = BASE64.encode(keys.public());
    let (mut login, out) = Login::pair(settings(), "cid==".into(), keys, &mut tags);
    let sent = sends(&out);
    assert_eq!(sent[0].0, "0.--0");
    assert_eq!(
        sent[0].1,
        json!([
            "admin",
            "init",
            [2, 2142, 12],
            ["Linux", "wawebd", "0.1.0"],
            "cid==",
            true
        ])
    );
    let out = login
        .on_json(
            "0.--0",
            &json!({"status": 200, "ref": "1@a", "ttl": 500}),
            &mut tags,
        )
        .unwrap();
    match &out[..] {
        [
            Output::Qr {
                content,
                attempt: 1,
                attempts_max: 3,
                ttl,
                ..
            },
            Output::ArmRefTimer(timer),
        ] => {
            assert_eq!(content, &format!("1@a,{public},cid=="));
            assert_eq!(
                (*ttl, *timer),
                (Duration::from_millis(500), Duration::from_millis(500))
            );
        }
        other => panic!("{other:?}"),
    }
    let out = login.on_ref_expired(&mut tags);
    assert_eq!(
        sends(&out),
        vec![("0.--1".into(), json!(["admin", "Conn", "reref"]))]
    );
    // A second timer while the reref is out changes nothing.
    assert!(login.on_ref_expired(&mut tags).is_empty());
    let out = login
        .on_json("0.--1", &json!({"status": 304}), &mut tags)
        .unwrap();
    assert!(matches!(&out[..], [Output::ArmRefTimer(ttl)] if *ttl == Duration::from_millis(500)));
    let out = login.on_ref_expired(&mut tags);
    let out = login
        .on_json(
            &sends(&out)[0].0,
            &json!({"status": 200, "ref": "1@b"}),
            &mut tags,
        )
        .unwrap();
    assert!(matches!(&out[0], Output::Qr { attempt: 2, ttl, .. } if *ttl == DEFAULT_TTL));
    // Budget spent: pairing ends, no loop.
    let out = login.on_ref_expired(&mut tags);
    match &out[..] {
        [Output::Failed(failure)] => {
            assert_eq!(
                (failure.reason.clone(), failure.status),
                (Reason::PairingExpired, None)
            );
            assert!(!failure.retry);
        }
        other => panic!("{other:?}"),
    }
    assert!(login.is_done());
    assert!(
        login
            .on_json("s1", &json!(["Conn", {}]), &mut tags)
            .is_none()
    );
}

#[test]
fn reref_429_ends_pairing() {
    let mut tags = TagCounter::new(0);
    let (mut login, _) = Login::pair(settings(), "c".into(), KeyPair::generate(), &mut tags);
    login.on_json(
        "0.--0",
        &json!({"status": 200, "ref": "1@a", "ttl": 20000}),
        &mut tags,
    );
    let out = login.on_ref_expired(&mut tags);
    let out = login
        .on_json(&sends(&out)[0].0, &json!({"status": 429}), &mut tags)
        .unwrap();
    assert!(matches!(
        &out[..],
        [Output::Failed(Failure {
            reason: Reason::PairingExpired,
            status: Some(429),
            ..
        })]
    ));
}

#[test]
fn scan_derives_the_keys_and_refuses_a_bad_secret() {
    let mut tags = TagCounter::new(0);
    let client = KeyPair::from_private(&[5; 32]);
    let server_keys = SessionKeys::random();
    let secret = server_keys.to_pairing_secret(&KeyPair::generate(), client.public());
    let (mut login, _) = Login::pair(settings(), "c".into(), client, &mut tags);
    login.on_json("0.--0", &json!({"status": 200, "ref": "1@a"}), &mut tags);
    let conn = json!({"secret": BASE64.encode(&secret), "clientToken": "ct", "serverToken": "st",
        "browserToken": "bt", "wid": "49@c.us", "pushname": "Ada", "platform": "android", "phone": {"os_version": "11"}});
    let out = login
        .on_json("s1", &json!(["Conn", conn]), &mut tags)
        .unwrap();
    match &out[..] {
        [
            Output::LoggedIn {
                credentials,
                restored: false,
                ..
            },
        ] => {
            assert_eq!(credentials.keys, server_keys);
            assert_eq!(credentials.client_token.expose(), "ct");
            assert_eq!(credentials.wid, "49@c.us");
            let me = me_from_conn(&conn, credentials);
            assert_eq!(
                (me.wid.as_str(), me.phone["os_version"].as_str()),
                ("49@s.whatsapp.net", Some("11"))
            );
            assert!(!format!("{credentials:?}").contains("ct\""));
        }
        other => panic!("{other:?}"),
    }

    let mut tampered = secret.clone();
    tampered[40] ^= 1;
    let (mut login, _) = Login::pair(
        settings(),
        "c".into(),
        KeyPair::from_private(&[5; 32]),
        &mut tags,
    );
    login.on_json(
        &login.init_tag.clone(),
        &json!({"status": 200, "ref": "1@a"}),
        &mut tags,
    );
    let out = login
        .on_json(
            "s1",
            &json!(["Conn", {"secret": BASE64.encode(&tampered)}]),
            &mut tags,
        )
        .unwrap();
    assert!(matches!(&out[..], [Output::Failed(failure)] if failure.message.contains("HMAC")));
}

#[test]
fn restore_accepts_conn_and_200_in_either_order() {
    for conn_first in [true, false] {
        let mut tags = TagCounter::new(0);
        let (mut login, out) = Login::restore(settings(), credentials(), &mut tags);
        let sent = sends(&out);
        assert_eq!(
            sent[1],
            (
                "0.--1".into(),
                json!([
                    "admin",
                    "login",
                    "ct1",
                    "1@st1",
                    "AAECAwQFBgcICQoLDA0ODw==",
                    "takeover"
                ])
            )
        );
        assert!(
            login
                .on_json("0.--0", &json!({"status": 200, "ref": "x"}), &mut tags)
                .unwrap()
                .is_empty()
        );
        let conn =
            json!(["Conn", {"clientToken": "ct2", "serverToken": "1@st2", "wid": "49@c.us"}]);
        let ok = json!({"status": 200});
        let (first, second) = if conn_first {
            (("s1", &conn), ("0.--1", &ok))
        } else {
            (("0.--1", &ok), ("s1", &conn))
        };
        assert!(
            login
                .on_json(first.0, first.1, &mut tags)
                .unwrap()
                .is_empty()
        );
        let out = login.on_json(second.0, second.1, &mut tags).unwrap();
        match &out[..] {
            [
                Output::LoggedIn {
                    credentials,
                    restored: true,
                    challenged: false,
                    ..
                },
            ] => {
                assert_eq!(credentials.client_token.expose(), "ct2");
                assert_eq!(credentials.server_token.expose(), "1@st2");
                assert_eq!(
                    credentials.browser_token.expose(),
                    "1@bt1",
                    "kept when absent"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn restore_answers_the_challenge_with_the_mac_key() {
    let mut tags = TagCounter::new(0);
    let (mut login, _) = Login::restore(settings(), credentials(), &mut tags);
    let challenge = BASE64.encode([0u8, 1, 2, 3]);
    let out = login
        .on_json(
            "s1",
            &json!(["Cmd", {"type": "challenge", "challenge": challenge}]),
            &mut tags,
        )
        .unwrap();
    let sent = sends(&out);
    let expected = credentials().keys.challenge_answer(&[0, 1, 2, 3]);
    assert_eq!(
        sent[0],
        (
            "0.--2".into(),
            json!([
                "admin",
                "challenge",
                expected,
                "1@st1",
                "AAECAwQFBgcICQoLDA0ODw=="
            ])
        )
    );
    assert!(matches!(out[1], Output::Challenged));
    assert!(
        login
            .on_json("0.--2", &json!({"status": 200}), &mut tags)
            .unwrap()
            .is_empty()
    );
    assert!(
        login
            .on_json("s2", &json!(["Conn", {}]), &mut tags)
            .unwrap()
            .is_empty()
    );
    let out = login
        .on_json("0.--1", &json!({"status": 200}), &mut tags)
        .unwrap();
    assert!(matches!(
        &out[..],
        [Output::LoggedIn {
            challenged: true,
            ..
        }]
    ));
}

#[test]
fn refusals_map_to_reasons_and_actions() {
    let cases = [
        (401, Reason::Unpaired, true, false),
        (403, Reason::Forbidden, false, false),
        (405, Reason::AlreadyLoggedIn, false, true),
        (409, Reason::LoggedInElsewhere, false, true),
        (419, Reason::SessionInvalid, true, false),
        (429, Reason::Other("login_refused".into()), false, true),
        (503, Reason::Other("login_refused".into()), false, true),
    ];
    for (status, reason, erase, retry) in cases {
        let mut tags = TagCounter::new(0);
        let (mut login, _) = Login::restore(settings(), credentials(), &mut tags);
        let out = login
            .on_json("0.--1", &json!({"status": status}), &mut tags)
            .unwrap();
        match &out[..] {
            [Output::Failed(failure)] => {
                assert_eq!(failure.reason, reason, "{status}");
                assert_eq!(
                    (failure.erase_session, failure.retry, failure.status),
                    (erase, retry, Some(status))
                );
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    // 405 after Conn is a login with the new tokens.
    let mut tags = TagCounter::new(0);
    let (mut login, _) = Login::restore(settings(), credentials(), &mut tags);
    login.on_json("s1", &json!(["Conn", {"clientToken": "ct9"}]), &mut tags);
    let out = login
        .on_json("0.--1", &json!({"status": 405}), &mut tags)
        .unwrap();
    assert!(
        matches!(&out[..], [Output::LoggedIn { credentials, .. }] if credentials.client_token.expose() == "ct9")
    );
    // Frames that are not part of the login are left to the caller.
    let mut tags = TagCounter::new(0);
    let (mut login, _) = Login::restore(settings(), credentials(), &mut tags);
    assert!(
        login
            .on_json("s3", &json!(["Props", {}]), &mut tags)
            .is_none()
    );
    assert!(
        login
            .on_json("0.--0", &json!(["not", "an", "object"]), &mut tags)
            .is_some()
    );
}
