//! While the server hangs, senders are never blocked and memory stays bounded by the queue
//! capacity. A test binary of its own, so no other test's allocations move the RSS reading.

mod support;

use std::time::{Duration, Instant};

use odp::core::{Client, ErrorKind, EventInput};
use support::collector::Collector;
use support::http::Reply;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn a_hung_server_never_blocks_senders_and_memory_stays_bounded() {
    const CAPACITY: u64 = 2_000;
    const ATTEMPTS: usize = 50_000;
    let collector = Collector::new();
    collector.set_fault(|_, _| Some(Reply::Hang));
    let c = Client::from_json(&format!(
        r#"{{"odp_api_key":"k","odp_api_host":"{}","queue_capacity":{CAPACITY},"flush_interval_ms":0,"request_timeout_ms":60000}}"#,
        collector.url()
    ))
    .unwrap();
    // 2 KiB per event: unbounded growth over 50,000 sends would be ~100 MiB.
    let data = format!(r#"{{"blob":"{}"}}"#, "x".repeat(2048));
    let before = rss_bytes();
    let (mut accepted, mut full) = (0u64, 0u64);
    let mut slowest = Duration::ZERO;
    for i in 0..ATTEMPTS {
        let action = format!("e{i}");
        let started = Instant::now();
        let r = c.send_event(EventInput::new(
            None,
            Some(&action),
            Some(r#"{"fs_user_id":"u"}"#),
            Some(&data),
        ));
        slowest = slowest.max(started.elapsed());
        match r {
            Ok(()) => accepted += 1,
            Err(e) if e.kind() == ErrorKind::QueueFull => full += 1,
            Err(e) => panic!("{e}"),
        }
    }
    let grown = rss_bytes().saturating_sub(before);
    eprintln!(
        "accepted {accepted}, queue full {full}, slowest send {slowest:?}, RSS grew {} KiB",
        grown / 1024
    );
    assert_eq!(
        accepted, CAPACITY,
        "the batch in flight counts against the capacity"
    );
    assert_eq!(full, ATTEMPTS as u64 - CAPACITY);
    // Blocking on the network would take the 60 s request timeout; a send takes microseconds.
    assert!(
        slowest < Duration::from_secs(1),
        "a send blocked for {slowest:?}"
    );
    assert!(
        grown < 32 << 20,
        "RSS grew {} MiB for a queue of {CAPACITY}",
        grown >> 20
    );
    let s = c.stats().unwrap();
    assert_eq!(
        (s.accepted, s.pending, s.rejected_queue_full),
        (CAPACITY, CAPACITY, full)
    );
    assert_eq!(
        c.close(Duration::from_millis(100)).unwrap_err().kind(),
        ErrorKind::Timeout
    );
    assert_eq!(c.stats().unwrap().dropped_shutdown, CAPACITY);
}
