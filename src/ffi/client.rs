//! `odp_client_*` and `odp_send_event`: pointers in, result codes out. No rules live here; they
//! are all in `core`.

use std::ffi::{c_char, c_int};
use std::time::Duration;

use super::boundary::{call, null_argument, optional_bytes, required_str};
use super::handles::{self, OdpClient};
use crate::core::{Client, EventInput, Stats};

/// Counters of a client, filled in by `odp_client_stats`. At every moment
/// `accepted == delivered + dropped_rejected + dropped_shutdown + pending`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OdpStats {
    /// Events accepted by `odp_send_event` (calls that returned `ODP_OK`).
    pub accepted: u64,
    /// Events the ODP server accepted (HTTP status below 400).
    pub delivered: u64,
    /// Events queued or being sent.
    pub pending: u64,
    /// Events dropped because the server refused their batch for good (a 4xx other than 408
    /// and 429); retrying could not help.
    pub dropped_rejected: u64,
    /// Events dropped by `odp_client_close` (or the close inside `odp_client_free`) because its
    /// timeout passed, or because there was no ODP destination left to send them to. A request
    /// already on the wire at the deadline cannot be recalled: if the server accepts it after
    /// all, its events move from here to `delivered`.
    pub dropped_shutdown: u64,
    /// HTTP requests that delivered a batch.
    pub batches_sent: u64,
    /// HTTP requests that failed: network errors and statuses of 400 and above, retried or not.
    pub failed_attempts: u64,
    /// `odp_send_event` calls refused with `ODP_ERR_QUEUE_FULL` (not counted in `accepted`).
    pub rejected_queue_full: u64,
    /// `odp_send_event` calls refused for any other reason (not counted in `accepted`).
    pub rejected_invalid: u64,
}

impl From<Stats> for OdpStats {
    fn from(s: Stats) -> OdpStats {
        OdpStats {
            accepted: s.accepted,
            delivered: s.delivered,
            pending: s.pending,
            dropped_rejected: s.dropped_rejected,
            dropped_shutdown: s.dropped_shutdown,
            batches_sent: s.batches_sent,
            failed_attempts: s.failed_attempts,
            rejected_queue_full: s.rejected_queue_full,
            rejected_invalid: s.rejected_invalid,
        }
    }
}

fn millis(ms: u32) -> Duration {
    Duration::from_millis(u64::from(ms))
}

fn lookup(handle: *mut OdpClient) -> Result<std::sync::Arc<Client>, crate::core::Error> {
    if handle.is_null() {
        return Err(null_argument("client"));
    }
    handles::get(handle)
}

/// Creates a client from a JSON configuration and starts its background work.
///
/// `config_json`: a NUL-terminated UTF-8 JSON object (see the README's configuration table):
/// exactly one of `sdk_key`, `datafile`, or `odp_api_key` + `odp_api_host`, plus optional
/// settings. The library copies what it needs; the string may be freed when the call returns.
///
/// `client_out`: receives the new handle on success and is left untouched on failure. Free the
/// handle with `odp_client_free` exactly once.
///
/// Returns `ODP_OK`, or: `ODP_ERR_INVALID_ARGUMENT` (a NULL pointer), `ODP_ERR_INVALID_UTF8`,
/// `ODP_ERR_INVALID_JSON`, `ODP_ERR_INVALID_CONFIG` (the message names the key: unknown keys,
/// wrong types, out-of-range values, conflicting sources), `ODP_ERR_INVALID_DATAFILE` (an invalid
/// static `datafile`), `ODP_ERR_INTERNAL` (no thread could be started).
///
/// Never blocks on the network: with `sdk_key` the datafile is fetched in the background (see
/// `odp_client_wait_ready`). Thread safety: any thread.
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `client_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn odp_client_new(
    config_json: *const c_char,
    client_out: *mut *mut OdpClient,
) -> c_int {
    call(|| {
        if client_out.is_null() {
            return Err(null_argument("client_out"));
        }
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let config = unsafe { required_str(config_json, "config_json") }?;
        let handle = handles::insert(Client::from_json(config)?)?;
        // SAFETY: checked non-NULL; the caller passes a writable `OdpClient *`.
        unsafe { *client_out = handle };
        Ok(())
    })
}

/// Blocks until the client has a datafile, for at most `timeout_ms` milliseconds.
///
/// Clients configured with `datafile` or `odp_api_key` are ready at once. With `sdk_key`, events
/// sent before the datafile arrives fail with `ODP_ERR_SDK_NOT_READY`; call this first when the
/// very first events matter.
///
/// Returns `ODP_OK` once a datafile is in (whether or not it integrates ODP), or:
/// `ODP_ERR_TIMEOUT` (none yet; the message carries the last fetch failure, e.g. an HTTP status),
/// `ODP_ERR_SDK_NOT_READY` (fetching stopped for good without one: polling is off and the one
/// fetch failed), `ODP_ERR_CLOSED`, `ODP_ERR_INVALID_ARGUMENT` (NULL), `ODP_ERR_INVALID_HANDLE`.
///
/// Thread safety: any thread, concurrently with every other call on the same client.
#[no_mangle]
pub extern "C" fn odp_client_wait_ready(client: *mut OdpClient, timeout_ms: u32) -> c_int {
    call(|| lookup(client)?.wait_ready(millis(timeout_ms)))
}

/// Validates an event, adds the standard ODP data, and queues it for delivery, like the
/// Optimizely SDKs' `SendOdpEvent`. Never does network I/O and never waits for the network:
/// `ODP_OK` means "accepted into the queue"; delivery happens in the background.
///
/// - `event_type`: NULL or `""` sends `"fullstack"`.
/// - `action`: required, not empty (whitespace is a valid action).
/// - `identifiers_json`: a JSON object of string values with at least one pair, e.g.
///   `{"fs_user_id":"user123","email":"a@b.com"}`. A key spelled `fs-user-id` or `fs_user_id`
///   in any case becomes `fs_user_id` unless `fs_user_id` is already there with a value.
/// - `data_json`: NULL, or a JSON object whose values are strings, booleans, null, or numbers
///   with magnitude up to 2^53; no nested objects or arrays. `idempotence_id` (a fresh UUID),
///   `data_source_type`, `data_source` and `data_source_version` are added unless given.
///
/// All strings are NUL-terminated UTF-8 and are copied; they may be freed when the call returns.
/// Their total size, in bytes as given (escapes and whitespace in the JSON count), is limited by
/// `max_event_bytes` (default 64 KiB).
///
/// Returns `ODP_OK`, or, checking in this order: `ODP_ERR_INVALID_ARGUMENT` (NULL client),
/// `ODP_ERR_INVALID_HANDLE`, `ODP_ERR_INVALID_DATA` (over `max_event_bytes`),
/// `ODP_ERR_INVALID_UTF8`, `ODP_ERR_INVALID_JSON`, `ODP_ERR_CLOSED`, `ODP_ERR_SDK_NOT_READY`,
/// `ODP_ERR_INVALID_IDENTIFIERS`, `ODP_ERR_ODP_NOT_ENABLED`, `ODP_ERR_ODP_NOT_INTEGRATED`,
/// `ODP_ERR_INVALID_ACTION`, `ODP_ERR_INVALID_DATA`, `ODP_ERR_QUEUE_FULL`. A refused event is
/// discarded; `odp_last_error_message` says why (which key, which value).
///
/// Thread safety: any thread, concurrently with every other call on the same client.
///
/// # Safety
/// Every `char *` argument is NULL or a NUL-terminated string readable for the whole call.
#[no_mangle]
pub unsafe extern "C" fn odp_send_event(
    client: *mut OdpClient,
    event_type: *const c_char,
    action: *const c_char,
    identifiers_json: *const c_char,
    data_json: *const c_char,
) -> c_int {
    call(|| {
        let client = lookup(client)?;
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let input = unsafe {
            EventInput {
                event_type: optional_bytes(event_type),
                action: optional_bytes(action),
                identifiers_json: optional_bytes(identifiers_json),
                data_json: optional_bytes(data_json),
            }
        };
        client.send_event(input)
    })
}

/// Delivers everything accepted before this call, blocking for at most `timeout_ms`.
///
/// Returns `ODP_OK` when every such event was delivered or dropped (see `odp_client_stats` for
/// which), or: `ODP_ERR_TIMEOUT` (events still pending; they stay queued and delivery goes on),
/// `ODP_ERR_CLOSED`, `ODP_ERR_INVALID_ARGUMENT` (NULL), `ODP_ERR_INVALID_HANDLE`.
///
/// Thread safety: any thread, concurrently with every other call on the same client.
#[no_mangle]
pub extern "C" fn odp_client_flush(client: *mut OdpClient, timeout_ms: u32) -> c_int {
    call(|| lookup(client)?.flush(millis(timeout_ms)))
}

/// `timeout_ms` for `odp_client_close` meaning "the configured `shutdown_timeout_ms`", so that a
/// wrapper closing on the user's behalf need not know the configuration or its default.
pub const ODP_CONFIGURED_SHUTDOWN_TIMEOUT: u32 = u32::MAX;

/// Stops accepting events, delivers what is queued within `timeout_ms` (or the configured
/// `shutdown_timeout_ms` when it is `ODP_CONFIGURED_SHUTDOWN_TIMEOUT`), and stops the background
/// work. Returns by its deadline even if the server or DNS never answers. Later
/// `odp_send_event` calls fail with `ODP_ERR_CLOSED`; `odp_client_stats` still works. The
/// handle stays valid until `odp_client_free`. Closing a closed client returns `ODP_OK`.
///
/// Returns `ODP_OK` when everything was delivered (or dropped by the server), or:
/// `ODP_ERR_TIMEOUT` (events were left; they are counted in `dropped_shutdown`),
/// `ODP_ERR_INVALID_ARGUMENT` (NULL), `ODP_ERR_INVALID_HANDLE`.
///
/// Thread safety: any thread, concurrently with every other call on the same client.
#[no_mangle]
pub extern "C" fn odp_client_close(client: *mut OdpClient, timeout_ms: u32) -> c_int {
    call(|| {
        let client = lookup(client)?;
        let timeout = match timeout_ms {
            ODP_CONFIGURED_SHUTDOWN_TIMEOUT => client.config().shutdown_timeout,
            ms => millis(ms),
        };
        client.close(timeout)
    })
}

/// Frees a client. An open client is closed first, with the configured `shutdown_timeout_ms`
/// (default 2000). The handle is invalid afterwards: using it again, or freeing it twice, returns
/// `ODP_ERR_INVALID_HANDLE` and does no harm.
///
/// Returns `ODP_OK` (also for NULL, which is a no-op), or: `ODP_ERR_TIMEOUT` (the implicit close
/// left events undelivered; the client is freed anyway), `ODP_ERR_INVALID_HANDLE`.
///
/// Thread safety: any thread. Calls already running on the client on other threads finish
/// normally; calls starting after this one fail with `ODP_ERR_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn odp_client_free(client: *mut OdpClient) -> c_int {
    call(|| {
        if client.is_null() {
            return Ok(());
        }
        let client = handles::remove(client)?;
        let timeout = client.config().shutdown_timeout;
        client.close(timeout)
    })
}

/// Replaces the client's datafile with `datafile_json` (a NUL-terminated UTF-8 datafile, copied).
/// If the ODP key or host changes, the events already queued are delivered to the old
/// destination first, then new events go to the new one. With `sdk_key`, the next poll that
/// brings a new revision replaces it again.
///
/// Returns `ODP_OK`, or: `ODP_ERR_INVALID_DATAFILE` (the current datafile stays),
/// `ODP_ERR_INVALID_UTF8`, `ODP_ERR_CLOSED`, `ODP_ERR_INVALID_ARGUMENT` (NULL),
/// `ODP_ERR_INVALID_HANDLE`.
///
/// Thread safety: any thread, concurrently with every other call on the same client.
///
/// # Safety
/// Every `char *` argument is NULL or a NUL-terminated string readable for the whole call.
#[no_mangle]
pub unsafe extern "C" fn odp_client_update_datafile(
    client: *mut OdpClient,
    datafile_json: *const c_char,
) -> c_int {
    call(|| {
        let client = lookup(client)?;
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let datafile = unsafe { required_str(datafile_json, "datafile_json") }?;
        client.update_datafile(datafile)
    })
}

/// Fills `*stats_out` with the client's counters (a consistent snapshot). Works after
/// `odp_client_close`, until `odp_client_free`.
///
/// Returns `ODP_OK`, or: `ODP_ERR_INVALID_ARGUMENT` (NULL; `*stats_out` untouched),
/// `ODP_ERR_INVALID_HANDLE`.
///
/// Thread safety: any thread, concurrently with every other call on the same client.
///
/// # Safety
/// `stats_out` is NULL or points to a writable `OdpStats`.
#[no_mangle]
pub unsafe extern "C" fn odp_client_stats(
    client: *mut OdpClient,
    stats_out: *mut OdpStats,
) -> c_int {
    call(|| {
        let client = lookup(client)?;
        if stats_out.is_null() {
            return Err(null_argument("stats_out"));
        }
        let stats = OdpStats::from(client.stats()?);
        // SAFETY: checked non-NULL; the caller passes a writable `OdpStats`.
        unsafe { *stats_out = stats };
        Ok(())
    })
}
