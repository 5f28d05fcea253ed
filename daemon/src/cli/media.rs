//! `wawebd media decrypt|encrypt` (DESIGN.md section 2): media crypto offline, streaming.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT,
};
use waweb_core::crypto::Secret;
use waweb_core::media::{Expected, MEDIA_KEY_LEN, MediaKeys, MediaType};
use wawebd::media_file;
use zeroize::Zeroizing;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Decrypt and verify a media body (ciphertext followed by its 10-byte MAC).
    ///
    /// Nothing reaches the output unless the MAC (and any hash given) verified: a file output
    /// is replaced atomically, standard output is written only at the end.
    Decrypt(DecryptArgs),
    /// Encrypt a file and print `{"media_key","file_sha256","file_enc_sha256","file_length"}`
    /// as one JSON line.
    Encrypt(EncryptArgs),
}

#[derive(Debug, clap::Args)]
pub struct DecryptArgs {
    /// Media type: image, video, audio, document or sticker.
    #[arg(long = "type", value_name = "T")]
    kind: String,
    /// The message's mediaKey, base64 (standard or URL-safe): 32 bytes.
    #[arg(long, value_name = "B64")]
    key: String,
    /// The encrypted body; `-` or absent means standard input.
    #[arg(long, value_name = "F")]
    input: Option<PathBuf>,
    /// Where to write the plaintext; `-` or absent means standard output.
    #[arg(long, value_name = "F")]
    output: Option<PathBuf>,
    /// Also check the plaintext against the message's fileSha256 (base64).
    #[arg(long, value_name = "B64")]
    file_sha256: Option<String>,
    /// Also check the body against the message's fileEncSha256 (base64).
    #[arg(long, value_name = "B64")]
    file_enc_sha256: Option<String>,
    /// Also check the plaintext's length against the message's fileLength.
    #[arg(long, value_name = "N")]
    file_length: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct EncryptArgs {
    /// Media type: image, video, audio, document or sticker.
    #[arg(long = "type", value_name = "T")]
    kind: String,
    /// The mediaKey to use, base64 (standard or URL-safe): 32 bytes; random when absent.
    #[arg(long, value_name = "B64")]
    key: Option<String>,
    /// The plaintext; `-` means standard input.
    #[arg(long, value_name = "F")]
    input: PathBuf,
    /// Where to write the encrypted body (standard output carries the JSON summary).
    #[arg(long, value_name = "F")]
    output: PathBuf,
    /// Also write the streaming sidecar (video and audio only).
    #[arg(long, value_name = "F")]
    sidecar: Option<PathBuf>,
}

/// What a message announces about an encrypted file, in the order DESIGN.md lists it.
#[derive(serde::Serialize)]
struct Summary {
    media_key: String,
    file_sha256: String,
    file_enc_sha256: String,
    file_length: u64,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Decrypt(args) => decrypt(args),
        Command::Encrypt(args) => encrypt(args),
    }
    .map(|()| ExitCode::SUCCESS)
}

fn decrypt(args: DecryptArgs) -> anyhow::Result<()> {
    let kind: MediaType = args.kind.parse()?;
    let key = decode_key(&args.key)?;
    let keys = MediaKeys::derive(key.expose(), kind)?;
    let expected = Expected {
        file_sha256: args
            .file_sha256
            .as_deref()
            .map(|text| decode_digest("--file-sha256", text))
            .transpose()?,
        file_enc_sha256: args
            .file_enc_sha256
            .as_deref()
            .map(|text| decode_digest("--file-enc-sha256", text))
            .transpose()?,
        file_length: args.file_length,
    };
    let input = open_input(args.input.as_deref())?;
    match args.output.as_deref().filter(|path| !is_dash(path)) {
        Some(path) => media_file::decrypt_to_path(input, path, &keys, &expected)?,
        None => media_file::decrypt_to_writer(input, &mut io::stdout().lock(), &keys, &expected)?,
    };
    Ok(())
}

fn encrypt(args: EncryptArgs) -> anyhow::Result<()> {
    let kind: MediaType = args.kind.parse()?;
    let key = match &args.key {
        Some(text) => decode_key(text)?,
        None => Secret::random(),
    };
    let keys = MediaKeys::derive(key.expose(), kind)?;
    if is_dash(&args.output) {
        bail!("--output must be a file: standard output carries the JSON summary");
    }
    if args.sidecar.is_some() && !kind.has_sidecar() {
        return Err(waweb_core::media::Error::NoSidecar(kind).into());
    }
    let input = open_input(Some(&args.input))?;
    let encrypted =
        media_file::encrypt_to_path(input, &args.output, args.sidecar.as_deref(), &keys)?;
    let summary = Summary {
        media_key: STANDARD.encode(key.expose()),
        file_sha256: STANDARD.encode(encrypted.file_sha256),
        file_enc_sha256: STANDARD.encode(encrypted.file_enc_sha256),
        file_length: encrypted.file_length,
    };
    let line = Zeroizing::new(serde_json::to_string(&summary)?);
    drop(Zeroizing::new(summary.media_key));
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{}", line.as_str()).context("writing the summary")?;
    stdout.flush().context("writing the summary")?;
    Ok(())
}

fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn open_input(path: Option<&Path>) -> anyhow::Result<Box<dyn Read>> {
    match path.filter(|path| !is_dash(path)) {
        Some(path) => {
            let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            Ok(Box::new(file))
        }
        None => Ok(Box::new(io::stdin().lock())),
    }
}

/// Base64 in either alphabet, padded or not: keys are pasted from JSON (standard) as often as
/// from URLs and upload tokens (URL-safe).
fn decode_base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let text = text.trim();
    let engine = if text.contains(['-', '_']) {
        &URL_SAFE_PAD_INDIFFERENT
    } else {
        &STANDARD_PAD_INDIFFERENT
    };
    engine.decode(text).ok().map(Zeroizing::new)
}

/// Decodes `--key`; the error never echoes the key, which is a secret.
fn decode_key(text: &str) -> anyhow::Result<Secret<MEDIA_KEY_LEN>> {
    let Some(bytes) = decode_base64(text) else {
        bail!("--key is not valid base64 (standard or URL-safe)");
    };
    Secret::from_slice("media key", &bytes)
        .map_err(|_| waweb_core::media::Error::KeyLength(bytes.len()).into())
}

fn decode_digest(flag: &str, text: &str) -> anyhow::Result<[u8; 32]> {
    let Some(bytes) = decode_base64(text) else {
        bail!("{flag} is not valid base64 (standard or URL-safe)");
    };
    let len = bytes.len();
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("{flag} must be a 32-byte SHA-256, got {len} bytes"))
}
