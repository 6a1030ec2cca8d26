//! The event input path of odp_send_event: type, action, identifiers and data bytes.
#![no_main]

#[path = "../../tests/support/fuzz_props.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| props::event_input(data));
