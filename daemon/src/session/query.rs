//! `query` (any JSON command, binary node or set-action child, answered as it came) and
//! `media_download` of a stored message, whose expired URL is refreshed once through the phone
//! (PROTOCOL.md 10.5).
//!
//! ```text
//! query {json}                    -> ["query","exist",…]                  -> {"reply":…}
//! query {node, metric, flags?}    -> <query type="chat"/> (epoch added)  -> {"reply_node":…} | {"reply":…}
//! query {set, metric, flags?, id_is_tag?} -> action set [child]           -> {"reply":…}
//! media_download {message, output} -> lookup -> download; 404/410 -> query media -> download again
//! ```

use std::path::PathBuf;

use serde_json::Value;
use tokio::sync::oneshot;
use waweb_core::binary::Node;
use waweb_core::session::actions::SetAction;
use waweb_core::session::connection::{ServerReply, ServerRequest};
use waweb_core::session::profile as wire;
use waweb_core::session::profile::ReplyError;
use waweb_core::wire::flags;
use waweb_proto::{MediaDownloadParams, MediaDownloadResult, MessageRef, QueryParams, QueryResult};

use super::actor::Actor;
use super::compose::jid;
use super::download::download;
use super::handle::{Answer, Reply, SessionError};
use super::profile::reply_error;
use super::requests::Task;
use crate::messages;
use crate::output::Protected;

fn invalid(text: impl Into<String>) -> SessionError {
    SessionError::InvalidParams(text.into())
}

impl Actor {
    /// `query`: its params read into a request, then a task that returns the reply.
    pub(super) fn query_call(&mut self, params: QueryParams, reply: oneshot::Sender<Answer>) {
        match query_request(params) {
            Ok(request) => self.spawn_call(reply, |task| query(task, request)),
            Err(error) => {
                let _ = Reply::<QueryResult>::new(reply).send(Err(error));
            }
        }
    }

    /// `media_download`: of a media object as before, or of a stored message as a task.
    pub(super) fn media_download_call(
        &mut self,
        params: MediaDownloadParams,
        reply: oneshot::Sender<Answer>,
    ) {
        match DownloadOf::from_params(params) {
            Ok((DownloadOf::Media(media), output)) => {
                self.spawn_download(media, output, Reply::new(reply));
            }
            Ok((DownloadOf::Message(message), output)) => {
                let protected = Protected::new(&self.config.state_dir, &self.config.socket);
                self.spawn_call(reply, |task| {
                    download_message(task, message, output, protected)
                });
            }
            Err(error) => {
                let _ = Reply::<MediaDownloadResult>::new(reply).send(Err(error));
            }
        }
    }
}

/// What a `query` call sends, read from its params.
fn query_request(params: QueryParams) -> Result<ServerRequest, SessionError> {
    let QueryParams {
        json,
        node,
        set,
        metric,
        flags: frame_flags,
        id_is_tag,
    } = params;
    let frame_flags = frame_flags.unwrap_or(flags::IGNORE);
    let node_of = |what: &str, value: &Value| {
        Node::from_json(value).map_err(|error| invalid(format!("{what}: {error}")))
    };
    let metric_for = |what: &str| {
        metric.ok_or_else(|| invalid(format!("{what} needs a metric (PROTOCOL.md 1.4)")))
    };
    match (json, node, set) {
        (Some(json), None, None) => {
            if metric.is_some() || params_flags_given(frame_flags, id_is_tag) {
                return Err(invalid(
                    "metric, flags and id_is_tag go with node or set, not json",
                ));
            }
            Ok(ServerRequest::Json(json))
        }
        (None, Some(node), None) => {
            if id_is_tag {
                return Err(invalid("id_is_tag goes with set"));
            }
            Ok(ServerRequest::Node {
                node: node_of("node", &node)?,
                metric: metric_for("node")?,
                flags: frame_flags,
            })
        }
        (None, None, Some(child)) => Ok(ServerRequest::Set {
            action: SetAction {
                child: node_of("set", &child)?,
                metric: metric_for("set")?,
                flags: frame_flags,
            },
            id_is_tag,
        }),
        _ => Err(invalid("give exactly one of json, node and set")),
    }
}

/// Whether flags or `id_is_tag` were set to something a JSON command cannot carry.
fn params_flags_given(frame_flags: u8, id_is_tag: bool) -> bool {
    frame_flags != flags::IGNORE || id_is_tag
}

/// Runs a `query` call's request and answers what came back.
async fn query(task: Task, request: ServerRequest) -> Result<QueryResult, SessionError> {
    Ok(match task.requests.request(request).await? {
        ServerReply::Json(json) => QueryResult::Reply(json),
        ServerReply::Node(node) => {
            QueryResult::ReplyNode(serde_json::to_value(&node).unwrap_or(Value::Null))
        }
    })
}

/// Reads `media_download`'s params: the media object, or the stored message to take it from.
enum DownloadOf {
    Media(waweb_proto::message::Media),
    Message(MessageRef),
}

impl DownloadOf {
    fn from_params(params: MediaDownloadParams) -> Result<(DownloadOf, PathBuf), SessionError> {
        match (params.media, params.message) {
            (Some(media), None) => Ok((DownloadOf::Media(media), params.output)),
            (None, Some(message)) => Ok((DownloadOf::Message(message), params.output)),
            _ => Err(invalid("give exactly one of media and message")),
        }
    }
}

/// `media_download` of a stored message: its media, refreshed once when the host lost it.
async fn download_message(
    task: Task,
    reference: MessageRef,
    output: PathBuf,
    protected: Protected,
) -> Result<MediaDownloadResult, SessionError> {
    protected
        .check_output(&output)
        .map_err(|error| invalid(error.to_string()))?;
    let chat = jid("message.chat", &reference.chat)?;
    let not_found = || {
        SessionError::NotFound(format!(
            "the store has no message {} in {chat}",
            reference.id
        ))
    };
    let journal = task.bus.journal().ok_or_else(not_found)?;
    let stored = messages::lookup(journal, chat.clone(), reference.id.clone())
        .await
        .map_err(|error| SessionError::Io(format!("the message store: {error}")))?
        .filter(|stored| stored.message.from_me == reference.from_me)
        .ok_or_else(not_found)?;
    let mut media = stored
        .message
        .media
        .ok_or_else(|| invalid(format!("message {} has no media", reference.id)))?;
    match download(
        &task.net.http,
        media.clone(),
        output.clone(),
        task.bus.metrics(),
    )
    .await
    {
        Err(SessionError::MediaExpired(why)) => {
            tracing::info!("media of a stored message expired ({why}); asking the phone for it");
            media.url = Some(refreshed_url(&task, &reference.id, reference.from_me, &chat).await?);
            download(&task.net.http, media, output, task.bus.metrics()).await
        }
        other => other,
    }
}

/// The phone's fresh URL for a message's media (10.5); a phone that no longer has it is
/// `media_expired`.
async fn refreshed_url(
    task: &Task,
    id: &str,
    from_me: bool,
    chat: &str,
) -> Result<String, SessionError> {
    let (node, metric) = wire::media(id, from_me, chat);
    let gone = |status: u16| {
        SessionError::MediaExpired(format!(
            "the host no longer has it and the phone answered {status} to the media query"
        ))
    };
    match task.requests.query(node, metric).await? {
        ServerReply::Node(reply) => match wire::media_reply(&reply) {
            Ok(url) => Ok(url),
            Err(ReplyError::Status(status @ (404 | 410))) => Err(gone(status)),
            Err(error) => Err(reply_error(error)),
        },
        ServerReply::Json(reply) => match reply.get("status").and_then(Value::as_u64) {
            Some(status @ (404 | 410)) => Err(gone(status as u16)),
            _ => Err(reply_error(ReplyError::Shape(reply.to_string()))),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(value: Value) -> QueryParams {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn query_params_name_exactly_one_request() {
        assert_eq!(
            query_request(params(json!({"json": ["query", "exist", "1@c.us"]}))),
            Ok(ServerRequest::Json(json!(["query", "exist", "1@c.us"])))
        );
        let node = query_request(params(
            json!({"node": {"tag": "query", "attrs": {"type": "chat"}}, "metric": 5}),
        ));
        assert_eq!(
            node,
            Ok(ServerRequest::Node {
                node: Node::new("query").attr("type", "chat"),
                metric: 5,
                flags: 0x80
            })
        );
        let set = query_request(params(
            json!({"set": {"tag": "picture", "attrs": {"id": ""}}, "metric": 14, "flags": 136, "id_is_tag": true}),
        ));
        assert!(matches!(
            set,
            Ok(ServerRequest::Set {
                id_is_tag: true,
                action: SetAction {
                    metric: 14,
                    flags: 0x88,
                    ..
                }
            })
        ));
        for bad in [
            json!({}),
            json!({"json": 1, "node": {"tag": "q"}, "metric": 5}),
            json!({"node": {"tag": "q"}}),
            json!({"node": {"tag": ""}, "metric": 5}),
            json!({"node": {"tag": "q", "attrs": {"a": 1}}, "metric": 5}),
            json!({"json": 1, "metric": 5}),
            json!({"node": {"tag": "q"}, "metric": 5, "id_is_tag": true}),
        ] {
            let error = query_request(params(bad.clone())).unwrap_err();
            assert!(
                matches!(error, SessionError::InvalidParams(_)),
                "{bad}: {error:?}"
            );
        }
        // Nesting is bounded by the node reader.
        let mut deep = json!({"tag": "x"});
        for _ in 0..100 {
            deep = json!({"tag": "x", "content": [deep]});
        }
        assert!(query_request(params(json!({"node": deep, "metric": 5}))).is_err());
    }
}
