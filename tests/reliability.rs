//! Nothing lost, nothing hangs: the properties of the reliability suite, against a collector
//! that injects the faults real networks produce.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use odp::core::{Client, ErrorKind, Stats};
use serde_json::Value;
use support::collector::Collector;
use support::http::Reply;
use support::{direct_client as client, send};

const SECOND: Duration = Duration::from_secs(1);

/// xorshift64*: a seeded, dependency-free generator so every run injects the same faults.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn balanced(s: &Stats) -> bool {
    s.accepted == s.delivered + s.dropped_rejected + s.dropped_shutdown + s.pending
}

fn events_in(body: &[u8]) -> Vec<Value> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn accounting_holds_under_random_faults_and_every_retryable_event_arrives() {
    const EVENTS: usize = 20_000;
    let collector = Collector::new();
    let rng = Mutex::new(Rng(0x5eed_0d9a));
    let lost_responses = Arc::new(AtomicUsize::new(0));
    let injected = Arc::new(Mutex::new(HashMap::<&'static str, usize>::new()));
    {
        let lost = lost_responses.clone();
        let injected = injected.clone();
        collector.set_fault(move |request, _| {
            let roll = rng.lock().unwrap().next() % 100;
            let (name, reply) = match roll {
                0..=6 => ("503", Reply::status(503)),
                7..=9 => ("500", Reply::status(500)),
                10..=12 => (
                    "429 Retry-After: 0",
                    Reply::status(429).with_header("retry-after", "0"),
                ),
                13 => ("408", Reply::status(408)),
                14 => (
                    "400",
                    Reply::json(400, "{\"title\":\"Bad Request\",\"status\":400}"),
                ),
                15 => ("413", Reply::status(413)),
                16..=18 => ("reset before answering", Reply::Reset),
                19..=20 => {
                    lost.fetch_add(events_in(&request.body).len(), Ordering::SeqCst);
                    (
                        "processed, then answer truncated",
                        Reply::Process(Box::new(Reply::Truncated { status: 202 })),
                    )
                }
                21 => {
                    lost.fetch_add(events_in(&request.body).len(), Ordering::SeqCst);
                    (
                        "processed, then reset",
                        Reply::Process(Box::new(Reply::Reset)),
                    )
                }
                22..=23 => (
                    "slow answer",
                    Reply::Process(Box::new(Reply::Delay(
                        Duration::from_millis(30),
                        Box::new(Reply::status(202)),
                    ))),
                ),
                24 => ("never answers", Reply::Hang),
                _ => return None,
            };
            *injected.lock().unwrap().entry(name).or_default() += 1;
            Some(reply)
        });
    }
    collector.set_accept_fault(|connection| connection % 9 == 4);

    let c = client(
        &collector,
        r#","batch_size":100,"flush_interval_ms":5,"queue_capacity":100000,"request_timeout_ms":300"#,
    );
    let done = AtomicBool::new(false);
    let observations = AtomicU64::new(0);
    let unbalanced = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let st = c.stats().unwrap();
                observations.fetch_add(1, Ordering::Relaxed);
                if !balanced(&st) {
                    unbalanced.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        std::thread::scope(|senders| {
            for t in 0..4 {
                let c = &c;
                senders.spawn(move || {
                    for i in 0..EVENTS / 4 {
                        send(c, &format!("t{t}-{i}")).unwrap();
                    }
                });
            }
        });
        // Faults stay on until most of the traffic has met them; then the server recovers and
        // everything not refused for good must arrive.
        let until = Instant::now() + 90 * SECOND;
        while Instant::now() < until {
            let st = c.stats().unwrap();
            if st.delivered + st.dropped_rejected >= (EVENTS as u64) * 9 / 10 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        collector.clear_fault();
        collector.clear_accept_fault();
        c.flush(120 * SECOND)
            .expect("everything retryable is delivered once the server recovers");
        done.store(true, Ordering::Relaxed);
    });

    let s = c.stats().unwrap();
    let injected = injected.lock().unwrap().clone();
    eprintln!(
        "faults injected: {injected:?} + accept resets; {} observations; {s:?}; collector: {} unique, {} duplicates",
        observations.load(Ordering::Relaxed),
        collector.event_count(),
        collector.duplicates()
    );
    assert!(
        injected.values().sum::<usize>() >= 40 && injected.len() >= 8,
        "faults of most kinds were injected: {injected:?}"
    );
    assert_eq!(
        unbalanced.load(Ordering::Relaxed),
        0,
        "accepted = delivered + dropped + pending at every observation"
    );
    assert!(observations.load(Ordering::Relaxed) > 100);
    assert_eq!(s.accepted, EVENTS as u64);
    assert_eq!((s.pending, s.dropped_shutdown), (0, 0));
    assert_eq!(
        s.delivered + s.dropped_rejected,
        s.accepted,
        "only non-retryable statuses lose events"
    );
    assert!(s.dropped_rejected > 0 && s.failed_attempts > 0);

    // What the collector holds: every delivered event, plus events whose answer was lost and
    // that a later 4xx then made the client give up on.
    let unique = collector.event_count() as u64;
    let lost = lost_responses.load(Ordering::SeqCst) as u64;
    assert!(
        unique >= s.delivered && unique <= s.delivered + lost,
        "unique {unique}, delivered {}, lost {lost}",
        s.delivered
    );
    assert!(
        collector.duplicates() as u64 <= lost,
        "duplicates only from retries after a lost response"
    );

    // Stable ids: one id per event, the same through every retry and regrouping.
    let mut action_of: HashMap<String, String> = HashMap::new();
    let mut id_of: HashMap<String, String> = HashMap::new();
    for request in collector.requests() {
        for e in events_in(&request.body) {
            let id = e["data"]["idempotence_id"].as_str().unwrap().to_owned();
            let action = e["action"].as_str().unwrap().to_owned();
            assert_eq!(
                action_of
                    .entry(id.clone())
                    .or_insert_with(|| action.clone()),
                &action,
                "an id names one event"
            );
            assert_eq!(
                id_of.entry(action).or_insert_with(|| id.clone()),
                &id,
                "an event keeps its id"
            );
        }
    }
    assert_eq!(id_of.len(), EVENTS, "every event was sent at least once");
}

/// Runs `f` and returns how far past `timeout` it returned.
fn overrun(timeout: Duration, f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed().saturating_sub(timeout)
}

#[test]
fn flush_close_and_drop_return_by_their_deadline_on_hung_and_unresolvable_servers() {
    let hung = Collector::new();
    hung.set_fault(|_, _| Some(Reply::Hang));
    let timeout = Duration::from_millis(300);
    let allowed = Duration::from_millis(100);
    let mut worst = Duration::ZERO;
    let hosts = [hung.url(), "https://odp.invalid".to_owned()];
    for host in &hosts {
        for round in 0..3 {
            let config = format!(
                r#"{{"odp_api_key":"k","odp_api_host":"{host}","flush_interval_ms":0,"request_timeout_ms":60000,"shutdown_timeout_ms":300}}"#
            );
            let c = Client::from_json(&config).unwrap();
            for i in 0..20 {
                send(&c, &format!("e{i}")).unwrap();
            }
            let o = overrun(timeout, || {
                assert_eq!(c.flush(timeout).unwrap_err().kind(), ErrorKind::Timeout);
            });
            worst = worst.max(o);
            let o = if round == 2 {
                // The implicit close of a dropped (freed) client uses shutdown_timeout_ms.
                overrun(timeout, || drop(c))
            } else {
                let o = overrun(timeout, || {
                    assert_eq!(c.close(timeout).unwrap_err().kind(), ErrorKind::Timeout);
                });
                let s = c.stats().unwrap();
                assert_eq!(
                    (s.accepted, s.dropped_shutdown, s.pending),
                    (20, 20, 0),
                    "{host}"
                );
                o
            };
            worst = worst.max(o);
        }
    }
    eprintln!("worst overrun past a 300 ms deadline: {worst:?}");
    assert!(worst <= allowed, "a deadline was overrun by {worst:?}");
}

#[test]
fn eight_threads_ten_thousand_each_with_concurrent_flush_stats_and_close() {
    let collector = Collector::new();
    let c = client(
        &collector,
        r#","batch_size":200,"flush_interval_ms":5,"queue_capacity":100000"#,
    );
    let accepted_by_callers = AtomicU64::new(0);
    let refused_closed = AtomicU64::new(0);
    let started = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (c, accepted, refused, started) =
                (&c, &accepted_by_callers, &refused_closed, &started);
            s.spawn(move || {
                for i in 0..10_000 {
                    started.fetch_add(1, Ordering::Relaxed);
                    match send(c, &format!("t{t}-{i}")) {
                        Ok(()) => accepted.fetch_add(1, Ordering::Relaxed),
                        Err(e) if e.kind() == ErrorKind::Closed => {
                            refused.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(e) => panic!("unexpected {e}"),
                    };
                }
            });
        }
        s.spawn(|| {
            while started.load(Ordering::Relaxed) < 80_000 && !c.is_closed() {
                let st = c.stats().unwrap();
                assert!(balanced(&st), "{st:?}");
                let _ = c.flush(Duration::from_millis(5));
            }
        });
        s.spawn(|| {
            while started.load(Ordering::Relaxed) < 60_000 {
                std::thread::yield_now();
            }
            c.close(60 * SECOND).unwrap();
        });
    });
    let s = c.stats().unwrap();
    assert_eq!(s.accepted, accepted_by_callers.load(Ordering::Relaxed));
    assert_eq!(s.accepted + refused_closed.load(Ordering::Relaxed), 80_000);
    assert!(
        refused_closed.load(Ordering::Relaxed) > 0,
        "close ran while senders were sending"
    );
    assert_eq!(
        (s.delivered, s.pending, s.dropped_shutdown),
        (s.accepted, 0, 0)
    );
    assert_eq!(collector.event_count() as u64, s.accepted);
    assert_eq!(collector.duplicates(), 0);
}

#[test]
fn a_server_that_goes_down_and_comes_back_loses_nothing() {
    let collector = Collector::new();
    let c = client(
        &collector,
        r#","batch_size":10,"flush_interval_ms":10,"max_attempts":2"#,
    );
    for i in 0..50 {
        send(&c, &format!("before-{i}")).unwrap();
    }
    collector.set_down(true);
    for i in 0..50 {
        send(&c, &format!("during-{i}")).unwrap();
    }
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        c.stats().unwrap().failed_attempts > 0,
        "sends failed while the server was down"
    );
    collector.set_down(false);
    c.flush(30 * SECOND).unwrap();
    let s = c.stats().unwrap();
    assert_eq!((s.accepted, s.delivered), (100, 100));
    assert_eq!(collector.event_count(), 100);
}

#[test]
fn oversized_responses_are_capped_and_still_count_as_delivered() {
    let collector = Collector::new();
    collector.set_fault(|_, _| {
        Some(Reply::Process(Box::new(Reply::json(
            202,
            vec![b' '; 4 << 20],
        ))))
    });
    let c = client(&collector, r#","flush_interval_ms":0"#);
    send(&c, "big-answer").unwrap();
    send(&c, "next").unwrap();
    c.flush(10 * SECOND).unwrap();
    assert_eq!(c.stats().unwrap().delivered, 2);
    assert_eq!(collector.event_count(), 2);
}
