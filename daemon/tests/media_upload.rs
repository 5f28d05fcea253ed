//! `send_media` with the real binaries: a 100 MiB video goes from disk to the simulator's media
//! host and its phone verifies it, while the daemon's peak resident memory (VmHWM) stays under
//! 32 MiB: the file is encrypted as it is read and posted as it is read back, never held whole.

mod support;

use std::io::Write;

use serde_json::json;
use support::{DEADLINE, paired};

const SIZE: usize = 100 * 1024 * 1024;
const RSS_MAX_KIB: u64 = 32 * 1024;

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/<pid>/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_100_mib_video_uploads_in_bounded_memory() {
    let (mut sim, daemon, mut client) = paired();
    // The simulated server allows media up to 128 MiB (its default Props say 64).
    sim.command(json!({"cmd": "push_json", "payload": ["Props", {"media": 128}]}));
    loop {
        let event = client.event("json");
        if event["payload"][0] == "Props" {
            break;
        }
    }
    let path = daemon.dir.path().join("big.mp4");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    chunk[..12].copy_from_slice(b"\0\0\0\x20ftypisom");
    for n in 0..SIZE / chunk.len() {
        chunk[100] = n as u8;
        file.write_all(&chunk).unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
    let before = peak_rss_kib(daemon.child.0.id());
    // A debug build on a busy machine takes a while for 100 MiB; the deadline is for hangs.
    let slow = std::time::Duration::from_secs(120);
    client
        .reader
        .get_ref()
        .set_read_timeout(Some(slow))
        .unwrap();

    let result = client
        .call(
            10,
            "send_media",
            json!({"to": "4915100000001", "kind": "video", "path": path, "timeout_ms": 60_000}),
        )
        .unwrap();
    assert_eq!(result["status"], 200, "{result}");
    assert_eq!(result["media"]["file_length"], SIZE);
    assert_eq!(result["media"]["mimetype"], "video/mp4");

    let peak = peak_rss_kib(daemon.child.0.id());
    assert!(
        peak < RSS_MAX_KIB,
        "peak RSS {peak} KiB (before the send: {before} KiB) is over {RSS_MAX_KIB} KiB"
    );
    eprintln!("daemon peak RSS: {peak} KiB (before the send: {before} KiB)");
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let line = sim
            .lines
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("the simulator reports the relay");
        if line["type"] == "received" && line["tag"] == result["id"] {
            assert_eq!(line["media_ok"], true, "{line}");
            break;
        }
    }
}
