"""examples/python/quickstart.py against the test collector."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import libodp

from conftest import REPO, SRC

QUICKSTART = REPO / "examples" / "python" / "quickstart.py"


@pytest.mark.skipif(not QUICKSTART.is_file(), reason="examples/python/quickstart.py not found")
def test_quickstart(collector):
    env = dict(os.environ)
    if os.environ.get("LIBODP_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, str(QUICKSTART), collector.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"libodp {libodp.__version__} (ABI 1) from ")
    assert "event accepted" in lines
    assert (
        "invalid event refused: ODP_ERR_INVALID_ACTION: ODP action is not valid (cannot be empty)"
        in lines
    )
    assert lines[-1] == "accepted=1 delivered=1 pending=0 dropped=0 batches=1"

    assert [r.path for r in collector.datafile_requests] == ["/datafiles/AbC123.json"]
    [event] = collector.events()
    assert (event["type"], event["action"]) == ("fullstack", "purchased")
    assert event["identifiers"] == {"fs_user_id": "user123", "email": "user123@example.com"}
    assert (event["data"]["item"], event["data"]["price"]) == ("shirt", 50.0)
