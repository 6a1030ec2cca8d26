//! The C ABI (`include/odp.h`): thin wrappers that check pointers, catch panics and map core
//! errors to result codes. One file per exported object.

pub mod boundary;
pub mod client;
pub mod error;
pub mod handles;
pub mod log;
pub mod version;
