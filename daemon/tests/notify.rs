//! systemd's notify protocol as the real binary speaks it: READY=1 once the socket listens,
//! STATUS= with the state, WATCHDOG=1 while the loop answers, STOPPING=1 on SIGTERM.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn ready_status_watchdog_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let socket = dir.path().join("run/wawebd.sock");
    let state = dir.path().join("state");
    let child = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .arg("--socket")
        .arg(&socket)
        .arg("--state-dir")
        .arg(&state)
        .args(["--server-url", "ws://127.0.0.1:9/ws"])
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "300000")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut messages = Vec::new();
    let receive_until = |wanted: &str, messages: &mut Vec<String>| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let mut buf = [0u8; 4096];
            let n = notify.recv(&mut buf).expect("a notification in time");
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            messages.push(text.clone());
            if text.contains(wanted) {
                return;
            }
        }
        panic!("no {wanted}; got {messages:?}");
    };
    receive_until("READY=1", &mut messages);
    // READY comes only once the socket exists, with its final mode.
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o700
    );
    if !messages.iter().any(|m| m.contains("STATUS=logged_out")) {
        receive_until("STATUS=logged_out", &mut messages);
    }
    receive_until("WATCHDOG=1", &mut messages);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status();
    receive_until("STOPPING=1", &mut messages);
    assert!(child.0.wait().unwrap().success());
    assert!(!socket.exists());
}

#[test]
fn an_open_state_directory_or_a_live_socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .arg("--socket")
        .arg(dir.path().join("a.sock"))
        .arg("--state-dir")
        .arg(&open)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("chmod 700"), "{stderr}");

    let socket = dir.path().join("run/live.sock");
    let state = dir.path().join("state");
    let first = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .arg("--socket")
        .arg(&socket)
        .arg("--state-dir")
        .arg(&state)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = KillOnDrop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "the first daemon never bound its socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The same paths through the environment (an empty variable counts as unset).
    let second = Command::new(env!("CARGO_BIN_EXE_wawebd"))
        .env("WAWEBD_SOCKET", &socket)
        .env("WAWEBD_STATE_DIR", &state)
        .env("WAWEBD_LOG", "")
        .env("WAWEBD_CONFIG", "")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another wawebd"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(socket.exists(), "the first daemon's socket is left alone");
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(first.0.id().to_string())
        .status();
    assert!(first.0.wait().unwrap().success());
}

/// A daemon that does not outlive a failed test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
