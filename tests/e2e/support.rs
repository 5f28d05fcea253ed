//! The harness: a simulator on 127.0.0.1:0 and a real daemon (`Daemon::run`) in the same
//! runtime, with its own temp dir, socket and state; a JSON-lines client over the socket; waits
//! with deadlines, never sleeps. With [`Options::tls`] the simulator serves `wss://` and
//! `https://` and the daemon trusts its certificate through `ca_file`. With [`Options::paused`]
//! tokio's clock is paused: the daemon runs with the timers of a real deployment (20 s QR
//! codes, 20 s keepalives, 1 s to 120 s backoff) and the runtime skips ahead whenever every
//! task waits for a timer, so the test takes milliseconds. (Loopback sockets deliver at once,
//! and the session writer's blocking threads hold the clock, so skipping never overtakes IO.)

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use waweb_sim::{self as sim, Sim};
use wawebd::config::Config;
use wawebd::daemon::Daemon;

pub const DEADLINE: Duration = Duration::from_secs(15);

thread_local! {
    /// Set by a harness with paused time, on the test's own thread (a current-thread runtime).
    static PAUSED: Cell<bool> = const { Cell::new(false) };
}

/// How long to wait for anything: [`DEADLINE`], or ten virtual minutes when time is paused
/// (a wait that never ends is still caught, instantly, when the clock skips there).
pub fn deadline() -> Duration {
    if PAUSED.get() {
        Duration::from_secs(600)
    } else {
        DEADLINE
    }
}

pub struct Harness {
    pub sim: Sim,
    pub sim_output: broadcast::Receiver<Value>,
    pub dir: tempfile::TempDir,
    pub config: Config,
    daemon: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

pub struct Options {
    pub ttl: Duration,
    pub reref_budget: u32,
    pub keepalive: Duration,
    pub pong_timeout: Duration,
    /// A simulator with a self-signed certificate, written to `<dir>/sim.pem` and given to the
    /// daemon as `ca_file`.
    pub tls: bool,
    /// Paused tokio time, and the reconnect backoff of a real deployment (1 s doubling to
    /// 120 s) instead of the quick one the other tests use.
    pub paused: bool,
    /// What the daemon's journal keeps.
    pub journal: wawebd::journal::Retention,
    /// Whether the simulated contacts read what the daemon sends them by themselves.
    pub auto_read: bool,
    /// The demo's contacts: they chatter every so often and answer quotes and attachments.
    pub chatter: Option<Duration>,
    /// The daemon's socket and state dir instead of `<dir>/run/wawebd.sock` and `<dir>/state`
    /// (an account's, as `Config::resolve` derives them).
    pub paths: Option<(PathBuf, PathBuf)>,
    /// Where the daemon serves `GET /metrics` (`127.0.0.1:0` for any free port).
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ttl: Duration::from_secs(20),
            reref_budget: 5,
            keepalive: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(25),
            tls: false,
            paused: false,
            journal: wawebd::journal::Retention::default(),
            auto_read: true,
            chatter: None,
            paths: None,
            metrics_listen: None,
        }
    }
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Harness {
        if options.paused {
            tokio::time::pause();
            PAUSED.set(true);
        }
        let (reconnect_initial, reconnect_max) = if options.paused {
            (Duration::from_secs(1), Duration::from_secs(120))
        } else {
            (Duration::from_millis(40), Duration::from_millis(300))
        };
        let dir = tempfile::Builder::new().prefix("waweb").tempdir().unwrap();
        let tls = options.tls.then(|| sim::Tls::self_signed().unwrap());
        let ca_file = tls.as_ref().map(|tls| {
            let path = dir.path().join("sim.pem");
            std::fs::write(&path, tls.certificate_pem()).unwrap();
            path
        });
        let sim = Sim::start(sim::Config {
            ttl: options.ttl,
            reply_gap: Duration::from_millis(5),
            push_delay: Duration::from_millis(5),
            auto_read: options.auto_read,
            chatter: options.chatter,
            tls,
            ..sim::Config::default()
        })
        .await
        .unwrap();
        let sim_output = sim.subscribe();
        let (socket, state_dir) = options
            .paths
            .clone()
            .unwrap_or_else(|| (dir.path().join("run/wawebd.sock"), dir.path().join("state")));
        let config = Config {
            server_url: sim.ws_url().to_owned(),
            socket,
            ca_file,
            state_dir,
            browser: ["Linux".into(), "wawebd-test".into(), "0.1.0".into()],
            client_version: [2, 2142, 12],
            reconnect_initial,
            reconnect_max,
            reref_budget: options.reref_budget,
            log_level: "debug".into(),
            keepalive: options.keepalive,
            pong_timeout: options.pong_timeout,
            request_timeout: Duration::from_secs(5),
            max_connections: wawebd::ipc::DEFAULT_MAX_CONNECTIONS,
            journal: options.journal.clone(),
            metrics_listen: options.metrics_listen,
            http: wawebd::http::Limits::default(),
        };
        let mut harness = Harness {
            sim,
            sim_output,
            dir,
            config,
            daemon: None,
        };
        harness.start_daemon().await;
        harness
    }

    pub async fn start_daemon(&mut self) {
        let daemon = Daemon::new(self.config.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            daemon
                .run(
                    async {
                        let _ = stopped.await;
                    },
                    move || {
                        let _ = ready_tx.send(());
                    },
                )
                .await
                .unwrap();
        });
        timeout(deadline(), ready_rx).await.unwrap().unwrap();
        self.daemon = Some((stop, task));
    }

    pub async fn stop_daemon(&mut self) {
        if let Some((stop, task)) = self.daemon.take() {
            let _ = stop.send(());
            timeout(deadline(), task).await.unwrap().unwrap();
        }
    }

    pub fn socket(&self) -> &Path {
        &self.config.socket
    }

    pub fn session_file(&self) -> PathBuf {
        self.config.state_dir.join("session.json")
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.socket()).await
    }

    pub async fn sim_command(&self, command: Value) -> Value {
        self.sim.command(command).await.unwrap()
    }

    /// The next simulator line of `kind` (skipping others).
    pub async fn sim_line(&mut self, kind: &str) -> Value {
        let output = &mut self.sim_output;
        timeout(deadline(), async {
            loop {
                match output.recv().await {
                    Ok(line) if line["type"] == kind => return line,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(error) => panic!("sim output closed: {error}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no sim {kind} line in time"))
    }

    /// Subscribes, logs in, scans the QR with the simulated phone; returns the subscribed client.
    pub async fn pair(&mut self) -> Client {
        let mut client = self.client().await;
        client.call("subscribe", json!({})).await.unwrap();
        assert_eq!(
            client.call("login", Value::Null).await.unwrap(),
            json!({"state": "pairing"})
        );
        let qr = client.event("qr").await;
        self.sim_command(json!({"cmd": "scan", "qr": qr["content"]}))
            .await;
        let connected = client.event("connected").await;
        assert_eq!(connected["restored"], false);
        client
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some((stop, _)) = self.daemon.take() {
            let _ = stop.send(());
        }
    }
}

pub struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    next_id: u64,
    events: Vec<Value>,
    /// The highest seq seen, to check they only grow.
    last_seq: u64,
}

impl Client {
    pub async fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path).await.unwrap();
        let (read, writer) = stream.into_split();
        Client {
            reader: BufReader::new(read),
            writer,
            next_id: 1,
            events: Vec::new(),
            last_seq: 0,
        }
    }

    pub async fn send_line(&mut self, line: &str) {
        self.writer.write_all(line.as_bytes()).await.unwrap();
        self.writer.write_all(b"\n").await.unwrap();
    }

    pub async fn read_line(&mut self) -> Option<Value> {
        let mut line = String::new();
        let n = timeout(deadline(), self.reader.read_line(&mut line))
            .await
            .expect("a line in time")
            .unwrap();
        if n == 0 {
            return None;
        }
        Some(serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}")))
    }

    /// Calls a method and returns its result or its error object; events read meanwhile are kept.
    /// Checks an event's journal stamp and takes it off, so tests compare just the event:
    /// every event but `qr` carries `at` and a `seq` above the last one this client saw.
    fn unstamp(&mut self, mut event: Value) -> Value {
        let Some(object) = event.as_object_mut() else {
            return event;
        };
        let seq = object.remove("seq").and_then(|seq| seq.as_u64());
        let at = object.remove("at").and_then(|at| at.as_u64());
        match object.get("type").and_then(Value::as_str) {
            Some("qr") => assert_eq!(seq, None, "qr events are never journaled"),
            Some("error") => {}
            _ => {
                let seq = seq.unwrap_or_else(|| panic!("an event without seq: {event:?}"));
                assert!(seq > self.last_seq, "seq {seq} after {}", self.last_seq);
                self.last_seq = seq;
                assert!(at.is_some_and(|at| at > 1_600_000_000_000), "at {at:?}");
            }
        }
        event
    }

    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            request["params"] = params;
        }
        self.send_line(&request.to_string()).await;
        loop {
            let line = self
                .read_line()
                .await
                .expect("daemon closed the connection");
            if line["id"] == id {
                return match line.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(line["result"].clone()),
                };
            }
            if line["method"] == "event" {
                let event = self.unstamp(line["params"].clone());
                self.events.push(event);
            }
        }
    }

    /// The next event of `kind`, skipping (and forgetting) others.
    pub async fn event(&mut self, kind: &str) -> Value {
        if let Some(position) = self.events.iter().position(|event| event["type"] == kind) {
            let event = self.events.remove(position);
            self.events.drain(..position);
            return event;
        }
        self.events.clear();
        loop {
            let line = self
                .read_line()
                .await
                .unwrap_or_else(|| panic!("closed while waiting for {kind}"));
            if line["method"] == "event" {
                let event = self.unstamp(line["params"].clone());
                if event["type"] == kind {
                    return event;
                }
            }
        }
    }

    /// The next `state` event whose state is `state`.
    pub async fn state(&mut self, state: &str) -> Value {
        loop {
            let event = self.event("state").await;
            if event["state"] == state {
                return event;
            }
        }
    }
}
