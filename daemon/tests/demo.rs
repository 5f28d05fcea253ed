//! `wawebd --demo` as a new user meets it: it pairs by itself, says who it is logged in as,
//! prints arriving messages, and `wawebctl` works against it meanwhile.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn demo_pairs_by_itself_and_prints_messages() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("demo.sock");
    let child = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .args(["--demo", "--socket"])
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
            Err(_) => panic!("no line with {needle:?}; saw:\n{}", seen.join("\n")),
        }
    };
    assert!(wait_for("wawebctl --socket").contains(socket.to_str().unwrap()));
    wait_for("Scan this QR code");
    assert!(wait_for("Logged in as").contains("Sim Phone"));

    // wawebctl sits beside wawebd when the workspace was built (as `cargo test` does).
    let ctl = std::path::Path::new(env!("CARGO_BIN_EXE_wawebd")).with_file_name("wawebctl");
    if ctl.exists() {
        let output = Command::new(&ctl)
            .arg("--json")
            .arg("--socket")
            .arg(&socket)
            .arg("status")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && text.contains("\"state\":\"connected\""),
            "{text}"
        );
    }
    assert!(wait_for("💬").contains(':'));

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status();
    let exit = child.0.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(!socket.exists(), "the socket is removed on SIGTERM");
}

/// The demo does not outlive a failed test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
