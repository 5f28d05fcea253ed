//! SIGHUP: the config file is read again and what can change without a restart is applied
//! (docs/DESIGN.md, "Logs and reload"): the log level and the reconnect limits. The session
//! and its connection stay as they are. Flags and environment variables still win over the
//! file, so a `--log-level` given at start stays. A file that no longer parses or validates
//! changes nothing.

use tokio::signal::unix::Signal;
use wawebd::config::{self, Config, Overrides};
use wawebd::session::SessionHandle;

use super::logging::LogLevel;

/// What a reload needs: how the first configuration was resolved, and what it changes.
pub struct Reloader {
    pub overrides: Overrides,
    pub current: Config,
    pub log_level: LogLevel,
    pub session: SessionHandle,
}

impl Reloader {
    /// Reloads on every SIGHUP until the daemon stops (the caller runs this as a task).
    pub async fn run(mut self, mut hangups: Signal) {
        while hangups.recv().await.is_some() {
            let env = |name: &str| std::env::var(name).ok();
            match Config::resolve(self.overrides.clone(), &env) {
                Ok(new) => self.apply(new).await,
                Err(error) => {
                    tracing::error!("reloading the configuration failed, keeping the old: {error}")
                }
            }
        }
    }

    async fn apply(&mut self, new: Config) {
        let restart = self.current.restart_needed(&new);
        if !restart.is_empty() {
            tracing::info!(
                "changed settings need a restart to apply: {}",
                restart.join(", ")
            );
        }
        if new.log_level != self.current.log_level {
            // Checked by `Config::resolve` already; this cannot fail but for a reload layer
            // that is gone, which leaves the old level.
            let applied = config::log_filter(&new.log_level)
                .map_err(|error| error.to_string())
                .and_then(|filter| self.log_level.set(filter).map_err(|e| e.to_string()));
            match applied {
                Ok(()) => self.current.log_level = new.log_level,
                Err(error) => tracing::error!("cannot apply the new log level: {error}"),
            }
        }
        let limits = (new.reconnect_initial, new.reconnect_max);
        if limits != (self.current.reconnect_initial, self.current.reconnect_max) {
            if self
                .session
                .set_reconnect_limits(limits.0, limits.1)
                .await
                .is_err()
            {
                return;
            }
            (self.current.reconnect_initial, self.current.reconnect_max) = limits;
        }
        tracing::info!(
            log_level = self.current.log_level,
            reconnect_initial_ms = self.current.reconnect_initial.as_millis() as u64,
            reconnect_max_ms = self.current.reconnect_max.as_millis() as u64,
            "configuration reloaded"
        );
    }
}
