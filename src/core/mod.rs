//! The pure-Rust core: no `extern "C"`, no raw pointers. Usable and tested as a Rust library.

pub mod client;
pub mod config;
pub mod datafile;
pub mod dispatcher;
pub mod error;
pub mod event;
pub mod flat_json;
pub(crate) mod fork;
pub mod ids;
pub mod log;
pub mod queue;
pub mod routes;
pub mod transport;

pub use client::Client;
pub use config::Config;
pub use error::{Error, ErrorKind};
pub use event::EventInput;
pub use queue::Stats;
