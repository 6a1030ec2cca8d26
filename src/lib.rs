//! libodp sends events to the Optimizely Data Platform (ODP) the way the Optimizely SDKs'
//! `SendOdpEvent` does, from any native program, through a C ABI (`include/odp.h`).
//!
//! [`core`] is the library itself, in plain Rust: validation, the wire format, the bounded
//! queue, the background dispatcher and the datafile poller. [`ffi`] is the thin C layer over
//! it: pointers in, result codes out, panics caught, handles checked.

#![warn(missing_docs)]

pub mod core;
pub mod ffi;
