//! The wait before a reconnect: exponential backoff with full jitter.
//!
//! ```text
//! initial 1 s, max 120 s: waits uniform in [0.25 s, 1 s], [0.25 s, 2 s], [0.25 s, 4 s], … [0.25 s, 120 s]
//! ```

use std::time::Duration;

use waweb_core::crypto;

/// Exponential backoff with full jitter: the n-th wait is uniform in `[0, min(max, initial·2ⁿ)]`,
/// never below a floor, so a fleet of clients does not reconnect in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// A backoff starting at `initial`, capped at `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            attempt: 0,
        }
    }

    /// The next wait.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self
            .initial
            .saturating_mul(1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let mut random = [0u8; 8];
        crypto::fill_random(&mut random);
        let fraction = (u64::from_le_bytes(random) >> 11) as f64 / (1u64 << 53) as f64;
        let floor = self.initial / 4;
        floor + ceiling.saturating_sub(floor).mul_f64(fraction)
    }

    /// New limits (SIGHUP re-read the config file): the next wait uses them, the count of
    /// attempts so far stays.
    pub fn set_limits(&mut self, initial: Duration, max: Duration) {
        self.initial = initial;
        self.max = max;
    }

    /// After a successful login.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_under_the_cap() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(120));
        let mut ceilings = Vec::new();
        for attempt in 0..12 {
            let delay = backoff.next_delay();
            let ceiling = Duration::from_secs(1u64 << attempt).min(Duration::from_secs(120));
            assert!(
                delay >= Duration::from_millis(250) && delay <= ceiling,
                "{attempt}: {delay:?}"
            );
            ceilings.push(ceiling);
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_secs(1));
        // New limits apply from the next wait on, at the attempt reached.
        backoff.set_limits(Duration::from_millis(40), Duration::from_millis(80));
        for _ in 0..5 {
            let delay = backoff.next_delay();
            assert!(
                delay >= Duration::from_millis(10) && delay <= Duration::from_millis(80),
                "{delay:?}"
            );
        }
    }
}
