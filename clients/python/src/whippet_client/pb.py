"""The generated whippet.v1 protobuf and gRPC modules, for raw access.

The nice API (:class:`~whippet_client.Producer`, :class:`~whippet_client.Consumer`,
:class:`~whippet_client.Admin`) covers the contract; these are for requests it
deliberately refuses to build, or for tools that speak the protocol directly::

    from whippet_client.pb import records_pb2, sidecar_pb2, sidecar_pb2_grpc

The modules are generated from ``proto/whippet/v1/*.proto`` when the package is
built (see ``setup.py``) and are never committed.
"""

from __future__ import annotations

try:
    from whippet_client._proto.whippet.v1 import records_pb2, sidecar_pb2, sidecar_pb2_grpc
except ImportError as error:  # pragma: no cover - a packaging mistake, not a runtime state
    raise ImportError(
        "whippet_client: the generated gRPC stubs (whippet_client._proto) are missing. They are "
        "generated when the package is built: install it with `pip install clients/python` (or "
        "`pip install -e clients/python`, which generates them into src/), or run "
        "scripts/python-env; importing straight from the source tree does not generate them. "
        f"Cause: {error}"
    ) from error

__all__ = ["records_pb2", "sidecar_pb2", "sidecar_pb2_grpc"]
