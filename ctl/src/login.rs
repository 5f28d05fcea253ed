//! `wawebctl login`: subscribe, ask for pairing, then show each QR code (in the terminal with a
//! countdown, or as PNG/SVG files) until the phone scans one or pairing ends.
//!
//! ```text
//! wawebctl login            # draws the codes; exits 0 once logged in, 6 when pairing ended
//! wawebctl login --png q.png --no-terminal
//! ```

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use waweb_proto::{Call, ClientError, ErrorKind, Event, EventType, State};

use crate::qr::{self, Qr};
use crate::{Failure, Session, exit, output};

impl Session {
    /// One QR code: drawn in the terminal, written to the files asked for, and explained.
    fn show_qr(
        &self,
        out: &mut dyn Write,
        options: &LoginOptions<'_>,
        content: &str,
        ttl_ms: u64,
        (attempt, attempts_max): (u32, u32),
    ) -> Result<(), Failure> {
        let qr = Qr::new(content).map_err(|error| Failure::new(exit::FAILURE, error))?;
        write_qr_files(&qr, options)?;
        if options.draw {
            if options.live {
                // Clear the screen so each new code replaces the last one.
                write!(out, "\x1b[2J\x1b[H").map_err(output)?;
            }
            write!(out, "{}", qr.terminal()).map_err(output)?;
        }
        if !self.json {
            writeln!(
                out,
                "Scan with WhatsApp on your phone (Linked devices). Code {attempt} of \
                 {attempts_max}, valid for {} s.",
                ttl_ms / 1000
            )
            .map_err(output)?;
            for (kind, path) in [("PNG", options.png), ("SVG", options.svg)] {
                if let Some(path) = path {
                    writeln!(out, "{kind} written to {}", path.display()).map_err(output)?;
                }
            }
        }
        out.flush().map_err(output)?;
        Ok(())
    }

    /// Subscribes to what a login shows, then asks for it; false when there is a session
    /// already (said on `out`).
    fn start_login(&mut self, out: &mut dyn Write) -> Result<bool, Failure> {
        // Subscribe first: the first QR code follows the login reply immediately.
        let types = [
            EventType::State,
            EventType::Qr,
            EventType::Connected,
            EventType::LoggedOut,
        ];
        self.client
            .subscribe(&types)
            .map_err(|error| self.fail(error))?;
        match self.client.send_call(&Call::Login) {
            Ok(_) => Ok(true),
            Err(ClientError::Rpc(error)) if error.kind() == ErrorKind::AlreadyLoggedIn => {
                if !self.json {
                    writeln!(
                        out,
                        "already logged in (run `wawebctl logout` first to pair again)"
                    )
                    .map_err(output)?;
                }
                Ok(false)
            }
            Err(error) => Err(self.fail(error)),
        }
    }

    pub(crate) fn login(
        mut self,
        out: &mut dyn Write,
        options: &LoginOptions<'_>,
    ) -> Result<(), Failure> {
        if !self.start_login(out)? {
            return Ok(());
        }
        let mut expiry: Option<Instant> = None;
        loop {
            let wait = match expiry {
                Some(_) if options.live => Some(Duration::from_secs(1)),
                _ => None,
            };
            let event = match self.client.recv_notification(wait) {
                Ok(Some(notification)) => {
                    if self.json {
                        writeln!(out, "{}", notification.params).map_err(output)?;
                        out.flush().map_err(output)?;
                    }
                    match serde_json::from_value::<Event>(notification.params) {
                        Ok(event) => event,
                        // A type or shape this version does not know: not ours to act on.
                        Err(_) => continue,
                    }
                }
                Ok(None) => {
                    if let Some(expiry) = expiry {
                        let left = expiry.saturating_duration_since(Instant::now());
                        write!(out, "\r\x1b[Kexpires in {} s", left.as_secs()).map_err(output)?;
                        out.flush().map_err(output)?;
                    }
                    continue;
                }
                Err(ClientError::Closed) => {
                    return Err(Failure::new(
                        exit::NO_DAEMON,
                        "the daemon went away before the login finished",
                    ));
                }
                Err(error) => return Err(self.fail(error)),
            };
            match event {
                Event::Qr {
                    content,
                    ttl_ms,
                    attempt,
                    attempts_max,
                    ..
                } => {
                    self.show_qr(out, options, &content, ttl_ms, (attempt, attempts_max))?;
                    expiry = Some(Instant::now() + Duration::from_millis(ttl_ms));
                }
                Event::State { state, message, .. } => {
                    if !self.json && state != State::Pairing {
                        let why = message
                            .map(|message| format!(" ({message})"))
                            .unwrap_or_default();
                        let clear = if options.live { "\r\x1b[K" } else { "" };
                        writeln!(out, "{clear}state: {state}{why}").map_err(output)?;
                    }
                    if state == State::LoggingIn {
                        expiry = None;
                    }
                }
                Event::Connected { me, .. } => {
                    if !self.json {
                        let clear = if options.live { "\r\x1b[K" } else { "" };
                        writeln!(out, "{clear}logged in as {} ({})", me.wid, me.pushname)
                            .map_err(output)?;
                    }
                    return Ok(());
                }
                Event::LoggedOut { reason, status } => {
                    let status = status
                        .map(|status| format!(", status {status}"))
                        .unwrap_or_default();
                    let message =
                        format!("login ended: {} ({reason}{status})", reason.description());
                    return Err(Failure::new(exit::LOGIN_FAILED, message));
                }
                _ => {}
            }
        }
    }
}

pub(crate) struct LoginOptions<'a> {
    pub(crate) png: Option<&'a Path>,
    pub(crate) svg: Option<&'a Path>,
    /// Draw QR codes as text.
    pub(crate) draw: bool,
    /// Redraw in place with a countdown (an interactive terminal).
    pub(crate) live: bool,
}

fn write_qr_files(qr: &Qr, options: &LoginOptions<'_>) -> Result<(), Failure> {
    let write = |path: &Path, bytes: &[u8]| {
        qr::write_atomically(path, bytes).map_err(|error| {
            Failure::new(
                exit::FAILURE,
                format!("cannot write the QR code to {}: {error}", path.display()),
            )
        })
    };
    if let Some(path) = options.png {
        let png = qr
            .png()
            .map_err(|error| Failure::new(exit::FAILURE, error))?;
        write(path, &png)?;
    }
    if let Some(path) = options.svg {
        write(path, qr.svg().as_bytes())?;
    }
    Ok(())
}
