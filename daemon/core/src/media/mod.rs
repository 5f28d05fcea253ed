//! End-to-end encrypted media attachments (PROTOCOL.md section 10), as pure state machines.
//!
//! A media body is `enc || mac`: AES-256-CBC ciphertext of the PKCS#7-padded plaintext, then the
//! first 10 bytes of `HMAC-SHA256(macKey, iv || enc)`. Files can be gigabytes, so nothing here
//! wants the whole body in memory: [`Decryptor`] and [`Encryptor`] take chunks of any size and
//! keep at most a few blocks of their own. The MAC and the cipher are also offered as separate
//! halves ([`BodyMac`], [`BlockDecryptor`]) so that an IO layer can run them on different cores.
//!
//! Plaintext that a streaming decryptor hands out before [`Decryptor::finish`] has returned `Ok`
//! is unauthenticated: callers must hold it back (the IO layer writes it to a temporary file) and
//! discard it on any error. The one-shot [`decrypt`] checks the MAC before decrypting anything.

use std::fmt;
use std::str::FromStr;

use aes::Aes256;
use cbc::cipher::consts::U16;
use cbc::cipher::{Array, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::Mac;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::crypto::{BLOCK, HmacSha256, Secret, constant_time_eq, hkdf, hmac_new};

pub mod mime;
pub mod upload;

/// Length of the truncated HMAC at the end of every body.
pub const MAC_LEN: usize = 10;

/// Length of a media key, before expansion.
pub const MEDIA_KEY_LEN: usize = 32;

/// Bytes a streaming decryptor must keep back from the end of what it has seen: the MAC and the
/// last cipher block, which carries the padding and may only be opened once the MAC is checked.
pub const HOLD_BACK: usize = MAC_LEN + BLOCK;

/// The most a streaming reader ever carries over between chunks: [`HOLD_BACK`] plus a partial
/// block.
pub const CARRY_MAX: usize = HOLD_BACK + BLOCK - 1;

/// Distance between the windows of the streaming sidecar (PROTOCOL.md 10.4).
pub const SIDECAR_WINDOW: u64 = 64 * 1024;

/// Why media could not be decrypted, verified or encrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The media key is not 32 bytes.
    #[error("media key must be {MEDIA_KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    /// The media type is not one of the five the protocol knows.
    #[error("unknown media type {0:?} (expected image, video, audio, document or sticker)")]
    UnknownType(String),
    /// A sidecar was asked for a type that never has one.
    #[error("{0} media has no streaming sidecar (only video and audio do)")]
    NoSidecar(MediaType),
    /// The body cannot be `enc || mac`: too short, or the ciphertext is not whole blocks.
    #[error(
        "media body of {0} bytes is truncated: expected whole 16-byte cipher blocks and a 10-byte MAC"
    )]
    Truncated(u64),
    /// The body goes on past the longest `enc || mac` the announced `fileLength` allows: read
    /// no further (a broken or hostile host could send without end).
    #[error("media body is longer than the {limit} bytes a fileLength of {file_length} allows")]
    TooLong {
        /// The announced plaintext length.
        file_length: u64,
        /// The longest body for that length.
        limit: u64,
    },
    /// The truncated HMAC did not match.
    #[error("media MAC mismatch: the body was altered or the key or media type is wrong")]
    Mac,
    /// The MAC was good but the PKCS#7 padding is not: the sender encrypted it wrongly.
    #[error("media padding is invalid although the MAC matched")]
    Padding,
    /// The plaintext does not hash to the expected `fileSha256`.
    #[error("media fileSha256 mismatch: the plaintext is not the announced file")]
    FileSha256,
    /// The body does not hash to the expected `fileEncSha256`.
    #[error("media fileEncSha256 mismatch: the body is not the announced upload")]
    FileEncSha256,
    /// The plaintext is not `fileLength` bytes long.
    #[error("media fileLength mismatch: expected {expected} bytes, got {actual}")]
    FileLength {
        /// The announced length.
        expected: u64,
        /// The length that decrypted.
        actual: u64,
    },
}

/// The five kinds of attachment; each selects the HKDF info string of its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `imageMessage`.
    Image,
    /// `videoMessage`, GIFs included.
    Video,
    /// `audioMessage`, voice notes included.
    Audio,
    /// `documentMessage`.
    Document,
    /// `stickerMessage`; shares the image keys.
    Sticker,
}

impl MediaType {
    /// Every type, in the order of the protocol's table.
    pub const ALL: [MediaType; 5] = [
        MediaType::Image,
        MediaType::Video,
        MediaType::Audio,
        MediaType::Document,
        MediaType::Sticker,
    ];

    /// The lowercase name used on command lines and in upload paths.
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Video => "video",
            MediaType::Audio => "audio",
            MediaType::Document => "document",
            MediaType::Sticker => "sticker",
        }
    }

    /// The HKDF info string (PROTOCOL.md 10.1).
    pub fn info(self) -> &'static [u8] {
        match self {
            MediaType::Image | MediaType::Sticker => b"WhatsApp Image Keys",
            MediaType::Video => b"WhatsApp Video Keys",
            MediaType::Audio => b"WhatsApp Audio Keys",
            MediaType::Document => b"WhatsApp Document Keys",
        }
    }

    /// Whether messages of this type can carry a `streamingSidecar` (PROTOCOL.md 10.4).
    pub fn has_sidecar(self) -> bool {
        matches!(self, MediaType::Video | MediaType::Audio)
    }
}

/// The keys of the message type an attachment came in.
impl From<waweb_proto::message::MediaKind> for MediaType {
    fn from(kind: waweb_proto::message::MediaKind) -> Self {
        use waweb_proto::message::MediaKind;
        match kind {
            MediaKind::Image => MediaType::Image,
            MediaKind::Video => MediaType::Video,
            MediaKind::Audio => MediaType::Audio,
            MediaKind::Document => MediaType::Document,
            MediaKind::Sticker => MediaType::Sticker,
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MediaType {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        MediaType::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| Error::UnknownType(text.to_owned()))
    }
}

/// The expanded keys of one media file (PROTOCOL.md 10.1).
///
/// All four parts come from the media key, so all four are secret, the IV included.
#[derive(Clone)]
pub struct MediaKeys {
    kind: MediaType,
    iv: Secret<BLOCK>,
    cipher_key: Secret<32>,
    mac_key: Secret<32>,
    ref_key: Secret<32>,
}

impl MediaKeys {
    /// Expands a 32-byte media key with the info string of `kind`.
    pub fn derive(media_key: &[u8], kind: MediaType) -> Result<Self, Error> {
        if media_key.len() != MEDIA_KEY_LEN {
            return Err(Error::KeyLength(media_key.len()));
        }
        let mut bytes = [0u8; 112];
        hkdf(media_key, kind.info(), &mut bytes);
        let expanded = Secret::new(bytes);
        bytes.zeroize();
        let all = expanded.expose();
        Ok(Self {
            kind,
            iv: part(all, 0),
            cipher_key: part(all, 16),
            mac_key: part(all, 48),
            ref_key: part(all, 80),
        })
    }

    /// The type the keys were expanded for.
    pub fn kind(&self) -> MediaType {
        self.kind
    }

    /// The CBC IV, which is also the first thing the MAC covers.
    pub fn iv(&self) -> &[u8; BLOCK] {
        self.iv.expose()
    }

    /// The AES-256 key.
    pub fn cipher_key(&self) -> &[u8; 32] {
        self.cipher_key.expose()
    }

    /// The HMAC-SHA256 key of the body and of the sidecar.
    pub fn mac_key(&self) -> &[u8; 32] {
        self.mac_key.expose()
    }

    /// The fourth part of the expansion, unused by the legacy protocol; kept for completeness.
    pub fn ref_key(&self) -> &[u8; 32] {
        self.ref_key.expose()
    }

    fn keyed_mac(&self) -> HmacSha256 {
        let mut mac = hmac_new(self.mac_key());
        mac.update(self.iv());
        mac
    }
}

/// Copies `N` bytes at `at` into their own secret, wiping the stack copy.
fn part<const N: usize>(all: &[u8; 112], at: usize) -> Secret<N> {
    let mut bytes = [0u8; N];
    bytes.copy_from_slice(&all[at..at + N]);
    let secret = Secret::new(bytes);
    bytes.zeroize();
    secret
}

impl fmt::Debug for MediaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MediaKeys({}, redacted)", self.kind)
    }
}

/// What a message announces about its attachment; every check is optional because older
/// messages omit some of the fields and each hash costs a pass over the data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// SHA-256 of the plaintext.
    pub file_sha256: Option<[u8; 32]>,
    /// SHA-256 of the whole body, `enc || mac`.
    pub file_enc_sha256: Option<[u8; 32]>,
    /// Length of the plaintext.
    pub file_length: Option<u64>,
}

impl Expected {
    /// The longest body (`enc || mac`) the announced `fileLength` allows: the plaintext with its
    /// PKCS#7 padding (1 to 16 bytes) and the 10-byte MAC; `None` without a length.
    ///
    /// ```
    /// let expected = waweb_core::media::Expected { file_length: Some(32), ..Default::default() };
    /// assert_eq!(expected.max_body_len(), Some(48 + 10));
    /// ```
    pub fn max_body_len(&self) -> Option<u64> {
        self.file_length
            .map(|length| (length / 16 + 1).saturating_mul(16).saturating_add(10))
    }

    /// Compares a plaintext length with `fileLength`, if one was announced.
    pub fn check_length(&self, actual: u64) -> Result<(), Error> {
        match self.file_length {
            Some(expected) if expected != actual => Err(Error::FileLength { expected, actual }),
            _ => Ok(()),
        }
    }

    /// Compares a plaintext digest with `fileSha256`, if one was announced.
    pub fn check_file_sha256(&self, digest: &[u8; 32]) -> Result<(), Error> {
        match &self.file_sha256 {
            Some(expected) if !constant_time_eq(expected, digest) => Err(Error::FileSha256),
            _ => Ok(()),
        }
    }

    /// Compares a body digest with `fileEncSha256`, if one was announced.
    pub fn check_file_enc_sha256(&self, digest: &[u8; 32]) -> Result<(), Error> {
        match &self.file_enc_sha256 {
            Some(expected) if !constant_time_eq(expected, digest) => Err(Error::FileEncSha256),
            _ => Ok(()),
        }
    }
}

/// How many leading bytes of `buffered` unconsumed body bytes can be authenticated and
/// decrypted now, without knowing where the body ends: whole blocks, leaving [`HOLD_BACK`].
pub fn releasable(buffered: usize) -> usize {
    buffered.saturating_sub(HOLD_BACK) / BLOCK * BLOCK
}

/// Splits what is left of a body at its end into the final cipher blocks and the MAC tag.
///
/// `tail` is everything not yet released; `body_len` the length of the whole body, for the
/// error message.
pub fn split_tail(tail: &[u8], body_len: u64) -> Result<(&[u8], &[u8; MAC_LEN]), Error> {
    let Some(enc_len) = tail.len().checked_sub(MAC_LEN) else {
        return Err(Error::Truncated(body_len));
    };
    if enc_len == 0 || !enc_len.is_multiple_of(BLOCK) {
        return Err(Error::Truncated(body_len));
    }
    let (enc, tag) = tail.split_at(enc_len);
    let tag = tag.try_into().map_err(|_| Error::Truncated(body_len))?;
    Ok((enc, tag))
}

fn as_blocks(buf: &mut [u8]) -> &mut [Array<u8, U16>] {
    Array::<u8, U16>::slice_as_chunks_mut(buf).0
}

/// The authenticating half of decryption: HMAC over `iv || enc`.
pub struct BodyMac {
    mac: HmacSha256,
}

impl BodyMac {
    /// A MAC already fed the IV.
    pub fn new(keys: &MediaKeys) -> Self {
        Self {
            mac: keys.keyed_mac(),
        }
    }

    /// Feeds ciphertext, in order, in pieces of any size.
    pub fn update(&mut self, enc: &[u8]) {
        self.mac.update(enc);
    }

    /// Checks the body's 10-byte tag in constant time.
    pub fn verify(self, tag: &[u8; MAC_LEN]) -> Result<(), Error> {
        self.mac.verify_truncated_left(tag).map_err(|_| Error::Mac)
    }
}

/// The deciphering half of decryption: AES-256-CBC in place, whole blocks at a time.
pub struct BlockDecryptor {
    cbc: cbc::Decryptor<Aes256>,
}

impl BlockDecryptor {
    /// A decryptor at the start of a body.
    pub fn new(keys: &MediaKeys) -> Self {
        Self {
            cbc: cbc::Decryptor::<Aes256>::new(keys.cipher_key().into(), keys.iv().into()),
        }
    }

    /// Decrypts whole blocks in place; none of them may be the body's last block.
    pub fn decrypt<'a>(&mut self, blocks: &'a mut [u8]) -> Result<&'a [u8], Error> {
        if !blocks.len().is_multiple_of(BLOCK) {
            return Err(Error::Truncated(blocks.len() as u64));
        }
        self.cbc.decrypt_blocks(as_blocks(blocks));
        Ok(blocks)
    }

    /// Decrypts the remaining blocks in place, the last one included, and strips the padding.
    ///
    /// Call it only after the MAC has been verified, so that padding errors can never serve as an
    /// oracle about forged bodies.
    pub fn decrypt_last(mut self, blocks: &mut [u8]) -> Result<&[u8], Error> {
        if blocks.is_empty() || !blocks.len().is_multiple_of(BLOCK) {
            return Err(Error::Truncated(blocks.len() as u64));
        }
        self.cbc.decrypt_blocks(as_blocks(blocks));
        let pad = usize::from(blocks[blocks.len() - 1]);
        if pad == 0
            || pad > BLOCK
            || blocks[blocks.len() - pad..]
                .iter()
                .any(|&b| usize::from(b) != pad)
        {
            return Err(Error::Padding);
        }
        let len = blocks.len() - pad;
        Ok(&blocks[..len])
    }
}

/// A streaming decryptor: feed the body in chunks of any size, then [`finish`](Self::finish).
///
/// It keeps back the last block and the MAC (at most [`CARRY_MAX`] bytes), so memory stays
/// bounded by the caller's chunk size whatever the length of the body.
pub struct Decryptor {
    mac: BodyMac,
    cipher: BlockDecryptor,
    expected: Expected,
    plain_sha: Option<Sha256>,
    body_sha: Option<Sha256>,
    held: [u8; CARRY_MAX],
    held_len: usize,
    body_len: u64,
    plain_len: u64,
}

impl Decryptor {
    /// A decryptor that will also check whatever `expected` announces.
    pub fn new(keys: &MediaKeys, expected: Expected) -> Self {
        Self {
            mac: BodyMac::new(keys),
            cipher: BlockDecryptor::new(keys),
            plain_sha: expected.file_sha256.map(|_| Sha256::new()),
            body_sha: expected.file_enc_sha256.map(|_| Sha256::new()),
            expected,
            held: [0; CARRY_MAX],
            held_len: 0,
            body_len: 0,
            plain_len: 0,
        }
    }

    /// Feeds the next piece of the body and appends the plaintext it releases to `out`.
    ///
    /// The plaintext is not authenticated until [`finish`](Self::finish) returns `Ok`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) {
        self.body_len += input.len() as u64;
        if let Some(sha) = &mut self.body_sha {
            sha.update(input);
        }
        let total = self.held_len + input.len();
        let ready = releasable(total);
        if ready == 0 {
            self.held[self.held_len..total].copy_from_slice(input);
            self.held_len = total;
            return;
        }
        let start = out.len();
        if ready <= self.held_len {
            out.extend_from_slice(&self.held[..ready]);
            self.held.copy_within(ready..self.held_len, 0);
            let kept = self.held_len - ready;
            self.held[kept..kept + input.len()].copy_from_slice(input);
            self.held_len = kept + input.len();
        } else {
            let from_input = ready - self.held_len;
            out.extend_from_slice(&self.held[..self.held_len]);
            out.extend_from_slice(&input[..from_input]);
            let rest = &input[from_input..];
            self.held[..rest.len()].copy_from_slice(rest);
            self.held_len = rest.len();
        }
        let enc = &mut out[start..];
        self.mac.update(enc);
        // Whole blocks by construction of `releasable`, so this cannot fail.
        if let Ok(plain) = self.cipher.decrypt(enc) {
            if let Some(sha) = &mut self.plain_sha {
                sha.update(plain);
            }
            self.plain_len += plain.len() as u64;
        }
    }

    /// Verifies the MAC, then releases the last plaintext bytes into `out` and checks the
    /// announced hashes and length. Returns the plaintext length.
    ///
    /// On error nothing more is appended, and everything appended before must be discarded.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<u64, Error> {
        let tail = &mut self.held[..self.held_len];
        let (enc, tag) = split_tail(tail, self.body_len)?;
        let tag = *tag;
        self.mac.update(enc);
        self.mac.verify(&tag)?;
        if let Some(sha) = self.body_sha.take() {
            self.expected
                .check_file_enc_sha256(&sha.finalize().into())?;
        }
        let enc_len = self.held_len - MAC_LEN;
        let plain = self.cipher.decrypt_last(&mut self.held[..enc_len])?;
        let plain_len = self.plain_len + plain.len() as u64;
        self.expected.check_length(plain_len)?;
        if let Some(mut sha) = self.plain_sha.take() {
            sha.update(plain);
            self.expected.check_file_sha256(&sha.finalize().into())?;
        }
        out.extend_from_slice(plain);
        Ok(plain_len)
    }
}

/// Decrypts a whole body held in memory, checking the MAC before deciphering anything.
pub fn decrypt(keys: &MediaKeys, body: &[u8], expected: &Expected) -> Result<Vec<u8>, Error> {
    let (enc, tag) = split_tail(body, body.len() as u64)?;
    let mut mac = BodyMac::new(keys);
    mac.update(enc);
    mac.verify(tag)?;
    if expected.file_enc_sha256.is_some() {
        expected.check_file_enc_sha256(&Sha256::digest(body).into())?;
    }
    let mut buf = enc.to_vec();
    let plain_len = BlockDecryptor::new(keys).decrypt_last(&mut buf)?.len();
    buf.truncate(plain_len);
    expected.check_length(plain_len as u64)?;
    if expected.file_sha256.is_some() {
        expected.check_file_sha256(&Sha256::digest(&buf).into())?;
    }
    Ok(buf)
}

/// The streaming sidecar of PROTOCOL.md 10.4, computed as `iv || enc` streams past.
///
/// Windows are 64 KiB + 16 bytes long and start every 64 KiB, so at most two are open at once:
/// the current one and, during the first 16 bytes of a window, the one before it.
struct Sidecar {
    template: HmacSha256,
    current: HmacSha256,
    previous: Option<HmacSha256>,
    pos: u64,
    out: Vec<u8>,
}

impl Sidecar {
    fn new(keys: &MediaKeys) -> Self {
        let template = hmac_new(keys.mac_key());
        let mut sidecar = Self {
            current: template.clone(),
            template,
            previous: None,
            pos: 0,
            out: Vec::new(),
        };
        sidecar.update(keys.iv());
        sidecar
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let offset = self.pos % SIDECAR_WINDOW;
            let step = if let Some(previous) = &mut self.previous {
                let step = data.len().min((BLOCK as u64 - offset) as usize);
                previous.update(&data[..step]);
                step
            } else {
                data.len().min((SIDECAR_WINDOW - offset) as usize)
            };
            self.current.update(&data[..step]);
            self.pos += step as u64;
            data = &data[step..];
            let offset = self.pos % SIDECAR_WINDOW;
            if offset == BLOCK as u64 {
                if let Some(previous) = self.previous.take() {
                    self.emit(previous);
                }
            } else if offset == 0 {
                let next = self.template.clone();
                self.previous = Some(std::mem::replace(&mut self.current, next));
            }
        }
    }

    fn emit(&mut self, mac: HmacSha256) {
        self.out
            .extend_from_slice(&mac.finalize().into_bytes()[..MAC_LEN]);
    }

    fn finish(mut self) -> Vec<u8> {
        if let Some(previous) = self.previous.take() {
            self.emit(previous);
        }
        if !self.pos.is_multiple_of(SIDECAR_WINDOW) {
            let current = std::mem::replace(&mut self.current, self.template.clone());
            self.emit(current);
        }
        self.out
    }
}

/// What an encryption produced, as a message announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// SHA-256 of the plaintext.
    pub file_sha256: [u8; 32],
    /// SHA-256 of the body, `enc || mac`.
    pub file_enc_sha256: [u8; 32],
    /// Length of the plaintext.
    pub file_length: u64,
}

/// The enciphering half of encryption: plaintext hash, PKCS#7 padding and AES-256-CBC.
///
/// CBC encryption is serial, as is the HMAC of [`BodySealer`]; kept apart, the two can run on
/// different cores.
pub struct BlockEncryptor {
    cbc: cbc::Encryptor<Aes256>,
    plain_sha: Sha256,
    partial: [u8; BLOCK],
    partial_len: usize,
    plain_len: u64,
}

impl BlockEncryptor {
    /// An encryptor at the start of a file.
    pub fn new(keys: &MediaKeys) -> Self {
        Self {
            cbc: cbc::Encryptor::<Aes256>::new(keys.cipher_key().into(), keys.iv().into()),
            plain_sha: Sha256::new(),
            partial: [0; BLOCK],
            partial_len: 0,
            plain_len: 0,
        }
    }

    /// Feeds plaintext and appends the cipher blocks it completes to `out`.
    pub fn update(&mut self, plaintext: &[u8], out: &mut Vec<u8>) {
        self.plain_sha.update(plaintext);
        self.plain_len += plaintext.len() as u64;
        let total = self.partial_len + plaintext.len();
        if total < BLOCK {
            self.partial[self.partial_len..total].copy_from_slice(plaintext);
            self.partial_len = total;
            return;
        }
        let whole = total / BLOCK * BLOCK;
        let from_input = whole - self.partial_len;
        let start = out.len();
        out.extend_from_slice(&self.partial[..self.partial_len]);
        out.extend_from_slice(&plaintext[..from_input]);
        let rest = &plaintext[from_input..];
        self.partial[..rest.len()].copy_from_slice(rest);
        self.partial_len = rest.len();
        self.cbc.encrypt_blocks(as_blocks(&mut out[start..]));
    }

    /// Pads and enciphers the last block, appends it to `out`, and returns the plaintext's
    /// SHA-256 and length.
    pub fn finish(mut self, out: &mut Vec<u8>) -> ([u8; 32], u64) {
        let pad = BLOCK - self.partial_len;
        let mut last = self.partial;
        last[self.partial_len..].fill(pad as u8);
        self.cbc.encrypt_blocks(as_blocks(&mut last));
        out.extend_from_slice(&last);
        (self.plain_sha.finalize().into(), self.plain_len)
    }
}

/// The sealing half of encryption: the MAC, the body hash and the sidecar, over ciphertext.
pub struct BodySealer {
    mac: HmacSha256,
    body_sha: Sha256,
    sidecar: Option<Sidecar>,
}

impl BodySealer {
    /// A sealer; `sidecar` asks for the streaming sidecar, which only video and audio have.
    pub fn new(keys: &MediaKeys, sidecar: bool) -> Result<Self, Error> {
        if sidecar && !keys.kind().has_sidecar() {
            return Err(Error::NoSidecar(keys.kind()));
        }
        Ok(Self {
            mac: keys.keyed_mac(),
            body_sha: Sha256::new(),
            sidecar: sidecar.then(|| Sidecar::new(keys)),
        })
    }

    /// Feeds ciphertext, in order, in pieces of any size.
    pub fn update(&mut self, enc: &[u8]) {
        self.mac.update(enc);
        self.body_sha.update(enc);
        if let Some(sidecar) = &mut self.sidecar {
            sidecar.update(enc);
        }
    }

    /// Moves the sidecar bytes completed so far to `out`, so that it never grows in memory.
    pub fn drain_sidecar(&mut self, out: &mut Vec<u8>) {
        if let Some(sidecar) = &mut self.sidecar {
            out.append(&mut sidecar.out);
        }
    }

    /// Appends the 10-byte MAC to `out` and the rest of the sidecar (if one was asked for) to
    /// `sidecar_out`; returns the body's SHA-256.
    pub fn finish(mut self, out: &mut Vec<u8>, sidecar_out: &mut Vec<u8>) -> [u8; 32] {
        let tag = self.mac.finalize().into_bytes();
        let tag = &tag[..MAC_LEN];
        self.body_sha.update(tag);
        out.extend_from_slice(tag);
        if let Some(sidecar) = self.sidecar.take() {
            sidecar_out.extend_from_slice(&sidecar.finish());
        }
        self.body_sha.finalize().into()
    }
}

/// A streaming encryptor: feed plaintext in chunks of any size, then [`finish`](Self::finish).
///
/// Hashes, MAC and sidecar are computed as the data passes, so each byte is read once.
pub struct Encryptor {
    cipher: BlockEncryptor,
    sealer: BodySealer,
}

impl Encryptor {
    /// An encryptor; `sidecar` asks for the streaming sidecar, which only video and audio have.
    pub fn new(keys: &MediaKeys, sidecar: bool) -> Result<Self, Error> {
        Ok(Self {
            sealer: BodySealer::new(keys, sidecar)?,
            cipher: BlockEncryptor::new(keys),
        })
    }

    /// Feeds plaintext and appends the body bytes it completes to `out`.
    pub fn update(&mut self, plaintext: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        self.cipher.update(plaintext, out);
        self.sealer.update(&out[start..]);
    }

    /// Moves the sidecar bytes completed so far to `out`, so that it never grows in memory.
    pub fn drain_sidecar(&mut self, out: &mut Vec<u8>) {
        self.sealer.drain_sidecar(out);
    }

    /// Pads and seals the last block, appends it and the MAC to `out`, and appends the rest of
    /// the sidecar (if one was asked for) to `sidecar_out`.
    pub fn finish(mut self, out: &mut Vec<u8>, sidecar_out: &mut Vec<u8>) -> Encrypted {
        let start = out.len();
        let (file_sha256, file_length) = self.cipher.finish(out);
        self.sealer.update(&out[start..]);
        let file_enc_sha256 = self.sealer.finish(out, sidecar_out);
        Encrypted {
            file_sha256,
            file_enc_sha256,
            file_length,
        }
    }
}

/// A whole encryption held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// `enc || mac`, what is uploaded.
    pub body: Vec<u8>,
    /// What the message announces.
    pub encrypted: Encrypted,
    /// The streaming sidecar, if one was asked for.
    pub sidecar: Option<Vec<u8>>,
}

/// Encrypts a whole plaintext held in memory.
pub fn encrypt(keys: &MediaKeys, plaintext: &[u8], sidecar: bool) -> Result<Sealed, Error> {
    let mut encryptor = Encryptor::new(keys, sidecar)?;
    let mut body = Vec::with_capacity(plaintext.len() + BLOCK + MAC_LEN);
    let mut sidecar_bytes = Vec::new();
    encryptor.update(plaintext, &mut body);
    let encrypted = encryptor.finish(&mut body, &mut sidecar_bytes);
    Ok(Sealed {
        body,
        encrypted,
        sidecar: sidecar.then_some(sidecar_bytes),
    })
}

#[cfg(test)]
mod tests;
