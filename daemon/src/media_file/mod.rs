//! Media bodies on disk and in pipes: the blocking IO half of [`waweb_core::media`] (std only).
//!
//! Decrypted plaintext is unauthenticated until the body's last byte has been read, so nothing
//! reaches its destination before then: a target path is written through a private temporary
//! file beside it ([`waweb_fs::AtomicFile`]: mode 0600, exclusive create, random name) that is
//! fsynced and renamed over the target only once the MAC and any announced hashes have been
//! verified, and removed on any failure. Output for a stream (standard output) is spooled into an
//! unlinked temporary file and copied out after verification.
//!
//! Decryption runs on two threads joined by bounded channels, because one core cannot do both
//! HMAC-SHA256 (about 1.8 GB/s with SHA-NI, and serial) and AES-CBC plus the copies in and out of
//! the kernel at that rate. One thread does nothing but the MAC, the bottleneck; the caller's
//! thread reads ahead to keep it fed, and deciphers and writes what comes back. A fixed set of
//! chunk buffers circulates between the two, so memory stays at a few MiB whatever the size of
//! the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use sha2::{Digest, Sha256};
use waweb_core::crypto::BLOCK;
use waweb_core::media::{
    self, BlockDecryptor, BlockEncryptor, BodyMac, BodySealer, CARRY_MAX, Encrypted, Expected,
    MAC_LEN, MediaKeys, releasable, split_tail,
};
use waweb_fs::AtomicFile;

/// Bytes read per chunk. Large enough that channel hand-offs and syscalls are noise, small
/// enough that the chunks in flight stay in the shared cache and the process stays small.
pub const CHUNK: usize = 1 << 20;

/// Chunk buffers in circulation: enough that the MAC thread always finds a chunk queued while
/// the other thread reads, deciphers and writes, with one spare to absorb jitter.
pub const DEPTH: usize = 4;

/// Why a media file could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is malformed, fails its MAC, or does not match what was announced.
    #[error(transparent)]
    Media(#[from] media::Error),
    /// Reading, writing or renaming failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the file.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// Decrypts a body from `input` and writes the plaintext to `output` as it goes, returning the
/// plaintext length once the MAC and the `expected` hashes have been verified.
///
/// On error `output` has received unauthenticated plaintext (everything but the final block) and
/// must be discarded; [`decrypt_to_path`] and [`decrypt_to_writer`] do that for you.
pub fn decrypt_stream<R: Read, W: Write>(
    input: R,
    output: &mut W,
    keys: &MediaKeys,
    expected: &Expected,
) -> Result<u64, Error> {
    decrypt_pipeline(
        input,
        output,
        keys,
        expected,
        "writing the plaintext",
        CHUNK,
    )
}

/// Decrypts a body from `input` into the file `target`, which appears (or is replaced) only if
/// the body verified. Returns the plaintext length.
///
/// A target that exists but is not a regular file (`/dev/null`, a named pipe) cannot be replaced;
/// it is written like standard output, after verification.
pub fn decrypt_to_path<R: Read>(
    input: R,
    target: &Path,
    keys: &MediaKeys,
    expected: &Expected,
) -> Result<u64, Error> {
    match Destination::open(target)? {
        Destination::Stream(mut file) => decrypt_to_writer(input, &mut file, keys, expected),
        Destination::Replace(mut file) => {
            let context = format!("writing {}", file.temp_path().display());
            let mut output = WriteBehind::new(file.file_mut(), writeback_every());
            let len = decrypt_pipeline(input, &mut output, keys, expected, &context, CHUNK)?;
            commit(file)?;
            Ok(len)
        }
    }
}

/// Decrypts a body from `input` and copies the plaintext to `output` only once it verified,
/// spooling it meanwhile in an unlinked file of the temporary directory.
pub fn decrypt_to_writer<R: Read, W: Write>(
    input: R,
    output: &mut W,
    keys: &MediaKeys,
    expected: &Expected,
) -> Result<u64, Error> {
    // Unlinked from the start (`O_TMPFILE` where the file system has it), so it vanishes with
    // the process whatever happens.
    let dir = std::env::temp_dir();
    let mut spool = tempfile::tempfile_in(&dir)
        .map_err(io_error(format!("creating a file in {}", dir.display())))?;
    let len = decrypt_pipeline(
        input,
        &mut spool,
        keys,
        expected,
        "writing the spool file",
        CHUNK,
    )?;
    spool
        .seek(SeekFrom::Start(0))
        .map_err(io_error("rewinding the spool file"))?;
    // `io::copy` from a file lets the kernel move the bytes (sendfile, splice) where it can.
    io::copy(&mut spool, output).map_err(io_error("writing the plaintext"))?;
    output.flush().map_err(io_error("writing the plaintext"))?;
    Ok(len)
}

/// Encrypts `input` into the file `target` (and the streaming sidecar into `sidecar`, if given),
/// each of which appears only complete. Returns what a message announces about the file.
pub fn encrypt_to_path<R: Read>(
    input: R,
    target: &Path,
    sidecar: Option<&Path>,
    keys: &MediaKeys,
) -> Result<Encrypted, Error> {
    let mut body = Destination::open(target)?;
    let mut side = sidecar.map(Destination::open).transpose()?;
    let encrypted = encrypt_stream(
        input,
        &mut body.writer(),
        side.as_mut().map(Destination::file),
        keys,
    )?;
    if let Some(side) = side {
        side.finish()?;
    }
    body.finish()?;
    Ok(encrypted)
}

/// Encrypts `input` into `output` (and the streaming sidecar into `sidecar`, if given) as it
/// goes. A failed read leaves a partial body in `output`.
pub fn encrypt_stream<R: Read, W: Write + Send>(
    input: R,
    output: &mut W,
    sidecar: Option<&mut File>,
    keys: &MediaKeys,
) -> Result<Encrypted, Error> {
    encrypt_pipeline(input, output, sidecar, keys, CHUNK)
}

fn encrypt_pipeline<R: Read, W: Write + Send>(
    mut input: R,
    output: &mut W,
    sidecar: Option<&mut File>,
    keys: &MediaKeys,
    chunk: usize,
) -> Result<Encrypted, Error> {
    // Both halves are serial (CBC encryption, HMAC), so each gets a core: the caller's thread
    // reads, hashes and enciphers; a second thread MACs, hashes the body, builds the sidecar and
    // writes.
    let sealer = BodySealer::new(keys, sidecar.is_some())?;
    let mut cipher = Some(BlockEncryptor::new(keys));
    let (free_tx, free_rx) = sync_channel::<Vec<u8>>(DEPTH);
    let (full_tx, full_rx) = sync_channel::<(Vec<u8>, bool)>(DEPTH);
    for _ in 0..DEPTH {
        let buf = Vec::with_capacity(chunk + BLOCK + MAC_LEN);
        free_tx.send(buf).map_err(|_| pipeline_broken())?;
    }
    thread::scope(|scope| {
        let writer = scope.spawn(move || seal_and_write(sealer, full_rx, free_tx, output, sidecar));
        let mut plain = vec![0u8; chunk];
        let read = (|| -> Result<Option<([u8; 32], u64)>, Error> {
            loop {
                // A closed channel means the writer stopped; its own error tells why.
                let Ok(mut body) = free_rx.recv() else {
                    return Ok(None);
                };
                body.clear();
                let (len, eof) =
                    fill(&mut input, &mut plain, 0).map_err(io_error("reading the plaintext"))?;
                let Some(state) = cipher.as_mut() else {
                    return Err(pipeline_broken());
                };
                state.update(&plain[..len], &mut body);
                if eof && let Some(state) = cipher.take() {
                    let (file_sha256, file_length) = state.finish(&mut body);
                    let sent = full_tx.send((body, true));
                    return Ok(sent.ok().map(|()| (file_sha256, file_length)));
                }
                if full_tx.send((body, false)).is_err() {
                    return Ok(None);
                }
            }
        })();
        drop(full_tx);
        let written = join(writer);
        let read = read?;
        let file_enc_sha256 = written?;
        match (read, file_enc_sha256) {
            (Some((file_sha256, file_length)), Some(file_enc_sha256)) => Ok(Encrypted {
                file_sha256,
                file_enc_sha256,
                file_length,
            }),
            _ => Err(pipeline_broken()),
        }
    })
}

/// The second half of encryption: seals each chunk of ciphertext and writes it, appending the
/// MAC to the last. Returns the body's SHA-256, or `None` if the input never ended.
fn seal_and_write<W: Write>(
    sealer: BodySealer,
    from_cipher: Receiver<(Vec<u8>, bool)>,
    free: SyncSender<Vec<u8>>,
    output: &mut W,
    mut sidecar: Option<&mut File>,
) -> Result<Option<[u8; 32]>, Error> {
    let mut sealer = Some(sealer);
    let mut side = Vec::new();
    for (mut body, last) in from_cipher {
        let Some(state) = sealer.as_mut() else {
            break;
        };
        state.update(&body);
        state.drain_sidecar(&mut side);
        let digest = if last {
            sealer
                .take()
                .map(|state| state.finish(&mut body, &mut side))
        } else {
            None
        };
        output
            .write_all(&body)
            .map_err(io_error("writing the encrypted body"))?;
        if let Some(file) = sidecar.as_mut() {
            file.write_all(&side)
                .map_err(io_error("writing the sidecar"))?;
        }
        side.clear();
        if digest.is_some() {
            output
                .flush()
                .map_err(io_error("writing the encrypted body"))?;
            return Ok(digest);
        }
        // The reader may have stopped already; then nobody needs the buffer back.
        let _ = free.send(body);
    }
    Ok(None)
}

/// A chunk of body on its way through the decryption pipeline.
struct Chunk {
    buf: Box<[u8]>,
    /// Leading bytes of `buf` that are whole cipher blocks.
    ready: usize,
    /// The MAC tag, on the last chunk of the body only.
    tag: Option<[u8; MAC_LEN]>,
    /// Set on the last chunk once the MAC verified, so a forged final block is never opened.
    mac_ok: bool,
}

/// The plaintext length and, if asked for, its SHA-256.
type Deciphered = (u64, Option<[u8; 32]>);

/// The MAC thread's verdict on the whole body, with the body's SHA-256 if asked for.
type Verdict = Result<Option<[u8; 32]>, media::Error>;

fn decrypt_pipeline<R: Read, W: Write>(
    mut input: R,
    output: &mut W,
    keys: &MediaKeys,
    expected: &Expected,
    output_context: &str,
    chunk: usize,
) -> Result<u64, Error> {
    let (to_mac, from_reader) = sync_channel::<Chunk>(DEPTH);
    let (to_decipher, from_mac) = sync_channel::<Chunk>(DEPTH);
    let hash_body = expected.file_enc_sha256.is_some();
    thread::scope(|scope| {
        let mac = scope
            .spawn(move || authenticate(BodyMac::new(keys), hash_body, from_reader, to_decipher));
        // `read_and_decipher` owns the sending end, so the MAC thread sees the end of the body
        // (or this thread's failure) as its channel closing.
        let bound = expected.file_length.zip(expected.max_body_len());
        let body = BodyReader::new(&mut input, chunk, bound);
        let deciphered = read_and_decipher(
            body,
            output,
            keys,
            expected.file_sha256.is_some(),
            output_context,
            to_mac,
            from_mac,
        );
        // A forged body explains any other failure; a read failure explains a missing verdict.
        let body_sha = match join(mac) {
            Some(verdict) => Some(verdict?),
            None => None,
        };
        let (plain_len, plain_sha) = deciphered?.ok_or_else(pipeline_broken)?;
        if let Some(digest) = body_sha.flatten() {
            expected.check_file_enc_sha256(&digest)?;
        }
        expected.check_length(plain_len)?;
        if let Some(digest) = plain_sha {
            expected.check_file_sha256(&digest)?;
        }
        Ok(plain_len)
    })
}

/// Splits the input into chunks of whole cipher blocks, carrying the possible end of the body
/// (the last block and the MAC) over to the next chunk until the input ends.
struct BodyReader<'a, R> {
    input: &'a mut R,
    chunk: usize,
    carry: [u8; CARRY_MAX],
    carry_len: usize,
    body_len: u64,
    /// The announced plaintext length and the longest body it allows
    /// ([`Expected::max_body_len`]).
    bound: Option<(u64, u64)>,
    done: bool,
}

impl<'a, R: Read> BodyReader<'a, R> {
    fn new(input: &'a mut R, chunk: usize, bound: Option<(u64, u64)>) -> Self {
        Self {
            input,
            chunk,
            carry: [0; CARRY_MAX],
            carry_len: 0,
            body_len: 0,
            bound,
            done: false,
        }
    }

    /// A buffer for [`next`](Self::next): the carry goes in front, so every read is a whole
    /// chunk.
    fn buffer(&self) -> Box<[u8]> {
        vec![0u8; self.chunk + CARRY_MAX].into_boxed_slice()
    }

    fn next(&mut self, mut buf: Box<[u8]>) -> Result<Chunk, Error> {
        let carry_len = self.carry_len;
        buf[..carry_len].copy_from_slice(&self.carry[..carry_len]);
        let (len, eof) =
            fill(self.input, &mut buf, carry_len).map_err(io_error("reading the media body"))?;
        self.body_len += (len - carry_len) as u64;
        if let Some((file_length, limit)) = self.bound
            && self.body_len > limit
        {
            return Err(Error::Media(media::Error::TooLong { file_length, limit }));
        }
        let (ready, tag) = if eof {
            let (enc, tag) = split_tail(&buf[..len], self.body_len)?;
            self.done = true;
            (enc.len(), Some(*tag))
        } else {
            let ready = releasable(len);
            self.carry_len = len - ready;
            self.carry[..self.carry_len].copy_from_slice(&buf[ready..len]);
            (ready, None)
        };
        Ok(Chunk {
            buf,
            ready,
            tag,
            mac_ok: false,
        })
    }
}

/// The caller's thread: reads ahead to keep the MAC thread (the serial bottleneck) fed, and
/// deciphers, hashes if asked, and writes each chunk that comes back authenticated.
///
/// Returns the plaintext length and digest, or `None` if the body never ended or its MAC failed.
fn read_and_decipher<R: Read, W: Write>(
    mut body: BodyReader<'_, R>,
    output: &mut W,
    keys: &MediaKeys,
    hash_plain: bool,
    context: &str,
    to_mac: SyncSender<Chunk>,
    from_mac: Receiver<Chunk>,
) -> Result<Option<Deciphered>, Error> {
    let mut spare: Vec<Box<[u8]>> = (0..DEPTH).map(|_| body.buffer()).collect();
    let mut in_flight = 0usize;
    let mut cipher = Some(BlockDecryptor::new(keys));
    let mut sha = hash_plain.then(Sha256::new);
    let mut written = 0u64;
    loop {
        while !body.done
            && let Some(buf) = spare.pop()
        {
            // A closed channel means the MAC thread stopped, which it does not on its own.
            if to_mac.send(body.next(buf)?).is_err() {
                return Ok(None);
            }
            in_flight += 1;
        }
        if in_flight == 0 {
            return Ok(None);
        }
        let Ok(mut chunk) = from_mac.recv() else {
            return Ok(None);
        };
        in_flight -= 1;
        let last = chunk.tag.is_some();
        let blocks = &mut chunk.buf[..chunk.ready];
        let plain = match (last, cipher.as_mut()) {
            (false, Some(cipher)) => cipher.decrypt(blocks)?,
            (true, Some(_)) if chunk.mac_ok => match cipher.take() {
                Some(cipher) => cipher.decrypt_last(blocks)?,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        if let Some(sha) = &mut sha {
            sha.update(plain);
        }
        output.write_all(plain).map_err(io_error(context))?;
        written += plain.len() as u64;
        if last {
            output.flush().map_err(io_error(context))?;
            return Ok(Some((written, sha.map(|sha| sha.finalize().into()))));
        }
        spare.push(chunk.buf);
    }
}

/// The MAC thread: HMAC (and the optional body hash) over every chunk, in order, checking the
/// tag on the last one.
///
/// Returns the verdict, or `None` if the body never ended (the other thread stopped early).
fn authenticate(
    mac: BodyMac,
    hash_body: bool,
    from_reader: Receiver<Chunk>,
    to_decipher: SyncSender<Chunk>,
) -> Option<Verdict> {
    let mut mac = Some(mac);
    let mut sha = hash_body.then(Sha256::new);
    for mut chunk in from_reader {
        let enc = &chunk.buf[..chunk.ready];
        if let Some(state) = mac.as_mut() {
            state.update(enc);
        }
        if let Some(sha) = &mut sha {
            sha.update(enc);
        }
        let mut verdict = None;
        if let Some(tag) = chunk.tag
            && let Some(state) = mac.take()
        {
            let result = state.verify(&tag);
            chunk.mac_ok = result.is_ok();
            verdict = Some(result.map(|()| {
                sha.take().map(|mut sha| {
                    sha.update(tag);
                    sha.finalize().into()
                })
            }));
        }
        // If the other thread is gone it failed, and says why; the verdict still counts.
        let sent = to_decipher.send(chunk);
        if verdict.is_some() || sent.is_err() {
            return verdict;
        }
    }
    None
}

/// Reads into `buf[len..]` until it is full or the input ends; returns the new length and
/// whether the input ended.
fn fill<R: Read>(input: &mut R, buf: &mut [u8], mut len: usize) -> io::Result<(usize, bool)> {
    while len < buf.len() {
        match input.read(&mut buf[len..]) {
            Ok(0) => return Ok((len, true)),
            Ok(n) => len += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok((len, false))
}

fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn pipeline_broken() -> Error {
    Error::Io {
        context: "media pipeline".into(),
        source: io::Error::other("a stage stopped before the end of the data"),
    }
}

/// Where an output goes.
enum Destination {
    /// A regular file, a symbolic link (never followed) or nothing yet: written beside, then
    /// renamed over the path, so a link is replaced and what it pointed to is left alone. Dropped before
    /// [`commit`], the file beside is removed and the path is left as it was.
    Replace(AtomicFile),
    /// Something that is not a regular file, such as `/dev/null` or a named pipe: renaming over
    /// it would destroy it, so it is opened and written in place.
    Stream(File),
}

impl Destination {
    fn open(target: &Path) -> Result<Self, Error> {
        // A symbolic link is never followed: it is itself replaced by the new file (the
        // rename is atomic), so a client cannot make the daemon write where the link points.
        let target = target.to_path_buf();
        match fs::symlink_metadata(&target) {
            // Refused up front rather than after all the work, when the rename would fail.
            Ok(meta) if meta.is_dir() => Err(io_error(format!("writing {}", target.display()))(
                io::ErrorKind::IsADirectory.into(),
            )),
            Ok(meta) if !meta.is_file() && !meta.file_type().is_symlink() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(io_error(format!("opening {}", target.display())))?;
                Ok(Self::Stream(file))
            }
            // A private file (mode 0600, exclusive create, random name) in the target's folder,
            // so that the final rename stays on one file system and is atomic.
            _ => AtomicFile::create(&target)
                .map(Self::Replace)
                .map_err(fs_error),
        }
    }

    fn file(&mut self) -> &mut File {
        match self {
            Self::Replace(file) => file.file_mut(),
            Self::Stream(file) => file,
        }
    }

    /// The file, with early writeback if it is one that will be fsynced.
    fn writer(&mut self) -> WriteBehind<'_> {
        match self {
            Self::Replace(file) => WriteBehind::new(file.file_mut(), writeback_every()),
            Self::Stream(file) => WriteBehind::new(file, 0),
        }
    }

    fn finish(self) -> Result<(), Error> {
        match self {
            Self::Replace(file) => commit(file),
            Self::Stream(mut file) => file.flush().map_err(io_error("flushing the output")),
        }
    }
}

/// Bytes written between two early-writeback hints: 64 MiB, or `WAWEBD_WRITEBACK_MIB` MiB
/// (0 turns it off, which the disk benchmark compares against).
fn writeback_every() -> u64 {
    const DEFAULT_MIB: u64 = 64;
    std::env::var("WAWEBD_WRITEBACK_MIB")
        .ok()
        .and_then(|mib| mib.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_MIB)
        .saturating_mul(1 << 20)
}

/// A file that is about to be fsynced, written with early writeback: every `every` bytes, the
/// kernel is told to start writing the range just written to the device (without waiting).
///
/// Without it the data of a large file sits dirty in the page cache (the kernel's background
/// writeback starts only at 10% of memory), and the fsync before the rename then writes all of
/// it at once, after the cryptography is done: for 1 GiB on this project's disk that serialises
/// about 2 s of device time behind 0.8 s of CPU. Started early, the device writes while the MAC
/// and the cipher run, and the final fsync has only the last range left. `POSIX_FADV_DONTNEED`
/// is the hint: on Linux it starts asynchronous writeback of the dirty pages of the range
/// (`WB_SYNC_NONE`) and drops only those already clean. It is a hint; its failure is ignored,
/// and the fsync still decides durability.
struct WriteBehind<'a> {
    file: &'a mut File,
    every: u64,
    written: u64,
    /// Where the range not yet handed to writeback starts.
    started: u64,
}

impl<'a> WriteBehind<'a> {
    fn new(file: &'a mut File, every: u64) -> Self {
        Self {
            file,
            every,
            written: 0,
            started: 0,
        }
    }
}

impl Write for WriteBehind<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.every > 0
            && let Some(len) = std::num::NonZeroU64::new(self.written - self.started)
            && len.get() >= self.every
        {
            let _ = rustix::fs::fadvise(
                &*self.file,
                self.started,
                Some(len),
                rustix::fs::Advice::DontNeed,
            );
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Flushes the data to disk, then renames the file over its target.
fn commit(file: AtomicFile) -> Result<(), Error> {
    match file.commit() {
        Ok(()) => Ok(()),
        // Only the directory's fsync failed: some file systems refuse one, and the file is
        // complete and in place either way.
        Err(error) if error.is_in_place() => Ok(()),
        Err(error) => Err(fs_error(error)),
    }
}

fn fs_error(error: waweb_fs::Error) -> Error {
    let context = format!("{} {}", error.action(), error.path().display());
    Error::Io {
        context,
        source: error.into_source(),
    }
}

#[cfg(test)]
mod tests;
