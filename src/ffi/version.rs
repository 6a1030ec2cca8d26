//! Version of the library and of its ABI.

use std::ffi::c_char;

/// The ABI version. Bindings compare `odp_abi_version()` with the value they were written for
/// and refuse to load a library with another. It changes whenever an existing signature, struct
/// layout or code meaning changes.
pub const ODP_ABI_VERSION: u32 = 1;

/// The library version, e.g. `"0.1.0"`: a static NUL-terminated string, never NULL, never to be
/// freed. Compare with the `ODP_VERSION` macro to detect a header/library mismatch. Thread safety:
/// any thread.
#[no_mangle]
pub extern "C" fn odp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the library (`ODP_ABI_VERSION` of the header it was built with). Thread
/// safety: any thread.
#[no_mangle]
pub extern "C" fn odp_abi_version() -> u32 {
    ODP_ABI_VERSION
}
