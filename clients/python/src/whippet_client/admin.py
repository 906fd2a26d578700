"""Topic administration, consumer-group lag and runtime snapshots through the sidecar."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Union

import grpc

from whippet_client._channel import ChannelOptions, Target, open_channel
from whippet_client.errors import AdminError
from whippet_client.pb import sidecar_pb2, sidecar_pb2_grpc

__all__ = [
    "Admin",
    "GroupLag",
    "PartitionDescription",
    "PartitionLag",
    "TopicDescription",
    "TopicResult",
    "TopicSpec",
]


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create; ``configs`` go to the broker as given (e.g. ``{"retention.ms": "60000"}``)."""

    name: str
    partitions: int = 1
    replication_factor: int = 1
    configs: Mapping[str, str] = field(default_factory=dict)

    def to_proto(self) -> sidecar_pb2.TopicSpec:
        return sidecar_pb2.TopicSpec(
            name=self.name,
            partitions=self.partitions,
            replication_factor=self.replication_factor,
            configs=dict(self.configs),
        )


@dataclass(frozen=True)
class TopicResult:
    """The outcome of creating one topic: ``error`` is ``None`` when it was created (or existed, with ``if_not_exists``)."""

    name: str
    error: Optional[AdminError] = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class PartitionDescription:
    partition: int
    leader: int
    replicas: tuple[int, ...]
    in_sync_replicas: tuple[int, ...]
    low_watermark: int
    high_watermark: int


@dataclass(frozen=True)
class TopicDescription:
    name: str
    partitions: tuple[PartitionDescription, ...]

    @property
    def record_count(self) -> int:
        """Records currently stored: the sum of high minus low watermarks."""
        return sum(p.high_watermark - p.low_watermark for p in self.partitions)


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed_offset: Optional[int]
    """``None`` when the group never committed on this partition."""
    high_watermark: int
    lag: int


@dataclass(frozen=True)
class GroupLag:
    partitions: tuple[PartitionLag, ...]
    total_lag: int


class Admin:
    """Topic administration through a Whippet sidecar's AdminService.

    Every method raises :class:`AdminError` (with the gRPC ``status``, the
    Whippet ``code`` and the ``message``) when the call fails.

    Args:
        target: ``"host:port"`` of the sidecar, or a :class:`grpc.Channel`.
        timeout_s: deadline of each call.
        channel_options: extra gRPC channel options.
    """

    def __init__(
        self,
        target: Target,
        *,
        timeout_s: Optional[float] = 30.0,
        channel_options: Optional[ChannelOptions] = None,
    ) -> None:
        self._channel, self._owns_channel = open_channel(target, channel_options)
        self._stub = sidecar_pb2_grpc.AdminServiceStub(self._channel)
        self._consumer_stub = sidecar_pb2_grpc.ConsumerServiceStub(self._channel)
        self._timeout_s = timeout_s

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self._timeout_s)
        except grpc.RpcError as error:
            raise AdminError.from_rpc_error(error) from None

    def create_topics(
        self,
        topics: Iterable[Union[TopicSpec, str]],
        if_not_exists: bool = False,
        *,
        raise_on_error: bool = True,
    ) -> list[TopicResult]:
        """Creates topics (a bare name is one partition, one replica).

        Malformed specs (partitions < 1, an illegal name, ...) fail the whole
        call and nothing is created. Otherwise each topic has its own result;
        with ``raise_on_error`` (the default) the first failure is raised as
        an :class:`AdminError` whose ``results`` lists them all.
        """
        specs = [TopicSpec(t) if isinstance(t, str) else t for t in topics]
        request = sidecar_pb2.CreateTopicsRequest(
            topics=[spec.to_proto() for spec in specs], if_not_exists=if_not_exists
        )
        response = self._call(self._stub.CreateTopics, request)
        results = []
        for outcome in response.topics:
            error = AdminError.from_proto(outcome.error) if outcome.HasField("error") else None
            results.append(TopicResult(outcome.name, error))
        failed = [r for r in results if r.error is not None]
        if failed and raise_on_error:
            first = failed[0].error
            assert first is not None
            error = AdminError(
                first.code,
                "; ".join(f"{r.name}: {r.error.message}" for r in failed if r.error is not None),
                first.retriable,
            )
            error.results = results
            raise error
        return results

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int = 1,
        configs: Optional[Mapping[str, str]] = None,
        *,
        if_not_exists: bool = False,
    ) -> None:
        """Creates one topic; raises :class:`AdminError` if it cannot."""
        self.create_topics(
            [TopicSpec(name, partitions, replication_factor, dict(configs or {}))], if_not_exists
        )

    def describe_topics(self, names: Iterable[str]) -> list[TopicDescription]:
        """Partitions, leaders, replicas and watermarks; NOT_FOUND names the first missing topic."""
        response = self._call(self._stub.DescribeTopics, sidecar_pb2.DescribeTopicsRequest(names=list(names)))
        return [
            TopicDescription(
                topic.name,
                tuple(
                    PartitionDescription(
                        p.partition,
                        p.leader,
                        tuple(p.replicas),
                        tuple(p.in_sync_replicas),
                        p.low_watermark,
                        p.high_watermark,
                    )
                    for p in topic.partitions
                ),
            )
            for topic in response.topics
        ]

    def group_lag(self, group: str, topics: Iterable[str] = ()) -> GroupLag:
        """The group's committed offsets and lag per partition (no topics: all it committed to)."""
        response = self._call(
            self._stub.GroupLag, sidecar_pb2.GroupLagRequest(group=group, topics=list(topics))
        )
        return GroupLag(
            tuple(
                PartitionLag(
                    p.topic,
                    p.partition,
                    p.committed_offset if p.HasField("committed_offset") else None,
                    p.high_watermark,
                    p.lag,
                )
                for p in response.partitions
            ),
            response.total_lag,
        )

    def snapshot_json(self) -> str:
        """The runtime snapshot of every consumer the sidecar runs (ConsumerService.Snapshot), as JSON text."""
        return self._call(self._consumer_stub.Snapshot, sidecar_pb2.SnapshotRequest()).json

    def snapshot(self) -> Any:
        """:meth:`snapshot_json`, parsed."""
        return json.loads(self.snapshot_json())

    def close(self) -> None:
        """Closes the channel (unless it was passed in)."""
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "Admin":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
