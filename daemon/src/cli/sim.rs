//! `wawebd sim`: the simulator alone, driven through its JSON-lines control channel.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use waweb_sim::{self as sim, Sim};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address of the websocket front (`ws://ADDR/ws`); port 0 picks a free one.
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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.phone.is_empty() && args.phone.bytes().all(|b| b.is_ascii_digit()),
        "--phone takes digits only"
    );
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
        sim::run_control_channel(sim, super::shutdown_signal())
            .await
            .context("control channel")?;
        Ok(ExitCode::SUCCESS)
    })
}
