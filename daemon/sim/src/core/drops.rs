//! `drop_at`: the connection cut at a chosen moment of the next matching exchange, the way a
//! network that fails mid-conversation cuts it (no close handshake). One moment is armed at a
//! time; it fires once, and its firing is reported as `{"type":"dropped","at":M,"conn":C}`.

use std::str::FromStr;

use serde_json::json;

use super::Core;

/// The moments `drop_at` can cut at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropAt {
    /// An `init` frame arrived; it is not answered.
    Init,
    /// The `init` reply of a pairing (its QR ref) went out; nothing after it.
    Qr,
    /// A restore `login` arrived; it is not answered (no `Conn`, no challenge).
    Restore,
    /// A relay was delivered to the phone; its ack (`{tag},` and the status) is not sent.
    Send,
    /// A relay arrived; it is not delivered and not answered.
    SendBefore,
    /// The media host got an upload's body; the upload is answered after the cut.
    Upload,
}

const NAMES: [(DropAt, &str); 6] = [
    (DropAt::Init, "init"),
    (DropAt::Qr, "qr"),
    (DropAt::Restore, "restore"),
    (DropAt::Send, "send"),
    (DropAt::SendBefore, "send_before"),
    (DropAt::Upload, "upload"),
];

impl DropAt {
    pub(crate) fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(at, _)| *at == self)
            .map_or("", |(_, name)| name)
    }
}

impl FromStr for DropAt {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        NAMES
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(at, _)| *at)
            .ok_or_else(|| {
                "drop_at: at is init, qr, restore, send, send_before or upload".to_owned()
            })
    }
}

impl Core {
    /// Whether `at` is armed; if so it is disarmed, `conn` is cut and the drop reported.
    pub(super) fn drop_if_armed(&mut self, conn: u64, at: DropAt) -> bool {
        if self.knobs.drop_at != Some(at) || !self.conns.contains_key(&conn) {
            return false;
        }
        self.knobs.drop_at = None;
        self.close(conn, false);
        // Forgotten at once (the cut is queued on its writer): frames still in flight from it
        // are ignored, as a server ignores what arrives on a connection it tore down.
        self.conns.remove(&conn);
        self.emit(json!({"type": "dropped", "at": at.name(), "conn": conn}));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for (at, name) in NAMES {
            assert_eq!(name.parse::<DropAt>(), Ok(at));
            assert_eq!(at.name(), name);
        }
        assert!("send-before".parse::<DropAt>().is_err());
        assert!("".parse::<DropAt>().is_err());
    }
}
