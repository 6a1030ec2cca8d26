//! Result codes, their static names and texts, and the calling thread's last detailed message.

use std::cell::RefCell;
use std::ffi::{c_char, c_int};

use crate::core::{Error, ErrorKind};

/// Result codes. Every fallible function returns one as an `int`; 0 is success. The names are
/// the contract and the numbers never change once released; new codes are only ever appended.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum OdpResult {
    /// Success.
    ODP_OK = 0,
    /// A required pointer was NULL, or an integer argument was out of range.
    ODP_ERR_INVALID_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    ODP_ERR_INVALID_UTF8 = 2,
    /// A JSON argument could not be parsed (the detail gives line and column).
    ODP_ERR_INVALID_JSON = 3,
    /// The client handle was never created, already freed, or forged.
    ODP_ERR_INVALID_HANDLE = 4,
    /// The configuration is invalid (the detail names the key).
    ODP_ERR_INVALID_CONFIG = 5,
    /// A datafile is invalid.
    ODP_ERR_INVALID_DATAFILE = 6,
    /// No datafile has been loaded yet ("Optimizely SDK not configured properly yet.").
    ODP_ERR_SDK_NOT_READY = 7,
    /// ODP is disabled by configuration ("ODP is not enabled").
    ODP_ERR_ODP_NOT_ENABLED = 8,
    /// The datafile has no usable ODP integration ("ODP is not integrated").
    ODP_ERR_ODP_NOT_INTEGRATED = 9,
    /// The action is NULL or empty ("ODP action is not valid (cannot be empty)").
    ODP_ERR_INVALID_ACTION = 10,
    /// The identifiers are empty, or not a JSON object of strings.
    ODP_ERR_INVALID_IDENTIFIERS = 11,
    /// The event data is invalid, or the event is too large ("ODP data is not valid").
    ODP_ERR_INVALID_DATA = 12,
    /// The queue is full; the event was not accepted ("ODP EventQueue is full").
    ODP_ERR_QUEUE_FULL = 13,
    /// The client is closed.
    ODP_ERR_CLOSED = 14,
    /// A flush, close or wait did not finish within its timeout.
    ODP_ERR_TIMEOUT = 15,
    /// A bug in libodp, caught before it could reach the caller (please report it).
    ODP_ERR_INTERNAL = 16,
}

use OdpResult::*;

const ALL: [OdpResult; 17] = [
    ODP_OK,
    ODP_ERR_INVALID_ARGUMENT,
    ODP_ERR_INVALID_UTF8,
    ODP_ERR_INVALID_JSON,
    ODP_ERR_INVALID_HANDLE,
    ODP_ERR_INVALID_CONFIG,
    ODP_ERR_INVALID_DATAFILE,
    ODP_ERR_SDK_NOT_READY,
    ODP_ERR_ODP_NOT_ENABLED,
    ODP_ERR_ODP_NOT_INTEGRATED,
    ODP_ERR_INVALID_ACTION,
    ODP_ERR_INVALID_IDENTIFIERS,
    ODP_ERR_INVALID_DATA,
    ODP_ERR_QUEUE_FULL,
    ODP_ERR_CLOSED,
    ODP_ERR_TIMEOUT,
    ODP_ERR_INTERNAL,
];

impl OdpResult {
    /// The code for an integer from C, if it is one.
    pub fn from_code(code: c_int) -> Option<OdpResult> {
        ALL.get(usize::try_from(code).ok()?).copied()
    }

    /// The code of a core error kind.
    pub fn of(kind: ErrorKind) -> OdpResult {
        match kind {
            ErrorKind::InvalidArgument => ODP_ERR_INVALID_ARGUMENT,
            ErrorKind::InvalidUtf8 => ODP_ERR_INVALID_UTF8,
            ErrorKind::InvalidJson => ODP_ERR_INVALID_JSON,
            ErrorKind::InvalidHandle => ODP_ERR_INVALID_HANDLE,
            ErrorKind::InvalidConfig => ODP_ERR_INVALID_CONFIG,
            ErrorKind::InvalidDatafile => ODP_ERR_INVALID_DATAFILE,
            ErrorKind::SdkNotReady => ODP_ERR_SDK_NOT_READY,
            ErrorKind::OdpNotEnabled => ODP_ERR_ODP_NOT_ENABLED,
            ErrorKind::OdpNotIntegrated => ODP_ERR_ODP_NOT_INTEGRATED,
            ErrorKind::InvalidAction => ODP_ERR_INVALID_ACTION,
            ErrorKind::InvalidIdentifiers => ODP_ERR_INVALID_IDENTIFIERS,
            ErrorKind::InvalidData => ODP_ERR_INVALID_DATA,
            ErrorKind::QueueFull => ODP_ERR_QUEUE_FULL,
            ErrorKind::Closed => ODP_ERR_CLOSED,
            ErrorKind::Timeout => ODP_ERR_TIMEOUT,
            ErrorKind::Internal => ODP_ERR_INTERNAL,
        }
    }

    /// The kind of a failure code (`None` for `ODP_OK`).
    fn kind(self) -> Option<ErrorKind> {
        Some(match self {
            ODP_OK => return None,
            ODP_ERR_INVALID_ARGUMENT => ErrorKind::InvalidArgument,
            ODP_ERR_INVALID_UTF8 => ErrorKind::InvalidUtf8,
            ODP_ERR_INVALID_JSON => ErrorKind::InvalidJson,
            ODP_ERR_INVALID_HANDLE => ErrorKind::InvalidHandle,
            ODP_ERR_INVALID_CONFIG => ErrorKind::InvalidConfig,
            ODP_ERR_INVALID_DATAFILE => ErrorKind::InvalidDatafile,
            ODP_ERR_SDK_NOT_READY => ErrorKind::SdkNotReady,
            ODP_ERR_ODP_NOT_ENABLED => ErrorKind::OdpNotEnabled,
            ODP_ERR_ODP_NOT_INTEGRATED => ErrorKind::OdpNotIntegrated,
            ODP_ERR_INVALID_ACTION => ErrorKind::InvalidAction,
            ODP_ERR_INVALID_IDENTIFIERS => ErrorKind::InvalidIdentifiers,
            ODP_ERR_INVALID_DATA => ErrorKind::InvalidData,
            ODP_ERR_QUEUE_FULL => ErrorKind::QueueFull,
            ODP_ERR_CLOSED => ErrorKind::Closed,
            ODP_ERR_TIMEOUT => ErrorKind::Timeout,
            ODP_ERR_INTERNAL => ErrorKind::Internal,
        })
    }

    /// `"ODP_OK"`, `"ODP_ERR_QUEUE_FULL"`, … as a NUL-terminated static string.
    fn name(self) -> &'static str {
        match self {
            ODP_OK => "ODP_OK\0",
            ODP_ERR_INVALID_ARGUMENT => "ODP_ERR_INVALID_ARGUMENT\0",
            ODP_ERR_INVALID_UTF8 => "ODP_ERR_INVALID_UTF8\0",
            ODP_ERR_INVALID_JSON => "ODP_ERR_INVALID_JSON\0",
            ODP_ERR_INVALID_HANDLE => "ODP_ERR_INVALID_HANDLE\0",
            ODP_ERR_INVALID_CONFIG => "ODP_ERR_INVALID_CONFIG\0",
            ODP_ERR_INVALID_DATAFILE => "ODP_ERR_INVALID_DATAFILE\0",
            ODP_ERR_SDK_NOT_READY => "ODP_ERR_SDK_NOT_READY\0",
            ODP_ERR_ODP_NOT_ENABLED => "ODP_ERR_ODP_NOT_ENABLED\0",
            ODP_ERR_ODP_NOT_INTEGRATED => "ODP_ERR_ODP_NOT_INTEGRATED\0",
            ODP_ERR_INVALID_ACTION => "ODP_ERR_INVALID_ACTION\0",
            ODP_ERR_INVALID_IDENTIFIERS => "ODP_ERR_INVALID_IDENTIFIERS\0",
            ODP_ERR_INVALID_DATA => "ODP_ERR_INVALID_DATA\0",
            ODP_ERR_QUEUE_FULL => "ODP_ERR_QUEUE_FULL\0",
            ODP_ERR_CLOSED => "ODP_ERR_CLOSED\0",
            ODP_ERR_TIMEOUT => "ODP_ERR_TIMEOUT\0",
            ODP_ERR_INTERNAL => "ODP_ERR_INTERNAL\0",
        }
    }
}

/// The static message of each kind, NUL-terminated, built once.
fn message_cstr(code: OdpResult) -> *const c_char {
    use once_cell::sync::Lazy;
    static MESSAGES: Lazy<Vec<Vec<u8>>> = Lazy::new(|| {
        ALL.iter()
            .map(|c| {
                let text = c.kind().map_or("success", ErrorKind::message);
                let mut bytes = text.as_bytes().to_vec();
                bytes.push(0);
                bytes
            })
            .collect()
    });
    MESSAGES[code as usize].as_ptr().cast()
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `e` as this thread's last error and returns its code.
pub(crate) fn fail(e: &Error) -> c_int {
    LAST_ERROR.with(|last| {
        let mut last = last.borrow_mut();
        last.clear();
        last.push_str(e.detail());
    });
    OdpResult::of(e.kind()) as c_int
}

/// Clears this thread's last error (a call succeeded).
pub(crate) fn succeed() -> c_int {
    LAST_ERROR.with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            if !last.is_empty() {
                last.clear();
            }
        }
    });
    ODP_OK as c_int
}

/// Copies the calling thread's last error message into `buf`.
///
/// The message belongs to the most recent call on this thread that failed. Every function that
/// returns a result code sets it when it fails and clears it when it succeeds (then the message is
/// empty); the functions that cannot fail (`odp_last_error_message`, `odp_result_name`,
/// `odp_result_message`, `odp_version`, `odp_abi_version`) leave it as it is. The text is for
/// people and may change between versions; the result code is the contract. It is UTF-8, never longer than needed, and
/// always NUL-terminated when `len > 0`; a message longer than `len - 1` bytes is truncated
/// (possibly inside a multi-byte character).
///
/// Returns the length of the full message in bytes, without the NUL, like `snprintf`: a return
/// value `>= len` means the message was truncated. `buf` may be NULL when `len` is 0, to ask for
/// the length.
///
/// Thread safety: any thread; each thread sees only its own last error. This function does not
/// change the last error.
///
/// # Safety
/// `buf` is NULL or points to at least `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn odp_last_error_message(buf: *mut c_char, len: usize) -> usize {
    super::boundary::value_or(0, || {
        LAST_ERROR.with(|last| {
            let last = last.borrow();
            let bytes = last.as_bytes();
            if !buf.is_null() && len > 0 {
                let n = bytes.len().min(len - 1);
                // SAFETY: the caller promises `buf` holds `len` bytes; we write at most `len`.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            bytes.len()
        })
    })
}

/// The name of a result code, e.g. `"ODP_ERR_QUEUE_FULL"`, or `"ODP_ERR_UNKNOWN"` for a number
/// that is not a code.
///
/// Returns a static NUL-terminated string: never NULL, never to be freed. Thread safety: any
/// thread.
#[no_mangle]
pub extern "C" fn odp_result_name(code: c_int) -> *const c_char {
    super::boundary::value_or(c"ODP_ERR_UNKNOWN".as_ptr(), || {
        match OdpResult::from_code(code) {
            Some(c) => c.name().as_ptr().cast(),
            None => c"ODP_ERR_UNKNOWN".as_ptr(),
        }
    })
}

/// The fixed English text of a result code, e.g. `"ODP EventQueue is full"` (the texts of the
/// Optimizely SDKs where they have one), or `"unknown result code"`. For the specifics of a
/// failure (which key, which status), use `odp_last_error_message`.
///
/// Returns a static NUL-terminated string: never NULL, never to be freed. Thread safety: any
/// thread.
#[no_mangle]
pub extern "C" fn odp_result_message(code: c_int) -> *const c_char {
    super::boundary::value_or(
        c"unknown result code".as_ptr(),
        || match OdpResult::from_code(code) {
            Some(c) => message_cstr(c),
            None => c"unknown result code".as_ptr(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn codes_round_trip_and_have_names_and_messages() {
        for (i, code) in ALL.iter().enumerate() {
            assert_eq!(*code as usize, i);
            assert_eq!(OdpResult::from_code(i as c_int), Some(*code));
            let name = unsafe { CStr::from_ptr(odp_result_name(i as c_int)) };
            assert_eq!(name.to_str().unwrap(), format!("{code:?}"));
            if let Some(kind) = code.kind() {
                assert_eq!(OdpResult::of(kind), *code);
                let msg = unsafe { CStr::from_ptr(odp_result_message(i as c_int)) };
                assert_eq!(msg.to_str().unwrap(), kind.message());
            }
        }
        assert_eq!(OdpResult::from_code(-1), None);
        assert_eq!(OdpResult::from_code(17), None);
        let unknown = unsafe { CStr::from_ptr(odp_result_name(99)) };
        assert_eq!(unknown.to_str().unwrap(), "ODP_ERR_UNKNOWN");
    }

    #[test]
    fn last_error_is_snprintf_like() {
        fail(&Error::with_detail(ErrorKind::InvalidData, "0123456789"));
        let mut buf = [0x55 as c_char; 8];
        let n = unsafe { odp_last_error_message(buf.as_mut_ptr(), buf.len()) };
        assert_eq!(n, 10);
        let got = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(got.to_str().unwrap(), "0123456");
        assert_eq!(
            unsafe { odp_last_error_message(std::ptr::null_mut(), 0) },
            10
        );
        assert_eq!(
            unsafe { odp_last_error_message(std::ptr::null_mut(), 5) },
            10
        );
        succeed();
        let n = unsafe { odp_last_error_message(buf.as_mut_ptr(), buf.len()) };
        assert_eq!(n, 0);
        assert_eq!(buf[0], 0);
    }
}
