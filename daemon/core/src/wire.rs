//! Websocket message framing (PROTOCOL.md 1.2-1.6): message tags, text and binary frames,
//! keepalives, and sealing/opening of encrypted binary payloads.
//!
//! ```text
//! text,   client -> server   1600000000.--0,["admin","init",[2,2142,12],[…],"<clientId>",true]
//! text,   server -> client   s1,["Conn",{…}]      1600000000.--0,      !1600000000123
//! binary, client -> server   TAG "," METRIC FLAGS HMAC32 IV16 CIPHERTEXT
//! binary, server -> client   TAG "," HMAC32 IV16 CIPHERTEXT
//! ```
//!
//! Text and binary are told apart by the websocket opcode, never by content.

use std::fmt;

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
use hmac::Mac;

use crate::crypto::{self, BLOCK, HmacSha256, SessionKeys};

/// The keepalive the client sends every 20 s.
pub const KEEPALIVE: &str = "?,,";

/// Bytes of HMAC and IV in front of every ciphertext.
const MAC_LEN: usize = 32;
const HEADER_LEN: usize = MAC_LEN + BLOCK;

/// Why a websocket message is not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Every frame but a pong needs a tag and a comma.
    #[error("frame has no comma after its message tag")]
    NoComma,
    /// Tags are ASCII.
    #[error("message tag is not ASCII")]
    BadTag,
    /// A pong is `!` and decimal digits.
    #[error("malformed pong {0:?}")]
    BadPong(String),
    /// Shorter than METRIC/FLAGS + HMAC + IV + one block.
    #[error("binary payload too short ({0} bytes)")]
    TooShort(usize),
    /// The HMAC did not match: tampered, or not our keys.
    #[error("frame HMAC mismatch")]
    BadMac,
    /// The ciphertext is not whole blocks or its padding is invalid (after a good HMAC).
    #[error("frame ciphertext or padding is invalid")]
    BadCiphertext,
}

/// A text frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerText<'a> {
    /// `!<ms>`: the answer to a keepalive, with the server's clock.
    Pong(u64),
    /// `TAG,`: an empty acknowledgement; the real answer follows on the same tag.
    EmptyAck(&'a str),
    /// `TAG,JSON`; the JSON is not parsed here.
    Json {
        /// Message tag.
        tag: &'a str,
        /// The JSON text after the comma.
        json: &'a str,
    },
}

/// A text frame from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientText<'a> {
    /// Exactly `?,,`.
    Keepalive,
    /// `TAG,JSON` or `TAG,,JSON`.
    Json {
        /// Message tag.
        tag: &'a str,
        /// The JSON text after the comma(s).
        json: &'a str,
    },
}

fn split_tag(frame: &[u8]) -> Result<(&str, &[u8]), Error> {
    let comma = frame
        .iter()
        .position(|&b| b == b',')
        .ok_or(Error::NoComma)?;
    let tag = std::str::from_utf8(&frame[..comma]).map_err(|_| Error::BadTag)?;
    if !tag.is_ascii() {
        return Err(Error::BadTag);
    }
    Ok((tag, &frame[comma + 1..]))
}

/// Splits a text frame the client received. One extra comma is skipped, as B did.
pub fn parse_server_text(frame: &str) -> Result<ServerText<'_>, Error> {
    if let Some(digits) = frame.strip_prefix('!') {
        return digits
            .parse()
            .map(ServerText::Pong)
            .map_err(|_| Error::BadPong(frame.chars().take(32).collect()));
    }
    let (tag, rest) = split_tag(frame.as_bytes())?;
    let rest = &frame[tag.len() + 1..][..rest.len()];
    let json = rest.strip_prefix(',').unwrap_or(rest);
    if json.is_empty() {
        Ok(ServerText::EmptyAck(tag))
    } else {
        Ok(ServerText::Json { tag, json })
    }
}

/// Splits a text frame a server received.
pub fn parse_client_text(frame: &str) -> Result<ClientText<'_>, Error> {
    if frame == KEEPALIVE {
        return Ok(ClientText::Keepalive);
    }
    let (tag, _) = split_tag(frame.as_bytes())?;
    let rest = &frame[tag.len() + 1..];
    let json = rest.strip_prefix(',').unwrap_or(rest);
    Ok(ClientText::Json { tag, json })
}

/// `TAG,JSON`.
pub fn text_frame(tag: &str, json: &str) -> String {
    let mut frame = String::with_capacity(tag.len() + 1 + json.len());
    frame.push_str(tag);
    frame.push(',');
    frame.push_str(json);
    frame
}

/// The `METRIC` byte of client binary frames (PROTOCOL.md 1.4), by the numbering of S-py and G.
#[allow(missing_docs)]
pub mod metric {
    pub const DEBUG_LOG: u8 = 1;
    pub const QUERY_RESUME: u8 = 2;
    pub const QUERY_RECEIPT: u8 = 3;
    pub const QUERY_MEDIA: u8 = 4;
    pub const QUERY_CHAT: u8 = 5;
    pub const QUERY_CONTACTS: u8 = 6;
    pub const QUERY_MESSAGES: u8 = 7;
    pub const PRESENCE: u8 = 8;
    pub const PRESENCE_SUBSCRIBE: u8 = 9;
    pub const GROUP: u8 = 10;
    pub const READ: u8 = 11;
    pub const CHAT: u8 = 12;
    pub const RECEIVED: u8 = 13;
    pub const PIC: u8 = 14;
    pub const STATUS: u8 = 15;
    pub const MESSAGE: u8 = 16;
    pub const QUERY_ACTIONS: u8 = 17;
    pub const BLOCK: u8 = 18;
    pub const QUERY_GROUP: u8 = 19;
    pub const QUERY_PREVIEW: u8 = 20;
    pub const QUERY_EMOJI: u8 = 21;
    pub const QUERY_MESSAGE_INFO: u8 = 22;
    pub const SPAM: u8 = 23;
    pub const QUERY_SEARCH: u8 = 24;
    pub const QUERY_IDENTITY: u8 = 25;
    pub const QUERY_URL: u8 = 26;
    pub const PROFILE: u8 = 27;
    pub const CONTACT: u8 = 28;
    pub const QUERY_VCARD: u8 = 29;
    pub const QUERY_STATUS: u8 = 30;
    pub const QUERY_STATUS_UPDATE: u8 = 31;
    pub const PRIVACY_STATUS: u8 = 32;
    pub const QUERY_LIVE_LOCATIONS: u8 = 33;
    pub const LIVE_LOCATION: u8 = 34;
    pub const QUERY_VNAME: u8 = 35;
    pub const QUERY_LABELS: u8 = 36;
    pub const CALL: u8 = 37;
    pub const QUERY_CALL: u8 = 38;
    pub const QUERY_QUICK_REPLIES: u8 = 39;
    pub const QUERY_CALL_OFFER: u8 = 40;
    pub const QUERY_RESPONSE: u8 = 41;
    pub const QUERY_STICKER_PACKS: u8 = 42;
    pub const QUERY_STICKERS: u8 = 43;
    pub const ADD_OR_REMOVE_LABELS: u8 = 44;
    pub const QUERY_NEXT_LABEL_COLOR: u8 = 45;
    pub const QUERY_LABEL_PALETTE: u8 = 46;
    pub const CREATE_OR_DELETE_LABELS: u8 = 47;
    pub const EDIT_LABELS: u8 = 48;
}

/// The `FLAGS` bits of client binary frames (PROTOCOL.md 1.4).
#[allow(missing_docs)]
pub mod flags {
    pub const IGNORE: u8 = 0x80;
    pub const ACK_REQUEST: u8 = 0x40;
    pub const AVAILABLE: u8 = 0x20;
    pub const NOT_AVAILABLE: u8 = 0x10;
    pub const EXPIRES: u8 = 0x08;
    pub const SKIP_OFFLINE: u8 = 0x04;
}

/// A client binary frame opened by the server side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientBinary<'a> {
    /// Message tag.
    pub tag: &'a str,
    /// What kind of request the node is; `None` for R's `tag,,` form without the two bytes.
    pub metric: Option<u8>,
    /// Flag bits; `None` like `metric`.
    pub flags: Option<u8>,
    /// The decrypted node bytes.
    pub node: Vec<u8>,
}

/// The session keys, expanded once into the AES key schedule and the keyed HMAC state so that
/// each frame costs only its own bytes.
#[derive(Clone)]
pub struct FrameCipher {
    aes: Aes256,
    mac: HmacSha256,
}

impl fmt::Debug for FrameCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FrameCipher(redacted)")
    }
}

impl FrameCipher {
    /// Prepares the cipher for a session.
    pub fn new(keys: &SessionKeys) -> Self {
        Self {
            aes: Aes256::new(keys.enc.expose().into()),
            mac: crypto::hmac_new(keys.mac.expose()),
        }
    }

    /// `HMAC32 || IV || CIPHERTEXT` of `node` with a random IV.
    pub fn seal(&self, node: &[u8]) -> Vec<u8> {
        let mut iv = [0u8; BLOCK];
        crypto::fill_random(&mut iv);
        let mut out = Vec::with_capacity(HEADER_LEN + node.len() + BLOCK);
        self.seal_into(node, &iv, &mut out);
        out
    }

    /// Appends `HMAC32 || IV || CIPHERTEXT` of `node` with the given IV to `out`.
    pub fn seal_into(&self, node: &[u8], iv: &[u8; BLOCK], out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + MAC_LEN, 0);
        out.extend_from_slice(iv);
        let body = out.len();
        let padded = (node.len() / BLOCK + 1) * BLOCK;
        out.resize(body + padded, 0);
        out[body..body + node.len()].copy_from_slice(node);
        let encryptor = cbc::Encryptor::<&Aes256>::inner_iv_init(&self.aes, iv.into());
        encryptor
            .encrypt_padded::<Pkcs7>(&mut out[body..], node.len())
            .expect("buffer sized for one padding block");
        let mut mac = self.mac.clone();
        mac.update(&out[start + MAC_LEN..]);
        let tag = mac.finalize().into_bytes();
        out[start..start + MAC_LEN].copy_from_slice(&tag);
    }

    /// Verifies and decrypts `HMAC32 || IV || CIPHERTEXT`. The HMAC is checked first.
    pub fn open(&self, protected: &[u8]) -> Result<Vec<u8>, Error> {
        let mut plain = Vec::new();
        let len = self.open_into(protected, &mut plain)?.len();
        plain.truncate(len);
        Ok(plain)
    }

    /// [`open`](Self::open) into a buffer the caller reuses from frame to frame: no allocation
    /// once it has grown to the largest frame. Returns the plaintext, a prefix of `plain`.
    pub fn open_into<'p>(
        &self,
        protected: &[u8],
        plain: &'p mut Vec<u8>,
    ) -> Result<&'p [u8], Error> {
        if protected.len() < HEADER_LEN + BLOCK {
            return Err(Error::TooShort(protected.len()));
        }
        let (tag, signed) = protected.split_at(MAC_LEN);
        let mut mac = self.mac.clone();
        mac.update(signed);
        mac.verify_slice(tag).map_err(|_| Error::BadMac)?;
        let (iv, ciphertext) = signed.split_at(BLOCK);
        if !ciphertext.len().is_multiple_of(BLOCK) {
            return Err(Error::BadCiphertext);
        }
        let iv: &[u8; BLOCK] = iv.try_into().expect("split at BLOCK");
        // Borrowing the key schedule: a clone would copy (and zeroize) both schedules per frame.
        let decryptor = cbc::Decryptor::<&Aes256>::inner_iv_init(&self.aes, iv.into());
        // Sized (not just reserved) so the ciphertext decrypts block to block into it; the
        // zeroing happens only when the buffer grows.
        if plain.len() < ciphertext.len() {
            plain.resize(ciphertext.len(), 0);
        }
        decryptor
            .decrypt_padded_b2b::<Pkcs7>(ciphertext, plain)
            .map_err(|_| Error::BadCiphertext)
    }

    /// A client's binary frame: `TAG,` METRIC FLAGS then the sealed node.
    pub fn seal_client_frame(&self, tag: &str, metric: u8, flags: u8, node: &[u8]) -> Vec<u8> {
        let mut iv = [0u8; BLOCK];
        crypto::fill_random(&mut iv);
        self.seal_client_frame_with_iv(tag, metric, flags, node, &iv)
    }

    /// [`seal_client_frame`](Self::seal_client_frame) with a chosen IV, for reproducible tests.
    pub fn seal_client_frame_with_iv(
        &self,
        tag: &str,
        metric: u8,
        flags: u8,
        node: &[u8],
        iv: &[u8; BLOCK],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(tag.len() + 3 + HEADER_LEN + node.len() + BLOCK);
        out.extend_from_slice(tag.as_bytes());
        out.extend_from_slice(&[b',', metric, flags]);
        self.seal_into(node, iv, &mut out);
        out
    }

    /// A server's binary frame: `TAG,` then the sealed node.
    pub fn seal_server_frame(&self, tag: &str, node: &[u8]) -> Vec<u8> {
        let mut iv = [0u8; BLOCK];
        crypto::fill_random(&mut iv);
        let mut out = Vec::with_capacity(tag.len() + 1 + HEADER_LEN + node.len() + BLOCK);
        out.extend_from_slice(tag.as_bytes());
        out.push(b',');
        self.seal_into(node, &iv, &mut out);
        out
    }

    /// Opens a binary frame the client received: `(tag, node bytes)`.
    ///
    /// No double-comma rule here: the first HMAC byte may be a comma by chance.
    pub fn open_server_frame<'a>(&self, frame: &'a [u8]) -> Result<(&'a str, Vec<u8>), Error> {
        let (tag, protected) = split_tag(frame)?;
        Ok((tag, self.open(protected)?))
    }

    /// [`open_server_frame`](Self::open_server_frame) into a reused buffer, as
    /// [`open_into`](Self::open_into).
    pub fn open_server_frame_into<'a, 'p>(
        &self,
        frame: &'a [u8],
        plain: &'p mut Vec<u8>,
    ) -> Result<(&'a str, &'p [u8]), Error> {
        let (tag, protected) = split_tag(frame)?;
        Ok((tag, self.open_into(protected, plain)?))
    }

    /// Opens a binary frame a client sent. Accepts R's `tag,,` form without METRIC/FLAGS too,
    /// by trying the HMAC at offset 2 first and then, if the first byte is a comma, at offset 1.
    pub fn open_client_frame<'a>(&self, frame: &'a [u8]) -> Result<ClientBinary<'a>, Error> {
        let (tag, rest) = split_tag(frame)?;
        if rest.len() < 2 {
            return Err(Error::TooShort(rest.len()));
        }
        match self.open(&rest[2..]) {
            Ok(node) => Ok(ClientBinary {
                tag,
                metric: Some(rest[0]),
                flags: Some(rest[1]),
                node,
            }),
            Err(error) if rest[0] == b',' => match self.open(&rest[1..]) {
                Ok(node) => Ok(ClientBinary {
                    tag,
                    metric: None,
                    flags: None,
                    node,
                }),
                Err(_) => Err(error),
            },
            Err(error) => Err(error),
        }
    }
}

/// Per-connection message tags in the official client's short form, `<unix s mod 1000>.--<n>`.
#[derive(Debug, Clone)]
pub struct TagCounter {
    prefix: String,
    next: u64,
}

impl TagCounter {
    /// Starts a counter at 0 for a connection opened at `unix_seconds`.
    pub fn new(unix_seconds: u64) -> Self {
        Self {
            prefix: format!("{}.--", unix_seconds % 1000),
            next: 0,
        }
    }

    /// The next tag.
    pub fn next_tag(&mut self) -> String {
        let tag = format!("{}{}", self.prefix, self.next);
        self.next += 1;
        tag
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::crypto::Secret;
    use crate::hex;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../tests/vectors/frames.json")).unwrap()
    }

    fn keys_of(vectors: &Value) -> SessionKeys {
        let key = |name: &str| {
            Secret::from_slice(
                "key",
                &hex::decode(vectors[name].as_str().unwrap()).unwrap(),
            )
            .unwrap()
        };
        SessionKeys {
            enc: key("enc_key"),
            mac: key("mac_key"),
        }
    }

    fn spec_cipher() -> FrameCipher {
        let key = |text: &str| Secret::from_slice("key", &hex::decode(text).unwrap()).unwrap();
        FrameCipher::new(&SessionKeys {
            enc: key("e0e1e2e3e4e5e6e7e8e9eaebecedeeefe0e1e2e3e4e5e6e7e8e9eaebecedeeef"),
            mac: key("101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"),
        })
    }

    #[test]
    fn opens_every_vector_frame_and_refuses_the_bad_ones() {
        let vectors = vectors();
        let cipher = FrameCipher::new(&keys_of(&vectors));
        for case in vectors["frames"].as_array().unwrap() {
            let frame = hex::decode(case["frame"].as_str().unwrap()).unwrap();
            let (tag, node) = cipher.open_server_frame(&frame).unwrap();
            assert_eq!(tag, case["tag"].as_str().unwrap());
            assert_eq!(hex::encode(&node), case["node_bytes"].as_str().unwrap());
        }
        for case in vectors["bad"].as_array().unwrap() {
            let frame = hex::decode(case["frame"].as_str().unwrap()).unwrap();
            let result = cipher.open_server_frame(&frame);
            match case["error"].as_str().unwrap() {
                "hmac" => assert_eq!(result, Err(Error::BadMac), "{}", case["name"]),
                _ => assert!(result.is_err(), "{}", case["name"]),
            }
        }
    }

    #[test]
    fn every_truncation_and_mutation_of_the_vector_frames_is_refused() {
        let vectors = vectors();
        let cipher = FrameCipher::new(&keys_of(&vectors));
        for case in vectors["frames"].as_array().unwrap() {
            let frame = hex::decode(case["frame"].as_str().unwrap()).unwrap();
            for cut in 0..frame.len() {
                assert!(
                    cipher.open_server_frame(&frame[..cut]).is_err(),
                    "cut at {cut}"
                );
            }
            let comma = frame.iter().position(|&b| b == b',').unwrap();
            for index in comma + 1..frame.len() {
                let mut mutated = frame.clone();
                mutated[index] ^= 0x01;
                assert_eq!(
                    cipher.open_server_frame(&mutated),
                    Err(Error::BadMac),
                    "byte {index}"
                );
            }
        }
    }

    /// PROTOCOL.md section 14: the frame-crypto vector, both directions.
    #[test]
    fn frame_crypto_vector_of_section_14() {
        let cipher = spec_cipher();
        let node = hex::decode("f805445b136bfc0131").unwrap();
        let iv: [u8; 16] = hex::decode("000102030405060708090a0b0c0d0e0f")
            .unwrap()
            .try_into()
            .unwrap();
        let frame = cipher.seal_client_frame_with_iv("1600000000.--0", 5, 0x80, &node, &iv);
        assert_eq!(
            hex::encode(&frame),
            "313630303030303030302e2d2d302c0580edb789060d52a205db13a7dd659fe78e4a9f21aba26b4a21de96\
             c16560ad9edf000102030405060708090a0b0c0d0e0f274d31d8d33039e1b85b9ec8b9476dc3"
        );
        let opened = cipher.open_client_frame(&frame).unwrap();
        assert_eq!(
            opened,
            ClientBinary {
                tag: "1600000000.--0",
                metric: Some(5),
                flags: Some(0x80),
                node: node.clone()
            }
        );
        // The server's form is the same without the two bytes.
        let mut server = b"preempt-1600000000-1,".to_vec();
        server.extend_from_slice(&frame[17..]);
        assert_eq!(
            cipher.open_server_frame(&server).unwrap(),
            ("preempt-1600000000-1", node.clone())
        );
        // R's `tag,,` form without METRIC/FLAGS is accepted by the server side.
        let mut double_comma = b"t1,,".to_vec();
        double_comma.extend_from_slice(&frame[17..]);
        let opened = cipher.open_client_frame(&double_comma).unwrap();
        assert_eq!((opened.metric, opened.node), (None, node));
    }

    #[test]
    fn seal_open_round_trip_and_tampering() {
        let cipher = spec_cipher();
        for len in [0, 1, 15, 16, 17, 250, 4096] {
            let node = vec![0xa5; len];
            let frame = cipher.seal_server_frame("s1", &node);
            assert_eq!(
                cipher.open_server_frame(&frame).unwrap(),
                ("s1", node.clone())
            );
            for index in [3, 3 + 31, 3 + 32, frame.len() - 1] {
                let mut bad = frame.clone();
                bad[index] ^= 1;
                assert_eq!(
                    cipher.open_server_frame(&bad),
                    Err(Error::BadMac),
                    "{len} {index}"
                );
            }
            for cut in [3, 3 + 47, 3 + 48, frame.len() - 1] {
                assert!(cipher.open_server_frame(&frame[..cut]).is_err());
            }
        }
        let other = FrameCipher::new(&SessionKeys::random());
        assert_eq!(
            other.open_server_frame(&cipher.seal_server_frame("x", b"n")),
            Err(Error::BadMac)
        );
        assert_eq!(cipher.open_server_frame(b"nocomma"), Err(Error::NoComma));
        assert_eq!(cipher.open_client_frame(b"t,"), Err(Error::TooShort(0)));
        assert!(format!("{cipher:?}").contains("redacted"));
    }

    #[test]
    fn text_grammar() {
        assert_eq!(
            parse_server_text("!1481799299025"),
            Ok(ServerText::Pong(1_481_799_299_025))
        );
        assert!(matches!(parse_server_text("!12a"), Err(Error::BadPong(_))));
        assert_eq!(
            parse_server_text("371.--7,"),
            Ok(ServerText::EmptyAck("371.--7"))
        );
        assert_eq!(
            parse_server_text("s1,[\"Conn\",{}]"),
            Ok(ServerText::Json {
                tag: "s1",
                json: "[\"Conn\",{}]"
            })
        );
        assert_eq!(
            parse_server_text("t,,{\"status\":200}"),
            Ok(ServerText::Json {
                tag: "t",
                json: "{\"status\":200}"
            })
        );
        assert_eq!(parse_server_text("notag"), Err(Error::NoComma));
        assert_eq!(parse_server_text("é,[]"), Err(Error::BadTag));
        assert_eq!(parse_client_text("?,,"), Ok(ClientText::Keepalive));
        assert_eq!(
            parse_client_text("goodbye,,[\"admin\",\"Conn\",\"disconnect\"]"),
            Ok(ClientText::Json {
                tag: "goodbye",
                json: "[\"admin\",\"Conn\",\"disconnect\"]"
            })
        );
        assert_eq!(text_frame("1.--0", "[]"), "1.--0,[]");
        let mut tags = TagCounter::new(1_600_000_371);
        assert_eq!(
            (tags.next_tag(), tags.next_tag()),
            ("371.--0".into(), "371.--1".into())
        );
    }
}
