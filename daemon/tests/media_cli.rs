//! `wawebd media decrypt|encrypt`, driven as a user drives it: the real binary, real files,
//! pipes, exit codes and stderr.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

struct Vector {
    kind: String,
    media_key: String,
    plaintext_sha256: String,
    file_enc_sha256: String,
    file_length: u64,
    plaintext: Vec<u8>,
    body: Vec<u8>,
    tampered: bool,
}

fn vectors() -> Vec<Vector> {
    let json: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/core/tests/vectors/media.json"
    )))
    .unwrap();
    let text = |case: &serde_json::Value, key: &str| case[key].as_str().unwrap().to_owned();
    json.as_array()
        .unwrap()
        .iter()
        .map(|case| Vector {
            kind: text(case, "kind"),
            media_key: text(case, "media_key"),
            plaintext_sha256: text(case, "plaintext_sha256"),
            file_enc_sha256: text(case, "file_enc_sha256"),
            file_length: case["file_length"].as_u64().unwrap(),
            plaintext: waweb_core::hex::decode(&text(case, "plaintext")).unwrap(),
            body: waweb_core::hex::decode(&text(case, "body")).unwrap(),
            tampered: case["error"].as_str() == Some("mac"),
        })
        .collect()
}

fn good_vectors() -> Vec<Vector> {
    vectors().into_iter().filter(|v| !v.tampered).collect()
}

fn tampered_vector() -> Vector {
    vectors().into_iter().find(|v| v.tampered).unwrap()
}

fn wawebd(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The child may refuse early and close its end; that is its right.
        let _ = pipe.write_all(bytes);
    }
    child.wait_with_output().unwrap()
}

fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Asserts a refusal: exit status 1, nothing on stdout, exactly one stderr line that starts
/// with `wawebd: ` and contains `needle`.
fn assert_refused(output: &Output, needle: &str) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {:?}", output.stdout);
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("wawebd: "), "stderr: {stderr}");
    assert!(
        stderr.contains(needle),
        "stderr: {stderr:?} lacks {needle:?}"
    );
    stderr
}

/// The names in `dir`, so tests can see that no temporary file was left behind.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn decrypts_every_vector_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for (i, v) in good_vectors().iter().enumerate() {
        let input = path(dir.path(), &format!("body{i}"));
        let output = path(dir.path(), &format!("plain{i}"));
        fs::write(&input, &v.body).unwrap();
        let length = v.file_length.to_string();
        let result = wawebd(
            &[
                "media",
                "decrypt",
                "--type",
                &v.kind,
                "--key",
                &v.media_key,
                "--input",
                s(&input),
                "--output",
                s(&output),
                "--file-sha256",
                &v.plaintext_sha256,
                "--file-enc-sha256",
                &v.file_enc_sha256,
                "--file-length",
                &length,
            ],
            None,
        );
        assert!(result.status.success(), "{}: {:?}", v.kind, result);
        assert!(result.stdout.is_empty() && result.stderr.is_empty());
        assert_eq!(fs::read(&output).unwrap(), v.plaintext, "{}", v.kind);
        let mode = fs::metadata(&output).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "plaintext must be private");
    }
    // Only the inputs and outputs: no temporary file survives.
    assert!(names(dir.path()).iter().all(|n| !n.starts_with('.')));
}

#[test]
fn decrypts_every_vector_to_stdout_from_stdin_or_file() {
    let dir = tempfile::tempdir().unwrap();
    for v in good_vectors() {
        let args = ["media", "decrypt", "--type", &v.kind, "--key", &v.media_key];
        let piped = wawebd(&args, Some(&v.body));
        assert!(piped.status.success(), "{}: {:?}", v.kind, piped);
        assert_eq!(piped.stdout, v.plaintext);
        let input = path(dir.path(), "body");
        fs::write(&input, &v.body).unwrap();
        let mut with_dashes = args.to_vec();
        with_dashes.extend(["--input", s(&input), "--output", "-"]);
        let from_file = wawebd(&with_dashes, None);
        assert!(from_file.status.success(), "{from_file:?}");
        assert_eq!(from_file.stdout, v.plaintext);
    }
}

#[test]
fn url_safe_unpadded_keys_are_accepted() {
    let v = &good_vectors()[3];
    let key = URL_SAFE_NO_PAD.encode(STANDARD.decode(&v.media_key).unwrap());
    let result = wawebd(
        &["media", "decrypt", "--type", &v.kind, "--key", &key],
        Some(&v.body),
    );
    assert!(result.status.success(), "{result:?}");
    assert_eq!(result.stdout, v.plaintext);
}

#[test]
fn tampered_body_releases_nothing_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let v = tampered_vector();
    let input = path(dir.path(), "body");
    fs::write(&input, &v.body).unwrap();
    let args = |output: &Path| {
        [
            "media",
            "decrypt",
            "--type",
            &v.kind,
            "--key",
            &v.media_key,
            "--input",
            s(&input),
            "--output",
            s(output),
        ]
        .map(str::to_owned)
    };
    let run = |output: &Path| {
        let args = args(output);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        wawebd(&args, None)
    };

    let fresh = path(dir.path(), "fresh");
    assert_refused(&run(&fresh), "media MAC mismatch: ");
    assert!(!fresh.exists());

    let existing = path(dir.path(), "existing");
    fs::write(&existing, b"precious").unwrap();
    assert_refused(&run(&existing), "media MAC mismatch: ");
    assert_eq!(fs::read(&existing).unwrap(), b"precious");

    // To stdout: not one byte of plaintext.
    let piped = wawebd(
        &["media", "decrypt", "--type", &v.kind, "--key", &v.media_key],
        Some(&v.body),
    );
    assert_refused(&piped, "media MAC mismatch: ");
    assert_eq!(names(dir.path()), ["body", "existing"]);
}

#[test]
fn a_wrong_announced_hash_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let v = &good_vectors()[4];
    let output = path(dir.path(), "out");
    let wrong = STANDARD.encode([0u8; 32]);
    for flag in ["--file-sha256", "--file-enc-sha256"] {
        let result = wawebd(
            &[
                "media",
                "decrypt",
                "--type",
                &v.kind,
                "--key",
                &v.media_key,
                "--output",
                s(&output),
                flag,
                &wrong,
            ],
            Some(&v.body),
        );
        assert_refused(&result, "mismatch");
        assert!(!output.exists());
    }
    let result = wawebd(
        &[
            "media",
            "decrypt",
            "--type",
            &v.kind,
            "--key",
            &v.media_key,
            "--output",
            s(&output),
            "--file-length",
            "1",
        ],
        Some(&v.body),
    );
    // Refused as soon as the body runs past what a length of 1 allows, before reading it all.
    assert_refused(
        &result,
        "media body is longer than the 26 bytes a fileLength of 1 allows",
    );
    assert!(names(dir.path()).is_empty());
}

#[test]
fn bad_keys_types_and_truncated_bodies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let v = &good_vectors()[3];
    let output = path(dir.path(), "out");
    let decrypt = |kind: &str, key: &str, body: &[u8]| {
        wawebd(
            &[
                "media",
                "decrypt",
                "--type",
                kind,
                "--key",
                key,
                "--output",
                s(&output),
            ],
            Some(body),
        )
    };
    let short_key = STANDARD.encode([7u8; 31]);
    let stderr = assert_refused(
        &decrypt(&v.kind, &short_key, &v.body),
        "media key must be 32 bytes, got 31",
    );
    assert!(!stderr.contains(&short_key), "the key must not be echoed");
    let not_base64 = "this is not a key!";
    let stderr = assert_refused(
        &decrypt(&v.kind, not_base64, &v.body),
        "--key is not valid base64",
    );
    assert!(!stderr.contains(not_base64));
    assert_refused(
        &decrypt("gif", &v.media_key, &v.body),
        "unknown media type \"gif\"",
    );
    // The right key with another type's info string is simply the wrong key.
    assert_refused(
        &decrypt("image", &v.media_key, &v.body),
        "media MAC mismatch",
    );
    for len in [0, 5, 10, 26 + 1, v.body.len() - 1] {
        assert_refused(&decrypt(&v.kind, &v.media_key, &v.body[..len]), "truncated");
    }
    // A prefix that is whole blocks plus 10 bytes looks complete; only the MAC can tell.
    assert_refused(
        &decrypt(&v.kind, &v.media_key, &v.body[..16 * 10 + 10]),
        "media MAC mismatch",
    );
    let missing = path(dir.path(), "missing");
    let result = wawebd(
        &[
            "media",
            "decrypt",
            "--type",
            &v.kind,
            "--key",
            &v.media_key,
            "--input",
            s(&missing),
        ],
        None,
    );
    assert_refused(&result, "opening");
    assert!(names(dir.path()).is_empty());
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    media_key: String,
    file_sha256: String,
    file_enc_sha256: String,
    file_length: u64,
}

fn encrypt(args: &[&str]) -> Summary {
    let output = wawebd(args, None);
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "exactly one JSON line: {stdout}");
    assert!(stdout.ends_with('\n'));
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn encrypt_then_decrypt_round_trips_for_every_type() {
    let dir = tempfile::tempdir().unwrap();
    let plain_path = path(dir.path(), "plain");
    let body_path = path(dir.path(), "body");
    let back_path = path(dir.path(), "back");
    for (i, kind) in ["image", "video", "audio", "document", "sticker"]
        .iter()
        .enumerate()
    {
        // Sizes around the 1 MiB chunk of the file pipeline, and an empty file.
        for len in [0usize, 1, 1 << 20, (1 << 20) + 17, 3 << 19] {
            let plaintext: Vec<u8> = (0..len).map(|n| (n * 31 + i) as u8).collect();
            fs::write(&plain_path, &plaintext).unwrap();
            let summary = encrypt(&[
                "media",
                "encrypt",
                "--type",
                kind,
                "--input",
                s(&plain_path),
                "--output",
                s(&body_path),
            ]);
            let body = fs::read(&body_path).unwrap();
            assert_eq!(summary.file_length, len as u64);
            assert_eq!(STANDARD.decode(&summary.media_key).unwrap().len(), 32);
            assert_eq!(
                summary.file_sha256,
                STANDARD.encode(Sha256::digest(&plaintext))
            );
            assert_eq!(
                summary.file_enc_sha256,
                STANDARD.encode(Sha256::digest(&body))
            );
            assert_eq!(body.len(), (len / 16 + 1) * 16 + 10);
            let length = len.to_string();
            let result = wawebd(
                &[
                    "media",
                    "decrypt",
                    "--type",
                    kind,
                    "--key",
                    &summary.media_key,
                    "--input",
                    s(&body_path),
                    "--output",
                    s(&back_path),
                    "--file-sha256",
                    &summary.file_sha256,
                    "--file-enc-sha256",
                    &summary.file_enc_sha256,
                    "--file-length",
                    &length,
                ],
                None,
            );
            assert!(result.status.success(), "{kind} {len}: {result:?}");
            assert!(fs::read(&back_path).unwrap() == plaintext, "{kind} {len}");
        }
    }
}

#[test]
fn encrypt_with_a_given_key_matches_the_vectors_and_writes_a_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let plain_path = path(dir.path(), "plain");
    let body_path = path(dir.path(), "body");
    for v in good_vectors() {
        fs::write(&plain_path, &v.plaintext).unwrap();
        let summary = encrypt(&[
            "media",
            "encrypt",
            "--type",
            &v.kind,
            "--key",
            &v.media_key,
            "--input",
            s(&plain_path),
            "--output",
            s(&body_path),
        ]);
        assert_eq!(fs::read(&body_path).unwrap(), v.body, "{}", v.kind);
        assert_eq!(summary.media_key, v.media_key);
        assert_eq!(summary.file_sha256, v.plaintext_sha256);
        assert_eq!(summary.file_enc_sha256, v.file_enc_sha256);
        assert_eq!(summary.file_length, v.file_length);
    }
    // A sidecar has one 10-byte MAC per 64 KiB window of `iv || enc`.
    let sidecar_path = path(dir.path(), "sidecar");
    let plaintext = vec![0x5au8; 200_000];
    fs::write(&plain_path, &plaintext).unwrap();
    let piped_args = [
        "media",
        "encrypt",
        "--type",
        "video",
        "--input",
        "-",
        "--output",
        s(&body_path),
        "--sidecar",
        s(&sidecar_path),
    ];
    let output = wawebd(&piped_args, Some(&plaintext));
    assert!(output.status.success(), "{output:?}");
    let body = fs::read(&body_path).unwrap();
    let windows = (16 + body.len() - 10).div_ceil(64 * 1024);
    assert_eq!(fs::read(&sidecar_path).unwrap().len(), windows * 10);

    // Images have no sidecar: refused before anything is written.
    fs::remove_file(&body_path).unwrap();
    fs::remove_file(&sidecar_path).unwrap();
    let result = wawebd(
        &[
            "media",
            "encrypt",
            "--type",
            "image",
            "--input",
            s(&plain_path),
            "--output",
            s(&body_path),
            "--sidecar",
            s(&sidecar_path),
        ],
        None,
    );
    assert_refused(&result, "image media has no streaming sidecar");
    assert_eq!(names(dir.path()), ["plain"]);
}

#[test]
fn encrypt_refuses_bad_keys_and_stdout_output() {
    let dir = tempfile::tempdir().unwrap();
    let plain_path = path(dir.path(), "plain");
    fs::write(&plain_path, b"hello").unwrap();
    let body_path = path(dir.path(), "body");
    let short_key = STANDARD.encode([1u8; 16]);
    let result = wawebd(
        &[
            "media",
            "encrypt",
            "--type",
            "audio",
            "--key",
            &short_key,
            "--input",
            s(&plain_path),
            "--output",
            s(&body_path),
        ],
        None,
    );
    assert_refused(&result, "media key must be 32 bytes, got 16");
    let result = wawebd(
        &[
            "media",
            "encrypt",
            "--type",
            "audio",
            "--input",
            s(&plain_path),
            "--output",
            "-",
        ],
        None,
    );
    assert_refused(&result, "--output must be a file");
    assert_eq!(names(dir.path()), ["plain"]);
}

#[test]
fn a_named_pipe_output_is_written_in_place_after_verification() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = path(dir.path(), "fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|status| status.success()) {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    let v = &good_vectors()[4];
    let result = wawebd(
        &[
            "media",
            "decrypt",
            "--type",
            &v.kind,
            "--key",
            &v.media_key,
            "--output",
            s(&fifo),
        ],
        Some(&v.body),
    );
    assert!(result.status.success(), "{result:?}");
    assert_eq!(reader.join().unwrap(), v.plaintext);
    // Still a pipe, not replaced by a regular file.
    assert!(!fs::metadata(&fifo).unwrap().is_file());
    assert_eq!(names(dir.path()), ["fifo"]);
}
