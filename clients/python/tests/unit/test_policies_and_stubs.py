"""Retry policies to proto, and the generated stubs' packaging."""

from __future__ import annotations

import sys

import pytest

from whippet_client import (
    BlockingRetry,
    ExponentialBackOff,
    InitialOffset,
    NoRetry,
    RetryPolicies,
    RetryTopics,
    RetryTopicSettings,
)
from whippet_client.pb import records_pb2, sidecar_pb2, sidecar_pb2_grpc
from whippet_client.policies import retry_to_proto


def test_one_policy_is_the_default():
    message = retry_to_proto(RetryTopics([1000, 5000]))
    assert message.default_policy.WhichOneof("policy") == "retry_topics"
    assert list(message.default_policy.retry_topics.backoffs_ms) == [1000, 5000]
    assert len(message.per_topic) == 0
    assert not message.HasField("topic_settings")


def test_empty_retry_topics_still_say_retry_topics():
    # The sidecar refuses it with INVALID_ARGUMENT; the client must not turn it into "none".
    message = retry_to_proto(RetryTopics([]))
    assert message.default_policy.WhichOneof("policy") == "retry_topics"
    assert list(message.default_policy.retry_topics.backoffs_ms) == []


def test_blocking_back_offs():
    fixed = BlockingRetry([100, 200]).to_proto()
    assert list(fixed.blocking.fixed.delays_ms) == [100, 200]
    assert BlockingRetry.infinite(250).to_proto().blocking.infinite.delay_ms == 250
    assert BlockingRetry.infinite(0).to_proto().blocking.WhichOneof("back_off") == "infinite"
    exponential = BlockingRetry(ExponentialBackOff(100, 5000, 1.5, 7)).to_proto().blocking.exponential
    assert (exponential.initial_ms, exponential.max_ms, exponential.multiplier, exponential.max_attempts) == (
        100,
        5000,
        1.5,
        7,
    )
    assert BlockingRetry([]).to_proto().blocking.WhichOneof("back_off") == "fixed"


def test_full_policies():
    message = RetryPolicies(
        default=NoRetry(),
        per_topic={"a": RetryTopics([1]), "b": BlockingRetry.fixed([2])},
        topic_settings=RetryTopicSettings(partitions=3, replication_factor=1, retention_ms=60000),
    ).to_proto()
    assert message.default_policy.none
    assert list(message.per_topic["a"].retry_topics.backoffs_ms) == [1]
    assert list(message.per_topic["b"].blocking.fixed.delays_ms) == [2]
    assert (message.topic_settings.partitions, message.topic_settings.replication_factor) == (3, 1)
    assert message.topic_settings.HasField("retention_ms") and message.topic_settings.retention_ms == 60000
    assert not RetryTopicSettings().to_proto().HasField("retention_ms")


def test_nothing_is_no_policy_and_bad_types_are_refused():
    assert retry_to_proto(None) == sidecar_pb2.RetryPolicies()
    with pytest.raises(TypeError):
        retry_to_proto({"a": "retry please"})
    with pytest.raises(TypeError):
        RetryTopics("1000")
    with pytest.raises(ValueError):
        InitialOffset("beginning")


def test_policies_are_hashable_values():
    assert RetryTopics([1, 2]) == RetryTopics((1, 2))
    assert hash(BlockingRetry([1])) == hash(BlockingRetry.fixed((1,)))


def test_stubs_live_inside_the_package_under_their_canonical_names():
    assert sidecar_pb2.__name__ == "whippet_client._proto.whippet.v1.sidecar_pb2"
    assert records_pb2.__name__ == "whippet_client._proto.whippet.v1.records_pb2"
    assert sidecar_pb2.DESCRIPTOR.name == "whippet/v1/sidecar.proto"
    assert sidecar_pb2.DESCRIPTOR.package == "whippet.v1"
    assert (
        sidecar_pb2.DESCRIPTOR.services_by_name["ConsumerService"].full_name == "whippet.v1.ConsumerService"
    )
    assert hasattr(sidecar_pb2_grpc, "ProducerServiceStub")
    # Nothing was installed or imported as a top-level "whippet" package.
    assert not any(name == "whippet" or name.startswith("whippet.") for name in sys.modules)


def test_header_keys_that_are_not_utf8_survive_the_conversion_both_ways():
    from whippet_client.records import headers_from_proto, headers_to_proto

    raw = b"\xff\xfe-not-utf8"
    (key, value), = headers_from_proto([records_pb2.Header(key=raw, value=b"v")])
    assert isinstance(key, str)
    assert value == b"v"
    assert headers_to_proto([(key, value)])[0].key == raw
    assert headers_to_proto([("plain", None)])[0].key == b"plain"
