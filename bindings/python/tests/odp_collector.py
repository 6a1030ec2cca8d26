"""A small ODP-compatible collector for the tests: ``http.server`` on 127.0.0.1, threaded.

``POST /v3/events`` is recorded (method, path, headers, body) and answered 202
``{"title":"Accepted","status":202}``, or with the statuses queued by :meth:`Collector.fail_with`;
:meth:`Collector.hold` makes events requests wait until :meth:`Collector.release`.
``GET /datafiles/{sdk_key}.json`` serves a datafile whose ODP integration points back here.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Deque, Dict, List, Optional

#: The longest a held request waits, so that a forgotten release never hangs a test run.
HOLD_LIMIT_S = 10.0


def make_datafile(
    public_key: Optional[str], host: Optional[str], revision: str = "1"
) -> Dict[str, Any]:
    """A version-4 datafile; its ODP integration is left out when ``public_key`` is None."""
    integrations = (
        [] if public_key is None else [{"key": "odp", "publicKey": public_key, "host": host}]
    )
    return {
        "version": "4",
        "revision": revision,
        "projectId": "1",
        "accountId": "1",
        "experiments": [],
        "audiences": [],
        "attributes": [],
        "events": [],
        "integrations": integrations,
    }


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Dict[str, str]  # names lowercased
    body: bytes
    status: int  # what the collector answered

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    collector: "Collector"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (about 40 ms a request).
    disable_nagle_algorithm = True
    timeout = 15  # an idle keep-alive connection is dropped after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _reply(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.server.collector._events(self)

    def do_GET(self) -> None:
        self.server.collector._datafile(self)


class Collector:
    """A running collector; :meth:`close` stops it."""

    def __init__(self, sdk_key: str = "AbC123", public_key: str = "test-public-key") -> None:
        self.sdk_key = sdk_key
        self.public_key = public_key
        self._lock = threading.Condition()
        self._requests: List[Request] = []
        self._datafile_requests: List[Request] = []
        self._failures: Deque[int] = deque()
        self._arrivals = 0  # events requests read, including held ones
        self._gate = threading.Event()
        self._gate.set()
        self._datafile_gate = threading.Event()
        self._datafile_gate.set()
        self._datafile_status = 200
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.collector = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._datafile_body: Dict[str, Any] = make_datafile(public_key, self.url)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    @property
    def datafile_url_template(self) -> str:
        return self.url + "/datafiles/{sdk_key}.json"

    # -- behaviour -----------------------------------------------------------------------------

    def fail_with(self, *statuses: int) -> None:
        """Answer the next events requests with these statuses, one each, in order."""
        with self._lock:
            self._failures.extend(statuses)

    def hold(self) -> None:
        """Make events requests wait (at most HOLD_LIMIT_S) until :meth:`release`."""
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def hold_datafile(self) -> None:
        self._datafile_gate.clear()

    def release_datafile(self) -> None:
        self._datafile_gate.set()

    def set_datafile(self, datafile: Dict[str, Any], status: int = 200) -> None:
        with self._lock:
            self._datafile_body = datafile
            self._datafile_status = status

    def close(self) -> None:
        self.release()
        self.release_datafile()
        self._server.shutdown()
        self._server.server_close()

    # -- what arrived ----------------------------------------------------------------------------

    @property
    def requests(self) -> List[Request]:
        """Every events request, in arrival order, whatever the answer."""
        with self._lock:
            return list(self._requests)

    @property
    def datafile_requests(self) -> List[Request]:
        with self._lock:
            return list(self._datafile_requests)

    def events(self) -> List[Dict[str, Any]]:
        """The events of the requests answered 202, in arrival order."""
        return [e for r in self.requests if r.status == 202 for e in r.json()]

    def wait_for_events(self, count: int, timeout: float = 10.0) -> List[Dict[str, Any]]:
        """Waits until at least ``count`` events arrived (or ``timeout``); returns them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                events = [e for r in self._requests if r.status == 202 for e in r.json()]
                left = deadline - time.monotonic()
                if len(events) >= count or left <= 0:
                    return events
                self._lock.wait(left)

    def wait_for_arrivals(self, count: int, timeout: float = 10.0) -> int:
        """Waits until ``count`` events requests arrived, held or not; returns how many did."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._arrivals < count and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            return self._arrivals

    # -- handlers (on the server's threads) ---------------------------------------------------

    def _events(self, h: _Handler) -> None:
        body = h._body()
        if h.path.split("?")[0] != "/v3/events":
            h._reply(404, {"title": "Not Found", "status": 404})
            return
        with self._lock:
            self._arrivals += 1
            self._lock.notify_all()
        self._gate.wait(HOLD_LIMIT_S)
        with self._lock:
            status = self._failures.popleft() if self._failures else 202
            request = Request(
                h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body, status
            )
            self._requests.append(request)
            self._lock.notify_all()
        if status == 202:
            h._reply(202, {"title": "Accepted", "status": 202})
        else:
            h._reply(status, {"title": "Injected failure", "status": status})

    def _datafile(self, h: _Handler) -> None:
        self._datafile_gate.wait(HOLD_LIMIT_S)
        with self._lock:
            self._datafile_requests.append(
                Request(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, b"", 0)
            )
            body, status = self._datafile_body, self._datafile_status
        if h.path != f"/datafiles/{self.sdk_key}.json":
            h._reply(403, {"message": "Forbidden"})
        elif status != 200:
            h._reply(status, {"message": "injected"})
        else:
            h._reply(200, body)
