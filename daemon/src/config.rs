//! The daemon's settings: flags win over environment variables, which win over the config file,
//! which wins over the defaults (DESIGN.md section 2).
//!
//! ```toml
//! # $XDG_CONFIG_HOME/wawebd/config.toml
//! server_url = "wss://web.whatsapp.com/ws"
//! socket = "/run/user/1000/wawebd/wawebd.sock"
//! state_dir = "/home/ada/.local/state/wawebd"
//! log_level = "info"
//! ca_file = "/etc/wawebd/extra-ca.pem"
//! client_version = [2, 2142, 12]
//! reref_budget = 5
//! max_connections = 256
//! metrics_listen = "127.0.0.1:9464"
//! [browser]
//! os = "Linux"
//! name = "wawebd"
//! version = "0.1.0"
//! [reconnect]
//! initial_ms = 1000
//! max_ms = 120000
//! [keepalive]
//! interval_ms = 20000
//! timeout_ms = 25000
//! [journal]
//! keep_days = 14
//! max_mb = 512
//! commit_wait_us = 0
//! [http]
//! read_timeout_ms = 30000
//! min_rate_bytes_per_s = 16384
//! [media]
//! max_download_bytes = 2147483648
//! ```
//!
//! Unknown keys are an error that names the key: a typo must not silently fall back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The official web client's last version; the legacy service refused much older ones.
pub const DEFAULT_CLIENT_VERSION: [u32; 3] = [2, 2142, 12];
/// The real service's websocket.
pub const DEFAULT_SERVER_URL: &str = "wss://web.whatsapp.com/ws";

/// Everything the daemon needs to know before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `wss://…/ws`, or `ws://…` for local peers.
    pub server_url: String,
    /// The control socket.
    pub socket: PathBuf,
    /// PEM certificates trusted besides the public CAs, for `wss://` and `https://`.
    pub ca_file: Option<PathBuf>,
    /// Where `session.json` lives.
    pub state_dir: PathBuf,
    /// `[os, app, version]` shown on the phone.
    pub browser: [String; 3],
    /// The web client version announced in `admin init`.
    pub client_version: [u32; 3],
    /// First reconnect delay (before jitter).
    pub reconnect_initial: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// `reref`s asked for before pairing gives up.
    pub reref_budget: u32,
    /// A `tracing` filter such as `info` or `wawebd=debug`.
    pub log_level: String,
    /// Interval of `?,,` keepalives.
    pub keepalive: Duration,
    /// The connection is dead when no pong came this long after a keepalive.
    pub pong_timeout: Duration,
    /// How long `send_text` and `query` wait for the server.
    pub request_timeout: Duration,
    /// How many socket clients may be connected at once; more are refused with
    /// `too_many_connections`.
    pub max_connections: usize,
    /// How much of the event journal is kept (`[journal] keep_days`, `max_mb`).
    pub journal: crate::journal::Retention,
    /// Where `GET /metrics` is served (`metrics_listen`); `None`: nowhere (the default).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The longest pause between two reads of an HTTP answer (media downloads, logout), and how
    /// long an upload may stop moving (`[http] read_timeout_ms`, default 30 s): a stalled media
    /// host fails after it; the slowest a media body may move over that time
    /// (`[http] min_rate_bytes_per_s`, default 16 KiB/s); the largest download
    /// (`[media] max_download_bytes`, default 2 GiB).
    pub http: crate::http::Limits,
}

/// Values given on the command line or in the environment (clap merges those two).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--server-url` / `WAWEBD_SERVER_URL`.
    pub server_url: Option<String>,
    /// `--socket` / `WAWEBD_SOCKET`.
    pub socket: Option<PathBuf>,
    /// `--state-dir` / `WAWEBD_STATE_DIR`.
    pub state_dir: Option<PathBuf>,
    /// `--ca-file` / `WAWEBD_CA_FILE`.
    pub ca_file: Option<PathBuf>,
    /// `--config` / `WAWEBD_CONFIG`.
    pub config: Option<PathBuf>,
    /// `--log-level` / `WAWEBD_LOG`.
    pub log_level: Option<String>,
    /// `--account` / `WAWEBD_ACCOUNT`: the default socket, state dir and config file of that
    /// account instead of the default account's (DESIGN.md section 10).
    pub account: Option<waweb_proto::AccountName>,
    /// `--metrics-listen` / `WAWEBD_METRICS_LISTEN`.
    pub metrics_listen: Option<String>,
}

/// Why no usable configuration could be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("reading config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings (unknown keys included).
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said, naming the key.
        message: String,
    },
    /// A value is out of range or of the wrong form.
    #[error("{0}")]
    Invalid(String),
    /// The log filter (`--log-level`, `WAWEBD_LOG` or `log_level`) is not one the daemon
    /// understands: a usage error, never a silent fallback to `info`.
    #[error("invalid log level {value:?}: {reason}")]
    LogLevel {
        /// The filter as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The level names a bare directive may be; anything else alone is almost always a typo
/// (`infoo`, `verbose`), although `EnvFilter` would take it as a target name.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Checks and builds a log filter such as `info` or `info,wawebd=debug`: every directive is a
/// level, or `target=level` (with `EnvFilter`'s span and field syntax), and the whole parses.
pub fn log_filter(value: &str) -> Result<tracing_subscriber::EnvFilter, Error> {
    let invalid = |reason: String| Error::LogLevel {
        value: value.to_owned(),
        reason,
    };
    if value.trim().is_empty() {
        return Err(invalid("it is empty; use a level such as info".into()));
    }
    for directive in value.split(',').map(str::trim) {
        let bare = !directive.contains(['=', '[']);
        if bare && !LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            return Err(invalid(format!(
                "{directive:?} is not a level (one of {}); name a target as target=level",
                LEVELS.join(", ")
            )));
        }
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(value)
        .map_err(|error| invalid(error.to_string()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    server_url: Option<String>,
    socket: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    log_level: Option<String>,
    client_version: Option<[u32; 3]>,
    reref_budget: Option<u32>,
    max_connections: Option<usize>,
    browser: Option<BrowserFile>,
    reconnect: Option<ReconnectFile>,
    keepalive: Option<KeepaliveFile>,
    journal: Option<JournalFile>,
    metrics_listen: Option<String>,
    http: Option<HttpFile>,
    media: Option<MediaFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    read_timeout_ms: Option<u64>,
    min_rate_bytes_per_s: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MediaFile {
    max_download_bytes: Option<u64>,
}

/// `[http]` and `[media]`: the limits of HTTP answers and media downloads.
fn http_limits(http: HttpFile, media: MediaFile) -> Result<crate::http::Limits, Error> {
    let read_timeout =
        Duration::from_millis(http.read_timeout_ms.unwrap_or(crate::http::READ_TIMEOUT_MS));
    if read_timeout.is_zero() || read_timeout > Duration::from_secs(600) {
        return Err(Error::Invalid(
            "http.read_timeout_ms must be 1 to 600000".into(),
        ));
    }
    let max_download = media
        .max_download_bytes
        .unwrap_or(crate::http::MAX_DOWNLOAD_BYTES);
    if max_download == 0 {
        return Err(Error::Invalid(
            "media.max_download_bytes must be at least 1".into(),
        ));
    }
    Ok(crate::http::Limits {
        read_timeout,
        min_rate: http
            .min_rate_bytes_per_s
            .unwrap_or(crate::http::MIN_RATE_BYTES_PER_S),
        max_download,
    })
}

/// `[keepalive]`: how often `?,,` goes out and how long a pong may take; a half-open
/// connection is found within `interval_ms + timeout_ms`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeepaliveFile {
    interval_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalFile {
    keep_days: Option<u32>,
    max_mb: Option<u64>,
    commit_wait_us: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BrowserFile {
    os: Option<String>,
    name: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReconnectFile {
    initial_ms: Option<u64>,
    max_ms: Option<u64>,
}

/// The keepalive interval and pong deadline of `[keepalive]` (20 s and 25 s by default), each
/// 100 ms to 10 minutes.
fn keepalive_limits(file: KeepaliveFile) -> Result<(Duration, Duration), Error> {
    let interval = file.interval_ms.unwrap_or(20_000);
    let timeout = file.timeout_ms.unwrap_or(25_000);
    if ![interval, timeout]
        .iter()
        .all(|ms| (100..=600_000).contains(ms))
    {
        return Err(Error::Invalid(
            "keepalive.interval_ms and keepalive.timeout_ms must be 100 to 600000".into(),
        ));
    }
    Ok((
        Duration::from_millis(interval),
        Duration::from_millis(timeout),
    ))
}

/// Reads one environment variable, ignoring empty values.
///
/// The XDG defaults below are computed from it by hand rather than with the `directories` crate:
/// that crate reads the process environment only (so it could not honour this one), and it
/// answers otherwise where today's results are a contract (no HOME: it takes the passwd entry's
/// home; no home at all: no runtime directory even with XDG_RUNTIME_DIR set; relative XDG
/// values: ignored). docs/DESIGN.md section 1 has the measurements.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn first_path(value: Option<String>) -> Option<PathBuf> {
    // systemd passes several directories separated by colons; ours is the first.
    value
        .and_then(|value| value.split(':').next().map(str::to_owned))
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// The longest `[journal] commit_wait_us`: every event waits up to this long for its commit.
const MAX_COMMIT_WAIT_US: u64 = 100_000;

/// `[journal]`: 14 days and 512 MiB, no commit wait, unless the file says otherwise.
fn journal_retention(file: JournalFile) -> Result<crate::journal::Retention, Error> {
    let defaults = crate::journal::Retention::default();
    let keep_days = file.keep_days.unwrap_or(14);
    let max_mb = file.max_mb.unwrap_or(512);
    if keep_days == 0 || max_mb == 0 {
        return Err(Error::Invalid(
            "journal.keep_days and journal.max_mb must be at least 1".into(),
        ));
    }
    let commit_wait_us = file.commit_wait_us.unwrap_or(0);
    if commit_wait_us > MAX_COMMIT_WAIT_US {
        return Err(Error::Invalid(format!(
            "journal.commit_wait_us must be at most {MAX_COMMIT_WAIT_US}"
        )));
    }
    Ok(crate::journal::Retention {
        keep: Duration::from_secs(u64::from(keep_days) * 86_400),
        max_bytes: max_mb.saturating_mul(1 << 20),
        commit_wait: Duration::from_micros(commit_wait_us),
        ..defaults
    })
}

/// The socket and the state directory: flag or file, then systemd's directories, then XDG.
///
/// An account's socket is `<name>.sock` in the same folder as the default account's
/// (waweb_proto's rule, which wawebctl follows too), and its state a `<name>/` folder in the
/// default account's. `$STATE_DIRECTORY` is not used for an account: it names the whole
/// unit's folder, which for the single-account unit is the default account's session, and
/// the template units pass `--state-dir` themselves.
fn paths(
    overrides: &Overrides,
    file: &File,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(PathBuf, PathBuf), Error> {
    let account = overrides.account.as_ref();
    let socket_file = account.map_or_else(
        || waweb_proto::DEFAULT_SOCKET_FILE.to_owned(),
        waweb_proto::AccountName::socket_file,
    );
    let socket = overrides
        .socket
        .clone()
        .or(file.socket.clone())
        .or_else(|| first_path(env("RUNTIME_DIRECTORY")).map(|dir| dir.join(&socket_file)))
        .or_else(|| {
            let var = |name: &str| env(name).map(std::ffi::OsString::from);
            waweb_proto::socket_dir_from(var)
                .ok()
                .map(|dir| dir.join(&socket_file))
        })
        .ok_or_else(|| {
            Error::Invalid(
                "no socket path: pass --socket or set WAWEBD_SOCKET or XDG_RUNTIME_DIR".into(),
            )
        })?;
    let state_home = || {
        env("XDG_STATE_HOME")
            .map(|dir| Path::new(&dir).join("wawebd"))
            .or_else(|| env("HOME").map(|home| Path::new(&home).join(".local/state/wawebd")))
    };
    let state_dir = overrides
        .state_dir
        .clone()
        .or(file.state_dir.clone())
        .or_else(|| match account {
            Some(name) => state_home().map(|dir| dir.join(name.as_str())),
            None => first_path(env("STATE_DIRECTORY")).or_else(state_home),
        })
        .ok_or_else(|| Error::Invalid("no state directory: pass --state-dir or set HOME".into()))?;
    Ok((socket, state_dir))
}

/// The config file when none is named: `<name>.toml` of the account if it exists, else the
/// shared `config.toml` if it exists, both in `$XDG_CONFIG_HOME/wawebd`.
///
/// The shared file serves every account, so its `socket` and `state_dir` would put them all
/// on one socket and one session: for an account that falls back to it, those two keys are an
/// error unless a flag or variable overrides them anyway.
fn default_file(overrides: &Overrides, env: Env<'_>) -> Result<Option<File>, Error> {
    let Some(dir) = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".config")))
        .map(|dir| dir.join("wawebd"))
    else {
        return Ok(None);
    };
    if let Some(name) = &overrides.account {
        let own = dir.join(format!("{name}.toml"));
        if own.exists() {
            return read_file(&own).map(Some);
        }
    }
    let shared = dir.join("config.toml");
    if !shared.exists() {
        return Ok(None);
    }
    let file = read_file(&shared)?;
    if let Some(name) = &overrides.account {
        let shared_paths = [
            (
                "socket",
                file.socket.is_some() && overrides.socket.is_none(),
            ),
            (
                "state_dir",
                file.state_dir.is_some() && overrides.state_dir.is_none(),
            ),
        ];
        if let Some((key, _)) = shared_paths.iter().find(|(_, used)| *used) {
            return Err(Error::Invalid(format!(
                "config file {} sets {key}, which every account reading it would share; \
                 account {name} reads its own {}.toml instead, if present, so set it there",
                shared.display(),
                dir.join(name.as_str()).display()
            )));
        }
    }
    Ok(Some(file))
}

impl Config {
    /// Builds the configuration from overrides, the environment and the config file.
    pub fn resolve(overrides: Overrides, env: Env<'_>) -> Result<Config, Error> {
        let env = |name: &str| env(name).filter(|value| !value.is_empty());
        let file = match &overrides.config {
            Some(path) => Some(read_file(path)?),
            None => default_file(&overrides, &env)?,
        };
        let file = file.unwrap_or_default();
        let (socket, state_dir) = paths(&overrides, &file, &env)?;

        let server_url = overrides
            .server_url
            .or(file.server_url)
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned());
        if !(server_url.starts_with("wss://") || server_url.starts_with("ws://")) {
            return Err(Error::Invalid(format!(
                "server URL {server_url:?} must start with wss:// or ws://"
            )));
        }
        let browser_file = file.browser.unwrap_or(BrowserFile {
            os: None,
            name: None,
            version: None,
        });
        let browser = [
            browser_file
                .os
                .unwrap_or_else(|| std::env::consts::OS.to_owned()),
            browser_file.name.unwrap_or_else(|| "wawebd".to_owned()),
            browser_file
                .version
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
        ];
        let reconnect = file.reconnect.unwrap_or(ReconnectFile {
            initial_ms: None,
            max_ms: None,
        });
        let reconnect_initial = Duration::from_millis(reconnect.initial_ms.unwrap_or(1_000));
        let reconnect_max = Duration::from_millis(reconnect.max_ms.unwrap_or(120_000));
        if reconnect_initial.is_zero() || reconnect_initial > reconnect_max {
            return Err(Error::Invalid(
                "reconnect.initial_ms must be positive and at most reconnect.max_ms".into(),
            ));
        }
        let max_connections = file
            .max_connections
            .unwrap_or(crate::ipc::DEFAULT_MAX_CONNECTIONS);
        if max_connections == 0 {
            return Err(Error::Invalid("max_connections must be at least 1".into()));
        }
        let (keepalive, pong_timeout) = keepalive_limits(file.keepalive.unwrap_or_default())?;
        let journal = journal_retention(file.journal.unwrap_or_default())?;
        let http = http_limits(
            file.http.unwrap_or_default(),
            file.media.unwrap_or_default(),
        )?;
        let log_level = overrides
            .log_level
            .or(file.log_level)
            .unwrap_or_else(|| "info".to_owned());
        log_filter(&log_level)?;
        let metrics_listen = overrides
            .metrics_listen
            .or(file.metrics_listen)
            .map(|text| parse_listen(&text))
            .transpose()?;
        Ok(Config {
            server_url,
            socket,
            ca_file: overrides.ca_file.or(file.ca_file),
            state_dir,
            browser,
            client_version: file.client_version.unwrap_or(DEFAULT_CLIENT_VERSION),
            reconnect_initial,
            reconnect_max,
            reref_budget: file.reref_budget.unwrap_or(5),
            log_level,
            keepalive,
            pong_timeout,
            request_timeout: Duration::from_secs(20),
            max_connections,
            journal,
            metrics_listen,
            http,
        })
    }

    /// The settings of `new` that differ from these and that only a restart applies: everything
    /// but the log level and the reconnect limits, which SIGHUP applies (docs/DESIGN.md, "Logs
    /// and reload").
    /// A field added later and not named here is reported as `other settings`.
    pub fn restart_needed(&self, new: &Config) -> Vec<&'static str> {
        let checks = [
            ("server_url", self.server_url != new.server_url),
            ("socket", self.socket != new.socket),
            ("ca_file", self.ca_file != new.ca_file),
            ("state_dir", self.state_dir != new.state_dir),
            ("browser", self.browser != new.browser),
            ("client_version", self.client_version != new.client_version),
            ("reref_budget", self.reref_budget != new.reref_budget),
            (
                "max_connections",
                self.max_connections != new.max_connections,
            ),
            ("journal", self.journal != new.journal),
            ("metrics_listen", self.metrics_listen != new.metrics_listen),
            (
                "http",
                (self.http.read_timeout, self.http.min_rate)
                    != (new.http.read_timeout, new.http.min_rate),
            ),
            ("media", self.http.max_download != new.http.max_download),
        ];
        let mut keys: Vec<&'static str> = checks
            .iter()
            .filter(|(_, changed)| *changed)
            .map(|(key, _)| *key)
            .collect();
        let reloadable = Config {
            log_level: self.log_level.clone(),
            reconnect_initial: self.reconnect_initial,
            reconnect_max: self.reconnect_max,
            ..new.clone()
        };
        if keys.is_empty() && reloadable != *self {
            keys.push("other settings");
        }
        keys
    }

    /// The scheme of the media hosts `mediaConn` names: `https` as the real service had, `http`
    /// for a local peer reached over plain `ws://` (the simulator without TLS).
    pub fn upload_scheme(&self) -> &'static str {
        if self.server_url.starts_with("ws://") {
            "http"
        } else {
            "https"
        }
    }

    /// Where the logout request of PROTOCOL.md section 6 goes: the real service's `dyn` host,
    /// or the same host as the websocket for a local peer.
    pub fn logout_url(&self) -> String {
        let (scheme, rest) = match self.server_url.split_once("://") {
            Some(("ws", rest)) => ("http", rest),
            Some((_, rest)) => ("https", rest),
            None => ("https", self.server_url.as_str()),
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let host = authority.split(':').next().unwrap_or_default();
        if host == "web.whatsapp.com" || host.ends_with(".web.whatsapp.com") {
            "https://dyn.web.whatsapp.com/logout".to_owned()
        } else {
            format!("{scheme}://{authority}/logout")
        }
    }
}

/// `metrics_listen`: an IP address and a port, bound exactly as written (`127.0.0.1:9464`,
/// `[::1]:9464`; port 0 picks a free one). A host name is refused rather than resolved, so the
/// address bound is always the one written.
pub fn parse_listen(text: &str) -> Result<std::net::SocketAddr, Error> {
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let hint = if text
        .trim_matches(['[', ']'])
        .parse::<std::net::IpAddr>()
        .is_ok()
    {
        "it has no port; write it as 127.0.0.1:9464 (or [::1]:9464)"
    } else {
        "it must be an IP address and a port such as 127.0.0.1:9464"
    };
    Err(Error::Invalid(format!("metrics_listen {text:?}: {hint}")))
}

/// Entry point for the `config_file` fuzz target (not an API): a config file's text parsed as
/// `read_file` does, then its journal retention checked.
#[doc(hidden)]
pub fn fuzz_config_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(file) = toml::from_str::<File>(text) {
        if let Some(level) = &file.log_level {
            let _ = log_filter(level);
        }
        if let Some(listen) = &file.metrics_listen {
            let _ = parse_listen(listen);
        }
        let _ = file.journal.map(journal_retention);
    }
}

#[test]
fn config_files_of_garbage_are_refused() {
    fuzz_config_file(b"log_level = \"nope\"\nmetrics_listen = \"x\"\n[journal]\nkeep_days = 0\n");
    fuzz_config_file(b"\xff = [");
}

fn read_file(path: &Path) -> Result<File, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|error| Error::Parse {
        path: path.to_owned(),
        message: error.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_follow_xdg_and_systemd() {
        let env = env_of(&[("XDG_RUNTIME_DIR", "/run/user/7"), ("HOME", "/home/ada")]);
        let config = Config::resolve(Overrides::default(), &env).unwrap();
        assert_eq!(config.server_url, DEFAULT_SERVER_URL);
        assert_eq!(
            config.socket,
            PathBuf::from("/run/user/7/wawebd/wawebd.sock")
        );
        assert_eq!(
            config.state_dir,
            PathBuf::from("/home/ada/.local/state/wawebd")
        );
        assert_eq!(config.client_version, [2, 2142, 12]);
        assert_eq!(config.logout_url(), "https://dyn.web.whatsapp.com/logout");
        assert_eq!(config.http, crate::http::Limits::default());

        let env = env_of(&[
            ("RUNTIME_DIRECTORY", "/run/wawebd:/run/other"),
            ("STATE_DIRECTORY", "/var/lib/wawebd"),
            ("XDG_RUNTIME_DIR", "/x"),
        ]);
        let config = Config::resolve(Overrides::default(), &env).unwrap();
        assert_eq!(config.socket, PathBuf::from("/run/wawebd/wawebd.sock"));
        assert_eq!(config.state_dir, PathBuf::from("/var/lib/wawebd"));

        let error = Config::resolve(Overrides::default(), &env_of(&[("HOME", "/h")])).unwrap_err();
        assert!(error.to_string().contains("--socket"));
    }

    /// The cases where the `directories` crate would answer otherwise (docs/DESIGN.md section 1
    /// has the measurements): without HOME it falls back to the passwd entry, and without a home
    /// at all it has no runtime directory even when XDG_RUNTIME_DIR is set.
    #[test]
    fn defaults_never_guess_a_home_and_need_none_for_the_socket() {
        let no_home: &[(&str, &str)] = &[("XDG_RUNTIME_DIR", "/run/user/7")];
        let empty_home: &[(&str, &str)] = &[("XDG_RUNTIME_DIR", "/run/user/7"), ("HOME", "")];
        for pairs in [no_home, empty_home] {
            let env = env_of(pairs);
            let error = Config::resolve(Overrides::default(), &env).unwrap_err();
            assert!(error.to_string().contains("no state directory"), "{error}");
            let overrides = Overrides {
                state_dir: Some("/st".into()),
                ..Overrides::default()
            };
            let config = Config::resolve(overrides, &env).unwrap();
            assert_eq!(
                config.socket,
                PathBuf::from("/run/user/7/wawebd/wawebd.sock")
            );
        }
        // XDG_STATE_HOME wins over HOME; empty variables count as unset.
        let env = env_of(&[
            ("XDG_RUNTIME_DIR", "/run/user/7"),
            ("XDG_STATE_HOME", "/xs"),
            ("HOME", "/home/ada"),
        ]);
        let config = Config::resolve(Overrides::default(), &env).unwrap();
        assert_eq!(config.state_dir, PathBuf::from("/xs/wawebd"));
        let env = env_of(&[
            ("RUNTIME_DIRECTORY", ""),
            ("XDG_RUNTIME_DIR", "/run/user/7"),
            ("STATE_DIRECTORY", ""),
            ("XDG_STATE_HOME", ""),
            ("HOME", "/home/ada"),
        ]);
        let config = Config::resolve(Overrides::default(), &env).unwrap();
        assert_eq!(
            config.socket,
            PathBuf::from("/run/user/7/wawebd/wawebd.sock")
        );
        assert_eq!(
            config.state_dir,
            PathBuf::from("/home/ada/.local/state/wawebd")
        );
    }

    #[test]
    fn the_default_config_file_is_read_from_xdg_config_home_then_home() {
        let dir = tempfile::tempdir().unwrap();
        let file = |base: &Path| {
            std::fs::create_dir_all(base.join("wawebd")).unwrap();
            std::fs::write(base.join("wawebd/config.toml"), "reref_budget = 3\n").unwrap();
        };
        let home = dir.path().join("home");
        file(&home.join(".config"));
        let home = home.to_str().unwrap();
        let pairs = [("XDG_RUNTIME_DIR", "/r"), ("HOME", home)];
        let env = env_of(&pairs);
        assert_eq!(
            Config::resolve(Overrides::default(), &env)
                .unwrap()
                .reref_budget,
            3
        );
        // XDG_CONFIG_HOME wins, and a missing file there means defaults, not HOME's file.
        let xdg = dir.path().join("xdg");
        let pairs = [
            ("XDG_RUNTIME_DIR", "/r"),
            ("HOME", home),
            ("XDG_CONFIG_HOME", xdg.to_str().unwrap()),
        ];
        let env = env_of(&pairs);
        assert_eq!(
            Config::resolve(Overrides::default(), &env)
                .unwrap()
                .reref_budget,
            5
        );
    }

    fn account(name: &str) -> Overrides {
        Overrides {
            account: Some(waweb_proto::AccountName::new(name).unwrap()),
            ..Overrides::default()
        }
    }

    #[test]
    fn an_account_has_its_own_socket_and_state_beside_the_default_ones() {
        let env = env_of(&[("XDG_RUNTIME_DIR", "/run/user/7"), ("HOME", "/home/ada")]);
        let config = Config::resolve(account("alice"), &env).unwrap();
        assert_eq!(
            config.socket,
            PathBuf::from("/run/user/7/wawebd/alice.sock")
        );
        assert_eq!(
            config.state_dir,
            PathBuf::from("/home/ada/.local/state/wawebd/alice")
        );
        // Under systemd the socket goes to RuntimeDirectory=, but STATE_DIRECTORY (the
        // single-account unit's folder, the default account's session) is not used.
        let env = env_of(&[
            ("RUNTIME_DIRECTORY", "/run/wawebd"),
            ("STATE_DIRECTORY", "/var/lib/wawebd"),
            ("XDG_STATE_HOME", "/xs"),
        ]);
        let config = Config::resolve(account("bob"), &env).unwrap();
        assert_eq!(config.socket, PathBuf::from("/run/wawebd/bob.sock"));
        assert_eq!(config.state_dir, PathBuf::from("/xs/wawebd/bob"));
        // Explicit paths still win.
        let overrides = Overrides {
            socket: Some("/s.sock".into()),
            state_dir: Some("/st".into()),
            ..account("bob")
        };
        let config = Config::resolve(overrides, &env).unwrap();
        assert_eq!(
            (config.socket, config.state_dir),
            ("/s.sock".into(), "/st".into())
        );
    }

    #[test]
    fn an_account_reads_its_own_config_file_else_the_shared_one_without_paths() {
        let dir = tempfile::tempdir().unwrap();
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(xdg.join("wawebd")).unwrap();
        std::fs::write(xdg.join("wawebd/config.toml"), "reref_budget = 3\n").unwrap();
        std::fs::write(xdg.join("wawebd/alice.toml"), "reref_budget = 4\n").unwrap();
        let pairs = [
            ("XDG_RUNTIME_DIR", "/r"),
            ("HOME", "/h"),
            ("XDG_CONFIG_HOME", xdg.to_str().unwrap()),
        ];
        let env = env_of(&pairs);
        let budget = |overrides| Config::resolve(overrides, &env).map(|c| c.reref_budget);
        assert_eq!(budget(account("alice")).unwrap(), 4);
        assert_eq!(budget(account("bob")).unwrap(), 3);
        assert_eq!(budget(Overrides::default()).unwrap(), 3);

        // The shared file's paths would put every account on one session.
        std::fs::write(xdg.join("wawebd/config.toml"), "state_dir = \"/one\"\n").unwrap();
        let error = budget(account("bob")).unwrap_err().to_string();
        assert!(
            error.contains("state_dir") && error.contains("bob.toml"),
            "{error}"
        );
        assert_eq!(budget(Overrides::default()).unwrap(), 5);
        let overridden = Overrides {
            state_dir: Some("/st".into()),
            ..account("bob")
        };
        assert_eq!(budget(overridden).unwrap(), 5);
        // alice has her own file, so the shared one does not matter.
        assert_eq!(budget(account("alice")).unwrap(), 4);
    }

    #[test]
    fn file_then_overrides_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "server_url = \"ws://127.0.0.1:9/ws\"\nsocket = \"/tmp/s.sock\"\nstate_dir = \"/tmp/st\"\n\
             reref_budget = 2\nmax_connections = 7\n[browser]\nos = \"TestOS\"\n[reconnect]\ninitial_ms = 10\nmax_ms = 20\n\
             [journal]\nkeep_days = 3\nmax_mb = 64\ncommit_wait_us = 500\n[http]\nread_timeout_ms = 1500\nmin_rate_bytes_per_s = 0\n\
             [media]\nmax_download_bytes = 1000\n\
             [keepalive]\ninterval_ms = 300\ntimeout_ms = 400\n",
        )
        .unwrap();
        let overrides = Overrides {
            config: Some(path.clone()),
            socket: Some("/tmp/flag.sock".into()),
            ..Overrides::default()
        };
        let config = Config::resolve(overrides, &env_of(&[])).unwrap();
        assert_eq!(config.server_url, "ws://127.0.0.1:9/ws");
        assert_eq!(config.socket, PathBuf::from("/tmp/flag.sock"));
        assert_eq!(config.browser[0], "TestOS");
        assert_eq!(config.browser[1], "wawebd");
        assert_eq!(
            (config.reref_budget, config.reconnect_initial),
            (2, Duration::from_millis(10))
        );
        assert_eq!(config.max_connections, 7);
        assert_eq!(
            (config.journal.keep, config.journal.max_bytes),
            (Duration::from_secs(3 * 86_400), 64 << 20)
        );
        assert_eq!(config.journal.commit_wait, Duration::from_micros(500));
        assert_eq!(config.logout_url(), "http://127.0.0.1:9/logout");
        assert_eq!(
            config.http,
            crate::http::Limits {
                read_timeout: Duration::from_millis(1500),
                min_rate: 0,
                max_download: 1000,
            }
        );
        assert_eq!(
            (config.keepalive, config.pong_timeout),
            (Duration::from_millis(300), Duration::from_millis(400))
        );

        for (bad, named) in [
            ("[http]\nread_timeout_ms = 0", "http.read_timeout_ms"),
            ("[http]\nread_timeout_ms = 600001", "http.read_timeout_ms"),
            (
                "[media]\nmax_download_bytes = 0",
                "media.max_download_bytes",
            ),
            ("[keepalive]\ninterval_ms = 99", "keepalive.interval_ms"),
            ("[keepalive]\ntimeout_ms = 600001", "keepalive.timeout_ms"),
        ] {
            std::fs::write(&path, format!("{bad}\n")).unwrap();
            let overrides = Overrides {
                config: Some(path.clone()),
                socket: Some("/tmp/flag.sock".into()),
                state_dir: Some("/tmp/st".into()),
                ..Overrides::default()
            };
            let error = Config::resolve(overrides, &env_of(&[])).unwrap_err();
            assert!(error.to_string().contains(named), "{bad}: {error}");
        }

        std::fs::write(&path, "state_dir = \"/tmp/st\"\n[journal]\nmax_mb = 0\n").unwrap();
        let overrides = Overrides {
            config: Some(path.clone()),
            socket: Some("/tmp/flag.sock".into()),
            ..Overrides::default()
        };
        let error = Config::resolve(overrides, &env_of(&[])).unwrap_err();
        assert!(error.to_string().contains("journal.max_mb"), "{error}");

        std::fs::write(
            &path,
            "state_dir = \"/tmp/st\"\n[journal]\ncommit_wait_us = 100001\n",
        )
        .unwrap();
        let overrides = Overrides {
            config: Some(path.clone()),
            socket: Some("/tmp/flag.sock".into()),
            ..Overrides::default()
        };
        let error = Config::resolve(overrides, &env_of(&[])).unwrap_err();
        assert!(
            error.to_string().contains("journal.commit_wait_us"),
            "{error}"
        );

        std::fs::write(&path, "server_url = \"ws://x/ws\"\nsokcet = \"/tmp/s\"\n").unwrap();
        let overrides = Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        };
        let error = Config::resolve(overrides, &env_of(&[("XDG_RUNTIME_DIR", "/r")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("sokcet"), "{error}");

        let overrides = Overrides {
            config: Some(dir.path().join("missing.toml")),
            ..Overrides::default()
        };
        assert!(
            Config::resolve(overrides, &env_of(&[]))
                .unwrap_err()
                .to_string()
                .contains("missing.toml")
        );

        let overrides = Overrides {
            server_url: Some("http://nope".into()),
            socket: Some("/s".into()),
            state_dir: Some("/d".into()),
            ..Overrides::default()
        };
        assert!(Config::resolve(overrides, &env_of(&[])).is_err());
    }

    #[test]
    fn log_levels_are_checked_wherever_they_come_from() {
        for good in [
            "info",
            "WARN",
            "info,wawebd=debug",
            "wawebd::session=trace",
            "off",
        ] {
            assert!(log_filter(good).is_ok(), "{good}");
        }
        for bad in ["infoo", "", " ", "verbose", "info,chatty", "wawebd=loud"] {
            let error = log_filter(bad).unwrap_err().to_string();
            assert!(error.starts_with("invalid log level"), "{error}");
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "log_level = \"loud\"\n").unwrap();
        let overrides = Overrides {
            config: Some(path),
            socket: Some("/s".into()),
            state_dir: Some("/d".into()),
            ..Overrides::default()
        };
        let error = Config::resolve(overrides.clone(), &env_of(&[])).unwrap_err();
        assert!(matches!(error, Error::LogLevel { ref value, .. } if value == "loud"));
        // A valid override wins over the file and hides its bad value.
        let overrides = Overrides {
            log_level: Some("debug".into()),
            ..overrides
        };
        assert_eq!(
            Config::resolve(overrides, &env_of(&[])).unwrap().log_level,
            "debug"
        );
    }

    #[test]
    fn what_needs_a_restart_is_everything_but_the_level_and_reconnect_limits() {
        let overrides = Overrides {
            socket: Some("/s".into()),
            state_dir: Some("/d".into()),
            ..Overrides::default()
        };
        let old = Config::resolve(overrides, &env_of(&[])).unwrap();
        let reloadable = Config {
            log_level: "debug".into(),
            reconnect_initial: Duration::from_millis(5),
            reconnect_max: Duration::from_millis(9),
            ..old.clone()
        };
        assert!(old.restart_needed(&reloadable).is_empty());
        let changed = Config {
            reref_budget: 1,
            max_connections: 3,
            ..reloadable.clone()
        };
        assert_eq!(
            old.restart_needed(&changed),
            ["reref_budget", "max_connections"]
        );
        let unnamed = Config {
            keepalive: Duration::from_secs(1),
            ..reloadable
        };
        assert_eq!(old.restart_needed(&unnamed), ["other settings"]);
    }

    #[test]
    fn metrics_listen_needs_an_address_and_a_port() {
        let resolve = |listen: &str| {
            let overrides = Overrides {
                socket: Some("/s".into()),
                state_dir: Some("/d".into()),
                metrics_listen: Some(listen.into()),
                ..Overrides::default()
            };
            Config::resolve(overrides, &env_of(&[])).map(|config| config.metrics_listen)
        };
        assert_eq!(
            resolve("127.0.0.1:9464").unwrap(),
            Some("127.0.0.1:9464".parse().unwrap())
        );
        assert_eq!(
            resolve("[::1]:0").unwrap(),
            Some("[::1]:0".parse().unwrap())
        );
        for (bad, says) in [
            ("127.0.0.1", "has no port"),
            ("::1", "has no port"),
            ("[::1]", "has no port"),
            ("localhost:9464", "IP address and a port"),
            ("127.0.0.1:99999", "IP address and a port"),
            ("", "IP address and a port"),
        ] {
            let error = resolve(bad).unwrap_err().to_string();
            assert!(
                error.contains("metrics_listen") && error.contains(says),
                "{bad}: {error}"
            );
        }
        // Off unless asked for; the file's value is read like the flag's.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "metrics_listen = \"127.0.0.1:7\"\n").unwrap();
        let overrides = Overrides {
            config: Some(path.clone()),
            socket: Some("/s".into()),
            state_dir: Some("/d".into()),
            ..Overrides::default()
        };
        let config = Config::resolve(overrides.clone(), &env_of(&[])).unwrap();
        assert_eq!(config.metrics_listen, Some("127.0.0.1:7".parse().unwrap()));
        std::fs::write(&path, "metrics_listen = \"0.0.0.0\"\n").unwrap();
        let error = Config::resolve(overrides, &env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("has no port"), "{error}");
        let config = Config::resolve(
            Overrides {
                socket: Some("/s".into()),
                state_dir: Some("/d".into()),
                ..Overrides::default()
            },
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(config.metrics_listen, None);
    }
}
