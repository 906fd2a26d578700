from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # waiting.py

from fake_sidecar import FakeSidecar  # noqa: E402

from whippet_client import Consumer  # noqa: E402


@pytest.fixture
def fake() -> Iterator[FakeSidecar]:
    sidecar = FakeSidecar()
    try:
        yield sidecar
    finally:
        sidecar.stop()


@pytest.fixture
def make_consumer() -> Iterator[Callable[..., Consumer]]:
    """Consumers with short, bounded timeouts; all closed at the end of the test."""
    made: list[Consumer] = []

    def make(target: str, **options) -> Consumer:
        options.setdefault("topics", ["orders"])
        options.setdefault("group", "billing")
        options.setdefault("reconnect_timeout_s", 10.0)
        options.setdefault("subscribe_timeout_s", 5.0)
        options.setdefault("close_timeout_s", 3.0)
        topics = options.pop("topics")
        group = options.pop("group")
        consumer = Consumer(target, topics, group, **options)
        made.append(consumer)
        return consumer

    yield make
    for consumer in made:
        consumer.close()
