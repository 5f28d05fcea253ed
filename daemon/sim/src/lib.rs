//! A faithful simulator of the legacy WhatsApp Web service: the websocket server, the user's
//! phone and the media host (PROTOCOL.md section 13 is its script; sections 1-6 and 8 the
//! details). It is built from the protocol description, not from what our daemon expects, so
//! that any legacy client can pair with it, chat and restore.
//!
//! One task (the core) owns every session and connection; connection tasks only move frames.
//! Everything the simulator does is reported as JSON lines (DESIGN.md section 5):
//!
//! ```text
//! {"type":"listening","ws_url":"ws://127.0.0.1:41234/ws","media_url":"http://127.0.0.1:41235/"}
//! {"type":"client_connected","conn":1}
//! {"type":"received","conn":1,"tag":"371.--0","json":["admin","init",[2,2142,12],["waweb","wawebd","0.1.0"],"AAECAwQFBgcICQoLDA0ODw==",true]}
//! {"type":"paired","conn":1,"wid":"4915100000000@c.us","client_id":"AAECAwQFBgcICQoLDA0ODw=="}
//! ```
//!
//! With [`Config::tls`] both listeners speak TLS (`wss://`, `https://`) with a self-signed
//! certificate ([`Tls`]). Only `wawebd sim`, `wawebd --demo` (the command line) and tests use
//! this crate; the daemon library never does.

mod command;
mod control;
mod core;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod media_fault;
mod media_host;
mod server;
mod tasks;
mod tls;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot};

pub use control::run_control_channel;
pub use tls::Tls;

/// How the simulated service behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the websocket front listens (`127.0.0.1:0` for an ephemeral port).
    pub listen: SocketAddr,
    /// Where the media host listens; port 0 picks one.
    pub media_listen: SocketAddr,
    /// Lifetime of each QR ref, as announced in `ttl`.
    pub ttl: Duration,
    /// How many `reref`s are answered with a fresh ref before 429 (the real service: 5).
    pub reref_budget: u32,
    /// The phone's number; its JID is `<number>@c.us`.
    pub phone_number: String,
    /// The phone owner's display name.
    pub pushname: String,
    /// Gap after `init` and challenge replies, for clients that start listening late.
    pub reply_gap: Duration,
    /// Delay of the binary login-time pushes after `Conn`, so the client has derived its keys.
    pub push_delay: Duration,
    /// When set, simulated contacts send a message to the logged-in client at this interval.
    pub chatter: Option<Duration>,
    /// Whether the recipient of a message the client sends reads it by itself (ack 3 about a
    /// second after delivery); when false only the `read` command sends ack 3.
    pub auto_read: bool,
    /// When set, both listeners speak TLS with this certificate: `wss://…/ws`, `https://…/`.
    pub tls: Option<Tls>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            media_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ttl: Duration::from_millis(20_000),
            reref_budget: 5,
            phone_number: "4915100000000".into(),
            pushname: "Sim Phone".into(),
            reply_gap: Duration::from_millis(100),
            push_delay: Duration::from_millis(150),
            chatter: None,
            auto_read: true,
            tls: None,
        }
    }
}

/// A running simulator. Dropping it stops nothing; call [`Sim::shutdown`] or end the runtime.
#[derive(Debug, Clone)]
pub struct Sim {
    ws_url: String,
    media_url: String,
    tls: Option<Tls>,
    commands: mpsc::Sender<core::Input>,
    output: broadcast::Sender<Value>,
    tasks: tasks::Tasks,
}

/// Why a control command failed: the text of its `error` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CommandError(pub String);

impl Sim {
    /// Binds both listeners and starts the core.
    pub async fn start(config: Config) -> std::io::Result<Sim> {
        let ws_listener = TcpListener::bind(config.listen).await?;
        let media_listener = TcpListener::bind(config.media_listen).await?;
        // The second upload host of `mediaConn`, on the same address.
        let media_listener_2 =
            TcpListener::bind(SocketAddr::new(config.media_listen.ip(), 0)).await?;
        let ws_addr = ws_listener.local_addr()?;
        let media_addr = media_listener.local_addr()?;
        let media_hosts = vec![
            media_addr.to_string(),
            media_listener_2.local_addr()?.to_string(),
        ];
        let (ws, http) = match config.tls {
            Some(_) => ("wss", "https"),
            None => ("ws", "http"),
        };
        let ws_url = format!("{ws}://{ws_addr}/ws");
        let media_url = format!("{http}://{media_addr}/");
        let tls = config.tls.clone();
        let acceptor = tls.as_ref().map(Tls::acceptor);
        let (output, _) = broadcast::channel(65_536);
        let (input_tx, input_rx) = mpsc::channel(1024);
        let store = media_host::Store::new(media_url.clone(), media_hosts, output.clone())
            .with_core(input_tx.clone());
        let tasks = tasks::Tasks::default();
        tasks.spawn(server::accept_loop(
            ws_listener,
            acceptor.clone(),
            input_tx.clone(),
            tasks.clone(),
        ));
        for listener in [media_listener, media_listener_2] {
            tasks.spawn(media_host::serve(
                listener,
                acceptor.clone(),
                store.clone(),
                tasks.clone(),
            ));
        }
        let core = core::Core::new(
            config,
            store,
            output.clone(),
            input_tx.clone(),
            tasks.clone(),
        );
        tasks.spawn_to_end(core.run(input_rx));
        Ok(Sim {
            ws_url,
            media_url,
            tls,
            commands: input_tx,
            output,
            tasks,
        })
    }

    /// `ws://127.0.0.1:P/ws` (`wss://` with TLS).
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// `http://127.0.0.1:Q/` (`https://` with TLS).
    pub fn media_url(&self) -> &str {
        &self.media_url
    }

    /// The certificate both listeners present, in PEM; `None` without TLS.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(Tls::certificate_pem)
    }

    /// The `listening` line.
    pub fn listening_line(&self) -> Value {
        serde_json::json!({"type": "listening", "ws_url": self.ws_url, "media_url": self.media_url})
    }

    /// Every output line from now on (connections, received frames, command results).
    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.output.subscribe()
    }

    /// Runs one control command (`{"cmd":"scan","qr":…}` …) and returns its `done` line once its
    /// effect has happened.
    pub async fn command(&self, command: Value) -> Result<Value, CommandError> {
        let (reply, done) = oneshot::channel();
        self.commands
            .send(core::Input::command(command, reply))
            .await
            .map_err(|_| CommandError("simulator stopped".into()))?;
        let line = done
            .await
            .map_err(|_| CommandError("simulator stopped".into()))?;
        if line["type"] == "done" {
            Ok(line)
        } else {
            Err(CommandError(
                line["message"].as_str().unwrap_or("failed").to_owned(),
            ))
        }
    }

    /// Queues a command without waiting; its `done` or `error` line arrives on the output.
    pub async fn submit(&self, command: Value) {
        let (reply, _) = oneshot::channel();
        let _ = self
            .commands
            .send(core::Input::command(command, reply))
            .await;
    }

    /// Reports an unreadable control line in order with the commands around it.
    pub async fn submit_unreadable(&self, message: String) {
        let _ = self
            .commands
            .send(core::Input::Unreadable { message })
            .await;
    }

    /// Stops the simulator: the core closes every connection (with a close frame), then every
    /// task ends; nothing of it runs when this returns.
    pub async fn shutdown(&self) {
        let _ = self.commands.send(core::Input::Shutdown).await;
        self.commands.closed().await;
        self.tasks.stop().await;
    }
}
