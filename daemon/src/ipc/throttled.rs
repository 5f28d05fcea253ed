//! A warning that may repeat many times a second (refused connections, failed accepts).

use std::time::Duration;

use tracing::debug;

/// A warning that may repeat many times a second: logged at once, then at most every
/// [`Throttled::EVERY`] with the count of occurrences since, so a storm cannot flood the log.
#[derive(Debug)]
pub(super) struct Throttled {
    what: &'static str,
    last: Option<tokio::time::Instant>,
    count: u64,
}

impl Throttled {
    const EVERY: Duration = Duration::from_secs(10);

    pub(super) fn new(what: &'static str) -> Self {
        Throttled {
            what,
            last: None,
            count: 0,
        }
    }

    /// Counts one occurrence and calls `log` with the count when it is time to say so.
    pub(super) fn hit(&mut self, log: impl FnOnce(u64)) {
        self.count += 1;
        let now = tokio::time::Instant::now();
        if self
            .last
            .is_none_or(|last| now.duration_since(last) >= Self::EVERY)
        {
            log(self.count);
            debug!(
                what = self.what,
                "further occurrences are counted for {:?}",
                Self::EVERY
            );
            self.last = Some(now);
            self.count = 0;
        }
    }
}
