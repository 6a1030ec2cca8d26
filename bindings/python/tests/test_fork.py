"""A client created before os.fork() works in the child (empty queue, zeroed counters, its own
threads) and keeps working in the parent. The child is bounded: it never hangs the suite."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
import traceback
import warnings
from typing import Any, Callable, Dict, Tuple

import pytest

import libodp

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CHILD_LIMIT_S = 20


def fork_child(work: Callable[[], Any]) -> Tuple[int, int]:
    """Runs ``work`` in a forked child; its result (or error) comes back through a pipe."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded fork" (3.12+)
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_fd)
            signal.alarm(CHILD_LIMIT_S)  # the default action ends a stuck child
            report = {"ok": True, "result": work()}
            code = 0
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            report = {
                "ok": False,
                "error": f"{type(e).__name__}: {e}",
                "tb": traceback.format_exc(),
            }
        try:
            os.write(write_fd, json.dumps(report).encode())
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def finish_child(pid: int, read_fd: int) -> Any:
    deadline = time.monotonic() + CHILD_LIMIT_S + 5
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            pytest.fail("the child hung")
        time.sleep(0.01)
    chunks = []
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    assert not os.WIFSIGNALED(status), f"the child died of signal {os.WTERMSIG(status)}"
    report: Dict[str, Any] = json.loads(b"".join(chunks) or b'{"ok":false,"error":"no report"}')
    assert report["ok"], report.get("tb") or report["error"]
    assert os.WEXITSTATUS(status) == 0
    return report["result"]


def child_sends(client: libodp.Client) -> Callable[[], Dict[str, int]]:
    def work() -> Dict[str, int]:
        client.send_event("child", {"fs_user_id": "c"}, {"pid": os.getpid()})
        client.flush(10)
        return dataclasses.asdict(client.stats())

    return work


def test_fork_with_events_queued(collector, make_client):
    client = make_client(flush_interval_ms=60_000)
    client.send_event("parent-queued", {"fs_user_id": "p"})  # still queued at the fork

    pid, fd = fork_child(child_sends(client))
    child_stats = finish_child(pid, fd)
    # The child started over: only its own event, counted from zero.
    assert (child_stats["accepted"], child_stats["delivered"], child_stats["pending"]) == (1, 1, 0)

    client.send_event("parent-after", {"fs_user_id": "p"})
    client.flush(10)
    events = collector.wait_for_events(3)
    assert sorted(e["action"] for e in events) == ["child", "parent-after", "parent-queued"]
    [child_event] = [e for e in events if e["action"] == "child"]
    assert child_event["data"]["pid"] == pid
    stats = client.stats()
    assert (stats.accepted, stats.delivered, stats.pending) == (2, 2, 0)


def test_fork_during_a_request_in_flight(collector, make_client):
    collector.hold()
    client = make_client(flush_interval_ms=0)
    client.send_event("parent-in-flight", {"fs_user_id": "p"})
    assert collector.wait_for_arrivals(1) == 1  # the parent's dispatcher waits on the server

    pid, fd = fork_child(child_sends(client))
    assert collector.wait_for_arrivals(2) == 2  # the child's own request came in
    collector.release()
    child_stats = finish_child(pid, fd)
    assert (child_stats["accepted"], child_stats["delivered"]) == (1, 1)

    client.flush(10)
    events = collector.wait_for_events(2)
    assert sorted(e["action"] for e in events) == ["child", "parent-in-flight"]
    assert client.stats().delivered == 1


def test_child_can_close_and_free_its_copy(collector, make_client):
    client = make_client(flush_interval_ms=60_000)
    client.send_event("parent", {"fs_user_id": "p"})

    def work() -> str:
        client.send_event("child", {"fs_user_id": "c"})
        client.free()  # closes (delivering "child") and releases the child's handle
        return repr(client)

    pid, fd = fork_child(work)
    assert finish_child(pid, fd) == "<libodp.Client freed>"
    # The parent's copy is untouched by the child's free.
    client.flush(10)
    assert sorted(e["action"] for e in collector.wait_for_events(2)) == ["child", "parent"]
    assert client.stats().accepted == 1
