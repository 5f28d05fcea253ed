//! Fan-out and latency of the whole daemon, journal on: `wawebd sim` and `wawebd` as child
//! processes, a session paired over the socket, SUBSCRIBERS connections each reading `message`
//! events on a thread of its own, and STALLED more that subscribe and then read nothing while the
//! simulator floods RATE messages/s for SECONDS. Every reader checks it got each message once and
//! in order and records the latency from the frame being built (the simulator's timestamp in the
//! text) to its line being read, in an HDR histogram. After the flood each stalled subscriber
//! starts reading: it either catches up on everything (served from the journal, DESIGN.md 6.3)
//! or is cut with `lagged`. `--commit-wait-us` is the journal's group commit wait
//! (`[journal] commit_wait_us`).
//!
//! ```text
//! cargo run --release -p wawebd --example fanout -- [--subscribers 64] [--stalled 1]
//!     [--rate 20000] [--seconds 5] [--commit-wait-us 0]
//! ```

use std::io::{BufRead, BufReader, ErrorKind};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;

mod support;

use support::{cpu_ticks, pair, parse_arrival, proc_kb, request, start_daemon, start_sim};

struct Options {
    subscribers: u64,
    stalled: u64,
    rate: u64,
    seconds: u64,
    commit_wait_us: u64,
}

fn options() -> Options {
    let mut options = Options {
        subscribers: 64,
        stalled: 1,
        rate: 20_000,
        seconds: 5,
        commit_wait_us: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair
            .get(1)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{} takes a number", pair[0]));
        match pair[0].as_str() {
            "--subscribers" => options.subscribers = value,
            "--stalled" => options.stalled = value,
            "--rate" => options.rate = value,
            "--seconds" => options.seconds = value,
            "--commit-wait-us" => options.commit_wait_us = value,
            other => panic!("unknown option {other}"),
        }
    }
    options
}

/// What one subscriber saw.
struct Seen {
    /// Distinct messages, each newer than the one before.
    received: u64,
    /// The newest message number read.
    newest: u64,
    /// Messages that came twice, out of order, or after a gap.
    misordered: u64,
    latency_us: Histogram<u64>,
    first: Option<Instant>,
    last: Option<Instant>,
    /// The `lagged` error's `last_seq`, when the daemon cut this subscriber.
    lagged: Option<String>,
}

fn subscribe(socket: &Path) -> BufReader<UnixStream> {
    let mut stream = UnixStream::connect(socket).unwrap();
    request(&mut stream, 1, "subscribe", json!({"events": ["message"]}));
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    BufReader::with_capacity(1 << 16, stream)
}

/// Reads until `count` messages came, the daemon cut the connection, or `deadline`.
fn read(mut reader: BufReader<UnixStream>, count: u64, deadline: Instant) -> Seen {
    let mut seen = Seen {
        received: 0,
        newest: 0,
        misordered: 0,
        latency_us: Histogram::new_with_bounds(1, 600_000_000, 3).unwrap(),
        first: None,
        last: None,
        lagged: None,
    };
    let mut line = String::new();
    while seen.newest < count && Instant::now() < deadline {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue;
            }
            Err(_) => break,
        }
        if let Some(arrival) = parse_arrival(&line) {
            seen.last = Some(Instant::now());
            seen.first.get_or_insert(Instant::now());
            if arrival.n <= seen.newest {
                seen.misordered += 1;
                continue;
            }
            seen.misordered += u64::from(arrival.n != seen.newest + 1);
            seen.newest = arrival.n;
            seen.received += 1;
            let micros = (arrival.read_ns.saturating_sub(arrival.built_ns) / 1000) as u64;
            seen.latency_us.saturating_record(micros.max(1));
        } else if line.contains("\"lagged\"") {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            seen.lagged = Some(value["error"]["data"].to_string());
            break;
        }
    }
    seen
}

/// The daemon's CPU (share of one core) and RSS while the flood runs.
struct Usage {
    cpu: f64,
    rss_mib: f64,
    peak_mib: f64,
}

fn usage(pid: u32, ticks_before: u64, since: Instant) -> Usage {
    let ticks = cpu_ticks(pid) - ticks_before;
    Usage {
        cpu: ticks as f64 / 100.0 / since.elapsed().as_secs_f64(),
        rss_mib: proc_kb(pid, "VmRSS") as f64 / 1024.0,
        peak_mib: proc_kb(pid, "VmHWM") as f64 / 1024.0,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(options: &Options, count: u64, seen: &[Seen], usage: &Usage) {
    let mut rates: Vec<f64> = seen
        .iter()
        .map(|s| match (s.first, s.last) {
            (Some(first), Some(last)) if last > first => {
                (s.received - 1) as f64 / (last - first).as_secs_f64()
            }
            _ => 0.0,
        })
        .collect();
    let lost: u64 = seen.iter().map(|s| count - s.received).sum();
    let misordered: u64 = seen.iter().map(|s| s.misordered).sum();
    let mut merged = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
    for s in seen {
        merged.add(&s.latency_us).unwrap();
    }
    let median_rate = median(&mut rates);
    println!(
        "{} subscribers, {} stalled, {}/s for {} s ({count} messages), commit wait {} µs: \
         received/s per subscriber min {:.0} median {median_rate:.0} max {:.0}; lost {lost}, \
         twice or out of order {misordered}",
        options.subscribers,
        options.stalled,
        options.rate,
        options.seconds,
        options.commit_wait_us,
        rates[0],
        rates[rates.len() - 1],
    );
    println!(
        "latency frame built -> line read, all subscribers merged ({} samples): p50 {} µs, \
         p99 {} µs, p99.9 {} µs, max {} µs",
        merged.len(),
        merged.value_at_quantile(0.5),
        merged.value_at_quantile(0.99),
        merged.value_at_quantile(0.999),
        merged.max()
    );
    println!(
        "daemon during the flood: CPU {:.0}% of one core, VmRSS {:.1} MiB, VmHWM {:.1} MiB",
        usage.cpu * 100.0,
        usage.rss_mib,
        usage.peak_mib
    );
}

fn write_config(dir: &Path, commit_wait_us: u64) {
    let config = dir.join("wawebd");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!("[journal]\ncommit_wait_us = {commit_wait_us}\n"),
    )
    .unwrap();
}

fn main() {
    let options = options();
    let count = options.rate * options.seconds;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), options.commit_wait_us);
    let (mut sim, url) = start_sim(false);
    let (daemon, socket) = start_daemon(dir.path(), &url);
    pair(&mut sim, &socket);
    let readers: Vec<_> = (0..options.subscribers)
        .map(|_| subscribe(&socket))
        .collect();
    let stalled: Vec<_> = (0..options.stalled).map(|_| subscribe(&socket)).collect();
    std::thread::sleep(Duration::from_millis(300));

    let pid = daemon.0.id();
    let (ticks_before, started) = (cpu_ticks(pid), Instant::now());
    let deadline = started + Duration::from_secs(options.seconds * 4 + 30);
    let threads: Vec<_> = readers
        .into_iter()
        .map(|reader| std::thread::spawn(move || read(reader, count, deadline)))
        .collect();
    sim.command(json!({"cmd": "flood", "count": count, "rate": options.rate}));
    let seen: Vec<Seen> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let usage = usage(pid, ticks_before, started);
    report(&options, count, &seen, &usage);

    for (n, reader) in stalled.into_iter().enumerate() {
        let began = Instant::now();
        let seen = read(reader, count, began + Duration::from_secs(120));
        let fate = match &seen.lagged {
            Some(data) => format!("cut with lagged {data}"),
            None if seen.received == count && seen.misordered == 0 => "caught up".to_owned(),
            None => "neither caught up nor cut".to_owned(),
        };
        println!(
            "stalled subscriber {}: {fate}: {} of {count} messages, in order, read in {:.2} s \
             after the flood; daemon VmHWM now {:.1} MiB",
            n + 1,
            seen.received,
            began.elapsed().as_secs_f64(),
            proc_kb(pid, "VmHWM") as f64 / 1024.0
        );
    }
}
