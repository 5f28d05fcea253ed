//! Media on a real disk (issue 14, target 4), every case in the same run, alternating: file to
//! file on the folder's file system, each output fsynced before it counts as written.
//!
//! - peers: `openssl dgst -sha256 -hmac` over the encrypted body (a file read plus the HMAC any
//!   verified decryption must do) and `dd bs=1M conv=fsync` writing the plaintext's size;
//! - `wawebd media decrypt` of the body to a file, with and without the early writeback
//!   (`WAWEBD_WRITEBACK_MIB=0`);
//! - `media_download` through a daemon paired with `wawebd sim`, of a blob the simulated
//!   contact sent (the same plaintext), to a file;
//! - `wawebd media encrypt` of the plaintext to a file, and `send_media` of it (`wait: queued`).
//!
//! Child processes run under GNU time (`%e %M`: wall and peak RSS); the daemon's calls are timed
//! from the request to the reply, and its peak RSS is read from `VmHWM`, reset before each call.
//!
//! ```text
//! cargo run --release -p wawebd --example disk_media_bench -- [MIB] [RUNS]
//! ```
//!
//! `BENCH_DIR` is where the files go (default: a folder in the temporary directory, which should
//! be on a disk, not tmpfs). With `DROP_CACHES=1` (the default when running as root) the page
//! cache is dropped before each case, so every case reads its input from the disk.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{
    Sim, call, median, pair, proc_kb, rate, request, reset_peak_rss, start_daemon_with, start_sim,
    wawebd,
};

const KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const CONTACT: &str = "4915100000001";

/// One timed case: wall time and peak RSS (KiB) per run.
#[derive(Default)]
struct Case {
    walls: Vec<Duration>,
    rss_kib: Vec<u64>,
}

impl Case {
    fn push(&mut self, (wall, rss): (Duration, u64)) {
        self.walls.push(wall);
        self.rss_kib.push(rss);
    }

    fn median(&self) -> Duration {
        median(&mut self.walls.clone())
    }

    fn peak_mib(&self) -> f64 {
        self.rss_kib.iter().copied().max().unwrap_or(0) as f64 / 1024.0
    }
}

struct Bench {
    dir: PathBuf,
    drop_caches: bool,
    settle: Duration,
}

impl Bench {
    /// Removes `outputs`, lets the kernel release them, syncs, and drops the page cache if
    /// asked, so each case starts from the same state.
    fn prepare(&self, outputs: &[&str]) {
        for name in outputs {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
        std::thread::sleep(self.settle);
        if self.drop_caches {
            let _ = Command::new("sync").status();
            std::fs::write("/proc/sys/vm/drop_caches", "3").expect("dropping the page cache");
        }
    }

    /// Runs `program args` under GNU time: its wall time and peak RSS.
    fn time(&self, env: &[(&str, &str)], program: &Path, args: &[&str]) -> (Duration, u64) {
        let report = self.dir.join("time");
        let status = Command::new("/usr/bin/time")
            .args(["-f", "%e %M", "-o"])
            .arg(&report)
            .arg(program)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .status()
            .expect("GNU time (/usr/bin/time) runs");
        assert!(status.success(), "{} {args:?}: {status}", program.display());
        let report = std::fs::read_to_string(&report).unwrap();
        let mut fields = report.split_whitespace();
        let wall: f64 = fields.next().and_then(|s| s.parse().ok()).expect("%e");
        let rss: u64 = fields.next().and_then(|s| s.parse().ok()).expect("%M");
        (Duration::from_secs_f64(wall), rss)
    }
}

/// `mib` MiB from `/dev/urandom`, on the disk.
fn random_file(path: &Path, mib: usize) {
    let mut random = std::fs::File::open("/dev/urandom").unwrap();
    let mut file = std::fs::File::create(path).unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        random.read_exact(&mut chunk).unwrap();
        file.write_all(&chunk).unwrap();
    }
    file.sync_all().unwrap();
}

/// The daemon's call, timed from the request to the reply, with its peak RSS meanwhile.
fn daemon_call(
    stream: &mut UnixStream,
    pid: u32,
    id: u64,
    method: &str,
    params: Value,
) -> (Duration, u64, Value) {
    assert!(
        reset_peak_rss(pid),
        "/proc/{pid}/clear_refs refused the reset of VmHWM"
    );
    let before = proc_kb(pid, "VmRSS");
    let started = Instant::now();
    let result = call(stream, id, method, params);
    let wall = started.elapsed();
    let peak = proc_kb(pid, "VmHWM");
    println!(
        "  {method}: daemon RSS {:.1} MiB before, peak {:.1} MiB during",
        before as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    (wall, peak, result)
}

/// The simulated contact sends `plain` as a document; the media object the daemon received.
fn received_media(sim: &mut Sim, socket: &Path, plain: &Path) -> Value {
    let mut events = UnixStream::connect(socket).unwrap();
    request(&mut events, 1, "subscribe", json!({"events": ["message"]}));
    sim.command(json!({"cmd": "send_media", "from": CONTACT, "kind": "document", "path": plain}));
    let lines = BufReader::new(events).lines();
    for line in lines {
        let line: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if line["params"]["type"] == "message" && line["params"]["media"].is_object() {
            return line["params"]["media"].clone();
        }
    }
    panic!("the daemon went away before the media message");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(1024, |n| n.parse().expect("MIB"));
    let runs: usize = args.next().map_or(3, |n| n.parse().expect("RUNS"));
    let base = std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::Builder::new()
        .prefix("wawebd-disk-bench")
        .tempdir_in(base)
        .expect("a bench folder");
    let root = is_root();
    let drop_caches = std::env::var("DROP_CACHES").map_or(root, |value| value == "1");
    let bench = Bench {
        dir: dir.path().to_owned(),
        drop_caches,
        settle: Duration::from_secs(2),
    };
    let fs_type = Command::new("findmnt")
        .args(["-n", "-o", "FSTYPE", "-T"])
        .arg(dir.path())
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    println!(
        "files in {} ({fs_type}); page cache dropped before each case: {}",
        dir.path().display(),
        if drop_caches { "yes" } else { "no" }
    );
    let (plain, body) = (bench.dir.join("plain"), bench.dir.join("body"));
    random_file(&plain, mib);
    let wawebd = wawebd();
    let (plain_s, body_s) = (plain.to_str().unwrap(), body.to_str().unwrap());
    let encrypt = [
        "media", "encrypt", "--type", "document", "--key", KEY, "--input", plain_s,
    ];
    bench.time(
        &[],
        &wawebd,
        &[&encrypt[..], &["--output", body_s]].concat(),
    );
    let decrypt = [
        "media", "decrypt", "--type", "document", "--key", KEY, "--input", body_s,
    ];
    let bytes = (mib as u64) << 20;

    let (mut sim, url) = start_sim(false);
    let tmpdir = bench.dir.as_os_str();
    let env = [("TMPDIR", tmpdir), ("WAWEBD_LOG", "warn".as_ref())];
    let daemon_dir = bench.dir.join("daemon");
    std::fs::create_dir(&daemon_dir).unwrap();
    let (daemon, socket) = start_daemon_with(&daemon_dir, &url, &env);
    let pid = daemon.0.id();
    pair(&mut sim, &socket);
    sim.command(json!({"cmd": "push_json", "payload": ["Props", {"media": mib + 1, "maxFileSize": mib + 1}]}));
    let media = received_media(&mut sim, &socket, &plain);
    let mut stream = UnixStream::connect(&socket).unwrap();

    let names = [
        "openssl dgst -sha256 -hmac (the body)",
        "dd bs=1M conv=fsync (the plaintext's size)",
        "wawebd media decrypt, to a file",
        "  the same, WAWEBD_WRITEBACK_MIB=0",
        "media_download, to a file",
        "wawebd media encrypt, to a file",
        "send_media (wait: queued)",
    ];
    let mut cases: Vec<Case> = names.iter().map(|_| Case::default()).collect();
    let out = bench.dir.join("out");
    let out_s = out.to_str().unwrap();
    for run in 0..runs {
        bench.prepare(&[]);
        let openssl = Path::new("openssl");
        cases[0].push(bench.time(&[], openssl, &["dgst", "-sha256", "-hmac", "KEY", body_s]));
        bench.prepare(&["out"]);
        let dd = Path::new("dd");
        let (if_, of) = (format!("if={plain_s}"), format!("of={out_s}"));
        cases[1].push(bench.time(&[], dd, &[&if_, &of, "bs=1M", "conv=fsync", "status=none"]));
        bench.prepare(&["out"]);
        let to_file = [&decrypt[..], &["--output", out_s]].concat();
        cases[2].push(bench.time(&[], &wawebd, &to_file));
        bench.prepare(&["out"]);
        cases[3].push(bench.time(&[("WAWEBD_WRITEBACK_MIB", "0")], &wawebd, &to_file));
        bench.prepare(&["out"]);
        let params = json!({"media": media, "output": out});
        let (wall, rss, result) =
            daemon_call(&mut stream, pid, 100 + run as u64, "media_download", params);
        assert_eq!(result["bytes"], bytes, "{result}");
        cases[4].push((wall, rss));
        bench.prepare(&["out"]);
        cases[5].push(bench.time(&[], &wawebd, &[&encrypt[..], &["--output", out_s]].concat()));
        bench.prepare(&["out"]);
        let params = json!({"to": CONTACT, "kind": "document", "path": plain, "wait": "queued"});
        let (wall, rss, result) =
            daemon_call(&mut stream, pid, 200 + run as u64, "send_media", params);
        assert_eq!(result["status"], "queued", "{result}");
        assert_eq!(result["media"]["file_length"], bytes, "{result}");
        cases[6].push((wall, rss));
        // The simulator keeps every upload; this one is not needed again.
        if let Some(url) = result["media"]["url"].as_str() {
            sim.command(json!({"cmd": "forget_media", "url": url, "for_good": true}));
        }
        let line: Vec<String> = cases
            .iter()
            .map(|case| format!("{:.2}", case.walls[run].as_secs_f64()))
            .collect();
        println!("run {}: {} s", run + 1, line.join(" / "));
    }
    drop(daemon);
    report(&cases, &names, bytes, runs);
}

/// The table: each case's median, throughput and peak RSS, and each target's ratio.
fn report(cases: &[Case], names: &[&str], bytes: u64, runs: usize) {
    println!("\nmedian of {runs} runs, {} MiB:\n", bytes >> 20);
    println!("| case | median | throughput | peak RSS |");
    println!("|---|---|---|---|");
    for (case, name) in cases.iter().zip(names) {
        let wall = case.median();
        println!(
            "| {name} | {:.2} s | {} | {:.1} MiB |",
            wall.as_secs_f64(),
            rate(bytes, wall),
            case.peak_mib()
        );
    }
    let slower_peer = cases[0].median().max(cases[1].median());
    let ratio = |peer: Duration, case: &Case| peer.as_secs_f64() / case.median().as_secs_f64();
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("\n| target | ratio | verdict |");
    println!("|---|---|---|");
    for (index, target) in [(2, 0.9), (3, 0.9), (4, 0.9)] {
        let r = ratio(slower_peer, &cases[index]);
        println!(
            "| {}: >= {:.0}% of the slower peer | {:.0}% | {} |",
            names[index].trim(),
            target * 100.0,
            r * 100.0,
            verdict(r >= target)
        );
    }
    let r = ratio(cases[5].median(), &cases[6]);
    println!(
        "| send_media: >= 80% of media encrypt | {:.0}% | {} |",
        r * 100.0,
        verdict(r >= 0.8)
    );
    for (case, name) in cases.iter().zip(names).skip(2) {
        let peak = case.peak_mib();
        println!(
            "| {}: peak RSS < 16 MiB | {peak:.1} MiB | {} |",
            name.trim(),
            verdict(peak < 16.0)
        );
    }
}

/// Whether this process runs as root (which may drop the page cache), from /proc.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|uids| uids.split_whitespace().nth(1).map(|euid| euid == "0"))
            .unwrap_or(false)
    })
}
