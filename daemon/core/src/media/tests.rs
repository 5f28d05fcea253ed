//! Tests of media keys, streaming decryption and encryption against the protocol's vectors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;

use super::*;
use crate::crypto::{aes_cbc_encrypt, hmac};

struct Vector {
    name: String,
    kind: MediaType,
    media_key: Vec<u8>,
    expected: Expected,
    plaintext: Vec<u8>,
    body: Vec<u8>,
    tampered: bool,
}

fn vectors() -> Vec<Vector> {
    let json: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/vectors/media.json")).unwrap();
    let b64 = |v: &serde_json::Value| BASE64.decode(v.as_str().unwrap()).unwrap();
    let hex = |v: &serde_json::Value| crate::hex::decode(v.as_str().unwrap()).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let kind: MediaType = case["kind"].as_str().unwrap().parse().unwrap();
            Vector {
                name: case["name"].as_str().unwrap_or(kind.name()).to_owned(),
                kind,
                media_key: b64(&case["media_key"]),
                expected: Expected {
                    file_sha256: Some(b64(&case["plaintext_sha256"]).try_into().unwrap()),
                    file_enc_sha256: Some(b64(&case["file_enc_sha256"]).try_into().unwrap()),
                    file_length: Some(case["file_length"].as_u64().unwrap()),
                },
                plaintext: hex(&case["plaintext"]),
                body: hex(&case["body"]),
                tampered: case["error"].as_str() == Some("mac"),
            }
        })
        .collect()
}

impl Vector {
    fn keys(&self) -> MediaKeys {
        MediaKeys::derive(&self.media_key, self.kind).unwrap()
    }
}

/// Streams `body` in pieces of the given sizes (cycled), returning only verified plaintext.
fn stream(
    keys: &MediaKeys,
    expected: &Expected,
    body: &[u8],
    sizes: &[usize],
) -> Result<Vec<u8>, Error> {
    let mut decryptor = Decryptor::new(keys, expected.clone());
    let mut out = Vec::new();
    let mut rest = body;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let wanted = sizes.next().copied().unwrap_or(rest.len());
        if wanted == 0 {
            // An empty read is a valid input too, but every round must make progress.
            decryptor.update(&[], &mut out);
        }
        let size = wanted.max(1).min(rest.len());
        let (piece, tail) = rest.split_at(size);
        decryptor.update(piece, &mut out);
        // Nothing may be released unless at least the last block and the MAC are held back.
        let fed = body.len() - tail.len();
        assert!(out.is_empty() || out.len() + HOLD_BACK <= fed);
        rest = tail;
    }
    let len = decryptor.finish(&mut out)?;
    assert_eq!(len, out.len() as u64);
    Ok(out)
}

#[test]
fn vectors_decrypt_and_reencrypt() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 6);
    for v in &vectors {
        let keys = v.keys();
        if v.tampered {
            assert_eq!(
                decrypt(&keys, &v.body, &v.expected),
                Err(Error::Mac),
                "{}",
                v.name
            );
            assert_eq!(
                decrypt(&keys, &v.body, &Expected::default()),
                Err(Error::Mac)
            );
            for size in [1, 16, 4096, usize::MAX] {
                assert_eq!(
                    stream(&keys, &v.expected, &v.body, &[size]),
                    Err(Error::Mac)
                );
            }
            continue;
        }
        assert_eq!(
            decrypt(&keys, &v.body, &v.expected).unwrap(),
            v.plaintext,
            "{}",
            v.name
        );
        for size in [1, 7, 16, 26, 4096, usize::MAX] {
            assert_eq!(
                stream(&keys, &v.expected, &v.body, &[size]).unwrap(),
                v.plaintext
            );
        }
        let sealed = encrypt(&keys, &v.plaintext, false).unwrap();
        assert_eq!(sealed.body, v.body, "{}", v.name);
        assert_eq!(Some(sealed.encrypted.file_sha256), v.expected.file_sha256);
        assert_eq!(
            Some(sealed.encrypted.file_enc_sha256),
            v.expected.file_enc_sha256
        );
        assert_eq!(Some(sealed.encrypted.file_length), v.expected.file_length);
    }
    let kinds: Vec<MediaType> = vectors.iter().map(|v| v.kind).collect();
    for kind in MediaType::ALL {
        assert!(kinds.contains(&kind), "no vector for {kind}");
    }
}

#[test]
fn protocol_vector_of_section_10_8() {
    let media_key =
        crate::hex::decode("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")
            .unwrap();
    let keys = MediaKeys::derive(&media_key, MediaType::Image).unwrap();
    let h = |s: &str| crate::hex::decode(s).unwrap();
    assert_eq!(keys.iv().to_vec(), h("9eec22fdf8297f59632d79711adc9ed2"));
    assert_eq!(
        keys.cipher_key().to_vec(),
        h("3d46bb135bc7abfbe9906600d04538d68c3390c423b80bb390b4ccd7babe7d39")
    );
    assert_eq!(
        keys.mac_key().to_vec(),
        h("b60ea78adc0f4cc6828d6d93f08a03c829362343a08170e2af7b9686de1e54a8")
    );
    let mut expanded = keys.iv().to_vec();
    expanded.extend(keys.cipher_key());
    expanded.extend(keys.mac_key());
    expanded.extend(keys.ref_key());
    assert_eq!(
        expanded,
        h(
            "9eec22fdf8297f59632d79711adc9ed23d46bb135bc7abfbe9906600d04538d6
           8c3390c423b80bb390b4ccd7babe7d39b60ea78adc0f4cc6828d6d93f08a03c8
           29362343a08170e2af7b9686de1e54a8c73d53bdd058ed552b730ac5c3733ad2
           d9415549b426390848396f82a4498839"
        )
    );
    let plaintext = b"Hello, WhatsApp media!";
    let sealed = encrypt(&keys, plaintext, false).unwrap();
    let mut body = h("4828a9e66ebb432ba0aa42ef977ff561194bc9d52661579b20b6251ad418e959");
    body.extend(h("2f026178b313077fd74a"));
    assert_eq!(sealed.body, body);
    let file_enc_sha256: [u8; 32] =
        h("5acabfcc78b6f13b31727d79e35733603627d83faf20caeb69e888b652d5aa8e")
            .try_into()
            .unwrap();
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE.encode(file_enc_sha256),
        "Wsq_zHi28Tsxcn1541czYDYn2D-vIMrraeiItlLVqo4="
    );
    let expected = Expected {
        file_sha256: Some(
            h("7d65a04fcdd9650755137d4c7209553e4db3b4eeea81814e46fb1ced8c4909ea")
                .try_into()
                .unwrap(),
        ),
        file_enc_sha256: Some(file_enc_sha256),
        file_length: Some(22),
    };
    assert_eq!(sealed.encrypted.file_sha256, expected.file_sha256.unwrap());
    assert_eq!(sealed.encrypted.file_enc_sha256, file_enc_sha256);
    assert_eq!(decrypt(&keys, &body, &expected).unwrap(), plaintext);
    assert_eq!(stream(&keys, &expected, &body, &[5]).unwrap(), plaintext);
}

#[test]
fn every_truncation_and_mutation_errors() {
    for v in vectors().iter().filter(|v| !v.tampered) {
        let keys = v.keys();
        let small = v.body.len() <= 64;
        // Truncations: every prefix of small bodies, a sample of large ones.
        let step = if v.body.len() > 4096 { 509 } else { 1 };
        let lens = (0..v.body.len())
            .step_by(step)
            .chain(v.body.len().saturating_sub(48)..v.body.len());
        for len in lens {
            let prefix = &v.body[..len];
            let result = decrypt(&keys, prefix, &Expected::default());
            assert!(result.is_err(), "{} truncated to {len}", v.name);
            let whole = len > MAC_LEN && (len - MAC_LEN).is_multiple_of(BLOCK);
            let want = if whole {
                Error::Mac
            } else {
                Error::Truncated(len as u64)
            };
            assert_eq!(result, Err(want.clone()), "{} truncated to {len}", v.name);
            assert_eq!(
                stream(&keys, &Expected::default(), prefix, &[len / 3 + 1]),
                Err(want)
            );
        }
        // One-byte mutations: every byte and every value of small bodies; every byte of the
        // 2 KiB document with two patterns; a sample of the large sticker.
        let positions: Vec<usize> = if v.body.len() > 4096 {
            (0..v.body.len())
                .step_by(997)
                .chain(v.body.len() - 64..v.body.len())
                .collect()
        } else {
            (0..v.body.len()).collect()
        };
        let patterns: Vec<u8> = if small {
            (1..=255).collect()
        } else {
            vec![0x01, 0x80, 0xff]
        };
        let mut body = v.body.clone();
        for &at in &positions {
            for &xor in &patterns {
                body[at] ^= xor;
                assert_eq!(
                    decrypt(&keys, &body, &v.expected),
                    Err(Error::Mac),
                    "{} byte {at}",
                    v.name
                );
                if small || xor == 0x80 {
                    assert_eq!(stream(&keys, &v.expected, &body, &[17]), Err(Error::Mac));
                }
                body[at] ^= xor;
            }
        }
        // Extra bytes after the MAC shift where the tag is read from.
        let mut longer = v.body.clone();
        longer.push(0);
        assert!(decrypt(&keys, &longer, &v.expected).is_err());
        assert!(stream(&keys, &v.expected, &longer, &[64]).is_err());
    }
}

#[test]
fn wrong_key_or_type_is_a_mac_error() {
    let v = &vectors()[3];
    let mut key = v.media_key.clone();
    key[0] ^= 1;
    let keys = MediaKeys::derive(&key, v.kind).unwrap();
    assert_eq!(decrypt(&keys, &v.body, &v.expected), Err(Error::Mac));
    let keys = MediaKeys::derive(&v.media_key, MediaType::Image).unwrap();
    assert_eq!(decrypt(&keys, &v.body, &v.expected), Err(Error::Mac));
}

#[test]
fn announced_hashes_and_length_are_checked() {
    let v = &vectors()[3];
    let keys = v.keys();
    let check = |expected: Expected, want: Error| {
        assert_eq!(decrypt(&keys, &v.body, &expected), Err(want.clone()));
        assert_eq!(stream(&keys, &expected, &v.body, &[100]), Err(want));
    };
    let mut bad = v.expected.clone();
    bad.file_sha256.as_mut().unwrap()[31] ^= 1;
    check(bad, Error::FileSha256);
    let mut bad = v.expected.clone();
    bad.file_enc_sha256.as_mut().unwrap()[0] ^= 1;
    check(bad, Error::FileEncSha256);
    let bad = Expected {
        file_length: Some(999),
        ..v.expected.clone()
    };
    check(
        bad,
        Error::FileLength {
            expected: 999,
            actual: 1000,
        },
    );
    // Each check is optional on its own.
    for expected in [
        Expected::default(),
        Expected {
            file_length: Some(1000),
            ..Expected::default()
        },
        Expected {
            file_sha256: v.expected.file_sha256,
            ..Expected::default()
        },
        Expected {
            file_enc_sha256: v.expected.file_enc_sha256,
            ..Expected::default()
        },
    ] {
        assert_eq!(decrypt(&keys, &v.body, &expected).unwrap(), v.plaintext);
    }
}

#[test]
fn bad_padding_under_a_good_mac_is_reported() {
    let keys = MediaKeys::derive(&[7; 32], MediaType::Document).unwrap();
    for last in [0u8, 17, 255] {
        // Encrypt 32 bytes whose own padding (stripped again below) leaves a bad last byte.
        let mut plain = [3u8; 32];
        plain[31] = last;
        let mut enc = aes_cbc_encrypt(keys.cipher_key(), keys.iv(), &plain);
        enc.truncate(32);
        let tag = hmac(keys.mac_key(), &[keys.iv(), &enc]);
        let mut body = enc;
        body.extend_from_slice(&tag[..MAC_LEN]);
        assert_eq!(
            decrypt(&keys, &body, &Expected::default()),
            Err(Error::Padding)
        );
        assert_eq!(
            stream(&keys, &Expected::default(), &body, &[9]),
            Err(Error::Padding)
        );
    }
}

#[test]
fn round_trips_for_every_type_and_length() {
    let plaintext: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for kind in MediaType::ALL {
        let keys = MediaKeys::derive(&[kind as u8 + 1; 32], kind).unwrap();
        for len in 0..=plaintext.len() {
            let plain = &plaintext[..len];
            let sealed = encrypt(&keys, plain, false).unwrap();
            assert_eq!(sealed.body.len(), (len / BLOCK + 1) * BLOCK + MAC_LEN);
            let expected = Expected {
                file_sha256: Some(sealed.encrypted.file_sha256),
                file_enc_sha256: Some(sealed.encrypted.file_enc_sha256),
                file_length: Some(len as u64),
            };
            assert_eq!(
                sealed.encrypted.file_sha256,
                <[u8; 32]>::from(Sha256::digest(plain))
            );
            assert_eq!(
                decrypt(&keys, &sealed.body, &expected).unwrap(),
                plain,
                "{kind} {len}"
            );
            if len % 97 == 0 {
                assert_eq!(
                    stream(&keys, &expected, &sealed.body, &[len / 5 + 1]).unwrap(),
                    plain
                );
            }
        }
    }
}

/// PROTOCOL.md 10.4 written out literally, to check the streaming version against.
fn naive_sidecar(keys: &MediaKeys, body: &[u8]) -> Vec<u8> {
    let mut s = keys.iv().to_vec();
    s.extend_from_slice(&body[..body.len() - MAC_LEN]);
    let window = SIDECAR_WINDOW as usize;
    let mut out = Vec::new();
    let mut n = 0;
    while n * window < s.len() {
        let chunk = &s[n * window..((n + 1) * window + BLOCK).min(s.len())];
        out.extend_from_slice(&hmac(keys.mac_key(), &[chunk])[..MAC_LEN]);
        n += 1;
    }
    out
}

#[test]
fn sidecar_matches_the_definition() {
    let keys = MediaKeys::derive(&[9; 32], MediaType::Video).unwrap();
    let w = SIDECAR_WINDOW as usize;
    // Plaintext lengths whose `iv || enc` ends just before, at and after window edges.
    let lens = [
        0,
        1,
        15,
        16,
        w - 48,
        w - 33,
        w - 32,
        w - 17,
        w - 16,
        w - 1,
        w,
        w + 15,
        3 * w - 32,
        3 * w + 100,
    ];
    for len in lens {
        let plain = vec![0xa5; len];
        let sealed = encrypt(&keys, &plain, true).unwrap();
        let sidecar = sealed.sidecar.clone().unwrap();
        assert_eq!(sidecar, naive_sidecar(&keys, &sealed.body), "length {len}");
        assert_eq!(sidecar.len() % MAC_LEN, 0);
        // Streaming in odd pieces and draining as it goes gives the same bytes.
        let mut encryptor = Encryptor::new(&keys, true).unwrap();
        let (mut body, mut drained) = (Vec::new(), Vec::new());
        for piece in plain.chunks(4099) {
            encryptor.update(piece, &mut body);
            encryptor.drain_sidecar(&mut drained);
        }
        let encrypted = encryptor.finish(&mut body, &mut drained);
        assert_eq!(
            (body, drained, encrypted),
            (sealed.body, sidecar, sealed.encrypted)
        );
    }
    let audio = MediaKeys::derive(&[9; 32], MediaType::Audio).unwrap();
    assert!(encrypt(&audio, b"x", true).unwrap().sidecar.is_some());
    for kind in [MediaType::Image, MediaType::Document, MediaType::Sticker] {
        let keys = MediaKeys::derive(&[9; 32], kind).unwrap();
        assert_eq!(
            encrypt(&keys, b"x", true).err(),
            Some(Error::NoSidecar(kind))
        );
        assert!(encrypt(&keys, b"x", false).unwrap().sidecar.is_none());
    }
}

#[test]
fn types_keys_and_secrecy() {
    for kind in MediaType::ALL {
        assert_eq!(kind.name().parse::<MediaType>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.name());
    }
    assert_eq!(MediaType::Sticker.info(), MediaType::Image.info());
    assert_eq!(
        "Image".parse::<MediaType>(),
        Err(Error::UnknownType("Image".into()))
    );
    assert_eq!(
        "gif".parse::<MediaType>(),
        Err(Error::UnknownType("gif".into()))
    );
    for len in [0, 16, 31, 33, 64] {
        assert_eq!(
            MediaKeys::derive(&vec![1; len], MediaType::Image)
                .err()
                .map(|e| e.to_string()),
            Some(format!("media key must be 32 bytes, got {len}"))
        );
    }
    let keys = MediaKeys::derive(&[0xab; 32], MediaType::Audio).unwrap();
    let shown = format!("{keys:?}");
    assert_eq!(shown, "MediaKeys(audio, redacted)");
    assert!(Error::Mac.to_string().starts_with("media MAC mismatch: "));
}

#[test]
fn hold_back_arithmetic() {
    assert_eq!(releasable(0), 0);
    assert_eq!(releasable(HOLD_BACK + BLOCK - 1), 0);
    assert_eq!(releasable(HOLD_BACK + BLOCK), BLOCK);
    assert_eq!(releasable(CARRY_MAX + 1), BLOCK);
    assert_eq!(releasable(HOLD_BACK + 2 * BLOCK), 2 * BLOCK);
    for n in 0..1000 {
        let r = releasable(n);
        assert!(r.is_multiple_of(BLOCK) && r <= n && (r == 0 || n - r >= HOLD_BACK));
        if n >= HOLD_BACK {
            assert!(n - r <= CARRY_MAX);
        }
    }
    assert_eq!(split_tail(&[0; 26], 26).map(|(e, _)| e.len()), Ok(16));
    assert_eq!(split_tail(&[0; 10], 10), Err(Error::Truncated(10)));
    assert_eq!(split_tail(&[0; 27], 99), Err(Error::Truncated(99)));
    assert_eq!(split_tail(&[], 0), Err(Error::Truncated(0)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_split_of_a_vector_body_gives_the_same_result(
        index in 0usize..6,
        sizes in proptest::collection::vec(prop_oneof![0usize..40, 0usize..5000, 0usize..80_000], 1..12),
    ) {
        let vectors = vectors();
        let v = &vectors[index];
        let keys = v.keys();
        let result = stream(&keys, &v.expected, &v.body, &sizes);
        if v.tampered {
            prop_assert_eq!(result, Err(Error::Mac));
        } else {
            prop_assert_eq!(result, Ok(v.plaintext.clone()));
        }
    }

    #[test]
    fn any_split_of_a_plaintext_gives_the_same_body(
        plain in proptest::collection::vec(any::<u8>(), 0..5000),
        sizes in proptest::collection::vec(0usize..300, 1..8),
        kind in proptest::sample::select(MediaType::ALL.to_vec()),
    ) {
        let keys = MediaKeys::derive(&[5; 32], kind).unwrap();
        let sealed = encrypt(&keys, &plain, kind.has_sidecar()).unwrap();
        let mut encryptor = Encryptor::new(&keys, kind.has_sidecar()).unwrap();
        let (mut body, mut sidecar) = (Vec::new(), Vec::new());
        let mut rest = &plain[..];
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            if *size == 0 {
                encryptor.update(&[], &mut body);
            }
            // At least one byte a round, or all-zero sizes would never finish.
            let (piece, tail) = rest.split_at((*size).max(1).min(rest.len()));
            encryptor.update(piece, &mut body);
            rest = tail;
        }
        let encrypted = encryptor.finish(&mut body, &mut sidecar);
        prop_assert_eq!(&body, &sealed.body);
        prop_assert_eq!(kind.has_sidecar().then_some(sidecar), sealed.sidecar);
        prop_assert_eq!(&encrypted, &sealed.encrypted);
        let expected = Expected { file_length: Some(plain.len() as u64), ..Expected::default() };
        prop_assert_eq!(stream(&keys, &expected, &body, &sizes), Ok(plain));
    }
}
