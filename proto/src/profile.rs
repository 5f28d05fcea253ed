//! Params and results of the profile methods (DESIGN.md 8): who is on WhatsApp, profile
//! pictures, "about" texts, our push name and the block list.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The most numbers one `on_whatsapp` call asks about (one `exist` query each).
pub const ON_WHATSAPP_MAX: usize = 50;

/// The params of `on_whatsapp`: phone numbers or JIDs, spelt as `to`.
///
/// `{"numbers":["+49 151 0000001","4915100000099"]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnWhatsappParams {
    /// 1 to [`ON_WHATSAPP_MAX`] numbers.
    ///
    /// `"numbers":["4915100000001"]`
    pub numbers: Vec<String>,
}

/// The result of `on_whatsapp`: one entry per number, in the order asked.
///
/// `{"results":[{"input":"4915100000001","jid":"4915100000001@s.whatsapp.net","exists":true,"business":false}]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnWhatsappResult {
    /// The answers.
    pub results: Vec<OnWhatsapp>,
}

/// Whether one number is on WhatsApp.
///
/// `{"input":"+49 151 0000099","jid":"4915100000099@s.whatsapp.net","exists":false,"business":false}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnWhatsapp {
    /// The number as it was given.
    pub input: String,
    /// Its JID: the server's canonical one when it exists, else the one asked about.
    pub jid: String,
    /// Whether the server knows it.
    pub exists: bool,
    /// Whether it is a business account (the reply's `biz`).
    pub business: bool,
}

/// The params of `profile_picture`.
///
/// `{"jid":"4915100000001","output":"/home/ada/ada.jpg"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePictureParams {
    /// A person or group, spelt as `to`.
    pub jid: String,
    /// Where to write the JPEG: an absolute path whose folder exists, replaced atomically.
    ///
    /// `"output":"/home/ada/ada.jpg"`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<PathBuf>,
}

/// The result of `profile_picture`: the picture's URL, or null when there is none.
///
/// `{"url":"https://pps.whatsapp.net/v/t61/abc.jpg"}` or `{"url":null}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilePictureResult {
    /// The `eurl` the server answered.
    pub url: Option<String>,
}

/// The params of `set_profile_picture`.
///
/// `{"path":"/home/ada/me.png"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetProfilePictureParams {
    /// A JPEG or PNG file (absolute path); cropped to a square and scaled to 640x640 and 96x96.
    pub path: PathBuf,
}

/// The params of `about`.
///
/// `{"jid":"4915100000001"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AboutParams {
    /// A person, spelt as `to`.
    pub jid: String,
}

/// The result of `about`.
///
/// `{"text":"Hey there! I am using WhatsApp."}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboutResult {
    /// Their "about" text.
    pub text: String,
}

/// The params of `set_about`.
///
/// `{"text":"At the gym"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAboutParams {
    /// Our new "about" text (1 to [`ABOUT_MAX`] characters).
    pub text: String,
}

/// The longest "about" text, in characters (the official client's limit).
pub const ABOUT_MAX: usize = 139;

/// The params of `set_push_name`.
///
/// `{"name":"Ada L."}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPushNameParams {
    /// Our new display name (1 to [`PUSH_NAME_MAX`] characters).
    pub name: String,
}

/// The longest push name, in characters (the official client's limit).
pub const PUSH_NAME_MAX: usize = 25;

/// The params of `block` and `unblock`.
///
/// `{"jid":"4915100000003"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockParams {
    /// A person, spelt as `to`.
    pub jid: String,
}

/// The result of `blocklist`: everyone blocked, sorted.
///
/// `{"jids":["4915100000003@s.whatsapp.net"]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlocklistResult {
    /// Their JIDs, `@s.whatsapp.net`.
    pub jids: Vec<String>,
}

/// One call of every profile method, for the protocol's round-trip tests.
#[cfg(test)]
pub(crate) fn every_call() -> Vec<crate::Call> {
    use crate::Call;
    vec![
        Call::OnWhatsapp(OnWhatsappParams {
            numbers: vec!["4915100000001".into()],
        }),
        Call::ProfilePicture(ProfilePictureParams {
            jid: "1".into(),
            output: Some("/tmp/p.jpg".into()),
        }),
        Call::SetProfilePicture(SetProfilePictureParams {
            path: "/tmp/me.png".into(),
        }),
        Call::About(AboutParams { jid: "1".into() }),
        Call::SetAbout(SetAboutParams { text: "hi".into() }),
        Call::SetPushName(SetPushNameParams { name: "Ada".into() }),
        Call::Block(BlockParams { jid: "1".into() }),
        Call::Unblock(BlockParams { jid: "1".into() }),
        Call::Blocklist,
    ]
}
