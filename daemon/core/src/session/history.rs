//! History and search queries (PROTOCOL.md 11.3) and what their replies mean, without IO.
//!
//! ```text
//! page_query(jid, Before, 26, Some(("3EB0…", true)))
//!     -> <query type="message" jid="49…@s.whatsapp.net" kind="before" count="26" index="3EB0…" owner="true"/>, metric 7
//! <response type="message"><message>WMI</message>…</response>  -> Ok(page: messages oldest first)
//! {"status":404}                                                 -> Err(AnchorUnknown)
//! search_query("lunch", None, 25, 1)
//!     -> <query type="search" search="lunch" count="25" page="1"/>, metric 24
//! <response last="true"><message>WMI</message>…</response>      -> Ok(Found { messages, last: true })
//! ```
//!
//! A page is any node's `message` children (PROTOCOL.md 12 #21: R's `response type=message`,
//! while B and G only read the children); a child that does not decode, or a system message (a
//! revoke, a group change), is left out of the page rather than failing it, so one broken
//! message cannot make a chat's history unreadable.

use waweb_proto::message::{Message, Source};

use super::connection::ServerReply;
use crate::binary::Node;
use crate::message::{self, Received};
use crate::wire::metric;

/// The direction of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Older than the anchor (or the newest, without one).
    Before,
    /// Newer than the anchor.
    After,
}

impl Kind {
    /// The `kind` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Before => "before",
            Kind::After => "after",
        }
    }
}

/// The metric of a history query (B: `queryMessages`).
pub const PAGE_METRIC: u8 = metric::QUERY_MESSAGES;

/// The metric of a search (B: 24).
pub const SEARCH_METRIC: u8 = metric::QUERY_SEARCH;

/// What a history or search reply could not be read as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `{"status":404}`: the server does not know the anchor (with that owner flag).
    #[error("the server does not know that message")]
    AnchorUnknown,
    /// Another status: the server refused.
    #[error("the server refused the query with status {0}")]
    Refused(u16),
    /// JSON where a node was expected, without a status.
    #[error("the server answered the query with JSON that is neither a node nor a status")]
    Shape,
}

/// A stored-to-be message of a reply: its event and the bytes it came as.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    /// The event (`source: history`).
    pub message: Message,
    /// The encoded `WebMessageInfo`.
    pub raw: Vec<u8>,
}

/// A search reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The matches, in the server's order.
    pub messages: Vec<Fetched>,
    /// `last="true"`: no page after this one.
    pub last: bool,
}

/// `query message`: `count` messages of `jid` before or after `anchor` (`(id, from_me)`), the
/// newest without one. B sends `owner="true"` when there is no anchor, so do we.
pub fn page_query(jid: &str, kind: Kind, count: u32, anchor: Option<(&str, bool)>) -> Node {
    let mut node = Node::new("query")
        .attr("type", "message")
        .attr("jid", jid.to_owned())
        .attr("kind", kind.as_str())
        .attr("count", count.to_string());
    let owner = match anchor {
        Some((id, from_me)) => {
            node = node.attr("index", id.to_owned());
            from_me
        }
        None => true,
    };
    node.attr("owner", if owner { "true" } else { "false" })
}

/// `query search`: page `page` (from 1) of `count` matches of `text`, in `jid` only if given.
pub fn search_query(text: &str, jid: Option<&str>, count: u32, page: u32) -> Node {
    let mut node = Node::new("query")
        .attr("type", "search")
        .attr("search", text.to_owned())
        .attr("count", count.to_string())
        .attr("page", page.to_string());
    if let Some(jid) = jid {
        node = node.attr("jid", jid.to_owned());
    }
    node
}

/// The messages of a history reply, oldest first as the server sends them.
pub fn page_reply(reply: ServerReply) -> Result<Vec<Fetched>, Error> {
    match reply {
        ServerReply::Node(node) => Ok(messages_of(&node)),
        ServerReply::Json(json) => Err(status_error(&json)),
    }
}

/// The matches of a search reply.
pub fn search_reply(reply: ServerReply) -> Result<Found, Error> {
    match reply {
        ServerReply::Node(node) => Ok(Found {
            last: node.get("last") == Some("true"),
            messages: messages_of(&node),
        }),
        ServerReply::Json(json) => Err(status_error(&json)),
    }
}

fn status_error(json: &serde_json::Value) -> Error {
    match json.get("status").and_then(serde_json::Value::as_u64) {
        Some(404) => Error::AnchorUnknown,
        Some(status) => Error::Refused(u16::try_from(status).unwrap_or(0)),
        None => Error::Shape,
    }
}

fn messages_of(node: &Node) -> Vec<Fetched> {
    node.children()
        .iter()
        .filter(|child| child.tag == "message")
        .filter_map(|child| {
            let raw = child.content_bytes()?;
            match message::receive(raw, Source::History).ok()? {
                Received::Message(event) => Some(Fetched {
                    message: *event,
                    raw: raw.to_vec(),
                }),
                Received::Notice(_) => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::binary::Content;
    use crate::message::pb;

    fn info(id: &str, text: &str) -> Vec<u8> {
        message::encode(&pb::WebMessageInfo {
            key: Some(pb::MessageKey {
                remote_jid: Some("4915100000001@s.whatsapp.net".into()),
                from_me: Some(false),
                id: Some(id.into()),
                participant: None,
            }),
            message: Some(pb::Message {
                conversation: Some(text.into()),
                ..Default::default()
            }),
            message_timestamp: Some(1_600_000_000),
            ..Default::default()
        })
    }

    #[test]
    fn a_page_query_names_the_anchor_and_its_owner() {
        let node = page_query("49@s.whatsapp.net", Kind::After, 26, Some(("A1", false)));
        assert_eq!(node.get("type"), Some("message"));
        assert_eq!(node.get("kind"), Some("after"));
        assert_eq!(node.get("count"), Some("26"));
        assert_eq!(node.get("index"), Some("A1"));
        assert_eq!(node.get("owner"), Some("false"));
        let newest = page_query("49@s.whatsapp.net", Kind::Before, 5, None);
        assert_eq!(newest.get("index"), None);
        assert_eq!(newest.get("owner"), Some("true"));
        let search = search_query("lunch", Some("49@s.whatsapp.net"), 10, 2);
        assert_eq!(search.get("search"), Some("lunch"));
        assert_eq!(search.get("page"), Some("2"));
        assert_eq!(search.get("jid"), Some("49@s.whatsapp.net"));
        assert_eq!(search_query("x", None, 1, 1).get("jid"), None);
    }

    #[test]
    fn a_reply_gives_its_decodable_messages_in_order() {
        let children = vec![
            Node::new("message").with_content(Content::Bytes(info("A", "one"))),
            Node::new("message").with_content(Content::Bytes(vec![0xff, 0x01])),
            Node::new("other"),
            Node::new("message").with_content(Content::Bytes(info("B", "two"))),
        ];
        let reply = Node::new("response")
            .attr("type", "message")
            .with_content(Content::List(children.clone()));
        let page = page_reply(ServerReply::Node(reply)).unwrap();
        let ids: Vec<&str> = page.iter().map(|m| m.message.id.as_str()).collect();
        assert_eq!(ids, ["A", "B"]);
        assert_eq!(page[0].message.source, Source::History);
        assert_eq!(page[1].raw, info("B", "two"));

        let found = Node::new("response")
            .attr("last", "true")
            .with_content(Content::List(children));
        let found = search_reply(ServerReply::Node(found)).unwrap();
        assert!(found.last);
        assert_eq!(found.messages.len(), 2);
        let empty = search_reply(ServerReply::Node(Node::new("response"))).unwrap();
        assert!(!empty.last && empty.messages.is_empty());
    }

    #[test]
    fn a_status_reply_is_an_error() {
        assert_eq!(
            page_reply(ServerReply::Json(json!({"status": 404}))),
            Err(Error::AnchorUnknown)
        );
        assert_eq!(
            page_reply(ServerReply::Json(json!({"status": 500}))),
            Err(Error::Refused(500))
        );
        assert_eq!(
            search_reply(ServerReply::Json(json!({"x": 1}))),
            Err(Error::Shape)
        );
    }
}
