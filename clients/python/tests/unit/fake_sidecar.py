"""An in-process stand-in for `whippet sidecar`, scriptable from tests.

It serves ProducerService, ConsumerService, AdminService and the standard
health service on 127.0.0.1 (port 0, or a given port to stand in for a
restarted sidecar) and records every request it gets.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from concurrent import futures
from typing import Any, Callable, Optional

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

import waiting
from whippet_client.pb import records_pb2, sidecar_pb2, sidecar_pb2_grpc

WAIT_S = 10.0  # the longest any helper waits


def wait_for(predicate: Callable[[], Any], timeout_s: float = WAIT_S, what: str = "condition") -> Any:
    """waiting.wait_for with this module's default bound."""
    return waiting.wait_for(predicate, timeout_s, what)


def consumed(
    topic: str = "orders",
    partition: int = 0,
    offset: int = 0,
    key: Optional[bytes] = None,
    value: Optional[bytes] = None,
    headers: tuple = (),
    timestamp_ms: int = 1_700_000_000_000,
) -> records_pb2.ConsumedRecord:
    """A ConsumedRecord; ``None`` key/value stay absent."""
    record = records_pb2.ConsumedRecord(
        topic=topic, partition=partition, offset=offset, timestamp_ms=timestamp_ms
    )
    if key is not None:
        record.key = key
    if value is not None:
        record.value = value
    for name, header_value in headers:
        header = record.headers.add(key=name.encode("utf-8", "surrogateescape"))
        if header_value is not None:
            header.value = header_value
    return record


# ---------------------------------------------------------------- consumer


class FakeStream:
    """One Consume call as the fake saw it; tests push deliveries and read outcomes."""

    def __init__(self, subscription: sidecar_pb2.Subscription, context: grpc.ServicerContext) -> None:
        self.subscription = subscription
        self.context = context
        self.outcome_messages: list[sidecar_pb2.Outcomes] = []
        self.received_at: list[float] = []
        self.half_closed = threading.Event()
        self.done = threading.Event()
        self._pushes: "queue.Queue[Any]" = queue.Queue()
        self._last_id = 0
        self._lock = threading.Lock()

    def push(self, *records: records_pb2.ConsumedRecord) -> list[int]:
        """Sends the records in one Deliveries message; returns their delivery ids."""
        with self._lock:
            ids = list(range(self._last_id + 1, self._last_id + 1 + len(records)))
            self._last_id += len(records)
        deliveries = [
            sidecar_pb2.Delivery(delivery_id=i, record=r) for i, r in zip(ids, records, strict=True)
        ]
        self._pushes.put(
            sidecar_pb2.ConsumeResponse(deliveries=sidecar_pb2.Deliveries(deliveries=deliveries))
        )
        return ids

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        """Ends the stream with this status."""
        self._pushes.put(("abort", code, details))

    def outcomes(self) -> list[sidecar_pb2.Outcome]:
        with self._lock:
            return [o for message in self.outcome_messages for o in message.outcomes]

    def wait_outcomes(self, count: int, timeout_s: float = WAIT_S) -> list[sidecar_pb2.Outcome]:
        wait_for(lambda: len(self.outcomes()) >= count, timeout_s, f"{count} outcomes")
        return self.outcomes()

    def _record(self, request: sidecar_pb2.ConsumeRequest) -> None:
        with self._lock:
            self.outcome_messages.append(request.outcomes)
            self.received_at.append(time.monotonic())


class FakeConsumerService(sidecar_pb2_grpc.ConsumerServiceServicer):
    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.streams: list[FakeStream] = []
        self.refuse: Optional[tuple[grpc.StatusCode, str]] = None
        self.topics_read: Optional[list[str]] = None
        self.snapshot = {"subscriptions": [{"subscription_id": "fake-1", "group": "g"}]}
        self._lock = threading.Lock()

    def wait_stream(self, index: int, timeout_s: float = WAIT_S) -> FakeStream:
        """The index-th Consume call, once it subscribed."""
        return wait_for(
            lambda: len(self.streams) > index and self.streams[index], timeout_s, f"stream {index}"
        )

    def Consume(self, request_iterator, context):  # noqa: N802 - gRPC's name
        first = next(request_iterator, None)
        if first is None:
            return
        stream = FakeStream(first.subscribe, context)
        with self._lock:
            self.streams.append(stream)
            number = len(self.streams)
        if first.WhichOneof("request") != "subscribe":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "the first message must be a Subscription")
        if self.refuse is not None:
            context.abort(*self.refuse)
        topics = self.topics_read if self.topics_read is not None else list(first.subscribe.topics)
        yield sidecar_pb2.ConsumeResponse(
            subscribed=sidecar_pb2.Subscribed(subscription_id=f"{self.name}-{number}", topics=topics)
        )

        def read() -> None:
            try:
                for request in request_iterator:
                    if request.WhichOneof("request") == "outcomes":
                        stream._record(request)
            except Exception:  # the call ended
                pass
            stream.half_closed.set()

        threading.Thread(target=read, daemon=True).start()
        try:
            while context.is_active() and not stream.half_closed.is_set():
                try:
                    item = stream._pushes.get(timeout=0.02)
                except queue.Empty:
                    continue
                if isinstance(item, tuple):
                    context.abort(item[1], item[2])
                yield item
        finally:
            stream.done.set()

    def Snapshot(self, request, context):  # noqa: N802
        return sidecar_pb2.SnapshotResponse(json=json.dumps(self.snapshot))


# ---------------------------------------------------------------- producer


class FakeProducerService(sidecar_pb2_grpc.ProducerServiceServicer):
    def __init__(self) -> None:
        self.requests: list[sidecar_pb2.ProduceRequest] = []
        self.streams: list[list[sidecar_pb2.ProduceRequest]] = []
        self.batches: list[list[sidecar_pb2.ProduceBatch]] = []
        self.unary_failures: dict[str, tuple[grpc.StatusCode, str]] = {}
        self.stream_failures: dict[str, records_pb2.Error] = {}
        self._offsets: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def _position(self, request: sidecar_pb2.ProduceRequest) -> records_pb2.RecordPosition:
        partition = request.partition if request.HasField("partition") else 0
        with self._lock:
            offset = self._offsets.get((request.topic, partition), 0)
            self._offsets[(request.topic, partition)] = offset + 1
        timestamp = request.timestamp_ms if request.HasField("timestamp_ms") else 1_700_000_000_000
        return records_pb2.RecordPosition(
            topic=request.topic, partition=partition, offset=offset, timestamp_ms=timestamp
        )

    def Produce(self, request, context):  # noqa: N802
        self.requests.append(request)
        if request.topic in self.unary_failures:
            context.abort(*self.unary_failures[request.topic])
        return sidecar_pb2.ProduceResult(position=self._position(request))

    def ProduceStream(self, request_iterator, context):  # noqa: N802
        """Results in the opposite order of the records, two per message, as a broker might ack."""
        batches = list(request_iterator)
        self.batches.append(batches)
        received = [request for batch in batches for request in batch.records]
        self.streams.append(received)
        results = []
        for index, request in enumerate(received):
            if request.topic in self.stream_failures:
                results.append(
                    sidecar_pb2.ProduceResult(index=index, error=self.stream_failures[request.topic])
                )
            else:
                results.append(sidecar_pb2.ProduceResult(index=index, position=self._position(request)))
        results.reverse()
        for start in range(0, len(results), 2):
            yield sidecar_pb2.ProduceStreamResponse(results=results[start : start + 2])


# ---------------------------------------------------------------- admin


class FakeAdminService(sidecar_pb2_grpc.AdminServiceServicer):
    def __init__(self) -> None:
        self.topics: dict[str, int] = {}
        self.create_requests: list[sidecar_pb2.CreateTopicsRequest] = []
        self.lag = sidecar_pb2.GroupLagResponse()
        self.lag_requests: list[sidecar_pb2.GroupLagRequest] = []

    def CreateTopics(self, request, context):  # noqa: N802
        self.create_requests.append(request)
        response = sidecar_pb2.CreateTopicsResponse()
        for spec in request.topics:
            outcome = response.topics.add(name=spec.name)
            if spec.name in self.topics and not request.if_not_exists:
                outcome.error.CopyFrom(
                    records_pb2.Error(
                        code=records_pb2.INVALID_ARGUMENT, message=f"topic {spec.name} already exists"
                    )
                )
            else:
                self.topics.setdefault(spec.name, spec.partitions)
        return response

    def DescribeTopics(self, request, context):  # noqa: N802
        response = sidecar_pb2.DescribeTopicsResponse()
        for name in request.names:
            if name not in self.topics:
                context.abort(
                    grpc.StatusCode.NOT_FOUND, f"[UNKNOWN_TOPIC] describe: topic {name} does not exist"
                )
            topic = response.topics.add(name=name)
            for partition in range(self.topics[name]):
                topic.partitions.add(
                    partition=partition,
                    leader=1,
                    replicas=[1, 2],
                    in_sync_replicas=[1],
                    low_watermark=partition,
                    high_watermark=10 + partition,
                )
        return response

    def GroupLag(self, request, context):  # noqa: N802
        self.lag_requests.append(request)
        return self.lag


# ---------------------------------------------------------------- the server


class FakeSidecar:
    """The fake services behind one grpc.server; ``FakeSidecar(port=p)`` stands in for a restart."""

    def __init__(self, port: int = 0, name: str = "fake") -> None:
        self.producer = FakeProducerService()
        self.consumer = FakeConsumerService(name)
        self.admin = FakeAdminService()
        self.health = health.HealthServicer()
        self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
        sidecar_pb2_grpc.add_ProducerServiceServicer_to_server(self.producer, self.server)
        sidecar_pb2_grpc.add_ConsumerServiceServicer_to_server(self.consumer, self.server)
        sidecar_pb2_grpc.add_AdminServiceServicer_to_server(self.admin, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")
                if self.port:
                    break
            except RuntimeError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"cannot bind 127.0.0.1:{port}")
            time.sleep(0.05)
        self.server.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stops at once, as a killed sidecar would: open streams break."""
        self.server.stop(grace=0).wait(WAIT_S)
