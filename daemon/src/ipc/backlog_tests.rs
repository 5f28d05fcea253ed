//! The daemon-wide bound on unwritten replies (backlog.rs): writers over real socket pairs
//! whose peers do not read, fed straight through their channels.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::backlog::{Account, BULK_BUILDS, Backlog};
use super::writer::Writer;
use super::{Options, Out};
use crate::bus::{Bus, Subscription};

const LINE: usize = 16 << 10;
const DEADLINE: Duration = Duration::from_secs(10);

/// A connection's writer on one end of a socket pair: its channel, the peer end (which reads
/// only when the test says so) and the task.
struct Conn {
    out: mpsc::Sender<Out>,
    peer: UnixStream,
    task: JoinHandle<()>,
}

fn conn(backlog: &Arc<Backlog>, options: &Options) -> Conn {
    subscriber(backlog, options, None)
}

/// [`conn`] with a subscription.
fn subscriber(
    backlog: &Arc<Backlog>,
    options: &Options,
    subscription: Option<Subscription>,
) -> Conn {
    let (ours, peer) = UnixStream::pair().unwrap();
    let (_read, write) = ours.into_split();
    let (out, out_rx) = mpsc::channel(16);
    let mut writer = Writer::new(
        out_rx,
        options.clone(),
        Bus::new(),
        Account::new(backlog.clone()),
    );
    writer.subscription = subscription;
    let task = tokio::spawn(writer.run(write));
    Conn { out, peer, task }
}

fn line(n: usize) -> String {
    let mut line = format!("{n:08} ");
    line.push_str(&"x".repeat(LINE - line.len() - 1));
    line.push('\n');
    line
}

/// Sends `count` lines into the channel in its own task (it waits while the writer is paused).
fn feed(conn: &Conn, count: usize) -> JoinHandle<()> {
    let out = conn.out.clone();
    tokio::spawn(async move {
        for n in 0..count {
            if out.send(Out::Line(line(n))).await.is_err() {
                return;
            }
        }
    })
}

fn options(max: usize) -> Options {
    Options {
        max_unwritten_bytes: max,
        ..Options::default()
    }
}

/// The largest total seen while sampling for `period`.
async fn max_held(backlog: &Backlog, period: Duration) -> usize {
    let mut max = 0;
    let end = tokio::time::Instant::now() + period;
    while tokio::time::Instant::now() < end {
        max = max.max(backlog.held());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    max
}

/// Waits until the total is at the bound (polling: the backlog signals only falls).
async fn until_over(backlog: &Backlog) {
    timeout(DEADLINE, async {
        while !backlog.over() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the bound is reached");
}

/// Reads one whole line from `peer` (a 16 KiB line of [`line`]) and returns its number.
async fn read_line(peer: &mut UnixStream) -> usize {
    let mut buf = vec![0u8; LINE];
    timeout(DEADLINE, peer.read_exact(&mut buf))
        .await
        .expect("the line comes in time")
        .unwrap();
    String::from_utf8_lossy(&buf[..8]).parse().unwrap()
}

#[tokio::test]
async fn the_total_never_exceeds_the_bound_plus_one_line_per_connection() {
    let max = 256 << 10;
    let backlog = Backlog::new(max, Default::default());
    let options = options(max);
    let stuck: Vec<Conn> = (0..4).map(|_| conn(&backlog, &options)).collect();
    // 4 x 256 lines of 16 KiB: 16 MiB offered, each queue could hold 32 MiB on its own.
    let feeders: Vec<_> = stuck.iter().map(|conn| feed(conn, 256)).collect();
    // The total only falls again when a write finishes, and the peers read nothing: sampling
    // from the moment the bound is reached sees the largest it gets.
    until_over(&backlog).await;
    let seen = max_held(&backlog, Duration::from_millis(200)).await;
    assert!(
        seen <= max + stuck.len() * LINE,
        "{seen} bytes unwritten, bound {max} + {} lines",
        stuck.len()
    );
    // The feeders wait: backpressure, nothing dropped.
    assert!(feeders.iter().all(|feeder| !feeder.is_finished()));
    for conn in &stuck {
        assert!(
            !conn.task.is_finished(),
            "nobody is cut before the deadline"
        );
    }
}

#[tokio::test]
async fn a_client_with_nothing_unwritten_is_served_while_others_are_stuck() {
    let max = 128 << 10;
    let backlog = Backlog::new(max, Default::default());
    let options = options(max);
    let stuck: Vec<Conn> = (0..3).map(|_| conn(&backlog, &options)).collect();
    let _feeders: Vec<_> = stuck.iter().map(|conn| feed(conn, 256)).collect();
    until_over(&backlog).await;
    // Enough lines that the reader's own socket buffer cannot take them all at once.
    let mut reader = conn(&backlog, &options);
    let count = 100;
    let feeder = feed(&reader, count);
    for n in 0..count {
        assert_eq!(read_line(&mut reader.peer).await, n);
    }
    feeder.await.unwrap();
    assert!(
        backlog.over(),
        "the others still hold the total over the bound"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stuck_client_is_disconnected_after_the_deadline_and_its_bytes_come_back() {
    let max = 128 << 10;
    let backlog = Backlog::new(max, Default::default());
    let options = Options {
        stuck_after: Duration::from_secs(10),
        ..options(max)
    };
    let mut stuck = conn(&backlog, &options);
    let feeder = feed(&stuck, 256);
    until_over(&backlog).await;
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert!(!stuck.task.is_finished(), "cut before the deadline");
    assert!(backlog.over());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        stuck.task.is_finished(),
        "still connected after the deadline"
    );
    // What the socket had taken is there to read, then the end.
    let mut rest = Vec::new();
    stuck.peer.read_to_end(&mut rest).await.unwrap();
    assert!(rest.len() < 256 * LINE);
    feeder.await.unwrap();
    drop(stuck.out);
    assert_eq!(backlog.held(), 0, "the connection gave its bytes back");
}

#[tokio::test(start_paused = true)]
async fn a_stuck_client_is_cut_when_others_take_the_total_over_the_bound() {
    let max = 1 << 20;
    let backlog = Backlog::new(max, Default::default());
    let options = Options {
        stuck_after: Duration::from_secs(10),
        ..options(max)
    };
    // Stuck, but under the bound on its own: nobody minds.
    let stuck = conn(&backlog, &options);
    let _feeder = feed(&stuck, 48);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(!stuck.task.is_finished());
    let held = backlog.held();
    assert!(held > 0 && held < max, "{held}");
    // Another connection's pages take the total over: nothing wakes the stuck writer, its
    // deadline check still finds it.
    let other = Account::new(backlog.clone());
    other.grow(max);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        stuck.task.is_finished(),
        "a stuck client over its share stays"
    );
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_keeps_its_own_lag_rule_and_is_not_cut_for_the_backlog() {
    let max = 64 << 10;
    let backlog = Backlog::new(max, Default::default());
    let options = Options {
        stuck_after: Duration::from_secs(10),
        ..options(max)
    };
    let bus = Bus::new();
    let conn = subscriber(&backlog, &options, Some(bus.subscribe()));
    let _feeder = feed(&conn, 256);
    until_over(&backlog).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(
        !conn.task.is_finished(),
        "a subscriber is cut by its lag rule only"
    );
    // The same stuck writer without a subscription is cut.
    let plain = self::conn(&backlog, &options);
    let _feeder = feed(&plain, 256);
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert!(plain.task.is_finished());
}

#[tokio::test]
async fn bulk_pages_wait_for_room_unless_their_connection_holds_nothing() {
    let backlog = Backlog::new(1000, Default::default());
    let full = Account::new(backlog.clone());
    full.grow(1000);
    let blocked = Account::new(backlog.clone());
    blocked.grow(10);
    let pending = Duration::from_millis(50);
    assert!(timeout(pending, blocked.room_to_build()).await.is_err());
    // A connection with nothing unwritten builds, but only BULK_BUILDS at once.
    let empty = Account::new(backlog.clone());
    let mut permits = Vec::new();
    for _ in 0..BULK_BUILDS {
        permits.push(empty.room_to_build().await.unwrap());
    }
    assert!(timeout(pending, empty.room_to_build()).await.is_err());
    drop(permits);
    // Room again: the waiting one goes on.
    let waiting = tokio::spawn({
        let blocked = blocked.clone();
        async move { blocked.room_to_build().await.is_some() }
    });
    tokio::time::sleep(pending).await;
    assert!(!waiting.is_finished());
    full.shrink(500);
    assert!(timeout(DEADLINE, waiting).await.unwrap().unwrap());
    drop((full, blocked));
    assert_eq!(backlog.held(), 0);
}
