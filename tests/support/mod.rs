//! Shared by the integration tests, the collector example and the benchmarks.
#![allow(dead_code)]

pub mod collector;
pub mod fuzz_props;
pub mod http;

use odp::core::{Client, EventInput};

/// A client integrated directly with `collector` (key "test-public-key"); `extra` is appended
/// to the configuration object, e.g. `r#","batch_size":5"#`.
pub fn direct_client(collector: &collector::Collector, extra: &str) -> Client {
    Client::from_json(&format!(
        r#"{{"odp_api_key":"test-public-key","odp_api_host":"{}"{extra}}}"#,
        collector.url()
    ))
    .expect("client")
}

/// Sends the seed event (identifiers and data of the quickstart) with `action`.
pub fn send(client: &Client, action: &str) -> Result<(), odp::core::Error> {
    client.send_event(EventInput::new(
        None,
        Some(action),
        Some(r#"{"fs_user_id":"user123","email":"user123@example.com"}"#),
        Some(r#"{"item":"shirt","price":50.0}"#),
    ))
}
