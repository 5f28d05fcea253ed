//! `wawebd --demo`: the daemon against an in-process simulator whose phone scans every QR by
//! itself and whose contacts keep writing. Nothing leaves the machine; the session lives in a
//! temporary directory, so the real one (if any) is never touched.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use serde_json::json;
use waweb_proto::{Call, Event};
use waweb_sim::{self as sim, Sim};
use wawebd::daemon::Daemon;

/// How long the simulated phone takes to "scan" a QR: long enough to see it.
const SCAN_AFTER: Duration = Duration::from_millis(1500);
/// How often simulated contacts write.
const CHATTER: Duration = Duration::from_secs(4);

pub fn run(mut args: super::run::Args) -> anyhow::Result<ExitCode> {
    let state = tempfile_dir("wawebd-demo-state")?;
    args.set_state_dir(state.path.clone());
    let explicit_socket = args.has_socket();
    let explicit_log_level = args.has_log_level();
    let mut config = match args.clone().resolve() {
        Ok(config) => config,
        // No XDG_RUNTIME_DIR (a container, cron): put the socket beside the demo's state.
        Err(_) if !explicit_socket => {
            args.set_socket(state.path.join("wawebd.sock"));
            args.resolve()?
        }
        Err(error) => return Err(error),
    };
    if !explicit_log_level {
        config.log_level = "warn".into();
    }
    super::run::init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async move {
        let sim = Sim::start(sim::Config {
            chatter: Some(CHATTER),
            ..sim::Config::default()
        })
        .await
        .context("starting the simulator")?;
        config.server_url = sim.ws_url().to_owned();
        let socket = config.socket.clone();
        let daemon = Daemon::new(config);
        let handle = daemon.handle();
        let events = daemon.bus().subscribe();
        daemon.spawn(narrate(events, sim.clone()));
        let ready = move || {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "wawebd demo: a simulated WhatsApp Web service on {}",
                sim.ws_url()
            );
            let _ = writeln!(out, "Nothing leaves this machine. Press Ctrl-C to stop.");
            let _ = writeln!(out, "From another terminal:");
            let socket_flag = if explicit_socket || std::env::var_os("XDG_RUNTIME_DIR").is_none() {
                format!(" --socket {}", socket.display())
            } else {
                String::new()
            };
            let _ = writeln!(out, "  wawebctl{socket_flag} status");
            let _ = writeln!(out, "  wawebctl{socket_flag} events");
            let _ = writeln!(
                out,
                "  wawebctl{socket_flag} send 4915100000001 'Hello Alice'"
            );
            let _ = writeln!(out);
        };
        let login = async move {
            // Pairing starts by itself, as if someone had run `wawebctl login`.
            if let Err(error) = handle.call(Call::Login).await {
                eprintln!("wawebd demo: could not start pairing: {error}");
            }
        };
        let (finished, ()) = tokio::join!(daemon.run(super::shutdown_signal(), ready), login);
        finished?;
        println!("\nwawebd demo: stopped.");
        anyhow::Ok(ExitCode::SUCCESS)
    });
    drop(state);
    result
}

/// Tells the story of the session in the terminal, and plays the phone's part in pairing: each
/// QR code is scanned a moment after it is shown.
async fn narrate(mut events: wawebd::bus::Subscription, sim: Sim) {
    let mut scan: Option<(tokio::time::Instant, String)> = None;
    loop {
        let scan_at = scan.as_ref().map(|(at, _)| *at);
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) => {
                    // Events read back from the journal (after falling behind) carry only JSON;
                    // the story skips them.
                    if let Some(content) = event.event.as_ref().and_then(tell) {
                        scan = Some((tokio::time::Instant::now() + SCAN_AFTER, content));
                    }
                }
                Err(_) => return,
            },
            () = tokio::time::sleep_until(scan_at.unwrap_or_else(tokio::time::Instant::now)), if scan_at.is_some() => {
                if let Some((_, content)) = scan.take() {
                    let _ = sim.command(json!({"cmd": "scan", "qr": content})).await;
                }
            }
        }
    }
}

/// Prints what `event` means for the person watching; a QR code's content is handed back to
/// be scanned.
fn tell(event: &Event) -> Option<String> {
    match event {
        Event::Qr {
            content,
            attempt,
            attempts_max,
            ttl_ms,
            ..
        } => {
            if let Ok(code) = QrCode::new(content.as_bytes()) {
                let drawing = code
                    .render::<Dense1x2>()
                    .dark_color(Dense1x2::Light)
                    .light_color(Dense1x2::Dark)
                    .quiet_zone(true)
                    .build();
                println!("{drawing}");
            }
            println!(
                "Scan this QR code with the phone (code {attempt} of {attempts_max}, valid {} s).",
                ttl_ms / 1000
            );
            println!("The simulated phone scans it by itself in a moment…\n");
            return Some(content.clone());
        }
        Event::Connected { me, restored } => {
            let number = me.wid.split('@').next().unwrap_or_default();
            let how = if *restored {
                "restored the session"
            } else {
                "paired"
            };
            println!("✔ Logged in as {} (+{number}): {how}.", me.pushname);
            println!("Messages appear below as they arrive.\n");
        }
        Event::Message(message) => {
            let who =
                message
                    .push_name
                    .as_deref()
                    .unwrap_or(if message.from_me { "me" } else { "?" });
            let place = if message.chat.ends_with("@g.us") {
                " in the group"
            } else {
                ""
            };
            match (&message.text, &message.media) {
                (Some(text), _) => {
                    // A quote shows what it answers: the demo's contacts quote what they react to.
                    let quoting = match message.quoted.as_ref() {
                        Some(quoted) => match &quoted.text {
                            Some(text) => format!("  ↪ “{text}”"),
                            None => {
                                let kind = name_of(&quoted.kind);
                                format!("  ↪ {} {kind}", article(&kind))
                            }
                        },
                        None => String::new(),
                    };
                    println!("💬 {who}{place}: {text}{quoting}");
                }
                (None, Some(media)) => {
                    let caption = media
                        .caption
                        .as_deref()
                        .map(|c| format!(" “{c}”"))
                        .unwrap_or_default();
                    println!(
                        "📎 {who}{place} sent {} {} ({} bytes){caption}; fetch it with `wawebctl media download`",
                        article(&name_of(&media.kind)),
                        name_of(&media.kind),
                        media.file_length
                    );
                }
                (None, None) => {
                    println!("• {who}{place} sent a {} message", kind_name(message))
                }
            }
        }
        Event::Ack { id, ack: 3, .. } => println!("✓✓ read: {id}"),
        Event::LoggedOut { reason, .. } => println!("Logged out: {}.", reason.description()),
        Event::Disconnected {
            reason,
            retry_in_ms,
        } => match retry_in_ms {
            Some(ms) => println!(
                "Disconnected ({}); retrying in {ms} ms.",
                reason.description()
            ),
            None => println!("Disconnected ({}).", reason.description()),
        },
        _ => {}
    }
    None
}

fn kind_name(message: &waweb_proto::message::Message) -> String {
    name_of(&message.kind)
}

/// The snake_case name a kind has on the wire.
fn name_of(kind: &impl serde::Serialize) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| "other".into())
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// A private temporary directory removed when dropped.
struct TempDir {
    path: std::path::PathBuf,
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn tempfile_dir(prefix: &str) -> anyhow::Result<TempDir> {
    let mut random = [0u8; 6];
    waweb_core::crypto::fill_random(&mut random);
    let path = std::env::temp_dir().join(format!("{prefix}-{}", waweb_core::hex::encode(&random)));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(TempDir { path })
}

use std::os::unix::fs::DirBuilderExt as _;
