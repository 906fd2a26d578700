"""Admin and health against the fake sidecar."""

from __future__ import annotations

import socket
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2

from whippet_client import (
    Admin,
    AdminError,
    ErrorCode,
    GroupLag,
    PartitionLag,
    TopicSpec,
    check_health,
    wait_until_ready,
)
from whippet_client.pb import sidecar_pb2


def test_create_topics_sends_specs_and_reports_each_topic(fake):
    fake.admin.topics["existing"] = 1
    with Admin(fake.target, timeout_s=5) as admin:
        results = admin.create_topics(
            [TopicSpec("orders", 8, 3, {"retention.ms": "60000"}), "plain"], raise_on_error=False
        )
        assert [(r.name, r.ok) for r in results] == [("orders", True), ("plain", True)]
        with pytest.raises(AdminError) as raised:
            admin.create_topics([TopicSpec("existing"), TopicSpec("fresh")])
        assert raised.value.code == ErrorCode.INVALID_ARGUMENT
        assert "existing" in raised.value.message
        assert [(r.name, r.ok) for r in raised.value.results] == [("existing", False), ("fresh", True)]
        assert admin.create_topics(["existing"], if_not_exists=True)[0].ok

    first = fake.admin.create_requests[0]
    assert [(t.name, t.partitions, t.replication_factor, dict(t.configs)) for t in first.topics] == [
        ("orders", 8, 3, {"retention.ms": "60000"}),
        ("plain", 1, 1, {}),
    ]
    assert not first.if_not_exists and fake.admin.create_requests[2].if_not_exists


def test_describe_topics_and_not_found(fake):
    fake.admin.topics["orders"] = 2
    with Admin(fake.target, timeout_s=5) as admin:
        (description,) = admin.describe_topics(["orders"])
        assert description.name == "orders"
        assert [(p.partition, p.leader, p.replicas, p.in_sync_replicas) for p in description.partitions] == [
            (0, 1, (1, 2), (1,)),
            (1, 1, (1, 2), (1,)),
        ]
        assert [(p.low_watermark, p.high_watermark) for p in description.partitions] == [(0, 10), (1, 11)]
        assert description.record_count == 20
        with pytest.raises(AdminError) as raised:
            admin.describe_topics(["orders", "nope"])
    assert raised.value.status == grpc.StatusCode.NOT_FOUND
    assert raised.value.code == ErrorCode.UNKNOWN_TOPIC
    assert raised.value.message == "describe: topic nope does not exist"


def test_group_lag_keeps_never_committed_apart(fake):
    fake.admin.lag = sidecar_pb2.GroupLagResponse(
        partitions=[
            sidecar_pb2.PartitionLag(
                topic="orders", partition=0, committed_offset=5, high_watermark=9, lag=4
            ),
            sidecar_pb2.PartitionLag(topic="orders", partition=1, high_watermark=3, lag=3),
        ],
        total_lag=7,
    )
    with Admin(fake.target, timeout_s=5) as admin:
        lag = admin.group_lag("billing", ["orders"])
    assert lag == GroupLag(
        (PartitionLag("orders", 0, 5, 9, 4), PartitionLag("orders", 1, None, 3, 3)),
        7,
    )
    assert fake.admin.lag_requests[0].group == "billing"
    assert list(fake.admin.lag_requests[0].topics) == ["orders"]


def test_admin_snapshot(fake):
    with Admin(fake.target, timeout_s=5) as admin:
        assert admin.snapshot()["subscriptions"][0]["subscription_id"] == "fake-1"


def test_wait_until_ready_and_check_health(fake):
    started = time.monotonic()
    wait_until_ready(fake.target, timeout_s=5)
    assert time.monotonic() - started < 2.0
    assert check_health(fake.target, timeout_s=5) == "SERVING"


def test_health_without_grpcio_health_checking(fake, monkeypatch):
    monkeypatch.setitem(sys.modules, "grpc_health.v1", None)  # the import now fails
    assert check_health(fake.target, timeout_s=5) == "SERVING"
    fake.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert check_health(fake.target, timeout_s=5) == "NOT_SERVING"
    fake.health.set("whippet.v1.ConsumerService", health_pb2.HealthCheckResponse.SERVING)
    assert check_health(fake.target, "whippet.v1.ConsumerService", timeout_s=5) == "SERVING"


def test_wait_until_ready_times_out_on_not_serving(fake):
    fake.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="NOT_SERVING"):
        wait_until_ready(fake.target, timeout_s=0.5)
    assert time.monotonic() - started < 3.0


def test_wait_until_ready_times_out_without_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        wait_until_ready(f"127.0.0.1:{port}", timeout_s=0.5)
    assert time.monotonic() - started < 3.0
