//! Properties the fuzz targets check on every input, shared with the regression test that
//! replays the seeds and every crasher ever found (tests/fuzz_regressions.rs).

use odp::core::config::Config;
use odp::core::datafile::Datafile;
use odp::core::event::{prepare, CommonData, EventInput, MAX_SAFE_NUMBER};
use odp::core::transport::Destination;
use serde_json::Value;

/// The four arguments of `odp_send_event`, cut at 0xff bytes (never part of valid UTF-8, so a
/// separator never hides inside valid text). Missing parts are NULL.
pub fn event_input(data: &[u8]) {
    let mut parts = data.split(|b| *b == 0xff);
    let input = EventInput {
        event_type: parts.next(),
        action: parts.next(),
        identifiers_json: parts.next(),
        data_json: parts.next(),
    };
    for json in [input.identifiers_json, input.data_json]
        .into_iter()
        .flatten()
    {
        if let Ok(text) = std::str::from_utf8(json) {
            odp::core::event::check_fast_path_agrees_with_serde_json(text);
        }
    }
    let common = CommonData::new("libodp", "0.1.0");
    match prepare(&input, &common) {
        Ok(body) => check_encoded(&body, &input),
        Err(e) => assert!(!e.detail().is_empty(), "every refusal says why"),
    }
}

fn check_encoded(body: &[u8], input: &EventInput<'_>) {
    assert!(body.starts_with(br#"{"type":"#), "fields in wire order");
    let v: Value = serde_json::from_slice(body).expect("an accepted event encodes to valid JSON");
    let obj = v.as_object().expect("an event is an object");
    assert_eq!(obj.len(), 4, "exactly type, action, identifiers, data");
    let text = |b: Option<&[u8]>| b.map(|b| std::str::from_utf8(b).unwrap().to_owned());
    let expected_type = text(input.event_type)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "fullstack".into());
    assert_eq!(obj["type"].as_str(), Some(expected_type.as_str()));
    assert_eq!(
        obj["action"].as_str().map(str::to_owned),
        text(input.action)
    );
    let ids = obj["identifiers"].as_object().expect("identifiers object");
    assert!(!ids.is_empty() && ids.values().all(Value::is_string));
    let data = obj["data"].as_object().expect("data object");
    assert!(data.contains_key("idempotence_id") && data.contains_key("data_source_type"));
    for value in data.values() {
        match value {
            Value::Object(_) | Value::Array(_) => panic!("nested data value {value}"),
            Value::Number(n) => {
                let x = n.as_f64().unwrap();
                assert!(
                    x.is_finite() && x.abs() <= MAX_SAFE_NUMBER as f64,
                    "number {n}"
                );
            }
            _ => {}
        }
    }
}

/// A configuration and a datafile from the same text: never a panic, and what is accepted is
/// usable.
pub fn config_datafile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_json(text) {
        Ok(c) => {
            assert!(c.batch_size >= 1 && c.batch_size <= c.queue_capacity);
            assert!(c.max_attempts >= 1 && !c.request_timeout.is_zero());
        }
        Err(e) => assert!(!e.detail().is_empty()),
    }
    if let Ok(datafile) = Datafile::parse(text) {
        if let Some(odp) = datafile.odp {
            for insecure in [false, true] {
                if let Ok(d) = Destination::new(&odp.public_key, &odp.host, insecure) {
                    let url = d.events_url();
                    assert!(url.ends_with("/v3/events") && !url.contains("//v3"));
                    assert!(
                        url.bytes().all(|b| b.is_ascii_graphic()),
                        "no header or request-line injection"
                    );
                    assert!(d.api_key().bytes().all(|b| b.is_ascii_graphic()));
                }
            }
        }
    }
}
