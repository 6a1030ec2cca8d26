"""Finds and loads libodp, and declares the C API of ``include/odp.h`` for ctypes.

Every exported function gets its ``argtypes`` and ``restype`` here (ctypes would otherwise pass
and return C ``int``, truncating pointers on 64-bit). This module holds no rule of libodp: it
only moves bytes across the boundary.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path
from typing import List, Optional, Tuple

#: The ABI this binding was written for (``ODP_ABI_VERSION`` in odp.h).
ABI_VERSION = 1

#: The largest timeout the C API takes (``uint32_t`` milliseconds, about 49.7 days).
#: The largest explicit timeout: odp.h's ODP_CONFIGURED_SHUTDOWN_TIMEOUT (0xFFFFFFFF) asks
#: ``odp_client_close`` for the configured ``shutdown_timeout_ms`` instead.
MAX_TIMEOUT_MS = 0xFFFFFFFE
CONFIGURED_SHUTDOWN_TIMEOUT = 0xFFFFFFFF

#: ``OdpResult`` values (odp.h; the names are the contract and the numbers never change).
ODP_OK = 0
ODP_ERR_INVALID_ARGUMENT = 1
ODP_ERR_INVALID_UTF8 = 2
ODP_ERR_INVALID_JSON = 3
ODP_ERR_INVALID_HANDLE = 4
ODP_ERR_INVALID_CONFIG = 5
ODP_ERR_INVALID_DATAFILE = 6
ODP_ERR_SDK_NOT_READY = 7
ODP_ERR_ODP_NOT_ENABLED = 8
ODP_ERR_ODP_NOT_INTEGRATED = 9
ODP_ERR_INVALID_ACTION = 10
ODP_ERR_INVALID_IDENTIFIERS = 11
ODP_ERR_INVALID_DATA = 12
ODP_ERR_QUEUE_FULL = 13
ODP_ERR_CLOSED = 14
ODP_ERR_TIMEOUT = 15
ODP_ERR_INTERNAL = 16

#: ``OdpLogLevel`` values.
LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR = 0, 1, 2, 3


class OdpStats(ctypes.Structure):
    """``struct OdpStats``: nine ``uint64_t`` counters, in the header's order."""

    _fields_ = [
        ("accepted", ctypes.c_uint64),
        ("delivered", ctypes.c_uint64),
        ("pending", ctypes.c_uint64),
        ("dropped_rejected", ctypes.c_uint64),
        ("dropped_shutdown", ctypes.c_uint64),
        ("batches_sent", ctypes.c_uint64),
        ("failed_attempts", ctypes.c_uint64),
        ("rejected_queue_full", ctypes.c_uint64),
        ("rejected_invalid", ctypes.c_uint64),
    ]


#: ``OdpLogCallback``:
#: ``void (*)(int level, const char *message, size_t message_len, void *user_data)``.
#: ``message`` is a ``char *`` rather than ``c_char_p`` so the callback reads exactly
#: ``message_len`` bytes with ``ctypes.string_at``.
LOG_CALLBACK = ctypes.CFUNCTYPE(
    None, ctypes.c_int, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.c_void_p
)

#: ``OdpClient *`` is an opaque token: a ``void *`` (a Python int) is all the binding needs.
_client = ctypes.c_void_p

#: name -> (restype, argtypes), one entry per function of odp.h.
SIGNATURES = {
    "odp_client_new": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_client)]),
    "odp_client_wait_ready": (ctypes.c_int, [_client, ctypes.c_uint32]),
    "odp_send_event": (
        ctypes.c_int,
        [_client, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p],
    ),
    "odp_client_flush": (ctypes.c_int, [_client, ctypes.c_uint32]),
    "odp_client_close": (ctypes.c_int, [_client, ctypes.c_uint32]),
    "odp_client_free": (ctypes.c_int, [_client]),
    "odp_client_update_datafile": (ctypes.c_int, [_client, ctypes.c_char_p]),
    "odp_client_stats": (ctypes.c_int, [_client, ctypes.POINTER(OdpStats)]),
    "odp_last_error_message": (ctypes.c_size_t, [ctypes.c_char_p, ctypes.c_size_t]),
    "odp_result_name": (ctypes.c_char_p, [ctypes.c_int]),
    "odp_result_message": (ctypes.c_char_p, [ctypes.c_int]),
    "odp_set_logger": (ctypes.c_int, [ctypes.c_int, LOG_CALLBACK, ctypes.c_void_p]),
    "odp_version": (ctypes.c_char_p, []),
    "odp_abi_version": (ctypes.c_uint32, []),
}


def _library_names() -> List[str]:
    if sys.platform == "darwin":
        return ["libodp.dylib"]
    if sys.platform == "win32":
        return ["odp.dll"]
    return ["libodp.so"]


def _candidates() -> Tuple[Optional[str], List[Path]]:
    """``(ODP_LIBRARY_PATH or None, the other places to look, in order)``."""
    explicit = os.environ.get("ODP_LIBRARY_PATH") or None
    package_dir = Path(__file__).resolve().parent
    names = _library_names()
    places = [package_dir / name for name in names]  # a copy bundled in the wheel
    for directory in [package_dir, *package_dir.parents]:  # the cargo build tree
        for profile in ("release", "debug"):
            places.extend(directory / "target" / profile / name for name in names)
    return explicit, places


def _load() -> Tuple[ctypes.CDLL, str]:
    explicit, places = _candidates()
    if explicit is not None:
        # An explicit path is never second-guessed: a wrong one is an error, not a fallback.
        if not os.path.isfile(explicit):
            raise ImportError(
                f"libodp: ODP_LIBRARY_PATH={explicit!r} is not a file; point it at libodp's "
                "shared library (e.g. target/release/libodp.so), or unset it"
            )
        path = explicit
    else:
        found = next((p for p in places if p.is_file()), None)
        if found is None:
            tried = "\n  ".join(str(p) for p in places)
            raise ImportError(
                "libodp: cannot find the shared library. Build it with "
                "`cargo build --release --lib`, or set ODP_LIBRARY_PATH to its path. Tried:\n  "
                + tried
            )
        path = str(found)
    try:
        # CDLL (not PyDLL) releases the GIL during every call: flush, close and wait_ready
        # block, and libodp's threads need the GIL to run the logging callback meanwhile.
        return ctypes.CDLL(path), path
    except OSError as e:
        raise ImportError(f"libodp: cannot load {path}: {e}") from e


def _declare(cdll: ctypes.CDLL, path: str) -> None:
    for name, (restype, argtypes) in SIGNATURES.items():
        try:
            function = getattr(cdll, name)
        except AttributeError:
            raise ImportError(f"libodp: {path} does not export {name}; is it libodp?") from None
        function.restype = restype
        function.argtypes = argtypes


def _check_abi(cdll: ctypes.CDLL, path: str) -> None:
    try:
        abi_version = cdll.odp_abi_version
    except AttributeError:
        raise ImportError(
            f"libodp: {path} does not export odp_abi_version; is it libodp?"
        ) from None
    abi_version.restype = ctypes.c_uint32
    abi_version.argtypes = []
    found = abi_version()
    if found != ABI_VERSION:
        raise ImportError(
            f"libodp: {path} has ABI version {found}, but this binding was written for ABI "
            f"version {ABI_VERSION}; install the libodp package that matches the library"
        )


lib, LIBRARY_PATH = _load()
_check_abi(lib, LIBRARY_PATH)
_declare(lib, LIBRARY_PATH)


def decode(raw: Optional[bytes]) -> str:
    return "" if raw is None else raw.decode("utf-8", "replace")


def library_version() -> str:
    return decode(lib.odp_version())


def result_name(code: int) -> str:
    return decode(lib.odp_result_name(code))


def result_message(code: int) -> str:
    return decode(lib.odp_result_message(code))


def last_error_message() -> str:
    """This thread's last detailed error (read it right after the failing call)."""
    buf = ctypes.create_string_buffer(512)
    length = lib.odp_last_error_message(buf, len(buf))
    if length >= len(buf):  # truncated: ask again with room for all of it
        buf = ctypes.create_string_buffer(length + 1)
        length = min(lib.odp_last_error_message(buf, len(buf)), len(buf) - 1)
    return buf.raw[:length].decode("utf-8", "replace")


def to_millis(seconds: float) -> int:
    """A timeout in seconds as the C API's ``uint32_t`` milliseconds, rounded up and clamped
    to ``0..=MAX_TIMEOUT_MS`` (a negative timeout means "do not wait")."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"a timeout is a number of seconds, not {type(seconds).__name__}")
    if seconds != seconds:
        raise ValueError("a timeout cannot be NaN")
    if seconds <= 0:
        return 0
    if seconds >= MAX_TIMEOUT_MS / 1000:
        return MAX_TIMEOUT_MS
    millis = seconds * 1000
    whole = int(millis)
    return whole if whole == millis else whole + 1
