//! Tests of the file pipeline: the same result as the pure decryptor at every chunk boundary,
//! forgeries refused, IO failures reported, and nothing left behind.

use waweb_core::media::{self, MediaType};

use super::*;

fn keys() -> MediaKeys {
    MediaKeys::derive(&[0x33; 32], MediaType::Video).unwrap()
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len)
        .map(|n| (n as u32).wrapping_mul(2_654_435_761).to_be_bytes()[1])
        .collect()
}

/// Hands out data in pieces of awkward sizes, with interruptions, as pipes do.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    calls: usize,
    fail_after: Option<usize>,
}

impl<'a> Trickle<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            step: 0,
            calls: 0,
            fail_after: None,
        }
    }
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(7) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if let Some(limit) = self.fail_after
            && self.data.len() <= limit
        {
            return Err(io::Error::other("disk on fire"));
        }
        self.step = (self.step * 5 + 3) % 4099;
        let n = (self.step + 1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

struct Broken;

impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("no space left"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn announced(encrypted: &Encrypted) -> Expected {
    Expected {
        file_sha256: Some(encrypted.file_sha256),
        file_enc_sha256: Some(encrypted.file_enc_sha256),
        file_length: Some(encrypted.file_length),
    }
}

#[test]
fn pipeline_matches_the_pure_decryptor_at_every_chunk_boundary() {
    let keys = keys();
    for len in [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4096, 10_000] {
        let plain = plaintext(len);
        let sealed = media::encrypt(&keys, &plain, false).unwrap();
        let expected = announced(&sealed.encrypted);
        for chunk in [1, 2, 15, 16, 17, 26, 41, 42, 64, 100, 1000, 1 << 20] {
            let mut out = Vec::new();
            let got = decrypt_pipeline(&sealed.body[..], &mut out, &keys, &expected, "test", chunk);
            assert_eq!(got.unwrap(), len as u64, "len {len} chunk {chunk}");
            assert!(out == plain, "len {len} chunk {chunk}");
            let mut out = Vec::new();
            let trickle = Trickle::new(&sealed.body);
            decrypt_pipeline(trickle, &mut out, &keys, &expected, "test", chunk).unwrap();
            assert!(out == plain, "trickled, len {len} chunk {chunk}");
        }
    }
}

#[test]
fn pipeline_handles_bodies_around_the_real_chunk_size() {
    let keys = keys();
    for len in [
        CHUNK - 42,
        CHUNK - 26,
        CHUNK - 17,
        CHUNK - 10,
        CHUNK,
        CHUNK + 6,
        3 * CHUNK + 1,
    ] {
        let plain = plaintext(len);
        let sealed = media::encrypt(&keys, &plain, false).unwrap();
        let mut out = Vec::new();
        let got = decrypt_stream(
            &sealed.body[..],
            &mut out,
            &keys,
            &announced(&sealed.encrypted),
        );
        assert_eq!(got.unwrap(), len as u64);
        assert!(out == plain, "len {len}");
    }
}

#[test]
fn pipeline_refuses_forgeries_truncations_and_wrong_hashes() {
    let keys = keys();
    let plain = plaintext(5000);
    let sealed = media::encrypt(&keys, &plain, false).unwrap();
    let expected = announced(&sealed.encrypted);
    let run = |body: &[u8], expected: &Expected, chunk| {
        let mut out = Vec::new();
        let result = decrypt_pipeline(body, &mut out, &keys, expected, "test", chunk);
        (result.map_err(|e| e.to_string()), out)
    };
    for at in [0, 15, 16, 2000, 5007, 5008, 5017] {
        let mut body = sealed.body.clone();
        body[at] ^= 0x40;
        for chunk in [16, 1000, CHUNK] {
            let (result, out) = run(&body, &expected, chunk);
            assert_eq!(result, Err(media::Error::Mac.to_string()), "byte {at}");
            // The final block is never deciphered when the MAC fails.
            assert!(out.len() < plain.len() - plain.len() % 16);
        }
    }
    for len in [0, 10, 26 + 3, 5017] {
        let (result, _) = run(&sealed.body[..len], &expected, 64);
        assert_eq!(result, Err(media::Error::Truncated(len as u64).to_string()));
    }
    let mut wrong = expected.clone();
    wrong.file_sha256 = Some([0; 32]);
    assert_eq!(
        run(&sealed.body, &wrong, 999).0,
        Err(media::Error::FileSha256.to_string())
    );
    let mut wrong = expected.clone();
    wrong.file_enc_sha256 = Some([0; 32]);
    assert_eq!(
        run(&sealed.body, &wrong, 999).0,
        Err(media::Error::FileEncSha256.to_string())
    );
    let wrong = Expected {
        file_length: Some(4999),
        ..Expected::default()
    };
    assert!(
        run(&sealed.body, &wrong, 999)
            .0
            .unwrap_err()
            .contains("fileLength")
    );
}

#[test]
fn a_body_longer_than_the_announced_length_is_refused_without_reading_on() {
    let keys = keys();
    let plain = plaintext(5000);
    let sealed = media::encrypt(&keys, &plain, false).unwrap();
    let expected = announced(&sealed.encrypted);
    let limit = expected.max_body_len().unwrap();
    assert_eq!(limit, sealed.body.len() as u64);
    let too_long = media::Error::TooLong {
        file_length: 5000,
        limit,
    }
    .to_string();
    let mut longer = sealed.body.clone();
    longer.push(0);
    for chunk in [16, 1000, CHUNK] {
        let result = decrypt_pipeline(&longer[..], &mut Vec::new(), &keys, &expected, "t", chunk);
        assert_eq!(result.map_err(|e| e.to_string()), Err(too_long.clone()));
    }
    // A body without end: refused after at most one chunk past the limit, not read forever.
    let mut endless = io::Read::chain(&sealed.body[..], io::repeat(0));
    let mut out = Vec::new();
    let result = decrypt_pipeline(&mut endless, &mut out, &keys, &expected, "t", 1000);
    assert_eq!(result.map_err(|e| e.to_string()), Err(too_long));
    assert!(out.len() <= plain.len());
}

#[test]
fn io_failures_are_reported_and_leave_nothing_behind() {
    let keys = keys();
    let plain = plaintext(3 * CHUNK);
    let sealed = media::encrypt(&keys, &plain, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");

    let mut failing = Trickle::new(&sealed.body);
    failing.fail_after = Some(CHUNK);
    let error = decrypt_to_path(failing, &target, &keys, &Expected::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("reading the media body: disk on fire"),
        "{error}"
    );

    let error = decrypt_stream(&sealed.body[..], &mut Broken, &keys, &Expected::default());
    let error = error.unwrap_err().to_string();
    assert!(
        error.contains("writing the plaintext: no space left"),
        "{error}"
    );

    let error = encrypt_stream(&plain[..], &mut Broken, None, &keys).unwrap_err();
    assert!(error.to_string().contains("no space left"), "{error}");

    fs::write(&target, b"old").unwrap();
    let mut forged = sealed.body.clone();
    *forged.last_mut().unwrap() ^= 1;
    let error = decrypt_to_path(&forged[..], &target, &keys, &Expected::default());
    assert!(matches!(error, Err(Error::Media(media::Error::Mac))));
    assert_eq!(fs::read(&target).unwrap(), b"old");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["out"]);

    let error = decrypt_to_path(&sealed.body[..], dir.path(), &keys, &Expected::default());
    assert!(error.unwrap_err().to_string().contains("directory"));
}

#[test]
fn files_round_trip_with_a_sidecar_and_through_the_spool() {
    let keys = keys();
    let plain = plaintext(CHUNK + 70_000);
    let dir = tempfile::tempdir().unwrap();
    let body_path = dir.path().join("body");
    let sidecar_path = dir.path().join("sidecar");
    let encrypted = encrypt_to_path(&plain[..], &body_path, Some(&sidecar_path), &keys).unwrap();
    let sealed = media::encrypt(&keys, &plain, true).unwrap();
    assert_eq!(encrypted, sealed.encrypted);
    assert!(fs::read(&body_path).unwrap() == sealed.body);
    assert_eq!(fs::read(&sidecar_path).unwrap(), sealed.sidecar.unwrap());
    // A small chunk puts many chunk edges inside one sidecar window.
    let mut small = Vec::new();
    let again = encrypt_pipeline(&plain[..], &mut small, None, &keys, 1000).unwrap();
    assert_eq!(again, encrypted);
    assert!(small == sealed.body);

    let mut out = Vec::new();
    let body = fs::File::open(&body_path).unwrap();
    let len = decrypt_to_writer(body, &mut out, &keys, &announced(&encrypted)).unwrap();
    assert_eq!(len, plain.len() as u64);
    assert!(out == plain);

    let target = dir.path().join("plain");
    let body = fs::File::open(&body_path).unwrap();
    decrypt_to_path(body, &target, &keys, &announced(&encrypted)).unwrap();
    assert!(fs::read(&target).unwrap() == plain);
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["body", "plain", "sidecar"]);
}

#[test]
fn outputs_are_private_and_a_symlink_is_replaced_not_followed() {
    use std::os::unix::fs::PermissionsExt;

    let keys = keys();
    let plain = plaintext(1000);
    let sealed = media::encrypt(&keys, &plain, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::write(&real, b"old").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    decrypt_to_path(
        &sealed.body[..],
        &link,
        &keys,
        &announced(&sealed.encrypted),
    )
    .unwrap();
    let meta = fs::symlink_metadata(&link).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link was followed, not replaced"
    );
    assert!(fs::read(&link).unwrap() == plain);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // What the link pointed to is untouched, contents and mode.
    assert_eq!(fs::read(&real).unwrap(), b"old");
    let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["link", "real"]);
}

#[test]
fn early_writeback_hands_every_full_range_over_and_changes_no_byte() {
    let keys = keys();
    let plain = plaintext(300_000);
    let sealed = media::encrypt(&keys, &plain, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut file = File::create(dir.path().join("out")).unwrap();
    let mut output = WriteBehind::new(&mut file, 64 * 1024);
    let len = decrypt_pipeline(
        &sealed.body[..],
        &mut output,
        &keys,
        &announced(&sealed.encrypted),
        "writing",
        10_000,
    )
    .unwrap();
    assert_eq!(len, plain.len() as u64);
    // Ranges are handed over whole: what is left for the fsync is less than one range.
    assert_eq!(output.written, len);
    assert!(output.started > 0 && output.written - output.started < 64 * 1024);
    assert_eq!(fs::read(dir.path().join("out")).unwrap(), plain);
    // Off (0), nothing is handed over.
    let mut off = WriteBehind::new(&mut file, 0);
    off.write_all(&plain).unwrap();
    assert_eq!((off.written, off.started), (plain.len() as u64, 0));
}
