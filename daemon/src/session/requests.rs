//! Session tasks: calls that run beside the actor (store lookups, several server round trips)
//! and reach the connection only through [`Requests`], one [`Command::Request`] per request.
//!
//! ```text
//! on_call(Call::X) -> self.spawn_call(reply, |task| async move { … task.requests.query(node, metric).await? … })
//! Requests::query(<query type=message …/>, 7)   -> Command::Request -> Connection::request -> ServerReply
//! Requests::set(SetAction)                      -> the reply's JSON, once its status is 200
//! Requests::json(["query","exist","49…@c.us"])  -> the JSON reply as it came
//! ```
//!
//! The actor stays free while a task waits: it only sends frames and routes their answers.

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use waweb_core::binary::Node;
use waweb_core::session::actions::SetAction;
use waweb_core::session::connection::{ServerReply, ServerRequest};
use waweb_core::wire::flags;
use waweb_proto::Me;

use super::actor::Actor;
use super::handle::{Answer, Command, Reply, SessionError};
use crate::bus::Bus;
use crate::chats::Chats;
use crate::config::Config;
use crate::transport::Net;

/// How a session task asks the server things, through the actor's open connection.
#[derive(Debug, Clone)]
pub struct Requests {
    commands: mpsc::Sender<Command>,
}

impl Requests {
    /// Requests over the actor's command channel.
    pub fn new(commands: mpsc::Sender<Command>) -> Self {
        Requests { commands }
    }

    /// Sends `outgoing` and returns the server's reply as it came (a failure status included);
    /// `not_connected`/`not_logged_in` without a connection, `timeout` without an answer.
    pub async fn request(&self, outgoing: ServerRequest) -> Result<ServerReply, SessionError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Request { outgoing, reply })
            .await
            .map_err(|_| SessionError::Stopped)?;
        answer.await.map_err(|_| SessionError::Stopped)?
    }

    /// A binary query (`epoch` added), flags `0x80`: `<query type="message" …/>`, metric 7.
    pub async fn query(&self, node: Node, metric: u8) -> Result<ServerReply, SessionError> {
        let flags = flags::IGNORE;
        self.request(ServerRequest::Node {
            node,
            metric,
            flags,
        })
        .await
    }

    /// A set-action, answered with the reply's JSON once its status is 200 (PROTOCOL.md 11.2:
    /// any other status is the server refusing it, -32004). With `id_is_tag` the child's `id`
    /// is the frame's tag (group operations, the picture).
    pub async fn set(&self, action: SetAction, id_is_tag: bool) -> Result<Value, SessionError> {
        match self
            .request(ServerRequest::Set { action, id_is_tag })
            .await?
        {
            ServerReply::Json(json) => status_ok(json),
            ServerReply::Node(node) => Err(unexpected_node(&node)),
        }
    }

    /// Tells the actor the server accepted our new push name.
    pub async fn renamed(&self, name: String) -> Result<(), SessionError> {
        self.commands
            .send(Command::PushName(name))
            .await
            .map_err(|_| SessionError::Stopped)
    }

    /// A JSON command, answered with the JSON reply as it came (its status is the caller's to
    /// read: several commands answer data without one).
    pub async fn json(&self, json: Value) -> Result<Value, SessionError> {
        match self.request(ServerRequest::Json(json)).await? {
            ServerReply::Json(json) => Ok(json),
            ServerReply::Node(node) => Err(unexpected_node(&node)),
        }
    }
}

/// A JSON reply whose numeric `status` is 200 (or that has none) as it is; any other status is
/// -32004 with that status.
pub fn status_ok(reply: Value) -> Result<Value, SessionError> {
    match reply.get("status").and_then(Value::as_u64) {
        None | Some(200) => Ok(reply),
        Some(status) => Err(SessionError::Server {
            status: u16::try_from(status).unwrap_or(0),
            message: format!("the server refused the request: {reply}"),
        }),
    }
}

fn unexpected_node(node: &Node) -> SessionError {
    SessionError::Server {
        status: 0,
        message: format!(
            "the server answered a `{}` node where JSON was expected",
            node.tag
        ),
    }
}

/// What a session task has to work with.
#[derive(Debug, Clone)]
pub struct Task {
    /// The connection, through the actor.
    pub requests: Requests,
    /// Events, and the store behind the journal.
    pub bus: Bus,
    /// HTTP for media and pictures.
    pub net: Net,
    /// The daemon's configuration (the state dir and socket the paths are checked against).
    pub config: Arc<Config>,
    /// Who we are, when logged in.
    pub me: Option<Me>,
    /// The store's chats, for the calls that change them.
    pub chats: Chats,
}

impl Actor {
    /// Runs `call` as a task of its own and answers `reply` with what it returns; shutdown
    /// answers `Stopped`. Without a way back to the actor (it is stopping) the call fails at once.
    pub(super) fn spawn_call<T, F, Fut>(&self, reply: oneshot::Sender<Answer>, call: F)
    where
        T: Serialize + 'static,
        F: FnOnce(Task) -> Fut,
        Fut: Future<Output = Result<T, SessionError>> + Send + 'static,
    {
        let reply = Reply::<T>::new(reply);
        let Some(commands) = self.commands.upgrade() else {
            let _ = reply.send(Err(SessionError::Stopped));
            return;
        };
        let task = Task {
            requests: Requests::new(commands),
            bus: self.bus.clone(),
            net: self.net.clone(),
            config: self.config.clone(),
            me: self.me.clone(),
            chats: self.chats.clone(),
        };
        let running = call(task);
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let result = tokio::select! {
                result = running => result,
                () = stop.cancelled() => Err(SessionError::Stopped),
            };
            let _ = reply.send(result);
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_status_other_than_200_is_the_server_refusing() {
        assert_eq!(
            status_ok(json!({"status": 200, "gid": "g"})),
            Ok(json!({"status": 200, "gid": "g"}))
        );
        assert_eq!(status_ok(json!({"eurl": "u"})), Ok(json!({"eurl": "u"})));
        let refused = status_ok(json!({"status": 401})).unwrap_err();
        assert!(
            matches!(refused, SessionError::Server { status: 401, .. }),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_request_is_answered_by_the_actor_or_fails_when_it_is_gone() {
        let (sender, mut commands) = mpsc::channel(1);
        let requests = Requests::new(sender);
        let actor = tokio::spawn(async move {
            if let Some(Command::Request { outgoing, reply }) = commands.recv().await {
                assert_eq!(
                    outgoing,
                    ServerRequest::Json(json!(["query", "exist", "49@c.us"]))
                );
                let _ = reply.send(Ok(ServerReply::Json(json!({"status": 404}))));
            }
        });
        let answer = requests.json(json!(["query", "exist", "49@c.us"])).await;
        assert_eq!(answer, Ok(json!({"status": 404})));
        actor.await.unwrap();
        assert_eq!(requests.json(json!([])).await, Err(SessionError::Stopped));
    }
}
