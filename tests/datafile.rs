//! Datafiles: fetched by SDK key (ready, not ready, failures, polling, auth), given statically,
//! and updated, with the destination switching only after the old one is drained.

mod support;

use std::time::Duration;

use odp::core::{Client, ErrorKind, EventInput};
use serde_json::Value;
use support::collector::{datafile_json, Collector, CollectorConfig};
use support::http::Reply;

const SECOND: Duration = Duration::from_secs(1);

fn send(client: &Client, action: &str) -> Result<(), odp::core::Error> {
    client.send_event(EventInput::new(
        None,
        Some(action),
        Some(r#"{"fs_user_id":"u1"}"#),
        None,
    ))
}

fn by_sdk_key(collector: &Collector, sdk_key: &str, extra: &str) -> Client {
    Client::from_json(&format!(
        r#"{{"sdk_key":"{sdk_key}","datafile_url_template":"{}","flush_interval_ms":0{extra}}}"#,
        collector.datafile_url_template()
    ))
    .unwrap()
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn not_ready_until_the_datafile_arrives_then_events_flow() {
    let collector = Collector::new();
    // Hold the first datafile answer so the first send surely comes before it.
    collector.set_datafile_fault(|_| {
        Some(Reply::Delay(
            Duration::from_millis(300),
            Box::new(Reply::status(503)),
        ))
    });
    let c = by_sdk_key(&collector, "AbC123", "");
    let e = send(&c, "too-early").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SdkNotReady);
    assert_eq!(e.detail(), "Optimizely SDK not configured properly yet.");
    collector.clear_datafile_fault();
    c.wait_ready(10 * SECOND).unwrap();
    send(&c, "in-time").unwrap();
    c.flush(5 * SECOND).unwrap();
    assert_eq!(actions(&collector.events()), ["in-time"]);
    let s = c.stats().unwrap();
    assert_eq!(
        (s.accepted, s.rejected_invalid),
        (1, 1),
        "the early event was discarded, not queued"
    );
}

#[test]
fn a_failed_fetch_is_the_cause_in_the_message() {
    let collector = Collector::new();
    let c = by_sdk_key(&collector, "unknown-key", "");
    let e = c.wait_ready(Duration::from_millis(500)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(
        e.detail(),
        "no datafile within 500 ms (unable to fetch fresh datafile (consider rechecking SDK key), status code: 403 Forbidden)"
    );
    let e = send(&c, "x").unwrap_err();
    assert_eq!(
        e.detail(),
        "Optimizely SDK not configured properly yet. (unable to fetch fresh datafile (consider rechecking SDK key), status code: 403 Forbidden)"
    );
}

#[test]
fn fetch_once_that_fails_is_not_ready_for_good() {
    let collector = Collector::new();
    collector.set_datafile_fault(|_| Some(Reply::status(500)));
    let c = by_sdk_key(&collector, "AbC123", r#","datafile_polling_interval_ms":0"#);
    let e = c.wait_ready(10 * SECOND).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SdkNotReady);
    assert!(e.detail().ends_with("(unable to fetch fresh datafile, reason (http status code): 500 Internal Server Error)"), "{}", e.detail());
}

#[test]
fn garbage_and_unsupported_datafiles_are_not_applied() {
    let collector = Collector::new();
    collector.set_datafile("{not json");
    let c = by_sdk_key(&collector, "AbC123", r#","datafile_polling_interval_ms":0"#);
    let e = c.wait_ready(10 * SECOND).unwrap_err();
    assert!(
        e.detail()
            .contains("unable to parse datafile: invalid datafile: not valid JSON"),
        "{}",
        e.detail()
    );

    let collector = Collector::new();
    collector.set_datafile(r#"{"version":"2","integrations":[]}"#);
    let c = by_sdk_key(&collector, "AbC123", r#","datafile_polling_interval_ms":0"#);
    let e = c.wait_ready(10 * SECOND).unwrap_err();
    assert!(
        e.detail().contains("unsupported datafile version \"2\""),
        "{}",
        e.detail()
    );
}

#[test]
fn authenticated_datafiles_send_the_bearer_token() {
    let collector = Collector::start(CollectorConfig {
        sdk_key: Some("AbC123".into()),
        access_token: Some("s3cret".into()),
        ..Default::default()
    })
    .unwrap();
    let c = Client::from_json(&format!(
        r#"{{"sdk_key":"AbC123","datafile_access_token":"s3cret","datafile_url_template":"{}/datafiles/auth/{{sdk_key}}.json"}}"#,
        collector.url()
    ))
    .unwrap();
    c.wait_ready(10 * SECOND).unwrap();
    let r = &collector.datafile_requests()[0];
    assert_eq!(r.path, "/datafiles/auth/AbC123.json");
    assert_eq!(r.header("authorization"), Some("Bearer s3cret"));
}

#[test]
fn polling_is_conditional_and_a_new_revision_switches_after_draining() {
    let a = Collector::new();
    let b = Collector::new();
    let c = by_sdk_key(
        &a,
        "AbC123",
        r#","datafile_polling_interval_ms":100,"flush_interval_ms":60000"#,
    );
    c.wait_ready(10 * SECOND).unwrap();
    send(&c, "to-a").unwrap();

    // Unchanged datafile: polls answer 304 and nothing moves.
    std::thread::sleep(Duration::from_millis(350));
    let polls = a.datafile_requests();
    assert!(polls.len() >= 2, "{} polls", polls.len());
    assert_eq!(polls[0].header("if-modified-since"), None);
    assert!(polls[1].header("if-modified-since").is_some());
    assert_eq!(a.event_count(), 0, "the queued event waits for its batch");

    // A new revision pointing at B: what was queued goes to A first.
    a.set_datafile(&datafile_json("2", "key-b", &b.url()));
    assert!(a.wait_for_events(1, 10 * SECOND));
    send(&c, "to-b").unwrap();
    c.flush(5 * SECOND).unwrap();
    assert_eq!(actions(&a.events()), ["to-a"]);
    assert_eq!(actions(&b.events()), ["to-b"]);
    assert_eq!(b.requests()[0].header("x-api-key"), Some("key-b"));
}

#[test]
fn update_datafile_drains_to_the_old_host_then_switches() {
    let a = Collector::new();
    let b = Collector::new();
    let c = Client::from_json(&format!(
        r#"{{"datafile":{},"flush_interval_ms":60000}}"#,
        datafile_json("1", "key-a", &a.url())
    ))
    .unwrap();
    for i in 0..3 {
        send(&c, &format!("old{i}")).unwrap();
    }
    c.update_datafile(&datafile_json("2", "key-b", &b.url()))
        .unwrap();
    for i in 0..2 {
        send(&c, &format!("new{i}")).unwrap();
    }
    c.flush(5 * SECOND).unwrap();
    assert_eq!(actions(&a.events()), ["old0", "old1", "old2"]);
    assert_eq!(actions(&b.events()), ["new0", "new1"]);
    assert_eq!(a.requests()[0].header("x-api-key"), Some("key-a"));
    assert_eq!(b.requests()[0].header("x-api-key"), Some("key-b"));
}

#[test]
fn a_dead_old_host_hands_its_events_to_the_new_one() {
    let a = Collector::new();
    a.set_fault(|_, _| Some(Reply::status(503)));
    let b = Collector::new();
    let c = Client::from_json(&format!(
        r#"{{"datafile":{},"flush_interval_ms":60000,"max_attempts":2}}"#,
        datafile_json("1", "key-a", &a.url())
    ))
    .unwrap();
    send(&c, "stranded").unwrap();
    c.update_datafile(&datafile_json("2", "key-b", &b.url()))
        .unwrap();
    c.flush(10 * SECOND).unwrap();
    assert_eq!(a.requests().len(), 2, "one full attempt at the old host");
    assert_eq!(actions(&b.events()), ["stranded"]);
}

#[test]
fn a_datafile_without_odp_refuses_events_but_keeps_those_accepted() {
    let a = Collector::new();
    let c = Client::from_json(&format!(
        r#"{{"datafile":{},"flush_interval_ms":60000}}"#,
        datafile_json("1", "key-a", &a.url())
    ))
    .unwrap();
    send(&c, "accepted").unwrap();
    c.update_datafile(r#"{"version":"4","revision":"2","integrations":[]}"#)
        .unwrap();
    let e = send(&c, "refused").unwrap_err();
    assert_eq!(
        (e.kind(), e.detail()),
        (ErrorKind::OdpNotIntegrated, "ODP is not integrated")
    );
    c.flush(5 * SECOND).unwrap();
    assert_eq!(
        actions(&a.events()),
        ["accepted"],
        "not wiped, unlike the Go SDK"
    );
}

#[test]
fn invalid_static_and_pushed_datafiles() {
    let e = Client::from_json(r#"{"datafile":{"version":"3"}}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidDatafile);
    assert!(
        e.detail().contains("unsupported datafile version \"3\""),
        "{}",
        e.detail()
    );
    let a = Collector::new();
    let c = Client::from_json(&format!(
        r#"{{"datafile":{}}}"#,
        datafile_json("1", "k", &a.url())
    ))
    .unwrap();
    let e = c
        .update_datafile(r#"{"version":"4","integrations":[{"publicKey":"x"}]}"#)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidDatafile);
    assert!(
        e.detail().contains("unsupported key in integrations"),
        "{}",
        e.detail()
    );
    send(&c, "still-works").unwrap();
}

#[test]
fn insecure_hosts_are_not_integrated_unless_allowed() {
    let df = datafile_json("1", "k", "http://odp.example.com");
    let c = Client::from_json(&format!(r#"{{"datafile":{df}}}"#)).unwrap();
    let e = send(&c, "x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OdpNotIntegrated);
    assert!(
        e.detail().starts_with(
            "ODP is not integrated: the ODP host \"http://odp.example.com\" uses http://"
        ),
        "{}",
        e.detail()
    );
    let c = Client::from_json(&format!(r#"{{"datafile":{df},"allow_insecure_http":true,"flush_interval_ms":60000,"shutdown_timeout_ms":0}}"#)).unwrap();
    send(&c, "x").unwrap();
    let e = Client::from_json(r#"{"odp_api_key":"k","odp_api_host":"http://odp.example.com"}"#)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
}
