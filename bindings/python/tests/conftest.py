"""Fixtures: a collector on 127.0.0.1 per test, and clients pointed at it.

The tests import the package from ``bindings/python/src`` unless ``LIBODP_TEST_INSTALLED=1``,
which tests the installed copy instead (``make test`` does both). The library comes from
``ODP_LIBRARY_PATH`` or the package's own search.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
REPO = HERE.parents[2]

if os.environ.get("LIBODP_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(SRC))

import libodp  # noqa: E402

from odp_collector import Collector  # noqa: E402

if (
    os.environ.get("LIBODP_TEST_INSTALLED") == "1"
    and SRC in Path(libodp.__file__).resolve().parents
):
    raise RuntimeError(f"LIBODP_TEST_INSTALLED=1 but libodp was imported from {libodp.__file__}")


def pytest_report_header() -> List[str]:
    return [
        f"libodp {libodp.__version__}: package {Path(libodp.__file__).parent}, "
        f"library {libodp.library_path()}"
    ]


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.close()


ClientFactory = Callable[..., libodp.Client]


@pytest.fixture
def make_client(collector: Collector) -> Iterator[ClientFactory]:
    """Creates clients sending to ``collector`` directly (``odp_api_key`` + ``odp_api_host``)
    unless the options name another source; frees them all at the end."""
    clients: List[libodp.Client] = []

    def make(**options: Any) -> libodp.Client:
        if not {"sdk_key", "datafile", "odp_api_key", "odp_api_host"} & options.keys():
            options.update(odp_api_key=collector.public_key, odp_api_host=collector.url)
        client = libodp.Client(**options)
        clients.append(client)
        return client

    yield make
    collector.release()
    collector.release_datafile()
    for client in clients:
        try:
            client.close(1.0)
        except libodp.OdpError:
            pass
        client.free()


@pytest.fixture(autouse=True)
def _logging_off() -> Iterator[None]:
    yield
    libodp.disable_logging()
