"""Reconnect: the sidecar goes away and comes back on the same port."""

from __future__ import annotations

import time

import grpc
import pytest
from fake_sidecar import WAIT_S, FakeSidecar, consumed, wait_for
from test_consumer import take

from whippet_client import ConsumerError, SubscriptionError


def test_reconnects_resubscribes_and_drops_stale_outcomes(make_consumer):
    first = FakeSidecar()
    second = None
    try:
        consumer = make_consumer(first.target, topics=["orders"], group="billing", max_in_flight=10)
        consumer.subscribe(timeout_s=WAIT_S)
        old = first.consumer.wait_stream(0)
        old.push(*[consumed(offset=i, value=b"v%d" % i) for i in range(4)])
        r0, r1, r2 = take(consumer, 3)  # the fourth waits in the client's queue
        r0.ack()
        old.wait_outcomes(1)

        first.stop()  # killed: the stream breaks
        second = FakeSidecar(port=first.port, name="restarted")  # restarted on the same port
        new = second.consumer.wait_stream(0, timeout_s=WAIT_S)
        assert new.subscription == old.subscription  # the same subscription again

        # Answers to the broken stream's records are dropped, not raised.
        assert r1.ack() is False
        assert r2.fail("too late") is False
        wait_for(lambda: consumer.stats.reconnects == 1, what="the reconnect")
        assert consumer.subscription_id == "restarted-1"

        # The sidecar delivers the uncommitted records again; the old
        # stream's queued record (offset 3) is not handed out.
        redelivered_ids = new.push(*[consumed(offset=i, value=b"v%d" % i) for i in (1, 2, 3)])
        again = take(consumer, 3)
        assert [(r.offset, r.value) for r in again] == [(1, b"v1"), (2, b"v2"), (3, b"v3")]
        assert [r.delivery_id for r in again] == redelivered_ids
        for record in again:
            assert record.ack() is True
        outcomes = new.wait_outcomes(3)
        time.sleep(0.05)
        assert [o.delivery_id for o in new.outcomes()] == redelivered_ids
        assert len(outcomes) == 3
        assert [o.delivery_id for o in old.outcomes()] == [r0.delivery_id]

        stats = consumer.stats
        assert stats.reconnects == 1
        assert stats.stale_outcomes == 2
        assert stats.acked == 4 and stats.failed == 0  # stale answers are not counted as sent
        assert stats.delivered == 6
    finally:
        for sidecar in (first, second):
            if sidecar is not None:
                sidecar.stop()


@pytest.mark.parametrize(
    "status",
    [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED],
)
def test_transient_stream_errors_reconnect(fake, make_consumer, status):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    fake.consumer.wait_stream(0).abort(status, "the sidecar is shutting down")
    fresh = fake.consumer.wait_stream(1)
    fresh.push(consumed(offset=7))
    (record,) = take(consumer, 1)
    assert record.offset == 7
    assert consumer.stats.reconnects == 1


def test_a_refusal_while_reconnecting_is_raised(fake, make_consumer):
    consumer = make_consumer(fake.target)
    consumer.subscribe(timeout_s=WAIT_S)
    fake.consumer.refuse = (grpc.StatusCode.NOT_FOUND, "topic orders does not exist")
    fake.consumer.wait_stream(0).abort(grpc.StatusCode.UNAVAILABLE, "restarting")
    with pytest.raises(SubscriptionError) as raised:
        wait_for(lambda: consumer.poll(timeout_s=0.2), what="the refusal")
    assert raised.value.status == grpc.StatusCode.NOT_FOUND
    time.sleep(0.3)
    assert len(fake.consumer.streams) == 2


def test_gives_up_after_reconnect_timeout(make_consumer):
    sidecar = FakeSidecar()
    try:
        consumer = make_consumer(sidecar.target, reconnect_timeout_s=1.0)
        consumer.subscribe(timeout_s=WAIT_S)
        sidecar.consumer.wait_stream(0)
    finally:
        sidecar.stop()  # and never back
    started = time.monotonic()
    with pytest.raises(ConsumerError) as raised:
        wait_for(lambda: consumer.poll(timeout_s=0.2), what="giving up")
    assert time.monotonic() - started < 6.0
    assert raised.value.retriable
    assert "within 1.0 s" in raised.value.message


def test_no_reconnect_when_disabled(make_consumer):
    sidecar = FakeSidecar()
    try:
        consumer = make_consumer(sidecar.target, reconnect=False)
        consumer.subscribe(timeout_s=WAIT_S)
        sidecar.consumer.wait_stream(0).push(consumed(offset=0))
        take(consumer, 1)
    finally:
        sidecar.stop()
    with pytest.raises(ConsumerError) as raised:
        wait_for(lambda: consumer.poll(timeout_s=0.2), what="the broken stream")
    assert raised.value.status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert consumer.stats.reconnects == 0
