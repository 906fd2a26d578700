"""Python client for the Whippet sidecar (``whippet sidecar``, proto ``whippet.v1``).

::

    from whippet_client import Producer, Consumer, KeyOrdered, RetryTopics

    with Producer("127.0.0.1:50051") as producer:
        producer.send("orders", b"payload", key=b"customer-7")

    with Consumer("127.0.0.1:50051", topics=["orders"], group="billing",
                  ordering=KeyOrdered(parallelism=64), retry=RetryTopics([1000, 5000])) as consumer:
        for record in consumer:
            record.ack()

Semantics are the Whippet SDK's: at-least-once delivery, offsets committed
only as the contiguous answered prefix, retry topics and a dead-letter topic
per consumer group. See the README for outcomes and reconnects.
"""

from whippet_client.admin import (
    Admin,
    GroupLag,
    PartitionDescription,
    PartitionLag,
    TopicDescription,
    TopicResult,
    TopicSpec,
)
from whippet_client.consumer import Consumer, ConsumerStats, Record
from whippet_client.errors import (
    AdminError,
    AlreadyAnsweredError,
    ConsumerError,
    ErrorCode,
    ProduceError,
    SubscriptionError,
    WhippetError,
)
from whippet_client.health import check_health, wait_until_ready
from whippet_client.policies import (
    BlockingRetry,
    ExponentialBackOff,
    FixedBackOff,
    InfiniteBackOff,
    InitialOffset,
    KeyOrdered,
    NoRetry,
    PartitionOrdered,
    RetryPolicies,
    RetryTopics,
    RetryTopicSettings,
)
from whippet_client.producer import Producer
from whippet_client.records import Header, ProducerRecord, RecordPosition

__version__ = "0.1.0"

__all__ = [
    "Admin",
    "AdminError",
    "AlreadyAnsweredError",
    "BlockingRetry",
    "Consumer",
    "ConsumerError",
    "ConsumerStats",
    "ErrorCode",
    "ExponentialBackOff",
    "FixedBackOff",
    "GroupLag",
    "Header",
    "InfiniteBackOff",
    "InitialOffset",
    "KeyOrdered",
    "NoRetry",
    "PartitionDescription",
    "PartitionLag",
    "PartitionOrdered",
    "ProduceError",
    "Producer",
    "ProducerRecord",
    "Record",
    "RecordPosition",
    "RetryPolicies",
    "RetryTopicSettings",
    "RetryTopics",
    "SubscriptionError",
    "TopicDescription",
    "TopicResult",
    "TopicSpec",
    "WhippetError",
    "check_health",
    "wait_until_ready",
    "__version__",
]
