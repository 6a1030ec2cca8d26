#!/usr/bin/env python3
"""quickstart.py - the libodp flow from Python: create a client by SDK key, wait for the
datafile, send one ODP event, close (drain, bounded), and report what happened.

    python3 examples/python/quickstart.py [COLLECTOR_URL]   (default: http://127.0.0.1:8080)

The collector (`cargo run --release --example collector -- --port 0`) serves the datafile for
SDK key "AbC123", whose ODP integration points back at the collector, and receives the event.
Install the binding first (`pip install ./bindings/python`), or run this from a checkout after
`cargo build --release --lib`.
"""

import sys
from pathlib import Path

try:
    import libodp
except ImportError:
    # Not installed: use the binding of the checkout this example lives in.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python" / "src"))
    import libodp


def main() -> int:
    collector = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
    print(f"libodp {libodp.__version__} (ABI {libodp.ABI_VERSION}) from {libodp.library_path()}")

    client = libodp.Client(
        sdk_key="AbC123",
        datafile_url_template=collector + "/datafiles/{sdk_key}.json",
    )
    with client:
        try:
            client.wait_ready(5.0)
        except libodp.OdpError as e:
            print(f"wait_ready failed: {e.name}: {e}", file=sys.stderr)
            return 1

        client.send_event(
            "purchased",
            {"fs_user_id": "user123", "email": "user123@example.com"},
            {"item": "shirt", "price": 50.0},
            type="fullstack",
        )
        print("event accepted")

        # An invalid event, to show the error path: an empty action.
        try:
            client.send_event("", {"fs_user_id": "user123"})
        except libodp.InvalidActionError as e:
            print(f"invalid event refused: {e.name}: {e}")

        try:
            client.close(2.0)
        except libodp.OdpTimeoutError as e:
            print(f"close: {e}", file=sys.stderr)
        stats = client.stats()
        print(
            f"accepted={stats.accepted} delivered={stats.delivered} pending={stats.pending} "
            f"dropped={stats.dropped_rejected + stats.dropped_shutdown} "
            f"batches={stats.batches_sent}"
        )
    return 0 if stats.delivered == stats.accepted else 1


if __name__ == "__main__":
    sys.exit(main())
