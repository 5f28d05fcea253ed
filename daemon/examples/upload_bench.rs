//! `send_media` against `wawebd media encrypt`, in the same run, on the same file: the upload as
//! a user runs it (the call over the socket, open, encrypt into the spool, POST to the
//! simulator's loopback media host and its answer, the message queued: `wait: "queued"`), and
//! the encryption alone, which is the part any sender must do. Prints the wall time of each,
//! their throughput, the ratio and the daemon's peak RSS, then one send waited for until the
//! server's acknowledgement.
//!
//! ```text
//! cargo run --release -p wawebd --example upload_bench -- [MIB] [RUNS]
//! ```
//!
//! Files (the plaintext, the encrypted output and the daemon's spool) go in `BENCH_DIR`
//! (default `/dev/shm` when writable, so the figures are about the work, not the disk).

mod support;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{call, median, pair, proc_kb, rate, start_daemon_with, start_sim, wawebd};

fn bench_dir() -> PathBuf {
    let base = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let shm = Path::new("/dev/shm");
            if shm.is_dir() {
                shm.to_owned()
            } else {
                std::env::temp_dir()
            }
        });
    tempfile::Builder::new()
        .prefix("wawebd-upload-bench")
        .tempdir_in(base)
        .expect("a bench folder")
        .keep()
}

fn write_file(path: &Path, mib: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut chunk: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    chunk[..12].copy_from_slice(b"\0\0\0\x20ftypisom");
    for n in 0..mib {
        chunk[64..72].copy_from_slice(&(n as u64).to_le_bytes());
        file.write_all(&chunk).unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(256, |n| n.parse().expect("MIB"));
    let runs: usize = args.next().map_or(3, |n| n.parse().expect("RUNS"));
    let dir = bench_dir();
    let plain = dir.join("plain.mp4");
    write_file(&plain, mib);
    let bytes = (mib as u64) << 20;

    let (mut sim, url) = start_sim(false);
    // The spool in the same folder as `media encrypt`'s output; the log level as asked.
    let log = std::env::var_os("WAWEBD_LOG").unwrap_or_else(|| "warn".into());
    let env = [("TMPDIR", dir.as_os_str()), ("WAWEBD_LOG", log.as_os_str())];
    let (daemon, socket) = start_daemon_with(&dir, &url, &env);
    pair(&mut sim, &socket);
    // Room for the file: the simulated server's default Props allow 64 MiB of media.
    sim.command(json!({"cmd": "push_json", "payload": ["Props", {"media": mib + 1}]}));
    std::thread::sleep(Duration::from_millis(200));
    let mut stream = UnixStream::connect(&socket).unwrap();

    let key = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    let (mut encrypts, mut sends) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let body = dir.join("body");
        let _ = std::fs::remove_file(&body);
        std::thread::sleep(Duration::from_secs(1));
        let started = Instant::now();
        let status = Command::new(wawebd())
            .args([
                "media", "encrypt", "--type", "video", "--key", key, "--input",
            ])
            .arg(&plain)
            .arg("--output")
            .arg(&body)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let encrypt = started.elapsed();
        std::fs::remove_file(&body).unwrap();
        std::thread::sleep(Duration::from_secs(1));
        let started = Instant::now();
        let result = call(
            &mut stream,
            100 + run as u64,
            "send_media",
            json!({"to": "4915100000001", "kind": "video", "path": plain, "wait": "queued"}),
        );
        let send = started.elapsed();
        assert_eq!(result["status"], "queued", "{result}");
        assert_eq!(result["media"]["file_length"], bytes);
        println!(
            "run {}: media encrypt {:.3} s, {}; send_media {:.3} s, {}; {:.0}%",
            run + 1,
            encrypt.as_secs_f64(),
            rate(bytes, encrypt),
            send.as_secs_f64(),
            rate(bytes, send),
            encrypt.as_secs_f64() / send.as_secs_f64() * 100.0
        );
        encrypts.push(encrypt);
        sends.push(send);
    }
    // Once more waiting for the server: the relay's acknowledgement comes after the simulated
    // phone fetched, verified and decrypted the whole blob, which is the simulator's time.
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let result = call(
        &mut stream,
        99,
        "send_media",
        json!({"to": "4915100000001", "kind": "video", "path": plain, "timeout_ms": 600_000}),
    );
    let acked = started.elapsed();
    assert_eq!(result["status"], 200, "{result}");
    println!(
        "send_media until the server's ack (the phone verifies the blob first): {:.3} s, {}",
        acked.as_secs_f64(),
        rate(bytes, acked)
    );
    let (encrypt, send) = (median(&mut encrypts), median(&mut sends));
    println!(
        "median of {runs} ({mib} MiB): media encrypt {}, send_media upload {}: {:.0}% of encryption; daemon peak RSS {} KiB",
        rate(bytes, encrypt),
        rate(bytes, send),
        encrypt.as_secs_f64() / send.as_secs_f64() * 100.0,
        proc_kb(daemon.0.id(), "VmHWM")
    );
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);
}
