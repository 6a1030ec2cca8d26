//! `odp_set_logger`: routes libodp's log messages to a C callback.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use super::boundary::call;
use crate::core::log::{set_sink, Level, Sink};
use crate::core::{Error, ErrorKind};

/// Log levels, least to most severe. A logger receives messages at or above its minimum level.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum OdpLogLevel {
    /// Per-event and per-request detail.
    ODP_LOG_DEBUG = 0,
    /// Lifecycle: datafile loaded, ODP destination changed.
    ODP_LOG_INFO = 1,
    /// Failures libodp copes with: retries, dropped batches, failed datafile fetches.
    ODP_LOG_WARN = 2,
    /// Failures the program should look at.
    ODP_LOG_ERROR = 3,
}

/// A log callback: `level` is an `OdpLogLevel`; `message` points to `message_len` bytes of UTF-8,
/// followed by a NUL; it is valid only during the call (copy it to keep it). `user_data` is
/// the pointer given to `odp_set_logger`.
///
/// Called from any thread, including libodp's background threads, possibly concurrently; never
/// while libodp holds a lock, so it may call any libodp function except `odp_client_close`,
/// `odp_client_flush`, `odp_client_wait_ready` and `odp_client_free`, which could wait on the very
/// thread that is logging. It should return quickly. The text of messages is for people and may
/// change between versions; result codes are the contract.
pub type OdpLogCallback = Option<
    unsafe extern "C" fn(
        level: c_int,
        message: *const c_char,
        message_len: usize,
        user_data: *mut c_void,
    ),
>;

struct CallbackSink {
    callback: unsafe extern "C" fn(c_int, *const c_char, usize, *mut c_void),
    user_data: *mut c_void,
}

impl CallbackSink {
    fn emit(&self, level: Level, message: &str) {
        let mut text = Vec::with_capacity(message.len() + 1);
        text.extend_from_slice(message.as_bytes());
        text.push(0);
        // SAFETY: a valid function pointer from the caller; the buffer outlives the call.
        unsafe {
            (self.callback)(
                level as c_int,
                text.as_ptr().cast(),
                message.len(),
                self.user_data,
            )
        }
    }
}

// SAFETY: the contract of `odp_set_logger` makes thread safety of the callback and its
// user data the caller's promise.
unsafe impl Send for CallbackSink {}
unsafe impl Sync for CallbackSink {}

/// Sets the process-wide logger: `callback` receives every message at `min_level` or above
/// (an `OdpLogLevel`). A NULL `callback` restores the default: silence, or stderr when the
/// environment variable `ODP_LOG` is `debug`, `info`, `warn` or `error` at the first log.
///
/// libodp never logs an ODP API key. `user_data` is passed back untouched. When this function
/// returns, the previous callback is not running on any thread and will not be called again, so
/// its `user_data` may be freed (called from inside the previous callback, it returns at once
/// instead: that call is still running).
///
/// Returns `ODP_OK`, or `ODP_ERR_INVALID_ARGUMENT` for a `min_level` that is not an
/// `OdpLogLevel` (the logger is then unchanged).
///
/// Thread safety: any thread. May block until running calls of the previous callback return.
#[no_mangle]
pub extern "C" fn odp_set_logger(
    min_level: c_int,
    callback: OdpLogCallback,
    user_data: *mut c_void,
) -> c_int {
    call(|| {
        let level = Level::from_number(i64::from(min_level)).ok_or_else(|| {
            Error::with_detail(
                ErrorKind::InvalidArgument,
                format!("min_level {min_level} is not an OdpLogLevel (0..3)"),
            )
        })?;
        let sink: Option<Sink> = callback.map(|callback| {
            let target = CallbackSink {
                callback,
                user_data,
            };
            Arc::new(move |level: Level, message: &str| target.emit(level, message)) as Sink
        });
        set_sink(level, sink);
        Ok(())
    })
}
