//! `wawebd [run]`: the daemon itself.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tracing_subscriber::EnvFilter;
use waweb_proto::{AccountName, Call, Event};
use wawebd::config::{Config, Overrides};
use wawebd::daemon::Daemon;
use wawebd::session::SessionHandle;

use super::logging::LogLevel;

/// Where the daemon connects and keeps its files (flags win over environment variables, which
/// win over the config file).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// The server's websocket URL (`ws://` for local peers) [env: WAWEBD_SERVER_URL].
    #[arg(long, value_name = "URL")]
    server_url: Option<String>,
    /// The control socket [env: WAWEBD_SOCKET] [default: $XDG_RUNTIME_DIR/wawebd/wawebd.sock].
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Where the session is stored [env: WAWEBD_STATE_DIR] [default: $STATE_DIRECTORY or
    /// $XDG_STATE_HOME/wawebd].
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// PEM certificates to trust besides the public CAs, for wss:// and https:// (a private CA,
    /// or the certificate of `wawebd sim --tls`) [env: WAWEBD_CA_FILE].
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// The config file [env: WAWEBD_CONFIG] [default: $XDG_CONFIG_HOME/wawebd/config.toml, if
    /// present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log filter, e.g. `info` or `wawebd=debug` [env: WAWEBD_LOG].
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
    /// Run this account (1-64 of A-Z, a-z, 0-9, _ and -): socket
    /// $XDG_RUNTIME_DIR/wawebd/NAME.sock, state $XDG_STATE_HOME/wawebd/NAME, config
    /// $XDG_CONFIG_HOME/wawebd/NAME.toml if present (else config.toml); --socket and
    /// --state-dir still win [env: WAWEBD_ACCOUNT].
    #[arg(long, value_name = "NAME", value_parser = parse_account)]
    account: Option<AccountName>,
    /// Serve `GET /metrics` (OpenMetrics text) on this address, e.g. `127.0.0.1:9464`; off by
    /// default [env: WAWEBD_METRICS_LISTEN].
    #[arg(long, value_name = "ADDRESS:PORT")]
    metrics_listen: Option<String>,
}

fn parse_account(name: &str) -> Result<AccountName, String> {
    AccountName::new(name).map_err(|error| error.to_string())
}

impl Args {
    pub fn has_socket(&self) -> bool {
        self.socket.is_some()
    }

    pub fn set_socket(&mut self, socket: PathBuf) {
        self.socket = Some(socket);
    }

    pub fn set_state_dir(&mut self, dir: PathBuf) {
        self.state_dir = Some(dir);
    }

    pub fn has_log_level(&self) -> bool {
        self.log_level.is_some()
    }

    pub fn resolve(self) -> anyhow::Result<Config> {
        Ok(Config::resolve(self.overrides()?, &|name| {
            std::env::var(name).ok()
        })?)
    }

    /// The flags merged with their environment variables, which SIGHUP resolves again.
    pub fn overrides(self) -> anyhow::Result<Overrides> {
        // Flags win over the environment; an empty variable (`WAWEBD_SOCKET=`) means "not
        // set", as it does for XDG_RUNTIME_DIR and friends.
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let text = |flag: Option<String>, name: &str| {
            flag.filter(|value| !value.is_empty()).or_else(|| env(name))
        };
        let path = |flag: Option<PathBuf>, name: &str| {
            flag.filter(|value| !value.as_os_str().is_empty())
                .or_else(|| env(name).map(PathBuf::from))
        };
        let account = match self.account {
            Some(name) => Some(name),
            None => env(waweb_proto::ACCOUNT_ENV)
                .map(|name| AccountName::new(&name))
                .transpose()
                .with_context(|| format!("${}", waweb_proto::ACCOUNT_ENV))?,
        };
        Ok(Overrides {
            account,
            server_url: text(self.server_url, "WAWEBD_SERVER_URL"),
            socket: path(self.socket, "WAWEBD_SOCKET"),
            state_dir: path(self.state_dir, "WAWEBD_STATE_DIR"),
            ca_file: path(self.ca_file, "WAWEBD_CA_FILE"),
            config: path(self.config, "WAWEBD_CONFIG"),
            log_level: text(self.log_level, "WAWEBD_LOG"),
            metrics_listen: text(self.metrics_listen, "WAWEBD_METRICS_LISTEN"),
        })
    }
}

/// The logging of [`super::logging`] with the configuration's level, which `Config::resolve`
/// has checked.
pub fn init_logging(config: &Config) -> LogLevel {
    let filter =
        wawebd::config::log_filter(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    super::logging::init(filter)
}

/// `WATCHDOG=1` at half the interval, but only when the session actor answers a status request
/// quickly: a wedged loop stops the pings and systemd restarts the daemon.
async fn feed_watchdog(handle: SessionHandle, interval: Duration) {
    let period = interval / 2;
    loop {
        tokio::time::sleep(period).await;
        match tokio::time::timeout(period / 2, handle.call(Call::Status)).await {
            Ok(Ok(_)) => {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
            Ok(Err(_)) => return,
            Err(_) => {
                tracing::warn!("the session loop did not answer in time; not feeding the watchdog")
            }
        }
    }
}

/// Raises the soft limit on open descriptors to the hard one (systemd starts services with a
/// soft 1,024). Not fatal: a sandbox may forbid `setrlimit` (the units set `LimitNOFILE=`
/// instead), and the connection cap keeps the daemon's own files reachable either way.
fn raise_descriptor_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some() && limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => tracing::debug!(limit = ?limit.maximum, "raised the descriptor limit"),
            Err(error) => {
                tracing::debug!(%error, soft = ?limit.current, "cannot raise the descriptor limit")
            }
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let overrides = args.overrides()?;
    let env = |name: &str| std::env::var(name).ok();
    let config = Config::resolve(overrides.clone(), &env)?;
    let log_level = init_logging(&config);
    raise_descriptor_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        // Before anything can send SIGHUP expecting a reload: its default action ends the process.
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("listening for SIGHUP")?;
        let daemon = Daemon::new(config.clone());
        let reloader = super::reload::Reloader {
            overrides,
            current: config,
            log_level,
            session: daemon.handle(),
        };
        daemon.spawn(reloader.run(hangups));
        if let Some(interval) = sd_notify::watchdog_enabled() {
            daemon.spawn(feed_watchdog(daemon.handle(), interval));
        }
        let mut events = daemon.bus().subscribe();
        // systemd's `STATUS=` follows the session's state.
        daemon.spawn(async move {
            while let Ok(event) = events.recv().await {
                if let Some(Event::State { state, reason, .. }) = &event.event {
                    let status = match reason {
                        Some(reason) => format!("{} ({})", state.as_str(), reason.description()),
                        None => state.as_str().to_owned(),
                    };
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Status(&status)]);
                }
            }
        });
        daemon
            .run(super::shutdown_signal(), || {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
            })
            .await?;
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        Ok(ExitCode::SUCCESS)
    })
}
