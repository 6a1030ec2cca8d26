"""One exception class per libodp result code, all under :class:`OdpError`."""

from __future__ import annotations

from typing import Dict, NoReturn, Type

from . import _native


class OdpError(Exception):
    """A libodp call failed.

    ``code`` is the ``OdpResult`` number, ``name`` its name (e.g. ``"ODP_ERR_QUEUE_FULL"``) and
    ``detail`` libodp's detailed message for this failure, which is also ``str()`` of the error.
    """

    code: int
    name: str
    detail: str

    def __init__(self, code: int, name: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.name = name
        self.detail = detail

    def __str__(self) -> str:
        return self.detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}: {self.detail!r})"


class InvalidArgumentError(OdpError):
    """ODP_ERR_INVALID_ARGUMENT: a required value is missing or out of range."""


class InvalidUtf8Error(OdpError):
    """ODP_ERR_INVALID_UTF8: a string is not valid UTF-8 (the detail names it and the offset)."""


class InvalidJsonError(OdpError):
    """ODP_ERR_INVALID_JSON: a JSON argument does not parse (the detail gives line and column)."""


class InvalidHandleError(OdpError):
    """ODP_ERR_INVALID_HANDLE: the client handle was freed, is stale, or was never created."""


class InvalidConfigError(OdpError):
    """ODP_ERR_INVALID_CONFIG: the configuration is invalid (the detail names the key)."""


class InvalidDatafileError(OdpError):
    """ODP_ERR_INVALID_DATAFILE: a datafile is invalid."""


class SdkNotReadyError(OdpError):
    """ODP_ERR_SDK_NOT_READY: no datafile has been loaded yet."""


class OdpNotEnabledError(OdpError):
    """ODP_ERR_ODP_NOT_ENABLED: ODP is disabled by configuration."""


class OdpNotIntegratedError(OdpError):
    """ODP_ERR_ODP_NOT_INTEGRATED: the datafile has no usable ODP integration."""


class InvalidActionError(OdpError):
    """ODP_ERR_INVALID_ACTION: the action is missing or empty."""


class InvalidIdentifiersError(OdpError):
    """ODP_ERR_INVALID_IDENTIFIERS: the identifiers are empty or not a JSON object of strings."""


class InvalidDataError(OdpError):
    """ODP_ERR_INVALID_DATA: the event data is invalid, or the event is too large."""


class QueueFullError(OdpError):
    """ODP_ERR_QUEUE_FULL: the queue is full; the event was not accepted."""


class ClosedError(OdpError):
    """ODP_ERR_CLOSED: the client is closed (or, in Python, already freed)."""


class OdpTimeoutError(OdpError, TimeoutError):
    """ODP_ERR_TIMEOUT: a flush, close or wait did not finish in time."""


class InternalError(OdpError):
    """ODP_ERR_INTERNAL: a bug in libodp, caught at its boundary (please report it)."""


#: Result code -> class. The numbers are those of odp.h, which never change once released; a
#: test checks every one against ``odp_result_name``.
_BY_CODE: Dict[int, Type[OdpError]] = {
    _native.ODP_ERR_INVALID_ARGUMENT: InvalidArgumentError,
    _native.ODP_ERR_INVALID_UTF8: InvalidUtf8Error,
    _native.ODP_ERR_INVALID_JSON: InvalidJsonError,
    _native.ODP_ERR_INVALID_HANDLE: InvalidHandleError,
    _native.ODP_ERR_INVALID_CONFIG: InvalidConfigError,
    _native.ODP_ERR_INVALID_DATAFILE: InvalidDatafileError,
    _native.ODP_ERR_SDK_NOT_READY: SdkNotReadyError,
    _native.ODP_ERR_ODP_NOT_ENABLED: OdpNotEnabledError,
    _native.ODP_ERR_ODP_NOT_INTEGRATED: OdpNotIntegratedError,
    _native.ODP_ERR_INVALID_ACTION: InvalidActionError,
    _native.ODP_ERR_INVALID_IDENTIFIERS: InvalidIdentifiersError,
    _native.ODP_ERR_INVALID_DATA: InvalidDataError,
    _native.ODP_ERR_QUEUE_FULL: QueueFullError,
    _native.ODP_ERR_CLOSED: ClosedError,
    _native.ODP_ERR_TIMEOUT: OdpTimeoutError,
    _native.ODP_ERR_INTERNAL: InternalError,
}


def error_class(code: int) -> Type[OdpError]:
    """The exception class of a result code (:class:`OdpError` for a code this binding does not
    know, e.g. one appended by a newer library)."""
    return _BY_CODE.get(code, OdpError)


def error(code: int, detail: str) -> OdpError:
    """The exception for ``code``; an empty detail falls back to the code's fixed text."""
    return error_class(code)(
        code, _native.result_name(code), detail or _native.result_message(code)
    )


def raise_for(code: int) -> NoReturn:
    """Raises the exception for a failed call's ``code``, with this thread's detailed message.

    Must run on the thread that made the call, before any other libodp call on it: the message
    is thread-local in libodp, and ctypes makes the call on the calling OS thread.
    """
    raise error(code, _native.last_error_message())
