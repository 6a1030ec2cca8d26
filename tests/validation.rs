//! The order of the checks in SPEC §3 and the exact messages, against real client states.

mod support;

use odp::core::{Client, ErrorKind, EventInput};
use support::collector::Collector;

const IDS: &str = r#"{"fs_user_id":"u1"}"#;

fn input<'a>(
    ids: Option<&'a str>,
    action: Option<&'a str>,
    data: Option<&'a str>,
) -> EventInput<'a> {
    EventInput::new(None, action, ids, data)
}

fn err(c: &Client, i: EventInput<'_>) -> (ErrorKind, String) {
    let e = c.send_event(i).unwrap_err();
    (e.kind(), e.detail().to_owned())
}

/// A client whose datafile is never served (not ready), with fetch held open.
fn not_ready() -> (Collector, Client) {
    let collector = Collector::new();
    collector.set_datafile_fault(|_| Some(support::http::Reply::Hang));
    let c = Client::from_json(&format!(
        r#"{{"sdk_key":"AbC123","datafile_url_template":"{}","shutdown_timeout_ms":0}}"#,
        collector.datafile_url_template()
    ))
    .unwrap();
    (collector, c)
}

fn integrated(collector: &Collector, extra: &str) -> Client {
    Client::from_json(&format!(
        r#"{{"odp_api_key":"k","odp_api_host":"{}","flush_interval_ms":60000{extra}}}"#,
        collector.url()
    ))
    .unwrap()
}

#[test]
fn not_ready_comes_first_but_undecodable_input_before_it() {
    let (_collector, c) = not_ready();
    let e = err(&c, input(None, None, Some("{")));
    assert_eq!(e.0, ErrorKind::InvalidJson);
    assert_eq!(
        e.1,
        "data is not valid JSON: EOF while parsing an object at line 1 column 1"
    );
    let e = err(&c, input(None, None, Some(r#"{"a":[]}"#)));
    assert_eq!(
        e,
        (
            ErrorKind::SdkNotReady,
            "Optimizely SDK not configured properly yet.".into()
        )
    );
}

#[test]
fn identifiers_then_disabled() {
    let collector = Collector::new();
    let c = integrated(&collector, r#","odp_disabled":true"#);
    let e = err(&c, input(Some("{}"), None, None));
    assert_eq!(
        e,
        (
            ErrorKind::InvalidIdentifiers,
            "ODP events must have at least one key-value pair in identifiers".into()
        )
    );
    let e = err(&c, input(None, Some("a"), None));
    assert_eq!(
        e.0,
        ErrorKind::InvalidIdentifiers,
        "NULL identifiers are empty"
    );
    let e = err(&c, input(Some(IDS), None, Some("[]")));
    assert_eq!(e, (ErrorKind::OdpNotEnabled, "ODP is not enabled".into()));
}

#[test]
fn not_integrated_then_action_then_data_then_queue() {
    let collector = Collector::new();
    let c = Client::from_json(
        r#"{"datafile":{"version":"4","integrations":[{"key":"odp","publicKey":"","host":""}]}}"#,
    )
    .unwrap();
    let e = err(&c, input(Some(IDS), Some(""), Some("[]")));
    assert_eq!(
        e,
        (ErrorKind::OdpNotIntegrated, "ODP is not integrated".into())
    );

    let c = integrated(&collector, r#","queue_capacity":1"#);
    let e = err(&c, input(Some(IDS), Some(""), Some("[]")));
    assert_eq!(
        e,
        (
            ErrorKind::InvalidAction,
            "ODP action is not valid (cannot be empty)".into()
        )
    );
    let e = err(&c, input(Some(IDS), None, None));
    assert_eq!(e.0, ErrorKind::InvalidAction, "NULL action");
    let e = err(&c, input(Some(IDS), Some("a"), Some(r#"{"tags":["x"]}"#)));
    assert_eq!(
        e,
        (
            ErrorKind::InvalidData,
            "ODP data is not valid: the value of \"tags\" is an array; values must be strings, numbers, booleans or null".into()
        )
    );
    c.send_event(input(Some(IDS), Some(" "), None)).unwrap();
    let e = err(&c, input(Some(IDS), Some("a"), Some(r#"{"tags":["x"]}"#)));
    assert_eq!(
        e.0,
        ErrorKind::InvalidData,
        "data is checked before the queue"
    );
    let e = err(&c, input(Some(IDS), Some("a"), None));
    assert_eq!(e, (ErrorKind::QueueFull, "ODP EventQueue is full".into()));
    let s = c.stats().unwrap();
    assert_eq!(
        (s.accepted, s.rejected_invalid, s.rejected_queue_full),
        (1, 4, 1)
    );
}

#[test]
fn oversize_input_is_refused_before_parsing() {
    let collector = Collector::new();
    let c = integrated(&collector, r#","max_event_bytes":100"#);
    let data = format!(r#"{{"blob":"{}"}}"#, "x".repeat(100));
    let e = err(&c, input(Some(IDS), Some("a"), Some(&data)));
    assert_eq!(e.0, ErrorKind::InvalidData);
    assert_eq!(e.1, "ODP data is not valid: the event's inputs total 131 bytes, over the limit of 100 (max_event_bytes)");
}
