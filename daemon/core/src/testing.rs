//! What the unit tests share: a clock in plain milliseconds and a stored session with known keys.

use std::ops::Add;
use std::time::Duration;

use crate::crypto::{Secret, SessionKeys};
use crate::login::{Credentials, SecretString};

/// Milliseconds as an instant, for the machines that take the caller's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ms(pub u64);

impl Add<Duration> for Ms {
    type Output = Ms;
    fn add(self, duration: Duration) -> Ms {
        Ms(self.0 + duration.as_millis() as u64)
    }
}

/// The frame keys of [`credentials`].
pub fn keys() -> SessionKeys {
    SessionKeys {
        enc: Secret::new([1; 32]),
        mac: Secret::new([2; 32]),
    }
}

/// A stored session: tokens `ct1` / `1@st1` / `1@bt1`, the keys of [`keys`].
pub fn credentials() -> Credentials {
    Credentials {
        client_id: "AAECAwQFBgcICQoLDA0ODw==".into(),
        client_token: SecretString::new("ct1"),
        server_token: SecretString::new("1@st1"),
        browser_token: SecretString::new("1@bt1"),
        keys: keys(),
        wid: "4915100000000@c.us".into(),
        pushname: "Ada".into(),
    }
}
