"""The Client's lifecycle: sources, readiness, stats, close/free, context manager, finalizer."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import libodp
from libodp import _native

from conftest import REPO, SRC
from odp_collector import make_datafile

IDS = {"fs_user_id": "u"}


def test_version_matches_header_and_package():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", libodp.__version__)
    assert libodp.__version__ == _native.library_version()
    assert libodp.ABI_VERSION == _native.lib.odp_abi_version() == 1
    header = REPO / "include" / "odp.h"
    if header.is_file():
        defined = re.search(r'#define ODP_VERSION "([^"]+)"', header.read_text()).group(1)
        assert defined == libodp.__version__, "odp.h and the loaded library disagree"
    pyproject = REPO / "bindings" / "python" / "pyproject.toml"
    if pyproject.is_file():
        declared = re.search(r'^version = "([^"]+)"', pyproject.read_text(), re.M).group(1)
        assert declared == libodp.__version__, "pyproject.toml's version lags the library's"


@pytest.mark.parametrize("as_text", [False, True])
def test_from_datafile(collector, as_text):
    datafile = make_datafile("df-key", collector.url)
    with libodp.Client.from_datafile(
        json.dumps(datafile) if as_text else datafile, flush_interval_ms=60_000
    ) as client:
        client.wait_ready(0)  # a static datafile is ready at once
        client.send_event("a", IDS)
        client.flush(5)
    [request] = collector.requests
    assert request.headers["x-api-key"] == "df-key"
    assert request.json()[0]["action"] == "a"


def test_sdk_key_and_wait_ready(collector, make_client):
    client = make_client(
        sdk_key=collector.sdk_key, datafile_url_template=collector.datafile_url_template
    )
    client.wait_ready(5)
    client.send_event("after-ready", IDS)
    client.flush(5)
    assert [r.path for r in collector.datafile_requests][:1] == ["/datafiles/AbC123.json"]
    [request] = collector.requests
    assert request.headers["x-api-key"] == collector.public_key
    assert request.json()[0]["action"] == "after-ready"


def test_sdk_key_before_the_datafile_arrives(collector, make_client):
    collector.hold_datafile()
    client = make_client(
        sdk_key=collector.sdk_key, datafile_url_template=collector.datafile_url_template
    )
    with pytest.raises(libodp.SdkNotReadyError):
        client.send_event("too-early", IDS)
    collector.release_datafile()
    client.wait_ready(5)
    client.send_event("in-time", IDS)
    client.flush(5)
    assert [e["action"] for e in collector.events()] == ["in-time"]


def test_stats_accounting(collector, make_client):
    collector.fail_with(400)  # the first batch is refused for good
    client = make_client(batch_size=2, flush_interval_ms=60_000)
    for i in range(5):
        client.send_event("a", IDS, {"i": i})
    for bad in ("", None):
        with pytest.raises(libodp.InvalidActionError):
            client.send_event(bad, IDS)
    client.flush(5)
    stats = client.stats()
    assert stats == libodp.Stats(
        accepted=5,
        delivered=3,
        pending=0,
        dropped_rejected=2,
        dropped_shutdown=0,
        batches_sent=2,
        failed_attempts=1,
        rejected_queue_full=0,
        rejected_invalid=2,
    )
    assert stats.accepted == (
        stats.delivered + stats.dropped_rejected + stats.dropped_shutdown + stats.pending
    )
    assert len(collector.events()) == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.accepted = 0  # type: ignore[misc]


def test_context_manager_closes_and_frees(collector):
    with libodp.Client(
        odp_api_key="k", odp_api_host=collector.url, flush_interval_ms=60_000
    ) as client:
        assert not client.closed
        client.send_event("a", IDS)
    assert client.closed
    assert repr(client) == "<libodp.Client freed>"
    assert [e["action"] for e in collector.events()] == ["a"]  # close drained the queue
    with pytest.raises(libodp.ClosedError, match="freed"):
        client.send_event("b", IDS)
    with pytest.raises(libodp.ClosedError):
        client.stats()


def test_context_manager_does_not_mask_the_block_error(collector):
    collector.hold()
    with pytest.raises(ValueError, match="from the block"):
        with libodp.Client(
            odp_api_key="k", odp_api_host=collector.url, shutdown_timeout_ms=100
        ) as client:
            client.send_event("a", IDS)
            raise ValueError("from the block")
    assert repr(client) == "<libodp.Client freed>"


def test_context_manager_reports_a_close_timeout(collector):
    collector.hold()
    with pytest.raises(libodp.OdpTimeoutError):
        with libodp.Client(
            odp_api_key="k", odp_api_host=collector.url, shutdown_timeout_ms=100
        ) as client:
            client.send_event("a", IDS)
    assert repr(client) == "<libodp.Client freed>"


def test_close_without_timeout_uses_shutdown_timeout(collector, make_client):
    # The collector holds requests for up to 10 s; close() must give up after 150 ms.
    collector.hold()
    client = make_client(shutdown_timeout_ms=150, flush_interval_ms=60_000)
    client.send_event("a", IDS)
    with pytest.raises(libodp.OdpTimeoutError, match="within 150 ms"):
        client.close()
    assert client.stats().dropped_shutdown == 1


def test_close_and_free_are_idempotent(make_client):
    client = make_client()
    assert repr(client) == "<libodp.Client open>"
    client.close(1)
    client.close(1)
    assert repr(client) == "<libodp.Client closed>"
    client.free()
    client.free()
    client.close()
    assert client.closed
    for call in (
        lambda: client.send_event("a", IDS),
        lambda: client.send_odp_event("a", IDS),
        lambda: client.flush(1),
        lambda: client.wait_ready(1),
        lambda: client.update_datafile({}),
        client.stats,
    ):
        with pytest.raises(libodp.ClosedError, match="the client was freed") as e:
            call()
        assert (e.value.code, e.value.name) == (14, "ODP_ERR_CLOSED")


def test_free_on_an_open_client_delivers_first(collector, make_client):
    client = make_client(flush_interval_ms=60_000)
    client.send_event("a", IDS)
    client.free()
    assert [e["action"] for e in collector.events()] == ["a"]


def test_finalizer_frees_a_forgotten_client(collector):
    client = libodp.Client(odp_api_key="k", odp_api_host=collector.url, flush_interval_ms=60_000)
    client.send_event("forgotten", IDS)
    del client
    gc.collect()
    # Only the close inside odp_client_free could have sent it (the flush interval is a minute).
    assert [e["action"] for e in collector.events()] == ["forgotten"]


def test_a_client_alive_at_exit_is_freed(collector):
    script = f"""
import libodp
client = libodp.Client(odp_api_key="k", odp_api_host={collector.url!r}, flush_interval_ms=60000)
client.send_event("at-exit", {{"fs_user_id": "u"}})
"""
    env = dict(os.environ)
    if os.environ.get("LIBODP_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert [e["action"] for e in collector.events()] == ["at-exit"]


def test_timeouts_are_seconds_rounded_up_and_clamped():
    assert _native.to_millis(1.5) == 1500
    assert _native.to_millis(2) == 2000
    assert _native.to_millis(0.0001) == 1
    assert _native.to_millis(0) == 0
    assert _native.to_millis(-3) == 0
    # The largest explicit timeout is one below odp.h's ODP_CONFIGURED_SHUTDOWN_TIMEOUT.
    assert _native.to_millis(4_294_967.294) == 4_294_967_294
    assert _native.to_millis(4_294_967.295) == 4_294_967_294
    assert _native.to_millis(1e12) == 4_294_967_294
    assert _native.to_millis(float("inf")) == 4_294_967_294
    assert _native.CONFIGURED_SHUTDOWN_TIMEOUT == 4_294_967_295
    with pytest.raises(ValueError):
        _native.to_millis(float("nan"))
    with pytest.raises(TypeError):
        _native.to_millis("1")  # type: ignore[arg-type]


def test_py_typed_is_shipped():
    assert (Path(libodp.__file__).parent / "py.typed").is_file()
