//! Where the daemon's log lines go (docs/DESIGN.md, "Logs and reload"):
//!
//! ```text
//! JOURNAL_STREAM names stderr (systemd) -> tracing-journald: MESSAGE plus STATE, REASON, CHAT, …
//!   journald's socket unusable          -> plain stderr lines, no time, no colour (and a warning)
//! otherwise                              -> human lines with time; colour only on a terminal
//!                                           and without NO_COLOR
//! ```
//!
//! The filter sits behind a reload layer so SIGHUP can change the level (reload.rs).

use std::ffi::OsStr;
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

/// Changes the level of the logging [`init`] set up.
#[derive(Debug, Clone)]
pub struct LogLevel(reload::Handle<EnvFilter, Registry>);

impl LogLevel {
    /// Applies a new filter, already checked ([`wawebd::config::log_filter`]).
    pub fn set(&self, filter: EnvFilter) -> Result<(), reload::Error> {
        self.0.reload(filter)
    }
}

/// Whether `JOURNAL_STREAM` (`DEVICE:INODE`, as systemd sets it) names the file stderr is, which
/// is how sd_journal recommends telling that stderr goes to the journal: a child that
/// inherited the variable but writes elsewhere (a pipe, a terminal) must not log to journald.
pub fn journal_is_stderr(journal_stream: Option<&OsStr>, stderr: Option<(u64, u64)>) -> bool {
    let (Some(stream), Some((device, inode))) = (journal_stream.and_then(OsStr::to_str), stderr)
    else {
        return false;
    };
    match stream.split_once(':') {
        Some((dev, ino)) => dev.parse() == Ok(device) && ino.parse() == Ok(inode),
        None => false,
    }
}

/// The device and inode of stderr, if it is open.
fn stderr_identity() -> Option<(u64, u64)> {
    let fd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
    let metadata = std::fs::File::from(fd).metadata().ok()?;
    Some((metadata.dev(), metadata.ino()))
}

/// Colour codes only for a person at a terminal: never into files or pipes, and not when
/// `NO_COLOR` is set to anything non-empty (no-color.org).
pub fn colour(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Installs the process's logging with `filter` (checked by the caller). Returns the handle
/// that changes the level later.
pub fn init(filter: EnvFilter) -> LogLevel {
    let (filter, handle) = reload::Layer::new(filter);
    let journal_stream = std::env::var_os("JOURNAL_STREAM");
    let under_journal = journal_is_stderr(journal_stream.as_deref(), stderr_identity());
    let (journald, unavailable) = if under_journal {
        match tracing_journald::layer() {
            // No prefix: the fields are STATE= and CHAT=, as `journalctl STATE=…` expects.
            Ok(layer) => (
                Some(
                    layer
                        .with_field_prefix(None)
                        .with_syslog_identifier("wawebd".into()),
                ),
                None,
            ),
            Err(error) => (None, Some(error)),
        }
    } else {
        (None, None)
    };
    let stderr = journald.is_none().then(|| {
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false);
        if under_journal {
            // journald stamps each line itself.
            layer.without_time().with_ansi(false).boxed()
        } else {
            let ansi = colour(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            layer.with_ansi(ansi).boxed()
        }
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(journald)
        .with(stderr)
        .try_init();
    // No record of the `log` crate is ever shown: tungstenite's trace lines print whole frames,
    // the login's tokens among them (docs/DESIGN.md 15.2). Nothing bridges them into tracing
    // today; this keeps a bridge that a feature switches on (tracing-subscriber's `tracing-log`,
    // through any crate's default features) from doing so silently. tests/secrets.rs checks.
    log::set_max_level(log::LevelFilter::Off);
    if let Some(error) = unavailable {
        tracing::warn!("journald's socket is unavailable ({error}); logging to stderr");
    }
    LogLevel(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_is_used_only_when_journal_stream_names_stderr() {
        let stream = |text: &str| Some(OsStr::new(text).to_owned());
        let stderr = Some((64769, 123456));
        assert!(journal_is_stderr(stream("64769:123456").as_deref(), stderr));
        // Inherited from a parent whose stderr was the journal, but ours is something else.
        assert!(!journal_is_stderr(stream("64769:999").as_deref(), stderr));
        assert!(!journal_is_stderr(stream("1:123456").as_deref(), stderr));
        for odd in ["", "64769", "x:y", "64769:123456:1", ":"] {
            assert!(!journal_is_stderr(stream(odd).as_deref(), stderr), "{odd}");
        }
        assert!(!journal_is_stderr(None, stderr));
        assert!(!journal_is_stderr(stream("64769:123456").as_deref(), None));
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
    }
}
