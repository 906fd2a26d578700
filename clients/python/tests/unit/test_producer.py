"""Producer against the fake sidecar: exact records, results in order, error mapping."""

from __future__ import annotations

import socket

import grpc
import pytest

from whippet_client import ErrorCode, ProduceError, Producer, ProducerRecord, RecordPosition
from whippet_client.pb import records_pb2


def headers_of(request) -> list:
    return [(h.key.decode(), h.value if h.HasField("value") else None) for h in request.headers]


def test_send_carries_the_record_exactly(fake):
    with Producer(fake.target, timeout_s=5) as producer:
        position = producer.send(
            "orders",
            value=b"\x00bytes\x00",
            key=b"\x00k",
            headers=[("h", b"v"), ("h", None), ("h", b""), ("z", bytearray(b"\x00"))],
            partition=3,
            timestamp_ms=17,
        )
    assert position == RecordPosition("orders", 3, 0, 17)
    (request,) = fake.producer.requests
    assert request.topic == "orders"
    assert request.value == b"\x00bytes\x00"
    assert request.key == b"\x00k"
    assert headers_of(request) == [("h", b"v"), ("h", None), ("h", b""), ("z", b"\x00")]
    assert request.partition == 3 and request.timestamp_ms == 17


def test_absent_fields_stay_absent(fake):
    with Producer(fake.target, timeout_s=5) as producer:
        producer.send("orders")  # a tombstone without key
        producer.send("orders", value=b"", key=b"")  # empty, not absent
    tombstone, empty = fake.producer.requests
    for field in ("key", "value", "partition", "timestamp_ms"):
        assert not tombstone.HasField(field), field
    assert empty.HasField("key") and empty.key == b""
    assert empty.HasField("value") and empty.value == b""


@pytest.mark.parametrize(
    "status, details, code, message, retriable",
    [
        (
            grpc.StatusCode.NOT_FOUND,
            "[UNKNOWN_TOPIC] topic x does not exist",
            ErrorCode.UNKNOWN_TOPIC,
            "topic x does not exist",
            False,
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            "[RECORD_TOO_LARGE] record of 2000000 bytes",
            ErrorCode.RECORD_TOO_LARGE,
            "record of 2000000 bytes",
            False,
        ),
        (grpc.StatusCode.UNAVAILABLE, "[KAFKA] broker down", ErrorCode.KAFKA, "broker down", True),
        (
            grpc.StatusCode.DEADLINE_EXCEEDED,
            "[TIMEOUT] no ack in 30000 ms",
            ErrorCode.TIMEOUT,
            "no ack in 30000 ms",
            True,
        ),
        (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "Received message larger than max (67108880 vs. 2048576)",
            ErrorCode.RECORD_TOO_LARGE,
            "Received message larger than max (67108880 vs. 2048576)",
            False,
        ),
        (grpc.StatusCode.INTERNAL, "something odd", ErrorCode.UNSPECIFIED, "something odd", False),
    ],
)
def test_send_maps_the_status_to_a_produce_error(fake, status, details, code, message, retriable):
    fake.producer.unary_failures["bad"] = (status, details)
    with Producer(fake.target, timeout_s=5) as producer:
        with pytest.raises(ProduceError) as raised:
            producer.send("bad", b"v")
    error = raised.value
    assert (error.status, error.code, error.message, error.retriable) == (status, code, message, retriable)
    assert error.details == details
    assert code.name in str(error) and status.name in str(error)


def test_send_many_returns_one_result_per_record_in_order(fake):
    fake.producer.stream_failures["missing"] = records_pb2.Error(
        code=records_pb2.UNKNOWN_TOPIC, message="topic missing does not exist", retriable=False
    )
    records = [
        ProducerRecord("orders", b"\x00a", key=b"k", headers=[("h", b"1"), ("h", None)]),
        ProducerRecord("missing", b"b"),
        ProducerRecord("orders", None, partition=2, timestamp_ms=5),
        ProducerRecord("orders", b"c"),
    ]
    with Producer(fake.target, timeout_s=5) as producer:
        results = producer.send_many(iter(records), timeout_s=5)
    assert results[0] == RecordPosition("orders", 0, 0, 1_700_000_000_000)
    assert isinstance(results[1], ProduceError)
    assert results[1].code == ErrorCode.UNKNOWN_TOPIC
    assert results[1].message == "topic missing does not exist"
    assert results[1].status is None and not results[1].retriable
    assert results[2] == RecordPosition("orders", 2, 0, 5)
    assert results[3] == RecordPosition("orders", 0, 1, 1_700_000_000_000)

    (sent,) = fake.producer.streams
    assert [r.topic for r in sent] == ["orders", "missing", "orders", "orders"]
    assert sent[0].value == b"\x00a" and headers_of(sent[0]) == [("h", b"1"), ("h", None)]
    assert not sent[2].HasField("value") and sent[2].partition == 2


def test_send_many_batches_by_count_and_bytes(fake):
    small = [ProducerRecord("orders", b"%d" % i) for i in range(1200)]
    big = [ProducerRecord("orders", b"\x00" * 400_000) for _ in range(3)]
    huge = [ProducerRecord("orders", b"\x01" * 1_500_000)]  # alone, over batch_bytes
    with Producer(fake.target, timeout_s=5) as producer:
        results = producer.send_many(small + big + huge + small[:1], timeout_s=10)
    assert all(isinstance(r, RecordPosition) for r in results)
    assert [r.offset for r in results] == list(range(len(results)))  # back in the records' order
    (batches,) = fake.producer.batches
    assert [len(b.records) for b in batches] == [500, 500, 202, 1, 1, 1]
    assert all(b.ByteSize() <= (1 << 20) for b in batches if len(b.records) > 1)
    sent = [r.value for b in batches for r in b.records]
    assert sent == [r.value for r in small + big + huge + small[:1]]


def test_send_many_of_nothing_sends_nothing(fake):
    with Producer(fake.target, timeout_s=5) as producer:
        assert producer.send_many([]) == []
    assert fake.producer.streams == []


def test_bad_types_are_refused_before_sending(fake):
    with Producer(fake.target, timeout_s=5) as producer:
        with pytest.raises(TypeError, match="encode"):
            producer.send("orders", value="text")
        with pytest.raises(TypeError):
            producer.send("orders", b"v", headers=[("h", "text")])
        with pytest.raises(TypeError):
            producer.send("orders", b"v", headers=[(b"key", b"v")])
        with pytest.raises(TypeError):
            producer.send_many([ProducerRecord("orders", b"ok"), ("orders", b"tuple")])
    assert fake.producer.requests == [] and fake.producer.streams == []


def test_an_unreachable_sidecar_is_a_retriable_produce_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Producer(f"127.0.0.1:{port}", timeout_s=2) as producer:
        with pytest.raises(ProduceError) as raised:
            producer.send("orders", b"v")
    assert raised.value.status == grpc.StatusCode.UNAVAILABLE
    assert raised.value.retriable
