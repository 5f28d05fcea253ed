//! The event journal (DESIGN.md 6.1): every event but `qr` gets the next `seq` and its `at`,
//! and is committed to `waweb.db` before any subscriber sees it; named consumers keep durable
//! cursors in the same database.
//!
//! One task owns the read-write connection and commits in batches (group commit): it takes
//! whatever is queued (up to [`BATCH`] operations), writes it in one transaction on a blocking
//! thread, then hands the events to the bus. (A blocking thread per batch rather than a thread
//! of its own: tokio's paused test time waits for blocking tasks, never for a foreign thread.) With WAL and `synchronous=NORMAL` a commit costs no fsync, so the frame
//! pipeline keeps its speed; a SIGKILL loses nothing committed, a power cut may lose the last
//! commits. Readers (replays, `events`, `consumers`) open their own connections.
//!
//! ```text
//! publish(ack) ─▶ [journal thread] BEGIN; INSERT seq=42 …; INSERT seq=43 …; COMMIT ─▶ bus fan-out
//! commit("bot", 43) ─▶ same thread, same batch: UPDATE consumers SET seq = max(seq, 43)
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use waweb_proto::message::Message;
use waweb_proto::{
    ConsumerInfo, ConsumerName, ConsumersResult, EVENTS_LIMIT_MAX, Event, EventType, JournalParams,
    JournalResult,
};

use crate::db::{self, Db};
use crate::messages;

/// The most operations one transaction takes.
const BATCH: usize = 4096;
/// Rows a replay reads per query.
pub const PAGE: usize = 512;
/// Bytes counted per row beside its body (key, time, type, b-tree overhead), for `max_mb`.
const ROW_OVERHEAD: u64 = 48;

/// How much the journal keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Events older than this go (`[journal] keep_days`).
    pub keep: Duration,
    /// Past this many bytes of events the oldest go (`[journal] max_mb`).
    pub max_bytes: u64,
    /// How often retention is checked.
    pub check_every: Duration,
    /// How long the writer waits after the first queued operation for more to join its
    /// transaction (`[journal] commit_wait_us`; zero: it takes what is queued and commits).
    pub commit_wait: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep: Duration::from_secs(14 * 86_400),
            max_bytes: 512 << 20,
            check_every: Duration::from_secs(10),
            commit_wait: Duration::ZERO,
        }
    }
}

/// An event with its place in the journal, as the bus hands it out.
#[derive(Debug)]
pub struct Stamped {
    /// Its seq; `None` for events never journaled (`qr`, or when a commit failed).
    pub seq: Option<u64>,
    /// Its type, for filters.
    pub kind: EventType,
    /// When it happened, unix milliseconds.
    pub at: u64,
    /// The notification's `params`, JSON: the event with `seq` and `at`.
    pub params: String,
    /// The event itself; `None` when it was read back from the journal (only the JSON is kept).
    pub event: Option<Event>,
}

impl Stamped {
    /// An event stamped with `seq` (if journaled) and `at`.
    pub fn new(event: Event, seq: Option<u64>, at: u64) -> Stamped {
        #[derive(Serialize)]
        struct Params<'a> {
            #[serde(flatten)]
            event: &'a Event,
            #[serde(skip_serializing_if = "Option::is_none")]
            seq: Option<u64>,
            at: u64,
        }
        let params = serde_json::to_string(&Params {
            event: &event,
            seq,
            at,
        })
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot encode an event");
            String::from("{}")
        });
        Stamped {
            seq,
            kind: event.event_type(),
            at,
            params,
            event: Some(event),
        }
    }

    /// The `event` notification line, `\n` included.
    pub fn line(&self) -> String {
        let mut line = String::with_capacity(self.params.len() + 48);
        line.push_str(r#"{"jsonrpc":"2.0","method":"event","params":"#);
        line.push_str(&self.params);
        line.push_str("}\n");
        line
    }
}

/// Why a journal call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `commit` past the newest event.
    #[error("seq {seq} is above the head ({head})")]
    AboveHead {
        /// The seq asked for.
        seq: u64,
        /// The newest.
        head: u64,
    },
    /// The database refused.
    #[error("the journal database: {0}")]
    Db(String),
    /// The journal thread is gone (the daemon is stopping).
    #[error("the journal has stopped")]
    Stopped,
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Db(error.to_string())
    }
}

impl From<db::Error> for Error {
    fn from(error: db::Error) -> Self {
        Error::Db(error.to_string())
    }
}

/// Where committed events go: the bus's fan-out.
pub type Deliver = Box<dyn Fn(Arc<Stamped>) + Send>;

/// Work done inside the writer's transaction (given the head, the newest seq so far); what it
/// returns runs once the batch is committed, with the outcome of the commit.
pub type Work = Box<dyn FnOnce(&rusqlite::Transaction<'_>, u64) -> Done + Send>;
/// What a [`Work`] does after the commit.
pub type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

// Appends are nearly every op; boxing the event would cost an allocation per event for the
// sake of the rare writes.
#[allow(clippy::large_enum_variant)]
enum Op {
    /// An event; with raw bytes, a message also stored in `messages`.
    Append(Event, Option<Vec<u8>>),
    Write(Work),
    Flush(oneshot::Sender<()>),
    /// Flush, then end the task.
    Close(oneshot::Sender<()>),
}

/// A handle to the journal. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Journal {
    ops: mpsc::UnboundedSender<Op>,
    marks: Arc<Marks>,
    db: Db,
    /// The writer task, joined by [`Journal::close`].
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// The newest and oldest seq kept, readable without the database.
#[derive(Debug, Default)]
struct Marks {
    head: AtomicU64,
    /// 0 when the journal is empty.
    oldest: AtomicU64,
}

impl Journal {
    /// Starts the journal's writer task on `writer` (from [`Db::open`]); committed events go
    /// to `deliver`. Needs a tokio runtime; [`Journal::close`] ends the task.
    pub fn start(
        db: Db,
        writer: Connection,
        retention: Retention,
        deliver: Deliver,
    ) -> Result<Journal, Error> {
        let state = Writer::load(writer, retention, deliver)?;
        let marks = Arc::new(Marks {
            head: AtomicU64::new(state.last_seq),
            oldest: AtomicU64::new(state.oldest),
        });
        let (ops, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(state.run(receiver, marks.clone(), db.clone()));
        Ok(Journal {
            ops,
            marks,
            db,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }

    /// Commits what is queued and ends the writer task; later events go out unjournaled.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.ops.send(Op::Close(done)).is_ok() {
            let _ = closed.await;
        }
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// Queues an event; it reaches subscribers once committed. The event comes back when the
    /// journal thread is gone.
    #[allow(clippy::result_large_err)] // the error is the caller's own event, handed back
    pub fn append(&self, event: Event) -> Result<(), Event> {
        self.send_append(event, None)
    }

    /// [`Journal::append`] for a message that is also stored (`messages`, with its raw bytes)
    /// in the same transaction, from the same serialized event: what every message costs the
    /// writer is one more row, not a second serialization and a call of its own.
    #[allow(clippy::result_large_err)] // as append's
    pub fn append_message(&self, message: Message, raw: Vec<u8>) -> Result<(), Event> {
        self.send_append(Event::Message(message), Some(raw))
    }

    #[allow(clippy::result_large_err)] // as append's
    fn send_append(&self, event: Event, raw: Option<Vec<u8>>) -> Result<(), Event> {
        self.ops
            .send(Op::Append(event, raw))
            .map_err(|error| match error.0 {
                Op::Append(event, _) => event,
                _ => unreachable!("sent an append"),
            })
    }

    /// The newest seq (0 while the journal has never held an event).
    pub fn head(&self) -> u64 {
        self.marks.head.load(Ordering::Acquire)
    }

    /// The oldest seq kept (0 when empty).
    pub fn oldest(&self) -> u64 {
        self.marks.oldest.load(Ordering::Acquire)
    }

    /// Whether events after `since` were pruned before a replay from there could read them.
    pub fn gap_after(&self, since: u64) -> bool {
        let oldest = self.oldest();
        since < self.head() && oldest > since.saturating_add(1)
    }

    /// Waits until everything queued so far is committed and delivered.
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.ops.send(Op::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
    }

    /// Runs `work` in the writer's next transaction (in a savepoint of its own, so a failing
    /// work leaves nothing behind) and returns its result once the transaction is committed.
    /// This is how everything besides events (cursors, the outbox) is written: by the one
    /// writer, in order with the events.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>, u64) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |transaction, head| {
            let result = in_savepoint(transaction, |transaction| work(transaction, head));
            Box::new(move |committed| {
                let _ = reply.send(committed.map_err(Error::Db).and(result));
            })
        });
        self.ops.send(Op::Write(work)).map_err(|_| Error::Stopped)?;
        answer.await.map_err(|_| Error::Stopped)?
    }

    /// Like [`Journal::write`], without waiting: the work is queued in order with everything
    /// else, and a failure is logged as `what`.
    pub fn write_detached(
        &self,
        what: &'static str,
        work: impl FnOnce(&rusqlite::Transaction<'_>, u64) -> Result<(), Error> + Send + 'static,
    ) {
        let work: Work = Box::new(move |transaction, head| {
            let result = in_savepoint(transaction, |transaction| work(transaction, head));
            Box::new(move |committed| {
                if let Err(error) = committed.map_err(Error::Db).and(result) {
                    tracing::error!("{what}: {error}");
                }
            })
        });
        let _ = self.ops.send(Op::Write(work));
    }

    /// Like [`Journal::write_detached`] for work that is one SQL statement, without the
    /// savepoint: SQLite undoes a failed statement by itself, and a savepoint would copy every
    /// page the statement touches into the statement journal first, 4 KiB per stored message
    /// (it halved the daemon's throughput when every message was stored).
    pub fn statement_detached(
        &self,
        what: &'static str,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(), Error> + Send + 'static,
    ) {
        let work: Work = Box::new(move |transaction, _| {
            let result = work(transaction);
            Box::new(move |committed| {
                if let Err(error) = committed.map_err(Error::Db).and(result) {
                    tracing::error!("{what}: {error}");
                }
            })
        });
        let _ = self.ops.send(Op::Write(work));
    }

    /// Moves a consumer's cursor to `seq` (never backwards); creates the consumer if new.
    pub async fn commit(&self, name: ConsumerName, seq: u64) -> Result<ConsumerInfo, Error> {
        self.write(move |transaction, head| {
            if seq > head {
                return Err(Error::AboveHead { seq, head });
            }
            let seq = cursor(transaction, &name, seq, true)?;
            let lag = head.saturating_sub(seq);
            Ok(ConsumerInfo { name, seq, lag })
        })
        .await
    }

    /// Where a named consumer resumes: after its cursor, or at the head for a new name (which
    /// is stored then).
    pub async fn open_consumer(&self, name: ConsumerName) -> Result<u64, Error> {
        self.write(move |transaction, head| Ok(cursor(transaction, &name, head, false)?))
            .await
    }

    /// Every consumer with its cursor and lag.
    pub async fn consumers(&self) -> Result<ConsumersResult, Error> {
        let db = self.db.clone();
        let head = self.head();
        blocking(move || {
            let reader = db.reader()?;
            let mut query = reader.prepare("SELECT name, seq FROM consumers ORDER BY name")?;
            let rows = query.query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, u64>(1)?))
            })?;
            let mut consumers = Vec::new();
            for row in rows {
                let (name, seq) = row?;
                if let Ok(name) = ConsumerName::new(name) {
                    let lag = head.saturating_sub(seq);
                    consumers.push(ConsumerInfo { name, seq, lag });
                }
            }
            Ok(ConsumersResult { consumers, head })
        })
        .await
    }

    /// `events`: up to `limit` journaled events after `since` (and up to `until`) of `types`.
    pub async fn read(&self, params: JournalParams) -> Result<JournalResult, Error> {
        let db = self.db.clone();
        let head = self.head();
        blocking(move || {
            let reader = db.reader()?;
            let limit = params.limit.unwrap_or(100).clamp(1, EVENTS_LIMIT_MAX) as usize;
            let types: Vec<EventType> = params.types.unwrap_or_default();
            let until = params.until.unwrap_or(u64::MAX).min(i64::MAX as u64);
            let mut after = params.since.unwrap_or(0).min(i64::MAX as u64);
            let mut events = Vec::new();
            while events.len() < limit {
                let page = read_page(&reader, after, until)?;
                let Some(last) = page.back() else { break };
                after = last.seq.unwrap_or(after);
                let full = page.len() == PAGE;
                for stamped in page {
                    if events.len() < limit && (types.is_empty() || types.contains(&stamped.kind)) {
                        events.push(serde_json::from_str(&stamped.params).unwrap_or_default());
                    }
                }
                if !full {
                    break;
                }
            }
            Ok(JournalResult { events, head })
        })
        .await
    }

    /// The database, for readers.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| Error::Stopped)?
}

/// The type of a journal row, if the row is one to serve: a type this version knows and a body
/// that is a JSON object. The body goes out verbatim as the notification's `params`, so a
/// damaged row would otherwise put broken JSON on every subscriber's socket.
pub(crate) fn stored_event(kind: &str, body: &str) -> Option<EventType> {
    let kind = kind.parse::<EventType>().ok()?;
    let object = body.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok();
    object.then_some(kind)
}

/// Up to [`PAGE`] events with `after < seq <= until`, oldest first.
pub fn read_page(reader: &Connection, after: u64, until: u64) -> Result<VecDeque<Stamped>, Error> {
    let mut query = reader.prepare_cached(
        "SELECT seq, type, body, at FROM journal WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = query.query_map(params![after, until, PAGE as u64], |row| {
        Ok((
            row.get::<_, u64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, u64>(3)?,
        ))
    })?;
    let mut page = VecDeque::new();
    for row in rows {
        let (seq, kind, params, at) = row?;
        let Some(kind) = stored_event(&kind, &params) else {
            tracing::warn!(
                seq,
                "a journal row is not an event this version reads; skipped"
            );
            continue;
        };
        page.push_back(Stamped {
            seq: Some(seq),
            kind,
            at,
            params,
            event: None,
        });
    }
    Ok(page)
}

/// Now, in unix milliseconds: the `at` of events.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// WAL checkpoints, off the writer's path: SQLite's automatic checkpoint would run inside a
/// commit and stall the event pipeline for its fsync (tens of milliseconds); a passive
/// checkpoint on a connection of its own runs beside the writer instead.
#[derive(Default)]
struct Checkpoints {
    running: Option<JoinHandle<()>>,
    last: Option<Instant>,
}

impl Checkpoints {
    async fn maybe_start(&mut self, db: &Db) {
        if self
            .running
            .as_ref()
            .is_some_and(|running| !running.is_finished())
            || self
                .last
                .is_some_and(|last| last.elapsed() < CHECKPOINT_EVERY)
        {
            return;
        }
        if let Some(done) = self.running.take() {
            let _ = done.await;
        }
        self.last = Some(Instant::now());
        let db = db.clone();
        self.running = Some(tokio::task::spawn_blocking(move || {
            if let Err(error) = db.checkpoint() {
                tracing::warn!("a WAL checkpoint failed: {error}");
            }
        }));
    }

    async fn finish(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.await;
        }
    }
}

/// One transaction's operations: `first`, whatever is queued behind it, and (with a
/// `commit_wait`) what arrives within that wait, up to [`BATCH`]; a close ends the wait.
async fn gather(first: Op, ops: &mut mpsc::UnboundedReceiver<Op>, wait: Duration) -> Vec<Op> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut batch = vec![first];
    while batch.len() < BATCH && !matches!(batch.last(), Some(Op::Close(_))) {
        let next = match ops.try_recv() {
            Ok(op) => Some(op),
            Err(_) if wait.is_zero() => None,
            Err(_) => tokio::time::timeout_at(deadline, ops.recv())
                .await
                .ok()
                .flatten(),
        };
        match next {
            Some(op) => batch.push(op),
            None => break,
        }
    }
    batch
}

/// The journal thread's state.
struct Writer {
    connection: Connection,
    retention: Retention,
    deliver: Deliver,
    last_seq: u64,
    oldest: u64,
    bytes: u64,
    last_check: Instant,
}

impl Writer {
    fn load(connection: Connection, retention: Retention, deliver: Deliver) -> Result<Self, Error> {
        let stored: Option<u64> = connection
            .query_row("SELECT value FROM meta WHERE key = 'last_seq'", [], |row| {
                row.get(0)
            })
            .optional()?;
        let (newest, oldest, bytes): (Option<u64>, Option<u64>, f64) = connection.query_row(
            "SELECT max(seq), min(seq), total(length(body)) + count(*) * ?1 FROM journal",
            [ROW_OVERHEAD],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        Ok(Writer {
            connection,
            retention,
            deliver,
            last_seq: stored.unwrap_or(0).max(newest.unwrap_or(0)),
            oldest: oldest.unwrap_or(0),
            bytes: bytes as u64,
            last_check: Instant::now(),
        })
    }

    async fn run(mut self, mut ops: mpsc::UnboundedReceiver<Op>, marks: Arc<Marks>, db: Db) {
        let mut checkpoints = Checkpoints::default();
        while let Some(first) = ops.recv().await {
            let batch = gather(first, &mut ops, self.retention.commit_wait).await;
            let closing = batch.iter().any(|op| matches!(op, Op::Close(_)));
            let marks = marks.clone();
            let done = tokio::task::spawn_blocking(move || {
                self.apply(batch, &marks);
                self
            })
            .await;
            match done {
                Ok(writer) if !closing => self = writer,
                Ok(_) => break,
                Err(error) => {
                    tracing::error!("the journal writer failed: {error}");
                    break;
                }
            }
            checkpoints.maybe_start(&db).await;
        }
        checkpoints.finish().await;
    }

    fn maybe_prune(&mut self, marks: &Marks) {
        if self.last_check.elapsed() < self.retention.check_every {
            return;
        }
        self.last_check = Instant::now();
        if let Err(error) = self.prune(unix_ms()) {
            tracing::error!("pruning the journal failed: {error}");
        }
        marks.oldest.store(self.oldest, Ordering::Release);
    }

    /// Commits one batch, then delivers its events and answers its calls.
    fn apply(&mut self, batch: Vec<Op>, marks: &Marks) {
        let at = unix_ms();
        let first_seq = self.last_seq;
        let mut stamped = Vec::new();
        let mut stored = Vec::new();
        let mut calls = Vec::new();
        for op in batch {
            match op {
                Op::Append(event, raw) => {
                    let seq = journaled(&event).then(|| {
                        self.last_seq += 1;
                        self.last_seq
                    });
                    if let Some(raw) = raw {
                        stored.push((stamped.len(), raw));
                    }
                    stamped.push(Stamped::new(event, seq, at));
                }
                call => calls.push(call),
            }
        }
        let dones = match self.write(&stamped, &stored, calls) {
            Ok(dones) => {
                marks.head.store(self.last_seq, Ordering::Release);
                if self.oldest == 0 && self.last_seq > first_seq {
                    self.oldest = first_seq + 1;
                    marks.oldest.store(self.oldest, Ordering::Release);
                }
                dones.into_iter().map(|done| (done, Ok(()))).collect()
            }
            Err((error, dones)) => {
                tracing::error!(
                    "could not write to the journal: {error}; its events go out without seq"
                );
                self.last_seq = first_seq;
                stamped = stamped
                    .into_iter()
                    .map(|event| match event.event {
                        Some(event) => Stamped::new(event, None, at),
                        None => event,
                    })
                    .collect();
                let error = error.to_string();
                dones
                    .into_iter()
                    .map(|done| (done, Err(error.clone())))
                    .collect::<Vec<_>>()
            }
        };
        for event in stamped {
            (self.deliver)(Arc::new(event));
        }
        // Before the answers, so a flush also means retention has been applied.
        self.maybe_prune(marks);
        for (done, outcome) in dones {
            done(outcome);
        }
    }

    /// Writes the events and runs the works in one transaction; what each work wants done
    /// after the commit. On failure the dones still come back, to be told.
    fn write(
        &mut self,
        stamped: &[Stamped],
        stored: &[(usize, Vec<u8>)],
        calls: Vec<Op>,
    ) -> Result<Vec<Done>, (rusqlite::Error, Vec<Done>)> {
        let mut dones: Vec<Done> = Vec::with_capacity(calls.len());
        let transaction = match self.connection.transaction() {
            Ok(transaction) => transaction,
            Err(error) => {
                return Err((error, calls.into_iter().map(failed_done).collect()));
            }
        };
        let mut bytes = 0;
        let inserted = (|| {
            let mut insert = transaction.prepare_cached(
                "INSERT INTO journal (seq, at, type, body) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for event in stamped {
                if let Some(seq) = event.seq {
                    insert.execute(params![seq, event.at, event.kind.as_str(), event.params])?;
                    bytes += event.params.len() as u64 + ROW_OVERHEAD;
                }
            }
            Ok::<(), rusqlite::Error>(())
        })();
        if let Err(error) = inserted {
            return Err((error, calls.into_iter().map(failed_done).collect()));
        }
        for (index, raw) in stored {
            let event = &stamped[*index];
            if let Some(Event::Message(message)) = &event.event
                && let Err(error) = messages::insert_row(&transaction, message, &event.params, raw)
            {
                // SQLite undid the statement; the event itself is journaled all the same.
                tracing::error!(
                    chat = message.chat,
                    id = message.id,
                    "storing a message failed: {error}"
                );
            }
        }
        let head = self.last_seq;
        for call in calls {
            dones.push(match call {
                Op::Write(work) => work(&transaction, head),
                Op::Flush(reply) | Op::Close(reply) => Box::new(move |_| {
                    let _ = reply.send(());
                }),
                Op::Append(..) => Box::new(|_| {}),
            });
        }
        let committed = transaction
            .execute(
                "INSERT INTO meta (key, value) VALUES ('last_seq', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [self.last_seq],
            )
            .and_then(|_| transaction.commit());
        match committed {
            Ok(()) => {
                self.bytes += bytes;
                Ok(dones)
            }
            Err(error) => Err((error, dones)),
        }
    }

    /// Drops events older than the retention time, then the oldest until the size fits.
    fn prune(&mut self, now_ms: u64) -> Result<(), Error> {
        let keep_ms = self.retention.keep.as_millis() as u64;
        let cutoff = now_ms.saturating_sub(keep_ms);
        if let Some(upto) = self.last_older_than(cutoff)? {
            self.delete_through(upto)?;
        }
        while self.bytes > self.retention.max_bytes && self.oldest != 0 {
            // A tenth of what is kept (at least one row) per round.
            let count: u64 =
                self.connection
                    .query_row("SELECT count(*) FROM journal", [], |row| row.get(0))?;
            if count <= 1 {
                break;
            }
            let step = (count / 10).max(1);
            let upto: u64 = self.connection.query_row(
                "SELECT seq FROM journal ORDER BY seq LIMIT 1 OFFSET ?1",
                [step - 1],
                |row| row.get(0),
            )?;
            self.delete_through(upto)?;
        }
        Ok(())
    }

    /// The newest seq whose `at` is before `cutoff`, by binary search over seq (`at` grows
    /// with seq), so the table needs no index on `at` and inserts stay cheap.
    fn last_older_than(&self, cutoff: u64) -> Result<Option<u64>, Error> {
        // The first row at or after `seq`: (its seq, its at).
        let row_from = |seq: u64| -> Result<Option<(u64, u64)>, Error> {
            Ok(self
                .connection
                .query_row(
                    "SELECT seq, at FROM journal WHERE seq >= ?1 ORDER BY seq LIMIT 1",
                    [seq],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?)
        };
        let Some((mut low, at)) = row_from(self.oldest)? else {
            return Ok(None);
        };
        if at >= cutoff {
            return Ok(None);
        }
        // `low` is old; find the last old one below `high`.
        let mut high = self.last_seq + 1;
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            match row_from(middle)? {
                Some((seq, at)) if seq < high && at < cutoff => low = seq,
                _ => high = middle,
            }
        }
        Ok(Some(low))
    }

    fn delete_through(&mut self, upto: u64) -> Result<(), Error> {
        let transaction = self.connection.transaction()?;
        let freed: f64 = transaction.query_row(
            "SELECT total(length(body)) + count(*) * ?2 FROM journal WHERE seq <= ?1",
            params![upto, ROW_OVERHEAD],
            |row| row.get(0),
        )?;
        transaction.execute("DELETE FROM journal WHERE seq <= ?1", [upto])?;
        let oldest: Option<u64> =
            transaction.query_row("SELECT min(seq) FROM journal", [], |row| row.get(0))?;
        transaction.commit()?;
        self.bytes = self.bytes.saturating_sub(freed as u64);
        self.oldest = oldest.unwrap_or(0);
        tracing::debug!(upto, oldest = self.oldest, "journal pruned");
        Ok(())
    }
}

/// Whether an event is stored: every one but `qr`, whose content is a login secret.
fn journaled(event: &Event) -> bool {
    !matches!(event, Event::Qr { .. })
}

/// What a call's done does when its batch could not even be written: tell it.
/// A work that never ran is dropped with its reply sender, so its caller hears the failure.
fn failed_done(call: Op) -> Done {
    match call {
        Op::Flush(reply) | Op::Close(reply) => Box::new(move |_| {
            let _ = reply.send(());
        }),
        Op::Write(_) | Op::Append(..) => Box::new(|_| {}),
    }
}

/// Runs `work` in a savepoint: its writes stay only if it succeeds.
fn in_savepoint<T>(
    transaction: &rusqlite::Transaction<'_>,
    work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    transaction.execute_batch("SAVEPOINT work")?;
    match work(transaction) {
        Ok(value) => {
            transaction.execute_batch("RELEASE work")?;
            Ok(value)
        }
        Err(error) => {
            transaction.execute_batch("ROLLBACK TO work; RELEASE work")?;
            Err(error)
        }
    }
}

/// A consumer's cursor after `commit` (`advance`: moved to `seq`, never backwards) or after
/// opening it (`seq` only for a new name, the head); the consumer is created either way.
fn cursor(
    transaction: &rusqlite::Transaction<'_>,
    name: &ConsumerName,
    seq: u64,
    advance: bool,
) -> rusqlite::Result<u64> {
    let at = unix_ms();
    let on_conflict = if advance {
        "DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at"
    } else {
        "DO NOTHING"
    };
    transaction.execute(
        &format!(
            "INSERT INTO consumers (name, seq, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) {on_conflict}"
        ),
        params![name.as_str(), seq, at],
    )?;
    transaction.query_row(
        "SELECT seq FROM consumers WHERE name = ?1",
        [name.as_str()],
        |row| row.get(0),
    )
}

#[cfg(test)]
mod tests;
