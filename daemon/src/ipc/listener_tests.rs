//! Tests of the listener's file and backlog (the rest of the socket server is in `tests.rs`).

use std::os::unix::fs::PermissionsExt;

use super::*;

fn socket_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("wawebd-ipc")
        .tempdir()
        .unwrap()
}

#[tokio::test]
async fn the_socket_file_is_0600_as_it_appears_before_any_chmod() {
    let dir = socket_dir();
    // Whatever the umask lets through: tokio's bind (for comparison) makes the file 0777 & !umask,
    // which is 0755 under the usual 022.
    let plain = dir.path().join("plain.sock");
    let _plain = tokio::net::UnixListener::bind(&plain).unwrap();
    let plain_mode = fs::metadata(&plain).unwrap().permissions().mode() & 0o777;

    let path = dir.path().join("wawebd.sock");
    let _listener = bind_private(&path).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "tokio's bind gave {plain_mode:o} here");
}

#[tokio::test]
async fn a_burst_of_clients_queues_as_with_tokios_own_backlog() {
    let somaxconn: i32 = fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(4096);
    // interprocess alone would listen with a backlog of 128.
    let clients = 300.min(somaxconn);
    let dir = socket_dir();
    let path = dir.path().join("wawebd.sock");
    let listener = Listener::bind(&path).unwrap();
    let mut waiting = Vec::new();
    for n in 0..clients {
        // Nobody accepts: each connection waits in the backlog, and a non-blocking connect to
        // a full one fails at once with EAGAIN.
        match UnixStream::connect(&path).await {
            Ok(stream) => waiting.push(stream),
            Err(error) => panic!("client {n} of {clients}: {error}"),
        }
    }
    drop(listener);
}
