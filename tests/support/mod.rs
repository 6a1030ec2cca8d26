//! Shared by the integration tests, the collector example and the benchmarks.
#![allow(dead_code)]

pub mod collector;
pub mod fuzz_props;
pub mod http;
