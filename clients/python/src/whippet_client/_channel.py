"""The gRPC channel every client object opens (or borrows)."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import grpc

ChannelOptions = Sequence[Tuple[str, Any]]
Target = Union[str, grpc.Channel]

DEFAULT_CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    # Deliveries and records are bounded by the broker's limits, not gRPC's 4 MiB.
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    # A restarted sidecar is found again within about a second, not after
    # gRPC's default back-off of up to two minutes.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


def open_channel(target: Target, options: Optional[ChannelOptions] = None) -> tuple[grpc.Channel, bool]:
    """A channel to ``target`` and whether the caller owns (and must close) it.

    ``target`` is ``"host:port"`` (plaintext, as the sidecar serves) or a
    :class:`grpc.Channel` the caller made, e.g. with TLS; a borrowed channel is
    never closed by the client object.
    """
    if isinstance(target, grpc.Channel):
        return target, False
    if not isinstance(target, str) or not target:
        raise TypeError(f"target must be 'host:port' or a grpc.Channel, not {target!r}")
    merged = dict(DEFAULT_CHANNEL_OPTIONS)
    merged.update(dict(options or ()))
    return grpc.insecure_channel(target, options=list(merged.items())), True
