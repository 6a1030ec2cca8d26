"""Every failure path, mapped to its exception class with libodp's detailed message."""

from __future__ import annotations

import ctypes
import threading

import pytest

import libodp
from libodp import _errors, _native

from odp_collector import make_datafile

IDS = {"fs_user_id": "u"}

CLASSES = {
    "ODP_ERR_INVALID_ARGUMENT": libodp.InvalidArgumentError,
    "ODP_ERR_INVALID_UTF8": libodp.InvalidUtf8Error,
    "ODP_ERR_INVALID_JSON": libodp.InvalidJsonError,
    "ODP_ERR_INVALID_HANDLE": libodp.InvalidHandleError,
    "ODP_ERR_INVALID_CONFIG": libodp.InvalidConfigError,
    "ODP_ERR_INVALID_DATAFILE": libodp.InvalidDatafileError,
    "ODP_ERR_SDK_NOT_READY": libodp.SdkNotReadyError,
    "ODP_ERR_ODP_NOT_ENABLED": libodp.OdpNotEnabledError,
    "ODP_ERR_ODP_NOT_INTEGRATED": libodp.OdpNotIntegratedError,
    "ODP_ERR_INVALID_ACTION": libodp.InvalidActionError,
    "ODP_ERR_INVALID_IDENTIFIERS": libodp.InvalidIdentifiersError,
    "ODP_ERR_INVALID_DATA": libodp.InvalidDataError,
    "ODP_ERR_QUEUE_FULL": libodp.QueueFullError,
    "ODP_ERR_CLOSED": libodp.ClosedError,
    "ODP_ERR_TIMEOUT": libodp.OdpTimeoutError,
    "ODP_ERR_INTERNAL": libodp.InternalError,
}


def test_every_result_code_has_its_class():
    seen = {}
    for code in range(1, 64):
        name = _native.result_name(code)
        if name != "ODP_ERR_UNKNOWN":
            seen[name] = code
    assert set(seen) == set(CLASSES), "the library's codes and the binding's classes differ"
    for name, code in seen.items():
        err = _errors.error(code, "some detail")
        assert type(err) is CLASSES[name]
        assert isinstance(err, libodp.OdpError)
        assert (err.code, err.name, err.detail, str(err)) == (
            code,
            name,
            "some detail",
            "some detail",
        )
        # Without a detail, the code's fixed text.
        assert _errors.error(code, "").detail == _native.result_message(code)
    unknown = _errors.error(999, "")
    assert type(unknown) is libodp.OdpError
    assert (unknown.name, unknown.detail) == ("ODP_ERR_UNKNOWN", "unknown result code")


def test_timeout_error_is_a_builtin_timeout_error():
    assert issubclass(libodp.OdpTimeoutError, TimeoutError)
    assert issubclass(libodp.OdpTimeoutError, libodp.OdpError)


def test_invalid_argument():
    # From libodp itself: a NULL where a pointer is required.
    out = ctypes.c_void_p()
    rc = _native.lib.odp_client_new(None, ctypes.byref(out))
    with pytest.raises(libodp.InvalidArgumentError) as e:
        _errors.raise_for(rc)
    assert e.value.detail == "config_json is NULL"
    assert out.value is None  # out-parameters are written only on success


def test_nul_in_a_c_string_is_refused(make_client):
    # From the binding: a C string cannot carry a NUL, so it is refused rather than cut short.
    client = make_client()
    with pytest.raises(libodp.InvalidArgumentError, match="action contains a NUL character"):
        client.send_event("buy\x00now", IDS)
    with pytest.raises(libodp.InvalidArgumentError, match="identifiers contains a NUL"):
        client.send_event("buy", '{"fs_user_id":"u"}\x00')
    # Inside a dict the NUL is a JSON escape, which is fine.
    client.send_event("buy", {"fs_user_id": "u\x00v"})


def test_invalid_utf8(make_client):
    client = make_client()
    with pytest.raises(libodp.InvalidUtf8Error) as e:
        client.send_event("\udcff", IDS)
    assert e.value.detail == "action is not valid UTF-8 (invalid byte at offset 0)"
    with pytest.raises(
        libodp.InvalidUtf8Error,
        match=r"^identifiers is not valid UTF-8 \(invalid byte at offset 15\)",
    ):
        client.send_event("a", b'{"fs_user_id":"\xff"}')
    with pytest.raises(libodp.InvalidUtf8Error, match="^data is not valid UTF-8"):
        client.send_event("a", IDS, {"k": "lone \ud800 surrogate"})


def test_invalid_json(make_client):
    client = make_client()
    with pytest.raises(libodp.InvalidJsonError) as e:
        client.send_event("a", '{"fs_user_id":')
    assert e.value.detail.startswith("identifiers is not valid JSON")
    assert "line 1 column" in e.value.detail
    with pytest.raises(libodp.InvalidJsonError, match="data is not valid JSON"):
        client.send_event("a", IDS, "{nope}")


def test_invalid_handle(make_client):
    client = make_client()
    handle = client._handle.value
    client.free()
    stats = _native.OdpStats()
    rc = _native.lib.odp_client_stats(handle, ctypes.byref(stats))
    with pytest.raises(libodp.InvalidHandleError) as e:
        _errors.raise_for(rc)
    assert e.value.name == "ODP_ERR_INVALID_HANDLE"
    # A forged handle is an error too, never undefined behaviour.
    rc = _native.lib.odp_client_flush(0x7F00DEAD0000, 0)
    assert rc == _native.ODP_ERR_INVALID_HANDLE
    # Through Client, a freed client is "closed".
    with pytest.raises(libodp.ClosedError):
        client.stats()


@pytest.mark.parametrize(
    "options, message",
    [
        ({"sdk_key": "k", "bogus": 1}, 'unknown key "bogus"'),
        ({"sdk_key": "k", "batch_size": "10"}, '"batch_size" must be an integer'),
        ({"sdk_key": "k", "batch_size": 0}, '"batch_size" must be an integer from 1 to 1000'),
        ({}, 'give one of "sdk_key", "datafile" or "odp_api_key" + "odp_api_host"'),
        ({"sdk_key": "k", "datafile": {}}, 'give only one of "sdk_key" and "datafile"'),
        ({"odp_api_key": "k", "odp_api_host": "http://example.com"}, "allow_insecure_http"),
    ],
)
def test_invalid_config(options, message):
    with pytest.raises(libodp.InvalidConfigError) as e:
        libodp.Client(**options)
    assert message in e.value.detail
    assert e.value.detail.startswith("invalid configuration")


def test_invalid_datafile(collector, make_client):
    with pytest.raises(libodp.InvalidDatafileError, match='unsupported datafile version "3"'):
        libodp.Client.from_datafile({"version": "3"})
    with pytest.raises(libodp.InvalidDatafileError, match="not valid JSON"):
        libodp.Client.from_datafile("{not json")
    client = make_client(datafile=make_datafile("key-1", collector.url))
    with pytest.raises(libodp.InvalidDatafileError):
        client.update_datafile({"version": "3"})
    client.send_event("a", IDS)  # the current datafile stayed
    client.flush(5)
    assert [r.headers["x-api-key"] for r in collector.requests] == ["key-1"]


def test_sdk_not_ready(collector, make_client):
    collector.set_datafile({}, status=403)
    client = make_client(
        sdk_key=collector.sdk_key,
        datafile_url_template=collector.datafile_url_template,
        datafile_polling_interval_ms=0,
    )
    # Polling is off and the one fetch fails: waiting ends with SDK_NOT_READY, not a timeout.
    with pytest.raises(libodp.SdkNotReadyError) as e:
        client.wait_ready(5)
    assert e.value.detail.startswith("Optimizely SDK not configured properly yet.")
    assert "403" in e.value.detail
    with pytest.raises(
        libodp.SdkNotReadyError, match="^Optimizely SDK not configured properly yet"
    ):
        client.send_event("a", IDS)
    assert client.stats().rejected_invalid == 1


def test_odp_not_enabled(make_client):
    client = make_client(odp_disabled=True)
    with pytest.raises(libodp.OdpNotEnabledError) as e:
        client.send_event("a", IDS)
    assert e.value.detail == "ODP is not enabled"


def test_odp_not_integrated(make_client):
    client = make_client(datafile=make_datafile(None, None))
    with pytest.raises(libodp.OdpNotIntegratedError) as e:
        client.send_event("a", IDS)
    assert e.value.detail == "ODP is not integrated"


@pytest.mark.parametrize("action", ["", None])
def test_invalid_action(make_client, action):
    client = make_client()
    with pytest.raises(libodp.InvalidActionError) as e:
        client.send_event(action, IDS)
    assert str(e.value) == "ODP action is not valid (cannot be empty)"
    assert e.value.code == 10


@pytest.mark.parametrize(
    "identifiers, message",
    [
        ({}, "ODP events must have at least one key-value pair in identifiers"),
        (None, "ODP events must have at least one key-value pair in identifiers"),
        (
            {"fs_user_id": 5},
            'the value of "fs_user_id" is a number; identifier values must be strings',
        ),
        (["a"], "identifiers must be a JSON object, not an array"),
    ],
)
def test_invalid_identifiers(make_client, identifiers, message):
    client = make_client()
    with pytest.raises(libodp.InvalidIdentifiersError) as e:
        client.send_event("a", identifiers)
    assert message in e.value.detail


@pytest.mark.parametrize(
    "options, data, message",
    [
        ({}, {"a": {"b": 1}}, 'the value of "a" is an object'),
        ({}, {"a": [1]}, 'the value of "a" is an array'),
        ({}, {"n": 2**53 + 1}, 'the value of "n" (9007199254740993) is beyond ±2^53'),
        ({}, [1], "data must be a JSON object, not an array"),
        ({"max_event_bytes": 50}, {"k": "v" * 100}, "over the limit of 50 (max_event_bytes)"),
    ],
)
def test_invalid_data(make_client, options, data, message):
    client = make_client(**options)
    with pytest.raises(libodp.InvalidDataError) as e:
        client.send_event("a", IDS, data)
    assert e.value.detail.startswith("ODP data is not valid")
    assert message in e.value.detail


def test_values_json_cannot_encode_are_a_type_error(make_client):
    client = make_client()
    with pytest.raises(TypeError, match="data cannot be encoded as JSON"):
        client.send_event("a", IDS, {"when": object()})
    with pytest.raises(TypeError, match="action must be str or bytes"):
        client.send_event(5, IDS)  # type: ignore[arg-type]


def test_queue_full(collector, make_client):
    client = make_client(queue_capacity=2, flush_interval_ms=60_000)
    client.send_event("a", IDS)
    client.send_event("b", IDS)
    with pytest.raises(libodp.QueueFullError) as e:
        client.send_event("c", IDS)
    assert e.value.detail == "ODP EventQueue is full"
    stats = client.stats()
    assert (stats.accepted, stats.pending, stats.rejected_queue_full) == (2, 2, 1)
    client.flush(5)
    assert [e["action"] for e in collector.events()] == ["a", "b"]  # nothing queued was evicted


def test_closed(make_client):
    client = make_client()
    client.close(1)
    assert client.closed
    for call in (
        lambda: client.send_event("a", IDS),
        lambda: client.flush(1),
        lambda: client.wait_ready(1),
        lambda: client.update_datafile(make_datafile("k", "http://127.0.0.1:1")),
    ):
        with pytest.raises(libodp.ClosedError) as e:
            call()
        assert e.value.detail == "client is closed"
    assert client.stats().rejected_invalid == 1  # stats work until free
    client.free()
    with pytest.raises(libodp.ClosedError, match="the client was freed"):
        client.send_event("a", IDS)


def test_flush_timeout(collector, make_client):
    collector.hold()
    client = make_client(flush_interval_ms=60_000)
    client.send_event("a", IDS)
    with pytest.raises(libodp.OdpTimeoutError) as e:
        client.flush(0.2)
    assert isinstance(e.value, TimeoutError)
    assert e.value.name == "ODP_ERR_TIMEOUT"
    assert client.stats().pending == 1  # still queued; delivery goes on
    collector.release()
    client.flush(5)
    assert client.stats().delivered == 1


def test_close_timeout(collector, make_client):
    collector.hold()
    client = make_client(flush_interval_ms=60_000)
    client.send_event("a", IDS)
    with pytest.raises(libodp.OdpTimeoutError, match="within 200 ms"):
        client.close(0.2)
    assert client.closed
    stats = client.stats()
    assert (stats.accepted, stats.pending, stats.dropped_shutdown) == (1, 0, 1)


def test_wait_ready_timeout(collector, make_client):
    collector.hold_datafile()
    client = make_client(
        sdk_key=collector.sdk_key, datafile_url_template=collector.datafile_url_template
    )
    with pytest.raises(libodp.OdpTimeoutError):
        client.wait_ready(0.2)
    collector.release_datafile()
    client.wait_ready(5)


def test_details_are_per_thread(make_client):
    # libodp keeps the last error per OS thread and ctypes calls on the calling thread, so two
    # threads failing differently at the same time each read their own message.
    client = make_client()
    failures = {"action": [], "identifiers": []}
    start = threading.Barrier(2)

    def fail(kind: str) -> None:
        start.wait()
        for _ in range(300):
            try:
                if kind == "action":
                    client.send_event("", IDS)
                else:
                    client.send_event("a", {})
            except libodp.OdpError as e:
                failures[kind].append((type(e), e.detail))

    threads = [threading.Thread(target=fail, args=(k,)) for k in failures]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(failures["action"]) == {
        (libodp.InvalidActionError, "ODP action is not valid (cannot be empty)")
    }
    assert set(failures["identifiers"]) == {
        (
            libodp.InvalidIdentifiersError,
            "ODP events must have at least one key-value pair in identifiers",
        )
    }
    assert len(failures["action"]) == len(failures["identifiers"]) == 300
    assert client.stats().rejected_invalid == 600
