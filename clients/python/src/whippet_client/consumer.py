"""The consumer: a subscription on the sidecar's ConsumerService, answered record by record.

The sidecar pushes records (at most ``max_in_flight`` unanswered); the client
answers each with an outcome: :meth:`Record.ack`, :meth:`Record.fail`,
:meth:`Record.fail_permanently` or :meth:`Record.skip`. Offsets are committed
only as the contiguous answered prefix of each partition, so a record that is
never answered -- the process died, the stream broke -- is delivered again,
here or to another client of the group (at-least-once).

Outcomes are batched: whatever is answered while the previous ``Outcomes``
message is being sent goes out together in the next one, at once -- nothing
waits for a batch to fill.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence, Union

import grpc

from whippet_client._channel import ChannelOptions, Target, open_channel
from whippet_client.errors import AlreadyAnsweredError, ConsumerError, ErrorCode, SubscriptionError
from whippet_client.pb import sidecar_pb2, sidecar_pb2_grpc
from whippet_client.policies import InitialOffset, Ordering, RetrySpec, ordering_to_proto, retry_to_proto
from whippet_client.records import Header, headers_from_proto

__all__ = ["Consumer", "ConsumerStats", "Record"]

_log = logging.getLogger("whippet_client.consumer")

# Once subscribed, a stream that ends with one of these is opened again (the
# sidecar restarted, the connection dropped, the sidecar cancelled it while
# shutting down, its consumer stopped). Anything else -- INVALID_ARGUMENT,
# NOT_FOUND, ... -- is the client's mistake and is raised.
_RECONNECT_STATUSES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.OK,  # the sidecar ended a stream the client did not close
    }
)
# Before the Subscribed answer only "not reachable (yet)" is retried: a
# refused subscription is never sent again.
_SUBSCRIBE_RETRY_STATUSES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

_FIRST_BACKOFF_S = 0.05

_END = object()  # ends a request stream / the record queue


@dataclass(frozen=True)
class ConsumerStats:
    """Counters of one :class:`Consumer` since it was made.

    ``delivered`` counts records handed to the application; ``acked``,
    ``failed`` (``fail`` and ``fail_permanently``) and ``skipped`` the outcomes
    sent; ``stale_outcomes`` the answers dropped because their stream had
    broken (the sidecar delivers those records again); ``reconnects`` the
    subscriptions opened again after a broken stream.
    """

    delivered: int = 0
    acked: int = 0
    failed: int = 0
    skipped: int = 0
    reconnects: int = 0
    stale_outcomes: int = 0


class _Session:
    """One Consume stream: the subscription, then batches of outcomes from a queue."""

    def __init__(self, number: int, subscribe: sidecar_pb2.ConsumeRequest) -> None:
        self.number = number
        self.open = True  # outcomes are accepted (guarded by the consumer's lock)
        self.subscribed = False
        self.deliveries = 0
        self.timed_out = False
        self.call: Any = None
        self._subscribe = subscribe
        self._outcomes: "queue.SimpleQueue[Any]" = queue.SimpleQueue()

    def requests(self) -> Iterator[sidecar_pb2.ConsumeRequest]:
        """The request stream gRPC reads from its own thread."""
        yield self._subscribe
        while True:
            item = self._outcomes.get()
            if item is _END:
                return
            batch = [item]
            ended = False
            while True:  # everything pending now, without waiting for more
                try:
                    item = self._outcomes.get_nowait()
                except queue.Empty:
                    break
                if item is _END:
                    ended = True
                    break
                batch.append(item)
            yield sidecar_pb2.ConsumeRequest(outcomes=sidecar_pb2.Outcomes(outcomes=batch))
            if ended:
                return

    def put(self, outcome: sidecar_pb2.Outcome) -> None:
        self._outcomes.put(outcome)

    def end(self) -> None:
        """Sends what was answered, then half-closes; later answers are stale."""
        if self.open:
            self.open = False
            self._outcomes.put(_END)


class Record:
    """A record delivered by the sidecar, to be answered exactly once.

    Attributes:
        topic, partition, offset, timestamp_ms: where and when it was stored
            (a retry topic's name for a retried record).
        key, value: ``bytes``, or ``None`` when absent (a tombstone value).
        headers: ``(key, bytes | None)`` pairs in order; keys may repeat.
        delivery_id: the sidecar's id for this delivery on its stream.
    """

    __slots__ = (
        "topic",
        "partition",
        "offset",
        "timestamp_ms",
        "key",
        "value",
        "headers",
        "delivery_id",
        "_consumer",
        "_session",
        "_answer",
    )

    def __init__(self, consumer: "Consumer", session: _Session, delivery: sidecar_pb2.Delivery) -> None:
        record = delivery.record
        self.topic: str = record.topic
        self.partition: int = record.partition
        self.offset: int = record.offset
        self.timestamp_ms: int = record.timestamp_ms
        self.key: Optional[bytes] = record.key if record.HasField("key") else None
        self.value: Optional[bytes] = record.value if record.HasField("value") else None
        self.headers: list[Header] = headers_from_proto(record.headers)
        self.delivery_id: int = delivery.delivery_id
        self._consumer = consumer
        self._session = session
        self._answer: Optional[str] = None

    def ack(self) -> bool:
        """Handled: the record may be committed.

        Like every answer, returns ``True`` when the outcome was queued on the
        record's stream, ``False`` when that stream had broken (a stale
        answer: dropped, counted in ``stats.stale_outcomes``; the sidecar
        delivers the record again).

        Raises:
            AlreadyAnsweredError: when the record was already answered.
        """
        return self._consumer._answer(self, sidecar_pb2.ACK, "", "")

    def fail(self, reason: Union[str, BaseException] = "", error_type: Optional[str] = None) -> bool:
        """Failed: the subscription's retry policy decides (retry, retry topic, then dead letter).

        ``reason`` (a message or an exception) and ``error_type`` (default:
        the exception's class name, else the sidecar's "SidecarClientError")
        go to the dead-letter headers ``whippet.error.message`` and
        ``whippet.error.type``.
        """
        message, kind = _describe(reason, error_type)
        return self._consumer._answer(self, sidecar_pb2.FAILED, message, kind)

    def fail_permanently(
        self, reason: Union[str, BaseException] = "", error_type: Optional[str] = None
    ) -> bool:
        """Failed for good: straight to the dead-letter topic, no retries (NON_RETRIABLE)."""
        message, kind = _describe(reason, error_type)
        return self._consumer._answer(self, sidecar_pb2.NON_RETRIABLE, message, kind)

    def skip(self) -> bool:
        """Not handled and not retried: committed as it is."""
        return self._consumer._answer(self, sidecar_pb2.SKIP, "", "")

    @property
    def answered(self) -> bool:
        """Whether an outcome was given."""
        return self._answer is not None

    def header_values(self, key: str) -> list[Optional[bytes]]:
        """The values of every header named ``key``, in order."""
        return [value for name, value in self.headers if name == key]

    def __repr__(self) -> str:
        return (
            f"Record(topic={self.topic!r}, partition={self.partition}, offset={self.offset}, "
            f"key={self.key!r}, value={_preview(self.value)}, headers={len(self.headers)}, "
            f"delivery_id={self.delivery_id})"
        )


def _preview(value: Optional[bytes]) -> str:
    if value is None or len(value) <= 32:
        return repr(value)
    return f"{value[:32]!r}... ({len(value)} bytes)"


def _describe(reason: Union[str, BaseException], error_type: Optional[str]) -> tuple[str, str]:
    if isinstance(reason, BaseException):
        return str(reason) or repr(reason), error_type if error_type is not None else type(reason).__name__
    if not isinstance(reason, str):
        raise TypeError(f"reason must be a str or an exception, not {type(reason).__name__}")
    return reason, error_type or ""


class Consumer:
    """A subscription to topics as a consumer group, through a Whippet sidecar.

    ::

        with Consumer("127.0.0.1:50051", topics=["orders"], group="billing",
                      ordering=KeyOrdered(parallelism=64),
                      retry=RetryTopics([1000, 5000]),
                      initial_offset="earliest") as consumer:
            for record in consumer:
                try:
                    handle(record.value)
                    record.ack()
                except Exception as error:
                    record.fail(error)

    Iterating subscribes first (see :meth:`subscribe`), then yields records
    until :meth:`close` (from another thread, or a signal handler); a stream
    that cannot go on raises :class:`ConsumerError`. :meth:`poll` takes one
    record with a timeout. Records may be answered from any thread, in any
    order; the sidecar keeps the ordering guarantee by not pushing a key's
    (or a partition's) next record before the previous one is answered.

    Reconnect: when the stream breaks with a transient status (UNAVAILABLE:
    the sidecar was killed or restarted; CANCELLED by a draining sidecar;
    INTERNAL, ...) and ``reconnect`` is true, the consumer subscribes again
    with the same subscription, backing off (doubling, up to
    ``reconnect_backoff_max_s``) for at most ``reconnect_timeout_s``. Records
    of the broken stream are not committed and come again; answers to them
    are dropped and counted in ``stats.stale_outcomes``, and such records not
    yet handed out are discarded. A refused subscription (INVALID_ARGUMENT,
    NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, ...) raises
    :class:`SubscriptionError` and is never retried.

    Args:
        target: ``"host:port"`` of the sidecar, or a :class:`grpc.Channel`.
        topics: the topics to read; each must exist.
        group: the consumer group (required).
        ordering: :class:`PartitionOrdered` (default) or :class:`KeyOrdered`.
        retry: one retry policy for every topic, a ``{topic: policy}`` dict or
            :class:`RetryPolicies` (default: no retry).
        initial_offset: ``"earliest"`` or ``"latest"`` (default), for a group
            without a committed offset.
        max_in_flight: records pushed and not yet answered, at most (None:
            the sidecar's default, 256).
        ack_deadline_ms: a record not answered this long after it was pushed
            counts as failed (None: the sidecar's default, 30000).
        handler_name: names the handler in metrics and snapshots (default:
            the group).
        reconnect: subscribe again after a transient break.
        reconnect_timeout_s: give up (raise :class:`ConsumerError`) when no
            new subscription succeeded this long after a break. It also bounds
            retrying an unreachable sidecar at the first subscription.
        reconnect_backoff_max_s: the longest pause between two attempts.
        subscribe_timeout_s: how long one attempt waits for the Subscribed
            answer.
        close_timeout_s: how long :meth:`close` waits for the sidecar to
            commit and end the stream before cancelling it.
        channel_options: extra gRPC channel options.
    """

    def __init__(
        self,
        target: Target,
        topics: Union[str, Sequence[str]],
        group: str,
        *,
        ordering: Optional[Ordering] = None,
        retry: RetrySpec = None,
        initial_offset: Union[str, InitialOffset] = InitialOffset.LATEST,
        max_in_flight: Optional[int] = None,
        ack_deadline_ms: Optional[int] = None,
        handler_name: str = "",
        reconnect: bool = True,
        reconnect_timeout_s: float = 60.0,
        reconnect_backoff_max_s: float = 2.0,
        subscribe_timeout_s: float = 30.0,
        close_timeout_s: float = 15.0,
        channel_options: Optional[ChannelOptions] = None,
    ) -> None:
        topics = [topics] if isinstance(topics, str) else list(topics)
        subscription = sidecar_pb2.Subscription(
            topics=topics,
            group=group,
            initial_offset=InitialOffset(
                initial_offset.lower() if isinstance(initial_offset, str) else initial_offset
            ).to_proto(),
            max_in_flight=max_in_flight or 0,
            ack_deadline_ms=ack_deadline_ms or 0,
            handler_name=handler_name,
        )
        ordering_to_proto(ordering, subscription)
        subscription.retry.CopyFrom(retry_to_proto(retry))
        self._subscribe_request = sidecar_pb2.ConsumeRequest(subscribe=subscription)
        self._topics = tuple(topics)
        self._group = group
        self._reconnect = reconnect
        self._reconnect_timeout_s = reconnect_timeout_s
        self._reconnect_backoff_max_s = reconnect_backoff_max_s
        self._subscribe_timeout_s = subscribe_timeout_s
        self._close_timeout_s = close_timeout_s

        self._channel, self._owns_channel = open_channel(target, channel_options)
        self._stub = sidecar_pb2_grpc.ConsumerServiceStub(self._channel)

        self._lock = threading.Lock()
        self._records: "queue.Queue[Any]" = queue.Queue()
        self._stop = threading.Event()
        self._subscribed = threading.Event()  # the first Subscribed, or a failure
        self._thread: Optional[threading.Thread] = None
        self._session: Optional[_Session] = None
        self._closed = False
        self._ever_subscribed = False
        self._failure: Optional[ConsumerError] = None
        self._subscribed_topics: tuple[str, ...] = ()
        self._subscription_id = ""
        self._counts = {name: 0 for name in ConsumerStats.__dataclass_fields__}

    # ------------------------------------------------------------ public

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics subscribed to, as given."""
        return self._topics

    @property
    def group(self) -> str:
        return self._group

    @property
    def subscribed_topics(self) -> tuple[str, ...]:
        """The topics the sidecar reads for this subscription, retry topics included; empty before :meth:`subscribe`."""
        return self._subscribed_topics

    @property
    def subscription_id(self) -> str:
        """The sidecar's id of the current subscription (it changes on reconnect)."""
        return self._subscription_id

    @property
    def stats(self) -> ConsumerStats:
        """A snapshot of the counters."""
        with self._lock:
            return ConsumerStats(**self._counts)

    def subscribe(self, timeout_s: Optional[float] = None) -> tuple[str, ...]:
        """Opens the subscription (once) and waits for the sidecar's Subscribed answer.

        Iterating calls it; call it yourself to fail early. Returns the
        topics read (retry topics included).

        Raises:
            SubscriptionError: the sidecar refused the subscription, or was not
                reachable within ``reconnect_timeout_s``.
            TimeoutError: no answer within ``timeout_s`` (the attempt goes on).
        """
        self._start()
        if not self._subscribed.wait(timeout_s):
            raise TimeoutError(f"no Subscribed answer within {timeout_s} s")
        with self._lock:
            if self._ever_subscribed:
                return self._subscribed_topics
            if self._failure is not None:
                raise self._failure
        raise ConsumerError(ErrorCode.SHUTDOWN, "the consumer was closed before it subscribed")

    def __iter__(self) -> "Consumer":
        self.subscribe()
        return self

    def __next__(self) -> Record:
        self._start()
        record = self._take(None)
        if record is None:
            raise StopIteration
        return record

    def poll(self, timeout_s: Optional[float] = 1.0) -> Optional[Record]:
        """The next record, or ``None`` when none came within ``timeout_s`` or the consumer is closed.

        Raises:
            SubscriptionError, ConsumerError: when the subscription failed.
        """
        self._start()
        return self._take(timeout_s)

    def snapshot_json(self, timeout_s: float = 30.0) -> str:
        """The sidecar's runtime snapshot of its consumers (ConsumerService.Snapshot), as JSON text."""
        try:
            return self._stub.Snapshot(sidecar_pb2.SnapshotRequest(), timeout=timeout_s).json
        except grpc.RpcError as error:
            raise ConsumerError.from_rpc_error(error) from None

    def snapshot(self, timeout_s: float = 30.0) -> Any:
        """:meth:`snapshot_json`, parsed."""
        return json.loads(self.snapshot_json(timeout_s))

    def close(self) -> None:
        """Ends the subscription: sends the outcomes given so far, then closes the stream.

        The sidecar commits what was answered and leaves the group; records
        not answered go to the group's next client. Waits up to
        ``close_timeout_s`` for that, then cancels the stream. Iteration then
        stops; answers given after ``close()`` are stale. Idempotent.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            session = self._session
            thread = self._thread
            if session is not None:
                session.end()
        self._stop.set()
        self._subscribed.set()  # nobody waits for a subscription any more
        if thread is not None:
            thread.join(self._close_timeout_s)
            if thread.is_alive() and session is not None and session.call is not None:
                session.call.cancel()
                thread.join(5.0)
        self._records.put(_END)
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "Consumer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------ records and answers

    def _take(self, timeout_s: Optional[float]) -> Optional[Record]:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._records.get(timeout=remaining)
            except queue.Empty:
                return None
            if item is _END:
                self._records.put(_END)  # for every later caller too
                with self._lock:
                    failure = self._failure
                if failure is not None:
                    raise failure
                return None
            with self._lock:
                if not item._session.open:
                    continue  # its stream broke: the sidecar delivers it again
                self._counts["delivered"] += 1
            return item

    def _answer(self, record: Record, kind: int, message: str, error_type: str) -> bool:
        with self._lock:
            if record._answer is not None:
                raise AlreadyAnsweredError(
                    f"{record!r} was already answered ({record._answer}); a record takes one outcome"
                )
            record._answer = sidecar_pb2.OutcomeKind.Name(kind)
            session = record._session
            if not session.open:
                self._counts["stale_outcomes"] += 1
                return False
            if kind == sidecar_pb2.ACK:
                self._counts["acked"] += 1
            elif kind == sidecar_pb2.SKIP:
                self._counts["skipped"] += 1
            else:
                self._counts["failed"] += 1
            session.put(
                sidecar_pb2.Outcome(
                    delivery_id=record.delivery_id, kind=kind, error_message=message, error_type=error_type
                )
            )
            return True

    # ------------------------------------------------------------ the stream

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=self._run, name=f"whippet-consumer-{self._group}", daemon=True
            )
            self._thread.start()

    def _fail(self, error: ConsumerError) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = error
        self._subscribed.set()

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as error:  # a bug here must not leave the application waiting
            _log.exception("whippet consumer: the stream thread failed")
            self._fail(
                ConsumerError(ErrorCode.UNSPECIFIED, f"the consumer's stream thread failed: {error!r}")
            )
        finally:
            with self._lock:
                if self._session is not None:
                    self._session.end()
            self._subscribed.set()
            self._records.put(_END)

    def _loop(self) -> None:
        outage_started: Optional[float] = None
        attempt = 0
        number = 0
        while not self._stop.is_set():
            number += 1
            session = _Session(number, self._subscribe_request)
            with self._lock:
                if self._closed:
                    return
                self._session = session
            session.call = self._stub.Consume(session.requests())
            status, details = self._serve(session)
            with self._lock:
                session.end()
            if self._stop.is_set():
                return

            retriable = _RECONNECT_STATUSES if session.subscribed else _SUBSCRIBE_RETRY_STATUSES
            if not self._reconnect or status not in retriable:
                error_class = SubscriptionError if session.deliveries == 0 else ConsumerError
                error = error_class.from_status(status, details or "the sidecar ended the stream")
                self._fail(error)  # type: ignore[arg-type]
                return

            now = time.monotonic()
            if session.subscribed or outage_started is None:
                outage_started = now
                attempt = 0
            left = outage_started + self._reconnect_timeout_s - now
            if left <= 0:
                error_class = ConsumerError if self._ever_subscribed else SubscriptionError
                error = error_class(
                    ErrorCode.UNSPECIFIED,
                    f"could not subscribe again within {self._reconnect_timeout_s} s; last: "
                    f"{status.name}: {details}",
                    True,
                    status=status,
                    details=details,
                )
                self._fail(error)
                return
            delay = min(self._reconnect_backoff_max_s, _FIRST_BACKOFF_S * 2**attempt)
            delay = min(left, delay * random.uniform(0.5, 1.0))
            attempt += 1
            log = _log.warning if attempt == 1 else _log.debug
            log(
                "whippet consumer %s: stream ended (%s: %s); subscribing again in %.2f s",
                self._group,
                status.name,
                details,
                delay,
            )
            if self._stop.wait(delay):
                return

    def _serve(self, session: _Session) -> tuple[grpc.StatusCode, str]:
        """Reads one stream to its end; returns its final status and details."""
        watchdog = threading.Timer(self._subscribe_timeout_s, self._subscribe_timed_out, args=(session,))
        watchdog.daemon = True
        watchdog.start()
        try:
            for response in session.call:
                kind = response.WhichOneof("response")
                if not session.subscribed:
                    if kind != "subscribed":
                        session.call.cancel()
                        return (
                            grpc.StatusCode.INTERNAL,
                            f"protocol: the first answer was {kind}, not Subscribed",
                        )
                    watchdog.cancel()
                    self._on_subscribed(session, response.subscribed)
                elif kind == "deliveries":
                    records = [Record(self, session, d) for d in response.deliveries.deliveries]
                    session.deliveries += len(records)
                    for record in records:
                        self._records.put(record)
                else:
                    _log.warning("whippet consumer %s: ignoring an unexpected %s answer", self._group, kind)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as error:
            if session.timed_out:
                return (
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"no Subscribed answer within {self._subscribe_timeout_s} s",
                )
            return error.code(), error.details() or ""
        finally:
            watchdog.cancel()

    def _subscribe_timed_out(self, session: _Session) -> None:
        if not session.subscribed:
            session.timed_out = True
            session.call.cancel()

    def _on_subscribed(self, session: _Session, subscribed: sidecar_pb2.Subscribed) -> None:
        with self._lock:
            session.subscribed = True
            self._subscribed_topics = tuple(subscribed.topics)
            self._subscription_id = subscribed.subscription_id
            if self._ever_subscribed:
                self._counts["reconnects"] += 1
                _log.warning(
                    "whippet consumer %s: subscribed again (%s)", self._group, subscribed.subscription_id
                )
            self._ever_subscribed = True
        self._subscribed.set()
