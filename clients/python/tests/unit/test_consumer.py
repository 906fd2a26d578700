"""Consumer against the fake sidecar: subscription, records, outcomes, errors, close."""

from __future__ import annotations

import time

import grpc
import pytest
from fake_sidecar import WAIT_S, consumed, wait_for

from whippet_client import (
    AlreadyAnsweredError,
    BlockingRetry,
    ConsumerError,
    ErrorCode,
    KeyOrdered,
    RetryTopics,
    SubscriptionError,
)
from whippet_client.pb import sidecar_pb2


def take(consumer, count: int) -> list:
    """``count`` records, each within the bounded wait."""
    records = []
    deadline = time.monotonic() + WAIT_S
    while len(records) < count:
        assert time.monotonic() < deadline, f"got {len(records)} of {count} records"
        record = consumer.poll(timeout_s=0.5)
        if record is not None:
            records.append(record)
    return records


def test_subscription_carries_every_setting(fake, make_consumer):
    fake.consumer.topics_read = ["orders", "orders-billing-retry-1", "orders-billing-retry-2"]
    consumer = make_consumer(
        fake.target,
        topics=["orders", "payments"],
        group="billing",
        ordering=KeyOrdered(parallelism=64),
        retry={"orders": RetryTopics([1000, 5000]), "payments": BlockingRetry([10, 20])},
        initial_offset="earliest",
        max_in_flight=256,
        ack_deadline_ms=30000,
        handler_name="billing-handler",
    )
    assert consumer.subscribed_topics == ()
    topics = consumer.subscribe(timeout_s=WAIT_S)
    assert topics == ("orders", "orders-billing-retry-1", "orders-billing-retry-2")
    assert consumer.subscribed_topics == topics
    assert consumer.subscription_id == "fake-1"

    subscription = fake.consumer.wait_stream(0).subscription
    assert list(subscription.topics) == ["orders", "payments"]
    assert subscription.group == "billing"
    assert subscription.WhichOneof("ordering") == "key_ordered"
    assert subscription.key_ordered.parallelism == 64
    assert subscription.initial_offset == sidecar_pb2.INITIAL_OFFSET_EARLIEST
    assert subscription.max_in_flight == 256
    assert subscription.ack_deadline_ms == 30000
    assert subscription.handler_name == "billing-handler"
    assert not subscription.retry.HasField("default_policy")
    assert list(subscription.retry.per_topic["orders"].retry_topics.backoffs_ms) == [1000, 5000]
    assert list(subscription.retry.per_topic["payments"].blocking.fixed.delays_ms) == [10, 20]


def test_defaults_leave_server_defaults(fake, make_consumer):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    subscription = fake.consumer.wait_stream(0).subscription
    assert subscription.WhichOneof("ordering") == "partition_ordered"
    assert subscription.initial_offset == sidecar_pb2.INITIAL_OFFSET_LATEST
    assert subscription.max_in_flight == 0 and subscription.ack_deadline_ms == 0
    assert subscription.retry == sidecar_pb2.RetryPolicies()


def test_records_keep_zero_bytes_absent_fields_and_repeated_null_headers(fake, make_consumer):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    stream = fake.consumer.wait_stream(0)
    headers = (("h", b"v"), ("h", None), ("h", b""), ("bin", b"\x00\x01\x00"))
    stream.push(
        consumed(
            topic="orders", partition=3, offset=41, key=b"\x00k\x00", value=b"\x00bytes\x00", headers=headers
        ),
        consumed(topic="orders", partition=3, offset=42, key=b"", value=None),  # empty key, tombstone
        consumed(topic="orders", partition=3, offset=43, key=None, value=b""),  # no key, empty value
    )
    first, tombstone, keyless = take(consumer, 3)

    assert (first.topic, first.partition, first.offset, first.timestamp_ms) == (
        "orders",
        3,
        41,
        1_700_000_000_000,
    )
    assert first.key == b"\x00k\x00"
    assert first.value == b"\x00bytes\x00"
    assert first.headers == [("h", b"v"), ("h", None), ("h", b""), ("bin", b"\x00\x01\x00")]
    assert first.header_values("h") == [b"v", None, b""]
    assert tombstone.key == b"" and tombstone.value is None
    assert keyless.key is None and keyless.value == b""
    assert [r.delivery_id for r in (first, tombstone, keyless)] == [1, 2, 3]


def test_outcomes_are_batched_and_keep_the_answer_order(fake, make_consumer):
    consumer = make_consumer(fake.target, max_in_flight=300)
    consumer.subscribe(timeout_s=WAIT_S)
    stream = fake.consumer.wait_stream(0)
    stream.push(*[consumed(offset=i, value=str(i).encode()) for i in range(300)])
    records = take(consumer, 300)

    expected = []
    for index, record in enumerate(reversed(records)):  # any order is allowed
        match index % 4:
            case 0:
                record.ack()
                expected.append((record.delivery_id, sidecar_pb2.ACK, "", ""))
            case 1:
                record.fail(ValueError(f"bad {index}"))
                expected.append((record.delivery_id, sidecar_pb2.FAILED, f"bad {index}", "ValueError"))
            case 2:
                record.fail_permanently(f"fatal {index}", error_type="SchemaError")
                expected.append(
                    (record.delivery_id, sidecar_pb2.NON_RETRIABLE, f"fatal {index}", "SchemaError")
                )
            case 3:
                record.skip()
                expected.append((record.delivery_id, sidecar_pb2.SKIP, "", ""))

    outcomes = stream.wait_outcomes(300)
    assert [(o.delivery_id, o.kind, o.error_message, o.error_type) for o in outcomes] == expected
    # Answered back to back, they travel together: far fewer messages than outcomes.
    assert len(stream.outcome_messages) <= 60, len(stream.outcome_messages)
    assert all(len(message.outcomes) > 0 for message in stream.outcome_messages)
    stats = consumer.stats
    assert (stats.delivered, stats.acked, stats.failed, stats.skipped) == (300, 75, 150, 75)
    assert stats.stale_outcomes == 0 and stats.reconnects == 0


def test_a_lone_answer_is_sent_at_once(fake, make_consumer):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    stream = fake.consumer.wait_stream(0)
    for expected in (1, 2, 3):
        stream.push(consumed(offset=expected))
        (record,) = take(consumer, 1)
        answered = time.monotonic()
        record.ack()
        stream.wait_outcomes(expected)
        # Never waits for a batch to fill: each lone answer goes by itself.
        assert stream.received_at[-1] - answered < 0.5
        assert len(stream.outcome_messages) == expected


def test_answering_twice_raises_and_sends_once(fake, make_consumer):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    stream = fake.consumer.wait_stream(0)
    stream.push(consumed(offset=0), consumed(offset=1), consumed(offset=2))
    acked, skipped, barrier = take(consumer, 3)

    acked.ack()
    assert acked.answered
    with pytest.raises(AlreadyAnsweredError):
        acked.ack()
    with pytest.raises(AlreadyAnsweredError):
        acked.fail("again")
    skipped.skip()
    with pytest.raises(AlreadyAnsweredError):
        skipped.fail_permanently("again")
    barrier.ack()  # outcomes keep their order: once this one is there, all are

    outcomes = stream.wait_outcomes(3)
    time.sleep(0.05)
    assert [(o.delivery_id, o.kind) for o in stream.outcomes()] == [
        (acked.delivery_id, sidecar_pb2.ACK),
        (skipped.delivery_id, sidecar_pb2.SKIP),
        (barrier.delivery_id, sidecar_pb2.ACK),
    ]
    assert len(outcomes) == 3
    assert consumer.stats.acked == 2 and consumer.stats.skipped == 1


@pytest.mark.parametrize(
    "status",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
    ],
)
def test_a_refused_subscription_raises_and_is_never_retried(fake, make_consumer, status):
    fake.consumer.refuse = (status, f"refused with {status.name}")
    consumer = make_consumer(fake.target, reconnect=True)
    with pytest.raises(SubscriptionError) as raised:
        consumer.subscribe(timeout_s=WAIT_S)
    assert raised.value.status == status
    assert raised.value.details == f"refused with {status.name}"
    assert not raised.value.retriable
    # Iterating raises the same error; and nobody subscribed again.
    with pytest.raises(SubscriptionError):
        for _ in consumer:
            pass
    time.sleep(0.3)
    assert len(fake.consumer.streams) == 1


def test_a_refusal_names_the_whippet_code(fake, make_consumer):
    fake.consumer.refuse = (
        grpc.StatusCode.NOT_FOUND,
        '[NOT_FOUND] topic "nope" does not exist: create it first',
    )
    consumer = make_consumer(fake.target, topics=["nope"])
    with pytest.raises(SubscriptionError) as raised:
        consumer.subscribe(timeout_s=WAIT_S)
    assert raised.value.code == ErrorCode.NOT_FOUND
    assert raised.value.message == 'topic "nope" does not exist: create it first'
    assert raised.value.details.startswith("[NOT_FOUND] ")


def test_a_client_error_after_deliveries_is_a_consumer_error(fake, make_consumer):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    stream = fake.consumer.wait_stream(0)
    stream.push(consumed(offset=0))
    take(consumer, 1)
    stream.abort(grpc.StatusCode.INVALID_ARGUMENT, "delivery id 99 was never issued on this stream")
    with pytest.raises(ConsumerError) as raised:
        wait_for(lambda: consumer.poll(timeout_s=0.2), what="the stream error")
    assert not isinstance(raised.value, SubscriptionError)
    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT
    time.sleep(0.3)
    assert len(fake.consumer.streams) == 1  # not retried


def test_close_sends_what_was_answered_then_half_closes(fake, make_consumer):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    stream = fake.consumer.wait_stream(0)
    stream.push(consumed(offset=0), consumed(offset=1))
    answered, unanswered = take(consumer, 2)
    answered.ack()

    started = time.monotonic()
    consumer.close()
    assert time.monotonic() - started < 2.0
    assert stream.half_closed.wait(WAIT_S)
    assert [o.delivery_id for o in stream.outcomes()] == [answered.delivery_id]

    unanswered.ack()  # too late: dropped, counted
    assert consumer.stats.stale_outcomes == 1 and consumer.stats.acked == 1
    assert consumer.poll(timeout_s=0.1) is None
    assert list(consumer) == []
    consumer.close()  # idempotent


def test_poll_is_bounded(fake, make_consumer):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    started = time.monotonic()
    assert consumer.poll(timeout_s=0.2) is None
    assert 0.15 < time.monotonic() - started < 2.0


def test_snapshot_json(fake, make_consumer):
    consumer = make_consumer(fake.target)
    assert '"fake-1"' in consumer.snapshot_json(timeout_s=5)
    assert consumer.snapshot(timeout_s=5)["subscriptions"][0]["group"] == "g"


def test_an_unreachable_sidecar_fails_the_subscription_in_time(make_consumer):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    consumer = make_consumer(f"127.0.0.1:{port}", reconnect=True, reconnect_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(SubscriptionError) as raised:
        consumer.subscribe(timeout_s=WAIT_S)
    assert raised.value.status == grpc.StatusCode.UNAVAILABLE
    assert raised.value.retriable
    assert time.monotonic() - started < 5.0

    single = make_consumer(f"127.0.0.1:{port}", reconnect=False)
    started = time.monotonic()
    with pytest.raises(SubscriptionError):
        single.subscribe(timeout_s=WAIT_S)
    assert time.monotonic() - started < 3.0


def test_a_consumer_closed_before_subscribing_does_not_hang(fake, make_consumer):
    consumer = make_consumer(fake.target, initial_offset="EARLIEST")
    consumer.close()
    started = time.monotonic()
    with pytest.raises(ConsumerError):
        consumer.subscribe()  # no timeout: must not wait forever
    assert consumer.poll(timeout_s=5) is None
    with pytest.raises(ConsumerError):
        iter(consumer)
    assert time.monotonic() - started < 2.0
    assert fake.consumer.streams == []
