//! No secret in any log line (issue 13, "Secrets"; docs/DESIGN.md 15.2): the real daemon at
//! `trace` for every crate pairs, restores, sends every kind of message the socket offers,
//! receives and downloads, and logs out; then every line it logged is searched for every key,
//! token, QR part, media key and message text it handled, each in the forms a careless log
//! line would take (base64 padded or not, URL-safe, hex in either case, a byte list, JSON).

mod support;

use std::io::Read;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use support::{Client, Daemon, Sim, paired_with_qr};

const ALICE: &str = "4915100000001@s.whatsapp.net";
const BOB: &str = "4915100000002";

/// Forms shorter than this are not searched: they would match by chance.
const MIN_FORM: usize = 8;

/// One secret the daemon handled: its name (printed) and the forms it is searched in (never
/// printed).
struct Secret {
    name: String,
    forms: Vec<(&'static str, String)>,
}

impl Secret {
    /// A value in its raw form and, when it is base64 (a key, a token, a QR part), every
    /// encoding of its bytes; otherwise (a text) its JSON-escaped form and its bytes in hex
    /// and base64, as a frame dump would show them.
    fn new(name: impl Into<String>, value: &str) -> Secret {
        let mut forms = vec![("raw", value.to_owned())];
        match decode_base64(value) {
            Some(bytes) => forms.extend(byte_forms(&bytes)),
            None => {
                let escaped = serde_json::to_string(value).unwrap();
                forms.push(("JSON-escaped", escaped.trim_matches('"').to_owned()));
                forms.push(("hex", hex(value.as_bytes(), false)));
                forms.push(("HEX", hex(value.as_bytes(), true)));
                forms.push(("base64", STANDARD.encode(value)));
                forms.push(("base64 without padding", STANDARD_NO_PAD.encode(value)));
            }
        }
        forms.retain(|(_, form)| form.len() >= MIN_FORM);
        forms.dedup_by(|a, b| a.1 == b.1);
        Secret {
            name: name.into(),
            forms,
        }
    }
}

/// Standard or URL-safe base64, padded or not, of at least 8 bytes; a `1@` style prefix of
/// the server's tokens is allowed.
fn decode_base64(value: &str) -> Option<Vec<u8>> {
    let body = value.split_once('@').map_or(value, |(_, body)| body);
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(body).ok())
        .filter(|bytes| bytes.len() >= 8)
}

fn byte_forms(bytes: &[u8]) -> Vec<(&'static str, String)> {
    let list: Vec<String> = bytes.iter().map(u8::to_string).collect();
    vec![
        ("base64", STANDARD.encode(bytes)),
        ("base64 without padding", STANDARD_NO_PAD.encode(bytes)),
        ("URL-safe base64", URL_SAFE.encode(bytes)),
        (
            "URL-safe base64 without padding",
            URL_SAFE_NO_PAD.encode(bytes),
        ),
        ("hex", hex(bytes, false)),
        ("HEX", hex(bytes, true)),
        ("byte list", list.join(", ")),
    ]
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|byte| {
            if upper {
                format!("{byte:02X}")
            } else {
                format!("{byte:02x}")
            }
        })
        .collect()
}

/// Every (line number, secret's name, form) where a line of `log` contains a secret.
fn leaks(log: &str, secrets: &[Secret]) -> Vec<String> {
    let mut found = Vec::new();
    for (number, line) in log.lines().enumerate() {
        for secret in secrets {
            if let Some((form, _)) = secret.forms.iter().find(|(_, form)| line.contains(form)) {
                found.push(format!("line {}: {} ({form})", number + 1, secret.name));
            }
        }
    }
    found
}

#[test]
fn the_matcher_finds_every_form_and_never_prints_the_secret() {
    let key = STANDARD.encode([7u8, 200, 13, 99, 250, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    let secrets = [
        Secret::new("encKey", &key),
        Secret::new("text 1", "quiet words 81f3a9"),
        Secret::new("serverToken", "1@QUJDREVGR0hJSktMTU5PUA=="),
    ];
    assert_eq!(secrets[0].forms.len(), 7, "every encoding of a key");
    for secret in &secrets {
        for (form, value) in &secret.forms {
            let log = format!("first line\nsecond\n2026 TRACE frame payload={value} end\n");
            let found = leaks(&log, &secrets);
            assert_eq!(found.len(), 1, "{} as {form}: {found:?}", secret.name);
            assert!(found[0].starts_with("line 3: "), "{found:?}");
            assert!(found[0].contains(&secret.name), "{found:?}");
            assert!(
                !found[0].contains(value.as_str()),
                "the report names, never shows"
            );
        }
    }
    assert!(leaks("nothing here\nTRACE state=connected\n", &secrets).is_empty());
}

/// A text nobody else would write: 96 random bits in hex inside words.
fn unique_text(what: &str) -> String {
    let mut bytes = [0u8; 12];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    format!("{what} {} zz", hex(&bytes, false))
}

/// Every string field of the session file that is not the account's public name or number.
fn session_secrets(daemon: &Daemon, when: &str) -> Vec<Secret> {
    let text = std::fs::read_to_string(daemon.state.join("session.json")).unwrap();
    let session: Value = serde_json::from_str(&text).unwrap();
    let secrets: Vec<Secret> = session
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "version" | "wid" | "pushname"))
        .map(|(name, value)| Secret::new(format!("{name} ({when})"), value.as_str().unwrap()))
        .collect();
    assert!(
        secrets.len() >= 6,
        "ids, tokens and keys: {}",
        secrets.len()
    );
    secrets
}

/// Calls `method` and expects the server's 200.
fn sent(client: &mut Client, id: u64, method: &str, params: Value) -> Value {
    let result = client
        .call(id, method, params)
        .unwrap_or_else(|error| panic!("{method}: {error}"));
    assert_eq!(result["status"], 200, "{method}: {result}");
    result
}

/// The next message event of a live message from the contact.
fn received(client: &mut Client) -> Value {
    loop {
        let message = client.event("message");
        if message["source"] == "live" && message["from_me"] == false {
            return message;
        }
    }
}

/// A unique text (see [`unique_text`]), added to `secrets` under `what`.
fn text(what: &str, secrets: &mut Vec<Secret>) -> String {
    let text = unique_text(what);
    secrets.push(Secret::new(what, &text));
    text
}

/// Pairs at trace, receives a text, and restores after a restart, answering a challenge (it
/// signs with the keys). The session's secrets (QR, the session file after pairing and after
/// the restore, the media hosts' `auth`), the texts, and the message received.
fn pair_receive_restore() -> (Sim, Daemon, Client, Vec<Secret>, Vec<Secret>, Value) {
    let (mut sim, mut daemon, mut client, qr) = paired_with_qr(|command, _| {
        command.env("WAWEBD_LOG", "trace");
    });
    let mut session: Vec<Secret> = qr
        .split(',')
        .enumerate()
        .map(|(n, part)| Secret::new(format!("QR part {n}"), part))
        .collect();
    session.push(Secret::new("QR content", &qr));
    session.extend(session_secrets(&daemon, "paired"));
    let mut texts = Vec::new();
    let incoming = text("received text", &mut texts);
    sim.command(json!({"cmd": "send_text", "from": ALICE, "text": incoming}));
    let message = received(&mut client);
    assert_eq!(message["text"], incoming.as_str());

    sim.command(json!({"cmd": "challenge_next"}));
    daemon.kill();
    daemon.restart();
    let mut client = Client::connect(&daemon.socket);
    client.call(1, "subscribe", json!({})).unwrap();
    if client.call(2, "status", json!({})).unwrap()["state"] != "connected" {
        client.event("connected");
    }
    session.extend(session_secrets(&daemon, "restored"));
    let conn = client
        .call(3, "query", json!({"json": ["query", "mediaConn"]}))
        .unwrap();
    let auth = conn["reply"]["media_conn"]["auth"].as_str().unwrap();
    session.push(Secret::new("mediaConn auth", auth));
    (sim, daemon, client, session, texts, message)
}

/// Every kind of send the socket offers; the first upload host fails once, so the fallback's
/// warning (which names the host, not the URL with the `auth`) is logged.
fn send_every_kind(
    sim: &mut Sim,
    daemon: &Daemon,
    client: &mut Client,
    incoming: &Value,
) -> Vec<Secret> {
    let mut secrets = Vec::new();
    let reply = text("sent text", &mut secrets);
    let mine = sent(client, 10, "send_text", json!({"to": ALICE, "text": reply}));
    let document = daemon.dir.path().join("report.pdf");
    std::fs::write(&document, unique_text("document body").repeat(40)).unwrap();
    let caption = text("sent caption", &mut secrets);
    sim.command(json!({"cmd": "fail_upload", "status": 503}));
    for (id, params) in [
        (
            11,
            json!({"to": ALICE, "kind": "document", "path": document}),
        ),
        (
            12,
            json!({"to": ALICE, "kind": "image", "path": picture(daemon), "caption": caption}),
        ),
    ] {
        let media = sent(client, id, "send_media", params);
        secrets.push(Secret::new(
            format!("sent media key {id}"),
            media["media"]["media_key"].as_str().unwrap(),
        ));
    }
    let (place, street) = (
        text("location name", &mut secrets),
        text("location address", &mut secrets),
    );
    sent(
        client,
        13,
        "send_location",
        json!({"to": ALICE, "latitude": 52.5, "longitude": 13.4, "name": place, "address": street}),
    );
    let card = text("contact name", &mut secrets);
    let vcard = format!("BEGIN:VCARD\nVERSION:3.0\nFN:{card}\nEND:VCARD");
    sent(
        client,
        14,
        "send_contact",
        json!({"to": ALICE, "contacts": [{"display_name": card, "vcard": vcard}]}),
    );
    let reference = json!({"chat": ALICE, "id": incoming["id"], "from_me": false});
    sent(
        client,
        15,
        "forward",
        json!({"to": BOB, "message": reference}),
    );
    let reference = json!({"chat": ALICE, "id": mine["id"], "from_me": true});
    sent(client, 16, "revoke", json!({"message": reference}));
    // The profile's text is the user's words too.
    let about = text("about text", &mut secrets);
    client
        .call(17, "set_about", json!({"text": about}))
        .unwrap();
    secrets
}

/// A picture from the contact, downloaded, and a download with a wrong key: its error and
/// log line name no key either.
fn receive_and_download(sim: &mut Sim, daemon: &Daemon, client: &mut Client) -> Vec<Secret> {
    let mut secrets = Vec::new();
    let caption = text("received caption", &mut secrets);
    sim.command(json!({"cmd": "send_media", "from": ALICE, "kind": "image", "path": picture(daemon), "caption": caption}));
    let media = received(client)["media"].clone();
    let key = media["media_key"].as_str().unwrap();
    secrets.push(Secret::new("received media key", key));
    let output = daemon.dir.path().join("downloaded.jpg");
    let params = json!({"media": media, "output": output});
    let download = client.call(20, "media_download", params).unwrap();
    assert_eq!(download["bytes"], media["file_length"]);
    let mut wrong = media.clone();
    let wrong_key = STANDARD.encode(&unique_text("wrong key").as_bytes()[..32]);
    wrong["media_key"] = json!(wrong_key);
    secrets.push(Secret::new("wrong media key", &wrong_key));
    let params = json!({"media": wrong, "output": output});
    let error = client.call(21, "media_download", params).unwrap_err();
    assert_eq!(error["code"], -32006, "{error}");
    secrets
}

#[test]
fn no_key_token_qr_or_text_in_any_trace_line() {
    let (mut sim, mut daemon, mut client, session, mut secrets, incoming) = pair_receive_restore();
    secrets.extend(send_every_kind(&mut sim, &daemon, &mut client, &incoming));
    secrets.extend(receive_and_download(&mut sim, &daemon, &mut client));
    let logout = client.call(30, "logout", json!({})).unwrap();
    assert_eq!(logout["server_notified"], true, "{logout}");
    stop(&mut daemon);

    // The database holds messages (texts, media keys) by design, never the session's
    // secrets (docs/DESIGN.md section 3): `qr` events are not journaled.
    let mut database = Vec::new();
    for name in ["waweb.db", "waweb.db-wal"] {
        database.extend(std::fs::read(daemon.state.join(name)).unwrap_or_default());
    }
    let database = String::from_utf8_lossy(&database);
    let found = leaks(&database, &session);
    assert!(
        found.is_empty(),
        "session secrets in waweb.db:\n{}",
        found.join("\n")
    );
    // The search sees what is stored: the texts are there.
    assert!(
        !leaks(&database, &secrets[..1]).is_empty(),
        "the database was not searched"
    );

    let log = daemon.log();
    // Every crate at trace (hyper's connection pool says so), and one line per message.
    let messages = log
        .lines()
        .filter(|line| line.contains(" message chat="))
        .count();
    assert!(
        log.contains(" TRACE ") && messages >= 9,
        "the daemon logged at trace: {} lines, {messages} message lines",
        log.lines().count()
    );
    assert!(
        log.contains("upload failed, trying the next host"),
        "no upload warning"
    );
    secrets.extend(session);
    let found = leaks(&log, &secrets);
    assert!(
        found.is_empty(),
        "secrets in {} ({} of {} lines):\n{}",
        daemon.dir.path().join("daemon.log").display(),
        found.len(),
        log.lines().count(),
        found.join("\n")
    );
}

/// `cat.png` in the test's folder (written once).
fn picture(daemon: &Daemon) -> std::path::PathBuf {
    let path = daemon.dir.path().join("cat.png");
    if !path.exists() {
        std::fs::write(&path, png()).unwrap();
    }
    path
}

/// A small PNG, so that the image is measured and gets a thumbnail.
fn png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 9, y as u8 * 20, 7]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// SIGTERM, and waits: the shutdown's lines are in the log too.
fn stop(daemon: &mut Daemon) {
    let pid = daemon.child.0.id().to_string();
    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    let status = daemon.child.0.wait().unwrap();
    assert!(status.success(), "{status}");
}
