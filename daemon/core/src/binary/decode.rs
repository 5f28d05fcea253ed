//! Bytes to [`Node`] (PROTOCOL.md 7.4-7.6).

use std::borrow::Cow;

use super::{Content, Error, ErrorKind, MAX_DEPTH, Node, PACKED_MAX, Text, tag, token};

/// Decodes the node at the start of `bytes`; trailing bytes are ignored, as every client did.
pub fn decode(bytes: &[u8]) -> Result<Node, Error> {
    Reader { bytes, pos: 0 }.node(0)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, offset: usize, kind: ErrorKind) -> Result<T, Error> {
        Err(Error { offset, kind })
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        if len > self.remaining() {
            return self.fail(
                self.pos,
                ErrorKind::UnexpectedEnd {
                    needed: len - self.remaining(),
                },
            );
        }
        let slice = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn int(&mut self, len: usize) -> Result<usize, Error> {
        Ok(self
            .take(len)?
            .iter()
            .fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte)))
    }

    fn int20(&mut self) -> Result<usize, Error> {
        Ok(self.int(3)? & 0x0f_ffff)
    }

    fn list_size(&mut self, tag_byte: u8, at: usize) -> Result<usize, Error> {
        match tag_byte {
            tag::LIST_EMPTY => Ok(0),
            tag::LIST_8 => Ok(usize::from(self.byte()?)),
            tag::LIST_16 => self.int(2),
            other => self.fail(at, ErrorKind::InvalidListTag(other)),
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, Error> {
        let start = self.pos;
        if depth >= MAX_DEPTH {
            return self.fail(start, ErrorKind::TooDeep);
        }
        let list_tag = self.byte()?;
        let size = self.list_size(list_tag, start)?;
        let description_at = self.pos;
        let description_tag = self.byte()?;
        if description_tag == tag::STREAM_END {
            return self.fail(description_at, ErrorKind::StreamEnd);
        }
        let description = self.string(description_tag, description_at, depth)?;
        let description = match description {
            Some(text) if size > 0 && !text.is_empty() => text,
            _ => return self.fail(description_at, ErrorKind::InvalidNode),
        };

        let attr_count = (size - 1) >> 1;
        // Each attribute needs at least two bytes, so the input bounds the allocation.
        let mut attrs = Vec::with_capacity(attr_count.min(self.remaining() / 2));
        for _ in 0..attr_count {
            let key_at = self.pos;
            let key_tag = self.byte()?;
            let Some(key) = self.string(key_tag, key_at, depth)? else {
                return self.fail(key_at, ErrorKind::NullAttributeKey);
            };
            let value_at = self.pos;
            let value_tag = self.byte()?;
            // A null value means the attribute is absent (what writers do with unset values).
            if let Some(value) = self.string(value_tag, value_at, depth)? {
                attrs.push((key, value));
            }
        }

        let content = if size % 2 == 1 {
            Content::Null
        } else {
            self.content(depth)?
        };
        Ok(Node {
            tag: description,
            attrs,
            content,
        })
    }

    fn content(&mut self, depth: usize) -> Result<Content, Error> {
        let at = self.pos;
        let content_tag = self.byte()?;
        match content_tag {
            tag::LIST_EMPTY | tag::LIST_8 | tag::LIST_16 => {
                let count = self.list_size(content_tag, at)?;
                // A child node is at least two bytes long.
                let mut children = Vec::with_capacity(count.min(self.remaining() / 2));
                for _ in 0..count {
                    children.push(self.node(depth + 1)?);
                }
                Ok(Content::List(children))
            }
            tag::BINARY_8 | tag::BINARY_20 | tag::BINARY_32 => {
                Ok(Content::Bytes(self.binary(content_tag)?.to_vec()))
            }
            other => match self.string(other, at, depth)? {
                Some(text) => Ok(Content::Text(text)),
                None => Ok(Content::Null),
            },
        }
    }

    fn binary(&mut self, length_tag: u8) -> Result<&'a [u8], Error> {
        let len = match length_tag {
            tag::BINARY_8 => usize::from(self.byte()?),
            tag::BINARY_20 => self.int20()?,
            _ => self.int(4)?,
        };
        self.take(len)
    }

    /// Reads a string that starts with `string_tag` (read at offset `at`); `None` is null.
    fn string(&mut self, string_tag: u8, at: usize, depth: usize) -> Result<Option<Text>, Error> {
        match string_tag {
            tag::LIST_EMPTY => Ok(None),
            3..=235 => match token::lookup(string_tag) {
                Some(token) => Ok(Some(Cow::Borrowed(token))),
                None => self.fail(at, ErrorKind::UndefinedToken(string_tag)),
            },
            tag::DICTIONARY_0..=tag::DICTIONARY_3 => {
                let index = self.byte()?;
                self.fail(
                    at,
                    ErrorKind::DictionaryToken {
                        dictionary: string_tag - tag::DICTIONARY_0,
                        index,
                    },
                )
            }
            tag::BINARY_8 | tag::BINARY_20 | tag::BINARY_32 => {
                let bytes_at = self.pos;
                let bytes = self.binary(string_tag)?;
                match std::str::from_utf8(bytes) {
                    Ok(text) => Ok(Some(Cow::Owned(text.to_owned()))),
                    Err(_) => self.fail(bytes_at, ErrorKind::InvalidUtf8),
                }
            }
            tag::JID_PAIR => self.jid_pair(at, depth).map(Some),
            tag::JID_AD => self.jid_ad(depth).map(Some),
            tag::NIBBLE_8 | tag::HEX_8 => {
                self.packed(string_tag).map(|text| Some(Cow::Owned(text)))
            }
            other => self.fail(at, ErrorKind::InvalidStringTag(other)),
        }
    }

    fn nested_string(&mut self, depth: usize) -> Result<Option<Text>, Error> {
        let at = self.pos;
        if depth + 1 >= MAX_DEPTH {
            return self.fail(at, ErrorKind::TooDeep);
        }
        let string_tag = self.byte()?;
        self.string(string_tag, at, depth + 1)
    }

    fn jid_pair(&mut self, at: usize, depth: usize) -> Result<Text, Error> {
        let user = self.nested_string(depth)?;
        let server = self.nested_string(depth)?;
        match (user, server) {
            (_, None) => self.fail(at, ErrorKind::NullJidServer),
            // The official reader returns the server alone for an empty user part (7.6).
            (None, Some(server)) => Ok(server),
            (Some(user), Some(server)) => {
                let mut jid = String::with_capacity(user.len() + 1 + server.len());
                jid.push_str(&user);
                jid.push('@');
                jid.push_str(&server);
                Ok(Cow::Owned(jid))
            }
        }
    }

    fn jid_ad(&mut self, depth: usize) -> Result<Text, Error> {
        let agent = self.byte()?;
        let device = self.byte()?;
        let user = self.nested_string(depth)?.unwrap_or_default();
        if user.is_empty() {
            // Like a JID pair with an empty user: the server alone.
            return Ok(Cow::Borrowed("s.whatsapp.net"));
        }
        let mut jid = user.into_owned();
        if agent != 0 {
            jid.push('.');
            jid.push_str(&agent.to_string());
        }
        if device != 0 {
            jid.push(':');
            jid.push_str(&device.to_string());
        }
        // The official reader wrote `@c.us`; token 80 reads as `s.whatsapp.net` here, so the
        // same account has one spelling whichever way it was encoded.
        jid.push_str("@s.whatsapp.net");
        Ok(Cow::Owned(jid))
    }

    fn packed(&mut self, packing: u8) -> Result<String, Error> {
        let header = self.byte()?;
        let count = usize::from(header & 0x7f);
        let odd = header & 0x80 != 0;
        let start = self.pos;
        let packed = self.take(count)?;
        let mut text = String::with_capacity((count * 2).min(PACKED_MAX));
        let last = count * 2;
        for (index, byte) in packed.iter().enumerate() {
            for (half, nibble) in [(0, byte >> 4), (1, byte & 0x0f)] {
                let position = index * 2 + half;
                if odd && position == last - 1 {
                    // The padding nibble carries no character; readers drop it unread.
                    continue;
                }
                let character = match (packing, nibble) {
                    (tag::NIBBLE_8, 0..=9) => char::from(b'0' + nibble),
                    (tag::NIBBLE_8, 10) => '-',
                    (tag::NIBBLE_8, 11) => '.',
                    (tag::HEX_8, 0..=9) => char::from(b'0' + nibble),
                    (tag::HEX_8, 10..=15) => char::from(b'A' + nibble - 10),
                    _ => return self.fail(start + index, ErrorKind::InvalidNibble(nibble)),
                };
                text.push(character);
            }
        }
        Ok(text)
    }
}
