//! Keepalives and the pong deadline (PROTOCOL.md 3.4): a `?,,` every `keepalive`, the first one
//! at once; no pong within `pong_timeout` of the oldest unanswered keepalive means the
//! connection is dead, whatever TCP says.
//!
//! ```text
//! t=0 ping · t=20 s ping · pong at t=21 s · t=40 s ping · no pong by t=65 s -> dead
//! ```
//!
//! Generic over the instant type so the daemon counts in tokio instants (paused test time) and
//! the tests in plain numbers.

use std::ops::Add;
use std::time::Duration;

/// What the timer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Send a keepalive now.
    Keepalive,
    /// No pong came in time: the connection is dead.
    Dead,
}

/// The keepalive schedule of one connection.
#[derive(Debug, Clone)]
pub struct Liveness<I> {
    keepalive: Duration,
    pong_timeout: Duration,
    next_ping: I,
    /// The oldest keepalive no pong has answered yet.
    unanswered: Option<I>,
}

impl<I: Copy + Ord + Add<Duration, Output = I>> Liveness<I> {
    /// A schedule for a connection opened at `now`; the first keepalive is due at once, so
    /// liveness is known from the start.
    pub fn new(now: I, keepalive: Duration, pong_timeout: Duration) -> Self {
        Liveness {
            keepalive,
            pong_timeout,
            next_ping: now,
            unanswered: None,
        }
    }

    /// When to call [`Liveness::due`] next.
    pub fn next_wake(&self) -> I {
        match self.unanswered {
            Some(sent) => self.next_ping.min(sent + self.pong_timeout),
            None => self.next_ping,
        }
    }

    /// What is due at `now`, if anything; a keepalive reported here counts as sent.
    pub fn due(&mut self, now: I) -> Option<Due> {
        if let Some(sent) = self.unanswered
            && now >= sent + self.pong_timeout
        {
            return Some(Due::Dead);
        }
        if now >= self.next_ping {
            self.next_ping = now + self.keepalive;
            self.unanswered.get_or_insert(now);
            return Some(Due::Keepalive);
        }
        None
    }

    /// A pong arrived.
    pub fn pong(&mut self) {
        self.unanswered = None;
    }

    /// How long a pong may still take before the connection counts as dead.
    pub fn pong_timeout(&self) -> Duration {
        self.pong_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Ms;

    #[test]
    fn keepalives_on_schedule_and_death_without_pongs() {
        let mut live = Liveness::new(
            Ms(0),
            Duration::from_millis(20_000),
            Duration::from_millis(25_000),
        );
        assert_eq!(live.next_wake(), Ms(0));
        assert_eq!(live.due(Ms(0)), Some(Due::Keepalive));
        assert_eq!(live.due(Ms(1)), None);
        assert_eq!(live.next_wake(), Ms(20_000));
        live.pong();
        assert_eq!(live.due(Ms(20_000)), Some(Due::Keepalive));
        // Unanswered since 20 s: the next keepalive still goes, the deadline stays at 45 s.
        assert_eq!(live.due(Ms(40_000)), Some(Due::Keepalive));
        assert_eq!(live.next_wake(), Ms(45_000));
        assert_eq!(live.due(Ms(44_999)), None);
        assert_eq!(live.due(Ms(45_000)), Some(Due::Dead));
        live.pong();
        assert_eq!(live.due(Ms(45_001)), None);
        assert_eq!(live.next_wake(), Ms(60_000));
    }
}
