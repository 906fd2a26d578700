"""Readiness through the standard gRPC health service (``grpc.health.v1.Health``).

The sidecar serves it (SERVING while up, NOT_SERVING once it drains). The
official stubs of ``grpcio-health-checking`` are used when installed (extra
``health``); without them the two tiny messages are encoded by hand.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import grpc

from whippet_client._channel import ChannelOptions, Target, open_channel

__all__ = ["check_health", "wait_until_ready"]

_CHECK_METHOD = "/grpc.health.v1.Health/Check"
_STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def _encode_request(service: str) -> bytes:
    data = service.encode()
    if not data:
        return b""
    length = bytearray()
    size = len(data)
    while True:
        byte = size & 0x7F
        size >>= 7
        length.append(byte | (0x80 if size else 0))
        if not size:
            break
    return b"\x0a" + bytes(length) + data


def _decode_status(data: bytes) -> int:
    # HealthCheckResponse: field 1 (status, varint); anything else is skipped.
    status, index = 0, 0
    while index < len(data):
        tag = data[index]
        index += 1
        if tag == 0x08:
            value, shift = 0, 0
            while True:
                byte = data[index]
                index += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            status = value
        else:  # pragma: no cover - the message has no other field today
            break
    return status


def _checker(channel: grpc.Channel) -> Callable[[str, float], str]:
    try:
        from grpc_health.v1 import health_pb2, health_pb2_grpc
    except ImportError:
        call = channel.unary_unary(
            _CHECK_METHOD, request_serializer=_encode_request, response_deserializer=_decode_status
        )
        return lambda service, timeout: _STATUS_NAMES.get(
            call(service, timeout=timeout, wait_for_ready=True), "UNKNOWN"
        )
    stub = health_pb2_grpc.HealthStub(channel)

    def check(service: str, timeout: float) -> str:
        response = stub.Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout, wait_for_ready=True
        )
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    return check


def check_health(
    target: Target,
    service: str = "",
    timeout_s: float = 5.0,
    channel_options: Optional[ChannelOptions] = None,
) -> str:
    """The health status of ``service`` ("" for the whole server): ``"SERVING"``, ``"NOT_SERVING"``, ...

    Raises:
        grpc.RpcError: when the sidecar cannot be reached within ``timeout_s``.
    """
    channel, owns = open_channel(target, channel_options)
    try:
        return _checker(channel)(service, timeout_s)
    finally:
        if owns:
            channel.close()


def wait_until_ready(
    target: Target,
    timeout_s: float = 30.0,
    service: str = "",
    channel_options: Optional[ChannelOptions] = None,
) -> None:
    """Waits until the sidecar at ``target`` reports SERVING.

    A server without the health service (UNIMPLEMENTED) counts as ready once
    it answers.

    Raises:
        TimeoutError: when it is not SERVING within ``timeout_s``; the
            message says the last status seen.
    """
    deadline = time.monotonic() + timeout_s
    channel, owns = open_channel(target, channel_options)
    last = "no answer"
    try:
        check = _checker(channel)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"the sidecar at {target} was not SERVING within {timeout_s} s (last: {last})"
                )
            try:
                status = check(service, min(remaining, 2.0))
                if status == "SERVING":
                    return
                last = status
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                    return
                last = f"{error.code().name}: {error.details()}"
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    finally:
        if owns:
            channel.close()
