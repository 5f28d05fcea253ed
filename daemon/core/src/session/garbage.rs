//! Frames that cannot be read: counted, logged sparingly, and the end of a connection that
//! sends nothing else.
//!
//! A hostile server (or anything answering on a `ws://` address) can send a million three-byte
//! frames; one warning each was 114 MB of log in 25 s. So the first one is logged, then only the
//! 10th, 100th, 1,000th… with the count, and a run of [`GARBAGE_LIMIT`] unreadable frames in a
//! row ends the connection as `protocol_error`, after which the daemon reconnects with backoff.
//! A real server never sends even one.
//!
//! ```text
//! frame 1 unreadable    -> warn "dropping a frame that does not open: … (unreadable frame number 1 …)"
//! frames 2..9           -> nothing
//! frame 10              -> warn "… (unreadable frame number 10 …)"
//! 64 in a row           -> warn + End(Lost(protocol_error))
//! ```

use waweb_proto::Reason;

use super::connection::{Ended, Level, Output};

/// Unreadable frames in a row, with no readable one between, that end the connection.
pub const GARBAGE_LIMIT: u64 = 64;

/// The unreadable frames of one connection.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Garbage {
    total: u64,
    in_a_row: u64,
}

impl Garbage {
    /// A readable frame: the run of unreadable ones is over.
    pub fn readable(&mut self) {
        self.in_a_row = 0;
    }

    /// An unreadable frame, described by `what` (called only when it is logged).
    pub fn unreadable<W>(&mut self, what: impl FnOnce() -> String) -> Vec<Output<W>> {
        self.total += 1;
        self.in_a_row += 1;
        let mut out = Vec::new();
        if self.in_a_row >= GARBAGE_LIMIT {
            let line = format!(
                "{}; closing the connection after {} unreadable frames in a row ({} in all)",
                what(),
                self.in_a_row,
                self.total
            );
            out.push(Output::Log(Level::Warn, line));
            out.push(Output::End(Ended::Lost(Reason::ProtocolError)));
        } else if is_power_of_ten(self.total) {
            let line = format!(
                "{} (unreadable frame number {} of this connection; only the 1st, 10th, \
                 100th… are logged)",
                what(),
                self.total
            );
            out.push(Output::Log(Level::Warn, line));
        }
        out
    }

    /// How many unreadable frames this connection had.
    pub fn total(&self) -> u64 {
        self.total
    }
}

fn is_power_of_ten(mut n: u64) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(out: &[Output<()>]) -> usize {
        out.iter()
            .filter(|o| matches!(o, Output::Log(Level::Warn, _)))
            .count()
    }

    #[test]
    fn logs_at_powers_of_ten_and_ends_a_run_of_garbage() {
        let mut garbage = Garbage::default();
        let mut lines = 0;
        for n in 1..GARBAGE_LIMIT {
            let out = garbage.unreadable::<()>(|| format!("frame {n}"));
            assert!(!out.iter().any(|o| matches!(o, Output::End(_))), "{n}");
            lines += logged(&out);
            // A readable frame now and then keeps the connection, not the count.
            if n % 50 == 0 {
                garbage.readable();
            }
        }
        assert_eq!(lines, 2, "the 1st and the 10th");
        for _ in 0..1000 {
            let out = garbage.unreadable::<()>(|| "x".into());
            lines += logged(&out);
            if out.iter().any(|o| matches!(o, Output::End(_))) {
                break;
            }
        }
        // 63 frames, 13 of them since the readable one; 51 more make 64 in a row.
        assert_eq!(garbage.total(), 114);
        assert_eq!(lines, 4, "the 1st, 10th and 100th, and the closing line");
    }

    #[test]
    fn powers_of_ten() {
        let powers: Vec<u64> = (0..=100_000).filter(|&n| is_power_of_ten(n)).collect();
        assert_eq!(powers, [1, 10, 100, 1000, 10_000, 100_000]);
    }
}
