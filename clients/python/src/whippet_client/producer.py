"""The producer: records to Kafka through the sidecar's ProducerService."""

from __future__ import annotations

from typing import Iterable, Iterator, Optional, Sequence, Union

import grpc

from whippet_client._channel import ChannelOptions, Target, open_channel
from whippet_client.errors import ErrorCode, ProduceError
from whippet_client.pb import sidecar_pb2, sidecar_pb2_grpc
from whippet_client.records import BytesLike, Header, ProducerRecord, RecordPosition

__all__ = ["Producer"]


class Producer:
    """Sends records through a Whippet sidecar.

    ::

        with Producer("127.0.0.1:50051") as producer:
            position = producer.send("orders", b"payload", key=b"customer-7")
            results = producer.send_many(ProducerRecord("orders", v) for v in values)

    :meth:`send` waits for the broker's acknowledgement of one record and
    raises :class:`ProduceError` when it cannot be stored. :meth:`send_many`
    streams many records in one call and returns one result per record, in
    order. The producer is thread-safe; share one per process.

    Args:
        target: ``"host:port"`` of the sidecar, or a :class:`grpc.Channel`.
        timeout_s: deadline of a :meth:`send` call unless the call gives one.
        wait_for_ready: queue calls while the sidecar is unreachable (until
            their deadline) instead of failing them at once with UNAVAILABLE.
        channel_options: extra gRPC channel options.
    """

    def __init__(
        self,
        target: Target,
        *,
        timeout_s: Optional[float] = 30.0,
        wait_for_ready: bool = False,
        channel_options: Optional[ChannelOptions] = None,
    ) -> None:
        self._channel, self._owns_channel = open_channel(target, channel_options)
        self._stub = sidecar_pb2_grpc.ProducerServiceStub(self._channel)
        self._timeout_s = timeout_s
        self._wait_for_ready = wait_for_ready

    def send(
        self,
        topic: str,
        value: Optional[BytesLike] = None,
        *,
        key: Optional[BytesLike] = None,
        headers: Sequence[Header] = (),
        partition: Optional[int] = None,
        timestamp_ms: Optional[int] = None,
        timeout_s: Optional[float] = None,
    ) -> RecordPosition:
        """Sends one record and waits until the broker stored it.

        ``value=None`` sends a tombstone; ``key=None`` no key; ``headers`` is a
        list of ``(key, bytes | None)`` pairs (repeats and order kept);
        ``partition=None`` lets the key's hash choose.

        Returns:
            Where the record was stored.

        Raises:
            ProduceError: with the gRPC ``status`` (NOT_FOUND for an unknown
                topic, INVALID_ARGUMENT for a malformed or too large record,
                DEADLINE_EXCEEDED, UNAVAILABLE, ...), the Whippet ``code`` and
                ``retriable``.
            TypeError: for a key, value or header that is not bytes.
        """
        record = ProducerRecord(topic, value, key, headers, partition, timestamp_ms)
        return self.send_record(record, timeout_s=timeout_s)

    def send_record(self, record: ProducerRecord, *, timeout_s: Optional[float] = None) -> RecordPosition:
        """:meth:`send` for a :class:`ProducerRecord`."""
        request = record.to_proto()
        try:
            result = self._stub.Produce(
                request,
                timeout=timeout_s if timeout_s is not None else self._timeout_s,
                wait_for_ready=self._wait_for_ready,
            )
        except grpc.RpcError as error:
            raise ProduceError.from_rpc_error(error) from None
        outcome = _result_of(result)
        if isinstance(outcome, ProduceError):
            raise outcome
        return outcome

    def send_many(
        self,
        records: Iterable[ProducerRecord],
        *,
        timeout_s: Optional[float] = None,
        batch_records: int = 500,
        batch_bytes: int = 1 << 20,
    ) -> list[Union[RecordPosition, ProduceError]]:
        """Sends records in one ``ProduceStream`` call; one result per record, in the records' order.

        The records go out in ``ProduceBatch`` messages of at most
        ``batch_records`` records and ``batch_bytes`` bytes (a larger record
        goes alone), which keeps each message under the sidecar's receive
        limit (its largest record plus 1 MiB). Results stream back as the
        broker acknowledges them and are put back in order here.

        A bad record fails alone: its slot holds a :class:`ProduceError`
        (``status`` is ``None``; ``code``, ``message`` and ``retriable`` come
        from the sidecar) and the others go on. The records are converted
        before anything is sent, so a ``TypeError`` leaves nothing half-sent;
        send very long streams in chunks.

        Args:
            records: the records, in the order their results come back.
            timeout_s: deadline for the whole call (``None``: no deadline).

        Raises:
            ProduceError: when the call itself fails (the sidecar unreachable,
                a message over its size limit ending the stream with
                RESOURCE_EXHAUSTED, ...) or ends without a result for every
                record. Its ``results`` attribute holds what was known, with
                ``None`` for records whose fate is unknown.
        """
        requests = [_to_request(record) for record in records]
        if not requests:
            return []
        results: list[Optional[Union[RecordPosition, ProduceError]]] = [None] * len(requests)
        try:
            call = self._stub.ProduceStream(
                _batches(requests, batch_records, batch_bytes),
                timeout=timeout_s,
                wait_for_ready=self._wait_for_ready,
            )
            for response in call:
                for result in response.results:
                    if result.index >= len(requests):
                        call.cancel()
                        raise _partial(
                            ProduceError(
                                ErrorCode.UNSPECIFIED,
                                f"the sidecar answered for record {result.index} of {len(requests)}",
                            ),
                            results,
                        )
                    results[result.index] = _result_of(result)
        except grpc.RpcError as error:
            raise _partial(ProduceError.from_rpc_error(error), results) from None
        missing = sum(1 for result in results if result is None)
        if missing:
            raise _partial(
                ProduceError(
                    ErrorCode.UNSPECIFIED,
                    f"the stream ended without a result for {missing} of {len(requests)} records",
                ),
                results,
            )
        return results  # type: ignore[return-value]  # no None left

    def close(self) -> None:
        """Closes the channel (unless it was passed in)."""
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "Producer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _to_request(record: ProducerRecord) -> sidecar_pb2.ProduceRequest:
    if not isinstance(record, ProducerRecord):
        raise TypeError(f"send_many takes ProducerRecord objects, not {type(record).__name__}")
    return record.to_proto()


def _batches(
    requests: list[sidecar_pb2.ProduceRequest], most_records: int, most_bytes: int
) -> Iterator[sidecar_pb2.ProduceBatch]:
    batch: list[sidecar_pb2.ProduceRequest] = []
    size = 0
    for request in requests:
        request_size = request.ByteSize()
        if batch and (len(batch) >= most_records or size + request_size > most_bytes):
            yield sidecar_pb2.ProduceBatch(records=batch)
            batch, size = [], 0
        batch.append(request)
        size += request_size
    if batch:
        yield sidecar_pb2.ProduceBatch(records=batch)


def _partial(error: ProduceError, results: list) -> ProduceError:
    error.results = results
    return error


def _result_of(result: sidecar_pb2.ProduceResult) -> Union[RecordPosition, ProduceError]:
    which = result.WhichOneof("result")
    if which == "position":
        return RecordPosition.from_proto(result.position)
    if which == "error":
        return ProduceError.from_proto(result.error)
    return ProduceError(
        ErrorCode.UNSPECIFIED, "the sidecar returned a result with neither position nor error"
    )
