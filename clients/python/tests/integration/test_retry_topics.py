"""Failed records through retry topics to the dead-letter topic, on a real sidecar.

Names, from RetryTopicNamer (src/retry/retry_policy.cc, retry_topology.cc):
step n of a RetryTopics policy -- n counting from 1 -- is
``<topic>-<group>-retry-<n>``; the dead-letter topic is ``<topic>-<group>-dlt``.
"""

from __future__ import annotations

import time
import uuid

import pytest
from sidecar_process import create_topic, wait_for

from whippet_client import AdminError, Consumer, RetryTopics

pytestmark = pytest.mark.integration


def exists(admin, topic: str) -> bool:
    try:
        admin.describe_topics([topic])
        return True
    except AdminError:
        return False


def read_dead_letter(sidecar, admin, dlt: str, group: str, value: bytes, timeout_s: float = 120.0):
    """The record with ``value`` from the dead-letter topic, read by a group of its own."""
    wait_for(lambda: exists(admin, dlt), 60, f"{dlt} to exist")
    with Consumer(sidecar.target, [dlt], group, initial_offset="earliest", close_timeout_s=30) as reader:
        reader.subscribe(timeout_s=120)
        deadline = time.monotonic() + timeout_s
        while True:
            assert time.monotonic() < deadline, f"nothing arrived on {dlt} within {timeout_s} s"
            record = reader.poll(timeout_s=1.0)
            if record is None:
                continue
            record.ack()
            if record.value == value:
                return record


@pytest.mark.timeout(400)
def test_failed_record_goes_through_each_retry_topic_then_to_the_dead_letter_topic(
    sidecar, admin, producer, unique
):
    topic = create_topic(admin, unique("retry"))
    group = unique("failing")
    retry_topics = [f"{topic}-{group}-retry-1", f"{topic}-{group}-retry-2"]
    dlt = f"{topic}-{group}-dlt"
    token = uuid.uuid4().hex
    value = b"\x00fail-me-" + token.encode()
    message = f"handler refused {token}"
    producer.send(topic, value, key=b"k", headers=[("trace", b"t-1"), ("trace", None)], timeout_s=60)

    with Consumer(
        sidecar.target,
        [topic],
        group,
        retry=RetryTopics([200, 200]),
        initial_offset="earliest",
        close_timeout_s=30,
    ) as failing:
        assert failing.subscribe(timeout_s=120) == (topic, *retry_topics)
        seen = []
        deadline = time.monotonic() + 120
        while len(seen) < 3:
            assert time.monotonic() < deadline, f"the record was delivered on {seen} only"
            record = failing.poll(timeout_s=1.0)
            if record is None:
                continue
            assert record.value == value and record.key == b"k"
            seen.append(record.topic)
            assert record.fail(message, error_type="ValueError")
        assert seen == [topic, *retry_topics]

        dead = read_dead_letter(sidecar, admin, dlt, unique("dlt-reader"), value)
        assert failing.poll(timeout_s=1.0) is None  # the dead-letter topic is not read by the group

    assert dead.topic == dlt
    assert dead.key == b"k"
    assert dead.header_values("GH_OriginalTopic") == [topic.encode()]
    (error_message,) = dead.header_values("whippet.error.message")
    assert message.encode() in error_message
    assert dead.header_values("whippet.error.type") == [b"ValueError"]
    assert dead.header_values("trace") == [b"t-1", None]  # the record's own headers, kept


@pytest.mark.timeout(300)
def test_non_retriable_goes_straight_to_the_dead_letter_topic(sidecar, admin, producer, unique):
    topic = create_topic(admin, unique("fatal"))
    group = unique("fatal-group")
    retry_topics = [f"{topic}-{group}-retry-1", f"{topic}-{group}-retry-2"]
    dlt = f"{topic}-{group}-dlt"
    token = uuid.uuid4().hex
    value = f"poison {token}".encode()
    producer.send(topic, value, timeout_s=60)

    with Consumer(
        sidecar.target,
        [topic],
        group,
        retry=RetryTopics([200, 200]),
        initial_offset="earliest",
        close_timeout_s=30,
    ) as failing:
        assert failing.subscribe(timeout_s=120) == (topic, *retry_topics)
        record = wait_for(lambda: failing.poll(timeout_s=1.0), 120, "the record")
        assert record.topic == topic and record.value == value
        assert record.fail_permanently(f"cannot parse {token}", error_type="SchemaError")

        dead = read_dead_letter(sidecar, admin, dlt, unique("dlt-reader"), value)
        assert dead.header_values("GH_OriginalTopic") == [topic.encode()]
        (error_message,) = dead.header_values("whippet.error.message")
        assert f"cannot parse {token}".encode() in error_message
        assert dead.header_values("whippet.error.type") == [b"SchemaError"]

        # No retry copy was made, and the group never saw the record again.
        assert failing.poll(timeout_s=2.0) is None
        descriptions = admin.describe_topics(retry_topics)
        assert [d.record_count for d in descriptions] == [0, 0]
