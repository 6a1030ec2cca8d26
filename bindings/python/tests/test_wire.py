"""What crosses the wire when Python sends events: path, headers, body."""

from __future__ import annotations

import json
import uuid

import pytest

import libodp

from odp_collector import make_datafile

SEED_IDENTIFIERS = {"fs_user_id": "user123", "email": "user123@example.com"}
SEED_DATA = {"item": "shirt", "price": 50.0}


def check_uuid4(value: str) -> None:
    parsed = uuid.UUID(value)
    assert parsed.version == 4
    assert str(parsed) == value  # lowercase and hyphenated


def test_seed_event_request(collector, make_client):
    client = make_client(flush_interval_ms=60_000)
    client.send_event("purchased", SEED_IDENTIFIERS, SEED_DATA, type="fullstack")
    client.flush(5)

    [request] = collector.requests
    assert request.method == "POST"
    assert request.path == "/v3/events"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-api-key"] == collector.public_key
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == f"libodp/{libodp.__version__}"

    # Field order and key order as sent (object_pairs_hook keeps them).
    [event] = json.loads(request.body, object_pairs_hook=lambda pairs: pairs)
    assert [k for k, _ in event] == ["type", "action", "identifiers", "data"]
    event = dict(event)
    assert event["type"] == "fullstack"
    assert event["action"] == "purchased"
    assert event["identifiers"] == [("email", "user123@example.com"), ("fs_user_id", "user123")]
    data = dict(event["data"])
    assert [k for k, _ in event["data"]] == sorted(data)
    check_uuid4(data.pop("idempotence_id"))
    assert data == {
        "data_source": "libodp",
        "data_source_type": "sdk",
        "data_source_version": libodp.__version__,
        "item": "shirt",
        "price": 50.0,
    }
    # Compact JSON: re-encoding the parsed body without spaces gives the same bytes.
    assert request.body == json.dumps(request.json(), separators=(",", ":")).encode()


def test_type_defaults_to_fullstack(collector, make_client):
    client = make_client(flush_interval_ms=60_000)
    client.send_event("a1", {"fs_user_id": "u"})
    client.send_event("a2", {"fs_user_id": "u"}, type="")
    client.send_event("a3", {"fs_user_id": "u"}, type="custom")
    client.flush(5)
    assert [(e["action"], e["type"]) for e in collector.events()] == [
        ("a1", "fullstack"),
        ("a2", "fullstack"),
        ("a3", "custom"),
    ]


def test_send_odp_event_has_the_sdk_argument_order(collector, make_client):
    client = make_client(flush_interval_ms=60_000)
    client.send_odp_event("viewed", {"fs_user_id": "u1"})
    client.send_odp_event("clicked", {"fs_user_id": "u2"}, "custom", {"k": "v"})
    client.send_odp_event(action="x", identifiers={"fs_user_id": "u3"}, data={"n": 1})
    client.flush(5)
    events = collector.events()
    assert [(e["type"], e["action"], e["identifiers"]) for e in events] == [
        ("fullstack", "viewed", {"fs_user_id": "u1"}),
        ("custom", "clicked", {"fs_user_id": "u2"}),
        ("fullstack", "x", {"fs_user_id": "u3"}),
    ]
    assert events[1]["data"]["k"] == "v"
    assert events[2]["data"]["n"] == 1


def test_unicode_round_trip(collector, make_client):
    client = make_client(flush_interval_ms=60_000)
    identifiers = {"fs_user_id": "ユーザー123", "email": "zoë@exämple.com", "ключ": "значение"}
    data = {
        "名前": "シャツ 👕",
        "quotes": "\"double\" and 'single' and \\ and <tag> & more",
        "controls": "line\nbreak\ttab\x00nul\x7f",
        "emoji": "🛒🎉",
        "flag": True,
        "nothing": None,
        "big": 2**53,
        "negative": -1.5,
    }
    client.send_event("購入", identifiers, data, type="カスタム")
    client.flush(5)
    [event] = collector.events()
    assert event["type"] == "カスタム"
    assert event["action"] == "購入"
    assert event["identifiers"] == identifiers
    assert {k: event["data"][k] for k in data} == data
    # Sent as UTF-8, not as escapes.
    body = collector.requests[0].body
    assert "ユーザー123".encode() in body and "シャツ 👕".encode() in body


def test_non_ascii_reaches_the_core_as_utf8_not_escapes(collector, make_client):
    # max_event_bytes counts the input bytes: 100 katakana are 300 bytes of UTF-8 but would be
    # 600 as \uXXXX escapes, so only the UTF-8 encoding fits in 400.
    client = make_client(max_event_bytes=400, flush_interval_ms=60_000)
    client.send_event("a", {"fs_user_id": "ユ" * 100})
    with pytest.raises(libodp.InvalidDataError, match="max_event_bytes"):
        client.send_event("a", {"fs_user_id": "ユ" * 150})
    client.flush(5)
    assert [e["identifiers"]["fs_user_id"] for e in collector.events()] == ["ユ" * 100]


def test_raw_json_strings_and_bytes_pass_through(collector, make_client):
    client = make_client(flush_interval_ms=60_000)
    client.send_event("s", '{"fs_user_id":"u1"}', '{"k":true,"n":null,"i":42}')
    client.send_event(b"b", b'{"email":"a@b.c"}', b'{"x":"\xc3\xa9"}', type=b"bt")
    client.flush(5)
    first, second = collector.events()
    assert first["identifiers"] == {"fs_user_id": "u1"}
    assert (first["data"]["k"], first["data"]["n"], first["data"]["i"]) == (True, None, 42)
    assert (second["type"], second["action"]) == ("bt", "b")
    assert second["identifiers"] == {"email": "a@b.c"}
    assert second["data"]["x"] == "é"


def test_any_mapping_is_an_object(collector, make_client):
    from types import MappingProxyType

    client = make_client(flush_interval_ms=60_000)
    client.send_event("a", MappingProxyType({"fs_user_id": "u"}), MappingProxyType({"k": "v"}))
    client.flush(5)
    [event] = collector.events()
    assert event["identifiers"] == {"fs_user_id": "u"}
    assert event["data"]["k"] == "v"


def test_identifier_order_reaches_the_core(collector, make_client):
    # libodp renames the first fs_user_id alias *in input order*: the dict's order must survive.
    client = make_client(flush_interval_ms=60_000)
    client.send_event("a", {"FS-USER-ID": "first", "fs-user-id": "second", "fs_user_id": ""})
    client.send_event("b", {"fs-user-id": "second", "FS-USER-ID": "first", "fs_user_id": ""})
    client.flush(5)
    a, b = collector.events()
    assert a["identifiers"] == {"fs_user_id": "first", "fs-user-id": "second"}
    assert b["identifiers"] == {"fs_user_id": "second", "FS-USER-ID": "first"}


def test_common_data_from_options_and_overrides(collector, make_client):
    client = make_client(data_source="my-wrapper", data_source_version="9.9.9")
    client.send_event("a", {"fs_user_id": "u"})
    client.send_event(
        "b", {"fs_user_id": "u"}, {"data_source_type": "mine", "idempotence_id": "x1"}
    )
    client.flush(5)
    a, b = collector.events()
    assert (a["data"]["data_source"], a["data"]["data_source_version"]) == ("my-wrapper", "9.9.9")
    assert b["data"]["data_source_type"] == "mine"
    assert b["data"]["idempotence_id"] == "x1"
    check_uuid4(a["data"]["idempotence_id"])


def test_batches_follow_batch_size(collector, make_client):
    client = make_client(batch_size=3, flush_interval_ms=60_000)
    for i in range(7):
        client.send_event("a", {"fs_user_id": f"u{i}"}, {"i": i})
    client.flush(5)
    sizes = [len(r.json()) for r in collector.requests]
    assert sorted(sizes) == [1, 3, 3]
    events = collector.events()
    assert sorted(e["data"]["i"] for e in events) == list(range(7))
    assert len({e["data"]["idempotence_id"] for e in events}) == 7
    assert client.stats().batches_sent == 3


def test_retry_keeps_the_idempotence_id(collector, make_client):
    collector.fail_with(503)
    client = make_client()
    client.send_event("a", {"fs_user_id": "u"})
    client.flush(10)
    first, second = collector.requests
    assert (first.status, second.status) == (503, 202)
    assert first.body == second.body
    stats = client.stats()
    assert (stats.delivered, stats.failed_attempts, stats.dropped_rejected) == (1, 1, 0)


def test_a_4xx_drops_the_batch(collector, make_client):
    collector.fail_with(400)
    client = make_client()
    client.send_event("a", {"fs_user_id": "u"})
    client.flush(10)
    assert [r.status for r in collector.requests] == [400]
    stats = client.stats()
    assert (stats.accepted, stats.delivered, stats.dropped_rejected, stats.pending) == (1, 0, 1, 0)


def test_update_datafile_switches_destination(collector, make_client):
    client = make_client(datafile=make_datafile("key-1", collector.url), flush_interval_ms=60_000)
    client.send_event("before", {"fs_user_id": "u"})
    client.update_datafile(make_datafile("key-2", collector.url, revision="2"))
    client.send_event("after", {"fs_user_id": "u"})
    client.flush(5)
    sent = [(r.headers["x-api-key"], [e["action"] for e in r.json()]) for r in collector.requests]
    assert sent == [("key-1", ["before"]), ("key-2", ["after"])]


def test_flat_dicts_encode_exactly_as_the_json_module_does() -> None:
    from libodp import _client

    values = {
        "s": 'ü\n"\\\x01', "é": "x", "n": None, "t": True, "f": False, "i": -5,
        "x": 50.0, "y": 1e16, "z": 0.1, "big": 2**70,
    }
    fast = _client._flat_object(values)
    assert fast == json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    # Anything else goes to the full encoder.
    for other in ({"nan": float("nan")}, {1: "x"}, {"o": {"a": 1}}, [1], {"l": [1]}):
        assert _client._flat_object(other) is None
