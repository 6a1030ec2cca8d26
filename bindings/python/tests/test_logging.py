"""The bridge from odp_set_logger to the logging module (logger "libodp")."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

import pytest

import libodp
from libodp import _logging

from conftest import SRC

IDS = {"fs_user_id": "u"}


def libodp_records(caplog):
    return [r for r in caplog.records if r.name == "libodp"]


def wait_for_record(caplog, starts_with: str, timeout: float = 5.0) -> logging.LogRecord:
    """libodp logs from its own threads, possibly just after the call that caused the message
    returned: wait (bounded) for the first record whose message starts so."""
    deadline = time.monotonic() + timeout
    while True:
        for r in libodp_records(caplog):
            if r.getMessage().startswith(starts_with):
                return r
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no libodp record starting {starts_with!r}; got "
                f"{[r.getMessage() for r in libodp_records(caplog)]}"
            )
        time.sleep(0.01)


def test_messages_arrive_from_libodp_threads(collector, make_client, caplog):
    caplog.set_level(logging.DEBUG, logger="libodp")
    libodp.enable_logging(logging.DEBUG)
    assert libodp.logging_enabled()
    collector.fail_with(503)
    client = make_client(odp_api_key="secret-api-key-123", odp_api_host=collector.url)
    client.send_event("a", IDS)
    client.flush(10)

    retry = wait_for_record(caplog, "ODP event send failed")
    assert retry.levelno == logging.DEBUG
    assert "503" in retry.getMessage()
    # The dispatcher logged it, on a thread libodp started (not this one).
    assert retry.thread != threading.get_ident()
    delivered = wait_for_record(caplog, "delivered 1 event")
    assert delivered.levelno == logging.DEBUG
    assert not any("secret-api-key-123" in r.getMessage() for r in libodp_records(caplog))


def test_levels_are_mapped_and_filtered(collector, make_client, caplog):
    caplog.set_level(logging.DEBUG, logger="libodp")
    libodp.enable_logging(logging.WARNING)
    collector.hold()
    client = make_client(flush_interval_ms=60_000)
    client.send_event("a", IDS)
    with pytest.raises(libodp.OdpTimeoutError):
        client.close(0.1)
    assert wait_for_record(caplog, "closed with 1 event").levelno == logging.WARNING
    assert {r.levelno for r in libodp_records(caplog)} == {logging.WARNING}


def test_info_messages(collector, make_client, caplog):
    caplog.set_level(logging.DEBUG, logger="libodp")
    libodp.enable_logging(logging.INFO)
    client = make_client(
        sdk_key=collector.sdk_key, datafile_url_template=collector.datafile_url_template
    )
    client.wait_ready(5)
    with pytest.raises(libodp.InvalidActionError):
        client.send_event("", IDS)  # logged at DEBUG by libodp: filtered out at INFO
    loaded = wait_for_record(caplog, "datafile loaded")
    assert loaded.levelno == logging.INFO
    assert collector.url in loaded.getMessage()
    assert all(r.levelno >= logging.INFO for r in libodp_records(caplog))


def test_disable_logging_stops_the_bridge(make_client, caplog):
    caplog.set_level(logging.DEBUG, logger="libodp")
    libodp.enable_logging(logging.DEBUG)
    client = make_client()
    with pytest.raises(libodp.InvalidActionError):
        client.send_event("", IDS)
    wait_for_record(caplog, "event not accepted: ODP action is not valid")
    libodp.disable_logging()
    assert not libodp.logging_enabled()
    caplog.clear()
    with pytest.raises(libodp.InvalidActionError):
        client.send_event("", IDS)
    client.close(1)
    assert libodp_records(caplog) == []


@pytest.mark.parametrize(
    "python, odp",
    [(1, 0), (10, 0), (15, 1), (20, 1), (25, 2), (30, 2), (40, 3), (50, 3)],
)
def test_minimum_level(python, odp):
    assert _logging._min_level(python) == odp


def test_exit_while_libodp_threads_are_logging(collector):
    # A client that is never freed keeps retrying (and logging, on its own thread) as the
    # interpreter exits; the atexit hook hands logging back to libodp before Python finalizes.
    collector.fail_with(*([503] * 1000))
    script = f"""
import atexit, ctypes, logging, os, sys, threading, time

def after_libodp_hook():  # registered first, so it runs after libodp's own atexit hook
    print("after-hook enabled=" + str(libodp.logging_enabled()), flush=True)
    # Logged synchronously on this thread: it must no longer reach Python.
    _native.lib.odp_send_event(handle, None, b"", b'{{"fs_user_id":"u"}}', None)
    print("after-hook done", flush=True)

atexit.register(after_libodp_hook)
import libodp
from libodp import _native
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s %(message)s")
libodp.enable_logging(logging.DEBUG)
retrying = threading.Event()  # exit only once libodp's thread is logging its retries
class Watch(logging.Handler):
    def emit(self, record):
        if "ODP event send failed" in record.getMessage():
            retrying.set()
logging.getLogger().addHandler(Watch())  # after basicConfig's: the line is printed first
config = b'{{"odp_api_key":"k","odp_api_host":"{collector.url}","flush_interval_ms":0}}'
handle = ctypes.c_void_p()  # a raw handle: no finalizer will free it
assert _native.lib.odp_client_new(config, ctypes.byref(handle)) == 0
for i in range(20):
    assert _native.lib.odp_send_event(handle, None, b"a", b'{{"fs_user_id":"u"}}', None) == 0
_native.lib.odp_send_event(handle, None, b"", b'{{"fs_user_id":"u"}}', None)

assert retrying.wait(10)
print("exiting", flush=True)
"""
    env = dict(os.environ)
    env.pop("ODP_LOG", None)
    if os.environ.get("LIBODP_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "Fatal Python error" not in done.stderr
    # Another thread may log between the two writes of a print: split on the word alone.
    before, _, after = done.stdout.partition("exiting")
    assert "libodp ODP event send failed" in before  # the bridge was live, on libodp's thread
    assert "libodp event not accepted" in before
    assert "after-hook enabled=False\n" in after, done.stdout
    hook = after[after.index("after-hook enabled=False\n") :].splitlines()
    assert "after-hook done" in hook, done.stdout
    # The invalid event sent inside the hook was not logged through Python.
    between = hook[1 : hook.index("after-hook done")]
    assert not any("event not accepted" in line for line in between), done.stdout
