//! `wawebd decode`: captured frames (or plain nodes) in, one JSON object per frame out.
//!
//! ```text
//! wawebd decode --enc-key HEX --mac-key HEX < frame.bin
//! {"tag":"1600000000.--0","node":{"tag":"query","attrs":{"type":"chat","epoch":"1"},"content":null}}
//! ```

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde::Serialize;
use waweb_core::binary::{self, Node};
use waweb_core::crypto::{Secret, SessionKeys};
use waweb_core::hex;
use waweb_core::wire::{self, ClientText, FrameCipher, ServerText};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The session's encKey, 64 hex digits.
    #[arg(
        long,
        value_name = "HEX",
        required_unless_present = "plain",
        conflicts_with = "plain"
    )]
    enc_key: Option<String>,
    /// The session's macKey, 64 hex digits.
    #[arg(
        long,
        value_name = "HEX",
        required_unless_present = "plain",
        conflicts_with = "plain"
    )]
    mac_key: Option<String>,
    /// Frames were sent by a client: METRIC and FLAGS bytes follow the tag's comma.
    #[arg(long, conflicts_with = "plain")]
    from_client: bool,
    /// Input is a plaintext node (no tag, no encryption).
    #[arg(long)]
    plain: bool,
    /// Input is many frames, each prefixed by its length as a 4-byte big-endian integer.
    #[arg(long)]
    stream: bool,
}

enum Mode {
    Plain,
    Frames {
        cipher: Box<FrameCipher>,
        from_client: bool,
    },
}

/// One output line.
#[derive(Serialize)]
#[serde(untagged)]
enum Decoded<'a> {
    Node(Node),
    Binary {
        tag: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        metric: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        flags: Option<u8>,
        node: Node,
    },
    Text {
        tag: &'a str,
        json: serde_json::Value,
    },
    EmptyAck {
        tag: &'a str,
        json: (),
    },
    Pong {
        pong: u64,
    },
    Keepalive {
        keepalive: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mode = if args.plain {
        Mode::Plain
    } else {
        let key = |name: &'static str, text: &Option<String>| -> anyhow::Result<Secret<32>> {
            let text = text.as_deref().unwrap_or_default();
            let bytes = hex::decode(text).with_context(|| format!("--{name}"))?;
            Secret::from_slice(name, &bytes).with_context(|| format!("--{name}"))
        };
        let keys = SessionKeys {
            enc: key("enc-key", &args.enc_key)?,
            mac: key("mac-key", &args.mac_key)?,
        };
        Mode::Frames {
            cipher: Box::new(FrameCipher::new(&keys)),
            from_client: args.from_client,
        }
    };
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    if args.stream {
        return stream(&mode, &mut input, &mut out);
    }
    let mut frame = Vec::new();
    input.read_to_end(&mut frame).context("reading stdin")?;
    let line = decode_one(&mode, &frame, |decoded| serde_json::to_string(decoded))?;
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Frames up to this size are read into a buffer sized from their prefix.
const SMALL_FRAME: u64 = 1 << 20;

fn stream(mode: &Mode, input: &mut impl Read, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let mut frame = Vec::new();
    let mut index = 0usize;
    loop {
        let mut prefix = [0u8; 4];
        let got = read_full(input, &mut prefix)?;
        if got == 0 {
            break;
        }
        if got < 4 {
            writeln!(
                out,
                "{}",
                error_line(&format!(
                    "frame {index}: truncated length prefix ({got} of 4 bytes)"
                ))
            )?;
            out.flush()?;
            return Ok(ExitCode::FAILURE);
        }
        let len = u32::from_be_bytes(prefix) as u64;
        frame.clear();
        if len <= SMALL_FRAME {
            // The common case: one exact read into the reused buffer.
            frame.resize(len as usize, 0);
            let got = read_full(input, &mut frame)?;
            frame.truncate(got);
        } else {
            // `take` grows the buffer as bytes arrive, so a lying prefix allocates nothing extra.
            input
                .take(len)
                .read_to_end(&mut frame)
                .context("reading stdin")?;
        }
        if (frame.len() as u64) < len {
            let message = format!("frame {index}: truncated ({} of {len} bytes)", frame.len());
            writeln!(out, "{}", error_line(&message))?;
            out.flush()?;
            return Ok(ExitCode::FAILURE);
        }
        // Serialised straight into the buffered output: no line is built in between.
        if let Err(error) = decode_one(mode, &frame, |decoded| {
            serde_json::to_writer(&mut *out, decoded)
        }) {
            write!(out, "{}", error_line(&format!("{error:#}")))?;
        }
        out.write_all(b"\n")?;
        index += 1;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn error_line(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

fn decode_one<T>(
    mode: &Mode,
    frame: &[u8],
    render: impl FnOnce(&Decoded<'_>) -> serde_json::Result<T>,
) -> anyhow::Result<T> {
    let decoded = match mode {
        Mode::Plain => Decoded::Node(binary::decode(frame)?),
        Mode::Frames {
            cipher,
            from_client,
        } => {
            let opened = if *from_client {
                cipher
                    .open_client_frame(frame)
                    .map(|opened| (opened.tag, opened.metric, opened.flags, opened.node))
            } else {
                cipher
                    .open_server_frame(frame)
                    .map(|(tag, node)| (tag, None, None, node))
            };
            match opened {
                Ok((tag, metric, flags, node)) => Decoded::Binary {
                    tag,
                    metric,
                    flags,
                    node: binary::decode(&node)?,
                },
                // A capture may hold the text frames of the same connection too.
                Err(error) => match as_text(frame, *from_client) {
                    Some(text) => text,
                    None => bail!(error),
                },
            }
        }
    };
    Ok(render(&decoded)?)
}

fn as_text(frame: &[u8], from_client: bool) -> Option<Decoded<'_>> {
    let text = std::str::from_utf8(frame).ok()?;
    let json = |tag, json: &str| {
        let json = serde_json::from_str(json).ok()?;
        Some(Decoded::Text { tag, json })
    };
    if from_client {
        match wire::parse_client_text(text).ok()? {
            ClientText::Keepalive => Some(Decoded::Keepalive { keepalive: true }),
            ClientText::Json { tag, json: body } => json(tag, body),
        }
    } else {
        match wire::parse_server_text(text).ok()? {
            ServerText::Pong(pong) => Some(Decoded::Pong { pong }),
            ServerText::EmptyAck(tag) => Some(Decoded::EmptyAck { tag, json: () }),
            ServerText::Json { tag, json: body } => json(tag, body),
        }
    }
}
