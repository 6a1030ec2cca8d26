"""The :class:`Client`: Python values in, JSON strings to libodp, result codes out as exceptions.

Every ODP rule (what an event may hold, what a configuration may say, how delivery works) lives
in libodp's core; nothing here checks a value. The binding only encodes values as JSON, converts
seconds to milliseconds, and guards the handle's lifetime.
"""

from __future__ import annotations

import ctypes
import json
import math
import weakref
from dataclasses import dataclass, fields
from json.encoder import encode_basestring as _quote  # the encoder's own, in C
from types import TracebackType
from typing import Any, Callable, Mapping, Optional, Type, Union

from . import _native
from ._errors import ClosedError, OdpError, error, raise_for
from ._native import lib

#: Identifiers: a mapping of strings, or the JSON object itself as ``str``/``bytes``.
Identifiers = Union[Mapping[str, str], str, bytes]
#: Event data: a mapping of scalars, the JSON object itself as ``str``/``bytes``, or ``None``.
Data = Union[Mapping[str, Any], str, bytes, None]
#: A datafile: the parsed JSON object, or its text.
Datafile = Union[Mapping[str, Any], str]


@dataclass(frozen=True)
class Stats:
    """A consistent snapshot of a client's counters (``struct OdpStats``).

    At every moment ``accepted == delivered + dropped_rejected + dropped_shutdown + pending``.
    """

    #: Events accepted by ``send_event``.
    accepted: int
    #: Events the ODP server accepted.
    delivered: int
    #: Events queued or being sent.
    pending: int
    #: Events dropped because the server refused their batch for good (a 4xx other than 408, 429).
    dropped_rejected: int
    #: Events dropped by ``close`` because its timeout passed or no destination was left.
    dropped_shutdown: int
    #: HTTP requests that delivered a batch.
    batches_sent: int
    #: HTTP requests that failed (network errors, statuses of 400 and above), retried or not.
    failed_attempts: int
    #: ``send_event`` calls refused with :class:`QueueFullError` (not counted in ``accepted``).
    rejected_queue_full: int
    #: ``send_event`` calls refused for any other reason (not counted in ``accepted``).
    rejected_invalid: int


def _c_string(value: Union[str, bytes], what: str) -> bytes:
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, str):
        # surrogatepass: a lone surrogate becomes bytes that are not UTF-8, so libodp's own
        # check reports it (ODP_ERR_INVALID_UTF8, with the offset) instead of Python.
        raw = value.encode("utf-8", "surrogatepass")
    else:
        raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")
    if b"\0" in raw:
        # A C string ends at its first NUL: passing this on would silently cut it short.
        raise error(
            _native.ODP_ERR_INVALID_ARGUMENT,
            f"{what} contains a NUL character, which a C string cannot carry",
        )
    return raw


def _optional_c_string(value: Optional[Union[str, bytes]], what: str) -> Optional[bytes]:
    return None if value is None else _c_string(value, what)


def _mapping_as_dict(value: Any) -> Any:
    """``json.dumps``'s fallback: any Mapping (not only dict) encodes as an object."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


#: One encoder for every call: ``json.dumps`` with options builds a new one each time, which
#: cost more than the rest of ``send_event`` together.
_ENCODE = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_mapping_as_dict
).encode


def _flat_object(value: Any) -> Optional[str]:
    """What ``_ENCODE`` makes of a plain dict of str keys and str, bool, None, int or finite
    float values (the usual event), built without the encoder's per-call setup; ``None`` for
    anything else, which the encoder then handles."""
    if type(value) is not dict:
        return None
    parts = []
    for key, item in value.items():
        if type(key) is not str:
            return None
        kind = type(item)
        if kind is str:
            text = _quote(item)
        elif kind is bool:
            text = "true" if item else "false"
        elif item is None:
            text = "null"
        elif kind is int:
            text = int.__repr__(item)
        elif kind is float and math.isfinite(item):
            text = float.__repr__(item)
        else:
            return None
        parts.append(_quote(key) + ":" + text)
    return "{" + ",".join(parts) + "}"


def _json(value: Any, what: str) -> Optional[bytes]:
    """``None`` -> NULL; ``str``/``bytes`` -> passed as they are (already JSON); anything else ->
    compact JSON. Whether the result is acceptable is for libodp to say."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return _c_string(value, what)
    try:
        text = _flat_object(value)
        if text is None:
            text = _ENCODE(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} cannot be encoded as JSON: {e}") from e
    return _c_string(text, what)


class _Handle:
    """The C handle and whether the binding closed it. Shared with the finalizer, so it must
    not refer to the :class:`Client`.

    No lock: ``list.pop`` is atomic, so exactly one caller ever takes the handle, and a lock
    held by another thread at ``os.fork()`` could never be released in the child.
    """

    __slots__ = ("_slot", "closed")

    def __init__(self, value: int) -> None:
        self._slot = [value]
        self.closed = False

    @property
    def value(self) -> Optional[int]:
        try:
            return self._slot[0]
        except IndexError:
            return None

    def take(self) -> Optional[int]:
        """Detaches the handle; exactly one caller ever gets it."""
        self.closed = True
        try:
            return self._slot.pop()
        except IndexError:
            return None


def _free(handle: _Handle) -> int:
    value = handle.take()
    return _native.ODP_OK if value is None else lib.odp_client_free(value)


class Client:
    """An ODP client: one libodp handle with its queue and background delivery thread.

    ``Client(**options)`` takes the keys of libodp's JSON configuration (README, "Configuration"),
    e.g. ``Client(odp_api_key="...", odp_api_host="https://api.zaius.com")``,
    ``Client(sdk_key="...")`` or ``Client(datafile={...})``; libodp rejects unknown keys and
    invalid values with :class:`InvalidConfigError`.

    Thread-safe: any method may be called from any thread, concurrently. Use it as a context
    manager, or call :meth:`close` and :meth:`free`; a client that is garbage-collected (or still
    alive at interpreter exit) is freed, which closes it with ``shutdown_timeout_ms``.
    """

    def __init__(self, **options: Any) -> None:
        config = _json(options, "configuration")
        out = ctypes.c_void_p()
        rc = lib.odp_client_new(config, ctypes.byref(out))
        if rc != _native.ODP_OK:
            raise_for(rc)
        assert out.value is not None
        self._handle = _Handle(out.value)
        self._finalizer = weakref.finalize(self, _free, self._handle)

    @classmethod
    def from_datafile(cls, datafile: Datafile, **options: Any) -> "Client":
        """A client for a datafile given as a JSON object (dict) or as its text (str)."""
        return cls(datafile=datafile, **options)

    # -- events ----------------------------------------------------------------------------

    def send_event(
        self,
        action: str,
        identifiers: Identifiers,
        data: Data = None,
        type: Optional[str] = None,
    ) -> None:
        """Validates an event and queues it for delivery; never waits for the network.

        ``type`` ``None`` (or ``""``) sends ``"fullstack"``. Raises an :class:`OdpError`
        subclass saying why an event was refused (e.g. :class:`InvalidActionError`,
        :class:`InvalidIdentifiersError`, :class:`InvalidDataError`, :class:`QueueFullError`).
        """
        self._call(
            lib.odp_send_event,
            _optional_c_string(type, "type"),
            _optional_c_string(action, "action"),
            _json(identifiers, "identifiers"),
            _json(data, "data"),
        )

    def send_odp_event(
        self,
        action: str,
        identifiers: Identifiers,
        type: str = "fullstack",
        data: Data = None,
    ) -> None:
        """:meth:`send_event` with the argument order of the Optimizely Python SDK's
        ``send_odp_event(action, identifiers, type, data)``, but raising on failure."""
        self.send_event(action, identifiers, data, type)

    # -- lifecycle -------------------------------------------------------------------------

    def wait_ready(self, timeout: float) -> None:
        """Blocks until the client has a datafile, for at most ``timeout`` seconds.

        Raises :class:`OdpTimeoutError` (none yet; the detail has the last fetch failure) or
        :class:`SdkNotReadyError` (fetching stopped for good without one).
        """
        self._call(lib.odp_client_wait_ready, _native.to_millis(timeout))

    def flush(self, timeout: float) -> None:
        """Delivers everything accepted before the call, blocking for at most ``timeout`` seconds.

        Raises :class:`OdpTimeoutError` if events are still pending (delivery goes on).
        """
        self._call(lib.odp_client_flush, _native.to_millis(timeout))

    def close(self, timeout: Optional[float] = None) -> None:
        """Stops accepting events and delivers what is queued within ``timeout`` seconds
        (``None``: the configured ``shutdown_timeout_ms``). Harmless when already closed or freed.

        Raises :class:`OdpTimeoutError` if events were left (counted in
        ``stats().dropped_shutdown``); the client is closed either way. :meth:`stats` still works.
        """
        millis = (
            _native.CONFIGURED_SHUTDOWN_TIMEOUT if timeout is None else _native.to_millis(timeout)
        )
        value = self._handle.value
        if value is None:
            return
        rc = lib.odp_client_close(value, millis)
        if rc in (_native.ODP_OK, _native.ODP_ERR_TIMEOUT):
            self._handle.closed = True
        if rc == _native.ODP_OK or (rc == _native.ODP_ERR_INVALID_HANDLE and self._freed()):
            return
        raise_for(rc)

    def free(self) -> None:
        """Releases the handle (closing first with ``shutdown_timeout_ms`` if still open).
        Harmless when repeated; every other method then raises :class:`ClosedError`.

        Raises :class:`OdpTimeoutError` if that implicit close left events undelivered (the
        handle is released anyway).
        """
        self._finalizer.detach()
        rc = _free(self._handle)
        if rc not in (_native.ODP_OK, _native.ODP_ERR_INVALID_HANDLE):
            raise_for(rc)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` or :meth:`free` has run."""
        return self._handle.closed

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Closes (with ``shutdown_timeout_ms``) and frees. A close that times out raises
        :class:`OdpTimeoutError`, unless the block is already raising."""
        try:
            self.close()
        except OdpError:
            if exc_type is None:
                raise
        finally:
            self.free()

    # -- the rest ----------------------------------------------------------------------------

    def update_datafile(self, datafile: Datafile) -> None:
        """Replaces the datafile; events already queued go to the old ODP destination first."""
        self._call(lib.odp_client_update_datafile, _json(datafile, "datafile"))

    def stats(self) -> Stats:
        """The client's counters; works after :meth:`close`, until :meth:`free`."""
        out = _native.OdpStats()
        self._call(lib.odp_client_stats, ctypes.byref(out))
        return Stats(**{f.name: getattr(out, f.name) for f in fields(Stats)})

    def __repr__(self) -> str:
        state = "freed" if self._freed() else "closed" if self.closed else "open"
        return f"<libodp.Client {state}>"

    def _freed(self) -> bool:
        return self._handle.value is None

    def _call(self, function: Callable[..., int], *args: Any) -> None:
        value = self._handle.value
        if value is None:
            raise self._freed_error()
        rc = function(value, *args)
        if rc == _native.ODP_OK:
            return
        if rc == _native.ODP_ERR_INVALID_HANDLE and self._freed():
            raise self._freed_error()  # freed by another thread during the call
        raise_for(rc)

    @staticmethod
    def _freed_error() -> ClosedError:
        err = error(_native.ODP_ERR_CLOSED, "the client was freed")
        assert isinstance(err, ClosedError)
        return err
