//! `wawebd sim`: the simulator alone, driven through its JSON-lines control channel. With
//! `--tls --cert-out FILE` it serves `wss://` and `https://` with a fresh self-signed certificate,
//! written to FILE before the `listening` line, for `wawebd --ca-file FILE`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use waweb_sim::{self as sim, Sim};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The first output line names both URLs: \
{\"type\":\"listening\",\"ws_url\":\"ws://127.0.0.1:P/ws\",\"media_url\":\"http://127.0.0.1:Q/\"}.

With TLS:
  wawebd sim --tls --cert-out /tmp/sim.pem
  wawebd --server-url wss://127.0.0.1:P/ws --ca-file /tmp/sim.pem")]
pub struct Args {
    /// Address of the websocket front (`ws://ADDR/ws`, `wss://` with --tls); port 0 picks a
    /// free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Address of the media host; defaults to the websocket front's IP with a free port.
    #[arg(long, value_name = "ADDR")]
    media_listen: Option<SocketAddr>,
    /// Lifetime of each QR ref in milliseconds (the real service: 20000).
    #[arg(long, value_name = "MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    ttl_ms: u64,
    /// How many rerefs get a fresh ref before the server answers 429.
    #[arg(long, value_name = "N", default_value_t = 5)]
    reref_budget: u32,
    /// The simulated phone's number.
    #[arg(long, value_name = "DIGITS", default_value = "4915100000000")]
    phone: String,
    /// The simulated phone owner's display name.
    #[arg(long, value_name = "NAME", default_value = "Sim Phone")]
    pushname: String,
    /// Let simulated contacts write to the logged-in client every MS milliseconds.
    #[arg(long, value_name = "MS")]
    chatter_ms: Option<u64>,
    /// Contacts never read the client's messages by themselves (ack 3 only comes from the
    /// `read` command).
    #[arg(long)]
    no_auto_read: bool,
    /// Serve `wss://…/ws` and `https://…/` with a new self-signed certificate for 127.0.0.1 and
    /// localhost (needs --cert-out).
    #[arg(long, requires = "cert_out")]
    tls: bool,
    /// Where --tls writes its certificate (PEM, public), before the `listening` line; give it
    /// to the daemon as `wawebd --ca-file FILE`.
    #[arg(long, value_name = "FILE", requires = "tls")]
    cert_out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.phone.is_empty() && args.phone.bytes().all(|b| b.is_ascii_digit()),
        "--phone takes digits only"
    );
    let tls = if args.tls {
        Some(sim::Tls::self_signed().context("creating the certificate")?)
    } else {
        None
    };
    let config = sim::Config {
        listen: args.listen,
        media_listen: args
            .media_listen
            .unwrap_or(SocketAddr::new(args.listen.ip(), 0)),
        ttl: Duration::from_millis(args.ttl_ms),
        reref_budget: args.reref_budget,
        phone_number: args.phone,
        pushname: args.pushname,
        chatter: args.chatter_ms.map(Duration::from_millis),
        auto_read: !args.no_auto_read,
        tls,
        ..sim::Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let sim = Sim::start(config)
            .await
            .context("binding the simulator's listeners")?;
        if let (Some(path), Some(pem)) = (&args.cert_out, sim.certificate_pem()) {
            write_certificate(path, pem)
                .with_context(|| format!("writing the certificate to {}", path.display()))?;
        }
        sim::run_control_channel(sim, super::shutdown_signal())
            .await
            .context("control channel")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Writes the certificate atomically (a temp file beside it, synced, then renamed), mode 0644:
/// a client reading FILE after the `listening` line never sees half of it.
fn write_certificate(path: &Path, pem: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut suffix = [0u8; 6];
    waweb_core::crypto::fill_random(&mut suffix);
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        waweb_core::hex::encode(&suffix)
    ));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&temp)?;
        file.write_all(pem.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_certificate_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.pem");
        fs::write(&path, "old").unwrap();
        write_certificate(&path, "-----BEGIN CERTIFICATE-----\n").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "-----BEGIN CERTIFICATE-----\n"
        );
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o600, 0o600);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        assert!(write_certificate(&dir.path().join("missing/sim.pem"), "x").is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
