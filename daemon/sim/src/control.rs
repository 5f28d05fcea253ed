//! `wawebd sim`'s control channel (DESIGN.md section 5): commands as JSON lines on stdin, what
//! happens as JSON lines on stdout, the `listening` line first.

use std::future::Future;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::broadcast::error::RecvError;

use super::Sim;

/// Serves the control channel until `shutdown` resolves. End of input leaves the simulator
/// running, so it can also be started in the background with stdin closed.
pub async fn run_control_channel(
    sim: Sim,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut output = sim.subscribe();
    let mut stdout = tokio::io::stdout();
    write_line(&mut stdout, &sim.listening_line()).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(line)) if line.trim().is_empty() => {}
                Ok(Some(line)) => match serde_json::from_str::<Value>(&line) {
                    Ok(command) => sim.submit(command).await,
                    Err(error) => sim.submit_unreadable(format!("invalid JSON: {error}")).await,
                },
                Ok(None) | Err(_) => stdin_open = false,
            },
            line = output.recv() => match line {
                Ok(line) => write_line(&mut stdout, &line).await?,
                Err(RecvError::Lagged(lost)) => {
                    let line = json!({"type": "error", "cmd": null, "message": format!("output fell behind; {lost} lines lost")});
                    write_line(&mut stdout, &line).await?;
                }
                Err(RecvError::Closed) => break,
            },
            () = &mut shutdown => break,
        }
    }
    sim.shutdown().await;
    Ok(())
}

async fn write_line(stdout: &mut tokio::io::Stdout, line: &Value) -> std::io::Result<()> {
    let mut text = line.to_string();
    text.push('\n');
    stdout.write_all(text.as_bytes()).await?;
    stdout.flush().await
}
