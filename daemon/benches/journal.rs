//! The journal's group commit: events published to a journaled bus, committed to a real
//! `waweb.db` (WAL, `synchronous=NORMAL`) in a temp dir and delivered to one subscriber, in
//! events per second. The target (BENCHMARKS.md) is at least 50,000 events/s.
//!
//! `cargo bench -p wawebd --bench journal`

use divan::Bencher;
use divan::counter::ItemsCount;
use waweb_proto::Event;
use wawebd::bus::Bus;
use wawebd::db::Db;
use wawebd::journal::{Journal, Retention};

fn main() {
    divan::main();
}

/// A typical small event: a delivery receipt.
fn ack(n: u64) -> Event {
    Event::Ack {
        id: format!("3EB0{n:016X}"),
        ack: 2,
        chat: "4915100000001@s.whatsapp.net".into(),
        error: None,
    }
}

/// Publishes `count` events and waits until the subscriber has every one (so each was
/// committed first).
#[divan::bench(args = [1_000, 10_000], sample_count = 10)]
fn publish_commit_deliver(bencher: Bencher, count: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bus = runtime.block_on(async {
        let bus = Bus::with_capacity(1 << 16);
        let opened = Db::open(dir.path()).unwrap();
        let journal = Journal::start(
            opened.db,
            opened.writer,
            Retention::default(),
            bus.deliverer(),
        )
        .unwrap();
        bus.attach(journal);
        bus
    });
    bencher.counter(ItemsCount::new(count)).bench_local(|| {
        runtime.block_on(async {
            let mut subscription = bus.subscribe();
            for n in 0..count {
                bus.publish(ack(n));
            }
            for _ in 0..count {
                let event = subscription.recv().await.unwrap();
                assert!(event.seq.is_some());
            }
        })
    });
    runtime.block_on(bus.close());
}
