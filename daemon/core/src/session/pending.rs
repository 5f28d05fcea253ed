//! The requests waiting for the server's answer, each with its deadline.
//!
//! The server answers a request with a frame carrying the request's tag (PROTOCOL.md 3.2), or
//! never. The table hands back whatever the caller stored with the request (`T`: a reply
//! channel, a message to publish once acked), when the answer comes, when the deadline passes,
//! or when the connection ends. Time is whatever `I` the caller counts in (`tokio` instants in
//! the daemon, so paused test time works), so nothing here reads a clock.
//!
//! ```text
//! insert("1600000000.--3", query, now + 20 s) … take("1600000000.--3") -> Some(query)
//! ```

use std::collections::HashMap;

/// Requests by tag.
#[derive(Debug)]
pub struct Pending<T, I> {
    entries: HashMap<String, (T, I)>,
}

impl<T, I> Default for Pending<T, I> {
    fn default() -> Self {
        Pending {
            entries: HashMap::new(),
        }
    }
}

impl<T, I: Ord + Copy> Pending<T, I> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for the answer tagged `tag` until `deadline`. A tag in use is replaced and its
    /// request handed back (tags are unique per connection, so only a bug does that).
    pub fn insert(&mut self, tag: impl Into<String>, request: T, deadline: I) -> Option<T> {
        self.entries
            .insert(tag.into(), (request, deadline))
            .map(|(request, _)| request)
    }

    /// The request an answer tagged `tag` belongs to, if one waits.
    pub fn take(&mut self, tag: &str) -> Option<T> {
        self.entries.remove(tag).map(|(request, _)| request)
    }

    /// The earliest deadline, to wake up at.
    pub fn next_deadline(&self) -> Option<I> {
        self.entries.values().map(|(_, deadline)| *deadline).min()
    }

    /// The requests whose deadline is `now` or earlier, taken out of the table.
    pub fn expire(&mut self, now: I) -> Vec<T> {
        let expired: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(tag, _)| tag.clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|tag| self.take(&tag))
            .collect()
    }

    /// Every request still waiting (the connection ended).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.entries.drain().map(|(_, (request, _))| request)
    }

    /// How many requests wait.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_deadlines_and_the_end_of_a_connection() {
        let mut pending = Pending::new();
        assert_eq!(pending.next_deadline(), None);
        pending.insert("a", "query", 20);
        pending.insert("b", "send", 10);
        pending.insert("c", "probe", 30);
        assert_eq!(pending.next_deadline(), Some(10));
        assert_eq!(pending.take("b"), Some("send"));
        assert_eq!(pending.take("b"), None, "an answer is used once");
        assert_eq!(pending.next_deadline(), Some(20));
        assert!(pending.expire(19).is_empty());
        assert_eq!(pending.expire(20), ["query"]);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending.insert("c", "again", 40), Some("probe"));
        assert_eq!(pending.drain().collect::<Vec<_>>(), ["again"]);
        assert!(pending.is_empty());
    }
}
