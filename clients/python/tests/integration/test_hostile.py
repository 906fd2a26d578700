"""Hostile and malformed requests: the sidecar answers with the right status and keeps serving.

The raw generated stubs are used where the nice API would not build the bad
request.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Optional

import grpc
import pytest
from sidecar_process import create_topic

from whippet_client import (
    Consumer,
    ErrorCode,
    KeyOrdered,
    ProduceError,
    ProducerRecord,
    RecordPosition,
    RetryTopics,
    SubscriptionError,
    check_health,
)
from whippet_client.pb import sidecar_pb2, sidecar_pb2_grpc

pytestmark = pytest.mark.integration

CALL_TIMEOUT_S = 120.0


class RawConsume:
    """A Consume stream driven by hand: send any request, read answers and the final status."""

    def __init__(self, target: str) -> None:
        self._channel = grpc.insecure_channel(target)
        self._requests: "queue.Queue[Any]" = queue.Queue()
        self._answers: "queue.Queue[Any]" = queue.Queue()
        self.call = sidecar_pb2_grpc.ConsumerServiceStub(self._channel).Consume(
            iter(self._requests.get, None), timeout=CALL_TIMEOUT_S
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for answer in self.call:
                self._answers.put(answer)
            self._answers.put((grpc.StatusCode.OK, ""))
        except grpc.RpcError as error:
            self._answers.put((error.code(), error.details()))

    def send(self, request: sidecar_pb2.ConsumeRequest) -> None:
        self._requests.put(request)

    def half_close(self) -> None:
        self._requests.put(None)

    def next(self, timeout_s: float = 60.0) -> Any:
        """The next answer, or a (status, details) tuple once the stream ended."""
        return self._answers.get(timeout=timeout_s)

    def status(self, timeout_s: float = 60.0) -> tuple[grpc.StatusCode, str]:
        """Skips answers until the stream ends; its status and details."""
        deadline = time.monotonic() + timeout_s
        while True:
            answer = self._answers.get(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(answer, tuple):
                return answer

    def close(self) -> None:
        self.half_close()
        self.call.cancel()
        self._channel.close()


def subscribe_request(topics: list[str], group: str, **fields: Any) -> sidecar_pb2.ConsumeRequest:
    return sidecar_pb2.ConsumeRequest(
        subscribe=sidecar_pb2.Subscription(topics=topics, group=group, **fields)
    )


def outcomes_request(*delivery_ids: int) -> sidecar_pb2.ConsumeRequest:
    return sidecar_pb2.ConsumeRequest(
        outcomes=sidecar_pb2.Outcomes(
            outcomes=[sidecar_pb2.Outcome(delivery_id=i, kind=sidecar_pb2.ACK) for i in delivery_ids]
        )
    )


@pytest.fixture
def raw(sidecar):
    streams: list[RawConsume] = []

    def open_stream() -> RawConsume:
        stream = RawConsume(sidecar.target)
        streams.append(stream)
        return stream

    yield open_stream
    for stream in streams:
        stream.close()


def still_serving(sidecar, producer, admin, unique) -> None:
    assert check_health(sidecar.target, timeout_s=10) == "SERVING"
    topic = create_topic(admin, unique("alive"))
    assert isinstance(producer.send(topic, b"still here", timeout_s=60), RecordPosition)


# ---------------------------------------------------------------- subscriptions


@pytest.mark.timeout(180)
def test_unknown_topic_is_not_found(sidecar, unique):
    missing = unique("missing")
    with Consumer(sidecar.target, [missing], unique("group"), reconnect=True) as consumer:
        with pytest.raises(SubscriptionError) as raised:
            consumer.subscribe(timeout_s=120)
    assert raised.value.status == grpc.StatusCode.NOT_FOUND
    assert missing in raised.value.message


@pytest.mark.timeout(180)
def test_empty_group_is_invalid_argument(sidecar, admin, raw, unique):
    topic = create_topic(admin, unique("nogroup"))
    stream = raw()
    stream.send(subscribe_request([topic], ""))
    status, details = stream.status()
    assert status == grpc.StatusCode.INVALID_ARGUMENT, details
    assert "group" in details


@pytest.mark.timeout(180)
def test_retry_topics_without_steps_is_invalid_argument(sidecar, admin, unique):
    topic = create_topic(admin, unique("nosteps"))
    with Consumer(sidecar.target, [topic], unique("group"), retry=RetryTopics([])) as consumer:
        with pytest.raises(SubscriptionError) as raised:
            consumer.subscribe(timeout_s=120)
    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.timeout(180)
def test_second_subscribe_on_a_stream_is_already_exists(sidecar, admin, raw, unique):
    topic = create_topic(admin, unique("twice"))
    stream = raw()
    request = subscribe_request([topic], unique("group"))
    stream.send(request)
    first = stream.next(timeout_s=120)
    assert not isinstance(first, tuple), first
    assert first.WhichOneof("response") == "subscribed"
    stream.send(request)
    status, details = stream.status(timeout_s=120)
    assert status == grpc.StatusCode.ALREADY_EXISTS, details


@pytest.mark.timeout(180)
def test_outcomes_before_subscribe_is_failed_precondition(sidecar, raw):
    stream = raw()
    stream.send(outcomes_request(1))
    status, details = stream.status()
    assert status == grpc.StatusCode.FAILED_PRECONDITION, details


@pytest.mark.timeout(180)
def test_outcome_for_a_delivery_never_issued_is_invalid_argument(sidecar, admin, raw, unique):
    topic = create_topic(admin, unique("neverissued"))  # empty: nothing is ever delivered
    stream = raw()
    stream.send(subscribe_request([topic], unique("group")))
    first = stream.next(timeout_s=120)
    assert not isinstance(first, tuple), first
    stream.send(outcomes_request(424242))
    status, details = stream.status(timeout_s=120)
    assert status == grpc.StatusCode.INVALID_ARGUMENT, details
    assert "424242" in details


# ---------------------------------------------------------------- produce


@pytest.mark.timeout(180)
def test_produce_to_an_unknown_topic_is_not_found(sidecar, producer, unique):
    with pytest.raises(ProduceError) as raised:
        producer.send(unique("nowhere"), b"v", timeout_s=120)
    assert raised.value.status == grpc.StatusCode.NOT_FOUND
    assert raised.value.code == ErrorCode.UNKNOWN_TOPIC
    assert not raised.value.retriable


@pytest.mark.timeout(180)
def test_a_record_over_the_broker_limit_is_refused(sidecar, admin, producer, unique):
    topic = create_topic(admin, unique("toolarge"))
    with pytest.raises(ProduceError) as raised:
        producer.send(topic, b"\x00" * 2_000_000, timeout_s=120)  # default max_record_bytes: 1,000,000
    assert raised.value.status in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
    # In a stream it fails alone; the others are stored.
    results = producer.send_many(
        [
            ProducerRecord(topic, b"small"),
            ProducerRecord(topic, b"\x01" * 1_500_000),
            ProducerRecord(topic, b"ok"),
        ],
        timeout_s=120,
    )
    assert isinstance(results[0], RecordPosition) and isinstance(results[2], RecordPosition)
    assert isinstance(results[1], ProduceError) and results[1].code == ErrorCode.RECORD_TOO_LARGE


@pytest.mark.timeout(180)
def test_a_64_mb_request_is_resource_exhausted(sidecar, admin, producer, unique):
    topic = create_topic(admin, unique("huge"))
    with pytest.raises(ProduceError) as raised:
        producer.send(topic, b"x" * (64 * 1024 * 1024), timeout_s=120)
    assert raised.value.status == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert isinstance(producer.send(topic, b"after", timeout_s=60), RecordPosition)


@pytest.mark.timeout(180)
def test_garbage_bytes_fail_the_call_and_the_sidecar_keeps_serving(sidecar, admin, producer, unique):
    with grpc.insecure_channel(sidecar.target) as channel:
        produce = channel.unary_unary(
            "/whippet.v1.ProducerService/Produce", request_serializer=None, response_deserializer=None
        )
        for garbage in (b"\xff" * 64, b"\x0a\xff\xff\xff\xff\x0f" + b"short", b"\x0a\x02\xc3\x28"):
            with pytest.raises(grpc.RpcError) as raised:
                produce(garbage, timeout=60)
            assert raised.value.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT), (
                garbage,
                raised.value.code(),
                raised.value.details(),
            )
    still_serving(sidecar, producer, admin, unique)


# ---------------------------------------------------------------- a stream cut mid-way


@pytest.mark.timeout(400)
def test_records_of_a_cancelled_stream_go_to_the_next_consumer(sidecar, admin, producer, raw, unique):
    topic = create_topic(admin, unique("cut"))
    group = unique("cut-group")
    values = [f"cut-{i}".encode() for i in range(5)]
    for i, value in enumerate(values):
        producer.send(topic, value, key=f"key-{i}".encode(), timeout_s=60)

    stream = raw()
    stream.send(
        subscribe_request(
            [topic],
            group,
            key_ordered=sidecar_pb2.KeyOrdered(parallelism=16),
            initial_offset=sidecar_pb2.INITIAL_OFFSET_EARLIEST,
            max_in_flight=10,
        )
    )
    held: list[bytes] = []
    deadline = time.monotonic() + 120
    while len(held) < len(values) and time.monotonic() < deadline:
        try:
            answer: Optional[Any] = stream.next(timeout_s=1.0)
        except queue.Empty:
            if held:
                break  # some arrived; what is held is enough to check
            continue
        assert not isinstance(answer, tuple), answer
        if answer.WhichOneof("response") == "deliveries":
            held.extend(d.record.value for d in answer.deliveries.deliveries)
    assert held, "no delivery within 120 s"
    stream.call.cancel()  # cut without answering anything

    redelivered: set[bytes] = set()
    with Consumer(
        sidecar.target,
        [topic],
        group,
        ordering=KeyOrdered(parallelism=16),
        initial_offset="earliest",
        close_timeout_s=30,
    ) as next_consumer:
        next_consumer.subscribe(timeout_s=120)
        deadline = time.monotonic() + 180
        while redelivered != set(values):
            assert time.monotonic() < deadline, f"redelivered only {sorted(redelivered)} of {values}"
            record = next_consumer.poll(timeout_s=1.0)
            if record is not None:
                redelivered.add(record.value)
                record.ack()
    assert set(held) <= redelivered
