"""Many Python threads on one client: exact counts, and freeing while others send."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Dict, List

import libodp

THREADS = 8
PER_THREAD = 250


def test_eight_threads_send_concurrently(collector, make_client):
    client = make_client(batch_size=100, flush_interval_ms=50)
    start = threading.Barrier(THREADS)
    errors: List[BaseException] = []

    def send(t: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                client.send_event(f"thread-{t}", {"fs_user_id": f"user-{t}"}, {"i": i})
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=send, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    client.flush(10)

    total = THREADS * PER_THREAD
    events = collector.wait_for_events(total)
    assert len(events) == total
    assert len({e["data"]["idempotence_id"] for e in events}) == total
    per_thread: Dict[str, List[int]] = {}
    for e in events:
        per_thread.setdefault(e["action"], []).append(e["data"]["i"])
    assert sorted(per_thread) == sorted(f"thread-{t}" for t in range(THREADS))
    for numbers in per_thread.values():
        assert sorted(numbers) == list(range(PER_THREAD))
    stats = client.stats()
    assert (stats.accepted, stats.delivered, stats.pending) == (total, total, 0)
    assert all(len(r.json()) <= 100 for r in collector.requests)


def test_free_while_threads_send(collector):
    client = libodp.Client(
        odp_api_key="k",
        odp_api_host=collector.url,
        flush_interval_ms=60_000,
        shutdown_timeout_ms=30_000,  # the close inside free must deliver everything
    )
    accepted = Counter()
    outcomes: Dict[int, BaseException] = {}
    running = threading.Barrier(5)

    def send(t: int) -> None:
        running.wait()
        try:
            while True:
                client.send_event("a", {"fs_user_id": f"u{t}"})
                accepted[t] += 1
        except BaseException as e:  # noqa: BLE001 - checked below
            outcomes[t] = e

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    running.wait()
    deadline = time.monotonic() + 10
    while sum(accepted.values()) < 200 and not outcomes and time.monotonic() < deadline:
        time.sleep(0.001)
    assert not outcomes, outcomes  # nobody failed before the free
    client.free()  # closes (draining what was accepted), then releases the handle
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    # Every sender stopped with ClosedError, whether it raced the close or the release.
    assert {type(e) for e in outcomes.values()} == {libodp.ClosedError}
    assert len(outcomes) == 4
    # Everything accepted was delivered by the close inside free.
    assert len(collector.events()) == sum(accepted.values())


def test_concurrent_close_and_free(make_client):
    client = make_client()
    client.send_event("a", {"fs_user_id": "u"})
    start = threading.Barrier(6)
    errors: List[BaseException] = []

    def finish(free: bool) -> None:
        start.wait()
        try:
            client.free() if free else client.close(5)
        except BaseException as e:  # noqa: BLE001 - checked below
            errors.append(e)

    threads = [threading.Thread(target=finish, args=(i % 2 == 0,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert client.closed
    assert repr(client) == "<libodp.Client freed>"
