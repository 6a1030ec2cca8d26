//! No thread per event or per batch (SPEC §6): delivering hundreds of batches creates a handful
//! of threads, not one each. A test binary of its own, so other tests do not start threads
//! meanwhile.

mod support;

use std::time::Duration;

use support::collector::Collector;
use support::{direct_client, send};

/// Processes and threads the kernel has created since boot (`processes` in /proc/stat).
fn threads_created_on_this_machine() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let line = stat.lines().find(|l| l.starts_with("processes ")).unwrap();
    line[10..].trim().parse().unwrap()
}

#[test]
fn hundreds_of_batches_start_a_handful_of_threads() {
    const BATCHES: u64 = 500;
    let collector = Collector::new();
    // One event per batch: every send is a request.
    let client = direct_client(&collector, r#","batch_size":1,"flush_interval_ms":0"#);
    send(&client, "warm-up").unwrap();
    client.flush(Duration::from_secs(10)).unwrap();
    let before = threads_created_on_this_machine();
    for i in 0..BATCHES {
        send(&client, &format!("e{i}")).unwrap();
    }
    client.flush(Duration::from_secs(60)).unwrap();
    let created = threads_created_on_this_machine() - before;
    let batches = client.stats().unwrap().batches_sent - 1;
    eprintln!(
        "{batches} requests; {created} threads or processes created on the machine meanwhile"
    );
    assert!(batches >= BATCHES / 2, "{batches} requests");
    // Senders (at most max_concurrent_requests) and the collector's connection threads, plus
    // whatever else the machine did: far below one per request.
    assert!(
        created < batches / 2,
        "{created} threads for {batches} requests"
    );
}
