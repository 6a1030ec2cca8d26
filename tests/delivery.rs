//! Delivery against a local collector: the wire format, batching, flush triggers, retries,
//! drops, flush/close semantics and accounting.

mod support;

use std::time::{Duration, Instant};

use odp::core::{Client, ErrorKind, EventInput, Stats};
use serde_json::Value;
use support::collector::Collector;
use support::http::Reply;
use support::{direct_client as client, send};

const SECOND: Duration = Duration::from_secs(1);

fn batch_sizes(collector: &Collector) -> Vec<usize> {
    collector
        .requests()
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body)
                .unwrap()
                .as_array()
                .unwrap()
                .len()
        })
        .collect()
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_books_balance(s: &Stats) {
    assert_eq!(
        s.accepted,
        s.delivered + s.dropped_rejected + s.dropped_shutdown + s.pending,
        "{s:?}"
    );
}

#[test]
fn wire_format_and_headers_match_the_spec_byte_for_byte() {
    let collector = Collector::new();
    let c = client(&collector, r#","flush_interval_ms":0"#);
    c.send_event(EventInput::new(
        Some("fullstack"),
        Some("purchased"),
        Some(r#"{"fs_user_id":"user123","email":"a@b.com"}"#),
        Some(r#"{"item":"shirt","price":50.0}"#),
    ))
    .unwrap();
    c.flush(5 * SECOND).unwrap();

    let requests = collector.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v3/events"));
    assert_eq!(r.header_all("content-type"), ["application/json"]);
    assert_eq!(r.header_all("x-api-key"), ["test-public-key"]);
    assert_eq!(r.header_all("accept"), ["application/json"]);
    assert_eq!(
        r.header_all("user-agent"),
        [concat!("libodp/", env!("CARGO_PKG_VERSION"))]
    );
    assert!(
        r.header("accept-encoding").is_none(),
        "no compression is offered"
    );

    let body = String::from_utf8(r.body.clone()).unwrap();
    let id_at = body.find("\"idempotence_id\":\"").unwrap() + 18;
    let id = &body[id_at..id_at + 36];
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    assert_eq!(
        body.replace(id, "UUID"),
        concat!(
            r#"[{"type":"fullstack","action":"purchased","identifiers":{"email":"a@b.com","fs_user_id":"user123"},"#,
            r#""data":{"data_source":"libodp","data_source_type":"sdk","data_source_version":""#,
            env!("CARGO_PKG_VERSION"),
            r#"","idempotence_id":"UUID","item":"shirt","price":50.0}}]"#
        )
    );
}

#[test]
fn twenty_five_events_with_batch_ten_go_as_ten_ten_five() {
    let collector = Collector::new();
    // One request at a time, to see keep-alive reuse a single connection.
    let c = client(
        &collector,
        r#","batch_size":10,"flush_interval_ms":60000,"max_concurrent_requests":1"#,
    );
    for i in 0..25 {
        send(&c, &format!("a{i}")).unwrap();
    }
    c.flush(5 * SECOND).unwrap();
    assert_eq!(batch_sizes(&collector), [10, 10, 5]);
    let expected: Vec<String> = (0..25).map(|i| format!("a{i}")).collect();
    assert_eq!(actions(&collector.events()), expected, "order is kept");
    let s = c.stats().unwrap();
    assert_eq!(
        (s.accepted, s.delivered, s.pending, s.batches_sent),
        (25, 25, 0, 3)
    );
    // Keep-alive: one connection for all three requests.
    let conns: Vec<usize> = collector.requests().iter().map(|r| r.connection).collect();
    assert_eq!(conns, [conns[0]; 3]);
}

#[test]
fn a_backlog_is_sent_over_several_connections_at_once() {
    let collector = Collector::new();
    // A slow server: one request at a time would take 20 x 100 ms.
    collector.set_fault(|_, _| {
        Some(Reply::Process(Box::new(Reply::Delay(
            Duration::from_millis(100),
            Box::new(Reply::status(202)),
        ))))
    });
    let c = client(
        &collector,
        r#","batch_size":10,"flush_interval_ms":60000,"max_concurrent_requests":4"#,
    );
    for i in 0..200 {
        send(&c, &format!("a{i}")).unwrap();
    }
    c.flush(30 * SECOND).unwrap();
    assert_eq!(collector.event_count(), 200);
    let connections: std::collections::HashSet<usize> =
        collector.requests().iter().map(|r| r.connection).collect();
    assert!(
        connections.len() > 1 && connections.len() <= 4,
        "{} connections",
        connections.len()
    );
    let s = c.stats().unwrap();
    assert_eq!((s.delivered, s.batches_sent, s.pending), (200, 20, 0));
}

#[test]
fn the_interval_sends_a_partial_batch_without_a_flush() {
    let collector = Collector::new();
    let c = client(&collector, r#","flush_interval_ms":100"#);
    for i in 0..3 {
        send(&c, &format!("a{i}")).unwrap();
    }
    assert!(collector.wait_for_events(3, 5 * SECOND));
    assert_eq!(
        batch_sizes(&collector),
        [3],
        "one request for the three events"
    );
}

#[test]
fn interval_zero_sends_each_event_at_once() {
    let collector = Collector::new();
    let c = client(&collector, r#","flush_interval_ms":0"#);
    for i in 0..3 {
        send(&c, &format!("a{i}")).unwrap();
        assert!(collector.wait_for_events(i + 1, 5 * SECOND));
    }
    assert_eq!(batch_sizes(&collector), [1, 1, 1]);
}

#[test]
fn flush_waits_for_delivery_and_times_out_against_a_hung_server() {
    let collector = Collector::new();
    let c = client(
        &collector,
        r#","flush_interval_ms":60000,"request_timeout_ms":60000"#,
    );
    send(&c, "one").unwrap();
    c.flush(5 * SECOND).unwrap();
    assert_eq!(collector.event_count(), 1);

    collector.set_fault(|_, _| Some(Reply::Hang));
    send(&c, "two").unwrap();
    let e = c.flush(Duration::from_millis(300)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(
        e.detail(),
        "flush timed out after 300 ms; 1 event still pending"
    );
    assert_eq!(c.stats().unwrap().pending, 1);
    assert_books_balance(&c.stats().unwrap());
}

#[test]
fn close_delivers_what_is_queued_then_refuses_events() {
    let collector = Collector::new();
    let c = client(&collector, r#","flush_interval_ms":60000"#);
    for i in 0..7 {
        send(&c, &format!("a{i}")).unwrap();
    }
    c.close(5 * SECOND).unwrap();
    assert_eq!(collector.event_count(), 7);
    let e = send(&c, "late").unwrap_err();
    assert_eq!(
        (e.kind(), e.detail()),
        (ErrorKind::Closed, "client is closed")
    );
    assert_eq!(c.flush(SECOND).unwrap_err().kind(), ErrorKind::Closed);
    c.close(SECOND).unwrap();
    let s = c.stats().unwrap();
    assert_eq!(
        (s.accepted, s.delivered, s.pending, s.dropped_shutdown),
        (7, 7, 0, 0)
    );
}

#[test]
fn close_returns_by_its_deadline_when_the_server_never_answers() {
    let collector = Collector::new();
    collector.set_fault(|_, _| Some(Reply::Hang));
    let c = client(
        &collector,
        r#","flush_interval_ms":0,"request_timeout_ms":30000"#,
    );
    for i in 0..5 {
        send(&c, &format!("a{i}")).unwrap();
    }
    let started = Instant::now();
    let e = c.close(Duration::from_millis(400)).unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        e.detail()
            .starts_with("close could not deliver 5 events within 400 ms"),
        "{}",
        e.detail()
    );
    assert!(took < Duration::from_millis(1400), "close took {took:?}");
    let s = c.stats().unwrap();
    assert_eq!(
        (s.accepted, s.delivered, s.dropped_shutdown, s.pending),
        (5, 0, 5, 0)
    );
}

#[test]
fn server_errors_are_retried_with_the_same_events_then_delivered() {
    let collector = Collector::new();
    collector.set_fault(|_, n| (n < 2).then(|| Reply::status(503)));
    let c = client(&collector, r#","flush_interval_ms":0"#);
    send(&c, "retry-me").unwrap();
    c.flush(10 * SECOND).unwrap();
    let requests = collector.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.windows(2).all(|w| w[0].body == w[1].body),
        "same batch, same idempotence_id"
    );
    assert_eq!(collector.event_count(), 1);
    let s = c.stats().unwrap();
    assert_eq!((s.delivered, s.failed_attempts, s.batches_sent), (1, 2, 1));
}

#[test]
fn backoff_spaces_attempts_and_honours_retry_after() {
    let collector = Collector::new();
    collector.set_fault(|_, n| match n {
        0 => Some(Reply::status(500)),
        1 => Some(Reply::status(429).with_header("retry-after", "1")),
        _ => None,
    });
    let c = client(&collector, r#","flush_interval_ms":0"#);
    send(&c, "a").unwrap();
    c.flush(10 * SECOND).unwrap();
    let at: Vec<Instant> = collector.requests().iter().map(|r| r.received_at).collect();
    assert_eq!(at.len(), 3);
    assert!(
        at[1] - at[0] >= Duration::from_millis(100),
        "first backoff is 100..200 ms"
    );
    assert!(at[2] - at[1] >= SECOND, "Retry-After: 1 is a floor");
}

#[test]
fn a_400_drops_the_batch_once_and_later_events_still_go() {
    let collector = Collector::new();
    collector.set_fault(|_, n| (n == 0).then(|| Reply::json(400, "{\"title\":\"Bad Request\"}")));
    let c = client(&collector, r#","flush_interval_ms":0"#);
    send(&c, "refused").unwrap();
    c.flush(5 * SECOND).unwrap();
    send(&c, "accepted").unwrap();
    c.flush(5 * SECOND).unwrap();
    assert_eq!(collector.requests().len(), 2, "no retry of a 400");
    assert_eq!(actions(&collector.events()), ["accepted"]);
    let s = c.stats().unwrap();
    assert_eq!(
        (
            s.accepted,
            s.delivered,
            s.dropped_rejected,
            s.failed_attempts
        ),
        (2, 1, 1, 1)
    );
    assert_books_balance(&s);
}

#[test]
fn exhausted_retries_keep_the_batch_for_the_next_flush() {
    let collector = Collector::new();
    collector.set_fault(|_, n| (n < 3).then(|| Reply::status(502)));
    let c = client(&collector, r#","flush_interval_ms":0,"max_attempts":3"#);
    send(&c, "kept").unwrap();
    // The first flush round fails three times; the batch stays queued and goes in the next.
    c.flush(10 * SECOND).unwrap();
    assert_eq!(collector.requests().len(), 4);
    assert_eq!(actions(&collector.events()), ["kept"]);
    let s = c.stats().unwrap();
    assert_eq!(
        (s.delivered, s.failed_attempts, s.dropped_rejected),
        (1, 3, 0)
    );
}

#[test]
fn a_full_queue_rejects_new_events_and_keeps_the_old() {
    let collector = Collector::new();
    let c = client(
        &collector,
        r#","queue_capacity":3,"batch_size":10,"flush_interval_ms":60000"#,
    );
    for i in 0..3 {
        send(&c, &format!("a{i}")).unwrap();
    }
    let e = send(&c, "overflow").unwrap_err();
    assert_eq!(
        (e.kind(), e.detail()),
        (ErrorKind::QueueFull, "ODP EventQueue is full")
    );
    c.flush(5 * SECOND).unwrap();
    assert_eq!(actions(&collector.events()), ["a0", "a1", "a2"]);
    let s = c.stats().unwrap();
    assert_eq!((s.accepted, s.rejected_queue_full), (3, 1));
}

#[test]
fn network_errors_are_retried_until_the_server_comes_back() {
    // Take a free port, then close it: connections are refused until a server listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::from_json(&format!(
        r#"{{"odp_api_key":"test-public-key","odp_api_host":"http://127.0.0.1:{port}","flush_interval_ms":0,"max_attempts":2}}"#
    ))
    .unwrap();
    send(&c, "waited").unwrap();
    assert_eq!(
        c.flush(Duration::from_millis(200)).unwrap_err().kind(),
        ErrorKind::Timeout
    );
    assert!(c.stats().unwrap().failed_attempts >= 1);
    let collector = support::collector::Collector::start(support::collector::CollectorConfig {
        port,
        ..Default::default()
    })
    .unwrap();
    c.flush(10 * SECOND).unwrap();
    assert_eq!(actions(&collector.events()), ["waited"]);
}

#[test]
fn every_thread_s_events_arrive_exactly_once() {
    let collector = Collector::new();
    let c = client(&collector, r#","flush_interval_ms":20,"batch_size":50"#);
    std::thread::scope(|s| {
        for t in 0..8 {
            let c = &c;
            s.spawn(move || {
                for i in 0..250 {
                    send(c, &format!("t{t}-{i}")).unwrap();
                }
            });
        }
    });
    c.close(10 * SECOND).unwrap();
    assert_eq!(collector.event_count(), 2000);
    assert_eq!(collector.duplicates(), 0);
    let s = c.stats().unwrap();
    assert_eq!((s.accepted, s.delivered, s.pending), (2000, 2000, 0));
}
