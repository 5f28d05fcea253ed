//! `wawebd decode` as a user runs it: the real binary, bytes on stdin, JSON on stdout.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/core/tests/vectors/frames.json"
    )))
    .unwrap()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn wawebd(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ignore a broken pipe: a refused flag exits before reading.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn key_args(vectors: &Value) -> Vec<String> {
    vec![
        "decode".into(),
        "--enc-key".into(),
        vectors["enc_key"].as_str().unwrap().into(),
        "--mac-key".into(),
        vectors["mac_key"].as_str().unwrap().into(),
    ]
}

fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn decodes_each_vector_frame() {
    let vectors = vectors();
    let args = key_args(&vectors);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for case in vectors["frames"].as_array().unwrap() {
        let output = wawebd(&args, &unhex(case["frame"].as_str().unwrap()));
        assert!(
            output.status.success(),
            "{}: {}",
            case["name"],
            String::from_utf8_lossy(&output.stderr)
        );
        let decoded = lines(&output);
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded[0]["tag"], case["tag"]);
        assert_eq!(decoded[0]["node"], case["node"], "{}", case["name"]);
    }
}

#[test]
fn bad_frames_fail_with_one_line() {
    let vectors = vectors();
    let args = key_args(&vectors);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for case in vectors["bad"].as_array().unwrap() {
        let output = wawebd(&args, &unhex(case["frame"].as_str().unwrap()));
        assert!(!output.status.success(), "{}", case["name"]);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("wawebd: "), "{stderr}");
        if case["error"] == "hmac" {
            assert!(stderr.contains("HMAC"), "{stderr}");
        }
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn stream_mode_keeps_going_after_a_bad_frame() {
    let vectors = vectors();
    let mut input = Vec::new();
    let mut push = |frame: &[u8]| {
        input.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        input.extend_from_slice(frame);
    };
    let good = vectors["frames"].as_array().unwrap();
    push(&unhex(good[0]["frame"].as_str().unwrap()));
    push(&unhex(vectors["bad"][0]["frame"].as_str().unwrap()));
    push(b"s1,[\"Conn\",{\"wid\":\"1@c.us\"}]");
    push(b"!1600000000123");
    push(&unhex(good[9]["frame"].as_str().unwrap()));
    let args = key_args(&vectors);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.push("--stream");
    let output = wawebd(&args, &input);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decoded = lines(&output);
    assert_eq!(decoded.len(), 5);
    assert_eq!(decoded[0]["node"], good[0]["node"]);
    assert_eq!(
        decoded[1],
        serde_json::json!({"error": "frame HMAC mismatch"})
    );
    assert_eq!(
        decoded[2],
        serde_json::json!({"tag": "s1", "json": ["Conn", {"wid": "1@c.us"}]})
    );
    assert_eq!(decoded[3], serde_json::json!({"pong": 1600000000123u64}));
    assert_eq!(decoded[4]["node"], good[9]["node"]);

    // A stream cut inside a frame reports it on its own line and fails.
    let mut cut = input.clone();
    cut.extend_from_slice(&[0, 0, 1, 0, 0xf8]);
    let output = wawebd(&args, &cut);
    assert!(!output.status.success());
    let decoded = lines(&output);
    assert_eq!(decoded.len(), 6);
    assert_eq!(
        decoded[5],
        serde_json::json!({"error": "frame 5: truncated (1 of 256 bytes)"})
    );
}

#[test]
fn plain_nodes_and_client_frames() {
    let output = wawebd(&["decode", "--plain"], &unhex("f8048638fc03426f6200"));
    assert!(output.status.success());
    assert_eq!(
        lines(&output)[0],
        serde_json::json!({"tag":"profile","attrs":{"name":"Bob"},"content":[]})
    );

    let mut stream = Vec::new();
    for node in ["f80254fc0442757379", "05"] {
        let bytes = unhex(node);
        stream.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        stream.extend_from_slice(&bytes);
    }
    let output = wawebd(&["decode", "--plain", "--stream"], &stream);
    let decoded = lines(&output);
    assert_eq!(
        decoded[0]["content"],
        serde_json::json!({"base64":"QnVzeQ=="})
    );
    assert_eq!(
        decoded[1],
        serde_json::json!({"error": "invalid list tag 0x05 at offset 0"})
    );

    // PROTOCOL.md section 14: a client frame, with its METRIC and FLAGS.
    let frame = unhex(
        "313630303030303030302e2d2d302c0580edb789060d52a205db13a7dd659fe78e4a9f21aba26b4a21de96\
         c16560ad9edf000102030405060708090a0b0c0d0e0f274d31d8d33039e1b85b9ec8b9476dc3",
    );
    let output = wawebd(
        &[
            "decode",
            "--from-client",
            "--enc-key",
            "e0e1e2e3e4e5e6e7e8e9eaebecedeeefe0e1e2e3e4e5e6e7e8e9eaebecedeeef",
            "--mac-key",
            "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f",
        ],
        &frame,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        lines(&output)[0],
        serde_json::json!({"tag":"1600000000.--0","metric":5,"flags":128,
            "node":{"tag":"query","attrs":{"type":"chat","epoch":"1"},"content":null}})
    );
}

#[test]
fn wrong_flags_and_keys_are_refused_clearly() {
    let short_key = wawebd(&["decode", "--enc-key", "00", "--mac-key", "00"], b"");
    assert!(!short_key.status.success());
    assert_eq!(
        String::from_utf8(short_key.stderr).unwrap().trim(),
        "wawebd: --enc-key: enc-key must be 32 bytes, got 1"
    );
    let missing = wawebd(&["decode"], b"");
    assert!(!missing.status.success());
    let both = wawebd(&["decode", "--plain", "--enc-key", "00"], b"");
    assert!(!both.status.success());
}
