"""SIGKILL the sidecar mid-stream and restart it: the consumer reconnects and nothing is lost."""

from __future__ import annotations

import time

import pytest
from sidecar_process import produce_all

from whippet_client import Admin, Consumer, KeyOrdered, Producer, ProducerRecord, TopicSpec

pytestmark = pytest.mark.integration

TOTAL = 100_000
CHUNK = 10_000
KILL_AFTER = 30_000
CONSUME_LIMIT_S = 240.0


@pytest.mark.timeout(900)
def test_sigkill_and_restart_mid_stream_loses_no_record(own_sidecar, unique):
    topic = unique("kill")
    group = unique("kill-group")
    with Admin(own_sidecar.target, timeout_s=60) as admin:
        admin.create_topics([TopicSpec(topic, partitions=8, replication_factor=1)])
    with Producer(own_sidecar.target, timeout_s=60) as producer:
        for start in range(0, TOTAL, CHUNK):
            produce_all(
                producer,
                [
                    ProducerRecord(topic, str(i).encode(), key=f"key-{i % 1000}".encode())
                    for i in range(start, start + CHUNK)
                ],
                timeout_s=240,
            )

    acked = bytearray(TOTAL)  # times each value was acked on a live stream (capped at 255)
    distinct = 0
    acks = 0
    stale = 0
    killed_at = None
    consumer = Consumer(
        own_sidecar.target,
        [topic],
        group,
        ordering=KeyOrdered(parallelism=64),
        max_in_flight=512,
        initial_offset="earliest",
        reconnect=True,
        reconnect_timeout_s=180,
        close_timeout_s=30,
    )
    try:
        consumer.subscribe(timeout_s=120)
        deadline = time.monotonic() + CONSUME_LIMIT_S
        while distinct < TOTAL:
            if time.monotonic() > deadline:
                missing = [i for i in range(TOTAL) if not acked[i]]
                pytest.fail(
                    f"after {CONSUME_LIMIT_S} s {len(missing)} values were never acked (e.g. {missing[:10]}); "
                    f"acks {acks}, stale {stale}, stats {consumer.stats}, sidecar alive {own_sidecar.alive()}\n"
                    f"{own_sidecar.output()}"
                )
            record = consumer.poll(timeout_s=1.0)
            if record is None:
                continue
            index = int(record.value)
            if not record.ack():
                stale += 1  # its stream broke: it comes again
                continue
            acks += 1
            if acked[index] == 0:
                distinct += 1
            acked[index] = min(255, acked[index] + 1)
            if killed_at is None and acks >= KILL_AFTER:
                killed_at = acks
                own_sidecar.kill()
                own_sidecar.restart()
    finally:
        consumer.close()

    stats = consumer.stats
    duplicates = acks - TOTAL
    print(
        f"\nkill/restart: {TOTAL} values acked, {duplicates} duplicate deliveries, {stale} stale answers "
        f"(killed after {killed_at} acks); consumer stats {stats}"
    )
    assert killed_at is not None
    assert [i for i in range(TOTAL) if not acked[i]] == []
    assert stats.reconnects >= 1
    assert stats.stale_outcomes == stale
    assert duplicates >= 0
