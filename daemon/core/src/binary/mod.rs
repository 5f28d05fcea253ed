//! The binary node format of encrypted frames ("WABinary" with the legacy dictionary,
//! PROTOCOL.md section 7), in both directions.
//!
//! A node is `[description, attributes, content]`; in JSON (DESIGN.md section 4) it is
//! `{"tag":"query","attrs":{"type":"chat","epoch":"1"},"content":null}`, whose bytes are
//! `f8 05 44 5b 13 6b fc 01 31`.
//!
//! The decoder is total: whatever the bytes, it returns a node or an [`Error`] naming the offset,
//! never panics, never recurses deeper than [`MAX_DEPTH`] and never allocates more than the input
//! could fill. The encoder writes what the official client wrote (7.7).

mod decode;
mod encode;
mod json;
pub mod token;

use std::borrow::Cow;

pub use decode::decode;
pub use encode::{encode, encode_into};
pub use json::{FromJsonError, write_json_str};

/// Text in a node: tokens borrow the static dictionary, everything else owns its bytes.
pub type Text = Cow<'static, str>;

/// The deepest nesting of lists (and JID parts) the decoder follows; real traffic needs four.
pub const MAX_DEPTH: usize = 64;

/// Longest string that NIBBLE_8 / HEX_8 can pack (127 bytes of two characters each).
pub const PACKED_MAX: usize = 254;

/// One node of the binary format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The description, e.g. `action`, `message`, `query`.
    pub tag: Text,
    /// Attributes in wire order; values are always strings.
    pub attrs: Vec<(Text, Text)>,
    /// What follows the attributes.
    pub content: Content,
}

/// The content of a node. On the wire `Null` is no content at all, `List(vec![])` is LIST_EMPTY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// No content (the node's list size is odd).
    Null,
    /// Child nodes.
    List(Vec<Node>),
    /// Raw bytes (BINARY_8/20/32), e.g. a protobuf `WebMessageInfo`.
    Bytes(Vec<u8>),
    /// A string written as a token, a JID or a packed string.
    Text(Text),
}

impl Node {
    /// A node with no attributes and no content.
    pub fn new(tag: impl Into<Text>) -> Self {
        Self {
            tag: tag.into(),
            attrs: Vec::new(),
            content: Content::Null,
        }
    }

    /// Adds an attribute (builder style).
    pub fn attr(mut self, key: impl Into<Text>, value: impl Into<Text>) -> Self {
        self.attrs.push((key.into(), value.into()));
        self
    }

    /// Sets the content (builder style).
    pub fn with_content(mut self, content: Content) -> Self {
        self.content = content;
        self
    }

    /// The value of the first attribute named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_ref())
    }

    /// The child nodes, or an empty slice when the content is not a list.
    pub fn children(&self) -> &[Node] {
        match &self.content {
            Content::List(children) => children,
            _ => &[],
        }
    }

    /// The content as bytes, whether it was written raw or as a string.
    pub fn content_bytes(&self) -> Option<&[u8]> {
        match &self.content {
            Content::Bytes(bytes) => Some(bytes),
            Content::Text(text) => Some(text.as_bytes()),
            Content::Null | Content::List(_) => None,
        }
    }
}

/// Byte values with a meaning of their own (PROTOCOL.md 7.1).
pub mod tag {
    /// A list of size 0; as a string, null.
    pub const LIST_EMPTY: u8 = 0;
    /// Invalid as a node description.
    pub const STREAM_END: u8 = 2;
    /// First of the four double-byte dictionary tags.
    pub const DICTIONARY_0: u8 = 236;
    /// Last of the four double-byte dictionary tags.
    pub const DICTIONARY_3: u8 = 239;
    /// Agent/device JID of the multi-device transition.
    pub const JID_AD: u8 = 247;
    /// A list whose size is the next byte.
    pub const LIST_8: u8 = 248;
    /// A list whose size is the next two bytes.
    pub const LIST_16: u8 = 249;
    /// A JID: user string, then server string.
    pub const JID_PAIR: u8 = 250;
    /// Packed uppercase hex string.
    pub const HEX_8: u8 = 251;
    /// Bytes whose length is the next byte.
    pub const BINARY_8: u8 = 252;
    /// Bytes whose length is the next three bytes (20 bits).
    pub const BINARY_20: u8 = 253;
    /// Bytes whose length is the next four bytes.
    pub const BINARY_32: u8 = 254;
    /// Packed decimal string (digits, `-`, `.`).
    pub const NIBBLE_8: u8 = 255;
}

/// Why bytes are not a node; `offset` is where the decoder stood when it gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at offset {offset}")]
pub struct Error {
    /// Byte offset into the node's bytes.
    pub offset: usize,
    /// What was wrong there.
    pub kind: ErrorKind,
}

/// The ways node bytes can be malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The input ends before a value it announced.
    #[error("unexpected end of input (needed {needed} more bytes)")]
    UnexpectedEnd {
        /// How many bytes were missing.
        needed: usize,
    },
    /// A node must start with LIST_EMPTY, LIST_8 or LIST_16.
    #[error("invalid list tag 0x{0:02x}")]
    InvalidListTag(u8),
    /// STREAM_END where a description was expected.
    #[error("unexpected stream end")]
    StreamEnd,
    /// A list size of zero, or a null or empty description.
    #[error("invalid node (empty list or null description)")]
    InvalidNode,
    /// A byte that starts no string.
    #[error("invalid string tag 0x{0:02x}")]
    InvalidStringTag(u8),
    /// A single-byte token beyond the dictionary.
    #[error("undefined token {0}")]
    UndefinedToken(u8),
    /// The double-byte dictionaries are empty in the legacy protocol.
    #[error("double-byte token {dictionary}/{index} (the legacy dictionaries are empty)")]
    DictionaryToken {
        /// Which of DICTIONARY_0..3.
        dictionary: u8,
        /// The byte after the tag.
        index: u8,
    },
    /// A nibble of 12..=14, or the padding nibble where a character belongs.
    #[error("invalid packed nibble {0}")]
    InvalidNibble(u8),
    /// A string that is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A JID pair whose server part is null.
    #[error("JID without a server part")]
    NullJidServer,
    /// An attribute key that is null.
    #[error("null attribute key")]
    NullAttributeKey,
    /// Nesting beyond [`MAX_DEPTH`].
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
}

#[cfg(test)]
mod tests;
