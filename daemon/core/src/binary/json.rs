//! The JSON form of a node (DESIGN.md section 4):
//! `{"tag":str,"attrs":{str:str},"content":null | str | {"base64":str} | [node…]}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::{Content, MAX_DEPTH, Node, Text};

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("tag", self.tag.as_ref())?;
        map.serialize_entry("attrs", &Attrs(&self.attrs))?;
        map.serialize_entry("content", &self.content)?;
        map.end()
    }
}

struct Attrs<'a>(&'a [(Text, Text)]);

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key.as_ref(), value.as_ref())?;
        }
        map.end()
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Content::Null => serializer.serialize_none(),
            Content::Text(text) => serializer.serialize_str(text),
            Content::Bytes(bytes) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("base64", &BASE64.encode(bytes))?;
                map.end()
            }
            Content::List(children) => {
                let mut seq = serializer.serialize_seq(Some(children.len()))?;
                for child in children {
                    seq.serialize_element(child)?;
                }
                seq.end()
            }
        }
    }
}

impl Node {
    /// Appends the node's JSON form to `out`: the same bytes as `serde_json::to_writer` of the
    /// [`Serialize`] impl (a test holds them equal), written directly because that is the hot
    /// path of `wawebd decode --stream`. Strings that need no escape are copied whole (serde_json
    /// looks at them byte by byte) and bytes content is base64-encoded straight into `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"tag\":");
        write_json_str(&self.tag, out);
        out.extend_from_slice(b",\"attrs\":{");
        for (index, (key, value)) in self.attrs.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_json_str(key, out);
            out.push(b':');
            write_json_str(value, out);
        }
        out.extend_from_slice(b"},\"content\":");
        match &self.content {
            Content::Null => out.extend_from_slice(b"null"),
            Content::Text(text) => write_json_str(text, out),
            Content::Bytes(bytes) => {
                out.extend_from_slice(b"{\"base64\":\"");
                // The base64 alphabet needs no escape in JSON.
                let start = out.len();
                out.resize(start + bytes.len().div_ceil(3) * 4, 0);
                let written = BASE64
                    .encode_slice(bytes, &mut out[start..])
                    .expect("sized for the padded encoding");
                out.truncate(start + written);
                out.extend_from_slice(b"\"}");
            }
            Content::List(children) => {
                out.push(b'[');
                for (index, child) in children.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    child.write_json(out);
                }
                out.push(b']');
            }
        }
        out.push(b'}');
    }
}

/// A JSON string. serde_json escapes `"`, `\\` and control characters and nothing else; a
/// string without them is copied as is, any other goes through serde_json itself.
pub fn write_json_str(text: &str, out: &mut Vec<u8>) {
    // `fold`, not `any`: no early exit, so the scan runs over whole vectors.
    let needs_escape = text.bytes().fold(false, |found, byte| {
        found | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    });
    if needs_escape {
        serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Why a JSON value is not a node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct FromJsonError {
    /// Where in the value, e.g. `content[2].attrs.jid`.
    pub path: String,
    /// What was wrong.
    pub reason: &'static str,
}

impl Node {
    /// Reads a node from its JSON form; `attrs` may be absent or null, `content` absent means null.
    ///
    /// Refuses what the wire cannot carry: an empty tag, non-string attribute values, more than
    /// 65535 children or 32766 attributes, nesting beyond [`MAX_DEPTH`].
    pub fn from_json(value: &Value) -> Result<Node, FromJsonError> {
        from_json_at(value, String::new(), 0)
    }
}

fn fail<T>(path: &str, reason: &'static str) -> Result<T, FromJsonError> {
    Err(FromJsonError {
        path: if path.is_empty() {
            "node".into()
        } else {
            path.into()
        },
        reason,
    })
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn from_json_at(value: &Value, path: String, depth: usize) -> Result<Node, FromJsonError> {
    if depth >= MAX_DEPTH {
        return fail(&path, "nested too deeply");
    }
    let Value::Object(object) = value else {
        return fail(&path, "a node must be an object");
    };
    let tag = match object.get("tag") {
        Some(Value::String(tag)) if !tag.is_empty() => tag.clone(),
        _ => return fail(&join(&path, "tag"), "must be a non-empty string"),
    };
    let mut attrs = Vec::new();
    match object.get("attrs") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            if map.len() > 32766 {
                return fail(&join(&path, "attrs"), "too many attributes");
            }
            for (key, value) in map {
                let Value::String(value) = value else {
                    return fail(&join(&join(&path, "attrs"), key), "must be a string");
                };
                attrs.push((Text::Owned(key.clone()), Text::Owned(value.clone())));
            }
        }
        Some(_) => return fail(&join(&path, "attrs"), "must be an object of strings"),
    }
    let content = match object.get("content") {
        None | Some(Value::Null) => Content::Null,
        Some(Value::String(text)) => Content::Text(Text::Owned(text.clone())),
        Some(Value::Object(map)) => match map.get("base64") {
            Some(Value::String(encoded)) if map.len() == 1 => match BASE64.decode(encoded) {
                Ok(bytes) => Content::Bytes(bytes),
                Err(_) => return fail(&join(&path, "content.base64"), "invalid base64"),
            },
            _ => {
                return fail(
                    &join(&path, "content"),
                    "an object content must be {\"base64\":…}",
                );
            }
        },
        Some(Value::Array(children)) => {
            if children.len() > usize::from(u16::MAX) {
                return fail(&join(&path, "content"), "more than 65535 children");
            }
            let mut nodes = Vec::with_capacity(children.len());
            for (index, child) in children.iter().enumerate() {
                let child_path = format!("{}[{index}]", join(&path, "content"));
                nodes.push(from_json_at(child, child_path, depth + 1)?);
            }
            Content::List(nodes)
        }
        Some(_) => {
            return fail(
                &join(&path, "content"),
                "must be null, a string, {\"base64\":…} or a list",
            );
        }
    };
    Ok(Node {
        tag: Text::Owned(tag),
        attrs,
        content,
    })
}
