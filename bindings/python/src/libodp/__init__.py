"""Send events to the Optimizely Data Platform (ODP) through libodp.

::

    import libodp

    with libodp.Client(sdk_key="AbC123") as client:
        client.wait_ready(5.0)
        client.send_event("purchased", {"fs_user_id": "user123"}, {"item": "shirt", "price": 50.0})

The shared library is found through ``ODP_LIBRARY_PATH`` (a file path), then a copy bundled
next to this package, then a cargo build tree above it (``target/release``, then
``target/debug``). Its ABI version must be the one this binding was written for.
"""

from __future__ import annotations

from . import _native
from ._client import Client, Data, Datafile, Identifiers, Stats
from ._errors import (
    ClosedError,
    InternalError,
    InvalidActionError,
    InvalidArgumentError,
    InvalidConfigError,
    InvalidDataError,
    InvalidDatafileError,
    InvalidHandleError,
    InvalidIdentifiersError,
    InvalidJsonError,
    InvalidUtf8Error,
    OdpError,
    OdpNotEnabledError,
    OdpNotIntegratedError,
    OdpTimeoutError,
    QueueFullError,
    SdkNotReadyError,
)
from ._logging import disable_logging, enable_logging, logging_enabled

#: The version of the loaded library (``odp_version()``).
__version__: str = _native.library_version()

#: The ABI version of the loaded library (checked at import to be the one expected).
ABI_VERSION: int = _native.ABI_VERSION


def library_path() -> str:
    """The path of the shared library this package loaded."""
    return _native.LIBRARY_PATH


__all__ = [
    "ABI_VERSION",
    "Client",
    "ClosedError",
    "Data",
    "Datafile",
    "Identifiers",
    "InternalError",
    "InvalidActionError",
    "InvalidArgumentError",
    "InvalidConfigError",
    "InvalidDataError",
    "InvalidDatafileError",
    "InvalidHandleError",
    "InvalidIdentifiersError",
    "InvalidJsonError",
    "InvalidUtf8Error",
    "OdpError",
    "OdpNotEnabledError",
    "OdpNotIntegratedError",
    "OdpTimeoutError",
    "QueueFullError",
    "SdkNotReadyError",
    "Stats",
    "__version__",
    "disable_logging",
    "enable_logging",
    "library_path",
    "logging_enabled",
]
