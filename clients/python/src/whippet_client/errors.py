"""Errors raised by the Whippet client.

Every error carrying a server answer is a :class:`WhippetError` with the same
attributes:

``code``
    The Whippet :class:`ErrorCode` (``whippet.v1.ErrorCode``). The sidecar puts
    it at the start of a gRPC status's details as ``[UNKNOWN_TOPIC] ...``; when
    a status has no such prefix (e.g. the sidecar cannot be reached) it is
    derived from the gRPC status code.
``message``
    The human-readable text, without the ``[CODE]`` prefix.
``retriable``
    Whether trying again later may succeed.
``status``
    The :class:`grpc.StatusCode` of the call, or ``None`` for an error that
    came inside a successful response (a ``ProduceStream`` result, a
    ``CreateTopics`` outcome).
``details``
    The gRPC status details exactly as received (or the message).
"""

from __future__ import annotations

import enum
import re
from typing import Any

import grpc

__all__ = [
    "AdminError",
    "AlreadyAnsweredError",
    "ConsumerError",
    "ErrorCode",
    "ProduceError",
    "SubscriptionError",
    "WhippetError",
]


class ErrorCode(enum.IntEnum):
    """Mirror of ``whippet.v1.ErrorCode`` (records.proto)."""

    UNSPECIFIED = 0
    UNKNOWN_TOPIC = 1
    RECORD_TOO_LARGE = 2
    TIMEOUT = 3
    BROKER_UNREACHABLE = 4
    INVALID_ARGUMENT = 5
    INVALID_CONFIG = 6
    SERIALIZATION = 7
    SHUTDOWN = 8
    UNSUPPORTED = 9
    NOT_FOUND = 10
    KAFKA = 11

    @classmethod
    def of(cls, value: int) -> "ErrorCode":
        """The code for a proto enum value; UNSPECIFIED for one this client does not know."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNSPECIFIED


_PREFIX = re.compile(r"^\[([A-Z_]+)\]\s*")

# Status codes worth another try as they are.
_RETRIABLE_STATUSES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED}
)

# The Whippet code a bare gRPC status stands for (no "[CODE]" prefix).
_CODE_OF_STATUS = {
    grpc.StatusCode.NOT_FOUND: ErrorCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT: ErrorCode.INVALID_ARGUMENT,
    grpc.StatusCode.DEADLINE_EXCEEDED: ErrorCode.TIMEOUT,
    grpc.StatusCode.UNIMPLEMENTED: ErrorCode.UNSUPPORTED,
    # The only request the sidecar refuses for size is one over its receive
    # limit, which is sized from the largest record it accepts.
    grpc.StatusCode.RESOURCE_EXHAUSTED: ErrorCode.RECORD_TOO_LARGE,
}


def _split_details(details: str | None) -> tuple[ErrorCode | None, str]:
    details = details or ""
    match = _PREFIX.match(details)
    if match and match.group(1) in ErrorCode.__members__:
        return ErrorCode[match.group(1)], details[match.end() :]
    if match and match.group(1) == "ERROR_CODE_UNSPECIFIED":
        return ErrorCode.UNSPECIFIED, details[match.end() :]
    return None, details


class WhippetError(Exception):
    """Base of the errors the sidecar reports; see the module docstring for the attributes."""

    def __init__(
        self,
        code: ErrorCode | int,
        message: str,
        retriable: bool = False,
        *,
        status: grpc.StatusCode | None = None,
        details: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = ErrorCode.of(int(code))
        self.message = message
        self.retriable = bool(retriable)
        self.status = status
        self.details = details if details is not None else message

    @classmethod
    def from_status(cls, status: grpc.StatusCode, details: str | None) -> "WhippetError":
        """Builds the error for a failed call from its status code and details."""
        code, message = _split_details(details)
        if code is None:
            code = _CODE_OF_STATUS.get(status, ErrorCode.UNSPECIFIED)
        return cls(
            code,
            message or status.name,
            status in _RETRIABLE_STATUSES,
            status=status,
            details=details or "",
        )

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "WhippetError":
        """Builds the error for a :class:`grpc.RpcError` raised by a call."""
        status = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = error.details() if hasattr(error, "details") else str(error)
        return cls.from_status(status or grpc.StatusCode.UNKNOWN, details)

    @classmethod
    def from_proto(cls, error: Any) -> "WhippetError":
        """Builds the error for a ``whippet.v1.Error`` message."""
        return cls(ErrorCode.of(error.code), error.message, error.retriable)

    def __str__(self) -> str:
        where = f"{self.status.name}: " if self.status is not None else ""
        return f"{where}[{self.code.name}] {self.message}"

    def __repr__(self) -> str:
        status = self.status.name if self.status is not None else None
        return (
            f"{type(self).__name__}(code={self.code.name}, message={self.message!r}, "
            f"retriable={self.retriable}, status={status})"
        )


class ProduceError(WhippetError):
    """A record could not be stored (``Producer.send`` raises it; ``send_many`` returns it).

    When ``send_many`` raises it (the call itself failed), ``results`` holds
    the results known by then, ``None`` where unknown.
    """

    results: list[Any] | None = None


class AdminError(WhippetError):
    """An admin call failed. ``results`` holds the per-topic results of ``create_topics``."""

    results: list[Any] | None = None


class ConsumerError(WhippetError):
    """The Consume stream failed for good: a non-transient status, or no reconnect in time."""


class SubscriptionError(ConsumerError):
    """The sidecar refused the subscription (INVALID_ARGUMENT, NOT_FOUND, ...). Never retried."""


class AlreadyAnsweredError(RuntimeError):
    """A record was answered (ack/fail/fail_permanently/skip) a second time."""
