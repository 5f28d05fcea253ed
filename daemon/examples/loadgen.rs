//! Load for the whole daemon, as a user runs it: `wawebd sim` and `wawebd` as child processes,
//! a session paired over the socket, one subscriber reading `message` events from the socket,
//! and the simulator's `flood` pushing messages over the loopback websocket. Reports
//! throughput (with the simulator's own sending time beside it, so the two can be compared)
//! and the latency from a frame being built to its JSON line being read from the socket.
//! Every message is checked to arrive once, in order.
//!
//! ```text
//! cargo run --release -p wawebd --example loadgen -- [COUNT] [LATENCY_RATE] [LATENCY_COUNT]
//! ```

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

mod support;

use support::{Arrival, Sim, pair, parse_arrival, request, start_daemon, start_sim};

/// Subscribes to messages and hands every arrival to the returned channel.
fn subscriber(socket: &Path) -> mpsc::Receiver<Arrival> {
    let mut stream = UnixStream::connect(socket).unwrap();
    request(&mut stream, 1, "subscribe", json!({"events": ["message"]}));
    let (send, arrivals) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::with_capacity(1 << 20, stream);
        for line in reader.lines().map_while(Result::ok) {
            if let Some(arrival) = parse_arrival(&line)
                && send.send(arrival).is_err()
            {
                return;
            }
        }
    });
    arrivals
}

/// Floods `count` messages at `rate`; checks they all arrive once and in order; returns the
/// arrivals, the time from the command to the last one, and the simulator's own time.
fn flood(
    sim: &mut Sim,
    arrivals: &mpsc::Receiver<Arrival>,
    count: u64,
    rate: u64,
) -> (Vec<Arrival>, Duration, u64) {
    let started = Instant::now();
    writeln!(
        sim.stdin,
        "{}",
        json!({"cmd": "flood", "count": count, "rate": rate})
    )
    .unwrap();
    let mut got = Vec::with_capacity(count as usize);
    while (got.len() as u64) < count {
        let arrival = arrivals
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("only {} of {count} messages arrived", got.len()));
        assert_eq!(arrival.n, got.len() as u64 + 1, "in order, each once");
        got.push(arrival);
    }
    let elapsed = started.elapsed();
    let done = loop {
        let line = sim.lines.recv_timeout(Duration::from_secs(60)).unwrap();
        if line["cmd"] == "flood" {
            break line;
        }
    };
    (got, elapsed, done["elapsed_ms"].as_u64().unwrap_or(0))
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let count = args.first().copied().unwrap_or(200_000);
    let latency_rate = args.get(1).copied().unwrap_or(1_000);
    let latency_count = args.get(2).copied().unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let (mut sim, url) = start_sim(false);
    let (_daemon, socket) = start_daemon(dir.path(), &url);
    pair(&mut sim, &socket);
    let arrivals = subscriber(&socket);
    std::thread::sleep(Duration::from_millis(200));

    let (_, elapsed, sim_ms) = flood(&mut sim, &arrivals, count, 10_000_000);
    let rate = count as f64 / elapsed.as_secs_f64();
    println!(
        "throughput: {count} messages in {:.3} s = {rate:.0} messages/s through the daemon \
         (the simulator took {sim_ms} ms to send them); none lost, in order",
        elapsed.as_secs_f64()
    );

    // The throughput run left tens of megabytes of WAL; let their checkpoint finish, as it
    // would long before in steady use at this rate, so it does not fall into the latency run.
    std::thread::sleep(Duration::from_secs(3));
    let (got, _, _) = flood(&mut sim, &arrivals, latency_count, latency_rate);
    let mut micros: Vec<u128> = got
        .iter()
        .map(|a| a.read_ns.saturating_sub(a.built_ns) / 1000)
        .collect();
    micros.sort_unstable();
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    println!(
        "latency at {latency_rate}/s over {latency_count} messages, frame built -> line read: \
         p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
        at(0.5),
        at(0.99),
        at(0.999),
        micros[micros.len() - 1]
    );
    let journal = Command::new("ls")
        .arg("-l")
        .arg(dir.path().join("state"))
        .output();
    if let Ok(output) = journal {
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
}
