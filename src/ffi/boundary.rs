//! The one boundary every export goes through: panics become `ODP_ERR_INTERNAL`, errors set
//! the thread's last message, and C strings are checked for NULL and UTF-8 here and nowhere else.

use std::any::Any;
use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::{fail, succeed};
use crate::core::{Error, ErrorKind};

fn panic_text(payload: Box<dyn Any + Send>) -> String {
    // Formatting or dropping a payload can panic too; never let that escape.
    catch_unwind(AssertUnwindSafe(move || {
        let text = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic".to_owned()
        };
        drop(payload);
        text
    }))
    .unwrap_or_else(|_| "unknown panic".to_owned())
}

/// Runs the body of a fallible export: `Ok` → `ODP_OK` (last error cleared), `Err` → its code
/// (last error set), panic → `ODP_ERR_INTERNAL`.
pub(crate) fn call(body: impl FnOnce() -> Result<(), Error>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => succeed(),
        Ok(Err(e)) => fail(&e),
        Err(payload) => fail(&Error::with_detail(
            ErrorKind::Internal,
            format!(
                "internal error in libodp (please report it): {}",
                panic_text(payload)
            ),
        )),
    }
}

/// Runs the body of an export that cannot fail; a panic yields `fallback`.
pub(crate) fn value_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The bytes of a C string argument that may be NULL (`None`), without the NUL. UTF-8 is
/// checked by whoever interprets them.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn optional_bytes<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// A C string argument that may be NULL (`None`).
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn optional_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    // SAFETY: forwarded contract.
    crate::core::event::utf8(unsafe { optional_bytes(ptr) }, name)
}

/// A C string argument that must not be NULL.
///
/// # Safety
/// As for [`optional_str`].
pub(crate) unsafe fn required_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    unsafe { optional_str(ptr, name) }?.ok_or_else(|| null_argument(name))
}

/// The error for a NULL pointer argument.
pub(crate) fn null_argument(name: &str) -> Error {
    Error::with_detail(ErrorKind::InvalidArgument, format!("{name} is NULL"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::error::{odp_last_error_message, OdpResult};

    fn last_error() -> String {
        let mut buf = [0 as c_char; 256];
        unsafe { odp_last_error_message(buf.as_mut_ptr(), buf.len()) };
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn panics_become_internal_errors() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let rc = call(|| panic!("boom {}", 42));
        std::panic::set_hook(prev);
        assert_eq!(rc, OdpResult::ODP_ERR_INTERNAL as c_int);
        assert_eq!(
            last_error(),
            "internal error in libodp (please report it): boom 42"
        );
        assert_eq!(value_or(7, || panic!("x")), 7);
    }

    #[test]
    fn strings_are_checked() {
        let bad = [0x61u8, 0xff, 0x00];
        let e = unsafe { optional_str(bad.as_ptr().cast(), "action") }.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
        assert_eq!(
            e.detail(),
            "action is not valid UTF-8 (invalid byte at offset 1)"
        );
        assert_eq!(
            unsafe { optional_str(std::ptr::null(), "x") }.unwrap(),
            None
        );
        let e = unsafe { required_str(std::ptr::null(), "config_json") }.unwrap_err();
        assert_eq!(
            (e.kind(), e.detail()),
            (ErrorKind::InvalidArgument, "config_json is NULL")
        );
    }
}
