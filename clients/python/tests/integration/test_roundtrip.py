"""Produce and consume through a real sidecar: bytes and headers exactly; health."""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sidecar_process import create_topic

from whippet_client import Consumer, ProducerRecord, RecordPosition, check_health

pytestmark = pytest.mark.integration


def collect(consumer: Consumer, count: int, timeout_s: float) -> list:
    records = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count:
        assert time.monotonic() < deadline, f"got {len(records)} of {count} records in {timeout_s} s"
        record = consumer.poll(timeout_s=1.0)
        if record is not None:
            records.append(record)
    return records


@pytest.mark.timeout(240)
def test_round_trip_keeps_keys_values_and_headers_exactly(sidecar, admin, producer, unique):
    topic = create_topic(admin, unique("roundtrip"))
    records = [
        ProducerRecord(
            topic, b"\x00first\x00", key=b"k1", headers=[("h", b"1"), ("h", b"2"), ("null", None)]
        ),
        ProducerRecord(topic, b"\x00\x00", key=b"\x00k2", headers=[("h", None), ("h", b""), ("h", b"\x00")]),
        ProducerRecord(topic, b"third\x00", key=b"k3", headers=[]),
    ]
    results = producer.send_many(records, timeout_s=60)
    assert all(isinstance(r, RecordPosition) for r in results), results
    assert [(r.topic, r.partition) for r in results] == [(topic, 0)] * 3
    assert [r.offset for r in results] == [0, 1, 2]

    with Consumer(
        sidecar.target, [topic], unique("roundtrip-group"), initial_offset="earliest", close_timeout_s=30
    ) as consumer:
        assert consumer.subscribe(timeout_s=120) == (topic,)
        got = collect(consumer, 3, timeout_s=120)
        for record in got:
            assert record.ack() is True
        assert consumer.poll(timeout_s=1.0) is None  # exactly three

    assert [(r.key, r.value, r.headers) for r in got] == [(p.key, p.value, list(p.headers)) for p in records]
    assert [(r.topic, r.partition, r.offset, r.timestamp_ms) for r in got] == [
        (p.topic, p.partition, p.offset, p.timestamp_ms) for p in results
    ]


@pytest.mark.timeout(120)
def test_tombstones_and_absent_keys_survive(sidecar, admin, producer, unique):
    topic = create_topic(admin, unique("tombstone"))
    first = producer.send(topic, None, key=b"gone", timeout_s=60)  # a tombstone
    second = producer.send(topic, b"", timeout_s=60)  # empty value, no key
    assert (first.offset, second.offset) == (0, 1)
    with Consumer(sidecar.target, [topic], unique("tombstone-group"), initial_offset="earliest") as consumer:
        tombstone, empty = collect(consumer, 2, timeout_s=120)
        tombstone.ack()
        empty.ack()
    assert (tombstone.key, tombstone.value) == (b"gone", None)
    assert (empty.key, empty.value) == (None, b"")


@pytest.mark.timeout(60)
def test_health_reports_serving(sidecar):
    assert check_health(sidecar.target, timeout_s=10) == "SERVING"
    with grpc.insecure_channel(sidecar.target) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10
        )
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    assert sidecar.metrics_url.startswith("http://127.0.0.1:")
