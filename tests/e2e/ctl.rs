//! `wawebctl` against the real daemon: the QR it draws is the one the phone scans.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use clap::Parser;
use serde_json::{Value, json};
use wawebctl::Cli;

use crate::support::{DEADLINE, Harness};

/// Runs wawebctl in-process on a blocking thread, as a user would in a second terminal.
pub(crate) fn spawn_ctl(
    socket: &Path,
    args: &[&str],
) -> tokio::task::JoinHandle<(Result<(), String>, String)> {
    let mut argv = vec!["--socket", socket.to_str().unwrap()];
    argv.extend_from_slice(args);
    spawn_ctl_in(&argv, None)
}

/// [`spawn_ctl`] without `--socket`, in the environment `env` (`None`: the process's).
pub(crate) fn spawn_ctl_in(
    args: &[&str],
    env: Option<BTreeMap<String, OsString>>,
) -> tokio::task::JoinHandle<(Result<(), String>, String)> {
    let mut argv = vec!["wawebctl".to_owned()];
    argv.extend(args.iter().map(|arg| (*arg).to_owned()));
    tokio::task::spawn_blocking(move || {
        let mut cli = Cli::try_parse_from(&argv).unwrap();
        cli.env = env;
        let mut out = Vec::new();
        let result = wawebctl::run(&cli, &mut out, false).map_err(|failure| failure.to_string());
        (result, String::from_utf8(out).unwrap())
    })
}

fn decode_png(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let (width, height, pixels) = wawebctl::qr::read_png(&bytes).expect("a PNG wawebctl wrote");
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    grids[0].decode().unwrap().1
}

async fn wait_for_file(path: &Path) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !path.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn ctl_login_draws_the_qr_the_phone_scans_then_sends_and_reports() {
    let mut harness = Harness::start().await;
    let mut watcher = harness.client().await;
    watcher
        .call("subscribe", json!({"events": ["qr", "connected"]}))
        .await
        .unwrap();
    let png = harness.dir.path().join("qr.png");
    let login = spawn_ctl(
        harness.socket(),
        &["login", "--no-terminal", "--png", png.to_str().unwrap()],
    );
    let qr = watcher.event("qr").await;
    wait_for_file(&png).await;
    assert_eq!(
        decode_png(&png),
        qr["content"].as_str().unwrap(),
        "the drawn QR is the qr event's content"
    );
    harness
        .sim_command(json!({"cmd": "scan", "qr": qr["content"]}))
        .await;
    let (result, _) = login.await.unwrap();
    assert_eq!(result, Ok(()), "login exits 0 once connected");
    watcher.event("connected").await;

    let (result, out) = spawn_ctl(harness.socket(), &["--json", "status"])
        .await
        .unwrap();
    assert_eq!(result, Ok(()));
    let status: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status["state"], "connected");

    let (result, out) = spawn_ctl(
        harness.socket(),
        &["--json", "send", "4915100000001", "from the ctl"],
    )
    .await
    .unwrap();
    assert_eq!(result, Ok(()));
    let sent: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(sent["status"], 200);
    loop {
        let line = harness.sim_line("received").await;
        if line["tag"] == sent["id"] {
            assert_eq!(line["messages"][0]["text"], "from the ctl");
            break;
        }
    }

    let (result, _) = spawn_ctl(harness.socket(), &["login"]).await.unwrap();
    assert_eq!(result, Ok(()), "login when already logged in succeeds");
    let (result, _) = spawn_ctl(harness.socket(), &["logout"]).await.unwrap();
    assert_eq!(result, Ok(()));
    let (result, _) = spawn_ctl(harness.socket(), &["send", "4915100000001", "x"])
        .await
        .unwrap();
    assert!(result.unwrap_err().contains("not logged in"));
}
