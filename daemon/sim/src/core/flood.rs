//! The `flood` command, for load tests: a contact sends many live texts at up to a set rate.
//!
//! ```text
//! pace (a task of the core's Tasks)          core                          connection writer
//!   every tick: what is due, in batches ──▶  Step::Batch: seal each message,
//!                                            one action add="relay" frame
//!                                            per message, then a Mark  ──▶ frames, Mark reached
//!   ◀─────────────────────────────────────────────────────────────────────  (at most WINDOW
//!   Step::End once the last Mark is reached ▶ `done`                         batches in flight)
//! ```
//!
//! The core does one batch between any two other inputs, so it keeps answering clients and
//! commands while a flood runs; the window holds the flood back when the client reads slowly,
//! so memory stays bounded whatever the count. Each message is a frame of its own because
//! PROTOCOL.md 8.2 gives `add="relay"` exactly one `message` child.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use waweb_core::message;

use super::{Answer, Core, Input, now_s, random_bytes, user_jid};
use crate::command::Field;
use crate::server::Outgoing;

/// The most messages one flood sends.
const MAX_COUNT: u64 = 10_000_000;
/// The longest text one flood message carries.
const MAX_BYTES: u64 = 65_536;
const DEFAULT_BYTES: u64 = 32;
/// Alice, the first of the phone's contacts.
const DEFAULT_FROM: &str = "4915100000001@s.whatsapp.net";
/// Every tick sends what is due: at 200,000 per second that is 200 messages a tick; at 1,000 a
/// second one, so latency measurements see evenly spaced arrivals rather than bursts.
const TICK: Duration = Duration::from_millis(1);
/// A batch holds at most this many messages and about this much text: what the core does
/// between two other inputs.
const BATCH: u64 = 256;
const BATCH_BYTES: u64 = 1 << 20;
/// Batches asked for whose mark the socket has not reached yet.
const WINDOW: usize = 4;
/// What fills a text up to its length (ASCII, so a byte is a character).
const FILL: &str = " lorem ipsum dolor sit amet consectetur";

/// What a flood's pacing task tells the core.
#[derive(Debug)]
pub enum Step {
    /// Send the next `count` messages, then tell `written` once they are on the socket.
    Batch {
        flood: u64,
        count: u64,
        written: oneshot::Sender<()>,
    },
    /// Every batch was asked for; `complete` when the socket took each one.
    End { flood: u64, complete: bool },
}

/// A flood in progress.
pub(super) struct Flood {
    answer: Answer,
    client_id: String,
    conn: u64,
    /// The sender's JID, which is the chat too.
    chat: String,
    push_name: Option<&'static str>,
    count: u64,
    bytes: usize,
    /// Random per flood, so two floods never share an id.
    prefix: u32,
    sent: u64,
    started: Instant,
}

impl Flood {
    /// Message `n`'s id (1-based): phone-style, `3A` and 18 hex digits, the last ten being `n`.
    fn id(&self, n: u64) -> String {
        format!("3A{:08X}{n:010X}", self.prefix)
    }

    /// Message `n`'s text: `flood <n>/<count> @<unix ns>` (when it was built, for latency
    /// measurements), filled up to the flood's length.
    fn text(&self, n: u64) -> String {
        let built = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut text = format!("flood {n}/{} @{built}", self.count);
        text.reserve(self.bytes.saturating_sub(text.len()));
        while text.len() < self.bytes {
            let more = (self.bytes - text.len()).min(FILL.len());
            text.push_str(&FILL[..more]);
        }
        text
    }

    fn stopped(&self) -> String {
        format!(
            "the client's connection went away after {} of {} messages",
            self.sent, self.count
        )
    }
}

impl Core {
    /// Checks a flood's fields and starts its pacing task; the flood takes `answer` and gives it
    /// when its last message is on the socket.
    pub(super) fn start_flood(
        &mut self,
        count: Field<u64>,
        rate: Field<f64>,
        from: Field<String>,
        bytes: Field<u64>,
        answer: &mut Option<Answer>,
    ) -> Result<Value, String> {
        let count = count.need("flood", "count")?;
        if !(1..=MAX_COUNT).contains(&count) {
            return Err(format!("count must be 1 to {MAX_COUNT}"));
        }
        let rate = rate.need("flood", "rate")?;
        if rate <= 0.0 {
            return Err("rate must be above 0 (messages per second)".into());
        }
        let chat = user_jid(&from.get().unwrap_or_else(|| DEFAULT_FROM.into()));
        let bytes = bytes.get().unwrap_or(DEFAULT_BYTES);
        if !(1..=MAX_BYTES).contains(&bytes) {
            return Err(format!("bytes must be 1 to {MAX_BYTES}"));
        }
        let client_id = self.target_session()?;
        let conn = self
            .sessions
            .get(&client_id)
            .and_then(|session| session.conn)
            .filter(|conn| self.conns.contains_key(conn))
            .ok_or("the paired client is not connected")?;
        let answer = answer.take().ok_or("this flood was answered already")?;
        let number = chat.split('@').next().unwrap_or_default();
        let flood = Flood {
            answer,
            client_id,
            conn,
            push_name: Self::contact_name(number),
            chat,
            count,
            bytes: bytes as usize,
            prefix: u32::from_be_bytes(random_bytes()),
            sent: 0,
            started: Instant::now(),
        };
        let id = self.next_flood;
        self.next_flood += 1;
        self.floods.insert(id, flood);
        let batch = (BATCH_BYTES / (bytes + 64)).clamp(1, BATCH);
        self.tasks
            .spawn(pace(id, count, rate, batch, self.inputs.clone()));
        Ok(json!({}))
    }

    pub(super) fn on_flood(&mut self, step: Step) {
        match step {
            Step::Batch {
                flood,
                count,
                written,
            } => self.flood_batch(flood, count, written),
            Step::End { flood, complete } => {
                let Some(flood) = self.floods.remove(&flood) else {
                    return;
                };
                let done = if complete && flood.sent == flood.count {
                    Ok(json!({
                        "count": flood.count,
                        "first_id": flood.id(1),
                        "last_id": flood.id(flood.count),
                        "conn": flood.conn,
                        "elapsed_ms": flood.started.elapsed().as_millis() as u64,
                    }))
                } else {
                    Err(flood.stopped())
                };
                self.answer(flood.answer, done);
            }
        }
    }

    /// Relays the flood's next `count` messages, each as it would come from the phone, then a
    /// mark for `written`. A flood whose client went away ends with an `error`, and dropping
    /// `written` stops its task.
    fn flood_batch(&mut self, id: u64, count: u64, written: oneshot::Sender<()>) {
        let Some(mut flood) = self.floods.remove(&id) else {
            return;
        };
        let conn = flood.conn;
        let attached = self
            .sessions
            .get(&flood.client_id)
            .is_some_and(|session| session.conn == Some(conn));
        let open = self.conns.get(&conn).is_some_and(|state| !state.half_open);
        if !(attached && open) {
            let message = flood.stopped();
            return self.answer(flood.answer, Err(message));
        }
        for _ in 0..count.min(flood.count - flood.sent) {
            flood.sent += 1;
            let info = message::incoming_text(
                &flood.chat,
                &flood.id(flood.sent),
                &flood.text(flood.sent),
                now_s(),
                flood.push_name,
                None,
            );
            self.deliver(&flood.client_id, &flood.chat, info);
        }
        // Past the queue's gap on purpose: a mark sends nothing, so it must not take the gap.
        if let Some(state) = self.conns.get(&conn) {
            let _ = state.out.send(Outgoing::Mark { reached: written });
        }
        self.floods.insert(id, flood);
    }
}

/// Asks the core for a flood's messages: by each tick, those due at `rate` since the start (the
/// first at once), never more than one tick's worth at a time, in batches of `batch`.
async fn pace(flood: u64, count: u64, rate: f64, batch: u64, inputs: mpsc::Sender<Input>) {
    let period = Duration::from_secs_f64((1.0 / rate).min(1.0)).max(TICK);
    let per_tick = ((rate * period.as_secs_f64()).ceil() as u64).max(1);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let start = Instant::now();
    let mut window = VecDeque::with_capacity(WINDOW + 1);
    let mut asked = 0;
    let mut complete = true;
    'flood: while asked < count {
        ticker.tick().await;
        let due = ((start.elapsed().as_secs_f64() * rate) as u64).saturating_add(1);
        let due = due.min(count).min(asked.saturating_add(per_tick));
        while asked < due {
            let size = (due - asked).min(batch);
            let (written, reached) = oneshot::channel();
            let step = Step::Batch {
                flood,
                count: size,
                written,
            };
            if inputs.send(Input::Flood(step)).await.is_err() {
                return;
            }
            asked += size;
            window.push_back(reached);
            if window.len() > WINDOW && !written_out(&mut window, WINDOW).await {
                complete = false;
                break 'flood;
            }
        }
    }
    if complete {
        complete = written_out(&mut window, 0).await;
    }
    let _ = inputs
        .send(Input::Flood(Step::End { flood, complete }))
        .await;
}

/// Waits until no more than `keep` batches are still on their way to the socket; false when one
/// never gets there (the connection went away, or the core dropped the flood).
async fn written_out(window: &mut VecDeque<oneshot::Receiver<()>>, keep: usize) -> bool {
    while window.len() > keep {
        let Some(reached) = window.pop_front() else {
            break;
        };
        if reached.await.is_err() {
            return false;
        }
    }
    true
}
