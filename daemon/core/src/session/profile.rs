//! The profile requests (PROTOCOL.md 11.1, 11.2, 10.5) and how their replies read: who is on
//! WhatsApp, pictures, "about" texts, the push name, the block list, a fresh media URL.
//!
//! ```text
//! exist(jid)            -> ["query","exist","<digits>@c.us"]      {"status":200,"jid","biz"} | {"status":404}
//! picture_thumb(jid)    -> ["query","ProfilePicThumb","<jid>"]    {"eurl","tag"} | {"status":404}
//! about(jid)            -> ["query","Status","<jid>"]             {"status":"<text>"} | {"status":404}
//! block(jid, add)       -> ["block",{"type":"add"|"remove"},[["user",{"jid"}]]]      metric 18, 0x80
//! push_name(name)       -> ["profile",{"name"}]                                     metric 10, 0x80
//! set_about(text)       -> ["status",null,<utf-8>]                                  metric 10, 0x80
//! picture(jid, i, p)    -> ["picture",{"jid","id","type":"set"},[["image"],["preview"]]] metric 14, 0x88
//! media(index, owner, jid) -> <query type="media" index owner jid/>                 metric 4, 0x80
//! ```

use serde_json::{Value, json};

use crate::binary::{Content, Node};
use crate::message::jid_for_json_command;
use crate::session::actions::SetAction;
use crate::wire::{flags, metric};

/// A reply that does not say what it should.
///
/// `{"status":401}` → `Status(401)`; `{"eurl":3}` → `Shape("{\"eurl\":3}")`
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The server refused: a status other than 200 (404 where a reader expects "none" is read
    /// as none, not as this).
    #[error("the server answered status {0}")]
    Status(u16),
    /// The reply has neither the fields of a success nor a status.
    #[error("unexpected reply: {0}")]
    Shape(String),
}

/// A numeric `status` of a reply, if it has one.
fn numeric_status(reply: &Value) -> Option<u16> {
    reply
        .get("status")
        .and_then(Value::as_u64)
        .map(|status| u16::try_from(status).unwrap_or(u16::MAX))
}

fn shape(reply: &Value) -> ReplyError {
    let mut text = reply.to_string();
    if text.len() > 200 {
        let mut end = 200;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    ReplyError::Shape(text)
}

/// "Is this number on WhatsApp" for a person's JID, in the `@c.us` spelling of JSON commands.
pub fn exist(jid: &str) -> Value {
    json!(["query", "exist", jid_for_json_command(jid)])
}

/// What `exist` said about a number.
///
/// `{"status":200,"jid":"4915100000001@c.us","biz":false}` → `Exists { jid: "4915100000001@c.us", business: false }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exists {
    /// The server's canonical JID, as it spelt it (`@c.us`).
    pub jid: String,
    /// Whether it is a business account.
    pub business: bool,
}

/// Reads an `exist` reply: `Some` when the number is on WhatsApp, `None` for 404.
pub fn exist_reply(reply: &Value) -> Result<Option<Exists>, ReplyError> {
    match numeric_status(reply) {
        Some(200) => {
            let jid = reply
                .get("jid")
                .and_then(Value::as_str)
                .filter(|jid| !jid.is_empty())
                .ok_or_else(|| shape(reply))?;
            let business = match reply.get("biz") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(biz)) => *biz,
                Some(_) => return Err(shape(reply)),
            };
            Ok(Some(Exists {
                jid: jid.to_owned(),
                business,
            }))
        }
        Some(404) => Ok(None),
        Some(status) => Err(ReplyError::Status(status)),
        None => Err(shape(reply)),
    }
}

/// The picture query for a person or group.
pub fn picture_thumb(jid: &str) -> Value {
    json!(["query", "ProfilePicThumb", jid_for_json_command(jid)])
}

/// Reads a `ProfilePicThumb` reply: the `eurl`, `None` for 404 (no picture).
pub fn picture_thumb_reply(reply: &Value) -> Result<Option<String>, ReplyError> {
    if let Some(url) = reply.get("eurl").and_then(Value::as_str) {
        if url.is_empty() {
            return Err(shape(reply));
        }
        return Ok(Some(url.to_owned()));
    }
    match numeric_status(reply) {
        Some(404) => Ok(None),
        Some(200) | None => Err(shape(reply)),
        Some(status) => Err(ReplyError::Status(status)),
    }
}

/// The "about" query for a person.
pub fn about(jid: &str) -> Value {
    json!(["query", "Status", jid_for_json_command(jid)])
}

/// Reads a `Status` reply: `status` is the text when it is a string and an error status when it
/// is a number (PROTOCOL.md 11.1).
pub fn about_reply(reply: &Value) -> Result<String, ReplyError> {
    match reply.get("status") {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(_)) => Err(ReplyError::Status(numeric_status(reply).unwrap_or(0))),
        _ => Err(shape(reply)),
    }
}

/// Blocks (`add`) or unblocks a person; the JID as `Blocklist` spells it (`@c.us`).
pub fn block(jid: &str, add: bool) -> SetAction {
    let user = Node::new("user").attr("jid", jid_for_json_command(jid));
    SetAction {
        child: Node::new("block")
            .attr("type", if add { "add" } else { "remove" })
            .with_content(Content::List(vec![user])),
        metric: metric::BLOCK,
        flags: flags::IGNORE,
    }
}

/// Our new push name; the reply carries it back as `pushname` (B's metric, 10).
pub fn push_name(name: &str) -> SetAction {
    SetAction {
        child: Node::new("profile").attr("name", name.to_owned()),
        metric: metric::GROUP,
        flags: flags::IGNORE,
    }
}

/// Reads the reply to [`push_name`]: the name the server now has.
pub fn push_name_reply(reply: &Value) -> Result<String, ReplyError> {
    reply
        .get("pushname")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| shape(reply))
}

/// Our new "about" text, as the content bytes of a `status` child (B's metric, 10).
pub fn set_about(text: &str) -> SetAction {
    SetAction {
        child: Node::new("status").with_content(Content::Bytes(text.as_bytes().to_vec())),
        metric: metric::GROUP,
        flags: flags::IGNORE,
    }
}

/// A new picture for `jid` (ours or a group's): a 640x640 JPEG and its 96x96 preview. The `id`
/// is filled with the frame's tag when sent (`id_is_tag`).
pub fn picture(jid: &str, image: Vec<u8>, preview: Vec<u8>) -> SetAction {
    SetAction {
        child: Node::new("picture")
            .attr("jid", jid_for_json_command(jid))
            .attr("id", "")
            .attr("type", "set")
            .with_content(Content::List(vec![
                Node::new("image").with_content(Content::Bytes(image)),
                Node::new("preview").with_content(Content::Bytes(preview)),
            ])),
        metric: metric::PIC,
        flags: flags::IGNORE | flags::EXPIRES,
    }
}

/// Asks the phone to upload a message's media again (10.5): the message id, whether we sent
/// it, its chat.
pub fn media(index: &str, owner: bool, jid: &str) -> (Node, u8) {
    let node = Node::new("query")
        .attr("type", "media")
        .attr("index", index.to_owned())
        .attr("owner", owner.to_string())
        .attr("jid", jid.to_owned());
    (node, metric::QUERY_MEDIA)
}

/// Reads the reply to [`media`]: the fresh URL among the node's attributes.
pub fn media_reply(reply: &Node) -> Result<String, ReplyError> {
    if let Some(code) = reply.get("code")
        && code != "200"
    {
        return Err(ReplyError::Status(code.parse().unwrap_or(0)));
    }
    reply
        .get("url")
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ReplyError::Shape(format!("a `{}` node without url", reply.tag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exist_reads_200_404_and_refuses_other_shapes() {
        assert_eq!(
            exist("4915100000001@s.whatsapp.net"),
            json!(["query", "exist", "4915100000001@c.us"])
        );
        let found = exist_reply(&json!({"status": 200, "jid": "49@c.us", "biz": true})).unwrap();
        assert_eq!(
            found,
            Some(Exists {
                jid: "49@c.us".into(),
                business: true
            })
        );
        assert_eq!(exist_reply(&json!({"status": 404})), Ok(None));
        assert_eq!(
            exist_reply(&json!({"status": 500})),
            Err(ReplyError::Status(500))
        );
        assert!(matches!(
            exist_reply(&json!({"status": 200})),
            Err(ReplyError::Shape(_))
        ));
        assert!(matches!(
            exist_reply(&json!({"status": 200, "jid": "4@c.us", "biz": "y"})),
            Err(ReplyError::Shape(_))
        ));
        assert!(matches!(
            exist_reply(&json!([1])),
            Err(ReplyError::Shape(_))
        ));
    }

    #[test]
    fn status_is_a_text_or_an_error_by_its_json_type() {
        assert_eq!(about_reply(&json!({"status": "busy"})), Ok("busy".into()));
        assert_eq!(
            about_reply(&json!({"status": 404})),
            Err(ReplyError::Status(404))
        );
        assert!(matches!(
            about_reply(&json!({"status": true})),
            Err(ReplyError::Shape(_))
        ));
        assert!(matches!(
            about_reply(&json!(null)),
            Err(ReplyError::Shape(_))
        ));
    }

    #[test]
    fn picture_thumb_reads_the_url_or_none() {
        assert_eq!(
            picture_thumb_reply(&json!({"eurl": "https://x/p.jpg", "tag": "1"})),
            Ok(Some("https://x/p.jpg".into()))
        );
        assert_eq!(picture_thumb_reply(&json!({"status": 404})), Ok(None));
        assert_eq!(
            picture_thumb_reply(&json!({"status": 401})),
            Err(ReplyError::Status(401))
        );
        assert!(matches!(
            picture_thumb_reply(&json!({"eurl": 3})),
            Err(ReplyError::Shape(_))
        ));
        assert!(matches!(
            picture_thumb_reply(&json!({"eurl": ""})),
            Err(ReplyError::Shape(_))
        ));
    }

    #[test]
    fn set_actions_have_bs_children_metrics_and_flags() {
        let block = block("4915100000003@s.whatsapp.net", true);
        assert_eq!(
            serde_json::to_value(&block.child).unwrap(),
            json!({"tag": "block", "attrs": {"type": "add"}, "content": [{"tag": "user", "attrs": {"jid": "4915100000003@c.us"}, "content": null}]})
        );
        assert_eq!((block.metric, block.flags), (18, 0x80));
        assert_eq!(
            super::block("1@s.whatsapp.net", false).child.get("type"),
            Some("remove")
        );
        let name = push_name("Ada");
        assert_eq!(
            (name.child.get("name"), name.metric, name.flags),
            (Some("Ada"), 10, 0x80)
        );
        let about = set_about("äbout");
        assert_eq!(about.child.content_bytes(), Some("äbout".as_bytes()));
        assert_eq!(about.child.tag, "status");
        let picture = picture("49@s.whatsapp.net", vec![1], vec![2]);
        assert_eq!((picture.metric, picture.flags), (14, 0x88));
        assert_eq!(picture.child.get("jid"), Some("49@c.us"));
        assert_eq!(picture.child.children().len(), 2);
        assert_eq!(
            picture.child.children()[1].content_bytes(),
            Some(&[2u8][..])
        );
    }

    #[test]
    fn media_query_and_its_reply() {
        let (node, metric) = media("3EB0", true, "49@s.whatsapp.net");
        assert_eq!(metric, 4);
        assert_eq!(
            serde_json::to_value(&node).unwrap(),
            json!({"tag": "query", "attrs": {"type": "media", "index": "3EB0", "owner": "true", "jid": "49@s.whatsapp.net"}, "content": null})
        );
        let reply = Node::new("response")
            .attr("type", "media")
            .attr("url", "http://h/d/2")
            .attr("code", "200");
        assert_eq!(media_reply(&reply), Ok("http://h/d/2".into()));
        assert_eq!(
            media_reply(&Node::new("response").attr("code", "404")),
            Err(ReplyError::Status(404))
        );
        assert!(matches!(
            media_reply(&Node::new("response")),
            Err(ReplyError::Shape(_))
        ));
        assert_eq!(
            push_name_reply(&json!({"status": 200, "pushname": "A"})),
            Ok("A".into())
        );
        assert!(push_name_reply(&json!({"status": 200})).is_err());
    }
}
