"""One run of the Python row of `make bench`: the official Optimizely Python SDK's
``send_odp_event`` or libodp's Python binding, against a local collector.

    python bench_python.py --client sdk|libodp --collector URL [--events N] [--window W]
                           [--calls M] [--burst B]

Both clients get the same static datafile, whose ``integrations`` entry
``{"key": "odp", "publicKey": "bench-key", "host": URL}`` points ODP at the collector, and keep
their default delivery settings (batches of 10, 1 s flush interval). One run prints one JSON
object on stdout:

- per call: M calls in bursts of B, each call timed on its own (``perf_counter_ns``); between
  bursts (untimed) the run waits until the collector has counted every event sent, so the queue
  never fills and every timed call is an accepted event;
- delivered events/s: N events sent as fast as the client accepts them while at most W are
  outstanding (sent but not yet counted by the collector, read from ``GET /_received`` only when
  the window is full), timed from the first send until the collector has counted all N.

The SDK's queue holds 1000 events and drops the rest silently (a log line, no error), so W and B
stay well below 1000; the run fails if the collector does not count every event sent.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import sys
import time
import urllib.parse
from typing import Any, Callable

IDENTIFIERS = {"fs_user_id": "user123", "email": "user123@example.com"}
DATA = {"item": "shirt", "price": 50.0}


class Collector:
    """``GET /_received`` over one keep-alive connection."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def count(self) -> int:
        self.conn.request("GET", "/_received")
        resp = self.conn.getresponse()
        return int(json.loads(resp.read())["event_count"])

    def wait_for(self, target: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while (n := self.count()) < target:
            if time.monotonic() > deadline:
                sys.exit(f"bench_python: the collector counted {n} of {target} events: events were lost")
            time.sleep(0.0002)


def datafile(host: str) -> dict[str, Any]:
    return {
        "version": "4", "revision": "1", "projectId": "1", "accountId": "1",
        "groups": [], "experiments": [], "audiences": [], "attributes": [], "events": [],
        "featureFlags": [], "rollouts": [],
        "integrations": [{"key": "odp", "publicKey": "bench-key", "host": host}],
    }


def make_client(which: str, url: str) -> tuple[Callable[[], None], Callable[[], None], str]:
    """(send one seed event, close, version)"""
    df = datafile(url)
    if which == "sdk":
        from optimizely import optimizely, version

        client = optimizely.Optimizely(datafile=json.dumps(df))
        manager = client.odp_manager
        if not (client.is_valid and manager.enabled and manager.event_manager
                and manager.event_manager.is_running):
            sys.exit("bench_python: the Optimizely SDK did not start ODP")

        def send() -> None:
            client.send_odp_event("purchased", IDENTIFIERS, "fullstack", DATA)

        return send, client.close, version.__version__
    import libodp

    lclient = libodp.Client(datafile=df)

    def lsend() -> None:
        lclient.send_event("purchased", IDENTIFIERS, DATA, "fullstack")

    def close() -> None:
        lclient.close(10.0)
        lclient.free()

    return lsend, close, libodp.__version__


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--client", choices=["sdk", "libodp"], required=True)
    p.add_argument("--collector", required=True)
    p.add_argument("--events", type=int, default=10000)
    p.add_argument("--window", type=int, default=500)
    p.add_argument("--calls", type=int, default=5000)
    p.add_argument("--burst", type=int, default=500)
    p.add_argument("--warmup", type=int, default=200)
    a = p.parse_args()

    col = Collector(a.collector)
    send, close, version = make_client(a.client, a.collector)
    base = col.count()
    sent = 0

    for _ in range(a.warmup):
        send()
    sent += a.warmup
    col.wait_for(base + sent)

    # Per call.
    clock = time.perf_counter_ns
    samples: list[int] = []
    while len(samples) < a.calls:
        n = min(a.burst, a.calls - len(samples))
        for _ in range(n):
            t0 = clock()
            send()
            samples.append(clock() - t0)
        sent += n
        col.wait_for(base + sent)
    samples.sort()

    # Delivered events/s.
    gc.collect()
    start = base + sent
    counted = polls = 0
    i = 0
    t0 = time.perf_counter()
    while i < a.events:
        if i - counted >= a.window:
            counted = col.count() - start
            polls += 1
            if i - counted >= a.window:
                time.sleep(0.0001)
                continue
        send()
        i += 1
    while counted < a.events:
        counted = col.count() - start
        polls += 1
        if counted < a.events:
            if time.perf_counter() - t0 > 120:
                sys.exit("bench_python: events were lost: the collector never counted them all")
            time.sleep(0.0001)
    elapsed = time.perf_counter() - t0
    sent += a.events
    close()
    extra = col.count() - base - sent
    if extra:
        sys.exit(f"bench_python: the collector counted {extra} events more than were sent")

    n = len(samples)
    print(json.dumps({
        "client": a.client,
        "version": version,
        "calls": n,
        "p50_us": samples[n // 2] / 1e3,
        "p99_us": samples[n * 99 // 100] / 1e3,
        "max_us": samples[-1] / 1e3,
        "mean_us": sum(samples) / n / 1e3,
        "events": a.events,
        "window": a.window,
        "seconds": elapsed,
        "events_per_s": a.events / elapsed,
        "collector_polls": polls,
    }))


if __name__ == "__main__":
    main()
