//! Media decryption of a body held in memory, stage by stage and whole, in bytes per second: the
//! HMAC alone (the ceiling: it is serial and the slowest stage), the CBC decryption alone, the
//! single-threaded streaming [`Decryptor`], and the two-thread pipeline of `media_file` writing
//! to a sink. Encryption is measured for comparison.
//!
//! `cargo bench -p wawebd --bench media` (16 MiB; `WAWEBD_BENCH_MEDIA_MIB=256` for a larger
//! body). The whole-file figure, with the kernel's copies, comes from `scripts/bench-media.sh`.

use std::hint::black_box;
use std::io;
use std::sync::OnceLock;

use divan::Bencher;
use divan::counter::BytesCount;
use waweb_core::media::{self, BlockDecryptor, BodyMac, Decryptor, Expected, MediaKeys, MediaType};
use wawebd::media_file;

fn main() {
    divan::main();
}

/// 16 MiB unless `WAWEBD_BENCH_MEDIA_MIB` says otherwise (larger bodies amortise the pipeline's
/// start-up: its threads and buffers are created per call).
fn len() -> usize {
    let mib = std::env::var("WAWEBD_BENCH_MEDIA_MIB")
        .ok()
        .and_then(|text| text.parse::<usize>().ok())
        .unwrap_or(16);
    mib << 20
}

struct Fixture {
    keys: MediaKeys,
    plaintext: Vec<u8>,
    body: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keys = MediaKeys::derive(&[0x42; 32], MediaType::Video).unwrap();
        let mut plaintext = vec![0u8; len()];
        waweb_core::crypto::fill_random(&mut plaintext);
        let body = media::encrypt(&keys, &plaintext, false).unwrap().body;
        Fixture {
            keys,
            plaintext,
            body,
        }
    })
}

fn bytes() -> BytesCount {
    BytesCount::new(fixture().body.len())
}

#[divan::bench(sample_count = 30)]
fn hmac_only(bencher: Bencher) {
    let f = fixture();
    let (enc, tag) = media::split_tail(&f.body, f.body.len() as u64).unwrap();
    bencher.counter(bytes()).bench(|| {
        let mut mac = BodyMac::new(&f.keys);
        mac.update(black_box(enc));
        mac.verify(tag).unwrap();
    });
}

#[divan::bench(sample_count = 30)]
fn cbc_only(bencher: Bencher) {
    let f = fixture();
    let enc_len = f.body.len() - media::MAC_LEN;
    bencher
        .counter(bytes())
        .with_inputs(|| f.body[..enc_len].to_vec())
        .bench_local_refs(|enc| {
            black_box(
                BlockDecryptor::new(&f.keys)
                    .decrypt_last(enc)
                    .unwrap()
                    .len(),
            );
        });
}

#[divan::bench(sample_count = 30)]
fn streaming_one_thread(bencher: Bencher) {
    let f = fixture();
    let mut out = Vec::with_capacity(media_file::CHUNK + 64);
    bencher.counter(bytes()).bench_local(|| {
        let mut decryptor = Decryptor::new(&f.keys, Expected::default());
        for chunk in f.body.chunks(media_file::CHUNK) {
            out.clear();
            decryptor.update(chunk, &mut out);
            black_box(&out);
        }
        out.clear();
        decryptor.finish(&mut out).unwrap()
    });
}

#[divan::bench(sample_count = 30)]
fn pipeline_to_sink(bencher: Bencher) {
    let f = fixture();
    bencher.counter(bytes()).bench(|| {
        media_file::decrypt_stream(&f.body[..], &mut io::sink(), &f.keys, &Expected::default())
            .unwrap()
    });
}

#[divan::bench(sample_count = 10)]
fn pipeline_to_sink_all_checks(bencher: Bencher) {
    let f = fixture();
    let sealed = media::encrypt(&f.keys, &f.plaintext, false).unwrap();
    let expected = Expected {
        file_sha256: Some(sealed.encrypted.file_sha256),
        file_enc_sha256: Some(sealed.encrypted.file_enc_sha256),
        file_length: Some(sealed.encrypted.file_length),
    };
    bencher.counter(bytes()).bench(|| {
        media_file::decrypt_stream(&f.body[..], &mut io::sink(), &f.keys, &expected).unwrap()
    });
}

#[divan::bench(sample_count = 10)]
fn encrypt_one_thread(bencher: Bencher) {
    let f = fixture();
    let mut out = Vec::with_capacity(media_file::CHUNK + 64);
    bencher.counter(bytes()).bench_local(|| {
        let mut encryptor = media::Encryptor::new(&f.keys, false).unwrap();
        for chunk in f.plaintext.chunks(media_file::CHUNK) {
            out.clear();
            encryptor.update(chunk, &mut out);
            black_box(&out);
        }
        out.clear();
        encryptor.finish(&mut out, &mut Vec::new())
    });
}
