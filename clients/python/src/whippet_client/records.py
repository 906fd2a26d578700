"""Records as the producer takes them and positions as the broker gives them back.

Keys, values and header values are ``bytes`` (any bytes-like object is
accepted and copied); ``None`` means absent -- no key, a tombstone value, a
null header value -- which the proto keeps apart from empty bytes. Headers
are a list of ``(key, value)`` pairs: a key may repeat, and order is kept end
to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence, Tuple, Union

from whippet_client.pb import records_pb2, sidecar_pb2

__all__ = ["Header", "ProducerRecord", "RecordPosition"]

BytesLike = Union[bytes, bytearray, memoryview]
Header = Tuple[str, Optional[bytes]]
"""A Kafka header: its key and its value, ``None`` for a null value."""


@dataclass(frozen=True, slots=True)
class RecordPosition:
    """Where the broker stored a record."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    """Milliseconds since the Unix epoch."""

    @classmethod
    def from_proto(cls, position: records_pb2.RecordPosition) -> "RecordPosition":
        return cls(position.topic, position.partition, position.offset, position.timestamp_ms)


@dataclass(slots=True)
class ProducerRecord:
    """A record to send with :meth:`Producer.send_many`.

    ``value=None`` is a tombstone, ``key=None`` no key (the partitioner spreads
    such records), ``partition=None`` lets the key's hash choose and
    ``timestamp_ms=None`` stamps the time of sending.
    """

    topic: str
    value: Optional[BytesLike] = None
    key: Optional[BytesLike] = None
    headers: Sequence[Header] = ()
    partition: Optional[int] = None
    timestamp_ms: Optional[int] = None

    def to_proto(self) -> sidecar_pb2.ProduceRequest:
        """The ``ProduceRequest`` for this record."""
        if not isinstance(self.topic, str):
            raise TypeError(f"topic must be a str, not {type(self.topic).__name__}")
        request = sidecar_pb2.ProduceRequest(topic=self.topic)
        key = _optional_bytes(self.key, "key")
        if key is not None:
            request.key = key
        value = _optional_bytes(self.value, "value")
        if value is not None:
            request.value = value
        request.headers.extend(headers_to_proto(self.headers))
        if self.partition is not None:
            request.partition = _int(self.partition, "partition")
        if self.timestamp_ms is not None:
            request.timestamp_ms = _int(self.timestamp_ms, "timestamp_ms")
        return request


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int or None, not {type(value).__name__}")
    return value


def _optional_bytes(value: Any, what: str) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(
        f"{what} must be bytes (or bytearray/memoryview) or None, not {type(value).__name__}; "
        "encode text yourself, e.g. text.encode()"
    )


def headers_to_proto(headers: Iterable[Header]) -> list[records_pb2.Header]:
    """Converts ``(key, value)`` pairs, keeping order, repeats and ``None`` values."""
    converted = []
    for header in headers:
        try:
            key, value = header
        except (TypeError, ValueError):
            raise TypeError(f"a header must be a (key, value) pair, not {header!r}") from None
        if not isinstance(key, str):
            raise TypeError(f"a header key must be a str, not {type(key).__name__}")
        # surrogateescape: a key read from a header that was not UTF-8 goes back unchanged.
        message = records_pb2.Header(key=key.encode("utf-8", "surrogateescape"))
        value = _optional_bytes(value, f"header {key!r}'s value")
        if value is not None:
            message.value = value
        converted.append(message)
    return converted


def headers_from_proto(headers: Iterable[records_pb2.Header]) -> list[Header]:
    """The ``(key, value)`` pairs of proto headers; ``None`` for a null value.

    Keys are text; bytes that are not UTF-8 are kept as surrogate escapes, so
    ``key.encode("utf-8", "surrogateescape")`` gives them back exactly.
    """
    return [
        (h.key.decode("utf-8", "surrogateescape"), h.value if h.HasField("value") else None) for h in headers
    ]
