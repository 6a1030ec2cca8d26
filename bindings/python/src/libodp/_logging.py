"""Bridges libodp's logger (``odp_set_logger``) to the ``logging`` module, logger ``"libodp"``."""

from __future__ import annotations

import atexit
import ctypes
import logging
import threading
from typing import Any

from . import _native
from ._errors import raise_for
from ._native import lib

#: Where libodp's messages go. Configure its handlers and level as for any library logger.
logger = logging.getLogger("libodp")

_TO_PYTHON = {
    _native.LOG_DEBUG: logging.DEBUG,
    _native.LOG_INFO: logging.INFO,
    _native.LOG_WARN: logging.WARNING,
    _native.LOG_ERROR: logging.ERROR,
}


def _on_message(level: int, message: Any, length: int, user_data: Any) -> None:
    # Runs on libodp's threads (ctypes takes the GIL). Nothing may propagate back into C.
    try:
        text = ctypes.string_at(message, length).decode("utf-8", "replace")
        logger.log(_TO_PYTHON.get(level, logging.ERROR), "%s", text)
    except BaseException:  # noqa: BLE001 - there is no one to report it to
        pass


# One trampoline for the life of the process: libodp may still be running a callback that
# started before a later odp_set_logger call returned, so this must never be freed.
_CALLBACK = _native.LOG_CALLBACK(_on_message)
_NO_CALLBACK = _native.LOG_CALLBACK()  # a NULL function pointer

_lock = threading.Lock()
_enabled = False


def _min_level(level: int) -> int:
    """The lowest ``OdpLogLevel`` whose messages pass a Python ``level``."""
    if level <= logging.DEBUG:
        return _native.LOG_DEBUG
    if level <= logging.INFO:
        return _native.LOG_INFO
    if level <= logging.WARNING:
        return _native.LOG_WARN
    return _native.LOG_ERROR


def enable_logging(level: int = logging.INFO) -> None:
    """Sends libodp's messages at ``level`` and above (a ``logging`` level) to the ``"libodp"``
    logger. Process-wide: it replaces any earlier logger, including ``ODP_LOG``'s stderr one."""
    global _enabled
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"level must be a logging level (int), not {type(level).__name__}")
    with _lock:
        rc = lib.odp_set_logger(_min_level(level), _CALLBACK, None)
        if rc != _native.ODP_OK:
            raise_for(rc)
        _enabled = True


def disable_logging() -> None:
    """Stops the bridge; libodp goes back to its default (silence, or stderr if ``ODP_LOG`` is
    set). A message already being logged on another thread may still arrive."""
    global _enabled
    with _lock:
        rc = lib.odp_set_logger(_native.LOG_DEBUG, _NO_CALLBACK, None)
        if rc != _native.ODP_OK:
            raise_for(rc)
        _enabled = False


def logging_enabled() -> bool:
    """Whether :func:`enable_logging` is in force."""
    return _enabled


@atexit.register
def _disable_at_exit() -> None:
    # libodp's threads may outlive the interpreter's finalization; a callback into a finalizing
    # interpreter can crash or hang the process, so hand logging back to libodp first.
    if _enabled:
        try:
            disable_logging()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass
