//! The profile methods (DESIGN.md 8): each a session task asking the server once per thing
//! (PROTOCOL.md 11.1/11.2, built in [`waweb_core::session::profile`]). The block list is kept in
//! memory, as the server last sent it (`Blocklist` at login and on changes) with our own
//! `block`/`unblock` applied at once.
//!
//! ```text
//! on_whatsapp {numbers}       -> one ["query","exist",…] per number (concurrently)  -> {"results"}
//! profile_picture {jid,out?}  -> ["query","ProfilePicThumb",…] (+ GET eurl -> out) -> {"url"} | {"url":null}
//! set_profile_picture {path}  -> 640x640 + 96x96 JPEG -> picture set-action (tag = id) -> {}
//! about {jid} / set_about     -> ["query","Status",…] / status set-action       -> {"text"} / {}
//! set_push_name {name}        -> profile set-action; the reply's pushname -> status.me -> {}
//! block / unblock / blocklist -> block set-action (list updated) / the list in memory
//! ```

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::try_join_all;
use waweb_core::message::normalize_jid;
use waweb_core::session::profile::{self as wire, ReplyError};
use waweb_proto::{
    ABOUT_MAX, AboutParams, AboutResult, BlockParams, BlocklistResult, EmptyResult,
    ON_WHATSAPP_MAX, OnWhatsapp, OnWhatsappParams, OnWhatsappResult, PUSH_NAME_MAX,
    ProfilePictureParams, ProfilePictureResult, SetAboutParams, SetProfilePictureParams,
    SetPushNameParams,
};

use waweb_proto::Call;

use super::actor::Actor;
use super::compose::{jid, person};
use super::handle::{Answer, Reply, SessionError};
use super::picture;
use super::requests::Task;
use crate::output::Protected;

/// The block list as the daemon knows it: `None` until the server sent one.
///
/// `["Blocklist",{"id":1,"blocklist":["4915100000003@c.us"]}]` → `{"jids":["4915100000003@s.whatsapp.net"]}`
#[derive(Debug, Clone, Default)]
pub struct Blocked(Arc<Mutex<Option<BTreeSet<String>>>>);

impl Blocked {
    fn with<T>(&self, f: impl FnOnce(&mut Option<BTreeSet<String>>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The server's whole list (a `blocklist` event).
    pub fn replace(&self, jids: &[String]) {
        self.with(|list| *list = Some(jids.iter().map(|jid| normalize_jid(jid)).collect()));
    }

    /// Our own change, once the server accepted it.
    fn change(&self, jid: &str, add: bool) {
        self.with(|list| {
            let list = list.get_or_insert_with(BTreeSet::new);
            if add {
                list.insert(jid.to_owned());
            } else {
                list.remove(jid);
            }
        });
    }

    /// Everyone blocked, sorted; `None` before the server said.
    pub fn jids(&self) -> Option<Vec<String>> {
        self.with(|list| list.as_ref().map(|list| list.iter().cloned().collect()))
    }

    /// The session is gone, and its list with it.
    pub fn forget(&self) {
        self.with(|list| *list = None);
    }
}

/// A reply that did not say what it should, as the session reports it.
pub(super) fn reply_error(error: ReplyError) -> SessionError {
    match error {
        ReplyError::Status(status) => SessionError::Server {
            status,
            message: format!("the server refused the request (status {status})"),
        },
        ReplyError::Shape(reply) => SessionError::Server {
            status: 0,
            message: format!("the server's reply has an unexpected shape: {reply}"),
        },
    }
}

impl Actor {
    /// Runs one profile method (`on_call` routes only those here); everything but `blocklist` is a task of its own.
    pub(super) fn profile_call(&mut self, call: Call, reply: tokio::sync::oneshot::Sender<Answer>) {
        let protected = Protected::new(&self.config.state_dir, &self.config.socket);
        let add = matches!(call, Call::Block(_));
        match call {
            Call::OnWhatsapp(params) => self.spawn_call(reply, |task| on_whatsapp(task, params)),
            Call::ProfilePicture(params) => {
                self.spawn_call(reply, |task| profile_picture(task, params, protected))
            }
            Call::SetProfilePicture(params) => match self.picture_jid() {
                Ok(me) => self.spawn_call(reply, |task| set_picture(task, params, me, protected)),
                Err(error) => {
                    let _ = Reply::<EmptyResult>::new(reply).send(Err(error));
                }
            },
            Call::About(params) => self.spawn_call(reply, |task| about(task, params)),
            Call::SetAbout(params) => self.spawn_call(reply, |task| set_about(task, params)),
            Call::SetPushName(params) => self.spawn_call(reply, |task| set_push_name(task, params)),
            Call::Block(params) | Call::Unblock(params) => {
                let blocked = self.blocked.clone();
                self.spawn_call(reply, move |task| block(task, params, add, blocked))
            }
            Call::Blocklist => {
                let answer = match self.blocked.jids() {
                    Some(jids) => Ok(BlocklistResult { jids }),
                    None => Err(self.not_available()),
                };
                let _ = Reply::new(reply).send(answer);
            }
            other => {
                let error = format!("{} is not a profile method", other.name());
                let _ = reply.send(Err(SessionError::Internal(error)));
            }
        }
    }

    /// Our own JID, for our picture: the stored session's, connected or not.
    fn picture_jid(&self) -> Result<String, SessionError> {
        match &self.credentials {
            Some(credentials) => Ok(normalize_jid(&credentials.wid)),
            None => Err(SessionError::NotLoggedIn),
        }
    }

    /// The server accepted our new push name: `status.me` shows it from now on.
    pub(super) fn renamed(&mut self, name: String) {
        if let Some(me) = &mut self.me {
            me.pushname = name;
        }
    }
}

async fn on_whatsapp(
    task: Task,
    params: OnWhatsappParams,
) -> Result<OnWhatsappResult, SessionError> {
    if params.numbers.is_empty() || params.numbers.len() > ON_WHATSAPP_MAX {
        return Err(SessionError::InvalidParams(format!(
            "numbers: give 1 to {ON_WHATSAPP_MAX} numbers, not {}",
            params.numbers.len()
        )));
    }
    let jids = params
        .numbers
        .iter()
        .map(|number| person("numbers", number))
        .collect::<Result<Vec<_>, _>>()?;
    let asked = jids.iter().map(|jid| task.requests.json(wire::exist(jid)));
    let replies = try_join_all(asked).await?;
    let results = params
        .numbers
        .into_iter()
        .zip(jids)
        .zip(replies)
        .map(|((input, jid), reply)| {
            let found = wire::exist_reply(&reply).map_err(reply_error)?;
            Ok(OnWhatsapp {
                input,
                jid: found
                    .as_ref()
                    .map_or(jid, |found| normalize_jid(&found.jid)),
                exists: found.is_some(),
                business: found.is_some_and(|found| found.business),
            })
        })
        .collect::<Result<_, SessionError>>()?;
    Ok(OnWhatsappResult { results })
}

async fn profile_picture(
    task: Task,
    params: ProfilePictureParams,
    protected: Protected,
) -> Result<ProfilePictureResult, SessionError> {
    let jid = jid("jid", &params.jid)?;
    if let Some(output) = &params.output {
        protected
            .check_output(output)
            .map_err(|error| SessionError::InvalidParams(error.to_string()))?;
    }
    let reply = task.requests.json(wire::picture_thumb(&jid)).await?;
    let url = wire::picture_thumb_reply(&reply).map_err(reply_error)?;
    if let (Some(url), Some(output)) = (&url, params.output) {
        picture::download(&task.net.http, url, output).await?;
    }
    Ok(ProfilePictureResult { url })
}

async fn set_picture(
    task: Task,
    params: SetProfilePictureParams,
    me: String,
    protected: Protected,
) -> Result<EmptyResult, SessionError> {
    let path: PathBuf = params.path;
    let file = protected
        .open_input(&path)
        .map_err(|error| SessionError::InvalidParams(error.to_string()))?;
    let (image, preview) = tokio::task::spawn_blocking(move || picture::prepare(file))
        .await
        .map_err(|error| SessionError::Internal(format!("the picture task failed: {error}")))??;
    task.requests
        .set(wire::picture(&me, image, preview), true)
        .await?;
    Ok(EmptyResult {})
}

async fn about(task: Task, params: AboutParams) -> Result<AboutResult, SessionError> {
    let jid = person("jid", &params.jid)?;
    let reply = task.requests.json(wire::about(&jid)).await?;
    let text = wire::about_reply(&reply).map_err(reply_error)?;
    Ok(AboutResult { text })
}

/// A text param of 1 to `max` characters without control characters.
fn short_text(what: &str, text: &str, max: usize) -> Result<(), SessionError> {
    let chars = text.chars().count();
    if text.trim().is_empty() || chars > max {
        return Err(SessionError::InvalidParams(format!(
            "{what}: give 1 to {max} characters, not {chars}"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(SessionError::InvalidParams(format!(
            "{what}: control characters (line breaks, tabs) are not allowed"
        )));
    }
    Ok(())
}

async fn set_about(task: Task, params: SetAboutParams) -> Result<EmptyResult, SessionError> {
    short_text("text", &params.text, ABOUT_MAX)?;
    task.requests
        .set(wire::set_about(&params.text), false)
        .await?;
    Ok(EmptyResult {})
}

async fn set_push_name(task: Task, params: SetPushNameParams) -> Result<EmptyResult, SessionError> {
    short_text("name", &params.name, PUSH_NAME_MAX)?;
    let reply = task
        .requests
        .set(wire::push_name(&params.name), false)
        .await?;
    let name = wire::push_name_reply(&reply).map_err(reply_error)?;
    task.requests.renamed(name).await?;
    Ok(EmptyResult {})
}

async fn block(
    task: Task,
    params: BlockParams,
    add: bool,
    blocked: Blocked,
) -> Result<EmptyResult, SessionError> {
    let jid = person("jid", &params.jid)?;
    task.requests.set(wire::block(&jid, add), false).await?;
    blocked.change(&jid, add);
    Ok(EmptyResult {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_list_follows_the_server_and_our_changes() {
        let blocked = Blocked::default();
        assert_eq!(blocked.jids(), None);
        blocked.replace(&["2@c.us".into(), "1@s.whatsapp.net".into()]);
        assert_eq!(
            blocked.jids(),
            Some(vec!["1@s.whatsapp.net".into(), "2@s.whatsapp.net".into()])
        );
        blocked.change("3@s.whatsapp.net", true);
        blocked.change("1@s.whatsapp.net", false);
        assert_eq!(
            blocked.jids(),
            Some(vec!["2@s.whatsapp.net".into(), "3@s.whatsapp.net".into()])
        );
        blocked.forget();
        assert_eq!(blocked.jids(), None);
    }

    #[test]
    fn short_texts_are_checked() {
        assert!(short_text("name", "Ada", 25).is_ok());
        assert!(short_text("name", " ", 25).is_err());
        assert!(short_text("name", &"x".repeat(26), 25).is_err());
        assert!(short_text("name", "a\nb", 25).is_err());
        assert!(short_text("name", &"ä".repeat(25), 25).is_ok());
    }
}
