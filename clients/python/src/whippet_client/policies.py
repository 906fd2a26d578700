"""Subscription settings: ordering, where to start, and what happens to failed records.

Retry policies decide the fate of a record answered with ``fail()`` (or not
answered within the ack deadline):

* :class:`NoRetry` -- logged and counted as handled (the default).
* :class:`BlockingRetry` -- retried in place; the partition (or key) waits,
  keeping its order, with a fixed, infinite or exponential back-off.
* :class:`RetryTopics` -- step *n* (from 1) sends the record to
  ``<topic>-<group>-retry-<n>``, consumed again after its delay; after the last
  step it goes to the dead-letter topic ``<topic>-<group>-dlt``.

A record answered with ``fail_permanently()`` goes straight to the dead-letter
topic. The ``retry`` argument of :class:`~whippet_client.Consumer` takes one
policy (for every topic), a ``{topic: policy}`` dict, or a full
:class:`RetryPolicies`. The sidecar validates them (e.g. ``RetryTopics([])``
is refused with INVALID_ARGUMENT).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence, Union

from whippet_client.pb import sidecar_pb2

__all__ = [
    "BlockingRetry",
    "ExponentialBackOff",
    "FixedBackOff",
    "InfiniteBackOff",
    "InitialOffset",
    "KeyOrdered",
    "NoRetry",
    "Ordering",
    "PartitionOrdered",
    "RetryPolicies",
    "RetryPolicy",
    "RetrySpec",
    "RetryTopicSettings",
    "RetryTopics",
]


# ------------------------------------------------------------------ ordering


@dataclass(frozen=True)
class PartitionOrdered:
    """One record at a time per partition, in offset order (the default)."""


@dataclass(frozen=True)
class KeyOrdered:
    """Records of one key in order; up to ``parallelism`` handled at once (0: the sidecar's 64)."""

    parallelism: int = 0


Ordering = Union[PartitionOrdered, KeyOrdered]


class InitialOffset(str, enum.Enum):
    """Where a group without a committed offset starts reading."""

    LATEST = "latest"
    EARLIEST = "earliest"

    def to_proto(self) -> int:
        return (
            sidecar_pb2.INITIAL_OFFSET_EARLIEST
            if self is InitialOffset.EARLIEST
            else sidecar_pb2.INITIAL_OFFSET_LATEST
        )


# ------------------------------------------------------------------ retry


def _delays(values: Sequence[int], what: str) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{what} must be a sequence of milliseconds, not {type(values).__name__}")
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class NoRetry:
    """A failed record is logged and counts as handled."""

    def to_proto(self) -> sidecar_pb2.RetryPolicy:
        return sidecar_pb2.RetryPolicy(none=True)


@dataclass(frozen=True)
class FixedBackOff:
    """One retry per delay, then give up (the record's fate is then the dead letter)."""

    delays_ms: Sequence[int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "delays_ms", _delays(self.delays_ms, "delays_ms"))


@dataclass(frozen=True)
class InfiniteBackOff:
    """Retry forever, waiting ``delay_ms`` between attempts."""

    delay_ms: int


@dataclass(frozen=True)
class ExponentialBackOff:
    """Delays from ``initial_ms`` growing by ``multiplier`` up to ``max_ms``; ``max_attempts=0`` is forever."""

    initial_ms: int
    max_ms: int
    multiplier: float = 2.0
    max_attempts: int = 0


BackOff = Union[FixedBackOff, InfiniteBackOff, ExponentialBackOff]


@dataclass(frozen=True)
class BlockingRetry:
    """Retry in place: the partition waits, keeping its order.

    ``BlockingRetry([100, 500])`` is shorthand for
    ``BlockingRetry(FixedBackOff([100, 500]))``; see also :meth:`fixed`,
    :meth:`infinite` and :meth:`exponential`.
    """

    back_off: Union[BackOff, Sequence[int]]

    def __post_init__(self) -> None:
        if not isinstance(self.back_off, (FixedBackOff, InfiniteBackOff, ExponentialBackOff)):
            object.__setattr__(self, "back_off", FixedBackOff(self.back_off))

    @classmethod
    def fixed(cls, delays_ms: Sequence[int]) -> "BlockingRetry":
        return cls(FixedBackOff(delays_ms))

    @classmethod
    def infinite(cls, delay_ms: int) -> "BlockingRetry":
        return cls(InfiniteBackOff(delay_ms))

    @classmethod
    def exponential(
        cls, initial_ms: int, max_ms: int, multiplier: float = 2.0, max_attempts: int = 0
    ) -> "BlockingRetry":
        return cls(ExponentialBackOff(initial_ms, max_ms, multiplier, max_attempts))

    def to_proto(self) -> sidecar_pb2.RetryPolicy:
        blocking = sidecar_pb2.BlockingRetry()
        back_off = self.back_off
        if isinstance(back_off, FixedBackOff):
            blocking.fixed.delays_ms.extend(back_off.delays_ms)
            blocking.fixed.SetInParent()  # present even with no delays
        elif isinstance(back_off, InfiniteBackOff):
            blocking.infinite.delay_ms = back_off.delay_ms
            blocking.infinite.SetInParent()
        else:
            blocking.exponential.initial_ms = back_off.initial_ms
            blocking.exponential.multiplier = back_off.multiplier
            blocking.exponential.max_ms = back_off.max_ms
            blocking.exponential.max_attempts = back_off.max_attempts
            blocking.exponential.SetInParent()
        return sidecar_pb2.RetryPolicy(blocking=blocking)


@dataclass(frozen=True)
class RetryTopics:
    """Non-blocking retries through ``<topic>-<group>-retry-<n>`` topics, one per back-off, then the DLT."""

    backoffs_ms: Sequence[int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "backoffs_ms", _delays(self.backoffs_ms, "backoffs_ms"))

    def to_proto(self) -> sidecar_pb2.RetryPolicy:
        policy = sidecar_pb2.RetryPolicy()
        policy.retry_topics.backoffs_ms.extend(self.backoffs_ms)
        policy.retry_topics.SetInParent()  # present even when empty: the sidecar says why not
        return policy


RetryPolicy = Union[NoRetry, BlockingRetry, RetryTopics]


@dataclass(frozen=True)
class RetryTopicSettings:
    """How retry and dead-letter topics are created; 0 means as many as the source topic."""

    partitions: int = 0
    replication_factor: int = 0
    retention_ms: Optional[int] = None

    def to_proto(self) -> sidecar_pb2.RetryTopicSettings:
        settings = sidecar_pb2.RetryTopicSettings(
            partitions=self.partitions, replication_factor=self.replication_factor
        )
        if self.retention_ms is not None:
            settings.retention_ms = self.retention_ms
        return settings


@dataclass(frozen=True)
class RetryPolicies:
    """A default policy, per-topic overrides and the settings of the topics retries create."""

    default: Optional[RetryPolicy] = None
    per_topic: Mapping[str, RetryPolicy] = field(default_factory=dict)
    topic_settings: Optional[RetryTopicSettings] = None

    def to_proto(self) -> sidecar_pb2.RetryPolicies:
        message = sidecar_pb2.RetryPolicies()
        if self.default is not None:
            message.default_policy.CopyFrom(_policy_to_proto(self.default, "default"))
        for topic, policy in self.per_topic.items():
            message.per_topic[topic].CopyFrom(_policy_to_proto(policy, f"per_topic[{topic!r}]"))
        if self.topic_settings is not None:
            message.topic_settings.CopyFrom(self.topic_settings.to_proto())
        return message


RetrySpec = Union[RetryPolicy, Mapping[str, RetryPolicy], RetryPolicies, None]
"""What ``Consumer(retry=...)`` takes: one policy, a ``{topic: policy}`` dict, or :class:`RetryPolicies`."""


def _policy_to_proto(policy: RetryPolicy, where: str) -> sidecar_pb2.RetryPolicy:
    if isinstance(policy, (NoRetry, BlockingRetry, RetryTopics)):
        return policy.to_proto()
    raise TypeError(
        f"retry {where}: expected NoRetry, BlockingRetry or RetryTopics, not {type(policy).__name__}"
    )


def retry_to_proto(retry: RetrySpec) -> sidecar_pb2.RetryPolicies:
    """Converts what ``Consumer(retry=...)`` accepts to ``whippet.v1.RetryPolicies``."""
    if retry is None:
        return sidecar_pb2.RetryPolicies()
    if isinstance(retry, RetryPolicies):
        return retry.to_proto()
    if isinstance(retry, Mapping):
        return RetryPolicies(per_topic=retry).to_proto()
    return RetryPolicies(default=retry).to_proto()


def ordering_to_proto(ordering: Optional[Ordering], subscription: sidecar_pb2.Subscription) -> None:
    """Sets the ordering oneof of ``subscription``."""
    if ordering is None or isinstance(ordering, PartitionOrdered):
        subscription.partition_ordered.SetInParent()
    elif isinstance(ordering, KeyOrdered):
        subscription.key_ordered.parallelism = ordering.parallelism
        subscription.key_ordered.SetInParent()
    else:
        raise TypeError(f"ordering must be PartitionOrdered or KeyOrdered, not {type(ordering).__name__}")
