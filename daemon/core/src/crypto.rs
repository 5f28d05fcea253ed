//! The primitives of the legacy protocol (PROTOCOL.md sections 0, 1.3, 4, 5.3 and 6), free of IO.
//!
//! - HKDF is RFC 5869 HKDF-SHA256 with a salt of 32 zero bytes (the same as no salt).
//! - HMAC is HMAC-SHA256; every comparison of a received tag is constant-time.
//! - AES is AES-256-CBC with PKCS#7 padding.
//! - Key agreement is X25519 over raw 32-byte Montgomery u-coordinates.
//!
//! Key material lives in [`Secret`], which zeroizes on drop and never prints.

use std::fmt;

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// HMAC-SHA256, the only MAC of the protocol.
pub type HmacSha256 = Hmac<Sha256>;

/// AES block size: the CBC IV length and the padding unit.
pub const BLOCK: usize = 16;

/// What can go wrong in the primitives themselves.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A MAC did not match: the data was altered or the key is wrong.
    #[error("HMAC mismatch")]
    BadMac,
    /// The ciphertext is not a whole number of blocks, or its padding is invalid.
    #[error("bad AES-CBC ciphertext or padding")]
    BadCiphertext,
    /// An input has the wrong length.
    #[error("{what} must be {expected} bytes, got {actual}")]
    BadLength {
        /// Which input.
        what: &'static str,
        /// The length the protocol fixes.
        expected: usize,
        /// The length that was given.
        actual: usize,
    },
}

/// Fixed-size key material: zeroized on drop, redacted in `Debug`, compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret<const N: usize>([u8; N]);

impl<const N: usize> Secret<N> {
    /// Wraps bytes; the caller's copy is its own to wipe.
    pub fn new(bytes: [u8; N]) -> Self {
        Self(bytes)
    }

    /// Copies a slice of exactly `N` bytes, naming `what` in the error otherwise.
    pub fn from_slice(what: &'static str, bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; N] = bytes.try_into().map_err(|_| Error::BadLength {
            what,
            expected: N,
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// Fresh random bytes from the operating system's generator.
    pub fn random() -> Self {
        let mut bytes = [0u8; N];
        fill_random(&mut bytes);
        Self(bytes)
    }

    /// The raw bytes; keep the borrow short.
    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret<{N}>(redacted)")
    }
}

impl<const N: usize> PartialEq for Secret<N> {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl<const N: usize> Eq for Secret<N> {}

/// Fills `out` from the operating system's cryptographic generator.
pub fn fill_random(out: &mut [u8]) {
    rand::fill(out);
}

/// Compares two byte strings without an early exit on the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// HKDF-SHA256 with a 32-zero-byte salt, filling `out` (at most 255 × 32 bytes).
pub fn hkdf(ikm: &[u8], info: &[u8], out: &mut [u8]) {
    let salt = [0u8; 32];
    let kdf = hkdf::Hkdf::<Sha256>::new(Some(&salt), ikm);
    // Every caller asks for 80 or 112 bytes, far below HKDF's 8160-byte limit.
    kdf.expand(info, out)
        .expect("HKDF output length is a protocol constant below the limit");
}

/// A keyed HMAC-SHA256 state, ready to be fed data.
pub fn hmac_new(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = hmac_new(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Checks `tag` (the whole 32 bytes, or a left prefix of them) in constant time.
pub fn hmac_verify(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> Result<(), Error> {
    let mut mac = hmac_new(key);
    for part in parts {
        mac.update(part);
    }
    mac.verify_truncated_left(tag).map_err(|_| Error::BadMac)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// AES-256-CBC encryption with PKCS#7 padding.
pub fn aes_cbc_encrypt(key: &[u8; 32], iv: &[u8; BLOCK], plaintext: &[u8]) -> Vec<u8> {
    let encryptor = cbc::Encryptor::<Aes256>::new(key.into(), iv.into());
    let len = plaintext.len();
    let mut buf = vec![0u8; (len / BLOCK + 1) * BLOCK];
    buf[..len].copy_from_slice(plaintext);
    let written = encryptor
        .encrypt_padded::<Pkcs7>(&mut buf, len)
        .expect("buffer has room for a full padding block")
        .len();
    buf.truncate(written);
    buf
}

/// AES-256-CBC decryption, checking and stripping PKCS#7 padding.
pub fn aes_cbc_decrypt(
    key: &[u8; 32],
    iv: &[u8; BLOCK],
    ciphertext: &[u8],
) -> Result<Vec<u8>, Error> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
        return Err(Error::BadCiphertext);
    }
    let decryptor = cbc::Decryptor::<Aes256>::new(key.into(), iv.into());
    let mut buf = ciphertext.to_vec();
    let len = decryptor
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| Error::BadCiphertext)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// An X25519 key pair for one pairing attempt (PROTOCOL.md 2.1).
pub struct KeyPair {
    private: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl KeyPair {
    /// A fresh random key pair.
    pub fn generate() -> Self {
        Self::from_private(Secret::<32>::random().expose())
    }

    /// The key pair of a known private scalar (clamped by X25519 itself).
    pub fn from_private(private: &[u8; 32]) -> Self {
        let private = x25519_dalek::StaticSecret::from(*private);
        let public = x25519_dalek::PublicKey::from(&private).to_bytes();
        Self { private, public }
    }

    /// The public key, as it goes into the QR code.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// X25519 with the peer's public key.
    pub fn agree(&self, peer_public: &[u8; 32]) -> Secret<32> {
        let peer = x25519_dalek::PublicKey::from(*peer_public);
        Secret::new(self.private.diffie_hellman(&peer).to_bytes())
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &BASE64.encode(self.public))
            .field("private", &"redacted")
            .finish()
    }
}

/// Length of `Conn.secret` once base64-decoded.
pub const PAIRING_SECRET_LEN: usize = 144;

/// Why a pairing secret was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PairingError {
    /// `Conn.secret` is not 144 bytes.
    #[error("Conn secret must be {PAIRING_SECRET_LEN} bytes, got {0}")]
    Length(usize),
    /// The validation HMAC did not match (tampered secret, or not our key pair).
    #[error("Conn secret failed HMAC validation")]
    Hmac,
    /// The key blob did not decrypt to 64 bytes.
    #[error("Conn secret key blob is malformed")]
    KeyBlob,
}

/// The two keys of a session: frames are encrypted with `enc` and authenticated with `mac`.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// AES-256 key of binary frames.
    pub enc: Secret<32>,
    /// HMAC-SHA256 key of binary frames and of the restore challenge.
    pub mac: Secret<32>,
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKeys(redacted)")
    }
}

impl SessionKeys {
    /// Fresh random keys, as the server chooses them at pairing.
    pub fn random() -> Self {
        Self {
            enc: Secret::random(),
            mac: Secret::random(),
        }
    }

    /// The client's side of PROTOCOL.md section 4: derives the keys from `Conn.secret`.
    ///
    /// The HMAC is checked before anything is decrypted.
    pub fn from_pairing_secret(ours: &KeyPair, secret: &[u8]) -> Result<Self, PairingError> {
        if secret.len() != PAIRING_SECRET_LEN {
            return Err(PairingError::Length(secret.len()));
        }
        let peer_public: [u8; 32] = secret[0..32].try_into().expect("length checked above");
        let shared = ours.agree(&peer_public);
        let expanded = expand_pairing(&shared);
        let expanded = expanded.expose();
        hmac_verify(
            &expanded[32..64],
            &[&secret[0..32], &secret[64..144]],
            &secret[32..64],
        )
        .map_err(|_| PairingError::Hmac)?;
        let key: &[u8; 32] = expanded[0..32].try_into().expect("fixed split");
        let iv: &[u8; 16] = expanded[64..80].try_into().expect("fixed split");
        let mut keys =
            aes_cbc_decrypt(key, iv, &secret[64..144]).map_err(|_| PairingError::KeyBlob)?;
        let result = if keys.len() == 64 {
            Ok(Self {
                enc: Secret::from_slice("encKey", &keys[0..32]).expect("fixed split"),
                mac: Secret::from_slice("macKey", &keys[32..64]).expect("fixed split"),
            })
        } else {
            Err(PairingError::KeyBlob)
        };
        keys.zeroize();
        result
    }

    /// The server's side (PROTOCOL.md 4.1): seals these keys for the client's public key, using
    /// the server's ephemeral key pair, into the 144 bytes of `Conn.secret`.
    pub fn to_pairing_secret(&self, server: &KeyPair, client_public: &[u8; 32]) -> Vec<u8> {
        let shared = server.agree(client_public);
        let expanded = expand_pairing(&shared);
        let expanded = expanded.expose();
        let mut plain = [0u8; 64];
        plain[..32].copy_from_slice(self.enc.expose());
        plain[32..].copy_from_slice(self.mac.expose());
        let key: &[u8; 32] = expanded[0..32].try_into().expect("fixed split");
        let iv: &[u8; 16] = expanded[64..80].try_into().expect("fixed split");
        let blob = aes_cbc_encrypt(key, iv, &plain);
        plain.zeroize();
        let tag = hmac(&expanded[32..64], &[server.public(), &blob]);
        let mut secret = Vec::with_capacity(PAIRING_SECRET_LEN);
        secret.extend_from_slice(server.public());
        secret.extend_from_slice(&tag);
        secret.extend_from_slice(&blob);
        secret
    }

    /// The answer to a restore challenge (PROTOCOL.md 5.3): `base64(HMAC(macKey, challenge))`.
    pub fn challenge_answer(&self, challenge: &[u8]) -> String {
        BASE64.encode(hmac(self.mac.expose(), &[challenge]))
    }

    /// The token of the HTTP logout (PROTOCOL.md 6): `base64(HMAC(macKey, encKey))`.
    pub fn logout_token(&self) -> String {
        BASE64.encode(hmac(self.mac.expose(), &[self.enc.expose()]))
    }
}

fn expand_pairing(shared: &Secret<32>) -> Secret<80> {
    let mut expanded = [0u8; 80];
    hkdf(shared.expose(), b"", &mut expanded);
    let secret = Secret::new(expanded);
    expanded.zeroize();
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        crate::hex::decode(s).unwrap()
    }

    fn arr32(s: &str) -> [u8; 32] {
        unhex(s).try_into().unwrap()
    }

    const CLIENT_PRIVATE: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    const SERVER_PRIVATE: &str = "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60";
    const CONN_SECRET: &str = "ZLEBsdC+WocEvQePmJUAH8A+jp+VIvGI3RKNmEbUhGZyHtg1G4t8Xfy64Ra1W3Lt6TiHIZG21Ya1HHUENRn83Mbxy6avXJ4J+hVtJeizwlxmseVEf2D40QZGeHw7tg0ZFixzIM5t62oMuojmfOx3Us6IFT1HR32fGH5o9t8Q5w3ae577mGHMNQATYmI3GrrF";

    fn spec_keys() -> SessionKeys {
        SessionKeys {
            enc: Secret::new(arr32(
                "e0e1e2e3e4e5e6e7e8e9eaebecedeeefe0e1e2e3e4e5e6e7e8e9eaebecedeeef",
            )),
            mac: Secret::new(arr32(
                "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f",
            )),
        }
    }

    #[test]
    fn pairing_vector_of_section_4_2() {
        let client = KeyPair::from_private(&arr32(CLIENT_PRIVATE));
        assert_eq!(
            client.public(),
            &arr32("07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c")
        );
        let server = KeyPair::from_private(&arr32(SERVER_PRIVATE));
        assert_eq!(
            server.public(),
            &arr32("64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466")
        );
        let shared = client.agree(server.public());
        assert_eq!(
            shared.expose(),
            &arr32("26c2c17fdb82161cb21ad16e721315355b64d1763119b10bfc962530dc7cc163")
        );
        let expanded = expand_pairing(&shared);
        assert_eq!(
            expanded.expose().to_vec(),
            unhex(
                "bf3bb29fda4b97e196b5dd5a13f8fca363a00b183c2f9903051da6b8c94056b6
                 6ea076a4d045a2b7a3b2b21a61d48d4d8e38afb23cdb5f1bfcdfef785df011df
                 031feb77b74841ca74963718431e89b9"
            )
        );
        let secret = BASE64.decode(CONN_SECRET).unwrap();
        assert_eq!(
            secret[32..64].to_vec(),
            unhex("721ed8351b8b7c5dfcbae116b55b72ede938872191b6d586b51c75043519fcdc")
        );
        let keys = SessionKeys::from_pairing_secret(&client, &secret).unwrap();
        assert_eq!(keys, spec_keys());
        // The server side produces exactly the same secret (the CBC IV is derived, not random).
        assert_eq!(
            spec_keys().to_pairing_secret(&server, client.public()),
            secret
        );
    }

    #[test]
    fn pairing_refuses_tampering_and_bad_lengths() {
        let client = KeyPair::from_private(&arr32(CLIENT_PRIVATE));
        let secret = BASE64.decode(CONN_SECRET).unwrap();
        for index in [0, 31, 32, 63, 64, 100, 143] {
            let mut tampered = secret.clone();
            tampered[index] ^= 0x01;
            assert_eq!(
                SessionKeys::from_pairing_secret(&client, &tampered),
                Err(PairingError::Hmac),
                "byte {index}"
            );
        }
        for len in [0, 143, 145, 288] {
            let mut wrong = secret.clone();
            wrong.resize(len, 0);
            assert_eq!(
                SessionKeys::from_pairing_secret(&client, &wrong),
                Err(PairingError::Length(len))
            );
        }
        let stranger = KeyPair::from_private(&[7u8; 32]);
        assert_eq!(
            SessionKeys::from_pairing_secret(&stranger, &secret),
            Err(PairingError::Hmac)
        );
    }

    #[test]
    fn challenge_and_logout_vectors() {
        let keys = spec_keys();
        let challenge: Vec<u8> = (0u8..32).collect();
        assert_eq!(
            BASE64.encode(&challenge),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        );
        assert_eq!(
            keys.challenge_answer(&challenge),
            "Pbqc57N5Mc22MdH8SKT/nv1MevCQqGWEM8bfZfWL5jk="
        );
        assert_eq!(
            keys.logout_token(),
            "C/ixGbj5778HdWskZ3sFmzKYLI3GgS1Z+YuhbEORExM="
        );
    }

    #[test]
    fn secrets_never_print() {
        let keys = spec_keys();
        let shown = format!("{keys:?} {:?} {:?}", keys.enc, KeyPair::generate());
        assert!(!shown.contains("e0e1") && !shown.contains("224") && shown.contains("redacted"));
    }

    #[test]
    fn cbc_round_trip_and_refusals() {
        let key = [9u8; 32];
        let iv = [3u8; 16];
        for len in [0, 1, 15, 16, 17, 1000] {
            let plain = vec![0x5a; len];
            let cipher = aes_cbc_encrypt(&key, &iv, &plain);
            assert_eq!(cipher.len(), (len / 16 + 1) * 16);
            assert_eq!(aes_cbc_decrypt(&key, &iv, &cipher).unwrap(), plain);
        }
        assert_eq!(aes_cbc_decrypt(&key, &iv, &[]), Err(Error::BadCiphertext));
        assert_eq!(
            aes_cbc_decrypt(&key, &iv, &[0; 15]),
            Err(Error::BadCiphertext)
        );
        // Wrong key: the padding is garbage and is refused rather than returned.
        let cipher = aes_cbc_encrypt(&key, &iv, b"hello");
        let wrong = aes_cbc_decrypt(&[8u8; 32], &iv, &cipher);
        assert!(wrong.is_err() || wrong.unwrap() != b"hello");
    }

    #[test]
    fn hmac_truncated_verify_is_exact() {
        let tag = hmac(b"k", &[b"a", b"b"]);
        assert_eq!(tag, hmac(b"k", &[b"ab"]));
        assert!(hmac_verify(b"k", &[b"ab"], &tag).is_ok());
        assert!(hmac_verify(b"k", &[b"ab"], &tag[..10]).is_ok());
        let mut bad = tag;
        bad[9] ^= 1;
        assert_eq!(hmac_verify(b"k", &[b"ab"], &bad[..10]), Err(Error::BadMac));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
