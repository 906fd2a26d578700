"""Integration tests: the client against a real `whippet sidecar` on a real broker.

They need two environment variables (scripts/test sets both):

* ``WHIPPET_CLI`` -- the ``whippet`` binary (``build/<config>/apps/whippet/whippet``);
* ``WHIPPET_TEST_BROKERS`` -- the broker list of a running Kafka.

Without them every test here is skipped. The tests start nothing but
sidecars (``whippet --brokers ... sidecar --listen 127.0.0.1:PORT``, see
sidecar_process.py); topics and groups are unique per test.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # waiting.py

from sidecar_process import BROKERS, CLI, Sidecar  # noqa: E402

from whippet_client import Admin, Producer  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CLI and BROKERS:
        return
    missing = " and ".join(
        name for name, value in (("WHIPPET_CLI", CLI), ("WHIPPET_TEST_BROKERS", BROKERS)) if not value
    )
    if os.environ.get("WHIPPET_REQUIRE_BROKER") == "1":
        # CI: a skipped suite must not pass for a green one.
        raise pytest.UsageError(f"WHIPPET_REQUIRE_BROKER=1 but {missing} not set")
    skip = pytest.mark.skip(
        reason=f"integration tests need a real sidecar and broker: {missing} not set "
        "(WHIPPET_CLI: the whippet binary; WHIPPET_TEST_BROKERS: the broker list; scripts/test sets both)"
    )
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


def _running(process: Sidecar) -> Iterator[Sidecar]:
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sidecar]:
    """One sidecar shared by the tests that do not kill it."""
    yield from _running(Sidecar(tmp_path_factory.mktemp("sidecar"), "shared"))


@pytest.fixture
def own_sidecar(tmp_path: Path) -> Iterator[Sidecar]:
    """A sidecar of the test's own, which it may kill and restart."""
    yield from _running(Sidecar(tmp_path, "own"))


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Names unique to this test run: unique("orders") -> "py-orders-1a2b3c4d"."""
    token = uuid.uuid4().hex[:8]
    return lambda base: f"py-{base}-{token}"


@pytest.fixture
def admin(sidecar: Sidecar) -> Iterator[Admin]:
    with Admin(sidecar.target, timeout_s=60) as client:
        yield client


@pytest.fixture
def producer(sidecar: Sidecar) -> Iterator[Producer]:
    with Producer(sidecar.target, timeout_s=60) as client:
        yield client
