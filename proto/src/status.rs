//! What the session reports about itself: the results of `version`, `status`, `login` and
//! `logout`, and the states a session passes through.
//!
//! ```json
//! {"state":"connected","me":{"wid":"4915100000000@s.whatsapp.net","pushname":"Ada","platform":"android","phone":{}},"server_url":"wss://web.whatsapp.com/ws","session_stored":true,"session_error":null,"last_pong_ms_ago":1200,"phone_online":true,"battery":null,"reconnects":0}
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The result of `version`.
///
/// `{"daemon":"0.1.0","protocol":1,"wa_version":[2,2142,12]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionResult {
    /// The daemon's package version.
    ///
    /// `"daemon":"0.1.0"`
    pub daemon: String,
    /// The socket protocol version it speaks; compare with [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION).
    ///
    /// `"protocol":1`
    pub protocol: u32,
    /// The WhatsApp Web version the daemon announces to the server.
    ///
    /// `"wa_version":[2,2142,12]`
    pub wa_version: [u32; 3],
}

/// Where the session stands.
///
/// `"state":"pairing"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// `"logged_out"`: no session; `login` starts pairing.
    LoggedOut,
    /// `"connecting"`: the websocket is opening.
    Connecting,
    /// `"pairing"`: a QR code waits for a scan.
    Pairing,
    /// `"logging_in"`: init, restore or challenge in progress.
    LoggingIn,
    /// `"connected"`: logged in and online.
    Connected,
    /// `"reconnecting"`: waiting out a backoff before connecting again.
    Reconnecting,
    /// `"replaced"`: another browser took the session over; the daemon does not reconnect by
    /// itself, since that would take it back.
    Replaced,
}

impl State {
    /// Every state, in the order a session usually passes through them.
    pub const ALL: [State; 7] = [
        State::LoggedOut,
        State::Connecting,
        State::Pairing,
        State::LoggingIn,
        State::Connected,
        State::Reconnecting,
        State::Replaced,
    ];

    /// The snake_case name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            State::LoggedOut => "logged_out",
            State::Connecting => "connecting",
            State::Pairing => "pairing",
            State::LoggingIn => "logging_in",
            State::Connected => "connected",
            State::Reconnecting => "reconnecting",
            State::Replaced => "replaced",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = UnknownName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
            .ok_or_else(|| UnknownName(name.to_owned()))
    }
}

/// A name that is not one of the known states or event types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name {:?}", self.0)
    }
}

impl std::error::Error for UnknownName {}

/// The account the session belongs to, as the server described it when logging in.
///
/// `{"wid":"4915100000000@s.whatsapp.net","pushname":"Ada","platform":"android","phone":{"wa_version":"2.21.23.23","device_manufacturer":"Google"}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    /// Our own JID, with `@s.whatsapp.net` (the server says `@c.us`; it is rewritten).
    ///
    /// `"wid":"4915100000000@s.whatsapp.net"`
    pub wid: String,
    /// Our display name.
    ///
    /// `"pushname":"Ada"`
    pub pushname: String,
    /// The phone's platform as the server names it.
    ///
    /// `"platform":"android"`
    pub platform: String,
    /// The `phone` object of the server's `Conn` frame, as it was (`wa_version`, `mcc`, `mnc`,
    /// `os_version`, `device_manufacturer`, `device_model`, `os_build_number`).
    ///
    /// `"phone":{"wa_version":"2.21.23.23","os_version":"11"}`
    pub phone: Value,
}

/// The phone's battery.
///
/// `{"percent":52,"plugged":false,"powersave":false}`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Battery {
    /// Charge in percent.
    ///
    /// `"percent":52`
    pub percent: u8,
    /// Whether it is charging.
    ///
    /// `"plugged":true`
    pub plugged: bool,
    /// Whether the phone is in power-saving mode; `false` when the phone did not say.
    ///
    /// `"powersave":false`
    #[serde(default)]
    pub powersave: bool,
}

/// The result of `status`.
///
/// Every field is always written; unknown values are `null`.
///
/// ```json
/// {"state":"connected","me":{"wid":"4915100000000@s.whatsapp.net","pushname":"Ada","platform":"android","phone":{}},"server_url":"wss://web.whatsapp.com/ws","session_stored":true,"session_error":null,"last_pong_ms_ago":1200,"phone_online":true,"battery":{"percent":52,"plugged":false,"powersave":false},"reconnects":0}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusResult {
    /// The session's state.
    ///
    /// `"state":"connected"`
    pub state: State,
    /// The logged-in account; `null` before the first login.
    ///
    /// `"me":null`
    pub me: Option<Me>,
    /// The websocket URL the daemon connects to.
    ///
    /// `"server_url":"wss://web.whatsapp.com/ws"`
    pub server_url: String,
    /// Whether a session file is stored, so a restart restores without a QR.
    ///
    /// `"session_stored":true`
    pub session_stored: bool,
    /// Why the session file could not be written, while that lasts; `null` otherwise. A login
    /// whose tokens are not on disk is not reported as `connected` (state `logging_in`, reason
    /// `session_not_stored`) and `session_stored` is false until a retry succeeds.
    ///
    /// `"session_error":"replacing /var/lib/wawebd/session.json: No space left on device"`
    #[serde(default)]
    pub session_error: Option<String>,
    /// How long ago the server last answered a keepalive; `null` when unknown (not connected).
    /// A large value means the connection is dead even if `state` has not caught up yet.
    ///
    /// `"last_pong_ms_ago":1200`
    pub last_pong_ms_ago: Option<u64>,
    /// Whether the server last said the phone is connected; `null` when unknown.
    ///
    /// `"phone_online":true`
    pub phone_online: Option<bool>,
    /// The phone's battery; `null` when unknown.
    ///
    /// `"battery":{"percent":52,"plugged":false,"powersave":false}`
    pub battery: Option<Battery>,
    /// Reconnect attempts since the daemon started.
    ///
    /// `"reconnects":0`
    pub reconnects: u64,
}

/// The result of `login`.
///
/// `{"state":"pairing"}`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResult {
    /// The state the session is in now: `pairing`.
    ///
    /// `"state":"pairing"`
    pub state: State,
}

/// The result of `logout`.
///
/// `{"server_notified":false}`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutResult {
    /// Whether the server was told (live goodbye, or the logout-token request when offline).
    /// The local session is erased either way.
    ///
    /// `"server_notified":true`
    pub server_notified: bool,
}
