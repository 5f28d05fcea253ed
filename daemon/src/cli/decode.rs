//! `wawebd decode`: captured frames (or plain nodes) in, one JSON object per frame out.
//!
//! ```text
//! wawebd decode --enc-key HEX --mac-key HEX < frame.bin
//! {"tag":"1600000000.--0","node":{"tag":"query","attrs":{"type":"chat","epoch":"1"},"content":null}}
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
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
enum Decoded<'a> {
    Node(Node),
    Binary {
        tag: &'a str,
        metric: Option<u8>,
        flags: Option<u8>,
        node: Node,
    },
    Other(Other<'a>),
}

/// The lines of text frames and pings, written by serde.
#[derive(Serialize)]
#[serde(untagged)]
enum Other<'a> {
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

impl Decoded<'_> {
    /// Appends the line without its newline. Nodes, the hot path, go through the direct writer
    /// (`Node::write_json`); `{"tag":…,"metric":…,"flags":…,"node":…}` leaves out a missing
    /// metric and flags.
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Decoded::Node(node) => node.write_json(out),
            Decoded::Binary {
                tag,
                metric,
                flags,
                node,
            } => {
                out.extend_from_slice(b"{\"tag\":");
                binary::write_json_str(tag, out);
                for (name, value) in [("metric", metric), ("flags", flags)] {
                    if let Some(value) = value {
                        // Infallible into a Vec, and an u8 needs no formatting crate.
                        let _ = write!(out, ",\"{name}\":{value}");
                    }
                }
                out.extend_from_slice(b",\"node\":");
                node.write_json(out);
                out.push(b'}');
            }
            Decoded::Other(other) => {
                serde_json::to_writer(&mut *out, other).expect("writing to a Vec cannot fail");
            }
        }
    }
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
    let mut input = io::stdin().lock();
    let mut out = io::stdout().lock();
    if args.stream {
        return stream(&mode, &mut input, &mut out);
    }
    let mut frame = Vec::new();
    input.read_to_end(&mut frame).context("reading stdin")?;
    let mut line = Vec::new();
    decode_one(&mode, &frame, &mut Vec::new())?.write(&mut line);
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Frames up to this size are read into a buffer sized from their prefix.
const SMALL_FRAME: u64 = 1 << 20;

/// Input is read in chunks of this size; most frames are decoded where they lie in it.
const INPUT_CHUNK: usize = 1 << 18;

/// Output lines are collected up to this size before one write.
const OUTPUT_CHUNK: usize = 1 << 16;

/// The buffers of `--stream`, reused from frame to frame.
struct Stream<'m, W> {
    mode: &'m Mode,
    out: W,
    lines: Vec<u8>,
    plain: Vec<u8>,
    index: usize,
}

impl<W: Write> Stream<'_, W> {
    /// Appends the frame's line (or its error line); writes the lines out once there are enough.
    fn frame(&mut self, frame: &[u8]) -> io::Result<()> {
        match decode_one(self.mode, frame, &mut self.plain) {
            Ok(decoded) => decoded.write(&mut self.lines),
            Err(error) => self
                .lines
                .extend_from_slice(error_line(&format!("{error:#}")).as_bytes()),
        }
        self.lines.push(b'\n');
        self.index += 1;
        if self.lines.len() >= OUTPUT_CHUNK {
            self.out.write_all(&self.lines)?;
            self.lines.clear();
        }
        Ok(())
    }

    /// Writes every line so far: at the end, and before a read that may block, so that a reader
    /// at the other end of a pipe sees each line while the writer is idle.
    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.lines)?;
        self.lines.clear();
        self.out.flush()
    }

    /// The last line of a stream cut short.
    fn fail(&mut self, message: &str) -> anyhow::Result<ExitCode> {
        let message = format!("frame {}: {message}", self.index);
        self.lines
            .extend_from_slice(error_line(&message).as_bytes());
        self.lines.push(b'\n');
        self.flush()?;
        Ok(ExitCode::FAILURE)
    }
}

fn stream(mode: &Mode, input: impl Read, out: impl Write) -> anyhow::Result<ExitCode> {
    let mut input = BufReader::with_capacity(INPUT_CHUNK, input);
    let mut stream = Stream {
        mode,
        out,
        lines: Vec::with_capacity(2 * OUTPUT_CHUNK),
        plain: Vec::new(),
        index: 0,
    };
    let mut frame = Vec::new();
    loop {
        // The common case: the whole frame is in the input buffer, decoded where it lies.
        let buffered = input.buffer();
        if let Some((prefix, rest)) = buffered.split_first_chunk::<4>() {
            let len = u32::from_be_bytes(*prefix) as usize;
            if let Some(frame) = rest.get(..len) {
                stream.frame(frame)?;
                input.consume(4 + len);
                continue;
            }
        }
        stream.flush()?;
        let mut prefix = [0u8; 4];
        let got = read_full(&mut input, &mut prefix)?;
        if got == 0 {
            break;
        }
        if got < 4 {
            return stream.fail(&format!("truncated length prefix ({got} of 4 bytes)"));
        }
        let len = u32::from_be_bytes(prefix) as u64;
        frame.clear();
        if len <= SMALL_FRAME {
            // One exact read into the reused buffer.
            frame.resize(len as usize, 0);
            let got = read_full(&mut input, &mut frame)?;
            frame.truncate(got);
        } else {
            // `take` grows the buffer as bytes arrive, so a lying prefix allocates nothing extra.
            (&mut input)
                .take(len)
                .read_to_end(&mut frame)
                .context("reading stdin")?;
        }
        if (frame.len() as u64) < len {
            return stream.fail(&format!("truncated ({} of {len} bytes)", frame.len()));
        }
        stream.frame(&frame)?;
    }
    stream.flush()?;
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

/// One frame to its line; `plain` is the reused buffer for the decrypted node.
fn decode_one<'a>(
    mode: &Mode,
    frame: &'a [u8],
    plain: &mut Vec<u8>,
) -> anyhow::Result<Decoded<'a>> {
    let Mode::Frames {
        cipher,
        from_client,
    } = mode
    else {
        return Ok(Decoded::Node(binary::decode(frame)?));
    };
    let opened = if *from_client {
        cipher.open_client_frame(frame).map(|opened| {
            let node = binary::decode(&opened.node);
            (opened.tag, opened.metric, opened.flags, node)
        })
    } else {
        cipher
            .open_server_frame_into(frame, plain)
            .map(|(tag, node)| (tag, None, None, binary::decode(node)))
    };
    match opened {
        Ok((tag, metric, flags, node)) => Ok(Decoded::Binary {
            tag,
            metric,
            flags,
            node: node?,
        }),
        // A capture may hold the text frames of the same connection too.
        Err(error) => match as_text(frame, *from_client) {
            Some(text) => Ok(Decoded::Other(text)),
            None => bail!(error),
        },
    }
}

fn as_text(frame: &[u8], from_client: bool) -> Option<Other<'_>> {
    let text = std::str::from_utf8(frame).ok()?;
    let json = |tag, json: &str| {
        let json = serde_json::from_str(json).ok()?;
        Some(Other::Text { tag, json })
    };
    if from_client {
        match wire::parse_client_text(text).ok()? {
            ClientText::Keepalive => Some(Other::Keepalive { keepalive: true }),
            ClientText::Json { tag, json: body } => json(tag, body),
        }
    } else {
        match wire::parse_server_text(text).ok()? {
            ServerText::Pong(pong) => Some(Other::Pong { pong }),
            ServerText::EmptyAck(tag) => Some(Other::EmptyAck { tag, json: () }),
            ServerText::Json { tag, json: body } => json(tag, body),
        }
    }
}
